package server_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp/kb"
	"github.com/docket-dev/docket/internal/testenv"
)

// A document whose HTML would be over the output cap (700 KB of empty
// headings, each with its id, make 9 MB of HTML) opens with its text as
// written under the notice, and its editor loads and saves what is
// typed.
func TestEditorUnrenderableDocument(t *testing.T) {
	body := strings.Repeat("#\n", 350000)
	s, alice, _, _, doc := edSetup(t, body)
	if got := alice.do("GET", "/api/docs/"+doc+"/html", nil); got.status != 413 {
		t.Fatalf("GET html = %d; want 413", got.status)
	}
	a := s.window("Alice")
	a.openDoc(doc)
	if got := evalT[string](a, `document.querySelector("#doc-html .notice")?.textContent || ""`); !strings.Contains(got, "This document could not be rendered") {
		t.Errorf("notice = %q", got)
	}
	if got := evalT[int](a, `document.querySelector("#doc-html pre.unrendered")?.textContent.length || 0`); got != len(body) {
		t.Errorf("the text shown is %d characters; want %d", got, len(body))
	}
	a.focusEditor(kb.Home)
	a.typeText("Typed. ")
	testenv.WaitFor(t, 20*time.Second, "the typing to be saved", func() bool {
		text, _ := alice.docText(doc)
		return text == "Typed. "+body
	})
	a.screenshot("unrenderable")
	a.checkConsole("/api/docs/" + doc + "/html")
}
