package server_test

import (
	"context"
	"html"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	docket "github.com/docket-dev/docket"
	"github.com/docket-dev/docket/bolt"
	"github.com/docket-dev/docket/internal/oidctest"
	"github.com/docket-dev/docket/oidc"
	"github.com/docket-dev/docket/server"
)

// ssoSlot is the server's SSO, set once the server's URL (and so the
// callback URL) is known.
type ssoSlot struct{ server.SSO }

// ssoEnv is a server with single sign-on through a test provider on
// loopback, named "Acme ID".
type ssoEnv struct {
	*env
	op    *oidctest.Provider
	clock atomic.Int64 // added to the real time, in nanoseconds
}

func newSSOEnv(t *testing.T, cfg ...func(*server.Config)) *ssoEnv {
	t.Helper()
	se := &ssoEnv{env: &env{t: t, dir: t.TempDir()}}
	se.cfg = server.Config{Signup: server.SignupFirst, Now: func() time.Time {
		return time.Now().Add(time.Duration(se.clock.Load()))
	}}
	for _, f := range cfg {
		f(&se.cfg)
	}
	slot := &ssoSlot{}
	se.services = func(svc *server.Services) { svc.SSO = slot }
	se.start()
	t.Cleanup(se.stop)
	se.op = oidctest.Start(t)
	p, err := oidc.New(oidc.Config{
		Issuer: se.op.Issuer, ClientID: se.op.ClientID, ClientSecret: se.op.ClientSecret,
		Name: "Acme ID", RedirectURL: se.http.URL + "/auth/oidc/callback",
	})
	if err != nil {
		t.Fatal(err)
	}
	slot.SSO = p
	return se
}

// ssoResult is where a browser-like sign-in ended.
type ssoResult struct {
	status int
	path   string // the final URL's path and query
	body   string
}

