package server_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	docket "github.com/docket-dev/docket"
)

// The document page's task checkboxes and the new document form's
// templates, in Chromium, with two people at once.

// TestEditorTickTask: Bob ticks a task's checkbox in the rendered
// document and Alice, editing, sees the line ticked live; unticking works
// the same way, while Alice types above the tasks; Carol, a viewer, sees
// the boxes disabled.
func TestEditorTickTask(t *testing.T) {
	s, alice, space, doc, a, b := edPair(t, "# Plan\n\n- [ ] write the plan\n- [x] book a room\n")
	carol := s.e.signup("Carol")
	alice.addMember(space, carol, docket.RoleViewer)
	c := s.window("Carol")
	c.openDoc(doc)

	b.click(`.dk-modes button[data-mode="preview"]`)
	box := func(line string) string {
		return `document.querySelector('#doc-html li[data-task-line="` + line + `"] > input')`
	}
	b.waitJS(box("3")+` && !`+box("3")+`.disabled && !`+box("4")+`.disabled`, 20*time.Second)
	b.click(`#doc-html li[data-task-line="3"] > input`)
	want := "# Plan\n\n- [x] write the plan\n- [x] book a room\n"
	a.waitJS(editorTextJS+` === `+jsString(want), 20*time.Second)
	b.waitSaved()
	if got, _ := alice.docText(doc); got != want {
		t.Errorf("after Bob's tick the server has %q; want %q", got, want)
	}
	a.screenshot("ticked")

	// Alice adds a line above the tasks; once Bob's preview has it, he
	// unticks the second task, now at line 5.
	a.focusEditor(kb.Home)
	a.typeText("Owner: Alice")
	a.pressEnter()
	a.waitSaved()
	b.waitJS(box("5")+` && !`+box("5")+`.disabled && `+box("5")+`.checked`, 20*time.Second)
	b.click(`#doc-html li[data-task-line="5"] > input`)
	want = "Owner: Alice\n# Plan\n\n- [x] write the plan\n- [ ] book a room\n"
	a.waitJS(editorTextJS+` === `+jsString(want), 20*time.Second)
	b.waitJS(`!`+box("5")+`.checked`, 20*time.Second)
	// The action items follow the text a moment later.
	eventually(t, "action items: the first done, the second open", func() bool {
		got := alice.actions(doc)
		return len(got) == 2 && got[0].Done && !got[1].Done
	})

	// Carol may not edit: her boxes stay disabled.
	c.waitJS(`document.getElementById("doc")?.dataset.live === "ready"`, 20*time.Second)
	if !evalT[bool](c, `[...document.querySelectorAll("#doc-html li[data-task-line] > input")].every(i => i.disabled)`) {
		t.Errorf("a viewer's task boxes are clickable")
	}
	a.checkConsole()
	b.checkConsole()
	c.checkConsole()
}

// TestEditorNewDocFromTemplate: Bob picks the RFC template in the new
// document form and names the document; it opens in the editor with the
// template's sections under its title, and Alice, who opens it too, sees
// what Bob then writes into it live.
func TestEditorNewDocFromTemplate(t *testing.T) {
	s, alice, bob, space, _ := edSetup(t, "")
	rfc := alice.templates(space)[0]
	b := s.window("Bob")
	b.do(chromedp.Navigate(s.ts.URL + "/s/eng/new"))
	b.waitJS(`!!document.querySelector('input[name="template"][value="`+rfc.ID+`"]')`, 20*time.Second)
	if got := evalT[string](b, `document.querySelector('input[name="template"]:checked').value`); got != "" {
		t.Errorf("template chosen at first = %q; want Blank", got)
	}
	b.click(`input[name="template"][value="` + rfc.ID + `"]`)
	b.do(chromedp.SendKeys(`#new-title`, "Faster search"))
	b.screenshot("new-from-template")
	b.click(`.doc-form button[type="submit"]`)
	b.waitJS(`document.getElementById("doc")?.dataset.live === "ready"`, 20*time.Second)
	if got := b.editorText(); !strings.HasPrefix(got, "# Faster search\n\n## Summary\n") {
		t.Fatalf("editor of the new document starts %q; want the RFC sections under its title", got[:min(len(got), 60)])
	}
	id := evalT[string](b, `document.getElementById("doc").dataset.docId`)
	if got := evalT[string](b, `document.querySelector("#doc-head .badge.kind")?.textContent || ""`); !strings.Contains(strings.ToLower(got), "rfc") {
		t.Errorf("kind badge = %q; want RFC", got)
	}

	a := s.window("Alice")
	a.openDoc(id)
	a.focusEditor(kb.End) // the editor draws the lines in view only
	b.focusEditor(kb.End)
	b.typeText("Owner: Bob")
	a.waitJS(editorTextJS+`.endsWith("Owner: Bob")`, 20*time.Second)
	b.waitSaved()
	if got, _ := bob.docText(id); !strings.HasSuffix(got, "Owner: Bob") {
		t.Errorf("server text ends %q; want Owner: Bob", got[max(0, len(got)-30):])
	}
	a.checkConsole()
	b.checkConsole()
}
