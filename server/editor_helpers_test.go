package server_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html/template"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
	"github.com/docket-dev/docket/internal/browsertest"
	"github.com/docket-dev/docket/internal/testenv"
	"github.com/docket-dev/docket/server"
)

// Browser tests drive headless Chromium against a real server. They skip
// when no Chromium is installed, except in CI (CI=true), where they fail.

// newChrome starts a headless browser for the test and returns its root
// context; windows are made from it with edServer.open.
func newChrome(t *testing.T) context.Context { return browsertest.Start(t) }

// edServer serves the real server's handler and, until the server renders
// its own document page, a minimal one with the same page contract.
type edServer struct {
	t      *testing.T
	e      *env
	ts     *httptest.Server
	chrome context.Context
	shots  string // where screenshots go
	// liveDown makes /api/live answer 503, as if the server were unreachable.
	liveDown atomic.Bool
	// liveRefused counts the requests liveDown turned away.
	liveRefused atomic.Int32

	mu    sync.Mutex
	conns []net.Conn // the live sockets, for dropSockets
}

// hijackTracker records the connections taken over by the WebSocket upgrade.
type hijackTracker struct {
	http.ResponseWriter
	s *edServer
}

func (h *hijackTracker) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, brw, err := http.NewResponseController(h.ResponseWriter).Hijack()
	if err == nil {
		h.s.mu.Lock()
		h.s.conns = append(h.s.conns, c)
		h.s.mu.Unlock()
	}
	return c, brw, err
}

// dropSockets closes every live socket abruptly (no closing handshake), as
// a network failure or a crashed proxy would.
func (s *edServer) dropSockets() {
	s.mu.Lock()
	conns := s.conns
	s.conns = nil
	s.mu.Unlock()
	for _, c := range conns {
		c.Close()
	}
}

// liveSockets returns how many live sockets are open since the last
// dropSockets.
func (s *edServer) liveSockets() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

// waitConverged waits until the API and the windows a and b all have the
// text want; what says when, in the failure.
func waitConverged(t *testing.T, api *client, doc, want, what string, a, b *edPage) {
	t.Helper()
	var body, ga, gb string
	if !testenv.Eventually(10*time.Second, func() bool {
		body, _ = api.docText(doc)
		ga, gb = a.editorText(), b.editorText()
		return body == want && ga == want && gb == want
	}) {
		t.Fatalf("%s:\n API   %q\n Alice %q\n Bob   %q\n want  %q", what, body, ga, gb, want)
	}
}

// newEdServer starts a server and a browser.
// The server trusts X-Forwarded-For from loopback, so that tests signing
// up many accounts can spread them over addresses (the sign-in rate limit
// counts per address).
func newEdServer(t *testing.T) *edServer {
	t.Helper()
	chrome := newChrome(t)
	e := &env{t: t, dir: t.TempDir()}
	_, loopback, _ := net.ParseCIDR("127.0.0.0/8")
	e.cfg = server.Config{Signup: server.SignupOpen, TrustedProxies: []*net.IPNet{loopback}}
	e.start()
	t.Cleanup(e.stop)
	s := &edServer{t: t, e: e, chrome: chrome}
	s.ts = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(func() {
		// The windows are closed by now (their cleanups run first). Wait
		// for their sockets to leave the hub before the env closes it: a
		// session still leaving could reopen a document in the hub while
		// it closes.
		s.ts.Close()
		s.e.srv.CloseLive()
	})
	s.shots = os.Getenv("DOCKET_SCREENSHOTS")
	if s.shots == "" {
		s.shots = t.TempDir()
	}
	return s
}

