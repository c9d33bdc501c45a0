package server_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/docket-dev/docket/server"
)

func TestSignupFirstPolicy(t *testing.T) {
	e := newEnv(t, func(c *server.Config) { c.Signup = server.SignupFirst })
	admin := e.signup("Ada")
	if got, want := admin.user["role"], "admin"; got != want {
		t.Fatalf("first user role = %v; want %v", got, want)
	}
	r := e.client().do("POST", "/api/auth/signup", map[string]string{"name": "Bob", "email": "bob@example.com", "password": "long enough pw"})
	if r.status != http.StatusForbidden {
		t.Fatalf("second signup = %d %s; want 403", r.status, r.raw)
	}
	// An invitation lets Bob in, into a space with a role.
	space := admin.createSpace("eng")
	inv := admin.must(http.StatusCreated, "POST", "/api/invites", map[string]string{"email": "bob@example.com", "space": "eng", "role": "editor"})
	token := inv.str("token")
	bob := e.client()
	r = bob.must(http.StatusCreated, "POST", "/api/auth/signup", map[string]string{"name": "Bob", "email": "bob@example.com", "password": "long enough pw", "invite": token})
	if got, want := r.str("role"), "member"; got != want {
		t.Fatalf("invited role = %q; want %q", got, want)
	}
	bob.user = r.body
	bob.must(http.StatusCreated, "POST", "/api/docs", map[string]string{"space": space, "title": "Bob's", "body": "hi"})
	// The invitation is spent.
	r = e.client().do("POST", "/api/auth/signup", map[string]string{"name": "Eve", "email": "bob@example.com", "password": "long enough pw", "invite": token})
	if r.status != http.StatusForbidden {
		t.Fatalf("reused invite = %d; want 403", r.status)
	}
}

func TestSignupValidation(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		name string
		body string
		want int
	}{
		{"empty", `{}`, 400},
		{"bad email", `{"name":"A","email":"not-an-email","password":"long enough"}`, 400},
		{"short password", `{"name":"A","email":"a@example.com","password":"short"}`, 400},
		{"control chars in name", `{"name":"A\u0000B","email":"a@example.com","password":"long enough"}`, 400},
		{"bad time zone", `{"name":"A","email":"a@example.com","password":"long enough","timeZone":"../../etc/passwd"}`, 400},
		{"role smuggled", `{"name":"A","email":"a@example.com","password":"long enough","role":"admin"}`, 400},
		{"not json", `name=A`, 400},
		{"two objects", `{"name":"A","email":"a@example.com","password":"long enough"}{}`, 400},
		{"ok", `{"name":"A","email":"A@Example.com","password":"long enough","timeZone":"Europe/Berlin"}`, 201},
		{"duplicate email", `{"name":"B","email":"a@example.com","password":"long enough"}`, 409},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.client().do("POST", "/api/auth/signup", tc.body)
			if r.status != tc.want {
				t.Fatalf("status = %d %s; want %d", r.status, r.raw, tc.want)
			}
			if tc.want >= 400 && (r.errCode() == "" || r.body["error"].(map[string]any)["message"] == "") {
				t.Fatalf("error body = %s; want {error:{code,message}}", r.raw)
			}
		})
	}
}

