package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestServeSendsWebhooks runs the binary with --webhook-allow-private and
// checks that a change reaches a receiver on 127.0.0.1, and that without
// the flag such a webhook is refused.
func TestServeSendsWebhooks(t *testing.T) {
	got := make(chan string, 10)
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		got <- r.Header.Get("X-Docket-Event") + " " + string(body)
	}))
	t.Cleanup(rcv.Close)

	data := t.TempDir()
	p := startServer(t, data)
	token := setupAccount(t, p.url)
	if code, _ := api(t, p.url, token, "POST", "/api/spaces", map[string]string{"slug": "eng", "name": "Eng"}); code != 201 {
		t.Fatalf("create space = %d", code)
	}
	if code, body := api(t, p.url, token, "POST", "/api/spaces/eng/webhooks", map[string]any{"url": rcv.URL}); code != 400 {
		t.Fatalf("loopback webhook without the flag = %d %v; want 400", code, body)
	}
	p.stop(t)

	t.Setenv("DOCKET_WEBHOOK_ALLOW_PRIVATE", "true")
	p = startServer(t, data)
	if code, body := api(t, p.url, token, "POST", "/api/spaces/eng/webhooks", map[string]any{"url": rcv.URL, "format": "slack"}); code != 201 {
		t.Fatalf("webhook with the flag = %d %v", code, body)
	}
	if code, _ := api(t, p.url, token, "POST", "/api/docs", map[string]string{"space": "eng", "title": "Plan", "body": "x"}); code != 201 {
		t.Fatalf("create doc = %d", code)
	}
	select {
	case s := <-got:
		if !strings.HasPrefix(s, "doc.created ") || !strings.Contains(s, "|Plan>: Ada created the document") {
			t.Errorf("delivery = %q", s)
		}
	case <-time.After(15 * time.Second):
		t.Fatalf("no webhook delivery\n%s", p.stderr)
	}
	p.stop(t)
}

func TestServeWebhookFlag(t *testing.T) {
	for _, tc := range []struct {
		env  string
		args []string
		want bool
	}{
		{"", nil, false},
		{"", []string{"--webhook-allow-private"}, true},
		{"true", nil, true},
		{"1", []string{"--webhook-allow-private=false"}, false},
	} {
		t.Setenv("DOCKET_WEBHOOK_ALLOW_PRIVATE", tc.env)
		cfg, err := parseServeFlags(tc.args, io.Discard)
		if err != nil || cfg.WebhookAllowPrivate != tc.want {
			t.Errorf("env %q args %v: allow private = %v, %v; want %v", tc.env, tc.args, cfg.WebhookAllowPrivate, err, tc.want)
		}
	}
	t.Setenv("DOCKET_WEBHOOK_ALLOW_PRIVATE", "sometimes")
	if _, err := parseServeFlags(nil, io.Discard); err == nil {
		t.Error("a bad DOCKET_WEBHOOK_ALLOW_PRIVATE was accepted")
	}
}
