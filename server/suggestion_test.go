package server_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	docket "github.com/docket-dev/docket"
	"github.com/docket-dev/docket/webhook"
)

// suggest proposes replacement for the runes [start, end) of doc at
// version 1 and returns the suggestion's thread id.
func (c *client) suggest(doc string, start, end int, replacement string) string {
	c.e.t.Helper()
	return c.must(http.StatusCreated, "POST", "/api/docs/"+doc+"/suggestions", map[string]any{
		"anchor": map[string]any{"version": 1, "start": start, "end": end}, "replacement": replacement,
	}).str("id")
}

// suggestion returns the suggestion part of a thread as the API shows it.
func (c *client) suggestion(thread string) map[string]any {
	c.e.t.Helper()
	r := c.must(http.StatusOK, "GET", "/api/threads/"+thread, nil)
	sug, _ := r.body["suggestion"].(map[string]any)
	if sug == nil {
		c.e.t.Fatalf("thread %s has no suggestion: %s", thread, r.raw)
	}
	return sug
}

// suggestionWorld is a space of Ada (site admin, owner of the document)
// where Bob comments, Vi views and Ed edits, and Out is no member.
type suggestionWorld struct {
	e                     *env
	ada, bob, vi, ed, out *client
	space                 string
}

func newSuggestionWorld(t *testing.T) *suggestionWorld {
	e, ada, space := adaSpace(t)
	w := &suggestionWorld{e: e, ada: ada, space: space, bob: e.signup("Bob"), vi: e.signup("Vi"), ed: e.signup("Ed"), out: e.signup("Out")}
	ada.addMember(space, w.bob, docket.RoleCommenter)
	ada.addMember(space, w.vi, docket.RoleViewer)
	ada.addMember(space, w.ed, docket.RoleEditor)
	return w
}

// TestSuggestionErrors checks who may suggest, accept and reject, and
// that every bad request is refused with a clear error.
func TestSuggestionErrors(t *testing.T) {
	w := newSuggestionWorld(t)
	anchor := map[string]any{"version": 1, "start": 6, "end": 11} // "world"
	for _, tc := range []struct {
		name     string
		as       func() *client
		path     string // {doc}, {sug} and {applied} are replaced
		body     any
		want     int
		wantCode string
	}{
		{"commenter suggests", func() *client { return w.bob }, "/api/docs/{doc}/suggestions", map[string]any{"anchor": anchor, "replacement": "there"}, 201, ""},
		{"editor suggests a deletion", func() *client { return w.ed }, "/api/docs/{doc}/suggestions", map[string]any{"anchor": anchor, "replacement": ""}, 201, ""},
		{"by quote", func() *client { return w.bob }, "/api/docs/{doc}/suggestions", map[string]any{"anchor": map[string]any{"quote": "world"}, "replacement": "there"}, 201, ""},
		{"quote not in the text", func() *client { return w.bob }, "/api/docs/{doc}/suggestions", map[string]any{"anchor": map[string]any{"quote": "moon"}, "replacement": "x"}, 400, "invalid"},
		{"quote and range", func() *client { return w.bob }, "/api/docs/{doc}/suggestions", map[string]any{"anchor": map[string]any{"quote": "world", "version": 1, "end": 3}, "replacement": "x"}, 400, "invalid"},
		{"same as the original", func() *client { return w.bob }, "/api/docs/{doc}/suggestions", map[string]any{"anchor": anchor, "replacement": "world"}, 400, "invalid"},
		{"no replacement", func() *client { return w.bob }, "/api/docs/{doc}/suggestions", map[string]any{"anchor": anchor}, 400, "invalid"},
		{"no anchor", func() *client { return w.bob }, "/api/docs/{doc}/suggestions", map[string]any{"replacement": "x"}, 400, "invalid"},
		{"empty anchor", func() *client { return w.bob }, "/api/docs/{doc}/suggestions", map[string]any{"anchor": map[string]any{"version": 1, "start": 3, "end": 3}, "replacement": "x"}, 400, "invalid"},
		{"anchor past the end", func() *client { return w.bob }, "/api/docs/{doc}/suggestions", map[string]any{"anchor": map[string]any{"version": 1, "start": 3, "end": 99}, "replacement": "x"}, 400, "invalid"},
		{"non-member suggests", func() *client { return w.out }, "/api/docs/{doc}/suggestions", map[string]any{"anchor": anchor, "replacement": "x"}, 404, "not_found"},
		{"viewer suggests", func() *client { return w.vi }, "/api/docs/{doc}/suggestions", map[string]any{"anchor": anchor, "replacement": "x"}, 403, "forbidden"},
		{"commenter accepts", func() *client { return w.bob }, "/api/suggestions/{sug}/accept", nil, 403, "forbidden"},
		{"viewer rejects", func() *client { return w.vi }, "/api/suggestions/{sug}/reject", map[string]any{"reason": "no"}, 403, "forbidden"},
		{"non-member accepts", func() *client { return w.out }, "/api/suggestions/{sug}/accept", nil, 404, "not_found"},
		{"accept a plain thread", func() *client { return w.ada }, "/api/suggestions/{thread}/accept", nil, 404, "not_found"},
		{"accept a malformed id", func() *client { return w.ada }, "/api/suggestions/x!/accept", nil, 404, "not_found"},
		{"accept twice", func() *client { return w.ada }, "/api/suggestions/{applied}/accept", nil, 409, "conflict"},
		{"reject an applied one", func() *client { return w.ed }, "/api/suggestions/{applied}/reject", nil, 409, "conflict"},
		{"editor accepts", func() *client { return w.ed }, "/api/suggestions/{sug}/accept", nil, 200, ""},
		{"owner rejects", func() *client { return w.ada }, "/api/suggestions/{sug}/reject", map[string]any{"reason": "Keep it."}, 200, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc := w.ada.createDoc(w.space, "Greeting", "hello world and more")
			sug := w.bob.suggest(doc, 0, 5, "howdy")
			applied := w.bob.suggest(doc, 12, 15, "or")
			w.ada.must(http.StatusOK, "POST", "/api/suggestions/"+applied+"/accept", nil)
			thread := w.bob.createThread(doc, nil, "a plain remark")
			path := strings.NewReplacer("{doc}", doc, "{sug}", sug, "{applied}", applied, "{thread}", thread).Replace(tc.path)
			r := tc.as().do("POST", path, tc.body)
			if r.status != tc.want || r.errCode() != tc.wantCode {
				t.Fatalf("POST %s = %d %s; want %d %q", path, r.status, r.raw, tc.want, tc.wantCode)
			}
			if r.status >= 400 {
				if msg, _ := r.body["error"].(map[string]any)["message"].(string); len(msg) < 10 {
					t.Errorf("error message %q is not one people understand", msg)
				}
			}
		})
	}
}