// ssoLogin signs c in as a browser does: it opens the login page, follows
// its "Sign in with Acme ID" link through the provider and back, and
// returns the page it lands on. tamper, if set, may change the URL of the
// provider's authorization endpoint before the browser goes there.
func (se *ssoEnv) ssoLogin(c *client, next string, tamper func(*url.URL)) ssoResult {
	se.t.Helper()
	login := c.pageOK("/login?next=" + url.QueryEscape(next))
	if !strings.Contains(login.body, "Sign in with Acme ID") {
		se.t.Fatalf("the login page has no \"Sign in with Acme ID\":\n%s", login.body)
	}
	href := html.UnescapeString(between(login.body, `id="sso-login" href="`, `"`))
	hc := &http.Client{Jar: c.hc.Jar, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if len(via) >= 10 {
			return http.ErrUseLastResponse
		}
		if tamper != nil && strings.HasPrefix(req.URL.String(), se.op.Issuer+"/authorize") {
			tamper(req.URL)
		}
		return nil
	}}
	resp, err := hc.Get(se.http.URL + href)
	if err != nil {
		se.t.Fatalf("sign-in: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return ssoResult{status: resp.StatusCode, path: resp.Request.URL.RequestURI(), body: string(body)}
}

func between(s, from, to string) string {
	_, rest, ok := strings.Cut(s, from)
	if !ok {
		return ""
	}
	out, _, _ := strings.Cut(rest, to)
	return out
}

// me returns who c is signed in as ("" when signed out).
func me(c *client) string {
	r := c.do("GET", "/api/me", nil)
	if r.status != http.StatusOK {
		return ""
	}
	return r.str("email")
}

var (
	adaID = oidctest.Person{Subject: "ada-1", Email: "ada@acme.test", EmailVerified: true, Name: "Ada Lovelace"}
	bobID = oidctest.Person{Subject: "bob-2", Email: "bob@acme.test", EmailVerified: true, Name: "Bob"}
)

// The first sign-in makes the account (the site's first: an admin) from
// the claims and lands on the page the person came from; later sign-ins
// go by the (issuer, subject) link even when the provider's email changes.
// Docket sends a PKCE verifier the provider checks.
func TestSSOFirstLoginCreatesAccountThenGoesByLink(t *testing.T) {
	se := newSSOEnv(t)
	se.op.SetPerson(adaID)
	c := se.client()
	got := se.ssoLogin(c, "/search?q=plan", nil)
	if got.status != http.StatusOK || got.path != "/search?q=plan" {
		t.Fatalf("first sign-in landed on %d %s; want 200 /search?q=plan\n%s", got.status, got.path, got.body)
	}
	r := c.must(http.StatusOK, "GET", "/api/me", nil)
	if r.str("email") != "ada@acme.test" || r.str("name") != "Ada Lovelace" || r.str("role") != "admin" {
		t.Fatalf("account after the first sign-in = %s; want Ada Lovelace, ada@acme.test, admin", r.raw)
	}
	id := r.str("id")
	if n := se.op.PKCEChecked(); n != 1 {
		t.Errorf("codes redeemed with a matching PKCE verifier = %d; want 1", n)
	}

	renamed := adaID
	renamed.Email = "ada.lovelace@acme.test"
	se.op.SetPerson(renamed)
	c2 := se.client()
	if got := se.ssoLogin(c2, "/", nil); got.status != http.StatusOK || got.path != "/" {
		t.Fatalf("second sign-in landed on %d %s\n%s", got.status, got.path, got.body)
	}
	if r := c2.must(http.StatusOK, "GET", "/api/me", nil); r.str("id") != id {
		t.Errorf("second sign-in is %s; want the linked account %s", r.raw, id)
	}
	users := se.signupAdminList(c)
	if users != 1 {
		t.Errorf("accounts after two sign-ins = %d; want 1", users)
	}
}

// signupAdminList counts the accounts as the site admin c sees them.
func (se *ssoEnv) signupAdminList(c *client) int {
	se.t.Helper()
	return int(c.must(http.StatusOK, "GET", "/api/users", nil).num("total"))
}

// An account made with a password is linked on the first sign-in with
// the same verified email; later sign-ins go by the link, and the
// password keeps working.
func TestSSOLinksExistingAccountByVerifiedEmail(t *testing.T) {
	se := newSSOEnv(t)
	pw := se.client()
	created := pw.must(http.StatusCreated, "POST", "/api/auth/signup", map[string]string{
		"name": "Ada", "email": "ADA@acme.test", "password": "correct horse Ada",
	})
	se.op.SetPerson(adaID)
	c := se.client()
	if got := se.ssoLogin(c, "/", nil); got.status != http.StatusOK {
		t.Fatalf("sign-in = %d %s\n%s", got.status, got.path, got.body)
	}
	if r := c.must(http.StatusOK, "GET", "/api/me", nil); r.str("id") != created.str("id") || r.str("name") != "Ada" {
		t.Fatalf("signed in as %s; want the password account %s, its name kept", r.raw, created.raw)
	}
	moved := adaID
	moved.Email = "someone.else@acme.test"
	se.op.SetPerson(moved)
	c2 := se.client()
	se.ssoLogin(c2, "/", nil)
	if r := c2.must(http.StatusOK, "GET", "/api/me", nil); r.str("id") != created.str("id") {
		t.Errorf("sign-in after the provider's email changed is %s; want the linked account", r.raw)
	}
	c3 := se.client()
	c3.must(http.StatusOK, "POST", "/api/auth/login", map[string]string{"email": "ada@acme.test", "password": "correct horse Ada"})
}

// Every way a sign-in can fail shows the login page with a message that
// says why, a 4xx status, and no session.
func TestSSORefusals(t *testing.T) {
	tests := []struct {
		name   string
		cfg    func(*server.Config)
		setup  func(t *testing.T, se *ssoEnv)
		tamper func(*url.URL)
		status int
		want   string
	}{
		{
			name:   "provider denies",
			setup:  func(t *testing.T, se *ssoEnv) { se.op.Deny(true) },
			status: http.StatusForbidden, want: "Sign-in with Acme ID was cancelled or refused (access_denied).",
		},
		{
			name:   "unverified email",
			setup:  func(t *testing.T, se *ssoEnv) { p := adaID; p.EmailVerified = false; se.op.SetPerson(p) },
			status: http.StatusForbidden, want: "has not verified the email address ada@acme.test",
		},
		{
			name: "domain not allowed",
			cfg:  func(c *server.Config) { c.SSODomains = []string{"acme.test"} },
			setup: func(t *testing.T, se *ssoEnv) {
				se.op.SetPerson(oidctest.Person{Subject: "eve", Email: "eve@evil.test", EmailVerified: true})
			},
			status: http.StatusForbidden, want: "open to addresses at acme.test only; eve@evil.test is not one of them",
		},
		{
			name: "tampered state",
			tamper: func(u *url.URL) {
				q := u.Query()
				q.Set("state", q.Get("state")+"x")
				u.RawQuery = q.Encode()
			},
			status: http.StatusBadRequest, want: "did not start in this browser, or it was already used",
		},
		{
			name:   "expired state",
			tamper: nil,
			setup:  nil, // the clock moves in the test body
			status: http.StatusBadRequest, want: "took too long or was already used",
		},
		{
			name:   "wrong nonce",
			setup:  func(t *testing.T, se *ssoEnv) { se.op.ForgeNonce("not-the-nonce") },
			status: http.StatusUnauthorized, want: "wrong nonce",
		},
		{
			name: "sign-up closed",
			setup: func(t *testing.T, se *ssoEnv) {
				se.signup("Root") // the first account exists; sign-up is by invitation
				se.op.SetPerson(bobID)
			},
			status: http.StatusForbidden, want: "There is no Docket account for bob@acme.test, and sign-up is by invitation",
		},
		{
			name: "disabled account",
			setup: func(t *testing.T, se *ssoEnv) {
				root := se.signup("Root")
				sys := docket.NewSystemContext(context.Background())
				if err := bolt.NewUserService(se.db).DisableUser(sys, root.id()); err != nil {
					t.Fatal(err)
				}
				se.op.SetPerson(oidctest.Person{Subject: "root", Email: "root@example.com", EmailVerified: true})
			},
			status: http.StatusForbidden, want: "This account is deactivated",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var cfgs []func(*server.Config)
			if tt.cfg != nil {
				cfgs = append(cfgs, tt.cfg)
			}
			se := newSSOEnv(t, cfgs...)
			se.op.SetPerson(adaID)
			if tt.setup != nil {
				tt.setup(t, se)
			}
			tamper := tt.tamper
			if tt.name == "expired state" {
				tamper = func(*url.URL) { se.clock.Store(int64(11 * time.Minute)) }
			}
			c := se.client()
			got := se.ssoLogin(c, "/", tamper)
			if got.status != tt.status || !strings.Contains(html.UnescapeString(got.body), tt.want) || !strings.Contains(got.body, `role="alert"`) {
				t.Fatalf("sign-in = %d at %s; want %d and a login page saying %q\n%s", got.status, got.path, tt.status, tt.want, got.body)
			}
			if who := me(c); who != "" {
				t.Errorf("after a refused sign-in the browser is signed in as %s", who)
			}
		})
	}
}

