package server_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	docket "github.com/docket-dev/docket"
	"github.com/docket-dev/docket/internal/mailtest"
	"github.com/docket-dev/docket/internal/testenv"
	"github.com/docket-dev/docket/server"
)

// signupMailEnv is an open site whose first account, Ada, was made
// before mail was turned on; the mailer sends to a loopback SMTP server.
// shift moves the server's clock ahead.
func signupMailEnv(t *testing.T) (*env, *client, *mailtest.Server, *atomic.Int64) {
	t.Helper()
	shift := new(atomic.Int64)
	e := newEnv(t, func(c *server.Config) {
		c.Now = func() time.Time { return time.Now().Add(time.Duration(shift.Load())) }
	})
	ada := e.signup("Ada")
	srv := mailEnv(t, e, mailtest.Options{})
	startMailer(t, e, srv, 0)
	return e, ada, srv, shift
}

// mailsTo waits for n mails to addr and returns them.
func mailsTo(t *testing.T, srv *mailtest.Server, addr string, n int) []mailtest.Message {
	t.Helper()
	var got []mailtest.Message
	testenv.WaitFor(t, 10*time.Second, "mails to "+addr, func() bool {
		got = got[:0]
		for _, m := range srv.Messages() {
			if len(m.To) == 1 && m.To[0] == addr {
				got = append(got, m)
			}
		}
		return len(got) >= n
	})
	return got
}

var confirmLinkRE = regexp.MustCompile(`/signup/confirm\?t=[A-Za-z0-9_.%-]+`)

// mailText returns the plain text part of a mail.
func mailText(t *testing.T, m mailtest.Message) string {
	t.Helper()
	parts, err := m.Parts()
	if err != nil {
		t.Fatal(err)
	}
	return parts["text/plain"]
}

// requestSignup posts a sign-up as an anonymous caller and checks the
// 202 answer; it returns the message.
func requestSignup(t *testing.T, e *env, name, email, password string) string {
	t.Helper()
	r := e.client().must(http.StatusAccepted, "POST", "/api/auth/signup", map[string]string{"name": name, "email": email, "password": password})
	if got := r.str("status"); got != "check_email" {
		t.Errorf("status = %q; want check_email", got)
	}
	if msg := r.str("message"); !strings.Contains(msg, "We sent a link to "+email) {
		t.Errorf("message = %q; want it to name %s", msg, email)
	}
	if len(r.header.Values("Set-Cookie")) != 0 {
		t.Errorf("a sign-up by mail set a cookie: %v", r.header.Values("Set-Cookie"))
	}
	return r.str("message")
}

// TestSignupByMailNewAddress: a new address gets 202 and a mail with a
// link; no account exists until the link's button is pressed, which
// creates it and signs in; the link works once.
func TestSignupByMailNewAddress(t *testing.T) {
	e, _, srv, _ := signupMailEnv(t)
	requestSignup(t, e, "Carol", "carol@example.com", "correct horse carol")
	if r := e.client().do("POST", "/api/auth/login", map[string]string{"email": "carol@example.com", "password": "correct horse carol"}); r.status != http.StatusUnauthorized {
		t.Fatalf("login before confirming = %d; want 401", r.status)
	}
	msg := mailsTo(t, srv, "carol@example.com", 1)[0]
	if got, want := msg.Subject(), "[Docket] Confirm your email to create your account"; got != want {
		t.Errorf("Subject = %q; want %q", got, want)
	}
	if h := msg.Header().Get("List-Unsubscribe"); h != "" {
		t.Errorf("List-Unsubscribe = %q on a transactional mail; want none", h)
	}
	link := confirmLinkRE.FindString(mailText(t, msg))
	if link == "" {
		t.Fatalf("no confirm link in the mail:\n%s", mailText(t, msg))
	}
	carol := e.client()
	page := carol.pageOK(link)
	page.has(t, "Carol", "carol@example.com", `action="/signup/confirm"`)
	tok, _ := url.ParseQuery(strings.TrimPrefix(link, "/signup/confirm?"))
	carol.submit(link, "/signup/confirm", formValues("t", tok.Get("t"))).mustSeeOther(t, "/")
	me := carol.must(http.StatusOK, "GET", "/api/me", nil)
	if me.str("email") != "carol@example.com" || me.str("name") != "Carol" || me.str("role") != string(docket.SiteMember) {
		t.Errorf("GET /api/me = %s; want Carol, a member", me.raw)
	}
	e.client().must(http.StatusOK, "POST", "/api/auth/login", map[string]string{"email": "carol@example.com", "password": "correct horse carol"})

	again := e.client()
	if p := again.page(link); p.status != http.StatusBadRequest || !strings.Contains(p.body, "used already") {
		t.Errorf("GET a used link = %d; want 400 saying it was used\n%s", p.status, p.body)
	}
	if p := again.submit("/signup", "/signup/confirm", formValues("t", tok.Get("t"))); p.status != http.StatusBadRequest {
		t.Errorf("POST a used link = %d; want 400", p.status)
	}
}

