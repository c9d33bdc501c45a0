package e2e_test

import (
	"fmt"
	"net/url"
	"strconv"
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

// typeAtEnd types s at the end of the document in the editor, one key
// at a time, and waits until the server has the text.
func (p *person) typeAtEnd(doc, s string) {
	p.t.Helper()
	p.waitJS(`document.querySelector(".cm-content")?.contentEditable === "true"`, wait)
	p.do(chromedp.Focus(chromedp.CSS(".cm-content")), chromedp.KeyEvent(kb.End, chromedp.KeyModifiers(chromedp.ModifierCtrl)))
	for _, r := range s {
		p.do(chromedp.KeyEvent(string(r)))
	}
	var body string
	if !testenv.Eventually(wait, func() bool {
		body = eval[string](p, fmt.Sprintf(`fetch("/api/docs/%s").then(r => r.json()).then(d => d.body)`, doc))
		return strings.HasSuffix(strings.TrimRight(body, "\n"), s) && !eval[bool](p, `document.getElementById("live-status")?.dataset.state !== "saved"`)
	}) {
		p.t.Fatalf("%s: the server has %q; want it to end with %q", p.name, body, s)
	}
}

// key presses a key on the focused element.
func (p *person) key(k string) {
	p.t.Helper()
	p.do(chromedp.KeyEvent(k))
}

// TestWebAppHistory: edits in the editor make versions; the history page's
// slider, moved with the keyboard, replays them with author and time; the
// session buttons jump to a live session's boundaries; the markdown view
// marks the change. Back on the document, the notice says what others
// changed since the last visit and links the diff.
func TestWebAppHistory(t *testing.T) {
	s := newSite(t)
	b := browser(t)
	shots := shotDir(t)
	ada := s.person(b, "Ada", shots)
	bob := s.person(b, "Bob", shots)
	ada.signup()
	bob.signup()
	ada.createSpace("Product", "product")
	ada.addMember("product", "bob@example.com", "editor")
	doc := ada.newDoc("product", map[string]string{
		"#new-title": "Launch plan",
		"#new-kind":  "notes",
		"#new-body": "# Launch plan\n\nWe ship in **May**.\n\n## Steps\n\n1. Freeze the features on 1 April.\n" +
			"2. Two weeks of beta with ten teams.\n3. Write the migration guide.\n\n## Open questions\n\n" +
			"- Who answers support mail during the launch week?\n- Do we keep the old export format?\n\n",
	})

	// Versions typed live by Ada, then by Bob.
	ada.typeAtEnd(doc, "Risks.")
	ada.typeAtEnd(doc, " None so far.")
	ada.open("/") // leaves the document
	bob.openDoc(doc)
	bob.typeAtEnd(doc, " Agreed")
	bob.submitForm(`form.new-thread button[type="submit"]`, map[string]string{
		"#thread-body": "Should support mail go to the on-call person?",
	})
	bob.waitJS(contains("#threads", "on-call person"), wait)
	bob.open("/")

	// ShareDB may send keys typed while an op is in flight as one op, so
	// the number of versions is what the slider says.
	hist := "/d/" + doc + "/history"
	ada.open(hist)
	ada.waitJS(`!document.querySelector(".replay-slider").hidden`, wait)
	latest := eval[string](ada, `document.getElementById("replay-range").max`)
	n, _ := strconv.Atoi(latest)
	if n < 3 {
		t.Fatalf("slider max = %s; want at least 3 versions", latest)
	}
	// Home goes to version 0, the right arrow to version 1: the text as
	// first written, without what was typed later.
	ada.do(chromedp.Focus(chromedp.CSS("#replay-range")))
	ada.key(kb.Home)
	ada.waitJS(contains("#replay-meta", "Version 0"), wait)
	ada.key(kb.ArrowRight)
	ada.waitJS(contains("#replay-meta", "Version 1")+` && `+contains("#replay-text", "We ship in May.")+
		` && !`+contains("#replay-text", "Risks"), wait)
	if got := ada.text("#replay-meta"); !strings.Contains(got, "by Ada") || !strings.Contains(got, time.Now().UTC().Format("2006")) {
		t.Errorf("meta of version 1 = %q; want the author and the time", got)
	}
	if got := eval[string](ada, `new URL(location.href).searchParams.get("v")`); got != "1" {
		t.Errorf("URL v = %q; want 1", got)
	}
	// The compare form follows the slider: version 1 against the current one.
	if got := eval[string](ada, `document.getElementById("cmp-from").value + ".." + document.getElementById("cmp-to").value`); got != "1.."+latest {
		t.Errorf("compare form = %s; want 1..%s", got, latest)
	}
	ada.key(kb.ArrowRight)
	ada.waitJS(contains("#replay-meta", "Version 2")+` && `+contains("#replay-meta", "by Ada")+` && `+contains("#replay-text", "R"), wait)
	ada.key(kb.End)
	ada.waitJS(contains("#replay-meta", "Version "+latest)+` && `+contains("#replay-meta", "by Bob")+` && `+contains("#replay-text", "Risks. None so far. Agreed"), wait)
	if got := eval[string](ada, `document.getElementById("replay-range").getAttribute("aria-valuetext")`); !strings.HasPrefix(got, "Version "+latest+" of "+latest+", by Bob") {
		t.Errorf("aria-valuetext = %q", got)
	}

	// Sessions: the previous-session button goes to a recorded boundary.
	ada.waitJS(`!document.querySelector(".replay-prev-session").hidden`, wait)
	ada.click(".replay-prev-session")
	ada.waitJS(`[...document.querySelectorAll("#sessions li")].some(li => [li.dataset.start, li.dataset.end].includes(document.getElementById("replay-range").value)) && document.getElementById("replay-range").value !== "14"`, wait)
	v := eval[string](ada, `document.getElementById("replay-range").value`)
	ada.waitJS(contains("#replay-meta", "Version "+v), wait)

	// The markdown view marks what the version inserted.
	ada.click(`input[name="view"][value="source"]`)
	ada.do(chromedp.Focus(chromedp.CSS("#replay-range")))
	ada.key(kb.End)
	ada.waitJS(contains("#replay-meta", "Version "+latest)+` && " Agreed".endsWith(document.querySelector("#replay-source ins")?.textContent || "-")`, wait)
	ada.key(kb.ArrowLeft)
	prev := fmt.Sprint(n - 1)
	ada.waitJS(contains("#replay-meta", "Version "+prev+" ")+` && document.querySelector("#replay-source")?.getAttribute("aria-label") === "Markdown of version `+prev+` with its change" && document.querySelector("#replay-source ins")`, wait)
	if got := eval[string](ada, `new URL(location.href).searchParams.get("view")`); got != "source" {
		t.Errorf("URL view = %q; want source", got)
	}
	ada.screenshot("slider", true)
	ada.dark(true)
	ada.screenshot("slider-dark")
	ada.dark(false)

	// The document page: Bob's changes since Ada's visit, with the diff
	// from the version she last saw: she saw her own edits live, and
	// leaving the page moved her visit to them.
	ada.openDoc(doc)
	adaID := eval[string](ada, `document.getElementById("doc").dataset.userId`)
	bobOps := eval[int](ada, fmt.Sprintf(`fetch("/api/docs/%s/history?limit=1000").then(r => r.json()).then(j => j.ops.filter(o => o.author !== %q && o.v > 0).length)`, doc, adaID))
	ada.waitJS(contains(".since-visit", "Edited by Bob")+` && `+contains(".since-visit", "changed, see the changes")+` && `+contains(".since-threads", "new thread"), wait)
	href := eval[string](ada, `document.querySelector(".since-visit a").getAttribute("href")`)
	if want := fmt.Sprintf("/d/%s/history?from=%d&to=%s#diff-h", doc, n-bobOps, latest); href != want {
		t.Errorf("diff link = %q; want %q", href, want)
	}
	ada.screenshot("since-visit", true)
	ada.click(".since-visit a")
	ada.waitJS(contains("#diff-h", fmt.Sprintf("Changes from version %d to %s", n-bobOps, latest)), wait)
	ada.openDoc(doc)
	if n := eval[int](ada, `document.querySelectorAll(".since-visit").length`); n != 0 {
		t.Errorf("notice still shown on the next visit")
	}
}

// TestWebAppAmended: a document edited after its decision shows the
// banner with the number of changes, and its link opens the diff since
// the decision; the owner amends it with the page's form, which opens
// round 2 and keeps round 1.
func TestWebAppAmended(t *testing.T) {
	s := newSite(t)
	b := browser(t)
	shots := shotDir(t)
	ada, bob := s.person(b, "Ada", shots), s.person(b, "Bob", shots)
	ada.signup()
	bob.signup()
	ada.api("POST", "/api/spaces", `{"slug": "eng", "name": "Engineering"}`)
	ada.api("POST", "/api/spaces/eng/members", `{"email": "bob@example.com", "role": "editor"}`)
	ada.api("PATCH", "/api/spaces/eng/rules", `{"requireLastCall": false}`)
	created := ada.api("POST", "/api/docs", `{"space": "eng", "kind": "rfc", "body": "# Backups\n\nNightly, kept for a month.\n"}`)
	doc := jsonID(t, created)
	due := time.Now().Add(72 * time.Hour).UTC().Format(time.RFC3339)
	ada.api("POST", "/api/docs/"+doc+"/transition", `{"to": "review", "due": "`+due+`", "reviewers": ["bob@example.com"]}`)
	bob.api("POST", "/api/docs/"+doc+"/reviews", `{"verdict": "approve"}`)
	ada.api("POST", "/api/docs/"+doc+"/transition", `{"to": "accepted", "decision": {"summary": "Nightly it is."}}`)
	ada.api("POST", "/api/docs/"+doc+"/edits", `{"version": 1, "body": "# Backups\n\nNightly, kept for a month.\n\nRestores are tested weekly.\n"}`)

	bob.openDoc(doc)
	bob.waitJS(contains(".amended-banner", "Edited after the decision: 2 lines changed, see them."), wait)
	bob.screenshot("banner", true)
	if got := bob.text("#review .reviewers"); !strings.Contains(got, "Approved") || strings.Contains(got, "does not count") {
		t.Errorf("reviewers of the decided document = %q; want Bob approved, without a stale note", got)
	}
	bob.click(".amended-banner a")
	bob.waitJS(`location.pathname.endsWith("/history") && location.search === "?from=1&to=2"`, wait)
	bob.waitJS(contains("main", "Restores are tested weekly."), wait)
	bob.screenshot("diff")

	ada.openDoc(doc)
	ada.submitForm(`form:has(input[name="amend"]) button[type="submit"]`, nil)
	ada.waitJS(statusJS+` === "Review" && `+contains("#review .earlier-decisions", "Round 1: Accepted by Ada"), wait)
	if got := ada.text("#doc-head"); strings.Contains(got, "Edited after the decision") {
		t.Errorf("head in round 2 = %q; want no banner", got)
	}
	ada.screenshot("round-2")
}
