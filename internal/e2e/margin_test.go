package e2e_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// cardPos is where a thread card and its anchor are on screen (client y).
type cardPos struct {
	ID     string  `json:"id"`
	Top    float64 `json:"top"`
	Bottom float64 `json:"bottom"`
	Anchor float64 `json:"anchor"` // -1: not on screen (editor mode, outside the scroller)
	Placed bool    `json:"placed"`
}

// marginJS measures the cards of #threads and their anchors on screen:
// in the preview the quote at the start of its paragraph, in the editor
// the thread's mark if it is drawn and inside the scroller.
const marginJS = `(() => {
  const preview = !document.querySelector(".dk-panes.dk-mode-edit");
  const sc = document.querySelector(".cm-scroller").getBoundingClientRect();
  return [...document.querySelectorAll("#threads > article.thread")].map(c => {
    const r = c.getBoundingClientRect();
    const quote = c.querySelector(".quote")?.textContent || "";
    let anchor = -1;
    if (preview) {
      const p = [...document.querySelectorAll("#doc-html p")].find(p => p.textContent.startsWith(quote));
      if (p) {
        const r = document.createRange();
        r.setStart(p.firstChild, 0);
        r.setEnd(p.firstChild, quote.length);
        const y = r.getBoundingClientRect().top;
        if (y >= 0 && y < innerHeight) anchor = y;
      }
    } else {
      const m = document.querySelector('.dk-thread[data-thread="' + c.id.slice(2) + '"]');
      const y = m ? m.getBoundingClientRect().top : -1;
      if (m && y >= sc.top && y < sc.bottom) anchor = y;
    }
    return {id: c.id, top: r.top, bottom: r.bottom, anchor, placed: c.classList.contains("dk-placed")};
  });
})()`