// TestSuggestionAccept checks that accepting applies the change as one op
// attributed to the suggester, resolves the thread with the accepter's
// "Applied." and tells everyone concerned.
func TestSuggestionAccept(t *testing.T) {
	w := newSuggestionWorld(t)
	w.e.hooks.AllowPrivate = true
	rcv := newHookReceiver(t, http.StatusOK)
	w.ada.must(http.StatusCreated, "POST", "/api/spaces/eng/webhooks", map[string]any{
		"url": rcv.URL, "events": []string{"suggestion.created", "suggestion.applied", "suggestion.rejected"},
	})
	w.e.startDispatcher(webhook.Options{AllowPrivate: true})
	doc := w.ada.createDoc(w.space, "Greeting", "hello world")
	r := w.bob.must(http.StatusCreated, "POST", "/api/docs/"+doc+"/suggestions", map[string]any{
		"anchor": map[string]any{"version": 1, "start": 6, "end": 11}, "replacement": "marvellous planet", "comment": "Warmer.",
	})
	id := r.str("id")
	if sug := r.body["suggestion"].(map[string]any); sug["original"] != "world" || sug["replacement"] != "marvellous planet" || sug["state"] != "open" {
		t.Errorf("new suggestion %s", r.raw)
	}
	if got := w.bob.comments(id)[0]["body"].(string); !strings.Contains(got, "marvellous planet") || !strings.Contains(got, "Warmer.") {
		t.Errorf("first comment %q lacks the replacement and the comment", got)
	}

	// The owner has it in her inbox.
	inbox := w.ada.must(http.StatusOK, "GET", "/api/inbox", nil)
	var item map[string]any
	for _, it := range inbox.body["items"].([]any) {
		if m := it.(map[string]any); m["kind"] == "suggestion" {
			item = m
		}
	}
	if item == nil || item["threadId"] != id || item["actorId"] != w.bob.id() || !strings.Contains(item["text"].(string), "marvellous planet") {
		t.Errorf("owner's inbox %s; want a suggestion item", inbox.raw)
	}

	_, before := w.ada.docText(doc)
	acc := w.ed.must(http.StatusOK, "POST", "/api/suggestions/"+id+"/accept", nil)
	text, version := w.ada.docText(doc)
	if text != "hello marvellous planet" || version != before+1 {
		t.Errorf("after accept: %q at version %d; want %q at %d", text, version, "hello marvellous planet", before+1)
	}
	ops := w.ada.history(doc)
	if last := ops[len(ops)-1]; last["author"] != w.bob.id() {
		t.Errorf("the applied op's author = %v; want the suggester %s", last["author"], w.bob.id())
	}
	if acc.str("status") != "resolved" || acc.str("resolvedBy") != w.ed.id() {
		t.Errorf("accepted thread %s", acc.raw)
	}
	sug := w.bob.suggestion(id)
	if sug["state"] != "applied" || sug["decidedBy"] != w.ed.id() || sug["appliedVersion"].(float64) != float64(version) {
		t.Errorf("suggestion after accept %v", sug)
	}
	comments := w.bob.comments(id)
	if last := comments[len(comments)-1]; last["body"] != "Applied." || last["authorId"] != w.ed.id() {
		t.Errorf("last comment %v; want Ed's Applied.", last)
	}

	// Webhooks: created, then applied.
	var types []string
	for len(types) < 2 {
		req := rcv.next(t)
		types = append(types, req.header.Get(webhook.HeaderEvent))
	}
	if !slices.Equal(types, []string{"suggestion.created", "suggestion.applied"}) {
		t.Errorf("webhook events %v", types)
	}

	// A rejection resolves with the reason; the minutes count both.
	rej := w.bob.suggest(doc, 0, 5, "hi")
	r = w.ada.must(http.StatusOK, "POST", "/api/suggestions/"+rej+"/reject", map[string]any{"reason": "Too casual."})
	if r.str("resolution") != "Too casual." || r.body["suggestion"].(map[string]any)["state"] != "rejected" {
		t.Errorf("rejected thread %s", r.raw)
	}
	if text, _ := w.ada.docText(doc); text != "hello marvellous planet" {
		t.Errorf("a rejection changed the text to %q", text)
	}
	types = []string{rcv.next(t).header.Get(webhook.HeaderEvent), rcv.next(t).header.Get(webhook.HeaderEvent)}
	if !slices.Equal(types, []string{"suggestion.created", "suggestion.rejected"}) {
		t.Errorf("webhook events %v; want created, rejected", types)
	}
	min := w.ada.must(http.StatusOK, "GET", "/api/docs/"+doc+"/minutes", nil)
	if !strings.Contains(string(min.raw), "1 suggestion applied, 1 rejected") {
		t.Errorf("minutes lack the suggestion line: %s", min.raw)
	}
}

