package server_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	docket "github.com/docket-dev/docket"
	"github.com/docket-dev/docket/internal/testenv"
)

// edPair sets up as edSetup does and opens the document in a window of
// Alice's and one of Bob's.
func edPair(t *testing.T, body string) (s *edServer, alice *client, space, doc string, a, b *edPage) {
	t.Helper()
	s, alice, _, space, doc = edSetup(t, body)
	a, b = s.window("Alice"), s.window("Bob")
	a.openDoc(doc)
	b.openDoc(doc)
	return s, alice, space, doc, a, b
}

// waitSaved waits until the window shows that the server has all its edits.
func (p *edPage) waitSaved() {
	p.t.Helper()
	p.waitJS(`document.getElementById("live-status").dataset.state === "saved"`, 15*time.Second)
}

// slowAcksJS, run in a window before its pages, holds back what the live
// socket receives by window.liveDelay milliseconds (0: not at all), as a
// slow network does with the server's acks.
const slowAcksJS = `(() => {
  const WS = window.WebSocket;
  window.liveDelay = 0;
  window.WebSocket = class extends WS {
    set onmessage(fn) {
      super.onmessage = fn && ((ev) => {
        const d = window.liveDelay;
        if (!d) return fn.call(this, ev);
        setTimeout(() => fn.call(this, ev), d);
      });
    }
    get onmessage() { return super.onmessage; }
  };
})()`

// slowAcks installs slowAcksJS in the window for the pages it opens next.
func (p *edPage) slowAcks() {
	p.t.Helper()
	cdpCall(p, "init script", page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: slowAcksJS})
}

// cdpCall runs one DevTools command in p's window; what names it if it
// fails the test.
func cdpCall[P, R any](p *edPage, what string, cmd cdp.Command[P, R], params P) R {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 10*time.Second)
	defer cancel()
	r, err := chromedp.Call(ctx, cmd, params)
	if err != nil {
		p.t.Fatalf("%s: %s: %v", p.name, what, err)
	}
	return r
}

// pressEnter presses Enter as a keyboard does: one keydown that carries
// the text, so that a handler which prevents its default stops the text
// too (chromedp's KeyEvent sends the text as an event of its own).
func (p *edPage) pressEnter() {
	p.t.Helper()
	down := input.DispatchKeyEventParams{Type: input.DispatchKeyEventTypeKeyDown, Key: "Enter", Code: "Enter", WindowsVirtualKeyCode: 13, NativeVirtualKeyCode: 13, Text: "\r", UnmodifiedText: "\r"}
	up := input.DispatchKeyEventParams{Type: input.DispatchKeyEventTypeKeyUp, Key: "Enter", Code: "Enter", WindowsVirtualKeyCode: 13, NativeVirtualKeyCode: 13}
	for _, ev := range []input.DispatchKeyEventParams{down, up} {
		cdpCall(p, "Enter", input.DispatchKeyEvent, ev)
	}
}

// focusAlways makes the window behave as the focused one (:focus-within
// and focus events), as a person's window is, though windows take turns.
func (p *edPage) focusAlways() {
	p.t.Helper()
	cdpCall(p, "focus emulation", emulation.SetFocusEmulationEnabled, emulation.SetFocusEmulationEnabledParams{Enabled: true})
}

// statusText is the text of the connection state.
func (p *edPage) statusText() string {
	p.t.Helper()
	return evalT[string](p, `document.getElementById("live-status")?.textContent || ""`)
}

