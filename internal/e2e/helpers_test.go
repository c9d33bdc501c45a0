package e2e_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/docket-dev/docket/bolt"
	"github.com/docket-dev/docket/collab"
	"github.com/docket-dev/docket/frontend"
	"github.com/docket-dev/docket/internal/browsertest"
	"github.com/docket-dev/docket/markdown"
	"github.com/docket-dev/docket/search"
	"github.com/docket-dev/docket/server"
	"github.com/docket-dev/docket/webhook"
	"golang.org/x/crypto/bcrypt"
)

// site is a Docket server as docket serve wires it (storage, live hub,
// search, decisions, threads, minutes, inbox), over a data file in a
// temporary directory.
type site struct {
	t   *testing.T
	url string
}

// newSite starts a server with open sign-up.
func newSite(t *testing.T) *site {
	t.Helper()
	dir := t.TempDir()
	db := bolt.NewDB(filepath.Join(dir, "docket.db"))
	db.PasswordCost = bcrypt.MinCost
	if err := db.Open(); err != nil {
		t.Fatalf("open db: %v", err)
	}
	users := bolt.NewUserService(db)
	spaces := bolt.NewSpaceService(db)
	recordings := bolt.NewRecordingService(db)
	renderer := markdown.New(markdown.Options{})
	hub := collab.New(bolt.NewLiveStore(db), collab.Options{Recordings: recordings})
	idx, err := search.Open(filepath.Join(dir, "index"), search.Options{Loader: bolt.NewScanner(db)})
	if err != nil {
		t.Fatalf("open index: %v", err)
	}
	threads := bolt.NewThreadService(db, renderer, markdown.Mentions)
	indexer := &search.Indexer{Index: idx, Docs: bolt.NewDocumentService(db), Scanner: bolt.NewScanner(db),
		Threads: threads, Debounce: 50 * time.Millisecond}
	db.OnChange(indexer.Notify)
	db.OnEvent(indexer.NotifyEvent)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { indexer.Run(ctx) })
	actions := bolt.NewActionService(db, markdown.ActionItems)
	updater := bolt.NewActionUpdater(actions, bolt.ActionUpdaterOptions{Debounce: 50 * time.Millisecond})
	wg.Go(func() { updater.Run(ctx) })
	minutes := bolt.NewMinutesService(db, actions, markdown.Minutes)
	decisions := bolt.NewDecisionService(db, renderer, minutes)
	srv, err := server.New(server.Config{Signup: server.SignupOpen}, server.Services{
		Users: users, Auth: users, Identities: users, Spaces: spaces, Documents: bolt.NewDocumentService(db), Renderer: renderer,
		Hub: hub, Recordings: recordings,
		Search:    &search.Service{Index: idx, Spaces: spaces, Users: users, Indexer: indexer},
		Decisions: decisions, Actions: actions,
		Minutes: minutes, Threads: threads, Suggestions: threads,
		Events: bolt.NewEventService(db), Inbox: bolt.NewInboxService(db), Webhooks: bolt.NewWebhookService(db, webhook.CheckURL),
		Visits: bolt.NewVisitService(db), Templates: bolt.NewTemplateService(db), Mail: bolt.NewMailService(db), Signups: bolt.NewSignupService(db), Export: db, Backup: db.Backup, OnEvent: db.OnEvent,
		Assets: frontend.FS(),
	})
	if err != nil {
		t.Fatalf("server.New: %v", err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		ts.CloseClientConnections()
		ts.Close()
		hub.Close()
		cancel()
		updater.Close()
		wg.Wait()
		idx.Close()
		db.Close()
	})
	return &site{t: t, url: ts.URL}
}

// browser starts headless Chromium for the test; people get windows of
// their own (own cookies) from it with person.
func browser(t *testing.T) context.Context { return browsertest.Start(t) }

// shotDir is where screenshots go: $DOCKET_SCREENSHOTS if set (kept),
// else a temporary directory of the test.
func shotDir(t *testing.T) string {
	if d := os.Getenv("DOCKET_SCREENSHOTS"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		return d
	}
	return t.TempDir()
}

// person is one browser window with its own cookies.
type person struct {
	t     *testing.T
	name  string
	site  *site
	ctx   context.Context
	shots string
}

func (s *site) person(browser context.Context, name, shots string) *person {
	s.t.Helper()
	ctx, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
	s.t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil {
		s.t.Fatalf("%s: open window: %v", name, err)
	}
	return &person{t: s.t, name: name, site: s, ctx: ctx, shots: shots}
}

// do runs browser actions.
func (p *person) do(actions ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		p.t.Fatalf("%s: %v", p.name, err)
	}
}

// open navigates to a path of the site.
func (p *person) open(path string) {
	p.t.Helper()
	p.do(chromedp.Navigate(p.site.url + path))
	p.waitJS(`document.readyState === "complete"`, 10*time.Second)
}

// api sends a request to the site's API from p's window, with p's
// session, and returns the body of the answer; an answer other than 2xx
// ends the test.
func (p *person) api(method, path, body string) string {
	p.t.Helper()
	got := eval[string](p, fmt.Sprintf(`fetch(%q, {method: %q, headers: {"Content-Type": "application/json"}, body: %s})
		.then(async r => r.status + " " + await r.text())`, path, method, bodyJS(body)))
	if !strings.HasPrefix(got, "20") {
		p.t.Fatalf("%s: %s %s: %s", p.name, method, path, got)
	}
	_, text, _ := strings.Cut(got, " ")
	return text
}