// TestWebAppThreadMargin: on a wide screen the open threads of a long
// document sit beside their text, in the preview and in the editor: in
// the anchors' order, each within a few pixels of its anchor unless
// pushed below the card before it; on a phone they stay a plain list.
func TestWebAppThreadMargin(t *testing.T) {
	s := newSite(t)
	b := browser(t)
	shots := shotDir(t)
	ada := s.person(b, "Ada", shots)
	ada.signup()
	ada.do(chromedp.EmulateViewport(1400, 900))

	var body strings.Builder
	body.WriteString("# A long proposal\n\n")
	for i := 1; i <= 60; i++ {
		fmt.Fprintf(&body, "Paragraph %d says something about storage, backups and the way we write to disk, at some length so that it wraps.\n\n", i)
	}
	text := body.String()
	ada.api("POST", "/api/spaces", `{"slug": "eng", "name": "Engineering"}`)
	doc := jsonID(t, ada.api("POST", "/api/docs", fmt.Sprintf(`{"space": "eng", "kind": "rfc", "body": %q}`, text)))
	for _, n := range []int{2, 30, 58} {
		q := fmt.Sprintf("Paragraph %d says", n)
		start := strings.Index(text, q) // ASCII: bytes are code points
		ada.api("POST", "/api/docs/"+doc+"/threads", fmt.Sprintf(`{"anchor": {"version": 1, "start": %d, "end": %d}, "body": "About paragraph %d: is this right?"}`,
			start, start+len(q), n))
	}

	check := func(mode string, wantAligned int) {
		t.Helper()
		cards := eval[[]cardPos](ada, marginJS)
		if len(cards) != 3 {
			t.Fatalf("%s: %d cards; want 3", mode, len(cards))
		}
		open := cards[:0]
		for _, c := range cards {
			if c.Placed || !strings.Contains(mode, "after") {
				open = append(open, c)
			}
		}
		cards = open
		aligned := 0
		for i, c := range cards {
			if !c.Placed {
				t.Errorf("%s: card %s not placed", mode, c.ID)
				continue
			}
			if i > 0 {
				prev := cards[i-1]
				if c.Top < prev.Bottom+7 {
					t.Errorf("%s: card %s at %.0f overlaps or precedes the one before (bottom %.0f)", mode, c.ID, c.Top, prev.Bottom)
				}
			}
			if c.Anchor < 0 {
				continue
			}
			switch d := c.Top - c.Anchor; {
			case d < -3:
				t.Errorf("%s: card %s at %.0f is above its anchor at %.0f", mode, c.ID, c.Top, c.Anchor)
			case d <= 3:
				aligned++
			case i == 0 || c.Top > cards[i-1].Bottom+11:
				t.Errorf("%s: card %s at %.0f is below its anchor at %.0f and not pushed by the card before", mode, c.ID, c.Top, c.Anchor)
			}
		}
		if aligned < wantAligned {
			t.Errorf("%s: %d cards beside their anchors; want %d: %+v", mode, aligned, wantAligned, cards)
		}
	}
	settle := `new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(() => r(true), 50))))`

	ada.openDoc(doc)
	ada.waitJS(`document.getElementById("doc").dataset.live === "ready" && document.querySelectorAll("#threads .thread.dk-placed").length === 3`, wait)

	// The preview scrolls with the page: each card, scrolled to, is
	// beside its text.
	ada.click(`.dk-modes button[data-mode="preview"]`)
	eval[bool](ada, settle)
	for k := range 3 {
		eval[bool](ada, fmt.Sprintf(`(() => {
		  const q = document.querySelectorAll("#threads > article.thread .quote")[%d].textContent;
		  const p = [...document.querySelectorAll("#doc-html p")].find(p => p.textContent.startsWith(q));
		  scrollTo({top: p.getBoundingClientRect().top + scrollY - 300, behavior: "instant"});
		  return true;
		})()`, k))
		eval[bool](ada, settle)
		eval[bool](ada, settle)
		check(fmt.Sprintf("preview at thread %d", k+1), 1)
		if k == 0 {
			layoutShot(t, ada, shots, "margin-preview")
		}
	}
	eval[bool](ada, `(scrollTo({top: 0, behavior: "instant"}), true)`)

	// The editor scrolls inside its own box: the first thread is beside
	// its line, then, scrolled to the middle, the middle one.
	ada.click(`.dk-modes button[data-mode="edit"]`)
	eval[bool](ada, settle)
	check("editor", 1)
	layoutShot(t, ada, shots, "margin-editor")
	eval[bool](ada, `(async () => {
	  const sc = document.querySelector(".cm-scroller");
	  const frame = () => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
	  sc.scrollTop = sc.scrollHeight / 2 - 300;
	  await frame();
	  const id = [...document.querySelectorAll("#threads > article.thread")][1].id.slice(2);
	  for (let i = 0; i < 20; i++) {
	    const m = document.querySelector('.dk-thread[data-thread="' + id + '"]');
	    if (m) { sc.scrollTop += m.getBoundingClientRect().top - (sc.getBoundingClientRect().top + 350); await frame(); return true; }
	    sc.scrollTop += 200; await frame();
	  }
	  return false;
	})()`)
	eval[bool](ada, settle)
	check("editor scrolled", 1)
	if mid := eval[[]cardPos](ada, marginJS)[1]; mid.Anchor < 0 {
		t.Errorf("editor scrolled: the middle thread's mark is not in view: %+v", mid)
	}
	layoutShot(t, ada, shots, "margin-editor-scrolled")

	// Reply and resolve through a card in the margin: the panel is
	// refreshed in place, the resolved thread leaves the margin for the
	// list below and the others stay beside their text.
	ada.click(`.dk-modes button[data-mode="preview"]`)
	eval[bool](ada, `(scrollTo({top: 0, behavior: "instant"}), true)`)
	eval[bool](ada, settle)
	first := eval[string](ada, `document.querySelector("#threads > article.thread").id`)
	ada.do(chromedp.SendKeys(chromedp.CSS("#"+first+` textarea[name="body"]`), "Yes, it is."))
	ada.click("#" + first + ` form[action$="/comments"] button`)
	ada.waitJS(`document.querySelectorAll("#`+first+` .comment").length === 2`, wait)
	eval[bool](ada, settle)
	check("preview after a reply", 1)
	ada.click("#" + first + ` form[action$="/resolve"] button`)
	ada.waitJS(`document.getElementById("`+first+`")?.dataset.status === "resolved"`, wait)
	ada.waitJS(`!document.getElementById("`+first+`").classList.contains("dk-placed") && document.querySelectorAll("#threads .thread.dk-placed").length === 2`, wait)
	if got := eval[bool](ada, `(() => {
	  const placed = [...document.querySelectorAll("#threads .thread.dk-placed")];
	  const r = document.getElementById("`+first+`").getBoundingClientRect();
	  return placed.every(c => c.getBoundingClientRect().bottom <= r.top);
	})()`); !got {
		t.Errorf("the resolved thread is not listed after the placed ones")
	}

	// A phone: one column, the plain list in the server's order.
	ada.do(chromedp.EmulateViewport(375, 812))
	eval[bool](ada, settle)
	for _, c := range eval[[]cardPos](ada, marginJS) {
		if c.Placed {
			t.Errorf("phone: card %s is still placed", c.ID)
		}
	}
	if got := eval[string](ada, `document.querySelector(".doc-side").firstElementChild.id`); got == "threads" {
		t.Errorf("phone: #threads moved first in the side column")
	}
	if os.Getenv("DOCKET_SCREENSHOTS") == "" {
		t.Logf("screenshots in %s", filepath.Clean(shots))
	}
}