func (s *edServer) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/api/live" {
		if s.liveDown.Load() {
			s.liveRefused.Add(1)
			http.Error(w, "down for the test", http.StatusServiceUnavailable)
			return
		}
		w = &hijackTracker{ResponseWriter: w, s: s}
	}
	if id, ok := strings.CutPrefix(r.URL.Path, "/_stub/d/"); ok && r.Method == http.MethodGet && !strings.Contains(id, "/") {
		s.stubDocPage(w, r, id) // always the stub: for tests of its forms' markup
		return
	}
	if id, ok := strings.CutPrefix(r.URL.Path, "/d/"); ok && r.Method == http.MethodGet && !strings.Contains(id, "/") {
		// The real page, if the server has one; the stub otherwise.
		rec := httptest.NewRecorder()
		s.e.srv.Handler().ServeHTTP(rec, r)
		if rec.Code == http.StatusOK && bytes.Contains(rec.Body.Bytes(), []byte(`id="doc-source"`)) {
			for k, v := range rec.Header() {
				w.Header()[k] = v
			}
			w.WriteHeader(rec.Code)
			w.Write(rec.Body.Bytes())
			return
		}
		s.stubDocPage(w, r, id)
		return
	}
	if r.URL.Path == "/stub.css" {
		w.Header().Set("Content-Type", "text/css")
		// What a long document's page needs for a fast first layout: its
		// blocks out of sight skipped (the no-JS source sits in a closed
		// <details>, which is not laid out either).
		w.Write([]byte("#doc-html > * { content-visibility: auto; contain-intrinsic-size: auto 3em; }\n"))
		return
	}
	if r.URL.Path == "/" && r.Method == http.MethodGet {
		s.stubPage(w, "Docket", "")
		return
	}
	s.e.srv.Handler().ServeHTTP(w, r)
}

// api calls the server's API in process with the browser's cookies.
func (s *edServer) api(r *http.Request, path string, v any) (string, error) {
	req := httptest.NewRequest("GET", path, nil)
	for _, c := range r.Cookies() {
		req.AddCookie(c)
	}
	rec := httptest.NewRecorder()
	s.e.srv.Handler().ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		return "", fmt.Errorf("GET %s = %d %s", path, rec.Code, rec.Body.String())
	}
	if v != nil {
		return "", json.Unmarshal(rec.Body.Bytes(), v)
	}
	return rec.Body.String(), nil
}