// bodyJS is a request body as a JavaScript expression ("undefined" if none).
func bodyJS(body string) string {
	if body == "" {
		return "undefined"
	}
	return fmt.Sprintf("%q", body)
}

// jsonID returns the first "id" of a JSON answer.
func jsonID(t *testing.T, jsonText string) string {
	t.Helper()
	i := strings.Index(jsonText, `"id":"`)
	if i < 0 {
		t.Fatalf("no id in %s", jsonText)
	}
	rest := jsonText[i+len(`"id":"`):]
	return rest[:strings.IndexByte(rest, '"')]
}

// eval evaluates a JavaScript expression (awaiting it if it is a promise).
func eval[T any](p *person, js string) T {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise))
	if err != nil {
		p.t.Fatalf("%s: eval %s: %v", p.name, js, err)
	}
	return v
}

// waitJS waits until a JavaScript expression (or the promise it makes) is
// truthy, through navigations (a form post and its redirect).
func (p *person) waitJS(js string, d time.Duration) {
	p.t.Helper()
	last := browsertest.Wait(p.ctx, js, d)
	if last == nil {
		return
	}
	p.screenshot("timeout")
	url := eval[string](p, "location.href")
	p.t.Fatalf("%s: waiting for %s at %s: %v\npage text:\n%s", p.name, js, url, last,
		eval[string](p, "document.querySelector('main')?.innerText || document.body.innerText"))
}

// fill sets a field's value by selector, as typing would.
//
// It sets the value in the page in one step, finding the field at that
// moment: a panel the event stream re-renders replaces its fields, and a
// node found before that is gone when it is written to.
func (p *person) fill(sel, value string) {
	p.t.Helper()
	p.waitJS(setValue(sel, value), wait)
}

// setValue is JavaScript that sets the value of the field a selector finds
// as typing would (an input event follows) and is true, or false while
// there is no such field.
func setValue(sel, value string) string {
	return fmt.Sprintf(`(() => {
		const el = document.querySelector(%q);
		if (!el) return false;
		if (el.value !== %q) {
			el.value = %q;
			el.dispatchEvent(new Event("input", {bubbles: true}));
		}
		return true;
	})()`, sel, value, value)
}

// click clicks the element a selector finds, once a click would reach it
// (see [browsertest.Clickable]): on a wide document page the threads are
// laid out beside their text after the page loads, which moves the review
// panel below them, and a click aimed at the old place misses.
func (p *person) click(sel string) {
	p.t.Helper()
	p.waitJS(browsertest.Clickable(sel), wait)
	p.do(chromedp.Click(chromedp.CSS(sel), chromedp.NodeVisible))
}

// submitForm fills fields of a form (selector -> value) and clicks a
// button in it, then waits until the page shows ready.
func (p *person) submitForm(button string, fields map[string]string) {
	p.t.Helper()
	for sel, v := range fields {
		p.fill(sel, v)
	}
	p.waitJS(browsertest.Clickable(button), wait)
	// A re-render between filling and clicking would send empty fields:
	// fill again what it cleared, in the same step as the click.
	js := "(() => {"
	for sel, v := range fields {
		js += fmt.Sprintf("if (!%s) return false;", setValue(sel, v))
	}
	js += fmt.Sprintf("const b = document.querySelector(%q); if (!b) return false; b.click(); return true; })()", button)
	p.waitJS(js, wait)
}

// text returns the visible text of the element a selector finds ("" if none).
func (p *person) text(sel string) string {
	p.t.Helper()
	return eval[string](p, fmt.Sprintf(`document.querySelector(%q)?.innerText || ""`, sel))
}

// screenshot saves a PNG of the whole page at desktop width and, if
// phone, another at 375 px: <test>-<what>.png and <test>-<what>-phone.png.
func (p *person) screenshot(what string, phone ...bool) {
	save := func(suffix string) {
		ctx, cancel := context.WithTimeout(p.ctx, 20*time.Second)
		defer cancel()
		buf, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			p.t.Logf("%s: screenshot %s: %v", p.name, what, err)
			return
		}
		name := strings.ToLower(strings.NewReplacer("/", "-", " ", "-").Replace(p.t.Name() + "-" + what + suffix + ".png"))
		if err := os.WriteFile(filepath.Join(p.shots, name), buf, 0o644); err != nil {
			p.t.Logf("screenshot: %v", err)
		}
	}
	save("")
	if len(phone) > 0 && phone[0] {
		p.do(chromedp.EmulateViewport(375, 812, chromedp.EmulateScale(2)))
		save("-phone")
		p.do(chromedp.EmulateViewport(1280, 900))
	}
}

// dark switches the window to the dark colour scheme (prefers-color-scheme)
// or back.
func (p *person) dark(on bool) {
	p.t.Helper()
	value := "light"
	if on {
		value = "dark"
	}
	ctx, cancel := context.WithTimeout(p.ctx, 10*time.Second)
	defer cancel()
	_, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
		Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: value}},
	})
	if err != nil {
		p.t.Fatalf("%s: colour scheme %s: %v", p.name, value, err)
	}
}

// contains returns a JavaScript test that the element a selector finds
// contains text.
func contains(sel, text string) string {
	return fmt.Sprintf(`(document.querySelector(%q)?.textContent || "").includes(%q)`, sel, text)
}
