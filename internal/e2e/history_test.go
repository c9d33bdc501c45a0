package e2e_test

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/docket-dev/docket/internal/testenv"
)

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
