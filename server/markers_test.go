package server_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"
)

// TestHistoryMarkers runs an RFC through a review round with an edit
// between the two approvals, a last call and the decision, and checks the
// markers of the history (GET /api/docs/:id/markers and the history page)
// sit at the versions the document had then, and that "changes since
// my approval" is one link for Bob, whose approval the text outgrew.
func TestHistoryMarkers(t *testing.T) {
	e := newEnv(t)
	olga, bob, carol, doc := markersScript(t, e)
	base := "/api/docs/" + doc

	type marker struct {
		Version int64  `json:"version"`
		Kind    string `json:"kind"`
		Label   string `json:"label"`
		By      string `json:"by"`
	}
	var got struct {
		Markers         []marker `json:"markers"`
		Version         int64    `json:"version"`
		ApprovedVersion *int64   `json:"approvedVersion"`
	}
	r := bob.must(http.StatusOK, "GET", base+"/markers", nil)
	if err := json.Unmarshal(r.raw, &got); err != nil {
		t.Fatal(err)
	}
	want := []marker{
		{1, "review", "Review round 1", olga.id()},
		{2, "approval", "Approval", bob.id()},
		{3, "approval", "Approval", carol.id()},
		{3, "last-call", "Last call", olga.id()},
		{3, "decision", "Accepted", olga.id()},
	}
	if len(got.Markers) != len(want) {
		t.Fatalf("markers = %+v; want %+v", got.Markers, want)
	}
	for i := range want {
		if got.Markers[i] != want[i] {
			t.Errorf("marker %d = %+v; want %+v", i, got.Markers[i], want[i])
		}
	}
	if got.Version != 3 || got.ApprovedVersion == nil || *got.ApprovedVersion != 2 {
		t.Errorf("version %d, Bob's approval %v; want 3 and 2", got.Version, got.ApprovedVersion)
	}
	if r := olga.must(http.StatusOK, "GET", base+"/markers", nil); r.str("approvedVersion") != "" || len(r.raw) == 0 {
		t.Errorf("Olga's markers = %s; want no approvedVersion", r.raw)
	}
	if r := e.signup("Mallory").do("GET", base+"/markers", nil); r.status != http.StatusNotFound {
		t.Errorf("outsider markers = %d; want 404", r.status)
	}

	page := "/d/" + doc + "/history"
	bob.pageOK(page).has(t,
		`id="since-approval" href="/d/`+doc+`/history?from=2&amp;to=3#diff-h">Changes since your approval (version 2)</a>`,
		`<li class="marker marker-review" data-v="1" data-kind="review"><a data-v="1" href="/d/`+doc+`/history?v=1#replay">Review round 1</a>`,
		`<li class="marker marker-approval" data-v="2" data-kind="approval"><a data-v="2" href="/d/`+doc+`/history?v=2#replay">Approval by Bob</a>`,
		`>Approval by Carol</a>`, `>Last call</a>`,
		`<li class="marker marker-decision" data-v="3" data-kind="decision"><a data-v="3" href="/d/`+doc+`/history?v=3#replay">Accepted</a>`)
	carol.pageOK(page).has(t, "No changes since your approval (version 3).")
	olga.pageOK(page).hasNot(t, "since your approval")
	// The one click: Bob sees what changed after he approved.
	bob.pageOK(page+"?from=2&to=3").has(t, "Changes from version 2 to 3", "Three.")

	// Amended after the decision: a second round, at version 4.
	olga.must(http.StatusOK, "POST", base+"/edits", map[string]any{"version": 3, "body": "# Markers\n\nOne.\n\nTwo.\n\nFour.\n"})
	olga.must(http.StatusOK, "POST", base+"/transition", map[string]any{"to": "review", "amend": true, "due": rfc3339(time.Now().Add(72 * time.Hour))})
	got.Markers = nil
	if err := json.Unmarshal(bob.must(http.StatusOK, "GET", base+"/markers", nil).raw, &got); err != nil {
		t.Fatal(err)
	}
	if n := len(got.Markers); n != 6 || got.Markers[5] != (marker{4, "review", "Amended: review round 2", olga.id()}) || got.Markers[4].Version != 3 {
		t.Errorf("markers after amending = %+v; want the decision kept at 3 and round 2 at 4", got.Markers)
	}
}

// keptApprovals are relaxed rules (no last call required, none of a
// minimum length) under which an approval counts after the text changes:
// the minutes and markers tell of stale approvals all the same.
var keptApprovals = map[string]any{"requireLastCall": false, "minLastCallSeconds": 0, "approvalsResetOnChange": false}

// markersScript makes an RFC owned by Olga at version 3 and accepted: a
// review round from version 1, Bob's approval at 2, Carol's at 3, a last
// call and the decision at 3.
func markersScript(t *testing.T, e *env) (olga, bob, carol *client, doc string) {
	t.Helper()
	olga = e.signup("Olga")
	space := olga.createSpace("eng")
	bob, carol = e.signup("Bob"), e.signup("Carol")
	olga.addMember(space, bob, "commenter")
	olga.addMember(space, carol, "commenter")
	olga.setRules(space, keptApprovals)
	doc = olga.createDoc(space, "RFC 9: Markers", "# Markers\n\nOne.\n") // version 1
	base := "/api/docs/" + doc
	edit := func(version int, body string) {
		t.Helper()
		olga.must(http.StatusOK, "POST", base+"/edits", map[string]any{"version": version, "body": body})
	}

	olga.must(http.StatusOK, "POST", base+"/transition", map[string]any{
		"to": "review", "due": rfc3339(time.Now().Add(72 * time.Hour)), "reviewers": []string{bob.id(), carol.id()},
	})
	edit(1, "# Markers\n\nOne.\n\nTwo.\n") // version 2
	bob.must(http.StatusCreated, "POST", base+"/reviews", map[string]any{"verdict": "approve"})
	edit(2, "# Markers\n\nOne.\n\nTwo.\n\nThree.\n") // version 3
	carol.must(http.StatusCreated, "POST", base+"/reviews", map[string]any{"verdict": "approve", "body": "LGTM now."})
	olga.must(http.StatusOK, "POST", base+"/transition", map[string]any{"to": "last-call", "due": rfc3339(time.Now().Add(72 * time.Hour))})
	olga.must(http.StatusOK, "POST", base+"/transition", map[string]any{"to": "accepted", "decision": map[string]any{"summary": "Three it is."}})

	return olga, bob, carol, doc
}
