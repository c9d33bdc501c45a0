package server_test

import (
	"testing"
	"time"

	"github.com/chromedp/chromedp/kb"
	docket "github.com/docket-dev/docket"
)

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
	b.waitJS(box("3")+` && !`+box("3")+`.disabled && !`+box("4")+`.disabled`, 10*time.Second)
	b.click(`#doc-html li[data-task-line="3"] > input`)
	want := "# Plan\n\n- [x] write the plan\n- [x] book a room\n"
	a.waitJS(editorTextJS+` === `+jsString(want), 10*time.Second)
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
	b.waitJS(box("5")+` && !`+box("5")+`.disabled && `+box("5")+`.checked`, 10*time.Second)
	b.click(`#doc-html li[data-task-line="5"] > input`)
	want = "Owner: Alice\n# Plan\n\n- [x] write the plan\n- [ ] book a room\n"
	a.waitJS(editorTextJS+` === `+jsString(want), 10*time.Second)
	b.waitJS(`!`+box("5")+`.checked`, 10*time.Second)
	if got := alice.actions(doc); len(got) != 2 || !got[0].Done || got[1].Done {
		t.Errorf("action items after the ticks = %+v; want the first done, the second open", got)
	}

	// Carol may not edit: her boxes stay disabled.
	c.waitJS(`document.getElementById("doc")?.dataset.live === "ready"`, 10*time.Second)
	if !evalT[bool](c, `[...document.querySelectorAll("#doc-html li[data-task-line] > input")].every(i => i.disabled)`) {
		t.Errorf("a viewer's task boxes are clickable")
	}
	a.checkConsole()
	b.checkConsole()
	c.checkConsole()
}