func TestSessionLifecycle(t *testing.T) {
	e := newEnv(t)
	ada := e.signup("Ada")
	ada.must(200, "GET", "/api/me", nil)

	// Log in again: a new session id, and the old one is dead (rotation).
	u := ada.hc.Jar.Cookies(mustURL(e.http.URL))
	if len(u) != 1 {
		t.Fatalf("cookies = %v; want one session cookie", u)
	}
	old := u[0].Value
	r := ada.must(200, "POST", "/api/auth/login", map[string]string{"email": ada.email(), "password": "correct horse Ada"})
	sc := r.header.Get("Set-Cookie")
	for _, want := range []string{"HttpOnly", "SameSite=Lax", "Path=/"} {
		if !strings.Contains(sc, want) {
			t.Errorf("Set-Cookie = %q; want %s", sc, want)
		}
	}
	if strings.Contains(sc, "Secure") {
		t.Errorf("Set-Cookie = %q; Secure over plain http breaks the session", sc)
	}
	fresh := ada.hc.Jar.Cookies(mustURL(e.http.URL))[0].Value
	if fresh == old {
		t.Fatal("session id not rotated at login")
	}
	stale := e.client()
	stale.header.Set("Cookie", "docket_session="+old)
	stale.must(401, "GET", "/api/me", nil)

	// Log out: the cookie is dead on the server too.
	ada.must(204, "POST", "/api/auth/logout", nil)
	replay := e.client()
	replay.header.Set("Cookie", "docket_session="+fresh)
	replay.must(401, "GET", "/api/me", nil)
	ada.must(401, "GET", "/api/me", nil)
}

func TestSecureCookieBehindTLS(t *testing.T) {
	e := newEnv(t, func(c *server.Config) { c.BaseURL = "https://docs.example.com" })
	c := e.client()
	c.header.Set("Origin", "https://docs.example.com")
	r := c.must(201, "POST", "/api/auth/signup", map[string]string{"name": "Ada", "email": "ada@example.com", "password": "long enough"})
	if sc := r.header.Get("Set-Cookie"); !strings.Contains(sc, "Secure") {
		t.Fatalf("Set-Cookie = %q; want Secure behind TLS", sc)
	}
	if got := r.header.Get("Strict-Transport-Security"); got == "" {
		t.Fatal("no HSTS header behind TLS")
	}
}

func TestSecureCookieFromTrustedProxy(t *testing.T) {
	e := newEnv(t, func(c *server.Config) { c.TrustedProxies, _ = server.ParseTrustedProxies("127.0.0.0/8") })
	c := e.client()
	c.header.Set("X-Forwarded-Proto", "https")
	r := c.must(201, "POST", "/api/auth/signup", map[string]string{"name": "Ada", "email": "ada@example.com", "password": "long enough"})
	if sc := r.header.Get("Set-Cookie"); !strings.Contains(sc, "Secure") {
		t.Fatalf("Set-Cookie = %q; want Secure when a trusted proxy terminates TLS", sc)
	}
	// An untrusted peer cannot claim TLS.
	e2 := newEnv(t)
	c2 := e2.client()
	c2.header.Set("X-Forwarded-Proto", "https")
	r = c2.must(201, "POST", "/api/auth/signup", map[string]string{"name": "Ada", "email": "ada@example.com", "password": "long enough"})
	if sc := r.header.Get("Set-Cookie"); strings.Contains(sc, "Secure") {
		t.Fatalf("Set-Cookie = %q; an untrusted X-Forwarded-Proto made it Secure", sc)
	}
}

func TestTokens(t *testing.T) {
	e := newEnv(t)
	ada := e.signup("Ada")
	r := ada.must(201, "POST", "/api/tokens", map[string]string{"name": "ci"})
	secret, id := r.str("token"), r.str("id")
	if !strings.HasPrefix(secret, "dkt_") {
		t.Fatalf("token = %q; want dkt_ prefix", secret)
	}
	bot := e.client()
	bot.token = secret
	if got := bot.must(200, "GET", "/api/me", nil).str("id"); got != ada.id() {
		t.Fatalf("token user = %q; want %q", got, ada.id())
	}
	list := ada.must(200, "GET", "/api/tokens", nil)
	if strings.Contains(string(list.raw), secret) {
		t.Fatal("token list shows the secret")
	}
	if strings.Contains(string(list.raw), "hash") {
		t.Fatal("token list shows the hash")
	}
	// Another user cannot revoke it.
	bob := e.signup("Bob")
	bob.must(404, "DELETE", "/api/tokens/"+id, nil)
	ada.must(204, "DELETE", "/api/tokens/"+id, nil)
	bot.must(401, "GET", "/api/me", nil)
	bad := e.client()
	bad.header.Set("Authorization", "Basic abc")
	bad.must(401, "GET", "/api/me", nil)
}

