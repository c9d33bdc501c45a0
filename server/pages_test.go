package server_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	docket "github.com/docket-dev/docket"
	"github.com/docket-dev/docket/server"
	"golang.org/x/net/html"
)

// pageFixture is a space "eng" of Ada (site admin) with a document.
type pageFixture struct {
	e     *env
	ada   *client
	space string
	doc   string
}

func newPageFixture(t *testing.T, cfg ...func(*server.Config)) *pageFixture {
	t.Helper()
	e := newEnv(t, cfg...)
	ada := e.signup("Ada")
	space := ada.createSpace("eng")
	doc := ada.createDoc(space, "Storage engine", "# Storage engine\n\nUse **bbolt**.\n")
	return &pageFixture{e: e, ada: ada, space: space, doc: doc}
}

func TestPagesRender(t *testing.T) {
	f := newPageFixture(t)
	f.ada.must(http.StatusOK, "POST", "/api/docs/"+f.doc+"/edits", map[string]any{"version": 1, "body": "# Storage engine\n\nUse **bbolt** for everything.\n"})
	th := f.ada.must(http.StatusCreated, "POST", "/api/docs/"+f.doc+"/threads", map[string]any{
		"anchor": map[string]any{"version": 2, "start": 24, "end": 29}, "body": "Why *bbolt*?",
	}).str("id")
	d := "/d/" + f.doc
	for _, tc := range []struct {
		path string
		want []string
	}{
		{"/", []string{"Hello, Ada", `id="home-inbox"`, "Recent documents", `href="/d/` + f.doc + `"`, "Storage engine"}},
		{"/inbox", []string{"<h1 class=\"page-title\">Inbox</h1>", `action="/inbox/read"`}},
		{"/spaces", []string{`href="/s/eng"`, `action="/spaces"`}},
		{"/s/eng", []string{"Storage engine", `aria-current="page">All <span class="count">1</span>`, `href="/s/eng?status=draft"`, `action="/s/eng/new"`}},
		{"/s/eng?status=draft", []string{`href="/s/eng?status=draft" aria-current="page"`, "Storage engine"}},
		{"/s/eng?status=accepted", []string{"No documents are accepted."}},
		{"/s/eng/new", []string{`<textarea id="new-body" name="body"`, `<option value="rfc">RFC</option>`}},
		{"/s/eng/settings", []string{"ada@example.com", `action="/s/eng/settings/members"`, `action="/s/eng/settings/webhooks"`}},
		{d, []string{
			`<main id="doc" class="page" data-doc-id="` + f.doc + `" data-version="2" data-role="admin" data-user-id="` + f.ada.id() + `" data-user-name="Ada" data-event-seq="`,
			`<textarea id="doc-source" name="body"`, "Use **bbolt** for everything.\n</textarea>",
			`<article id="doc-html"`, "<strong>bbolt</strong> for everything",
			`<section id="threads"`, `<article class="thread is-open" id="t-` + th + `" data-start="24" data-end="29" data-status="open"`,
			`<blockquote class="quote">bbolt</blockquote>`, "<em>bbolt</em>",
			`<section id="review"`, `<span class="badge status-draft">Draft</span>`,
			`<input type="hidden" name="to" value="review">`, `value="withdrawn">Withdraw</button>`,
			`action="` + d + `/threads/` + th + `/comments"`, `action="` + d + `/threads/` + th + `/resolve"`,
		}},
		{d + "/history", []string{"<th scope=\"row\">2</th>", "<th scope=\"row\">1</th>", `href="` + d + `/history?v=2#replay"`, `href="` + d + `/history?from=1&amp;to=2#diff-h"`}},
		{d + "/history?v=1", []string{"<strong>Version 1</strong>", `id="replay-text"`, "<strong>bbolt</strong>.</p>"}},
		{d + "/history?v=2&view=source", []string{"<strong>Version 2</strong>", "Use **bbolt**<ins> for everything</ins>.", "Markdown with the change"}},
		{d + "/history?from=1&to=2", []string{"Changes from version 1 to 2", `diff-line diff-del`, `diff-line diff-add`, "for everything."}},
		{d + "/minutes", []string{"Minutes: Storage engine", "None yet: minutes are frozen"}},
		{"/settings", []string{`<option selected>UTC</option>`, "<option>Europe/Berlin</option>", `<optgroup label="America">`, `action="/settings/tokens"`}},
	} {
		t.Run(tc.path, func(t *testing.T) {
			p := f.ada.page(tc.path)
			if p.status != http.StatusOK {
				t.Fatalf("GET %s = %d; want 200\n%s", tc.path, p.status, p.body)
			}
			if ct := p.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
				t.Errorf("Content-Type = %q; want text/html", ct)
			}
			if csp := p.header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
				t.Errorf("CSP = %q", csp)
			}
			p.has(t, tc.want...)
			p.hasNot(t, "ZgotmplZ")
			for _, bad := range unsafeMarkup(p.body) {
				t.Errorf("unsafe markup: %s", bad)
			}
			checkLabels(t, p.body)
		})
	}
}

