package e2e_test

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/docket-dev/docket/internal/testenv"
)

const wait = 10 * time.Second

// signup creates an account through the sign-up form.
func (p *person) signup() {
	p.t.Helper()
	p.open("/signup")
	p.submitForm(`form[action="/signup"] button[type="submit"]`, map[string]string{
		"#signup-name":     p.name,
		"#signup-email":    strings.ToLower(p.name) + "@example.com",
		"#signup-password": "correct horse " + p.name,
	})
	p.waitJS(fmt.Sprintf(`location.pathname === "/" && %s`, contains("h1", "Hello, "+p.name)), wait)
}

// createSpace creates a space through the form of the spaces page.
func (p *person) createSpace(name, slug string) {
	p.t.Helper()
	p.open("/spaces")
	p.submitForm(`form[action="/spaces"] button[type="submit"]`, map[string]string{
		"#space-name": name, "#space-slug": slug,
	})
	p.waitJS(fmt.Sprintf(`location.pathname === "/s/%s" && %s`, slug, contains("h1", name)), wait)
}

// addMember gives the user of an email a role in a space, through the
// space's settings page.
func (p *person) addMember(slug, email, role string) {
	p.t.Helper()
	p.open("/s/" + slug + "/settings")
	p.submitForm(`form:has(#member-email) button[type="submit"]`, map[string]string{
		"#member-email": email, "#member-role": role,
	})
	p.waitJS(contains(".notice", "member is saved")+" && "+contains(".table", email), wait)
}

// newDoc creates a document through the new document form of a space and
// returns its id. fields are the form's (#new-title, #new-kind, #new-tags,
// #new-body).
func (p *person) newDoc(slug string, fields map[string]string) string {
	p.t.Helper()
	p.open("/s/" + slug + "/new")
	p.submitForm(`form:has(#new-body) button[type="submit"]`, fields)
	p.waitJS(`location.pathname.startsWith("/d/") && `+contains("h1", fields["#new-title"]), wait)
	return strings.TrimPrefix(eval[string](p, "location.pathname"), "/d/")
}

// openDoc opens a document page.
func (p *person) openDoc(id string) {
	p.t.Helper()
	p.open("/d/" + id)
	p.waitJS(`document.getElementById("doc")?.dataset.docId === `+fmt.Sprintf("%q", id), wait)
}

// status is the document's status as the review panel shows it.
const statusJS = `document.querySelector("#review .facts .badge")?.textContent.trim()`

