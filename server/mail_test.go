package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	docket "github.com/docket-dev/docket"
	"github.com/docket-dev/docket/bolt"
	"github.com/docket-dev/docket/internal/mailtest"
	"github.com/docket-dev/docket/internal/testenv"
	"github.com/docket-dev/docket/smtp"
)

// mailEnv turns mail on in e's data file and starts a real SMTP server on
// loopback with opts; startMailer sends the outbox to it.
func mailEnv(t *testing.T, e *env, opts mailtest.Options) *mailtest.Server {
	t.Helper()
	if err := e.db.SetMail(docket.NewSystemContext(context.Background()), true); err != nil {
		t.Fatal(err)
	}
	return mailtest.Start(t, opts)
}

// startMailer runs a mailer over e's outbox until the returned stop is
// called (or the test ends). shift moves its clock ahead of the real one.
func startMailer(t *testing.T, e *env, srv *mailtest.Server, shift time.Duration) (stop func()) {
	t.Helper()
	m, err := smtp.New(bolt.NewMailService(e.db), smtp.Options{
		URL: srv.URL(), From: "Docket <docket@example.com>", BaseURL: e.http.URL, CAFile: srv.CAFile,
		Poll: 20 * time.Millisecond, Backoff: []time.Duration{10 * time.Millisecond, 10 * time.Millisecond},
		Timeout: 20 * time.Second, Now: func() time.Time { return time.Now().Add(shift) }, Logger: slog.New(slog.NewTextHandler(t.Output(), nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	e.db.OnEvent(func(docket.Event) { m.Wake() })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); m.Run(ctx) }()
	stop = func() { cancel(); <-done }
	t.Cleanup(stop)
	return stop
}

// outbox reads GET /api/admin/mail as the site admin.
func outbox(t *testing.T, admin *client) docket.MailReport {
	t.Helper()
	var r docket.MailReport
	if err := json.Unmarshal(admin.must(http.StatusOK, "GET", "/api/admin/mail", nil).raw, &r); err != nil {
		t.Fatal(err)
	}
	return r
}

// TestMailMention follows a mention through STARTTLS with a password to
// the mail server: it arrives once, with the comment's words in both
// parts, a link to the thread, threading headers and a one-click
// unsubscribe link that works without a session and turns mentions off.
func TestMailMention(t *testing.T) {
	e, ada, space, bob := withMember(t, "Ada", "Bob", docket.RoleCommenter)
	srv := mailEnv(t, e, mailtest.Options{TLS: true, User: "docket", Pass: "s3cret"})
	startMailer(t, e, srv, 0)
	doc := ada.createDoc("eng", "Storage plan", "We store things.")
	th := ada.must(http.StatusCreated, "POST", "/api/docs/"+doc+"/threads", map[string]any{"body": "@bob please check the disk numbers & totals"}).str("id")
	testenv.WaitFor(t, 10*time.Second, "the mention mail", func() bool { return len(srv.Messages()) == 1 })
	testenv.WaitFor(t, 10*time.Second, "the mail marked sent", func() bool { return outbox(t, ada).Counts[docket.MailSent] == 1 })

	msg := srv.Messages()[0]
	h := msg.Header()
	if got, want := msg.To, []string{bob.email()}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("RCPT TO = %v; want %v", got, want)
	}
	if got, want := msg.Subject(), "[eng] Storage plan: Ada mentioned you"; got != want {
		t.Errorf("Subject = %q; want %q", got, want)
	}
	root := "<docket-doc-" + doc + "@127.0.0.1>"
	if id := h.Get("Message-ID"); !strings.HasPrefix(id, "<docket-doc-"+doc+"-m") || !strings.HasSuffix(id, "@127.0.0.1>") {
		t.Errorf("Message-ID = %q; want <docket-doc-%s-m…@127.0.0.1>", id, doc)
	}
	if h.Get("In-Reply-To") != root || h.Get("References") != root {
		t.Errorf("In-Reply-To = %q, References = %q; want both %q", h.Get("In-Reply-To"), h.Get("References"), root)
	}
	if h.Get("List-Unsubscribe-Post") != "List-Unsubscribe=One-Click" {
		t.Errorf("List-Unsubscribe-Post = %q", h.Get("List-Unsubscribe-Post"))
	}
	parts, err := msg.Parts()
	if err != nil {
		t.Fatal(err)
	}
	link := e.http.URL + "/d/" + doc + "#t-" + th
	if p := parts["text/plain"]; !strings.Contains(p, "please check the disk numbers & totals") || !strings.Contains(p, link) {
		t.Errorf("plain part lacks the comment or the link %s:\n%s", link, p)
	}
	if p := parts["text/html"]; !strings.Contains(p, "please check the disk numbers &amp; totals") || !strings.Contains(p, `href="`+link+`"`) {
		t.Errorf("HTML part lacks the escaped comment or the link %s:\n%s", link, p)
	}

	// The link works without a session: a page with a button, then the
	// one-click POST of RFC 8058.
	unsub, ok := strings.CutPrefix(h.Get("List-Unsubscribe"), "<"+e.http.URL+"/unsubscribe?t=")
	if !ok || !strings.HasSuffix(unsub, ">") {
		t.Fatalf("List-Unsubscribe = %q", h.Get("List-Unsubscribe"))
	}
	m := []string{"", e.http.URL + "/unsubscribe?t=" + strings.TrimSuffix(unsub, ">")}
	anon := e.client()
	anon.pageOK(strings.TrimPrefix(m[1], e.http.URL)).has(t, "Mentions of you", `<button class="button primary" type="submit">Unsubscribe</button>`)
	tampered := strings.Replace(m[1], "t=", "t=x", 1)
	if p := anon.page(strings.TrimPrefix(tampered, e.http.URL)); p.status != http.StatusBadRequest || !strings.Contains(p.body, "not valid") {
		t.Errorf("tampered link = %d; want 400 saying it is not valid", p.status)
	}
	req, _ := http.NewRequest("POST", m[1], strings.NewReader("List-Unsubscribe=One-Click"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if p := anon.send(req); p.status != http.StatusOK || !strings.Contains(p.body, "no more mails for Mentions of you") {
		t.Fatalf("one-click unsubscribe = %d\n%s", p.status, p.body)
	}
	prefs := bob.must(http.StatusOK, "GET", "/api/me", nil).body["notifications"].(map[string]any)
	if prefs["mention"] != "off" || prefs["review_request"] != "now" {
		t.Errorf("notifications after unsubscribing = %v; want mention off, the rest as before", prefs)
	}
	ada.must(http.StatusCreated, "POST", "/api/docs/"+doc+"/threads", map[string]any{"body": "@bob again"})
	if r := outbox(t, ada); len(r.Mails) != 1 || len(srv.Messages()) != 1 {
		t.Errorf("after unsubscribing: %d outbox entries, %d messages; want 1 and 1", len(r.Mails), len(srv.Messages()))
	}
	_ = space
}

// TestMailRetriedAfterRefusal has the server answer 451 once: the mail
// is sent once, on the second attempt.
func TestMailRetriedAfterRefusal(t *testing.T) {
	e, ada, _, bob := withMember(t, "Ada", "Bob", docket.RoleCommenter)
	srv := mailEnv(t, e, mailtest.Options{RefuseFirst: 1})
	startMailer(t, e, srv, 0)
	doc := ada.createDoc("eng", "Plan", "text")
	ada.must(http.StatusCreated, "POST", "/api/docs/"+doc+"/threads", map[string]any{"body": "@bob look"})
	testenv.WaitFor(t, 10*time.Second, "the mail marked sent", func() bool { return outbox(t, ada).Counts[docket.MailSent] == 1 })
	if n, a := len(srv.Messages()), srv.Attempts(); n != 1 || a != 2 {
		t.Errorf("%d messages after %d attempts; want 1 after 2", n, a)
	}
	if got := outbox(t, ada).Mails[0]; got.Attempt != 2 || got.To != bob.email() || got.Status != docket.MailSent {
		t.Errorf("outbox entry = %+v; want sent to %s on attempt 2", got, bob.email())
	}
}

// TestMailOnceAcrossCrash claims a mail and "crashes" before sending it:
// a mailer started after the lease sends it once, and neither it nor a
// later one sends it again.
func TestMailOnceAcrossCrash(t *testing.T) {
	e, ada, _, _ := withMember(t, "Ada", "Bob", docket.RoleCommenter)
	srv := mailEnv(t, e, mailtest.Options{})
	doc := ada.createDoc("eng", "Plan", "text")
	ada.must(http.StatusCreated, "POST", "/api/docs/"+doc+"/threads", map[string]any{"body": "@bob look"})
	q := bolt.NewMailService(e.db)
	ctx := context.Background()
	tasks, err := q.DueMails(ctx, time.Now(), 10, time.Minute)
	if err != nil || len(tasks) != 1 {
		t.Fatalf("DueMails = %d tasks, %v; want 1", len(tasks), err)
	}
	if again, _ := q.DueMails(ctx, time.Now(), 10, time.Minute); len(again) != 0 {
		t.Fatalf("a leased mail was offered again: %d tasks", len(again))
	}
	stop := startMailer(t, e, srv, 2*time.Minute) // after the lease
	testenv.WaitFor(t, 10*time.Second, "the mail marked sent", func() bool { return outbox(t, ada).Counts[docket.MailSent] == 1 })
	stop()
	startMailer(t, e, srv, time.Hour)
	if again, _ := q.DueMails(ctx, time.Now().Add(24*time.Hour), 10, time.Minute); len(again) != 0 {
		t.Errorf("a sent mail was offered again: %d tasks", len(again))
	}
	if got := outbox(t, ada).Mails[0]; len(srv.Messages()) != 1 || got.Attempt != 2 {
		t.Errorf("%d messages, entry %+v; want 1 message, sent on attempt 2", len(srv.Messages()), got)
	}
}

// TestMailDigest collects replies (digest by default) on two documents
// and sends one mail at the digest hour, grouped by document.
func TestMailDigest(t *testing.T) {
	e, ada, _, bob := withMember(t, "Ada", "Bob", docket.RoleCommenter)
	srv := mailEnv(t, e, mailtest.Options{})
	for _, title := range []string{"Storage plan", "Hiring plan"} {
		doc := ada.createDoc("eng", title, "text")
		th := bob.must(http.StatusCreated, "POST", "/api/docs/"+doc+"/threads", map[string]any{"body": "a question on " + title}).str("id")
		ada.must(http.StatusCreated, "POST", "/api/threads/"+th+"/comments", map[string]any{"body": "the answer on " + title})
	}
	if r := outbox(t, ada); len(r.Mails) != 0 {
		t.Fatalf("replies were mailed at once: %+v", r.Mails)
	}
	startMailer(t, e, srv, 25*time.Hour) // past the next 07:00 UTC
	testenv.WaitFor(t, 10*time.Second, "the digest", func() bool { return len(srv.Messages()) == 1 })
	testenv.WaitFor(t, 10*time.Second, "the digest marked sent", func() bool { return outbox(t, ada).Counts[docket.MailSent] == 1 })
	msg := srv.Messages()[0]
	if got, want := msg.Subject(), "[Docket] Your daily digest: 2 updates on 2 documents"; got != want {
		t.Errorf("Subject = %q; want %q", got, want)
	}
	parts, err := msg.Parts()
	if err != nil {
		t.Fatal(err)
	}
	text := parts["text/plain"]
	for _, want := range []string{"Storage plan (eng)", "the answer on Storage plan", "Hiring plan (eng)", "the answer on Hiring plan", "Ada replied"} {
		if !strings.Contains(text, want) {
			t.Errorf("digest lacks %q:\n%s", want, text)
		}
	}
	if len(srv.Messages()) != 1 || msg.To[0] != bob.email() {
		t.Errorf("%d messages to %v; want one digest to Bob", len(srv.Messages()), msg.To)
	}
}

// TestMailOff sends nothing for a kind set to off, and queues nothing at
// all while mail is off.
func TestMailOff(t *testing.T) {
	e, ada, _, bob := withMember(t, "Ada", "Bob", docket.RoleCommenter)
	doc := ada.createDoc("eng", "Plan", "text")
	ada.must(http.StatusCreated, "POST", "/api/docs/"+doc+"/threads", map[string]any{"body": "@bob while mail is off"})
	if r := outbox(t, ada); r.Enabled || len(r.Mails) != 0 {
		t.Fatalf("mail off: outbox %+v; want disabled and empty", r)
	}
	ada.pageOK("/settings").has(t, "Email is off on this server")
	mailEnv(t, e, mailtest.Options{})
	bob.must(http.StatusOK, "PATCH", "/api/me", map[string]any{"notifications": map[string]string{"mention": "off"}})
	ada.must(http.StatusCreated, "POST", "/api/docs/"+doc+"/threads", map[string]any{"body": "@bob with mentions off"})
	if r := outbox(t, ada); !r.Enabled || len(r.Mails) != 0 {
		t.Errorf("mentions off: outbox %+v; want enabled and empty", r)
	}
	bob.must(http.StatusForbidden, "GET", "/api/admin/mail", nil)
	ada.pageOK("/settings").has(t, `Outbox (site admins): 0 waiting, 0 sent, 0 failed, 0 skipped`)
	bob.pageOK("/settings").hasNot(t, "outbox-status")
}

// TestMeNotifications checks PATCH /api/me's notification choices.
func TestMeNotifications(t *testing.T) {
	e := newEnv(t)
	ada := e.signup("Ada")
	for _, tc := range []struct {
		name string
		body string
		want int
		msg  string
	}{
		{"unknown kind", `{"notifications":{"gossip":"now"}}`, http.StatusBadRequest, `is not known`},
		{"unknown choice", `{"notifications":{"mention":"sometimes"}}`, http.StatusBadRequest, `for mention is not one of now, digest, off`},
		{"not a map", `{"notifications":"off"}`, http.StatusBadRequest, ""},
		{"not a string", `{"notifications":{"reply":1}}`, http.StatusBadRequest, ""},
		{"valid", `{"notifications":{"reply":"now","mention":"digest"}}`, http.StatusOK, ""},
		{"empty keeps them", `{"notifications":{}}`, http.StatusOK, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := ada.do("PATCH", "/api/me", tc.body)
			if r.status != tc.want || !strings.Contains(string(r.raw), tc.msg) {
				t.Errorf("PATCH /api/me %s = %d %s; want %d with %q", tc.body, r.status, r.raw, tc.want, tc.msg)
			}
		})
	}
	got := ada.must(http.StatusOK, "GET", "/api/me", nil).body["notifications"]
	want := map[string]any{"mention": "digest", "review_request": "now", "decision": "now", "overdue": "now",
		"reply": "now", "concern": "digest", "handoff": "digest", "action": "digest", "due_soon": "now", "suggestion": "digest"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("notifications = %v; want %v", got, want)
	}
}

// TestEmailSettingsForm changes the choices through the settings page.
func TestEmailSettingsForm(t *testing.T) {
	e := newEnv(t)
	ada := e.signup("Ada")
	ada.pageOK("/settings").has(t, `<h2 id="email-h">Email</h2>`, `<select id="email-reply" name="reply">`)
	ada.submit("/settings", "/settings/email", url.Values{"reply": {"off"}, "mention": {"digest"}}).mustSeeOther(t, "/settings?done=email")
	prefs := ada.must(http.StatusOK, "GET", "/api/me", nil).body["notifications"].(map[string]any)
	if prefs["reply"] != "off" || prefs["mention"] != "digest" {
		t.Errorf("after the form: %v", prefs)
	}
	p := ada.submit("/settings", "/settings/email", url.Values{"reply": {"loud"}})
	if p.status != http.StatusBadRequest || !strings.Contains(p.body, "is not one of now, digest, off") {
		t.Errorf("bad choice = %d; want 400 with the message", p.status)
	}
}

// TestMailReviewAndDecision: a review request says the due date and
// links the text at its version; the decision says its summary.
func TestMailReviewAndDecision(t *testing.T) {
	e, ada, _, bob := withMember(t, "Ada", "Bob", docket.RoleCommenter)
	srv := mailEnv(t, e, mailtest.Options{})
	startMailer(t, e, srv, 0)
	doc := ada.createDoc("eng", "Plan", "text")
	due := time.Now().Add(72 * time.Hour).UTC().Truncate(time.Minute)
	ada.must(http.StatusOK, "POST", "/api/docs/"+doc+"/transition", map[string]any{"to": "review", "due": due, "reviewers": []string{bob.id()}})
	ada.must(http.StatusOK, "POST", "/api/docs/"+doc+"/transition", map[string]any{"to": "declined", "decision": map[string]string{"summary": "Too costly for now"}})
	testenv.WaitFor(t, 10*time.Second, "two mails", func() bool { return len(srv.Messages()) == 2 })
	for i, want := range []struct{ subject, text string }{
		{"[eng] Plan: Ada asked for your review", "Due: " + due.Format("Mon 2 Jan 2006, 15:04 MST")},
		{"[eng] Plan: Ada recorded a decision", `"declined: Too costly for now"`},
	} {
		msg := srv.Messages()[i]
		parts, err := msg.Parts()
		if err != nil {
			t.Fatal(err)
		}
		version := e.http.URL + "/d/" + doc + "/history?v=1"
		if msg.Subject() != want.subject || !strings.Contains(parts["text/plain"], want.text) || !strings.Contains(parts["text/plain"], version) {
			t.Errorf("mail %d: subject %q; want %q with %q and %s:\n%s", i, msg.Subject(), want.subject, want.text, version, parts["text/plain"])
		}
	}
}