// TestEditorNewDocAndSavedState: a new, empty document waits for its text
// with a placeholder and the cursor in the editor; "Saved" shows only once
// the server has acknowledged every keystroke ("Saving…" until then), and
// edits typed offline are counted as waiting.
func TestEditorNewDocAndSavedState(t *testing.T) {
	s, alice, _, _, doc := edSetup(t, "")
	a := s.window("Alice")
	b := s.window("Bob")
	a.slowAcks()
	a.openDoc(doc)
	b.openDoc(doc)

	if !evalT[bool](a, `document.activeElement?.classList.contains("cm-content") && !!document.querySelector(".cm-placeholder")`) {
		t.Errorf("empty document: want the cursor in the editor and a placeholder")
	}
	a.screenshot("empty")

	// The server's acks take 700 ms: the keystrokes show "Saving…" at
	// once, and when "Saved" shows the server has the text.
	evalT[int](a, `window.liveDelay = 700`)
	a.typeText("Hi")
	if got, text := a.status(), a.statusText(); got != "saving" || text != "Saving…" {
		t.Errorf("right after typing: status %q %q; want saving, Saving…", got, text)
	}
	a.waitSaved()
	if got, _ := alice.docText(doc); got != "Hi" {
		t.Errorf("when Saved shows the server has %q; want Hi", got)
	}
	evalT[int](a, `window.liveDelay = 0`)

	// Offline, the edits wait and are counted.
	a.offline(true)
	a.waitJS(`document.getElementById("live-status").dataset.state === "offline"`, 10*time.Second)
	a.do(chromedp.KeyEvent(kb.End))
	a.typeText("!!!")
	if got := a.statusText(); got != "Offline, 3 changes waiting" {
		t.Errorf("offline after 3 keystrokes: %q; want Offline, 3 changes waiting", got)
	}
	a.offline(false)
	a.waitSaved()
	if got, _ := alice.docText(doc); got != "Hi!!!" {
		t.Errorf("back online and Saved: the server has %q; want Hi!!!", got)
	}
	b.waitJS(editorTextJS+` === "Hi!!!"`, 10*time.Second)
	a.checkConsole("ERR_INTERNET_DISCONNECTED", "WebSocket")
	b.checkConsole()
}

// TestEditorEnterEndsList: Enter on an empty list item ends the list with
// a blank line, so that the next paragraph is not part of the list, for
// the writer and for another reader's preview.
func TestEditorEnterEndsList(t *testing.T) {
	_, alice, _, doc, a, b := edPair(t, "")
	b.click(`.dk-modes button[data-mode="preview"]`)

	a.typeText("Steps:")
	a.pressEnter()
	a.typeText("- one")
	a.pressEnter()
	a.typeText("two")
	a.pressEnter()
	a.pressEnter()
	a.typeText("After the list.")
	want := "Steps:\n- one\n- two\n\nAfter the list."
	a.waitSaved()
	if got, _ := alice.docText(doc); got != want {
		t.Errorf("text = %q; want %q", got, want)
	}
	b.waitJS(`[...document.querySelectorAll("#doc-html > p")].some(p => p.textContent === "After the list.") &&
		document.querySelectorAll("#doc-html li").length === 2`, 10*time.Second)

	// Undo takes the blank line back with the marker, in one step.
	a.do(chromedp.KeyEvent("z", chromedp.KeyModifiers(chromedp.ModifierCtrl)))
	a.waitJS(editorTextJS+` === "Steps:\n- one\n- two\n- "`, 5*time.Second)
	a.checkConsole()
	b.checkConsole()
}

// TestEditorSinceLastVisit: what a reader watched live is not news when
// the page is reloaded at once; what another wrote while the reader was
// away is told in lines changed, by whom and when, with the diff linked.
func TestEditorSinceLastVisit(t *testing.T) {
	s, alice, _, doc, a, b := edPair(t, "# Plan\n\nShip it.\n")

	// Bob types while Alice watches; Alice reloads as soon as she has it.
	b.focusEditor(kb.End)
	b.typeText("Then rest.")
	b.waitSaved()
	a.waitJS(editorTextJS+`.endsWith("Then rest.")`, 10*time.Second)
	a.do(chromedp.Reload())
	a.waitJS(`document.getElementById("doc")?.dataset.live === "ready"`, 10*time.Second)
	if evalT[bool](a, `!!document.querySelector(".since-visit")`) {
		t.Errorf("after watching Bob type and reloading: %q; want no notice",
			evalT[string](a, `document.querySelector(".since-visit").textContent`))
	}

	// Alice leaves; once her visit is recorded, Bob adds two lines.
	_, seen := alice.docText(doc)
	a.do(chromedp.Navigate(s.ts.URL + "/healthz"))
	if !testenv.Eventually(10*time.Second, func() bool {
		v, _ := alice.must(http.StatusOK, "GET", "/api/docs/"+doc, nil).body["lastVisit"].(map[string]any)
		return v != nil && v["version"] == float64(seen)
	}) {
		t.Fatalf("Alice's visit of version %d was not recorded on leaving", seen)
	}
	b.pressEnter()
	b.typeText("Then ship again.")
	b.waitSaved()
	a.openDoc(doc)
	got := evalT[string](a, `document.querySelector(".since-visit")?.textContent.replace(/\s+/g, " ").trim() || ""`)
	for _, want := range []string{"Edited by Bob just now, since your last visit on ", ": 1 line changed, see the changes."} {
		if !strings.Contains(got, want) {
			t.Errorf("notice = %q; want %q in it", got, want)
		}
	}
	a.screenshot("since-visit")
	a.checkConsole()
	b.checkConsole()
}