var stubTemplate = template.Must(template.New("doc").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title><link rel="stylesheet" href="{{.CSS}}"><link rel="stylesheet" href="/stub.css"><script type="module" src="{{.JS}}"></script>
{{if .DocJS}}<link rel="modulepreload" href="{{.DocJS}}">{{end}}</head>
<body><header class="stub-header"><a href="/">Docket</a>
<form role="search" action="/search" method="get"><label for="q">Search</label> <input id="q" name="q" type="search"></form></header>
{{if .Doc}}{{with .Doc}}<main id="doc" data-doc-id="{{.ID}}" data-version="{{.Version}}" data-role="{{.Role}}" data-user-id="{{$.UserID}}" data-user-name="{{$.UserName}}">
<h1>{{.Title}}</h1><p>Status: <span class="status">{{.Status}}</span></p>
<details><summary>Edit the markdown</summary><form method="post" action="/d/{{.ID}}/edit"><label for="doc-source">Markdown</label>
<textarea id="doc-source" name="body" rows="20" cols="80">{{.Body}}</textarea>
<input type="hidden" name="version" value="{{.Version}}"><button>Save</button></form></details>
<article id="doc-html">{{.HTML}}</article>
<section id="threads"><h2>Threads</h2>
{{range .Threads}}<article class="thread" id="t-{{.ID}}" data-start="{{.Start}}" data-end="{{.End}}" data-status="{{.Status}}">
<blockquote>{{.Quote}}</blockquote>
{{range .Comments}}<div class="comment">{{.}}</div>{{end}}
<form method="post" action="/d/{{$.Doc.ID}}/threads/{{.ID}}/comments"><label>Reply <textarea name="body"></textarea></label><button>Reply</button></form>
{{if eq .Status "resolved"}}<form method="post" action="/d/{{$.Doc.ID}}/threads/{{.ID}}/reopen"><button>Reopen</button></form>
{{else}}<form method="post" action="/d/{{$.Doc.ID}}/threads/{{.ID}}/resolve"><button>Resolve</button></form>{{end}}
</article>{{end}}
</section>
<section id="review"><h2>Review</h2><p>Lifecycle: <span class="lifecycle">{{.Status}}</span></p>
<form method="post" action="/d/{{.ID}}/transition"><label>Due <input type="date" name="due"></label>
<label>Reviewers <input name="reviewers"></label><button name="to" value="review">Request review</button></form>
</section></main>{{end}}{{end}}
</body></html>`))

type stubThread struct {
	ID, Status, Quote string
	Start, End        int64
	Comments          []template.HTML
}

type stubDoc struct {
	ID, Title, Role, Status, Body string
	Version                       int64
	HTML                          template.HTML
	Threads                       []stubThread
}

func (s *edServer) stubPage(w http.ResponseWriter, title string, _ string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	stubTemplate.Execute(w, map[string]any{"Title": title, "CSS": assetPath("style.css"), "JS": assetPath("app.js")})
}

// stubDocPage renders the document page contract from the API.
func (s *edServer) stubDocPage(w http.ResponseWriter, r *http.Request, id string) {
	var me struct{ ID, Name string }
	var doc struct {
		ID, Title, Role, Status, Body string
		Version                       int64
	}
	var threads struct {
		Threads []struct {
			ID, Status string
			Anchor     *struct {
				Start, End int64
				Quote      string
			}
			Comments []struct{ HTML string }
		}
	}
	if _, err := s.api(r, "/api/me", &me); err != nil {
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	if _, err := s.api(r, "/api/docs/"+id, &doc); err != nil {
		http.Error(w, err.Error(), http.StatusNotFound)
		return
	}
	html, err := s.api(r, "/api/docs/"+id+"/html", nil)
	if err == nil {
		_, err = s.api(r, "/api/docs/"+id+"/threads?limit=100", &threads)
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	d := stubDoc{ID: doc.ID, Title: doc.Title, Role: doc.Role, Status: doc.Status, Body: doc.Body, Version: doc.Version, HTML: template.HTML(html)}
	for _, th := range threads.Threads {
		st := stubThread{ID: th.ID, Status: th.Status, Start: -1, End: -1}
		if th.Anchor != nil {
			st.Start, st.End, st.Quote = th.Anchor.Start, th.Anchor.End, th.Anchor.Quote
		}
		for _, c := range th.Comments {
			st.Comments = append(st.Comments, template.HTML(c.HTML))
		}
		d.Threads = append(d.Threads, st)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	stubTemplate.Execute(w, map[string]any{
		"Title": doc.Title, "CSS": assetPath("style.css"), "JS": assetPath("app.js"),
		"Doc": d, "UserID": me.ID, "UserName": me.Name, "DocJS": map[bool]string{true: assetPath("doc.js")}[os.Getenv("NOPRELOAD") == ""],
	})
}

// edPage is one browser window, signed in as one user.
type edPage struct {
	t    *testing.T
	s    *edServer
	name string
	ctx  context.Context
	// close closes the window.
	close context.CancelFunc

	mu      sync.Mutex
	console []string
}

// window opens a window in a browser context of its own (its own cookies)
// and signs in as name (an account made by env.signup).
func (s *edServer) window(name string) *edPage {
	s.t.Helper()
	ctx, cancel := chromedp.NewContext(s.chrome, chromedp.WithNewBrowserContext())
	s.t.Cleanup(cancel)
	p := &edPage{t: s.t, s: s, name: name, ctx: ctx, close: cancel}
	if err := chromedp.Do(ctx); err != nil {
		s.t.Fatalf("%s: open window: %v", name, err)
	}
	go func() {
		for m, err := range chromedp.Console(ctx) {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleError || m.Type == chromedp.ConsoleException || m.Type == chromedp.ConsoleWarning {
				p.mu.Lock()
				p.console = append(p.console, m.String()+" "+m.URL)
				p.mu.Unlock()
			}
		}
	}()
	p.do(chromedp.Navigate(s.ts.URL + "/healthz"))
	email := strings.ToLower(name) + "@example.com"
	js := fmt.Sprintf(`fetch("/api/auth/login", {method: "POST", headers: {"Content-Type": "application/json"},
		body: JSON.stringify({email: %q, password: %q})}).then(r => r.status)`, email, "correct horse "+name)
	if status := evalT[int](p, js, chromedp.EvalAwaitPromise); status != http.StatusOK {
		s.t.Fatalf("%s: login = %d", name, status)
	}
	return p
}

// openDoc navigates to a document page and waits until the editor is live.
func (p *edPage) openDoc(id string) {
	p.t.Helper()
	p.openPath("/d/" + id)
}

// openStub opens the test's own document page, whose forms the test knows.
func (p *edPage) openStub(id string) {
	p.t.Helper()
	p.openPath("/_stub/d/" + id)
}

func (p *edPage) openPath(path string) {
	p.t.Helper()
	p.do(chromedp.Navigate(p.s.ts.URL + path))
	// Generous: a page of a 700 KB document on a loaded 2-core machine
	// under -race takes more than 10 s to go live; a ready page returns at once.
	p.waitJS(`document.getElementById("doc")?.dataset.live === "ready"`, 40*time.Second)
}

// do runs actions in the page. The panels re-render when an update is
// pushed, so a node an action found can be gone by the time it acts on
// it (the browser answers "Could not find node with given id"); the
// actions then run again on the new node, a few times at most.
func (p *edPage) do(actions ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 30*time.Second)
	defer cancel()
	var err error
	for range 5 {
		if err = chromedp.Do(ctx, actions...); err == nil || !strings.Contains(err.Error(), "Could not find node with given id") {
			break
		}
		// Try again once the page has drawn the next frame, which the
		// re-render is done by.
		chromedp.Run(ctx, chromedp.Evaluate[bool](`new Promise(r => requestAnimationFrame(() => r(true)))`, chromedp.EvalAwaitPromise))
	}
	if err != nil {
		p.t.Fatalf("%s: %v", p.name, err)
	}
}

// evalT evaluates a JavaScript expression in the page.
func evalT[T any](p *edPage, js string, opts ...chromedp.EvaluateOption) T {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js, opts...))
	if err != nil {
		p.t.Fatalf("%s: eval %s: %v", p.name, js, err)
	}
	return v
}

// waitJS waits until a JavaScript expression (or the promise it makes)
// is truthy. A navigation while waiting is no error: the wait goes on in
// the new page.
func (p *edPage) waitJS(js string, d time.Duration) {
	p.t.Helper()
	if err := browsertest.Wait(p.ctx, js, d); err != nil {
		p.screenshot("timeout")
		p.t.Fatalf("%s: waiting for %s: %v\nstatus: %s\nconsole: %v", p.name, js, err,
			evalT[string](p, `document.getElementById("live-status")?.textContent || ""`), p.consoleLines())
	}
}

// click clicks the element sel finds once a click would reach it (see
// [browsertest.Clickable]): the comment button is in the editor's
// tooltip, which is made off screen and placed at the next measure, and a
// click sent before that lands elsewhere and clears the selection.
func (p *edPage) click(sel string) {
	p.t.Helper()
	p.waitJS(browsertest.Clickable(sel), 10*time.Second)
	p.do(chromedp.Click(chromedp.CSS(sel)))
}

// editorText is the text the editor shows (every line is rendered for the
// small documents of these tests), without other people's cursor labels.
const editorTextJS = `[...document.querySelectorAll(".cm-content > .cm-line")].map(l => {
	const c = l.cloneNode(true); c.querySelectorAll(".dk-cursor").forEach(x => x.remove()); return c.textContent;
}).join("\n")`

func (p *edPage) editorText() string {
	p.t.Helper()
	return evalT[string](p, editorTextJS)
}

// status returns the connection state shown in #live-status.
func (p *edPage) status() string {
	p.t.Helper()
	return evalT[string](p, `document.getElementById("live-status")?.dataset.state || ""`)
}

// focusEditor focuses the editor and moves the cursor with key (kb.Home or kb.End, with Ctrl).
func (p *edPage) focusEditor(key string) {
	p.t.Helper()
	p.do(chromedp.Focus(chromedp.CSS(".cm-content")), chromedp.KeyEvent(key, chromedp.KeyModifiers(chromedp.ModifierCtrl)))
}

// typeText types s with key events, one character at a time; characters
// outside the keyboard's set are entered as text input (as an IME does).
func (p *edPage) typeText(s string) {
	p.t.Helper()
	for _, r := range s {
		if r < 0x80 {
			p.do(chromedp.KeyEvent(string(r)))
			continue
		}
		ctx, cancel := context.WithTimeout(p.ctx, 10*time.Second)
		_, err := chromedp.Call(ctx, input.InsertText, input.InsertTextParams{Text: string(r)})
		cancel()
		if err != nil {
			p.t.Fatalf("%s: insert %q: %v", p.name, r, err)
		}
	}
}

// offline turns the window's network off or on, as the DevTools do
// (navigator.onLine follows). The command is sent by name: the typed
// Network.emulateNetworkConditionsByRule of cdproto v0.159 does not match
// the parameters Chromium 148 takes.
func (p *edPage) offline(off bool) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 10*time.Second)
	defer cancel()
	params := map[string]any{"offline": off, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1}
	_, err := chromedp.Run(ctx, chromedp.Action[chromedp.Void](func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		if err := t.Call(ctx, "Network.enable", map[string]any{}, nil); err != nil {
			return chromedp.Void{}, err
		}
		return chromedp.Void{}, t.Call(ctx, "Network.emulateNetworkConditions", params, nil)
	}))
	if err != nil {
		p.t.Fatalf("%s: offline=%v: %v", p.name, off, err)
	}
}

// screenshot saves a PNG of the window as <test>-<name>-<what>.png.
func (p *edPage) screenshot(what string) string {
	ctx, cancel := context.WithTimeout(p.ctx, 10*time.Second)
	defer cancel()
	buf, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		p.t.Logf("%s: screenshot: %v", p.name, err)
		return ""
	}
	name := strings.NewReplacer("/", "-", " ", "-").Replace(p.t.Name() + "-" + p.name + "-" + what + ".png")
	path := filepath.Join(p.s.shots, strings.ToLower(name))
	if err := os.WriteFile(path, buf, 0o644); err != nil {
		p.t.Logf("screenshot: %v", err)
	}
	return path
}

func (p *edPage) consoleLines() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.console...)
}

// checkConsole fails on console errors and warnings other than those
// allowed (substrings), such as the failed socket of an offline window.
// A CSP violation is always an error.
func (p *edPage) checkConsole(allowed ...string) {
	p.t.Helper()
next:
	for _, line := range p.consoleLines() {
		if !strings.Contains(line, "Content Security Policy") {
			for _, a := range allowed {
				if strings.Contains(line, a) {
					continue next
				}
			}
		}
		p.t.Errorf("%s: console: %s", p.name, line)
	}
}

// bothOn opens Alice's and Bob's windows on the document id.
func (s *edServer) bothOn(id string) (alice, bob *edPage) {
	alice, bob = s.window("Alice"), s.window("Bob")
	alice.openDoc(id)
	bob.openDoc(id)
	return alice, bob
}
