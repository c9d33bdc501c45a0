package e2e_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/docket-dev/docket/internal/browsertest"
)

// layoutBody is a document with what tends to overflow a phone: a wide
// table, a long code line, a long link and a long word.
const layoutBody = "# Storage engine for the whole site\n\n" +
	"We keep every document, op and comment in **one bbolt file**; see " +
	"https://example.com/a/very/long/link/that/does/not/break/on/its/own/because/it/has/no/spaces/at/all.\n\n" +
	"## Options\n\n| option | files | backups | writes | reads | notes |\n|---|---|---|---|---|---|\n" +
	"| bbolt | one | online copy | serialised | never blocked | what we have today |\n" +
	"| sqlite | one | online copy | serialised | WAL | a cgo dependency |\n\n" +
	"```go\ndb, err := bolt.Open(filepath.Join(dataDir, \"docket.db\"), 0o600, &bolt.Options{Timeout: time.Second, NoFreelistSync: true})\n```\n\n" +
	"Supercalifragilisticexpialidocious-storage-engine-configuration-identifier.\n\n" +
	"## Plan\n\n- [ ] @bob write the migration plan due:2030-01-15\n- [x] @ada measure fsync latency\n"

// TestWebAppLayout: at phone width (375 px) no page scrolls sideways
// (document.documentElement.scrollWidth <= innerWidth): the landing,
// login and sign-up pages, home, spaces, a space, a new document, a
// document in review with threads and a suggested change (the editor
// loaded), one decided, its minutes, its history (replay and diff),
// search, the inbox, both settings pages and the space's templates;
// every control on them has a label. With $DOCKET_SCREENSHOTS set it
// saves every page at 1280x800 light and dark and at 375x812:
// layout-<page>[-dark|-phone].png.
func TestWebAppLayout(t *testing.T) {
	s := newSite(t)
	b := browser(t)
	shots := os.Getenv("DOCKET_SCREENSHOTS")
	anon := s.person(b, "Anon", t.TempDir())
	ada := s.person(b, "Ada", t.TempDir())
	bob := s.person(b, "Bob", t.TempDir())
	carol := s.person(b, "Carol", t.TempDir())
	ada.signup()
	bob.signup()
	carol.signup()

	// The data, through the API in Ada's and Bob's windows.
	ada.api("POST", "/api/spaces", `{"slug": "eng", "name": "Engineering"}`)
	ada.api("PATCH", "/api/spaces/eng/rules", `{"requireLastCall": false}`) // accepted straight from review
	ada.api("POST", "/api/spaces/eng/members", `{"email": "bob@example.com", "role": "editor"}`)
	ada.api("POST", "/api/spaces/eng/members", `{"email": "carol@example.com", "role": "viewer"}`)
	// A long name, for the header and the people list on a phone.
	carol.api("PATCH", "/api/me", `{"name": "Carolina Wilhelmina Featherstonehaugh-Smythe"}`)
	quoted := func(s string) string { return fmt.Sprintf("%q", s) }
	decided := jsonID(t, ada.api("POST", "/api/docs", `{"space": "eng", "kind": "rfc", "tags": ["storage", "backend"], "body": `+quoted(layoutBody)+`}`))
	ada.api("POST", "/api/docs/"+decided+"/edits", `{"version": 1, "body": `+quoted(layoutBody+"\nReads never block writes.\n")+`}`)
	due := time.Now().Add(72 * time.Hour).UTC().Format(time.RFC3339)
	ada.api("POST", "/api/docs/"+decided+"/transition", `{"to": "review", "due": "`+due+`", "reviewers": ["bob@example.com"]}`)
	thread := jsonID(t, ada.api("POST", "/api/docs/"+decided+"/threads", `{"anchor": {"version": 2, "start": 2, "end": 16}, "body": "Should we keep one file per space instead, @bob?"}`))
	bob.api("POST", "/api/threads/"+thread+"/comments", `{"body": "One file for everything is simpler to back up."}`)
	bob.api("POST", "/api/docs/"+decided+"/reviews", `{"verdict": "approve"}`)
	ada.api("POST", "/api/docs/"+decided+"/transition", `{"to": "accepted", "decision": {"summary": "bbolt it is: one file, online backups."}}`)

	inReview := jsonID(t, bob.api("POST", "/api/docs", `{"space": "eng", "kind": "rfc", "body": "# Search index layout\n\nOne bleve index per site, rebuilt by `+"`docket reindex`"+`.\n"}`))
	bob.api("POST", "/api/docs/"+inReview+"/transition", `{"to": "review", "due": "`+due+`", "reviewers": ["ada@example.com"]}`)
	ada.api("POST", "/api/docs/"+inReview+"/reviews", `{"verdict": "concern", "body": "What happens to the index while a backup runs?"}`)
	ada.api("POST", "/api/docs/"+inReview+"/threads", `{"anchor": {"version": 1, "start": 23, "end": 38}, "body": "Per site or per space?"}`)
	ada.api("POST", "/api/docs/"+inReview+"/suggestions", `{"anchor": {"quote": "rebuilt by"}, "replacement": "rebuilt at start by", "comment": "Say when it runs."}`)

	// Long words where they tend to overflow: a title, a tag, a webhook URL.
	long := jsonID(t, ada.api("POST", "/api/docs", `{"space": "eng", "kind": "notes", "tags": ["observability-and-incident-response-runbooks"], "body": "# TheLongestTitleWithoutAnySpacesThatSomeoneCouldTypeIntoDocket\n\nText.\n"}`))
	ada.api("POST", "/api/spaces/eng/webhooks", `{"url": "https://hooks.example.com/services/T0123456789/B0123456789/abcdefghijklmnopqrstuvwx"}`)

	// Search is indexed in the background.
	ada.open("/")
	ada.waitJS(`fetch("/api/search?q=backups").then(r => r.json()).then(r => (r.hits || r.results || []).length > 0)`, wait)

	type page struct {
		name, path string
		who        *person
		ready      string // JavaScript that is true once the page is laid out
		act        string // JavaScript run then (a view mode)
	}
	// The editor loaded and, where there are open threads, their
	// highlights placed (the threads in the margin follow them).
	editor := `document.querySelector(".cm-content") && document.getElementById("live-status")?.dataset.state === "saved" &&
		(!document.querySelector("#threads .thread[data-status=open]") || CSS.highlights.has("dk-thread"))`
	pages := []page{
		{"landing", "/", anon, "", ""},
		{"login", "/login", anon, "", ""},
		{"signup", "/signup", anon, "", ""},
		{"home", "/", bob, "", ""},
		{"spaces", "/spaces", ada, "", ""},
		{"space", "/s/eng", ada, "", ""},
		{"new", "/s/eng/new", ada, "", ""},
		{"document", "/d/" + decided, ada, editor, ""},
		{"document-split", "/d/" + decided, ada, editor, mode("split")},
		{"document-preview", "/d/" + decided, ada, editor, mode("preview")},
		{"review", "/d/" + inReview, bob, editor, ""},
		{"viewer", "/d/" + decided, carol, editor, ""},
		{"viewer-home", "/", carol, "", ""},
		{"long-title", "/d/" + long, ada, editor, ""},
		{"long-title-history", "/d/" + long + "/history", ada, "", ""},
		{"viewer-search", "/search?q=storage", carol, "", ""},
		{"minutes", "/d/" + decided + "/minutes", ada, "", ""},
		{"history", "/d/" + decided + "/history?v=2", ada, `document.querySelector("#replay input[type=range]")`, ""},
		{"diff", "/d/" + decided + "/history?from=1&to=2#diff-h", ada, `document.querySelector(".diff-add")`, ""},
		{"suggest", "/s/eng", ada, "", suggest("stor")},
		{"search", "/search?q=backups", ada, `document.querySelector(".hit .snippet mark")`, ""},
		{"inbox", "/inbox", bob, "", ""},
		{"settings", "/settings", ada, "", ""},
		{"space-settings", "/s/eng/settings", ada, "", ""},
		{"templates", "/s/eng/templates", ada, "", ""},
	}
	// $DOCKET_LAYOUT_CORPUS: also every markdown file of a directory
	// (e.g. the go-proposals corpus), as documents read at 375 px.
	if dir := os.Getenv("DOCKET_LAYOUT_CORPUS"); dir != "" {
		files, _ := filepath.Glob(filepath.Join(dir, "*.md"))
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			d := jsonID(t, ada.api("POST", "/api/docs", `{"space": "eng", "body": `+quoted(string(b))+`}`))
			pages = append(pages, page{"corpus-" + strings.TrimSuffix(filepath.Base(f), ".md"), "/d/" + d, carol, editor, ""})
		}
	}
	// show opens pg in a window of width x height and waits until it is
	// laid out, its act done and the script's first changes settled.
	show := func(pg page, width, height int64) {
		p := pg.who
		p.do(chromedp.EmulateViewport(width, height))
		p.open(pg.path)
		if pg.ready != "" {
			p.waitJS(pg.ready, wait)
		}
		if pg.act != "" {
			eval[bool](p, "Promise.resolve("+pg.act+").then(() => true)")
		}
		p.waitJS(browsertest.Settled, wait)
	}
	for _, pg := range pages {
		p := pg.who
		show(pg, 375, 812)
		got := eval[string](p, `(() => {
			const w = innerWidth, sw = document.documentElement.scrollWidth;
			if (sw <= w) return "";
			const wide = [...document.querySelectorAll("body *")].filter(e => e.getBoundingClientRect().right > w + 0.5)
				.filter(e => !e.parentElement.closest("[data-wide]"))
				.slice(0, 5).map(e => e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") + (e.className && typeof e.className === "string" ? "." + e.className.trim().split(/\s+/).join(".") : "") + " " + Math.round(e.getBoundingClientRect().right));
			return sw + " > " + w + ": " + wide.join(", ");
		})()`)
		if got != "" {
			t.Errorf("%s (%s) scrolls sideways at 375 px: %s", pg.name, pg.path, got)
		}
		// Every control the page shows (the script's too) has a name; the
		// disabled checkboxes of rendered task lists are not controls.
		unlabelled := eval[string](p, `[...document.querySelectorAll("input:not([type=hidden]), select, textarea, button, [contenteditable=true], [role=button]")]
			.filter(e => e.getClientRects().length > 0 && !e.disabled)
			.filter(e => !((e.labels && e.labels.length) || e.getAttribute("aria-label") || e.getAttribute("aria-labelledby") || e.getAttribute("title") ||
				((e.tagName === "BUTTON" || e.getAttribute("role") === "button") && e.textContent.trim())))
			.map(e => e.outerHTML.slice(0, 80)).join("\n")`)
		if unlabelled != "" {
			t.Errorf("%s (%s): controls without a label:\n%s", pg.name, pg.path, unlabelled)
		}
		if shots != "" {
			layoutShot(t, p, shots, "layout-"+pg.name+"-phone")
			show(pg, 1280, 800)
			layoutShot(t, p, shots, "layout-"+pg.name)
			p.dark(true)
			p.waitJS(browsertest.Settled, wait)
			layoutShot(t, p, shots, "layout-"+pg.name+"-dark")
			p.dark(false)
		}
		p.do(chromedp.EmulateViewport(1280, 900))
		if pg.act != "" {
			eval[bool](p, `localStorage.removeItem("docket.mode"); true`)
		}
	}
}

// suggest is JavaScript that types q into the header's search field and
// waits for the title suggestions.
func suggest(q string) string {
	return fmt.Sprintf(`(async () => {
		const q = document.getElementById("site-q");
		q.focus();
		q.value = %q;
		q.dispatchEvent(new Event("input", {bubbles: true}));
		for (let i = 0; i < 50 && !document.querySelector("[role=listbox] [role=option]"); i++) await new Promise(r => setTimeout(r, 100));
	})()`, q)
}

// mode is JavaScript that switches the document page's view mode.
func mode(m string) string {
	return fmt.Sprintf(`document.querySelector(".dk-modes button[data-mode=%s]").click()`, m)
}

// layoutShot saves the viewport (not the whole page) as dir/name.png.
func layoutShot(t *testing.T, p *person, dir, name string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(p.ctx, 20*time.Second)
	defer cancel()
	buf, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Logf("screenshot %s: %v", name, err)
		return
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), buf, 0o644); err != nil {
		t.Fatal(err)
	}
}