// A sign-in never sends the browser off the site: a next that is not a
// local path lands on /.
func TestSSONoOpenRedirect(t *testing.T) {
	se := newSSOEnv(t)
	se.op.SetPerson(adaID)
	for _, next := range []string{"https://evil.test/x", "//evil.test/x", "/\\evil.test"} {
		c := se.client()
		if got := se.ssoLogin(c, next, nil); got.status != http.StatusOK || got.path != "/" {
			t.Errorf("sign-in with next=%q landed on %d %s; want 200 /", next, got.status, got.path)
		}
	}
}

// With password sign-in off the login page offers only the provider, the
// password routes answer 403 with a clear message, and API tokens keep
// working.
func TestSSOPasswordLoginOff(t *testing.T) {
	se := newSSOEnv(t, func(c *server.Config) { c.PasswordLoginOff = true })
	se.op.SetPerson(adaID)
	c := se.client()
	if got := se.ssoLogin(c, "/", nil); got.status != http.StatusOK {
		t.Fatalf("sign-in = %d\n%s", got.status, got.body)
	}
	tok := c.must(http.StatusCreated, "POST", "/api/tokens", map[string]string{"name": "script"}).str("token")
	login := se.client().pageOK("/login")
	if strings.Contains(login.body, `name="password"`) || !strings.Contains(login.body, "Password sign-in is turned off") {
		t.Errorf("login page with password sign-in off:\n%s", login.body)
	}
	const msg = "Password sign-in is turned off on this server; sign in with Acme ID."
	anon := se.client()
	for _, path := range []string{"/api/auth/login", "/api/auth/signup"} {
		r := anon.do("POST", path, map[string]string{"name": "Ada", "email": "ada@acme.test", "password": "correct horse Ada"})
		if r.status != http.StatusForbidden || !strings.Contains(string(r.raw), msg) {
			t.Errorf("POST %s = %d %s; want 403 saying %q", path, r.status, r.raw, msg)
		}
	}
	// The signed-in page has a form (sign out) to take a CSRF token from.
	csrf := between(c.pageOK("/").body, `name="csrf" value="`, `"`)
	for _, path := range []string{"/login", "/signup"} {
		form := url.Values{"email": {"ada@acme.test"}, "password": {"correct horse Ada"}, "name": {"Ada"}, "csrf": {csrf}}
		req, _ := http.NewRequest("POST", se.http.URL+path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", se.http.URL)
		p := c.send(req)
		if p.status != http.StatusForbidden || !strings.Contains(html.UnescapeString(p.body), msg) {
			t.Errorf("POST %s = %d; want 403 saying %q\n%s", path, p.status, msg, p.body)
		}
	}
	bearer := se.client()
	bearer.token = tok
	if r := bearer.do("GET", "/api/me", nil); r.status != http.StatusOK || r.str("email") != "ada@acme.test" {
		t.Errorf("API token with password sign-in off: %d %s", r.status, r.raw)
	}
}

// With sign-up closed, a listed email domain is the invitation: a first
// sign-in from it makes a member's account.
func TestSSOAllowedDomainCreatesAccount(t *testing.T) {
	se := newSSOEnv(t, func(c *server.Config) { c.SSODomains = []string{"acme.test"} })
	root := se.signup("Root")
	se.op.SetPerson(bobID)
	c := se.client()
	if got := se.ssoLogin(c, "/", nil); got.status != http.StatusOK || got.path != "/" {
		t.Fatalf("sign-in = %d %s\n%s", got.status, got.path, got.body)
	}
	r := c.must(http.StatusOK, "GET", "/api/me", nil)
	if r.str("email") != "bob@acme.test" || r.str("role") != "member" || r.str("timeZone") != "UTC" {
		t.Errorf("account = %s; want bob@acme.test, a member", r.raw)
	}
	if n := se.signupAdminList(root); n != 2 {
		t.Errorf("accounts = %d; want 2", n)
	}
}