// TestEditorPageKeptCurrent: while others type, the header shows the
// version and time of the last change; a member added to the space
// meanwhile appears among the reviewers to choose from; a task written
// in the text appears among the action items.
func TestEditorPageKeptCurrent(t *testing.T) {
	s, alice, space, doc, a, b := edPair(t, "# Plan\n\nShip it.\n")
	if got := evalT[string](a, `document.querySelector("#doc-head .doc-version").textContent`); got != "1" {
		t.Fatalf("header version = %q; want 1", got)
	}
	before := evalT[string](a, `document.querySelector("#doc-head .doc-updated time").getAttribute("datetime")`)

	b.focusEditor(kb.End)
	b.typeText("Soon.")
	b.waitSaved()
	_, v := alice.docText(doc)
	a.waitJS(fmt.Sprintf(`document.querySelector("#doc-head .doc-version").textContent === "%d"`, v), 10*time.Second)
	if after := evalT[string](a, `document.querySelector("#doc-head .doc-updated time").getAttribute("datetime")`); after <= before {
		t.Errorf("header updated at %s after Bob typed; want later than %s", after, before)
	}

	carol := s.e.signup("Carol")
	alice.addMember(space, carol, docket.RoleEditor)
	a.waitJS(`[...document.querySelectorAll('#review input[name="reviewers"]')].some(i => i.parentElement.textContent.includes("Carol"))`, 10*time.Second)
	a.screenshot("kept-current")

	// A task Alice writes appears in Bob's action items.
	if evalT[bool](b, `document.getElementById("actions").checkVisibility()`) {
		t.Errorf("action items shown before there are any")
	}
	a.focusEditor(kb.End)
	a.pressEnter()
	a.pressEnter()
	a.typeText("- [ ] write the plan")
	b.waitJS(`document.getElementById("actions").checkVisibility() && document.querySelector("#actions .action-list").textContent.includes("write the plan")`, 15*time.Second)
	a.checkConsole()
	b.checkConsole()
}

// rectJS is the client rectangle of the element sel finds, as JSON.
func rectJS(sel string) string {
	return `(() => { const r = document.querySelector(` + "`" + sel + "`" + `)?.getBoundingClientRect(); return r ? {top: r.top, bottom: r.bottom, left: r.left, right: r.right} : null; })()`
}

type rect struct{ Top, Bottom, Left, Right float64 }