// unsafeMarkup parses a page and lists what in its markup could run
// script: inline scripts, scripts from elsewhere, event handler attributes,
// javascript: URLs, style attributes and elements. Hostile text escaped
// into text nodes is fine and not reported.
func unsafeMarkup(body string) []string {
	doc, err := html.Parse(strings.NewReader(body))
	if err != nil {
		return []string{"does not parse: " + err.Error()}
	}
	var bad []string
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			switch n.Data {
			case "script":
				src := ""
				for _, a := range n.Attr {
					if a.Key == "src" {
						src = a.Val
					}
				}
				if !strings.HasPrefix(src, "/assets/") || n.FirstChild != nil {
					bad = append(bad, "script element (src "+src+")")
				}
			case "style", "iframe", "object", "embed", "base":
				bad = append(bad, n.Data+" element")
			}
			for _, a := range n.Attr {
				key, val := strings.ToLower(a.Key), strings.ToLower(strings.TrimSpace(a.Val))
				switch {
				case strings.HasPrefix(key, "on"):
					bad = append(bad, "attribute "+a.Key+"="+a.Val)
				case key == "style":
					bad = append(bad, "style attribute")
				case (key == "href" || key == "src" || key == "action" || key == "formaction") &&
					(strings.HasPrefix(val, "javascript:") || strings.HasPrefix(val, "data:text")):
					bad = append(bad, key+"="+a.Val)
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	return bad
}

var (
	inputRE = regexp.MustCompile(`<(input|select|textarea)\b[^>]*>`)
	idRE    = regexp.MustCompile(`\bid="([^"]+)"`)
)

// checkLabels fails the test for a form control without a label: every
// input (but hidden ones and those wrapped in their label), select and
// textarea has an id that a <label for> names.
func checkLabels(t *testing.T, body string) {
	t.Helper()
	for _, m := range inputRE.FindAllStringIndex(body, -1) {
		tag := body[m[0]:m[1]]
		if strings.Contains(tag, `type="hidden"`) || strings.Contains(tag, " hidden") {
			continue
		}
		before := body[max(0, m[0]-200):m[0]]
		if i := strings.LastIndex(before, "<label"); i >= 0 && !strings.Contains(before[i:], "</label>") {
			continue // inside its label
		}
		id := idRE.FindStringSubmatch(tag)
		if id == nil {
			t.Errorf("control without id or wrapping label: %s", tag)
			continue
		}
		if !strings.Contains(body, `for="`+id[1]+`"`) {
			t.Errorf("control %q has no label", id[1])
		}
	}
}

func TestPagesErrors(t *testing.T) {
	f := newPageFixture(t)
	bob := f.e.signup("Bob")
	for _, tc := range []struct {
		c      *client
		path   string
		status int
		want   string
	}{
		{f.ada, "/nope", http.StatusNotFound, "Not found"},
		{f.ada, "/d/nosuchdocument", http.StatusNotFound, "Not found"},
		{f.ada, "/d/NOT-AN-ID", http.StatusNotFound, "Not found"},
		{f.ada, "/s/nope", http.StatusNotFound, "Not found"},
		{f.ada, "/d/" + f.doc + "/history?v=99", http.StatusBadRequest, "v must be a version between 0 and 1."},
		// Bob is no member: the space and its document do not exist for him.
		{bob, "/d/" + f.doc, http.StatusNotFound, "Not found"},
		{bob, "/d/" + f.doc + "/history", http.StatusNotFound, "Not found"},
		{bob, "/d/" + f.doc + "/minutes", http.StatusNotFound, "Not found"},
		{bob, "/s/eng", http.StatusNotFound, "Not found"},
		{bob, "/s/eng/settings", http.StatusNotFound, "Not found"},
	} {
		p := tc.c.page(tc.path)
		if p.status != tc.status {
			t.Errorf("GET %s = %d; want %d", tc.path, p.status, tc.status)
			continue
		}
		if ct := p.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
			t.Errorf("GET %s: Content-Type = %q; want an HTML error page", tc.path, ct)
		}
		p.has(t, tc.want, `<p class="error-code">`)
		p.hasNot(t, "Storage engine")
	}
	// The API keeps answering JSON.
	r := bob.do("GET", "/api/docs/"+f.doc, nil)
	if r.status != http.StatusNotFound || r.errCode() != docket.ENOTFOUND {
		t.Errorf("API = %d %s; want 404 JSON", r.status, r.raw)
	}

	// A viewer reads the document but may not administer the space.
	f.ada.addMember(f.space, bob, docket.RoleViewer)
	p := bob.pageOK("/d/" + f.doc)
	p.has(t, `data-role="viewer"`, "Use <strong>bbolt</strong>.")
	p.hasNot(t, `id="edit-form"`, `id="doc-source"`, `class="reply-form"`, `class="stack new-thread"`, `action="/d/`+f.doc+`/transition"`, `action="/d/`+f.doc+`/meta"`)
	if p := bob.page("/s/eng/settings"); p.status != http.StatusForbidden {
		t.Errorf("viewer's space settings = %d; want 403", p.status)
	} else {
		p.has(t, "Only the admins of eng manage its members")
	}
	if p := bob.page("/s/eng/new"); p.status != http.StatusForbidden {
		t.Errorf("viewer's new document form = %d; want 403", p.status)
	}
}

func TestPagesSignedOut(t *testing.T) {
	f := newPageFixture(t)
	anon := f.e.client()
	for _, tc := range []struct {
		path, location string
	}{
		{"/inbox", "/login?next=%2Finbox"},
		{"/d/" + f.doc, "/login?next=%2Fd%2F" + f.doc},
		{"/search?q=a+b", "/login?next=%2Fsearch%3Fq%3Da%2Bb"},
		{"/s/eng", "/login?next=%2Fs%2Feng"},
		{"/settings", "/login?next=%2Fsettings"},
	} {
		p := anon.page(tc.path)
		if p.status != http.StatusSeeOther || p.location != tc.location {
			t.Errorf("GET %s = %d to %q; want 303 to %q", tc.path, p.status, p.location, tc.location)
		}
	}
	anon.pageOK("/").has(t, `href="/login"`, `href="/signup"`, "Documents instead of meetings")
	anon.pageOK("/signup").has(t, `action="/signup"`, `autocomplete="new-password"`)

	// Where sign-in sends people back to.
	for _, tc := range []struct{ next, want string }{
		{"/d/" + f.doc, "/d/" + f.doc},
		{"/search?q=x", "/search?q=x"},
		{"https://evil.example/", "/"},
		{"//evil.example/x", "/"},
		{"/\\evil.example", "/"},
		{"javascript:alert(1)", "/"},
		{"", "/"},
	} {
		c := f.e.client()
		page := c.pageOK("/login?next=" + url.QueryEscape(tc.next))
		page.has(t, `name="next" value="`+strings.ReplaceAll(tc.want, "&", "&amp;")+`"`)
		p := c.submitRaw("/login", formValues("csrf", page.csrf(t), "email", "ada@example.com", "password", "correct horse Ada", "next", tc.next))
		if p.status != http.StatusSeeOther || p.location != tc.want {
			t.Errorf("login with next=%q = %d to %q; want 303 to %q", tc.next, p.status, p.location, tc.want)
		}
	}
}

func TestPagesAccount(t *testing.T) {
	f := newPageFixture(t)
	c := f.e.client()

	// Sign up through the form: signed in, then home.
	p := c.submit("/signup", "/signup", formValues("name", "Bob", "email", "bob@example.com", "password", "correct horse Bob"))
	p.mustSeeOther(t, "/")
	c.pageOK("/").has(t, "Hello, Bob")
	c.user = c.must(http.StatusOK, "GET", "/api/me", nil).body
	p = c.submit("/settings", "/logout", url.Values{})
	p.mustSeeOther(t, "/login")
	if p := c.page("/inbox"); p.status != http.StatusSeeOther {
		t.Fatalf("after sign-out /inbox = %d; want a redirect to sign in", p.status)
	}

	// A failed sign-in shows the form again with the message and the email.
	p = c.submit("/login", "/login", formValues("email", "bob@example.com", "password", "wrong"))
	if p.status != http.StatusUnauthorized {
		t.Fatalf("bad login = %d; want 401", p.status)
	}
	p.has(t, `role="alert"`, `value="bob@example.com"`)
	p = c.submit("/login", "/login", formValues("email", "bob@example.com", "password", "correct horse Bob"))
	p.mustSeeOther(t, "/")

	// A sign-up that fails keeps what was typed, never the password.
	d := f.e.client()
	p = d.submit("/signup", "/signup", formValues("name", "Bob Two", "email", "bob@example.com", "password", "another long one"))
	if p.status != http.StatusConflict {
		t.Fatalf("sign-up with a taken email = %d; want 409", p.status)
	}
	p.has(t, `value="Bob Two"`, `role="alert"`)
	p.hasNot(t, "another long one")

	// Account settings: name and time zone; times follow the zone.
	p = c.submit("/settings", "/settings/account", formValues("name", "Robert", "timeZone", "Asia/Tokyo"))
	p.mustSeeOther(t, "/settings?done=account")
	page := c.pageOK("/settings?done=account")
	page.has(t, "Your account is saved.", `value="Robert"`, `<option selected>Asia/Tokyo</option>`)
	p = c.submit("/settings", "/settings/account", formValues("name", "Robert", "timeZone", "Mars/Olympus"))
	if p.status != http.StatusBadRequest {
		t.Fatalf("unknown time zone = %d; want 400", p.status)
	}
	p.has(t, "Mars/Olympus", "is not known")
	f.ada.addMember(f.space, c, docket.RoleViewer)
	doc := f.ada.do("GET", "/api/docs/"+f.doc, nil)
	created, _ := time.Parse(time.RFC3339, doc.str("updatedAt"))
	tokyo, _ := time.LoadLocation("Asia/Tokyo")
	c.pageOK("/d/"+f.doc).has(t, `<time datetime="`+created.UTC().Format(time.RFC3339)+`" title="`, `">`+created.In(tokyo).Format("2 Jan 2006, 15:04")+`</time>`)

	// API tokens: the secret is shown once and works; deleting revokes it.
	p = c.submit("/settings", "/settings/tokens", formValues("name", "deploy <script>"))
	if p.status != http.StatusCreated {
		t.Fatalf("token create = %d\n%s", p.status, p.body)
	}
	secret := regexp.MustCompile(`<code class="secret-value">([^<]+)</code>`).FindStringSubmatch(p.body)
	if secret == nil {
		t.Fatalf("no secret shown:\n%s", p.body)
	}
	p.has(t, "deploy &lt;script&gt;")
	bearer := f.e.client()
	bearer.token = secret[1]
	if r := bearer.do("GET", "/api/me", nil); r.status != http.StatusOK || r.str("name") != "Robert" {
		t.Fatalf("token = %d %s", r.status, r.raw)
	}
	page = c.pageOK("/settings")
	page.hasNot(t, secret[1])
	id := regexp.MustCompile(`action="/settings/tokens/([a-z0-9]+)/delete"`).FindStringSubmatch(page.body)
	if id == nil {
		t.Fatal("no delete form for the token")
	}
	c.submit("/settings", "/settings/tokens/"+id[1]+"/delete", url.Values{}).mustSeeOther(t, "/settings?done=token-deleted")
	if r := bearer.do("GET", "/api/me", nil); r.status != http.StatusUnauthorized {
		t.Errorf("deleted token = %d; want 401", r.status)
	}

	// Password: the current one is needed.
	p = c.submit("/settings", "/settings/password", formValues("current", "wrong", "new", "brand new horse"))
	if p.status != http.StatusForbidden {
		t.Fatalf("password change with a wrong password = %d; want 403", p.status)
	}
	c.submit("/settings", "/settings/password", formValues("current", "correct horse Bob", "new", "brand new horse")).mustSeeOther(t, "/settings?done=password")
	c.pageOK("/settings") // still signed in
	if r := f.e.client().do("POST", "/api/auth/login", map[string]string{"email": "bob@example.com", "password": "brand new horse"}); r.status != http.StatusOK {
		t.Errorf("login with the new password = %d", r.status)
	}
}

func TestPagesCSRF(t *testing.T) {
	f := newPageFixture(t)
	th := f.ada.must(http.StatusCreated, "POST", "/api/docs/"+f.doc+"/threads", map[string]any{"body": "First"}).str("id")
	mallory := f.e.signup("Mallory")
	otherToken := mallory.pageOK("/").csrf(t)
	d := "/d/" + f.doc
	posts := []struct {
		path string
		vals url.Values
	}{
		{d + "/threads", formValues("body", "forged thread")},
		{d + "/threads/" + th + "/comments", formValues("body", "forged reply")},
		{d + "/threads/" + th + "/resolve", url.Values{}},
		{d + "/edit", formValues("version", "1", "body", "forged text")},
		{d + "/meta", formValues("title", "Forged", "kind", "rfc")},
		{d + "/transition", formValues("to", "withdrawn")},
		{"/spaces", formValues("slug", "forged", "name", "Forged")},
		{"/s/eng/new", formValues("title", "Forged")},
		{"/s/eng/settings/members", formValues("email", "mallory@example.com", "role", "admin")},
		{"/settings/account", formValues("name", "Forged")},
		{"/settings/tokens", formValues("name", "forged")},
		{"/inbox/read", formValues("all", "1")},
		{"/logout", url.Values{}},
	}
	for _, tc := range posts {
		for _, token := range []string{"", "nonsense", otherToken} {
			vals := url.Values{}
			for k, v := range tc.vals {
				vals[k] = v
			}
			if token != "" {
				vals.Set("csrf", token)
			}
			p := f.ada.submitRaw(tc.path, vals)
			if p.status != http.StatusForbidden {
				t.Errorf("POST %s with csrf %q = %d; want 403", tc.path, token, p.status)
			}
		}
	}
	// Nothing changed, and Ada is still signed in.
	doc := f.ada.must(http.StatusOK, "GET", "/api/docs/"+f.doc, nil)
	if doc.str("title") != "Storage engine" || doc.num("version") != 1 || doc.str("status") != "draft" {
		t.Errorf("document after forged posts: %s", doc.raw)
	}
	threads := f.ada.must(http.StatusOK, "GET", "/api/docs/"+f.doc+"/threads", nil)
	if threads.num("total") != 1 || strings.Contains(string(threads.raw), "forged") || strings.Contains(string(threads.raw), `"resolved"`) {
		t.Errorf("threads after forged posts: %s", threads.raw)
	}
	if r := f.ada.do("GET", "/api/spaces/forged", nil); r.status != http.StatusNotFound {
		t.Errorf("forged space = %d", r.status)
	}
	// The right token from another origin is refused too (Origin check).
	req := formValues("body", "cross-site", "csrf", f.ada.pageOK("/").csrf(t))
	p := f.ada.submitRaw(d+"/threads", req)
	if p.status != http.StatusSeeOther {
		t.Fatalf("same-origin post with the token = %d; want 303", p.status)
	}
	hc := f.ada.noFollow()
	r, err := http.NewRequest("POST", f.e.http.URL+d+"/threads", strings.NewReader(req.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("Origin", "https://evil.example")
	resp, err := hc.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("cross-origin post with the token = %d; want 403", resp.StatusCode)
	}
}

func TestPagesEscaping(t *testing.T) {
	e := newEnv(t)
	eve := e.signup("Eve")
	eve.must(http.StatusOK, "PATCH", "/api/me", map[string]string{"name": `<b onmouseover="alert(4)">Eve</b>`})
	space := eve.must(http.StatusCreated, "POST", "/api/spaces", map[string]string{"slug": "evil", "name": "<script>alert(0)</script>"}).str("id")
	bob := e.signup("Bob")
	eve.addMember(space, bob, docket.RoleEditor)
	hostile := "<script>alert(1)</script>"
	doc := eve.must(http.StatusCreated, "POST", "/api/docs", map[string]any{
		"space": space, "title": hostile, "kind": "rfc", "tags": []string{"x\"onload"},
		"body": "Hello <script>alert(2)</script> <img src=x onerror=alert(3)> [a](javascript:alert(5)) needle\n",
	}).str("id")
	th := eve.must(http.StatusCreated, "POST", "/api/docs/"+doc+"/threads", map[string]any{
		"body": "<script>alert(6)</script> needle <img src=x onerror=alert(7)>",
	}).str("id")
	bob.must(http.StatusCreated, "POST", "/api/threads/"+th+"/comments", map[string]any{"body": "reply @eve needle"})
	eve.waitSearch("needle", func(r searchResult) bool { return r.Total >= 2 })
	pages := []string{"/", "/inbox", "/spaces", "/s/evil", "/s/evil/settings", "/d/" + doc, "/d/" + doc + "/history", "/d/" + doc + "/history?v=1",
		"/d/" + doc + "/minutes", "/search?q=needle", "/search?q=" + url.QueryEscape(hostile)}
	for _, path := range pages {
		for _, c := range []*client{eve, bob} {
			p := c.page(path)
			if p.status != http.StatusOK && !(c == bob && p.status == http.StatusForbidden) {
				t.Errorf("GET %s = %d", path, p.status)
				continue
			}
			for _, bad := range unsafeMarkup(p.body) {
				t.Errorf("GET %s as %s: %s", path, c.user["email"], bad)
			}
		}
	}
	eve.pageOK("/d/"+doc).has(t, "&lt;script&gt;alert(1)&lt;/script&gt;", "&lt;b onmouseover=&#34;alert(4)&#34;&gt;Eve&lt;/b&gt;")
	eve.pageOK("/search?q=needle").has(t, "<mark>needle</mark>", "&lt;script&gt;alert(1)&lt;/script&gt;</a>")
}

func TestPagesDocumentForms(t *testing.T) {
	clock := newTestClock()
	f := newPageFixture(t, func(c *server.Config) { c.Now = clock.Now })
	bob := f.e.signup("Bob")
	f.ada.addMember(f.space, bob, docket.RoleEditor)
	f.ada.must(http.StatusOK, "PATCH", "/api/me", map[string]string{"timeZone": "Europe/Berlin"})
	d := "/d/" + f.doc
	body := func() string {
		return f.ada.must(http.StatusOK, "GET", "/api/docs/"+f.doc, nil).str("body")
	}

	// Edit: CRLF from the browser becomes LF; an edit written at an old
	// version merges with what was written since.
	f.ada.submit(d, d+"/edit", formValues("version", "1", "body", "# Storage engine\r\n\r\nUse **bbolt**.\r\n\r\nMore.\r\n")).mustSeeOther(t, d+"?done=saved")
	if got, want := body(), "# Storage engine\n\nUse **bbolt**.\n\nMore.\n"; got != want {
		t.Fatalf("body = %q; want %q", got, want)
	}
	bob.must(http.StatusOK, "POST", "/api/docs/"+f.doc+"/edits", map[string]any{"version": 2, "op": []any{"Intro. "}})
	f.ada.submit(d, d+"/edit", formValues("version", "2", "body", "# Storage engine\n\nUse **bbolt**.\n\nMore.\n\nEven more.\n")).mustSeeOther(t, d)
	if got, want := body(), "Intro. # Storage engine\n\nUse **bbolt**.\n\nMore.\n\nEven more.\n"; got != want {
		t.Fatalf("merged body = %q; want %q", got, want)
	}
	// A failed edit shows the typed text again with the reason.
	p := f.ada.submit(d, d+"/edit", formValues("version", "x", "body", "typed text"))
	if p.status != http.StatusBadRequest {
		t.Fatalf("edit without a version = %d; want 400", p.status)
	}
	p.has(t, "The form lost the version", "typed text</textarea>", `<details class="edit-details" open>`)
	// Otherwise the no-JS editor waits in a closed <details>.
	f.ada.pageOK(d).has(t, `<details class="edit-details">`, `id="doc-source"`)

	// Title, kind and tags.
	f.ada.submit(d, d+"/meta", formValues("title", "Storage engine v2", "kind", "notes", "tags", "storage, backend")).mustSeeOther(t, d)
	page := f.ada.pageOK(d)
	page.has(t, "Storage engine v2</h1>", `href="/search?tag=storage"`, `<option value="notes" selected>Notes</option>`)

	// Threads: start, reply, resolve, reopen; an empty reply is refused
	// with the message.
	p = f.ada.submit(d, d+"/threads", formValues("body", "Which **version**?"))
	p.mustSeeOther(t, d+"#t-")
	th := strings.TrimPrefix(p.location, d+"#t-")
	bob.submit(d, d+"/threads/"+th+"/comments", formValues("body", "The latest.")).mustSeeOther(t, d+"#t-"+th)
	p = bob.submit(d, d+"/threads/"+th+"/comments", formValues("body", "   "))
	if p.status != http.StatusBadRequest {
		t.Fatalf("empty reply = %d; want 400", p.status)
	}
	p.has(t, `<p class="form-error" role="alert">`)
	f.ada.submit(d, d+"/threads/"+th+"/resolve", formValues("note", "Latest it is.")).mustSeeOther(t, d+"#t-"+th)
	page = f.ada.pageOK(d)
	page.has(t, `id="t-`+th+`" data-start="" data-end="" data-status="resolved"`, "Latest it is.", "The latest.", `action="`+d+`/threads/`+th+`/reopen"`)
	f.ada.submit(d, d+"/threads/"+th+"/reopen", url.Values{}).mustSeeOther(t, d+"#t-"+th)
	f.ada.submit(d, d+"/threads/"+th+"/resolve", url.Values{}).mustSeeOther(t, d)
	// A thread of another document is not found through this one.
	other := f.ada.createDoc(f.space, "Other", "Other text.")
	if p := f.ada.submit(d, "/d/"+other+"/threads/"+th+"/resolve", url.Values{}); p.status != http.StatusNotFound {
		t.Errorf("thread through another document = %d; want 404", p.status)
	}

	// Review: the deadline is read in Ada's time zone. The last call is
	// shorter than the default minimum.
	f.ada.setRules(f.space, relaxedRules)
	berlin, _ := time.LoadLocation("Europe/Berlin")
	week := clock.Now().In(berlin).AddDate(0, 0, 7)
	due := time.Date(week.Year(), week.Month(), week.Day(), 17, 0, 0, 0, berlin)
	p = f.ada.submit(d, d+"/transition", formValues("to", "review", "reviewers", bob.id(), "due", due.Format("2006-01-02T15:04")))
	p.mustSeeOther(t, d+"#review")
	lc := f.ada.must(http.StatusOK, "GET", "/api/docs/"+f.doc+"/lifecycle", nil)
	if got, want := lc.str("due"), due.UTC().Format(time.RFC3339); got != want {
		t.Errorf("due = %s; want %s (17:00 in Berlin)", got, want)
	}
	page = f.ada.pageOK(d)
	page.has(t, `<span class="badge status-review">Review</span>`, due.Format("2 Jan 2006")+", 17:00", "data-countdown", "Waiting")
	page.hasNot(t, `value="last-call"><button`) // no forms of transitions not allowed
	// Bob raises a concern: it blocks the last call, and the page says so.
	p = bob.submit(d, d+"/reviews", formValues("verdict", "concern", "body", "What about **backups**?"))
	p.mustSeeOther(t, d+"#t-")
	concern := strings.TrimPrefix(p.location, d+"#t-")
	page = f.ada.pageOK(d)
	page.has(t, "Last call: 1 unresolved concern blocks the last call.", `href="#t-`+concern+`"`, `<span class="badge verdict-concern">Concern</span>`)
	page.hasNot(t, `<input type="hidden" name="to" value="last-call">`)
	lastCall := due.AddDate(0, 0, 3).Format("2006-01-02T15:04")
	p = f.ada.submit(d, d+"/transition", formValues("to", "last-call", "due", lastCall))
	if p.status != http.StatusConflict {
		t.Fatalf("last call with an open concern = %d; want 409", p.status)
	}
	p.has(t, `<p class="alert" role="alert">1 unresolved concern blocks the last call.</p>`)
	// A past deadline is refused with the reason.
	f.ada.submit(d, d+"/threads/"+concern+"/resolve", url.Values{}).mustSeeOther(t, d)
	p = f.ada.submit(d, d+"/transition", formValues("to", "last-call", "due", "2001-01-01T00:00"))
	if p.status != http.StatusBadRequest {
		t.Fatalf("last call in the past = %d; want 400", p.status)
	}
	p.has(t, "The deadline must be in the future.")
	f.ada.submit(d, d+"/transition", formValues("to", "last-call", "due", due.AddDate(0, 0, 3).Format(time.DateOnly))).mustSeeOther(t, d)
	lc = f.ada.must(http.StatusOK, "GET", "/api/docs/"+f.doc+"/lifecycle", nil)
	endOfDay := time.Date(due.Year(), due.Month(), due.Day()+3, 23, 59, 0, 0, berlin)
	if got, want := lc.str("due"), endOfDay.UTC().Format(time.RFC3339); got != want {
		t.Errorf("last call due = %s; want %s (the end of the day in Berlin)", got, want)
	}
	bob.submit(d, d+"/reviews", formValues("verdict", "approve")).mustSeeOther(t, d+"#review")
	// Accepting needs a summary.
	p = f.ada.submit(d, d+"/transition", formValues("to", "accepted", "summary", " "))
	if p.status != http.StatusBadRequest {
		t.Fatalf("decision without summary = %d; want 400", p.status)
	}
	f.ada.submit(d, d+"/transition", formValues("to", "accepted", "summary", "Ship it.\nBackups nightly.")).mustSeeOther(t, d)
	page = f.ada.pageOK(d)
	page.has(t, `<div class="decision outcome-accepted" id="decision">`, "<strong>Accepted</strong> by Ada", "Ship it.\nBackups nightly.", `href="`+d+`/minutes"`)
	minutes := f.ada.pageOK(d + "/minutes")
	minutes.has(t, "Ship it.", `href="`+d+`/minutes?record=`, "frozen when the decision was recorded")
	// The minutes' instants (UTC in the markdown) read in Ada's zone.
	if !regexp.MustCompile(`(?s)id="minutes".*<time datetime="\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z" title="[^"]+ CET">`).MatchString(minutes.body) {
		t.Errorf("minutes show no <time> in Berlin time:\n%s", minutes.body)
	}
	if utc := regexp.MustCompile(`>[^<]*(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z|\d{2}:\d{2} UTC)`).FindString(minutes.body); utc != "" {
		t.Errorf("minutes show a UTC instant: %s", utc)
	}

	// Hand-off to Bob; Ada, no longer the owner but a space admin, still
	// sees the process forms.
	f.ada.submit(d, d+"/owner", formValues("user", bob.id())).mustSeeOther(t, d+"#review")
	if got := f.ada.must(http.StatusOK, "GET", "/api/docs/"+f.doc, nil).str("ownerId"); got != bob.id() {
		t.Errorf("owner = %s; want Bob", got)
	}
	bob.pageOK(d).has(t, `Owner <strong>Bob</strong>`, `<input type="hidden" name="to" value="superseded">`)
}

func TestPagesSpaceForms(t *testing.T) {
	f := newPageFixture(t)
	bob := f.e.signup("Bob")

	// A space through the form; a taken slug shows the form again.
	f.ada.submit("/spaces", "/spaces", formValues("name", "Design", "slug", "design")).mustSeeOther(t, "/s/design?done=space")
	p := f.ada.submit("/spaces", "/spaces", formValues("name", "Design again", "slug", "design"))
	if p.status != http.StatusConflict {
		t.Fatalf("taken slug = %d; want 409", p.status)
	}
	p.has(t, `value="Design again"`, `role="alert"`)

	// A document through the new document form.
	p = f.ada.submit("/s/design/new", "/s/design/new", formValues("title", "", "kind", "notes", "tags", "ux, q3", "body", "# Colours\r\n\r\nBlue.\r\n"))
	p.mustSeeOther(t, "/d/")
	doc := f.ada.must(http.StatusOK, "GET", "/api/docs/"+strings.TrimPrefix(p.location, "/d/"), nil)
	if doc.str("title") != "Colours" || doc.str("body") != "# Colours\n\nBlue.\n" || doc.str("kind") != "notes" {
		t.Errorf("created = %s", doc.raw)
	}
	if p := f.ada.submit("/s/design/new", "/s/design/new", formValues("title", "Bad", "kind", "essay")); p.status != http.StatusBadRequest {
		t.Errorf("unknown kind = %d; want 400", p.status)
	}

	// Members: add, change the role, remove.
	f.ada.submit("/s/design/settings", "/s/design/settings/members", formValues("email", "bob@example.com", "role", "viewer")).mustSeeOther(t, "/s/design/settings?done=member")
	bob.pageOK("/s/design").hasNot(t, `href="/s/design/new"`)
	f.ada.submit("/s/design/settings", "/s/design/settings/members", formValues("user", bob.id(), "role", "editor")).mustSeeOther(t, "/s/design/settings")
	bob.pageOK("/s/design").has(t, `href="/s/design/new"`)
	p = f.ada.submit("/s/design/settings", "/s/design/settings/members", formValues("email", "nobody@example.com", "role", "editor"))
	if p.status < 400 {
		t.Errorf("unknown member = %d; want an error", p.status)
	}
	p.has(t, `role="alert"`, `value="nobody@example.com"`)
	f.ada.submit("/s/design/settings", "/s/design/settings/members/"+bob.id()+"/remove", url.Values{}).mustSeeOther(t, "/s/design/settings?done=member-gone")
	if p := bob.page("/s/design"); p.status != http.StatusNotFound {
		t.Errorf("removed member's space page = %d; want 404", p.status)
	}

	// Webhooks: the secret is shown once.
	p = f.ada.submit("/s/design/settings", "/s/design/settings/webhooks", formValues("url", "https://hooks.example.com/docket", "format", "slack", "events", "doc.created", "events", "doc.transitioned"))
	if p.status != http.StatusCreated {
		t.Fatalf("webhook = %d\n%s", p.status, p.body)
	}
	p.has(t, "shown only this once", `<code class="secret-value">`, "https://hooks.example.com/docket", "2 event types")
	page := f.ada.pageOK("/s/design/settings")
	page.hasNot(t, `class="secret-value"`)
	hook := regexp.MustCompile(`action="/s/design/settings/webhooks/([a-z0-9]+)/delete"`).FindStringSubmatch(page.body)
	if hook == nil {
		t.Fatal("no delete form for the webhook")
	}
	// Not through another space's settings.
	if p := f.ada.submit("/s/eng/settings", "/s/eng/settings/webhooks/"+hook[1]+"/delete", url.Values{}); p.status != http.StatusNotFound {
		t.Errorf("delete through another space = %d; want 404", p.status)
	}
	f.ada.submit("/s/design/settings", "/s/design/settings/webhooks/"+hook[1]+"/delete", url.Values{}).mustSeeOther(t, "/s/design/settings?done=hook-deleted")
	p = f.ada.submit("/s/design/settings", "/s/design/settings/webhooks", formValues("url", "http://127.0.0.1:9/x"))
	if p.status != http.StatusBadRequest {
		t.Errorf("private webhook = %d; want 400", p.status)
	}
}

func TestPagesInboxAndHome(t *testing.T) {
	f := newPageFixture(t)
	bob := f.e.signup("Bob")
	f.ada.addMember(f.space, bob, docket.RoleEditor)
	due := time.Now().Add(72 * time.Hour)
	f.ada.must(http.StatusOK, "POST", "/api/docs/"+f.doc+"/transition", map[string]any{"to": "review", "due": rfc3339(due), "reviewers": []string{bob.id()}})
	th := f.ada.must(http.StatusCreated, "POST", "/api/docs/"+f.doc+"/threads", map[string]any{"body": "Hi @bob"}).str("id")

	home := bob.pageOK("/")
	home.has(t, "Review requested", "Mention", `href="/d/`+f.doc+`#t-`+th+`"`, "Waiting on a decision", `<span class="badge status-review">Review</span>`, "Inbox <span class=\"count\"")
	page := bob.pageOK("/inbox")
	ids := regexp.MustCompile(`name="ids" value="([0-9]+)"`).FindAllStringSubmatch(page.body, -1)
	if len(ids) != 2 {
		t.Fatalf("inbox checkboxes = %d; want 2\n%s", len(ids), page.body)
	}
	bob.submit("/inbox", "/inbox/read", formValues("ids", ids[0][1])).mustSeeOther(t, "/inbox?done=read")
	if r := bob.must(http.StatusOK, "GET", "/api/inbox", nil); r.num("unread") != 1 {
		t.Errorf("unread after marking one = %d; want 1", r.num("unread"))
	}
	bob.submit("/inbox", "/inbox/read", formValues("all", "1")).mustSeeOther(t, "/inbox")
	if r := bob.must(http.StatusOK, "GET", "/api/inbox", nil); r.num("unread") != 0 {
		t.Errorf("unread after marking all = %d; want 0", r.num("unread"))
	}
	bob.pageOK("/inbox?unread=1").has(t, "Nothing here.")
	bob.pageOK("/").has(t, "Nothing waits on you.")
}

func TestPagesSearch(t *testing.T) {
	e := newEnv(t)
	ada := e.signup("Ada")
	space := ada.createSpace("eng")
	doc := ada.must(http.StatusCreated, "POST", "/api/docs", map[string]any{
		"space": space, "title": "Write-ahead log", "body": "We pick a write-ahead log & fsync when 1 < 2.", "kind": "rfc", "tags": []string{"storage"},
	}).str("id")
	ada.must(http.StatusCreated, "POST", "/api/docs/"+doc+"/threads", map[string]any{"body": "Why a write-ahead log?"})
	ada.waitSearch("write", hasTotal(2))

	p := ada.pageOK("/search?q=write")
	p.has(t, "2 results", "<mark>write</mark>", "&amp; fsync when 1 &lt; 2", `href="/d/`+doc+`"`, `href="/d/`+doc+`#t-`,
		`<span class="badge type-comment">Comment</span>`, `href="/search?q=write&amp;type=comment"`, `href="/search?q=write&amp;tag=storage"`,
		`href="/search?q=write&amp;sort=date"`, `<input id="site-q" type="search" name="q" value="write"`)
	p = ada.pageOK("/search?q=write&type=comment")
	p.has(t, "1 result", `href="/search?q=write"`, `<input type="hidden" name="type" value="comment">`, `aria-current="true">Comment</a>`)
	p.hasNot(t, `<span class="badge type-document">`)
	if p := ada.page("/search?q=" + url.QueryEscape(`"unclosed`)); p.status != http.StatusBadRequest {
		t.Errorf("bad query = %d; want 400", p.status)
	} else {
		p.has(t, `class="alert"`)
	}
	ada.pageOK("/search").hasNot(t, "results")
}

// brokenSearch fails every search with an internal error.
type brokenSearch struct{}

func (brokenSearch) Search(context.Context, docket.SearchQuery) (*docket.SearchResult, error) {
	return nil, errors.New("index file /var/secret/index is corrupt")
}

func (brokenSearch) Suggest(context.Context, string, int) ([]*docket.TitleSuggestion, error) {
	return nil, errors.New("index file /var/secret/index is corrupt")
}

func TestPagesInternalError(t *testing.T) {
	e := &env{t: t, dir: t.TempDir(), cfg: server.Config{Signup: server.SignupOpen},
		services: func(svc *server.Services) { svc.Search = brokenSearch{} }}
	e.start()
	t.Cleanup(e.stop)
	p := e.signup("Ada").page("/search?q=x")
	if p.status != http.StatusInternalServerError {
		t.Fatalf("GET /search with a broken index = %d; want 500", p.status)
	}
	p.has(t, "Something went wrong", `<p class="error-code">500</p>`, `href="/inbox"`)
	p.hasNot(t, "/var/secret", "corrupt")
}

func TestPagesOverdue(t *testing.T) {
	clock := newTestClock()
	f := newPageFixture(t, func(c *server.Config) { c.Now = clock.Now })
	bob := f.e.signup("Bob")
	f.ada.addMember(f.space, bob, docket.RoleEditor)
	f.ada.must(http.StatusOK, "POST", "/api/docs/"+f.doc+"/transition", map[string]any{
		"to": "review", "due": rfc3339(clock.Now().Add(24 * time.Hour)), "reviewers": []string{bob.id()},
	})
	home := f.ada.pageOK("/")
	home.hasNot(t, `id="home-overdue"`)
	home.has(t, `id="home-waiting"`, "Storage engine")
	clock.Add(48 * time.Hour)
	home = f.ada.pageOK("/")
	home.has(t, `<h2 id="home-overdue">Overdue</h2>`, `<span class="badge badge-overdue">Overdue</span>`)
	f.ada.pageOK("/d/"+f.doc).has(t, "Respond by", `data-countdown>`, `<span class="badge badge-overdue">Overdue</span>`)
	bob.pageOK("/inbox").has(t, `<span class="badge kind-overdue">Overdue</span>`)
}

// The inbox page shows one line per document and thread, such as "3 new
// replies in “Storage engine” from Ada and Cy", with the newest excerpt
// and the items behind a disclosure; checked groups can be marked done.
func TestPagesInboxGroups(t *testing.T) {
	f := newPageFixture(t)
	bob, cy := f.e.signup("Bob"), f.e.signup("Cy")
	f.ada.addMember(f.space, bob, docket.RoleEditor)
	f.ada.addMember(f.space, cy, docket.RoleEditor)
	th := bob.must(http.StatusCreated, "POST", "/api/docs/"+f.doc+"/threads", map[string]any{"body": "Which store?"}).str("id")
	for i, c := range []*client{f.ada, cy, f.ada} {
		c.must(http.StatusCreated, "POST", "/api/threads/"+th+"/comments", map[string]any{"body": fmt.Sprintf("> Which store?\n\nAnswer <%d>", i)})
	}
	page := bob.pageOK("/inbox")
	page.has(t, "3 new replies in “Storage engine” from Ada and Cy", `<p class="inbox-text">Answer &lt;2&gt;</p>`,
		`<details class="inbox-items">`, "All 3 items", `<span class="badge kind-reply">Reply</span>`, `href="/inbox?show=done"`)
	page.hasNot(t, "Which store?</p>")
	boxes := regexp.MustCompile(`name="ids" value="([0-9,]+)"`).FindAllStringSubmatch(page.body, -1)
	if len(boxes) != 1 || strings.Count(boxes[0][1], ",") != 2 {
		t.Fatalf("group checkboxes = %v; want one holding the 3 ids\n%s", boxes, page.body)
	}
	bob.submit("/inbox", "/inbox/done", formValues("ids", boxes[0][1])).mustSeeOther(t, "/inbox?done=inbox-done")
	bob.pageOK("/inbox").has(t, "Nothing here.")
	bob.pageOK("/inbox?show=done").has(t, "3 replies in “Storage engine” from Ada and Cy")
	if r := bob.must(http.StatusOK, "GET", "/api/inbox", nil); r.num("unread") != 0 || r.num("total") != 0 {
		t.Errorf("inbox after done = %s; want empty", r.raw)
	}
	if p := bob.submit("/inbox", "/inbox/done", formValues("ids", "1,nope")); p.status != http.StatusNotFound {
		t.Errorf("done of an unknown id = %d; want 404", p.status)
	}
}

// A comment posted through the page form that mentions someone who cannot
// read the space is saved, and the page says so: with an Invite link for
// a space admin, with advice for others.
func TestPagesMentionNotMember(t *testing.T) {
	f := newPageFixture(t)
	bob := f.e.signup("Bob")
	f.e.signup("Outsider")
	f.ada.addMember(f.space, bob, docket.RoleEditor)
	d := "/d/" + f.doc
	p := bob.submit(d, d+"/threads", formValues("body", "Ask @outsider and @nobody"))
	p.mustSeeOther(t, d+"?unreached=outsider#t-")
	page := bob.pageOK(strings.Split(p.location, "#")[0])
	page.has(t, "@outsider cannot read this space and was not notified.", "Ask a space admin to invite them.", "Ask @outsider and @nobody")
	page.hasNot(t, "@nobody cannot", `data-invite=`)
	th := regexp.MustCompile(`#t-(\w+)$`).FindStringSubmatch(p.location)[1]
	p = f.ada.submit(d, d+"/threads/"+th+"/comments", formValues("body", "cc @outsider@example.com"))
	p.mustSeeOther(t, d+"?unreached=outsider%40example.com#t-"+th)
	f.ada.pageOK(strings.Split(p.location, "#")[0]).has(t, "@outsider@example.com cannot read this space",
		`<a class="button" href="/s/eng/settings#members-h">Invite</a>`, `data-invite="/s/eng/settings#members-h"`)
	// The names come from the URL: only mention characters are shown.
	p = f.ada.pageOK(d + "?unreached=" + url.QueryEscape("<b>x</b>,ok"))
	p.has(t, "@ok cannot")
	p.hasNot(t, "<b>x", "&lt;b&gt;")
}
