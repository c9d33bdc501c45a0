package server_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/docket-dev/docket/server"
)

// Row 1: a request that names two objects is authorised on both.
func TestAuthorizeEveryReferencedObject(t *testing.T) {
	e := newEnv(t)
	ada, eve := e.signup("Ada"), e.signup("Eve")
	ada.createSpace("ada-space")
	evesSpace := eve.createSpace("eve-space")
	// Eve is admin of her space; she may not add herself to Ada's space
	// through a request naming both.
	eve.must(404, "POST", "/api/spaces/ada-space/members", map[string]string{"user": eve.id(), "role": "admin"})
	// Nor invite into Ada's space.
	eve.must(404, "POST", "/api/invites", map[string]string{"email": "x@example.com", "space": "ada-space", "role": "admin"})
	// Nor create a document in it.
	eve.must(404, "POST", "/api/docs", map[string]string{"space": "ada-space", "title": "x", "body": "y"})
	// Adding Ada to Eve's space is fine; it grants Eve nothing.
	eve.addMember(evesSpace, ada, "viewer")
	eve.must(404, "GET", "/api/spaces/ada-space", nil)
}

// Row 2: deleted documents are gone for everyone, and only the owner or a
// space admin may delete.
func TestDeleteOnlyOwnerOrAdmin(t *testing.T) {
	e := newEnv(t)
	admin, ed1, ed2 := e.signup("Admin"), e.signup("Ed"), e.signup("Edna")
	space := admin.createSpace("eng")
	admin.addMember(space, ed1, "editor")
	admin.addMember(space, ed2, "editor")
	draft := ed1.createDoc("eng", "Ed's draft", "wip")
	ed2.must(403, "DELETE", "/api/docs/"+draft, nil)
	ed1.must(204, "DELETE", "/api/docs/"+draft, nil)
	for _, c := range []*client{admin, ed1, ed2} {
		c.must(404, "GET", "/api/docs/"+draft, nil)
		c.must(404, "GET", "/api/docs/"+draft+"/history", nil)
	}
}