// TestSuggestionMovesWithEdits checks that an edit elsewhere lets accept
// apply at the anchor's new place, and that an edit inside the original
// text makes the suggestion outdated: accept answers 409, reject works.
func TestSuggestionMovesWithEdits(t *testing.T) {
	w := newSuggestionWorld(t)
	doc := w.ada.createDoc(w.space, "Plan", "We ship on Monday.")
	moved := w.bob.suggest(doc, 11, 17, "Friday")
	edited := w.bob.suggest(doc, 0, 2, "They")
	// Ada types before both, then changes "We" to "Ye".
	w.ada.must(http.StatusOK, "POST", "/api/docs/"+doc+"/edits", map[string]any{"version": 1, "body": "Plan: We ship on Monday."})
	w.ada.must(http.StatusOK, "POST", "/api/docs/"+doc+"/edits", map[string]any{"version": 2, "body": "Plan: Ye ship on Monday."})

	if got := w.bob.suggestion(moved)["state"]; got != "open" {
		t.Errorf("moved suggestion state %v; want open", got)
	}
	if got := w.bob.suggestion(edited)["state"]; got != "outdated" {
		t.Errorf("edited suggestion state %v; want outdated", got)
	}
	w.ada.must(http.StatusOK, "POST", "/api/suggestions/"+moved+"/accept", nil)
	if text, _ := w.ada.docText(doc); text != "Plan: Ye ship on Friday." {
		t.Errorf("after accepting the moved suggestion: %q", text)
	}
	r := w.ada.must(http.StatusConflict, "POST", "/api/suggestions/"+edited+"/accept", nil)
	if !strings.Contains(string(r.raw), "outdated") {
		t.Errorf("accepting an outdated suggestion: %s", r.raw)
	}
	w.ada.must(http.StatusOK, "POST", "/api/suggestions/"+edited+"/reject", nil)
	if text, _ := w.ada.docText(doc); text != "Plan: Ye ship on Friday." {
		t.Errorf("text %q changed by the failed accept or the reject", text)
	}
}

