package server_test

import (
	"net/http"
	"testing"

	docket "github.com/docket-dev/docket"
)

// TestLastVisitNotice: a first view shows no notice; after others edit and
// comment, the next view says who edited, how long ago, how many lines
// differ since the version last seen, links
// the diff from the version last seen and lists the new thread; the
// reader's own edits do not count; the view after that is quiet again.
func TestLastVisitNotice(t *testing.T) {
	_, ada, space, bo := withMember(t, "Ada", "Bo", docket.RoleEditor)
	doc := ada.createDoc(space, "Plan", "# Plan\n\nShip it.\n")
	d := "/d/" + doc

	p := ada.pageOK(d)
	p.hasNot(t, `class="since-visit"`)
	if v, _ := ada.must(http.StatusOK, "GET", "/api/docs/"+doc, nil).body["lastVisit"].(map[string]any); v == nil || v["version"] != float64(1) || v["at"] == "" {
		t.Fatalf("lastVisit after the first view = %v; want version 1 with a time", v)
	}
	if got := bo.must(http.StatusOK, "GET", "/api/docs/"+doc, nil).body; got["lastVisit"] != nil {
		t.Fatalf("Bo's lastVisit before any view = %v; want null", got["lastVisit"])
	}

	bo.must(http.StatusOK, "POST", "/api/docs/"+doc+"/edits", map[string]any{"version": 1, "body": "# Plan\n\nShip it on Monday.\n"})
	bo.must(http.StatusOK, "POST", "/api/docs/"+doc+"/edits", map[string]any{"version": 2, "body": "# Plan\n\nShip it on Monday.\n\nThen rest.\n"})
	ada.must(http.StatusOK, "POST", "/api/docs/"+doc+"/edits", map[string]any{"version": 3, "body": "# Plan\n\nShip it on Monday.\n\nThen rest, really.\n"})
	th := bo.must(http.StatusCreated, "POST", "/api/docs/"+doc+"/threads", map[string]any{
		"anchor": map[string]any{"version": 4, "start": 8, "end": 15}, "body": "Which Monday?",
	}).str("id")
	home := ada.pageOK("/")
	home.has(t, "Changed since your visit")

	p = ada.pageOK(d)
	p.has(t, `class="since-visit"`, "<strong>Edited by Bo</strong> <time", ">just now</time>, since your last visit on <time",
		"</time>: 3 lines changed, ", `<a href="/d/`+doc+`/history?from=1&amp;to=4#diff-h">see the changes</a>.`,
		`<a href="#t-`+th+`">“Ship it”</a> <span class="muted">new thread</span>`)
	p.hasNot(t, "by Ada", "by Bo and Ada")
	if v := ada.must(http.StatusOK, "GET", "/api/docs/"+doc, nil).body["lastVisit"].(map[string]any); v["version"] != float64(4) {
		t.Fatalf("lastVisit after the second view = %v; want version 4", v)
	}
	ada.pageOK(d).hasNot(t, `class="since-visit"`)
	ada.pageOK("/").hasNot(t, "Changed since your visit")

	// Bo's first view: nothing to say. Then the API records a visit of an
	// older version and answers the one before.
	bo.pageOK(d).hasNot(t, `class="since-visit"`)
	r := bo.must(http.StatusOK, "POST", "/api/docs/"+doc+"/visit", map[string]any{"version": 2})
	if prev := r.body["previous"].(map[string]any); prev["version"] != float64(4) || r.num("version") != 2 {
		t.Fatalf("POST visit = %s; want version 2 and previous version 4", r.raw)
	}
	bo.must(http.StatusBadRequest, "POST", "/api/docs/"+doc+"/visit", map[string]any{"version": 9})
	// Since version 2, Bo made one change and Ada one; Bo started the
	// thread himself, so it is not news to him.
	p = bo.pageOK(d)
	p.has(t, "<strong>Edited by Ada</strong>", "2 lines changed", `history?from=2&amp;to=4#diff-h`)
	p.hasNot(t, `href="#t-`+th+`"`)
}