// Rows 4 and 5: mass assignment and invalid enums are refused and change
// nothing.
func TestMassAssignmentAndEnums(t *testing.T) {
	_, admin, _, bob := withMember(t, "Admin", "Bob", "editor")
	doc := bob.createDoc("eng", "Doc", "text")
	for _, tc := range []struct {
		name, method, path, body string
	}{
		{"doc owner", "PATCH", "/api/docs/" + doc, `{"ownerId":"` + bob.id() + `","title":"x"}`},
		{"doc status", "PATCH", "/api/docs/" + doc, `{"status":"accepted"}`},
		{"doc space", "PATCH", "/api/docs/" + doc, `{"spaceId":"abc"}`},
		{"doc version", "PATCH", "/api/docs/" + doc, `{"version":99}`},
		{"me role", "PATCH", "/api/me", `{"role":"admin"}`},
		{"me isAdmin", "PATCH", "/api/me", `{"isAdmin":true}`},
		{"me email", "PATCH", "/api/me", `{"email":"admin@example.com"}`},
		{"create owner", "POST", "/api/docs", `{"space":"eng","title":"t","body":"b","ownerId":"x"}`},
		{"create status", "POST", "/api/docs", `{"space":"eng","title":"t","body":"b","status":"accepted"}`},
		{"member superuser", "POST", "/api/spaces/eng/members", `{"email":"bob@example.com","role":"superuser"}`},
		{"member -1", "POST", "/api/spaces/eng/members", `{"email":"bob@example.com","role":-1}`},
		{"member empty", "POST", "/api/spaces/eng/members", `{"email":"bob@example.com","role":""}`},
		{"kind enum", "POST", "/api/docs", `{"space":"eng","title":"t","body":"b","kind":"superuser"}`},
		{"edit author", "POST", "/api/docs/" + doc + "/edits", `{"version":1,"body":"x","author":"` + admin.id() + `"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := bob
			if strings.Contains(tc.path, "members") {
				c = admin
			}
			r := c.do(tc.method, tc.path, tc.body)
			if r.status != 400 {
				t.Fatalf("%s %s %s = %d %s; want 400", tc.method, tc.path, tc.body, r.status, r.raw)
			}
		})
	}
	if me := bob.must(200, "GET", "/api/me", nil); me.str("role") != "member" || me.str("email") != "bob@example.com" {
		t.Fatalf("bob changed: %s", me.raw)
	}
	if d := bob.must(200, "GET", "/api/docs/"+doc, nil); d.str("ownerId") != bob.id() || d.str("status") != "draft" || d.num("version") != 1 {
		t.Fatalf("doc changed: %s", d.raw)
	}
	if m := admin.must(200, "GET", "/api/spaces/eng/members", nil); !strings.Contains(string(m.raw), `"role":"editor"`) {
		t.Fatalf("bob's role changed: %s", m.raw)
	}
	if got := bob.must(200, "GET", "/api/docs?space=eng", nil).num("total"); got != 1 {
		t.Fatalf("refused creates stored documents: total %d", got)
	}
}

// Row 7: hostile ids never crash and never touch the filesystem.
func TestHostileIDs(t *testing.T) {
	_, ada, _ := adaSpace(t)
	for _, id := range []string{
		"..%2f..%2fetc%2fpasswd", "..%5c..%5cwindows", "%00", "a%00b", "%F0%9F%92%A9",
		strings.Repeat("a", 10_000), "..", ".", "%2e%2e", "ABCDEF", "a;b", "'%20OR%201=1",
	} {
		for _, path := range []string{"/api/docs/" + id, "/api/docs/" + id + "/html", "/api/spaces/" + id, "/api/docs/" + id + "/versions/1", "/api/tokens/" + id} {
			method := "GET"
			if strings.HasPrefix(path, "/api/tokens") {
				method = "DELETE"
			}
			r := ada.do(method, path, nil)
			if r.status != 404 && r.status != 400 {
				t.Errorf("%s %.60s = %d; want 404 or 400", method, path, r.status)
			}
		}
	}
	ada.must(400, "GET", "/api/docs/abc/versions/1e12", nil)
	r := ada.do("GET", "/api/docs?space=../../etc", nil)
	if r.status != 404 {
		t.Errorf("space=../../etc = %d; want 404", r.status)
	}
}

// Row 9: huge bodies, lying Content-Length and chunked streams are refused
// with 413 and memory stays flat; an oversized document leaves the stored
// one unchanged.
func TestBodyLimits(t *testing.T) {
	e, ada, _ := adaSpace(t)
	doc := ada.createDoc("eng", "Doc", "original")

	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)

	// A 100 MB chunked stream (unknown length).
	req, _ := http.NewRequest("POST", e.http.URL+"/api/docs/"+doc+"/edits", io.LimitReader(zeroReader{}, 100<<20))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", e.http.URL)
	req.ContentLength = -1
	resp, err := ada.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 413 {
		t.Errorf("chunked 100 MB = %d; want 413", resp.StatusCode)
	}
	// A declared 100 MB body.
	req, _ = http.NewRequest("POST", e.http.URL+"/api/docs", io.LimitReader(zeroReader{}, 100<<20))
	req.Header.Set("Content-Type", "application/json")
	req.ContentLength = 100 << 20
	resp, err = ada.hc.Do(req)
	if err == nil {
		resp.Body.Close()
		if resp.StatusCode != 413 {
			t.Errorf("declared 100 MB = %d; want 413", resp.StatusCode)
		}
	}
	// A lying Content-Length: says 10 bytes, sends more.
	r := ada.do("POST", "/api/docs/"+doc+"/edits", `{"version":1,"body":"`+strings.Repeat("x", 3<<20)+`"}`)
	if r.status != 413 {
		t.Errorf("3 MiB body document = %d; want 413", r.status)
	}
	// A document just over 1 MiB.
	big := strings.Repeat("y", 1<<20+1)
	if r := ada.do("POST", "/api/docs/"+doc+"/edits", map[string]any{"version": 1, "body": big}); r.status != 413 {
		t.Errorf("1 MiB + 1 document = %d; want 413", r.status)
	}
	if r := ada.do("POST", "/api/docs", map[string]any{"space": "eng", "title": "big", "body": big}); r.status != 413 {
		t.Errorf("create 1 MiB + 1 = %d; want 413", r.status)
	}
	// Growing past the limit with an op.
	if r := ada.do("POST", "/api/docs/"+doc+"/edits", map[string]any{"version": 1, "op": []any{8, strings.Repeat("z", 1<<20)}}); r.status != 413 {
		t.Errorf("op past 1 MiB = %d %.200s; want 413", r.status, r.raw)
	}
	var after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&after)
	if grown := int64(after.HeapAlloc) - int64(before.HeapAlloc); grown > 64<<20 {
		t.Errorf("heap grew by %d MB", grown>>20)
	}
	if d := ada.must(200, "GET", "/api/docs/"+doc, nil); d.str("body") != "original" || d.num("version") != 1 {
		t.Fatalf("document changed: %.200s", d.raw)
	}
	// Exactly 1 MiB is accepted.
	ada.must(200, "POST", "/api/docs/"+doc+"/edits", map[string]any{"version": 1, "body": big[:1<<20]})
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = ' '
	}
	return len(p), nil
}

// Row 10: GET never changes anything; logging out by an image link does
// not work.
func TestGetHasNoSideEffects(t *testing.T) {
	_, ada, _ := adaSpace(t)
	doc := ada.createDoc("eng", "Doc", "![](/api/auth/logout)")
	for _, path := range []string{"/api/auth/logout", "/api/auth/login", "/api/auth/signup", "/api/tokens?name=x", "/api/docs/" + doc + "/edits"} {
		r := ada.do("GET", path, nil)
		if r.status < 400 && path != "/api/tokens?name=x" {
			t.Errorf("GET %s = %d; want an error", path, r.status)
		}
	}
	ada.must(200, "GET", "/api/me", nil)
	if got := ada.must(200, "GET", "/api/tokens", nil).num("total"); got != 0 {
		t.Errorf("GET created %d tokens", got)
	}
}

// Row 11: cookie-authenticated unsafe requests from another origin are
// refused; bearer tokens are not affected.
func TestCrossOriginRefused(t *testing.T) {
	e, ada, _ := adaSpace(t)
	for _, tc := range []struct {
		name   string
		header map[string]string
		want   int
	}{
		{"evil origin", map[string]string{"Origin": "https://evil.example"}, 403},
		{"null origin", map[string]string{"Origin": "null"}, 403},
		{"cross-site fetch", map[string]string{"Sec-Fetch-Site": "cross-site"}, 403},
		{"evil referer", map[string]string{"Referer": "https://evil.example/page"}, 403},
		{"same origin", map[string]string{"Origin": e.http.URL}, 201},
		{"same-origin fetch", map[string]string{"Sec-Fetch-Site": "same-origin"}, 201},
		// A cookie with nothing that says where the request comes from
		// is not a page of this site: scripts use tokens.
		{"no origin at all", map[string]string{"Origin": ""}, 403},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.header {
				ada.header.Set(k, v)
			}
			defer func() { ada.header = http.Header{} }()
			r := ada.do("POST", "/api/docs", map[string]string{"space": "eng", "title": tc.name, "body": "x"})
			if r.status != tc.want {
				t.Fatalf("status = %d %s; want %d", r.status, r.raw, tc.want)
			}
		})
	}
	// Logout from another origin is refused too.
	ada.header.Set("Origin", "https://evil.example")
	ada.must(403, "POST", "/api/auth/logout", nil)
	ada.header = http.Header{}
	ada.must(200, "GET", "/api/me", nil)
	// A bearer token carries no ambient authority: no origin check.
	tok := ada.must(201, "POST", "/api/tokens", map[string]string{"name": "t"}).str("token")
	bot := e.client()
	bot.token = tok
	bot.header.Set("Origin", "https://evil.example")
	bot.must(201, "POST", "/api/docs", map[string]string{"space": "eng", "title": "bot", "body": "x"})
}

// Row 13: password guessing is limited per IP and per account, with the
// same answer for unknown and known accounts.
func TestLoginRateLimit(t *testing.T) {
	e := newEnv(t)
	e.signup("Ada")
	c := e.client()
	var statuses []int
	for i := 0; i < 40; i++ {
		r := c.do("POST", "/api/auth/login", map[string]string{"email": "ada@example.com", "password": fmt.Sprintf("guess-%d", i)})
		statuses = append(statuses, r.status)
		if r.status == 429 {
			if r.header.Get("Retry-After") == "" {
				t.Error("429 without Retry-After")
			}
			break
		}
	}
	if last := statuses[len(statuses)-1]; last != 429 || len(statuses) > 21 {
		t.Fatalf("statuses = %v; want 429 within 21 attempts", statuses)
	}
	// Even the right password is refused while limited.
	if r := c.do("POST", "/api/auth/login", map[string]string{"email": "ada@example.com", "password": "correct horse Ada"}); r.status != 429 {
		t.Fatalf("right password while limited = %d; want 429", r.status)
	}

	// Unknown and known accounts answer the same.
	e2 := newEnv(t)
	e2.signup("Ada")
	known := e2.client().do("POST", "/api/auth/login", map[string]string{"email": "ada@example.com", "password": "wrong password"})
	unknown := e2.client().do("POST", "/api/auth/login", map[string]string{"email": "nobody@example.com", "password": "wrong password"})
	if known.status != 401 || unknown.status != 401 || !bytes.Equal(known.raw, unknown.raw) {
		t.Fatalf("known = %d %s, unknown = %d %s; want identical 401s", known.status, known.raw, unknown.status, unknown.raw)
	}
}

// Row 13, per account: many IPs (behind a trusted proxy) guessing one
// account are stopped after a few failures.
func TestLoginRateLimitPerAccount(t *testing.T) {
	e := newEnv(t, func(c *server.Config) {
		c.TrustedProxies, _ = server.ParseTrustedProxies("127.0.0.1")
	})
	e.signup("Ada")
	limited := 0
	for i := 0; i < 15; i++ {
		c := e.client()
		c.header.Set("X-Forwarded-For", fmt.Sprintf("203.0.113.%d", i+1))
		r := c.do("POST", "/api/auth/login", map[string]string{"email": "ada@example.com", "password": "wrong"})
		if r.status == 429 {
			limited++
		}
	}
	if limited == 0 || limited > 5 {
		t.Fatalf("%d of 15 distributed guesses limited; want the ones after the 10th", limited)
	}
	// Without a trusted proxy, X-Forwarded-For is ignored: one IP.
	e2 := newEnv(t)
	e2.signup("Ada")
	var last int
	for i := 0; i < 25; i++ {
		c := e2.client()
		c.header.Set("X-Forwarded-For", fmt.Sprintf("203.0.113.%d", i+1))
		last = c.do("POST", "/api/auth/login", map[string]string{"email": fmt.Sprintf("user%d@example.com", i), "password": "wrong"}).status
	}
	if last != 429 {
		t.Fatalf("spoofed X-Forwarded-For escaped the per-IP limit: last status %d", last)
	}
}

var (
	dangerousTag  = regexp.MustCompile(`(?i)<\s*(script|iframe|object|embed|style|svg|form)`)
	eventHandler  = regexp.MustCompile(`(?i)\son[a-z]+\s*=`)
	styleAttr     = regexp.MustCompile(`(?i)\sstyle\s*=`)
	dangerousHref = regexp.MustCompile(`(?i)(href|src)\s*=\s*"\s*(javascript|data|vbscript):`)
)

// Rows 17-20 and 23: markdown is rendered safe through the API, and a
// front matter alias bomb is refused.
func TestRenderedHTMLIsSafe(t *testing.T) {
	_, ada, _ := adaSpace(t)
	body := strings.Join([]string{
		"# Title",
		"<script>alert(1)</script>",
		"<img src=x onerror=alert(1)>",
		"<iframe src=\"https://evil.example\"></iframe>",
		"<svg onload=alert(1)>",
		"[a](javascript:alert(1)) [b](javascript&colon;alert(1)) [c](&#106;avascript:alert(1))",
		"[d](data:text/html;base64,PHNjcmlwdD4=) [e](vbscript:msgbox) [f](java\tscript:alert(1))",
		"<a href=\"#\" style=\"position:fixed;top:0;left:0;width:100%;height:100%\">x</a>",
		"<div style=\"position:fixed\">overlay</div>",
		"<embed src=x> <object data=x></object>",
		"```mermaid\ngraph TD; A-->B; click A callback \"<script>alert(1)</script>\"\n```",
		"[ok](https://example.com)",
	}, "\n\n")
	doc := ada.createDoc("eng", "XSS", body)
	r := ada.must(200, "GET", "/api/docs/"+doc+"/html", nil)
	html := string(r.raw)
	for _, re := range []*regexp.Regexp{dangerousTag, eventHandler, styleAttr, dangerousHref} {
		if m := re.FindString(html); m != "" {
			t.Errorf("rendered HTML contains %q:\n%s", m, html)
		}
	}
	if !strings.Contains(html, `href="https://example.com"`) {
		t.Errorf("safe link lost:\n%s", html)
	}
	csp := r.header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'self'", "script-src 'self'", "style-src 'self'", "object-src 'none'", "frame-ancestors 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe-inline") {
		t.Errorf("CSP allows inline: %q", csp)
	}
	if got := r.header.Get("X-Content-Type-Options"); got != "nosniff" {
		t.Errorf("X-Content-Type-Options = %q", got)
	}

	bomb := "---\na: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\ng: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n---\n# Bomb\n"
	start := time.Now()
	r = ada.do("POST", "/api/docs", map[string]any{"space": "eng", "body": bomb})
	if r.status != 400 {
		t.Fatalf("alias bomb = %d %s; want 400", r.status, r.raw)
	}
	if time.Since(start) > 5*time.Second {
		t.Errorf("alias bomb took %s", time.Since(start))
	}
	if got := ada.must(200, "GET", "/api/docs?space=eng", nil).num("total"); got != 1 {
		t.Errorf("bomb stored: %d documents", got)
	}
	ada.must(400, "POST", "/api/docs/"+doc+"/edits", map[string]any{"version": 1, "body": bomb})
}

// Row 25: HTML in names and titles comes back as data, never markup.
func TestHTMLInNamesIsData(t *testing.T) {
	e := newEnv(t)
	c := e.client()
	r := c.must(201, "POST", "/api/auth/signup", map[string]string{"name": "<img src=x onerror=alert(1)>", "email": "x@example.com", "password": "long enough"})
	if strings.Contains(string(r.raw), "<img") {
		t.Fatalf("name not escaped in JSON: %s", r.raw)
	}
	if got := r.str("name"); got != "<img src=x onerror=alert(1)>" {
		t.Fatalf("name = %q; want it stored as written", got)
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("Content-Type = %q", ct)
	}
	c.createSpace("eng")
	doc := c.createDoc("eng", "<script>alert(1)</script>", "body")
	if raw := c.must(200, "GET", "/api/docs/"+doc, nil).raw; strings.Contains(string(raw), "<script>") {
		t.Fatalf("title not escaped: %s", raw)
	}
}

func TestHTMLGzipAndCache(t *testing.T) {
	e, ada, _ := adaSpace(t)
	doc := ada.createDoc("eng", "Doc", strings.Repeat("Some *markdown* text.\n\n", 500))
	req, _ := http.NewRequest("GET", e.http.URL+"/api/docs/"+doc+"/html", nil)
	req.Header.Set("Accept-Encoding", "gzip")
	tr := &http.Transport{DisableCompression: true}
	client := &http.Client{Transport: tr, Jar: ada.hc.Jar}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.Header.Get("Content-Encoding") != "gzip" || len(raw) > 2000 {
		t.Fatalf("gzip response: encoding %q, %d bytes", resp.Header.Get("Content-Encoding"), len(raw))
	}
	// After an edit the new version is served.
	ada.must(200, "POST", "/api/docs/"+doc+"/edits", map[string]any{"version": 1, "body": "**new**"})
	if got := string(ada.must(200, "GET", "/api/docs/"+doc+"/html", nil).raw); !strings.Contains(got, "<strong>new</strong>") {
		t.Fatalf("stale html after edit: %.200s", got)
	}
}

// The CSP lets in style elements carrying the response's own nonce (the
// editor's style sheets) and nothing else inline; the nonce is fresh for
// every response and is what the page hands its script.
func TestCSPStyleNonce(t *testing.T) {
	e := newEnv(t)
	ada := e.signup("Ada")
	r1 := ada.must(http.StatusOK, "GET", "/", nil)
	r2 := ada.must(http.StatusOK, "GET", "/", nil)
	nonceOf := func(r *response) string {
		csp := r.header.Get("Content-Security-Policy")
		_, rest, ok := strings.Cut(csp, "style-src 'self' 'nonce-")
		if !ok || !strings.Contains(csp, "script-src 'self';") {
			t.Fatalf("CSP = %q", csp)
		}
		nonce, _, _ := strings.Cut(rest, "'")
		return nonce
	}
	n1, n2 := nonceOf(r1), nonceOf(r2)
	if len(n1) < 20 || n1 == n2 {
		t.Errorf("nonces %q and %q: want long and fresh", n1, n2)
	}
	if !strings.Contains(string(r1.raw), `<meta name="csp-nonce" content="`+n1+`">`) {
		t.Errorf("page lacks its nonce %q", n1)
	}
}