// TestSuggestionSearch checks that a search finds a suggestion by the
// words it proposes.
func TestSuggestionSearch(t *testing.T) {
	w := newSuggestionWorld(t)
	doc := w.ada.createDoc(w.space, "Plan", "We ship on Monday.")
	id := w.bob.suggest(doc, 11, 17, "Wednesday afternoon")
	res := w.ada.waitSearch("afternoon", func(r searchResult) bool { return r.Total == 1 })
	if h := res.Hits[0]; h.Type != "comment" || h.DocID != doc || h.URL != "/d/"+doc+"#t-"+id {
		t.Errorf("hit %+v", h)
	}
}

// TestSuggestionPageWithoutJS checks the server-rendered thread list: the
// change as a diff, Accept and Reject forms for the owner only, and the
// forms working without JavaScript.
func TestSuggestionPageWithoutJS(t *testing.T) {
	w := newSuggestionWorld(t)
	doc := w.ada.createDoc(w.space, "Plan", "We ship on Monday.")
	d := "/d/" + doc
	acc := w.bob.suggest(doc, 11, 17, "<Friday>")
	rej := w.bob.suggest(doc, 0, 2, "They")

	page := w.ada.pageOK(d)
	page.has(t, `data-suggestion="open"`, `<del>Monday</del><span class="visually-hidden"> with </span><ins>&lt;Friday&gt;</ins>`,
		`action="`+d+`/threads/`+acc+`/accept"`, `action="`+d+`/threads/`+rej+`/reject"`, "Suggested change")
	w.bob.pageOK(d).hasNot(t, `/accept"`, `/reject"`)

	w.ada.submit(d, d+"/threads/"+acc+"/accept", url.Values{}).mustSeeOther(t, d+"#t-"+acc)
	w.ada.submit(d, d+"/threads/"+rej+"/reject", formValues("reason", "Keep we.")).mustSeeOther(t, d+"#t-"+rej)
	if text, _ := w.ada.docText(doc); text != "We ship on <Friday>." {
		t.Errorf("text after the form accept: %q", text)
	}
	page = w.ada.pageOK(d)
	page.has(t, `data-suggestion="applied"`, `data-suggestion="rejected"`, "Applied by", "Rejected by", "Keep we.")
	page.hasNot(t, `/accept"`)
	// Accepting again says why, in the thread's form.
	p := w.ada.submit(d, d+"/threads/"+acc+"/accept", url.Values{})
	if p.status != http.StatusConflict {
		t.Errorf("accepting twice through the form = %d; want 409", p.status)
	}
}

// TestSuggestionAcceptedOnceAtOnce: two accepts of one suggestion sent
// at the same time apply it once; the other answers 409.
func TestSuggestionAcceptedOnceAtOnce(t *testing.T) {
	w := newSuggestionWorld(t)
	doc := w.ada.createDoc(w.space, "Plan", "We ship on Monday.")
	id := w.bob.suggest(doc, 11, 17, "Friday")
	statuses := make(chan int, 2)
	var wg sync.WaitGroup
	for _, c := range []*client{w.ada, w.ed} {
		wg.Go(func() { statuses <- c.do("POST", "/api/suggestions/"+id+"/accept", nil).status })
	}
	wg.Wait()
	close(statuses)
	var got []int
	for s := range statuses {
		got = append(got, s)
	}
	slices.Sort(got)
	if !slices.Equal(got, []int{http.StatusOK, http.StatusConflict}) {
		t.Errorf("statuses %v; want one 200 and one 409", got)
	}
	if text, _ := w.ada.docText(doc); text != "We ship on Friday." {
		t.Errorf("text %q; want the change applied once", text)
	}
}