func TestDocumentLifecycle(t *testing.T) {
	_, ada, space := adaSpace(t)
	// Title from the first heading.
	r := ada.must(201, "POST", "/api/docs", map[string]any{"space": "eng", "body": "# Storage plan\n\nUse **bbolt**.\n", "kind": "rfc", "tags": []string{"Storage", "storage", "db"}})
	id := r.str("id")
	if got, want := r.str("title"), "Storage plan"; got != want {
		t.Errorf("title = %q; want %q", got, want)
	}
	if got, want := r.num("version"), int64(1); got != want {
		t.Errorf("version = %d; want %d", got, want)
	}
	if got, want := fmt.Sprint(r.body["tags"]), "[storage db]"; got != want {
		t.Errorf("tags = %s; want %s", got, want)
	}
	if got := r.str("status"); got != "draft" {
		t.Errorf("status = %q; want draft", got)
	}
	if got := r.str("spaceId"); got != space {
		t.Errorf("spaceId = %q; want %q", got, space)
	}

	// Edit by op at the current version.
	r = ada.must(200, "POST", "/api/docs/"+id+"/edits", map[string]any{"version": 1, "op": json.RawMessage(`[16, "Decision: "]`)})
	if got, want := r.str("body"), "# Storage plan\n\nDecision: Use **bbolt**.\n"; got != want {
		t.Fatalf("body = %q; want %q", got, want)
	}
	// Edit by body.
	r = ada.must(200, "POST", "/api/docs/"+id+"/edits", map[string]any{"version": 2, "body": "# Storage plan\n\nDecision: Use **bbolt** 🎉.\n"})
	if got := r.num("version"); got != 3 {
		t.Fatalf("version = %d; want 3", got)
	}
	// A bad op changes nothing.
	for _, op := range []string{`[100, "x"]`, `["\ud800"]`, `[{"d": -1}]`, `[0]`, `"x"`, `[{"x": 1}]`, `[3, 4]`} {
		r = ada.do("POST", "/api/docs/"+id+"/edits", `{"version": 3, "op": `+op+`}`)
		if r.status != 400 {
			t.Errorf("op %s = %d %s; want 400", op, r.status, r.raw)
		}
	}
	// An edit that changes nothing is not stored.
	ada.must(200, "POST", "/api/docs/"+id+"/edits", map[string]any{"version": 3, "body": "# Storage plan\n\nDecision: Use **bbolt** 🎉.\n"})
	if got := ada.must(200, "GET", "/api/docs/"+id, nil).num("version"); got != 3 {
		t.Fatalf("version after no-op = %d; want 3", got)
	}

	// History and versions.
	h := ada.must(200, "GET", "/api/docs/"+id+"/history", nil)
	ops := h.body["ops"].([]any)
	if len(ops) != 3 {
		t.Fatalf("history has %d ops; want 3", len(ops))
	}
	for i, o := range ops {
		op := o.(map[string]any)
		if op["v"] != float64(i) || op["author"] != ada.id() || op["time"] == "" {
			t.Errorf("op %d = %v", i, op)
		}
	}
	if got, want := ada.must(200, "GET", "/api/docs/"+id+"/versions/1", nil).str("body"), "# Storage plan\n\nUse **bbolt**.\n"; got != want {
		t.Errorf("version 1 = %q; want %q", got, want)
	}
	if got := ada.must(200, "GET", "/api/docs/"+id+"/versions/0", nil).str("body"); got != "" {
		t.Errorf("version 0 = %q; want empty", got)
	}
	ada.must(400, "GET", "/api/docs/"+id+"/versions/4", nil)
	ada.must(400, "GET", "/api/docs/"+id+"/versions/-1", nil)
	d := ada.must(200, "GET", "/api/docs/"+id+"/diff?from=1&to=3", nil)
	want := "--- version 1\n+++ version 3\n@@ -1,3 +1,3 @@\n # Storage plan\n \n-Use **bbolt**.\n+Decision: Use **bbolt** 🎉.\n"
	if got := d.str("unified"); got != want {
		t.Errorf("unified diff =\n%s\nwant\n%s", got, want)
	}

	// Edits made at older versions merge like live ops: a body is diffed
	// against its own version, then transformed forward.
	r = ada.must(200, "POST", "/api/docs/"+id+"/edits", map[string]any{"version": 2, "body": "# Storage plan\n\nDecision: Use **bbolt**.\n\nAgreed.\n"})
	if got, want := r.str("body"), "# Storage plan\n\nDecision: Use **bbolt** 🎉.\n\nAgreed.\n"; got != want || r.num("version") != 4 {
		t.Fatalf("stale body merged to v%d %q; want v4 %q", r.num("version"), got, want)
	}
	r = ada.must(200, "POST", "/api/docs/"+id+"/edits", map[string]any{"version": 1, "op": json.RawMessage(`[16, "Note: "]`)})
	if got, want := r.str("body"), "# Storage plan\n\nNote: Decision: Use **bbolt** 🎉.\n\nAgreed.\n"; got != want || r.num("version") != 5 {
		t.Fatalf("stale op merged to v%d %q; want v5 %q", r.num("version"), got, want)
	}
	// A version from the future names the current one.
	r = ada.must(409, "POST", "/api/docs/"+id+"/edits", map[string]any{"version": 99, "body": "x"})
	if got := r.body["error"].(map[string]any)["version"]; got != float64(5) {
		t.Fatalf("conflict version = %v; want 5", got)
	}

	// Patch metadata.
	r = ada.must(200, "PATCH", "/api/docs/"+id, map[string]any{"title": "Storage RFC", "tags": []string{"x"}, "kind": "notes"})
	if r.str("title") != "Storage RFC" || r.str("kind") != "notes" {
		t.Fatalf("patched = %s", r.raw)
	}
	ada.must(400, "PATCH", "/api/docs/"+id, map[string]any{"kind": "poem"})

	// Rendered HTML.
	html := ada.must(200, "GET", "/api/docs/"+id+"/html", nil)
	if !strings.Contains(string(html.raw), "<strong>bbolt</strong>") || !strings.Contains(string(html.raw), `id="storage-plan"`) {
		t.Fatalf("html = %s", html.raw)
	}
	etag := html.header.Get("ETag")
	ada.header.Set("If-None-Match", etag)
	ada.must(304, "GET", "/api/docs/"+id+"/html", nil)
	ada.header.Del("If-None-Match")

	// Lists and filters.
	ada.createDoc("eng", "Second", "two")
	l := ada.must(200, "GET", "/api/docs?space=eng&limit=1", nil)
	if l.num("total") != 2 || len(l.body["documents"].([]any)) != 1 {
		t.Fatalf("list = %s", l.raw)
	}
	if strings.Contains(string(l.raw), `"body"`) {
		t.Error("list carries bodies")
	}
	if got := ada.must(200, "GET", "/api/docs?space=eng&kind=notes", nil).num("total"); got != 1 {
		t.Errorf("kind filter total = %d; want 1", got)
	}
	if got := ada.must(200, "GET", "/api/docs?owner="+ada.email(), nil).num("total"); got != 2 {
		t.Errorf("owner filter total = %d; want 2", got)
	}
	ada.must(400, "GET", "/api/docs?status=maybe", nil)
	ada.must(400, "GET", "/api/docs?limit=100000", nil)

	// Delete.
	ada.must(204, "DELETE", "/api/docs/"+id, nil)
	ada.must(404, "GET", "/api/docs/"+id, nil)
	ada.must(404, "GET", "/api/docs/"+id+"/html", nil)
}