// TestEditorCommentCardAndCursors: at 1280 px a new comment is written in
// a card in the margin beside its text (not over it), with the app's
// buttons; the reply and resolution boxes of a thread open only when it
// is in use; another person's name shows at their cursor while they type
// and on hover, not for good.
func TestEditorCommentCardAndCursors(t *testing.T) {
	var body strings.Builder
	body.WriteString("# Storage plan\n\n")
	for i := 1; i <= 8; i++ {
		fmt.Fprintf(&body, "Paragraph %d: we keep the data in one file and back it up every night.\n\n", i)
	}
	s, alice, _, _, doc := edSetup(t, body.String())
	q := "Paragraph 2: we keep"
	start := strings.Index(body.String(), q)
	th := alice.createThread(doc, map[string]any{"version": 1, "start": start, "end": start + len(q)}, "Why one file?")
	a := s.window("Alice")
	b := s.window("Bob")
	for _, p := range []*edPage{a, b} {
		p.do(chromedp.EmulateViewport(1280, 900))
		p.focusAlways()
	}
	a.openDoc(doc)
	b.openDoc(doc)

	// The thread's reply and resolve wait until it is in use.
	card := "#t-" + th
	folded := `!document.querySelector("` + card + ` .resolve-form input[name=note]").checkVisibility() && !document.querySelector("` + card + ` .reply-form button").checkVisibility()`
	if !evalT[bool](a, folded) {
		t.Errorf("resolution note or reply button shown before the thread is used")
	}
	a.do(chromedp.Focus(chromedp.CSS(card + ` textarea[name="body"]`)))
	a.waitJS(`document.querySelector("`+card+` .resolve-form input[name=note]").checkVisibility() && document.querySelector("`+card+` .reply-form button").checkVisibility()`, 5*time.Second)
	a.screenshot("thread-in-use")

	// Alice selects paragraph 5 in the editor and comments on it.
	a.focusEditor(kb.Home)
	evalT[bool](a, `(() => {
		const line = [...document.querySelectorAll(".cm-content > .cm-line")].find(l => l.textContent.startsWith("Paragraph 5"));
		const text = line.firstChild, r = document.createRange();
		r.setStart(text, 0);
		r.setEnd(text, text.length);
		getSelection().removeAllRanges();
		getSelection().addRange(r);
		return true;
	})()`)
	a.click(".dk-comment-button")
	a.waitJS(`document.querySelector("#threads #t-draft.dk-placed textarea") === document.activeElement`, 5*time.Second)
	a.waitJS(`!!document.querySelector(".dk-comment-form button.button.primary")`, 5*time.Second)
	sel := evalT[rect](a, rectJS(".cm-content .dk-draft-mark"))
	draft := evalT[rect](a, rectJS("#t-draft"))
	if draft.Left < sel.Right || draft.Top > sel.Top+40 || draft.Bottom < sel.Top {
		t.Errorf("new comment card at %+v; want it beside the selected text at %+v", draft, sel)
	}
	if w := evalT[string](a, `getComputedStyle(document.querySelector("#t-draft textarea")).fontWeight`); w != "400" {
		t.Errorf("comment text weight = %s; want 400", w)
	}
	a.screenshot("comment-card")
	a.typeText("Every night is not enough.")
	a.click(`#t-draft button[type="submit"]`)
	a.waitJS(`!document.getElementById("t-draft") && [...document.querySelectorAll("#threads .comment-body")].some(c => c.textContent.includes("Every night is not enough."))`, 10*time.Second)
	b.waitJS(`[...document.querySelectorAll("#threads .comment-body")].some(c => c.textContent.includes("Every night is not enough."))`, 10*time.Second)

	// Bob's name shows at his cursor while he types, then goes; hovering
	// his cursor shows it again.
	label := `[...document.querySelectorAll(".cm-editor .dk-cursor-name")].find(e => e.textContent === "Bob")`
	b.focusEditor(kb.End)
	b.typeText("More.")
	a.waitJS(label+`?.checkVisibility({visibilityProperty: true})`, 5*time.Second)
	a.screenshot("typing-label")
	a.waitJS(label+` && !`+label+`.checkVisibility({visibilityProperty: true})`, 10*time.Second)
	at := evalT[rect](a, rectJS(".cm-editor .dk-cursor"))
	a.do(chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, at.Left+1, (at.Top+at.Bottom)/2))
	a.waitJS(label+`?.checkVisibility({visibilityProperty: true})`, 5*time.Second)
	a.checkConsole()
	b.checkConsole()
}

// TestEditorRoomForText: at 1280 px an editor starts in the editor alone
// (side by side would leave each pane 400 px), with a readable line
// length; the side panel folds away (and stays so) to give side by side
// the page's width.
func TestEditorRoomForText(t *testing.T) {
	s, _, _, _, doc := edSetup(t, "# Plan\n\n"+strings.Repeat("A sentence that goes on for a while. ", 30)+"\n")
	a := s.window("Alice")
	a.do(chromedp.EmulateViewport(1280, 900))
	a.openDoc(doc)
	width := func(sel string) float64 {
		r := evalT[rect](a, rectJS(sel))
		return r.Right - r.Left
	}
	if got := evalT[string](a, `document.querySelector(".dk-modes [aria-pressed=true]").dataset.mode`); got != "edit" {
		t.Errorf("mode at 1280 px = %s; want edit", got)
	}
	if w := width(".cm-content"); w < 700 || w > 850 {
		t.Errorf("editor text %.0f px wide at 1280 px; want 700 to 850", w)
	}
	a.screenshot("edit")

	a.click(".dk-side-toggle")
	a.click(`.dk-modes button[data-mode="split"]`)
	a.waitJS(`!document.querySelector(".doc-side").checkVisibility()`, 5*time.Second)
	if w := width(".dk-editor-pane"); w < 550 {
		t.Errorf("side by side without the side panel: editor %.0f px wide; want at least 550", w)
	}
	a.screenshot("split-no-side")
	a.openDoc(doc)
	if evalT[bool](a, `document.querySelector(".doc-side").checkVisibility()`) || evalT[string](a, `document.querySelector(".dk-side-toggle").textContent`) != "Show side panel" {
		t.Errorf("after a reload the side panel is shown; want it kept folded")
	}
	a.click(".dk-side-toggle")
	a.waitJS(`document.querySelector(".doc-side").checkVisibility()`, 5*time.Second)
	a.checkConsole()
}
