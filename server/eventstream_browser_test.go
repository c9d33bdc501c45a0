package server_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// TestEditorPushedUpdates opens one document in two windows: what Bob does
// in his (a thread from a selection) and what Alice does through the API
// (a reply, a review request) appear in Alice's window without a reload,
// and the reply she is typing meanwhile stays as it was, focus included.
func TestEditorPushedUpdates(t *testing.T) {
	s, alice, bob, _, doc := edSetup(t, "# Plan\n\nUse a write-ahead log.\n\nKeep it small.\n")
	first := alice.createThread(doc, nil, "Is this the plan?")
	a, b := s.bothOn(doc)
	evalT[chromedp.Void](a, `window.__noReload = true`)
	if n := evalT[int](a, `document.querySelectorAll("#threads article.thread").length`); n != 1 {
		t.Fatalf("Alice sees %d threads at first; want 1", n)
	}

	// Alice starts typing a reply to the first thread.
	reply := "#t-" + first + ` textarea[name="body"]`
	a.click(reply)
	a.typeText("I think so, bu")

	// Bob selects a line in his window and starts a thread on it.
	b.focusEditor(kb.End)
	b.do(chromedp.KeyEvent(kb.ArrowUp), chromedp.KeyEvent(kb.End), chromedp.KeyEvent(kb.Home, chromedp.KeyModifiers(chromedp.ModifierShift)))
	b.click(".dk-comment-button")
	b.waitJS(`!!document.querySelector(".dk-comment-form textarea")`, 10*time.Second)
	b.do(chromedp.SendKeys(chromedp.CSS(".dk-comment-form textarea"), "How small?"))
	start := time.Now()
	b.click(`.dk-comment-form button[type="submit"]`)

	// Alice's window shows it in the sidebar and marks it in the editor.
	a.waitJS(`document.querySelectorAll("#threads article.thread").length === 2`, 10*time.Second)
	t.Logf("Bob's thread shown to Alice after %v", time.Since(start).Round(time.Millisecond))
	a.waitJS(`[...document.querySelectorAll(".cm-content .dk-thread")].some(e => e.textContent === "Keep it small.")`, 10*time.Second)
	a.waitJS(`document.querySelector("#doc-head .count")?.textContent === "2"`, 10*time.Second)

	// A reply to the thread Alice is answering: her text and focus stay.
	bob.must(http.StatusCreated, "POST", "/api/threads/"+first+"/comments", map[string]any{"body": "Bob agrees."})
	a.waitJS(`document.querySelectorAll("#t-`+first+` .comment").length === 2`, 10*time.Second)
	if got := evalT[string](a, `document.querySelector(`+jsString(reply)+`).value`); got != "I think so, bu" {
		t.Errorf("Alice's reply box = %q after the refresh; want what she typed", got)
	}
	if !evalT[bool](a, `document.activeElement === document.querySelector(`+jsString(reply)+`)`) {
		t.Errorf("Alice's reply box lost the focus: active element is %s", evalT[string](a, `document.activeElement?.outerHTML.slice(0, 80) || ""`))
	}
	a.typeText("t small.")
	if got := evalT[string](a, `document.querySelector(`+jsString(reply)+`).value`); got != "I think so, but small." {
		t.Errorf("Alice's reply box = %q; want her typing to go on", got)
	}

	// A review request made elsewhere updates the status and the panel.
	alice.must(http.StatusOK, "POST", "/api/docs/"+doc+"/transition", map[string]any{
		"to": "review", "reviewers": []string{bob.id()}, "due": time.Now().Add(72 * time.Hour).UTC().Format(time.RFC3339)})
	a.waitJS(`document.querySelector("#doc-head .badge.status-review") !== null`, 10*time.Second)
	a.waitJS(`document.querySelector("#review")?.textContent.includes("Bob")`, 10*time.Second)
	b.waitJS(`!!document.querySelector("#review form.review-form")`, 10*time.Second)
	if !evalT[bool](a, `window.__noReload === true`) {
		t.Error("Alice's window was reloaded")
	}
	a.screenshot("pushed")
	b.screenshot("pushed")
	a.checkConsole()
	b.checkConsole()
}

// TestEditorPreviewHighlightsMarkup checks that a thread whose quote has
// markdown syntax in it is highlighted in the rendered preview.
func TestEditorPreviewHighlightsMarkup(t *testing.T) {
	body := "# Plan\n\nSome **bold** word and `snake_case` and a [link](https://example.com/x) here.\n\n- item one\n- item two\n"
	s, alice, _, _, doc := edSetup(t, body)
	for _, q := range []string{"**bold** word and `snake_case` and a [link](https://example.com/x)", "one\n- item"} {
		start := strings.Index(body, q) // ASCII: bytes are code points
		alice.createThread(doc, map[string]any{"version": 1, "start": start, "end": start + len(q)}, "About "+q)
	}
	a := s.window("Alice")
	a.openDoc(doc)
	a.click(`.dk-modes [data-mode="split"]`)
	a.waitJS(`CSS.highlights.get("dk-thread")?.size === 2`, 10*time.Second)
	got := evalT[[]string](a, `[...CSS.highlights.get("dk-thread")].map(r => r.toString()).sort()`)
	want := []string{"bold word and snake_case and a link", "one\nitem"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("highlighted %q; want %q", got, want)
	}
	a.screenshot("highlight")
	a.checkConsole()
}

// jsString quotes s as a JavaScript string.
func jsString(s string) string {
	return "`" + strings.ReplaceAll(s, "`", "\\`") + "`"
}
