package e2e_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// wordXY returns the middle of the first occurrence of word in the
// editor's lines, in window coordinates, once its line is scrolled into
// view.
func wordXY(p *person, word string) (x, y float64) {
	p.t.Helper()
	xy := eval[[]float64](p, fmt.Sprintf(`(() => {
	  for (const line of document.querySelectorAll(".cm-content > .cm-line")) {
	    const walker = document.createTreeWalker(line, NodeFilter.SHOW_TEXT);
	    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
	      const i = n.data.indexOf(%[1]q);
	      if (i < 0) continue;
	      line.scrollIntoView({block: "center", behavior: "instant"});
	      const r = document.createRange();
	      r.setStart(n, i);
	      r.setEnd(n, i + %[1]q.length);
	      const b = r.getBoundingClientRect();
	      return [b.left + b.width / 2, b.top + b.height / 2];
	    }
	  }
	  return [];
	})()`, word))
	if len(xy) != 2 {
		p.t.Fatalf("%s: %q is not in the editor", p.name, word)
	}
	return xy[0], xy[1]
}

// TestWebAppSuggestion: Bob, a commenter, selects a word and suggests a
// replacement; Ada, the owner, sees the card arrive live with the change
// as a diff, the word struck through in her editor and the replacement
// beside it in her preview; she accepts; both editors show the new text,
// the op is Bob's, and both cards say applied.
func TestWebAppSuggestion(t *testing.T) {
	s := newSite(t)
	b := browser(t)
	shots := shotDir(t)
	ada, bob := s.person(b, "Ada", shots), s.person(b, "Bob", shots)
	for _, p := range []*person{ada, bob} {
		p.signup()
		p.do(chromedp.EmulateViewport(1400, 900))
	}
	ada.api("POST", "/api/spaces", `{"slug": "eng", "name": "Engineering"}`)
	ada.api("POST", "/api/spaces/eng/members", `{"email": "bob@example.com", "role": "commenter"}`)
	doc := jsonID(t, ada.api("POST", "/api/docs", `{"space": "eng", "kind": "rfc", "title": "Launch", "body": "# Launch\n\nWe ship on Monday at noon.\n"}`))

	ada.openDoc(doc)
	ada.waitJS(`document.getElementById("doc").dataset.live === "ready"`, wait)
	ada.click(`.dk-modes button[data-mode="split"]`)
	bob.openDoc(doc)
	bob.waitJS(`document.getElementById("doc").dataset.live === "ready"`, wait)
	bob.click(`.dk-modes button[data-mode="split"]`) // a commenter starts in the preview

	// Bob selects "Monday" in the source with a double click (his editor
	// is read only) and suggests "Friday".
	x, y := wordXY(bob, "Monday")
	bob.do(chromedp.MouseClickXY(x, y), chromedp.MouseClickXY(x, y, chromedp.ClickCount(2)))
	bob.click(".dk-suggest-button")
	replacement := `.dk-comment-form textarea[name="replacement"]`
	bob.waitJS(fmt.Sprintf(`document.querySelector(%q)?.value === "Monday"`, replacement), wait)
	bob.fill(replacement, "Friday")
	bob.fill(`.dk-comment-form textarea[name="comment"]`, "Monday is a holiday.")
	bob.screenshot("form")
	bob.click(`.dk-comment-form button[type="submit"]`)
	bob.waitJS(`document.querySelectorAll("#threads article.suggestion").length === 1`, wait)

	list := ada.api("GET", "/api/docs/"+doc+"/threads", "")
	if !strings.Contains(list, `"original":"Monday","replacement":"Friday","state":"open"`) {
		t.Fatalf("threads %s; want Monday -> Friday, open", list)
	}
	card := "#t-" + jsonID(t, list)

	// Ada sees it live: the card with the diff and her buttons, the word
	// marked in her editor, the replacement beside it in the preview.
	ada.waitJS(contains(card+" .suggestion-diff del", "Monday")+" && "+contains(card+" .suggestion-diff ins", "Friday"), wait)
	ada.waitJS(contains(".cm-content .dk-suggestion", "Monday"), wait)
	// The marked word stays in its line (no class of another widget).
	if !eval[bool](ada, `(() => { const e = document.querySelector(".cm-content .dk-suggestion"), l = e.closest(".cm-line").getBoundingClientRect(), r = e.getBoundingClientRect();
	  return getComputedStyle(e).position === "static" && r.height > 0 && r.top >= l.top - 1 && r.bottom <= l.bottom + 1; })()`) {
		t.Errorf("the suggestion's mark in the editor is not laid out in its line")
	}
	ada.waitJS(contains("#doc-html .dk-sugg-ins", "Friday"), wait)
	if n := eval[int](bob, `document.querySelectorAll("`+card+` form.accept-form").length`); n != 0 {
		t.Errorf("Bob, a commenter, has %d accept buttons; want none", n)
	}
	ada.screenshot("card")

	ada.click(card + " form.accept-form button")
	for _, p := range []*person{ada, bob} {
		p.waitJS(`[...document.querySelectorAll(".cm-content > .cm-line")].some(l => {
		  const c = l.cloneNode(true); // without the other person's cursor and its name
		  c.querySelectorAll(".dk-cursor").forEach(x => x.remove());
		  return c.textContent === "We ship on Friday at noon.";
		})`, wait)
		p.waitJS(fmt.Sprintf(`document.querySelector(%q)?.dataset.suggestion === "applied" && %s`, card, contains(card+" .badge", "Applied")), wait)
	}
	ada.waitJS(`!document.querySelector(".cm-content .dk-suggestion") && !document.querySelector("#doc-html .dk-sugg-ins")`, wait)
	history := ada.api("GET", "/api/docs/"+doc+"/history", "")
	bobID := jsonID(t, bob.api("GET", "/api/me", ""))
	if i := strings.LastIndex(history, `"author":"`); i < 0 || !strings.HasPrefix(history[i+len(`"author":"`):], bobID) {
		t.Errorf("the last op of %s is not Bob's (%s)", history, bobID)
	}
	ada.screenshot("applied")
}
