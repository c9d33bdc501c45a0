package server_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	docket "github.com/docket-dev/docket"
	"github.com/docket-dev/docket/internal/testenv"
	"github.com/google/go-cmp/cmp"
)

// actions returns a document's action items as the API answers them.
func (c *client) actions(docID string) []docket.ActionItem {
	c.e.t.Helper()
	r := c.must(http.StatusOK, "GET", "/api/docs/"+docID+"/actions", nil)
	var out struct {
		Items []docket.ActionItem `json:"items"`
		Total int                 `json:"total"`
	}
	if err := json.Unmarshal(r.raw, &out); err != nil {
		c.e.t.Fatalf("decode %s: %v", r.raw, err)
	}
	if out.Items == nil || out.Total != len(out.Items) {
		c.e.t.Fatalf("actions answer %s: want items and their total", r.raw)
	}
	return out.Items
}

// eventually polls cond until it holds or a deadline passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	testenv.WaitFor(t, 10*time.Second, what, cond)
}

func TestDocActions(t *testing.T) {
	e, ada, space := adaSpace(t)
	bob, carol, dave := e.signup("Bob"), e.signup("Carol"), e.signup("Dave")
	ada.addMember(space, bob, "editor")
	ada.addMember(space, carol, "viewer")

	body := "# Plan\n\n- [ ] @bob write the migration plan due:2099-12-01\n" +
		"- [x] @ada@example.com book a room\n\n```\n- [ ] not an item\n```\n\n" +
		"> - [ ] @carol check the numbers due:2020-01-31\n"
	doc := ada.createDoc(space, "Plan", body)
	want := []docket.ActionItem{
		{DocID: doc, Line: 3, Text: "write the migration plan", Assignee: "bob", UserID: bob.id(), Due: time.Date(2099, 12, 1, 0, 0, 0, 0, time.UTC), Version: 1},
		{DocID: doc, Line: 4, Text: "book a room", Done: true, Assignee: "ada@example.com", UserID: ada.id(), Version: 1},
		{DocID: doc, Line: 10, Text: "check the numbers", Assignee: "carol", UserID: carol.id(), Due: time.Date(2020, 1, 31, 0, 0, 0, 0, time.UTC), Overdue: true, Version: 1},
	}
	// Right away (derived on read) and after the updater stored them.
	if diff := cmp.Diff(want, ada.actions(doc)); diff != "" {
		t.Errorf("actions mismatch (-want +got):\n%s", diff)
	}
	r := carol.must(http.StatusOK, "GET", "/api/docs/"+doc+"/actions", nil)
	var raw map[string][]map[string]any
	json.Unmarshal(r.raw, &raw)
	if got := raw["items"][0]["due"]; got != "2099-12-01T00:00:00Z" {
		t.Errorf("due = %v; want 2099-12-01T00:00:00Z", got)
	}

	// Edits are followed: through the REST edit endpoint (and so the hub).
	edited := "# Plan\n\n- [x] @bob write the migration plan due:2099-12-01\n- [ ] @dave new item\n"
	bob.must(http.StatusOK, "POST", "/api/docs/"+doc+"/edits", map[string]any{"version": 1, "body": edited})
	var got []docket.ActionItem
	eventually(t, "the edit's action items", func() bool {
		got = carol.actions(doc)
		return len(got) == 2 && got[0].Done
	})
	want = []docket.ActionItem{
		{DocID: doc, Line: 3, Text: "write the migration plan", Done: true, Assignee: "bob", UserID: bob.id(), Due: time.Date(2099, 12, 1, 0, 0, 0, 0, time.UTC), Version: 2},
		{DocID: doc, Line: 4, Text: "new item", Assignee: "dave", Version: 2}, // Dave is no member
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("actions after edit mismatch (-want +got):\n%s", diff)
	}

	// Errors.
	for _, tc := range []struct {
		name string
		c    *client
		path string
		want int
		code string
	}{
		{"non-member", dave, "/api/docs/" + doc + "/actions", 404, "not_found"},
		{"anonymous", e.client(), "/api/docs/" + doc + "/actions", 401, "unauthorized"},
		{"bad id", ada, "/api/docs/NOT-AN-ID/actions", 404, "not_found"},
		{"unknown id", ada, "/api/docs/abcdefabcdefabcd/actions", 404, "not_found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.c.do("GET", tc.path, nil)
			if r.status != tc.want || r.errCode() != tc.code {
				t.Errorf("GET %s = %d %s; want %d %s", tc.path, r.status, r.raw, tc.want, tc.code)
			}
		})
	}

	// A deleted document has none.
	ada.must(http.StatusNoContent, "DELETE", "/api/docs/"+doc, nil)
	if r := ada.do("GET", "/api/docs/"+doc+"/actions", nil); r.status != http.StatusNotFound {
		t.Errorf("actions of a deleted document = %d; want 404", r.status)
	}
}

// TestDocActionsAfterRestart checks that action items survive a restart
// and that changes the updater missed are caught up at startup.
func TestDocActionsAfterRestart(t *testing.T) {
	e, ada, space := adaSpace(t)
	doc := ada.createDoc(space, "Plan", "- [ ] @ada one\n")
	eventually(t, "the updater to idle", func() bool { return e.actions.Idle() })
	// Stop the updater, then edit: the change is missed.
	e.actions.Close()
	ada.must(http.StatusOK, "POST", "/api/docs/"+doc+"/edits", map[string]any{"version": 1, "body": "- [x] @ada one\n"})
	if items := ada.actions(doc); items[0].Done {
		t.Fatalf("the stopped updater refreshed the items: %+v", items)
	}
	e.restart()
	eventually(t, "the missed edit's items", func() bool {
		items := ada.actions(doc)
		return len(items) == 1 && items[0].Done && items[0].Version == 2
	})
}
