package server_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	docket "github.com/docket-dev/docket"
	"github.com/docket-dev/docket/internal/testenv"
)

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
	ctx, cancel := context.WithTimeout(p.ctx, 10*time.Second)
	defer cancel()
	if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: slowAcksJS}); err != nil {
		p.t.Fatalf("%s: init script: %v", p.name, err)
	}
}

// pressEnter presses Enter as a keyboard does: one keydown that carries
// the text, so that a handler which prevents its default stops the text
// too (chromedp's KeyEvent sends the text as an event of its own).
func (p *edPage) pressEnter() {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 10*time.Second)
	defer cancel()
	down := input.DispatchKeyEventParams{Type: input.DispatchKeyEventTypeKeyDown, Key: "Enter", Code: "Enter", WindowsVirtualKeyCode: 13, NativeVirtualKeyCode: 13, Text: "\r", UnmodifiedText: "\r"}
	up := input.DispatchKeyEventParams{Type: input.DispatchKeyEventTypeKeyUp, Key: "Enter", Code: "Enter", WindowsVirtualKeyCode: 13, NativeVirtualKeyCode: 13}
	for _, ev := range []input.DispatchKeyEventParams{down, up} {
		if _, err := chromedp.Call(ctx, input.DispatchKeyEvent, ev); err != nil {
			p.t.Fatalf("%s: Enter: %v", p.name, err)
		}
	}
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
	a.waitJS(`document.getElementById("live-status").dataset.state === "saved"`, 10*time.Second)
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
	a.waitJS(`document.getElementById("live-status").dataset.state === "saved"`, 15*time.Second)
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
	s, alice, _, _, doc := edSetup(t, "")
	a := s.window("Alice")
	b := s.window("Bob")
	a.openDoc(doc)
	b.openDoc(doc)
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
	a.waitJS(`document.getElementById("live-status").dataset.state === "saved"`, 10*time.Second)
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
	s, alice, _, _, doc := edSetup(t, "# Plan\n\nShip it.\n")
	a := s.window("Alice")
	b := s.window("Bob")
	a.openDoc(doc)
	b.openDoc(doc)

	// Bob types while Alice watches; Alice reloads as soon as she has it.
	b.focusEditor(kb.End)
	b.typeText("Then rest.")
	b.waitJS(`document.getElementById("live-status").dataset.state === "saved"`, 10*time.Second)
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
	b.waitJS(`document.getElementById("live-status").dataset.state === "saved"`, 10*time.Second)
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
// meanwhile appears among the reviewers to choose from.
func TestEditorPageKeptCurrent(t *testing.T) {
	s, alice, _, space, doc := edSetup(t, "# Plan\n\nShip it.\n")
	a := s.window("Alice")
	b := s.window("Bob")
	a.openDoc(doc)
	b.openDoc(doc)
	if got := evalT[string](a, `document.querySelector("#doc-head .doc-version").textContent`); got != "1" {
		t.Fatalf("header version = %q; want 1", got)
	}
	before := evalT[string](a, `document.querySelector("#doc-head .doc-updated time").getAttribute("datetime")`)

	b.focusEditor(kb.End)
	b.typeText("Soon.")
	b.waitJS(`document.getElementById("live-status").dataset.state === "saved"`, 10*time.Second)
	_, v := alice.docText(doc)
	a.waitJS(fmt.Sprintf(`document.querySelector("#doc-head .doc-version").textContent === "%d"`, v), 10*time.Second)
	if after := evalT[string](a, `document.querySelector("#doc-head .doc-updated time").getAttribute("datetime")`); after <= before {
		t.Errorf("header updated at %s after Bob typed; want later than %s", after, before)
	}

	carol := s.e.signup("Carol")
	alice.addMember(space, carol, docket.RoleEditor)
	a.waitJS(`[...document.querySelectorAll('#review input[name="reviewers"]')].some(i => i.parentElement.textContent.includes("Carol"))`, 10*time.Second)
	a.screenshot("kept-current")
	a.checkConsole()
	b.checkConsole()
}