// TestSignupByMailExistingAddress: an address with an account gets the
// same answer as a new one; its owner gets a mail saying so, and the
// account is unchanged.
func TestSignupByMailExistingAddress(t *testing.T) {
	e, ada, srv, _ := signupMailEnv(t)
	taken := requestSignup(t, e, "Mallory", ada.email(), "mallory's password")
	fresh := requestSignup(t, e, "Dave", "dave@example.com", "correct horse dave")
	if got, want := strings.ReplaceAll(taken, ada.email(), "X"), strings.ReplaceAll(fresh, "dave@example.com", "X"); got != want {
		t.Errorf("answers differ:\ntaken %q\nnew   %q", got, want)
	}
	msg := mailsTo(t, srv, ada.email(), 1)[0]
	if got, want := msg.Subject(), "[Docket] You already have an account"; got != want {
		t.Errorf("Subject = %q; want %q", got, want)
	}
	text := mailText(t, msg)
	if !strings.Contains(text, "You already have a Docket account with this address; sign in at:") || !strings.Contains(text, e.http.URL+"/login") {
		t.Errorf("mail text lacks the note and the sign-in link:\n%s", text)
	}
	if confirmLinkRE.MatchString(text) {
		t.Errorf("the mail to an existing account carries a sign-up link:\n%s", text)
	}
	e.client().must(http.StatusOK, "POST", "/api/auth/login", map[string]string{"email": ada.email(), "password": "correct horse Ada"})
	e.client().must(http.StatusUnauthorized, "POST", "/api/auth/login", map[string]string{"email": ada.email(), "password": "mallory's password"})
	if me := ada.must(http.StatusOK, "GET", "/api/me", nil); me.str("name") != "Ada" || me.str("role") != string(docket.SiteAdmin) {
		t.Errorf("Ada's account changed: %s", me.raw)
	}
}

// TestSignupLinkBad: a changed, replaced or expired link is a 400 page
// saying what is wrong, and makes no account.
func TestSignupLinkBad(t *testing.T) {
	e, _, srv, shift := signupMailEnv(t)
	requestSignup(t, e, "Erin", "erin@example.com", "correct horse erin")
	first := confirmLinkRE.FindString(mailText(t, mailsTo(t, srv, "erin@example.com", 1)[0]))
	requestSignup(t, e, "Erin", "erin@example.com", "correct horse erin")
	var second string
	for _, m := range mailsTo(t, srv, "erin@example.com", 2) {
		if l := confirmLinkRE.FindString(mailText(t, m)); l != first {
			second = l
		}
	}
	if first == "" || second == "" {
		t.Fatalf("links %q and %q; want two different ones", first, second)
	}
	tampered := strings.Replace(second, "?t=", "?t=A", 1)
	for _, tc := range []struct {
		name, link, want string
	}{
		{"tampered", tampered, "not valid"},
		{"cut short", second[:len(second)-4], "not valid"},
		{"replaced", first, "a newer one was sent"},
	} {
		if p := e.client().page(tc.link); p.status != http.StatusBadRequest || !strings.Contains(p.body, tc.want) {
			t.Errorf("%s: GET = %d; want 400 saying %q\n%s", tc.name, p.status, tc.want, p.body)
		}
	}
	shift.Store(int64(docket.SignupLinkTTL + time.Minute))
	if p := e.client().page(second); p.status != http.StatusBadRequest || !strings.Contains(p.body, "expired") {
		t.Errorf("expired: GET = %d; want 400 saying expired\n%s", p.status, p.body)
	}
	e.client().must(http.StatusUnauthorized, "POST", "/api/auth/login", map[string]string{"email": "erin@example.com", "password": "correct horse erin"})
}

