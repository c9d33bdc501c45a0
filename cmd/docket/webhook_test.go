package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/docket-dev/docket/internal/testenv"
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

// slackDelivery is a Slack payload as a receiver gets it.
type slackDelivery struct {
	event  string
	Text   string `json:"text"`
	Blocks []struct {
		Type     string `json:"type"`
		Text     *struct{ Text string }
		Elements []struct{ Text string }
	} `json:"blocks"`
}

// all is the text of every block, one per line.
func (d slackDelivery) all() string {
	var lines []string
	for _, b := range d.Blocks {
		if b.Text != nil {
			lines = append(lines, b.Type+": "+b.Text.Text)
		}
		for _, e := range b.Elements {
			lines = append(lines, b.Type+": "+e.Text)
		}
	}
	return strings.Join(lines, "\n")
}

// TestServeRemindsAndSaysWhat runs the binary with a Slack webhook on
// loopback: the review request carries its due date and reviewer, a
// comment its new text without the quote, and a review that ended while
// the server was down is reminded at the next start, to the webhook and
// to the owner's inbox.
func TestServeRemindsAndSaysWhat(t *testing.T) {
	got := make(chan slackDelivery, 50)
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		d := slackDelivery{event: r.Header.Get("X-Docket-Event")}
		if err := json.Unmarshal(body, &d); err != nil {
			t.Errorf("delivery %s: %v", body, err)
		}
		got <- d
	}))
	t.Cleanup(rcv.Close)
	// The dispatcher posts up to four deliveries at once, so they may
	// arrive in any order: those not asked for yet wait in seen.
	var seen []slackDelivery
	next := func(event string) slackDelivery {
		t.Helper()
		for i, d := range seen {
			if d.event == event {
				seen = append(seen[:i], seen[i+1:]...)
				return d
			}
		}
		deadline := time.After(30 * time.Second)
		for {
			select {
			case d := <-got:
				if d.event == event {
					return d
				}
				seen = append(seen, d)
			case <-deadline:
				t.Fatalf("no %s delivery", event)
			}
		}
	}

	data := t.TempDir()
	t.Setenv("DOCKET_WEBHOOK_ALLOW_PRIVATE", "true")
	const base = "https://docs.example.com" // links are absolute with --base-url
	p := startServer(t, data, "--base-url", base)
	token := setupAccount(t, p.url)
	if code, _ := api(t, p.url, token, "POST", "/api/spaces", map[string]string{"slug": "eng", "name": "Engineering"}); code != 201 {
		t.Fatalf("create space = %d", code)
	}
	code, inv := api(t, p.url, token, "POST", "/api/invites", map[string]string{"email": "bob@example.com", "space": "eng", "role": "commenter"})
	if code != 201 {
		t.Fatalf("invite = %d %v", code, inv)
	}
	signup, _ := json.Marshal(map[string]any{"name": "Bob", "email": "bob@example.com", "password": "correct horse battery", "invite": inv["token"]})
	if resp, err := http.Post(p.url+"/api/auth/signup", "application/json", bytes.NewReader(signup)); err != nil || resp.StatusCode != 201 {
		t.Fatalf("bob's signup: %v %v", err, resp)
	} else {
		resp.Body.Close()
	}
	if code, body := api(t, p.url, token, "POST", "/api/spaces/eng/webhooks", map[string]any{"url": rcv.URL, "format": "slack"}); code != 201 {
		t.Fatalf("webhook = %d %v", code, body)
	}
	code, doc := api(t, p.url, token, "POST", "/api/docs", map[string]string{"space": "eng", "title": "Storage plan", "body": "# Storage plan\n"})
	if code != 201 {
		t.Fatalf("create doc = %d", code)
	}
	id := doc["id"].(string)
	due := time.Now().Add(4 * time.Second).UTC().Truncate(time.Second)
	if code, body := api(t, p.url, token, "POST", "/api/docs/"+id+"/transition", map[string]any{"to": "review", "due": due, "reviewers": []string{"bob@example.com"}}); code != 200 {
		t.Fatalf("transition = %d %v", code, body)
	}
	if code, body := api(t, p.url, token, "POST", "/api/docs/"+id+"/threads", map[string]any{"body": "> Is it safe?\n\nBackups run nightly."}); code != 201 {
		t.Fatalf("thread = %d %v", code, body)
	}

	link := "<" + base + "/d/" + id
	req := next("doc.transitioned")
	if all := req.all(); !strings.Contains(all, "section: Ada asked for a review of "+link+"|Storage plan>") ||
		!strings.Contains(all, "Space: *Engineering*") || !strings.Contains(all, "|"+due.Format("2006-01-02 15:04 UTC")+">") ||
		!strings.Contains(all, "Reviewers: Bob") {
		t.Errorf("review request blocks:\n%s", all)
	}
	if !strings.HasPrefix(req.Text, link) || !strings.HasSuffix(req.Text, "|Storage plan>: Ada asked for a review") {
		t.Errorf("review request text %q", req.Text)
	}
	th := next("thread.created")
	if all := th.all(); !strings.Contains(all, "section: > Backups run nightly.") || strings.Contains(all, "Is it safe") {
		t.Errorf("thread blocks:\n%s", all)
	}
	p.stop(t)

	// Down past the deadline: the next start sends the reminder.
	testenv.WaitFor(t, 30*time.Second, "the deadline", func() bool { return time.Now().After(due.Add(time.Second)) })
	p = startServer(t, data, "--base-url", base)
	over := next("doc.overdue")
	if all := over.all(); !strings.Contains(all, "section: The review of "+link+"|Storage plan> is overdue") ||
		!strings.Contains(all, "Waiting on: Bob") {
		t.Errorf("overdue blocks:\n%s", all)
	}
	code, inbox := api(t, p.url, token, "GET", "/api/inbox", nil)
	items, _ := inbox["items"].([]any)
	found := 0
	for _, it := range items {
		m := it.(map[string]any)
		if m["kind"] == "overdue" {
			found++
			if id, _ := m["id"].(string); id == "" || strings.HasPrefix(id, "overdue:") || !strings.Contains(m["text"].(string), "move the document on") {
				t.Errorf("overdue item %v", m)
			}
		}
	}
	if code != 200 || found != 1 {
		t.Errorf("inbox = %d, %d overdue items: %v", code, found, inbox)
	}
	p.stop(t)
}
