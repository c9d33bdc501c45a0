package server_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// TestEditorNewDocFromTemplate: Bob picks the RFC template in the new
// document form and names the document; it opens in the editor with the
// template's sections under its title, and Alice, who opens it too, sees
// what Bob then writes into it live.
func TestEditorNewDocFromTemplate(t *testing.T) {
	s, alice, bob, space, _ := edSetup(t, "")
	rfc := alice.templates(space)[0]
	b := s.window("Bob")
	b.do(chromedp.Navigate(s.ts.URL + "/s/eng/new"))
	b.waitJS(`!!document.querySelector('input[name="template"][value="`+rfc.ID+`"]')`, 10*time.Second)
	if got := evalT[string](b, `document.querySelector('input[name="template"]:checked').value`); got != "" {
		t.Errorf("template chosen at first = %q; want Blank", got)
	}
	b.click(`input[name="template"][value="` + rfc.ID + `"]`)
	b.do(chromedp.SendKeys(`#new-title`, "Faster search"))
	b.screenshot("new-from-template")
	b.click(`.doc-form button[type="submit"]`)
	b.waitJS(`document.getElementById("doc")?.dataset.live === "ready"`, 15*time.Second)
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
	a.waitJS(editorTextJS+`.endsWith("Owner: Bob")`, 10*time.Second)
	b.waitSaved()
	if got, _ := bob.docText(id); !strings.HasSuffix(got, "Owner: Bob") {
		t.Errorf("server text ends %q; want Owner: Bob", got[max(0, len(got)-30):])
	}
	a.checkConsole()
	b.checkConsole()
}