func TestRestartKeepsEverything(t *testing.T) {
	e, ada, _ := adaSpace(t)
	id := ada.createDoc("eng", "Plan", "v1")
	for v := 1; v <= 25; v++ {
		ada.must(200, "POST", "/api/docs/"+id+"/edits", map[string]any{"version": v, "body": fmt.Sprintf("v%d", v+1)})
	}
	tok := ada.must(201, "POST", "/api/tokens", map[string]string{"name": "t"}).str("token")
	e.restart()
	bot := e.client()
	bot.token = tok
	r := bot.must(200, "GET", "/api/docs/"+id, nil)
	if r.str("body") != "v26" || r.num("version") != 26 {
		t.Fatalf("after restart = %s", r.raw)
	}
	for v := 1; v <= 26; v++ {
		if got, want := bot.must(200, "GET", fmt.Sprintf("/api/docs/%s/versions/%d", id, v), nil).str("body"), fmt.Sprintf("v%d", v); got != want {
			t.Fatalf("version %d = %q; want %q", v, got, want)
		}
	}
}

// /metrics tells operators about the whole site: it answers site admins
// and the metrics token, and nobody else.
func TestHealthAndMetrics(t *testing.T) {
	e := newEnv(t, func(c *server.Config) { c.MetricsToken = "scrape-secret" })
	admin, member := e.signup("Admin"), e.signup("Member") // the first is the site admin
	anon := e.client()
	anon.must(200, "GET", "/healthz", nil)
	anon.must(401, "GET", "/api/me", nil)
	anon.must(401, "GET", "/metrics", nil)
	member.must(403, "GET", "/metrics", nil)
	for _, tc := range []struct {
		token string
		want  int
	}{{"wrong-secret", 401}, {"scrape-secret", 200}} {
		scraper := e.client()
		scraper.token = tc.token
		scraper.must(tc.want, "GET", "/metrics", nil)
	}
	// The metrics token is good for /metrics only.
	scraper := e.client()
	scraper.token = "scrape-secret"
	scraper.must(401, "GET", "/api/me", nil)
	r := admin.must(200, "GET", "/metrics", nil)
	for _, want := range []string{`docket_http_requests_total{code="401",method="GET",route="/api/me"} 2`, "docket_http_request_duration_seconds_bucket"} {
		if !strings.Contains(string(r.raw), want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}

func TestHealthChecks(t *testing.T) {
	var busDown atomic.Bool
	e := newEnv(t, func(c *server.Config) {
		c.Checks = map[string]func(context.Context) error{
			"store": func(context.Context) error { return nil },
			"bus": func(context.Context) error {
				if busDown.Load() {
					return errors.New("nats: not connected to nats://127.0.0.1:4222")
				}
				return nil
			},
		}
	})
	anon := e.client()
	for _, tc := range []struct {
		down       bool
		code       int
		status, bs string
	}{
		{false, 200, "ok", "ok"},
		{true, 503, "unavailable", "nats: not connected to nats://127.0.0.1:4222"},
		{false, 200, "ok", "ok"},
	} {
		busDown.Store(tc.down)
		r := anon.must(tc.code, "GET", "/healthz", nil)
		if got := [3]string{r.str("status"), r.str("store"), r.str("bus")}; got != [3]string{tc.status, "ok", tc.bs} {
			t.Errorf("bus down %v: /healthz = %q, want status %q, store ok, bus %q", tc.down, got, tc.status, tc.bs)
		}
	}
}

func TestMembers(t *testing.T) {
	_, ada, _, bob := withMember(t, "Ada", "Bob", "viewer")
	m := ada.must(200, "GET", "/api/spaces/eng/members", nil)
	if m.num("total") != 2 {
		t.Fatalf("members = %s", m.raw)
	}
	// The last admin cannot leave or be demoted.
	ada.must(409, "POST", "/api/spaces/eng/members", map[string]string{"user": ada.id(), "role": "editor"})
	ada.must(409, "DELETE", "/api/spaces/eng/members/"+ada.id(), nil)
	// Bob may leave by himself.
	bob.must(204, "DELETE", "/api/spaces/eng/members/"+bob.id(), nil)
	bob.must(404, "GET", "/api/spaces/eng", nil)
	ada.must(404, "POST", "/api/spaces/eng/members", map[string]string{"email": "nobody@example.com", "role": "viewer"})
}