// TestSignupMailBound: a burst of sign-ups for one address mails it at
// most MaxSignupMailsPerHour times, for a new and a taken address.
func TestSignupMailBound(t *testing.T) {
	e, ada, _, _ := signupMailEnv(t)
	for _, addr := range []string{"frank@example.com", ada.email()} {
		for range docket.MaxSignupMailsPerHour + 3 {
			requestSignup(t, e, "Frank", addr, "correct horse frank")
		}
		n := 0
		for _, m := range outbox(t, ada).Mails {
			if m.To == addr {
				n++
			}
		}
		if n != docket.MaxSignupMailsPerHour {
			t.Errorf("%s: %d mails queued; want %d", addr, n, docket.MaxSignupMailsPerHour)
		}
	}
}

// TestSignupConfirmAccountMadeMeanwhile: if the address got an account
// (by invitation, which skips the mail) between the mail and the click,
// the page says so and nothing changes.
func TestSignupConfirmAccountMadeMeanwhile(t *testing.T) {
	e, ada, srv, _ := signupMailEnv(t)
	requestSignup(t, e, "Gina", "gina@example.com", "correct horse gina")
	link := confirmLinkRE.FindString(mailText(t, mailsTo(t, srv, "gina@example.com", 1)[0]))
	// Meanwhile Gina signs up with an invitation, which is immediate as
	// before.
	ada.createSpace("eng")
	inv := ada.must(http.StatusCreated, "POST", "/api/invites", map[string]string{"email": "gina@example.com", "space": "eng", "role": "editor"}).str("token")
	e.client().must(http.StatusCreated, "POST", "/api/auth/signup", map[string]string{"name": "Gina B", "email": "gina@example.com", "password": "gina's own password", "invite": inv})
	c := e.client()
	tok, _ := url.ParseQuery(strings.TrimPrefix(link, "/signup/confirm?"))
	p := c.submit(link, "/signup/confirm", formValues("t", tok.Get("t")))
	if p.status != http.StatusConflict || !strings.Contains(p.body, "was made since this link was sent") {
		t.Errorf("POST = %d; want 409 saying the account was made meanwhile\n%s", p.status, p.body)
	}
	e.client().must(http.StatusOK, "POST", "/api/auth/login", map[string]string{"email": "gina@example.com", "password": "gina's own password"})
}

// TestSignupPageByMail: the sign-up form shows "check your email" and
// the mail goes out, for a taken address alike.
func TestSignupPageByMail(t *testing.T) {
	e, ada, srv, _ := signupMailEnv(t)
	for _, addr := range []string{"hal@example.com", ada.email()} {
		c := e.client()
		p := c.submit("/signup", "/signup", formValues("name", "Hal", "email", addr, "password", "correct horse hal"))
		if p.status != http.StatusOK {
			t.Fatalf("%s: POST /signup = %d; want 200\n%s", addr, p.status, p.body)
		}
		p.has(t, "Check your email", "We sent a link to "+addr)
		p.hasNot(t, "already exists", `name="password"`)
		mailsTo(t, srv, addr, 1)
	}
}

// TestSignupWithoutMail: with mail off (or by invitation), sign-up makes
// the account at once, and a taken address is a conflict, as before.
func TestSignupWithoutMail(t *testing.T) {
	e := newEnv(t)
	bob := e.signup("Bob")
	r := e.client().do("POST", "/api/auth/signup", map[string]string{"name": "Bob", "email": bob.email(), "password": "another password"})
	if r.status != http.StatusConflict {
		t.Errorf("taken address without mail = %d; want 409", r.status)
	}
	e.signup("Carol")
}
