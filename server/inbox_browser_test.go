package server_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	docket "github.com/docket-dev/docket"
)

// TestInboxGroupsInBrowser opens Bob's inbox after three replies in one
// thread of his: one line says "3 new replies … from Ada and Cy", its
// items open under it, and marking the group done empties the inbox.
// Then Bob replies on the document page mentioning someone who is not a
// member, and the page script shows the warning.
func TestInboxGroupsInBrowser(t *testing.T) {
	s := newEdServer(t)
	ada, bob, cy := s.e.signup("Ada"), s.e.signup("Bob"), s.e.signup("Cy")
	s.e.signup("Outsider")
	space := ada.createSpace("eng")
	ada.addMember(space, bob, docket.RoleEditor)
	ada.addMember(space, cy, docket.RoleEditor)
	doc := bob.createDoc(space, "Storage plan", "# Storage plan\n\nUse bbolt.\n")
	th := bob.must(http.StatusCreated, "POST", "/api/docs/"+doc+"/threads", map[string]any{"body": "Which store?"}).str("id")
	for i, c := range []*client{ada, cy, ada} {
		c.must(http.StatusCreated, "POST", "/api/threads/"+th+"/comments", map[string]any{"body": fmt.Sprintf("> Which store?\n\nAnswer %d", i)})
	}

	w := s.window("Bob")
	w.do(chromedp.Navigate(s.ts.URL + "/inbox"))
	w.waitJS(`document.querySelectorAll(".inbox-group").length === 1`, 10*time.Second)
	head := evalT[string](w, `document.querySelector(".inbox-group .inbox-head a").textContent`)
	if head != "3 new replies in “Storage plan” from Ada and Cy" {
		t.Errorf("group line = %q", head)
	}
	if got := evalT[string](w, `document.querySelector(".inbox-group > .inbox-body > .inbox-text").textContent`); got != "Answer 2" {
		t.Errorf("excerpt = %q; want the newest reply without its quote", got)
	}
	if evalT[bool](w, `document.querySelector(".inbox-items .inbox-item").checkVisibility()`) {
		t.Error("the group's items are shown before it is opened")
	}
	w.click(".inbox-items > summary")
	w.waitJS(`document.querySelectorAll(".inbox-items .inbox-item").length === 3 && document.querySelector(".inbox-items .inbox-item").checkVisibility()`, 10*time.Second)
	w.screenshot("inbox-groups")
	w.click(".inbox-group .inbox-check")
	w.click(`button[formaction="/inbox/done"]`)
	w.waitJS(`location.search === "?done=inbox-done" && document.querySelector(".empty")?.textContent.startsWith("Nothing here")`, 10*time.Second)

	w.openDoc(doc)
	w.do(chromedp.SendKeys(chromedp.CSS("#reply-"+th), "@outsider should see this"))
	w.click("#t-" + th + " .reply-form button[type=submit]")
	w.waitJS(`document.querySelector("#threads .mention-warning")?.textContent.includes("@outsider cannot read this space")`, 10*time.Second)
	if evalT[bool](w, `!!document.querySelector("#threads .mention-warning a")`) {
		t.Error("an Invite link for someone who may not invite")
	}
	w.checkConsole()
}