// TestWebAppDecision goes through the decision process in the browser,
// with the pages and their forms only: sign up, create a space and a
// document, discuss it in a thread, review it with a concern that blocks
// until it is resolved, a last call and an approval, accept it, read the
// minutes, find it and the comments in search; a viewer gets no forms.
func TestWebAppDecision(t *testing.T) {
	s := newSite(t)
	b := browser(t)
	shots := shotDir(t)
	t.Logf("screenshots in %s", shots)
	ada := s.person(b, "Ada", shots)
	bob := s.person(b, "Bob", shots)
	carol := s.person(b, "Carol", shots)
	anon := s.person(b, "Anon", shots)

	anon.open("/")
	anon.screenshot("landing", true)
	// The first Tab reaches the skip link.
	anon.do(chromedp.KeyEvent(kb.Tab))
	if got := eval[string](anon, `document.activeElement.className`); got != "skip-link" {
		t.Errorf("first focus = %q; want the skip link", got)
	}
	anon.open("/login")
	anon.screenshot("login", true)
	ada.signup()
	bob.signup()
	carol.signup()

	// A space, with Bob as an editor and Carol as a viewer.
	ada.createSpace("Engineering", "eng")
	ada.addMember("eng", "bob@example.com", "editor")
	ada.addMember("eng", "carol@example.com", "viewer")
	// The last call may be short: Ada accepts as soon as Bob approves.
	ada.open("/s/eng/settings")
	ada.submitForm(`form.rules-form button[type="submit"]`, map[string]string{"#rules-last-call": "0"})
	ada.waitJS(contains(".notice", "decision rules are saved"), wait)
	ada.screenshot("space-settings")

	// A document, through the new document form.
	doc := ada.newDoc("eng", map[string]string{
		"#new-title": "Storage engine",
		"#new-kind":  "rfc",
		"#new-tags":  "storage, backend",
		"#new-body": "# Storage engine\n\nWe keep every document, op and comment in **one bbolt file**.\n\n" +
			"## Why\n\n- One file is easy to copy, and backups run while the server does.\n- Transactions are serialisable.\n\n" +
			"## Plan\n\n- [ ] @bob write the migration plan due:2030-01-15\n- [x] @ada measure fsync latency\n\n" +
			"```go\ndb, err := bolt.Open(path, 0o600, nil)\n```\n",
	})
	bobID := ""
	bob.openDoc(doc)
	bobID = eval[string](bob, `document.getElementById("doc").dataset.userId`)

	// A thread: Ada starts it, Bob replies, Ada resolves it.
	ada.openDoc(doc)
	ada.submitForm(`form.new-thread button[type="submit"]`, map[string]string{
		"#thread-body": "Should we keep one file per space instead?",
	})
	ada.waitJS(contains("#threads", "one file per space"), wait)
	thread := eval[string](ada, `document.querySelector("#threads article.thread").id.slice(2)`)
	bob.openDoc(doc)
	bob.submitForm("#t-"+thread+` .reply-form button[type="submit"]`, map[string]string{
		"#reply-" + thread: "One file for everything is simpler to back up.",
	})
	bob.waitJS(contains("#t-"+thread, "simpler to back up"), wait)
	ada.openDoc(doc)
	ada.submitForm("#t-"+thread+` .resolve-form button[type="submit"]`, map[string]string{
		"#note-" + thread: "One file it is.",
	})
	ada.waitJS(fmt.Sprintf(`document.getElementById("t-%s")?.dataset.status === "resolved"`, thread), wait)

	// Review with Bob as the reviewer.
	ada.click(fmt.Sprintf(`#review input[name="reviewers"][value=%q]`, bobID))
	ada.click(`form:has(input[name="to"][value="review"]) button[type="submit"]`)
	ada.waitJS(statusJS+` === "Review"`, wait)
	if got := ada.text("#review .reviewers"); !strings.Contains(got, "Bob") || !strings.Contains(got, "Waiting") {
		t.Errorf("reviewers = %q; want Bob, waiting", got)
	}

	// Bob raises a concern; it blocks the last call until it is resolved.
	bob.openDoc(doc)
	bob.submitForm(`button[name="verdict"][value="concern"]`, map[string]string{
		"#review-body": "What about backups while the server runs?",
	})
	bob.waitJS(contains("#threads", "backups while the server runs"), wait)
	ada.openDoc(doc)
	ada.waitJS(contains("#review", "unresolved concern"), wait)
	if n := eval[int](ada, `document.querySelectorAll('input[name="to"][value="last-call"]').length`); n != 0 {
		t.Errorf("last call offered with an open concern (%d forms)", n)
	}
	ada.screenshot("concern", true)
	concern := strings.TrimPrefix(eval[string](ada, `document.querySelector("#review .concerns a").getAttribute("href")`), "#t-")
	ada.submitForm("#t-"+concern+` .resolve-form button[type="submit"]`, map[string]string{
		"#note-" + concern: "Backups use bolt's online copy.",
	})
	ada.waitJS(fmt.Sprintf(`document.getElementById("t-%s")?.dataset.status === "resolved"`, concern), wait)

	// Last call, Bob approves, Ada accepts.
	ada.click(`form:has(input[name="to"][value="last-call"]) button[type="submit"]`)
	ada.waitJS(statusJS+` === "Last call"`, wait)
	bob.openDoc(doc)
	bob.click(`button[name="verdict"][value="approve"]`)
	bob.waitJS(contains("#review .reviewers", "Approved"), wait)
	ada.openDoc(doc)
	ada.submitForm(`button[name="to"][value="accepted"]`, map[string]string{
		"#decide-summary": "bbolt it is: one file, online backups.",
	})
	ada.waitJS(statusJS+` === "Accepted"`, wait)
	if got := ada.text("#review .decision"); !strings.Contains(got, "one file, online backups") || !strings.Contains(got, "Ada") {
		t.Errorf("decision block = %q", got)
	}
	ada.screenshot("document", true)
	ada.dark(true)
	ada.screenshot("document-dark", true)
	ada.dark(false)

	// The minutes show the decision.
	ada.click(`#review .decision a[href$="/minutes"]`)
	ada.waitJS(`location.pathname.endsWith("/minutes") && `+contains("#minutes", "one file, online backups"), wait)
	if got := ada.text("#minutes"); !strings.Contains(strings.ToLower(got), "accepted") || !strings.Contains(got, "Bob") {
		t.Errorf("minutes = %q; want the outcome and the reviewer", got)
	}
	if n := eval[int](ada, `document.querySelectorAll(".record-list li").length`); n != 1 {
		t.Errorf("frozen minutes listed = %d; want 1", n)
	}
	ada.screenshot("minutes", true)

	// Search finds the document and the comment, highlighted.
	found := `[...document.querySelectorAll(".hit")].some(h => h.querySelector(".type-%s") && h.querySelector(".snippet mark"))`
	if !testenv.Eventually(wait, func() bool {
		ada.open("/search?q=" + url.QueryEscape("backups"))
		return eval[bool](ada, fmt.Sprintf(found, "document")+" && "+fmt.Sprintf(found, "comment"))
	}) {
		t.Fatalf("search results:\n%s", ada.text("main"))
	}
	if got := eval[string](ada, `document.querySelector(".hit .snippet mark").textContent.toLowerCase()`); got != "backups" {
		t.Errorf("highlighted = %q; want the word searched for", got)
	}
	ada.screenshot("search", true)
	ada.dark(true)
	ada.screenshot("search-dark")
	ada.dark(false)
	ada.click(`.facet a[href*="type=comment"]`)
	ada.waitJS(`location.search.includes("type=comment") && document.querySelectorAll(".hit .type-document").length === 0`, wait)

	// History: an edit through the API, then the versions and their diff.
	edit := fmt.Sprintf(`fetch("/api/docs/%s/edits", {method: "POST", headers: {"Content-Type": "application/json"},
		body: JSON.stringify({version: 1, body: %q})}).then(r => r.status)`, doc,
		"# Storage engine\n\nWe keep every document, op and comment in **one bbolt file**.\n\n"+
			"## Why\n\n- One file is easy to copy, and backups run while the server does.\n- Transactions are serialisable.\n- Reads never block writes.\n\n"+
			"## Plan\n\n- [ ] @bob write the migration plan due:2030-01-15\n- [x] @ada measure fsync latency\n")
	if status := eval[int](ada, edit); status != 200 {
		t.Fatalf("edit = %d", status)
	}
	ada.open("/d/" + doc + "/history?from=1&to=2")
	ada.waitJS(`document.querySelectorAll(".diff-add").length > 0`, wait)
	ada.screenshot("history")
	ada.open("/settings")
	ada.screenshot("settings", true)

	// Bob's home page: the inbox first.
	bob.open("/")
	bob.waitJS(contains("#main", "Inbox"), wait)
	if got := bob.text(".inbox-list"); !strings.Contains(got, "Storage engine") {
		t.Errorf("Bob's inbox on the home page = %q; want the document", got)
	}
	bob.screenshot("home", true)
	bob.open("/inbox")
	bob.screenshot("inbox")
	bob.open("/s/eng")
	bob.screenshot("space", true)

	// A viewer reads, and gets no form to change anything.
	carol.openDoc(doc)
	if got := eval[string](carol, `document.getElementById("doc").dataset.role`); got != "viewer" {
		t.Errorf("Carol's role = %q; want viewer", got)
	}
	for _, sel := range []string{"#edit-form", "#doc-source", ".reply-form", ".resolve-form", ".new-thread", ".move-form", ".review-form"} {
		if n := eval[int](carol, fmt.Sprintf(`document.querySelectorAll(%q).length`, sel)); n != 0 {
			t.Errorf("viewer sees %d %s", n, sel)
		}
	}
	if got := carol.text("#doc-html"); !strings.Contains(got, "one bbolt file") {
		t.Errorf("viewer's document text = %q", got)
	}
}
