package main

import (
	"io"
	"strings"
	"testing"
	"time"

	"github.com/docket-dev/docket/internal/mailtest"
	"github.com/docket-dev/docket/internal/testenv"
)

// TestServeSendsMail runs the binary with --smtp-url (STARTTLS, a
// password, the test server's CA) and checks that a mention reaches the
// mail server once, also across a restart.
func TestServeSendsMail(t *testing.T) {
	srv := mailtest.Start(t, mailtest.Options{TLS: true, User: "docket", Pass: "pw"})
	data := t.TempDir()
	p := startServer(t, data)
	token := setupAccount(t, p.url)
	p.stop(t)
	if out, err := runCLI(t, "\n", "user", "add", "--data", data, "--email", "bob@example.com", "--name", "Bob"); err != nil {
		t.Fatalf("user add: %v %s", err, out)
	}
	flags := []string{"--smtp-url", srv.URL(), "--mail-from", "Docket <docket@example.com>", "--smtp-ca-file", srv.CAFile}
	p = startServer(t, data, flags...)
	for _, r := range []struct {
		method, path string
		body         any
	}{
		{"POST", "/api/spaces", map[string]string{"slug": "eng", "name": "Eng"}},
		{"POST", "/api/spaces/eng/members", map[string]string{"email": "bob@example.com", "role": "commenter"}},
	} {
		if code, body := api(t, p.url, token, r.method, r.path, r.body); code >= 300 {
			t.Fatalf("%s %s = %d %v", r.method, r.path, code, body)
		}
	}
	_, doc := api(t, p.url, token, "POST", "/api/docs", map[string]string{"space": "eng", "title": "Plan", "body": "x"})
	if code, body := api(t, p.url, token, "POST", "/api/docs/"+doc["id"].(string)+"/threads", map[string]string{"body": "@bob can you check this?"}); code != 201 {
		t.Fatalf("thread = %d %v", code, body)
	}
	testenv.WaitFor(t, 20*time.Second, "the mention mail", func() bool { return len(srv.Messages()) == 1 })
	msg := srv.Messages()[0]
	if got := msg.Subject(); got != "[Eng] Plan: Ada mentioned you" || !strings.Contains(msg.Header().Get("From"), "docket@example.com") {
		t.Errorf("Subject %q, From %q", got, msg.Header().Get("From"))
	}
	testenv.WaitFor(t, 20*time.Second, "the mail marked sent", func() bool {
		_, r := api(t, p.url, token, "GET", "/api/admin/mail", nil)
		c, _ := r["counts"].(map[string]any)
		return c["sent"] == float64(1)
	})
	p.stop(t)
	p = startServer(t, data, flags...)
	if _, r := api(t, p.url, token, "GET", "/api/admin/mail", nil); r["enabled"] != true || len(r["mails"].([]any)) != 1 {
		t.Errorf("outbox after the restart = %v", r)
	}
	p.stop(t)
	if n := len(srv.Messages()); n != 1 {
		t.Errorf("%d messages; want 1", n)
	}
}

func TestServeMailFlags(t *testing.T) {
	if _, err := parseServeFlags([]string{"--smtp-url", "smtp://localhost:25"}, io.Discard); err == nil || !strings.Contains(err.Error(), "--mail-from") {
		t.Errorf("--smtp-url without --mail-from: %v", err)
	}
	t.Setenv("DOCKET_SMTP_URL", "smtps://u:p@mail.example.com")
	t.Setenv("DOCKET_MAIL_FROM", "Docket <d@example.com>")
	cfg, err := parseServeFlags(nil, io.Discard)
	if err != nil || cfg.Mail.SMTPURL != "smtps://u:p@mail.example.com" || cfg.Mail.MailFrom != "Docket <d@example.com>" {
		t.Errorf("from the environment: %+v, %v", cfg.Mail, err)
	}
}

// TestServeSignupByMail: with --signup open and mail on, the binary
// answers a sign-up 202 and mails the confirmation link.
func TestServeSignupByMail(t *testing.T) {
	srv := mailtest.Start(t, mailtest.Options{})
	p := startServer(t, t.TempDir(), "--signup", "open", "--smtp-url", srv.URL(), "--mail-from", "Docket <docket@example.com>")
	setupAccount(t, p.url)
	code, body := api(t, p.url, "", "POST", "/api/auth/signup", map[string]string{"name": "Bob", "email": "bob@example.com", "password": "correct horse bob"})
	if code != 202 || body["status"] != "check_email" {
		t.Fatalf("signup = %d %v; want 202 check_email", code, body)
	}
	testenv.WaitFor(t, 20*time.Second, "the confirmation mail", func() bool { return len(srv.Messages()) == 1 })
	if got := srv.Messages()[0].Subject(); got != "[Docket] Confirm your email to create your account" {
		t.Errorf("Subject = %q", got)
	}
	p.stop(t)
}
