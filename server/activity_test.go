package server_test

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	docket "github.com/docket-dev/docket"
	"github.com/google/go-cmp/cmp"
	bbolt "go.etcd.io/bbolt"
)

// eventTypes lists the "type title" of the events of an activity answer.
func eventTypes(r *response) []string {
	out := []string{}
	events, _ := r.body["events"].([]any)
	for _, e := range events {
		ev := e.(map[string]any)
		out = append(out, ev["type"].(string)+" "+ev["title"].(string))
	}
	return out
}

func TestActivityAPI(t *testing.T) {
	e := newEnv(t)
	ada, bob := e.signup("Ada"), e.signup("Bob")
	eng := ada.createSpace("eng")
	ada.createSpace("priv")
	ada.addMember(eng, bob, docket.RoleViewer)
	d1 := ada.createDoc(eng, "Plan", "hello")
	ada.must(http.StatusOK, "PATCH", "/api/docs/"+d1, map[string]any{"title": "Plan B"})
	secret := ada.createDoc("priv", "Secret", "shh")

	r := bob.must(http.StatusOK, "GET", "/api/activity", nil)
	if diff := cmp.Diff([]string{"doc.updated Plan B", "doc.created Plan"}, eventTypes(r)); diff != "" {
		t.Errorf("bob's activity (-want +got):\n%s", diff)
	}
	if r.num("after") != 2 {
		t.Errorf("after cursor = %d; want 2", r.num("after"))
	}
	r = ada.must(http.StatusOK, "GET", "/api/activity?limit=1", nil)
	if got := eventTypes(r); len(got) != 1 || got[0] != "doc.created Secret" || r.num("before") != 3 {
		t.Errorf("ada's first page = %v, before %v", got, r.body["before"])
	}
	r = ada.must(http.StatusOK, "GET", "/api/activity?before=3&limit=5", nil)
	if diff := cmp.Diff([]string{"doc.updated Plan B", "doc.created Plan"}, eventTypes(r)); diff != "" {
		t.Errorf("ada's second page (-want +got):\n%s", diff)
	}
	r = bob.must(http.StatusOK, "GET", "/api/activity?after=1&doc="+d1+"&space=eng", nil)
	if diff := cmp.Diff([]string{"doc.updated Plan B"}, eventTypes(r)); diff != "" {
		t.Errorf("after=1 (-want +got):\n%s", diff)
	}
	for _, tc := range []struct {
		query string
		want  int
	}{
		{"?space=priv", http.StatusNotFound},
		{"?doc=" + secret, http.StatusNotFound},
		{"?doc=..%2Fx", http.StatusNotFound},
		{"?space=nope", http.StatusNotFound},
		{"?after=abc", http.StatusBadRequest},
		{"?after=-1", http.StatusBadRequest},
		{"?limit=0", http.StatusBadRequest},
		{"?limit=501", http.StatusBadRequest},
		{"?after=1&before=3", http.StatusBadRequest},
	} {
		if r := bob.do("GET", "/api/activity"+tc.query, nil); r.status != tc.want || r.errCode() == "" {
			t.Errorf("GET /api/activity%s = %d %s; want %d", tc.query, r.status, r.raw, tc.want)
		}
	}
	if r := e.client().do("GET", "/api/activity", nil); r.status != http.StatusUnauthorized {
		t.Errorf("anonymous activity = %d; want 401", r.status)
	}
	// Removed from the space: its events are gone from the feed.
	ada.must(http.StatusNoContent, "DELETE", "/api/spaces/eng/members/"+bob.id(), nil)
	if got := eventTypes(bob.must(http.StatusOK, "GET", "/api/activity", nil)); len(got) != 0 {
		t.Errorf("activity after removal = %v; want none", got)
	}
}

// writeRaw stops the server, runs fn on the data file, and starts again:
// for data other services keep (lifecycles, action items, inbox items).
func (e *env) writeRaw(fn func(tx *bbolt.Tx) error) {
	e.t.Helper()
	e.stop()
	db, err := bbolt.Open(filepath.Join(e.dir, "docket.db"), 0o600, &bbolt.Options{Timeout: time.Second})
	if err != nil {
		e.t.Fatal(err)
	}
	if err := db.Update(fn); err != nil {
		e.t.Fatal(err)
	}
	db.Close()
	e.start()
}

func rawPut(tx *bbolt.Tx, bucket string, key []byte, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return tx.Bucket([]byte(bucket)).Put(key, data)
}

func inboxKey(userID string, seq uint64) []byte {
	return binary.BigEndian.AppendUint64([]byte(userID+"/"), seq)
}

func TestInboxAPI(t *testing.T) {
	e, ada, eng, bob := withMember(t, "Ada", "Bob", docket.RoleEditor)
	d1 := ada.createDoc(eng, "Plan", "- [ ] @bob write it")
	d2 := bob.createDoc(eng, "Mine", "text")
	past := time.Now().Add(-time.Hour).UTC()
	e.writeRaw(func(tx *bbolt.Tx) error {
		for _, err := range []error{
			rawPut(tx, "inbox", inboxKey(bob.id(), 900), &docket.InboxItem{ID: "900", Kind: docket.InboxMention, Time: past,
				DocID: d1, SpaceID: eng, Title: "Plan", ActorID: ada.id(), ThreadID: "t1", URL: "/d/" + d1 + "#t-t1"}),
			rawPut(tx, "actions", []byte(d1), []*docket.ActionItem{{DocID: d1, Line: 1, Text: "write it", UserID: bob.id()}}),
			tx.Bucket([]byte("user_actions")).Put([]byte(bob.id()+"/"+d1), nil),
			rawPut(tx, "lifecycles", []byte(d2), &docket.Lifecycle{Status: docket.StatusLastCall, Due: past.Add(-time.Hour)}),
		} {
			if err != nil {
				return err
			}
		}
		return nil
	})

	kinds := func(r *response) []string {
		out := []string{}
		for _, it := range r.body["items"].([]any) {
			out = append(out, it.(map[string]any)["kind"].(string))
		}
		return out
	}
	r := bob.must(http.StatusOK, "GET", "/api/inbox", nil)
	if diff := cmp.Diff([]string{"action", "mention", "overdue"}, kinds(r)); diff != "" {
		t.Errorf("inbox kinds (-want +got):\n%s", diff)
	}
	if r.num("total") != 3 || r.num("unread") != 3 || r.num("limit") != 50 {
		t.Errorf("inbox = %s", r.raw)
	}
	mention := r.body["items"].([]any)[1].(map[string]any)
	if mention["id"] != "900" || mention["url"] != "/d/"+d1+"#t-t1" || mention["read"] != false {
		t.Errorf("mention = %v", mention)
	}
	if got := kinds(ada.must(http.StatusOK, "GET", "/api/inbox", nil)); len(got) != 0 {
		t.Errorf("ada's inbox = %v; want empty", got)
	}

	bob.must(http.StatusNoContent, "POST", "/api/inbox/read", map[string]any{"ids": []string{"900"}})
	r = bob.must(http.StatusOK, "GET", "/api/inbox?unread=true", nil)
	if diff := cmp.Diff([]string{"action", "overdue"}, kinds(r)); diff != "" || r.num("unread") != 2 || r.num("total") != 2 {
		t.Errorf("unread inbox %s; kinds (-want +got):\n%s", r.raw, diff)
	}
	for _, tc := range []struct {
		method, path string
		body         any
		want         int
	}{
		{"POST", "/api/inbox/read", map[string]any{"ids": []string{"901"}}, http.StatusNotFound},
		{"POST", "/api/inbox/read", map[string]any{"ids": []string{"../900"}}, http.StatusNotFound},
		{"POST", "/api/inbox/read", `{"ids":"900"}`, http.StatusBadRequest},
		{"POST", "/api/inbox/read", `{"idz":[]}`, http.StatusBadRequest},
		{"POST", "/api/inbox/read", nil, http.StatusBadRequest},
		{"GET", "/api/inbox?unread=maybe", nil, http.StatusBadRequest},
		{"GET", "/api/inbox?limit=201", nil, http.StatusBadRequest},
		{"GET", "/api/inbox?offset=-1", nil, http.StatusBadRequest},
	} {
		if r := bob.do(tc.method, tc.path, tc.body); r.status != tc.want || r.errCode() == "" {
			t.Errorf("%s %s %v = %d %s; want %d", tc.method, tc.path, tc.body, r.status, r.raw, tc.want)
		}
	}
	// Ada cannot mark Bob's item.
	ada.must(http.StatusNotFound, "POST", "/api/inbox/read", map[string]any{"ids": []string{"900"}})
	bob.must(http.StatusNoContent, "POST", "/api/inbox/read", `{}`)

	// Removed from the space: everything of it leaves the inbox.
	ada.must(http.StatusNoContent, "DELETE", "/api/spaces/eng/members/"+bob.id(), nil)
	r = bob.must(http.StatusOK, "GET", "/api/inbox", nil)
	if got := kinds(r); len(got) != 0 || r.num("total") != 0 {
		t.Errorf("inbox after removal = %s; want empty", r.raw)
	}
}

// An edit made through the API goes through the live hub and still makes
// a doc.edited event, with the editor as its actor.
func TestActivityOfRESTEdits(t *testing.T) {
	_, ada, eng := adaSpace(t)
	d := ada.createDoc(eng, "Plan", "hello")
	ada.must(http.StatusOK, "POST", "/api/docs/"+d+"/edits", map[string]any{"version": 1, "body": "hello world"})
	r := ada.must(http.StatusOK, "GET", "/api/activity?doc="+d, nil)
	if diff := cmp.Diff([]string{"doc.edited Plan", "doc.created Plan"}, eventTypes(r)); diff != "" {
		t.Fatalf("activity (-want +got):\n%s", diff)
	}
	ev := r.body["events"].([]any)[0].(map[string]any)
	if ev["actorId"] != ada.id() || ev["data"].(map[string]any)["version"] != float64(2) {
		t.Errorf("doc.edited = %v", ev)
	}
}

// Replies in one thread make one group; a quote of a mention notifies no
// one again; done and read work for computed items; mark all read leaves
// nothing unread; a mention of a non-member is a warning to the author.
func TestInboxGroupsAPI(t *testing.T) {
	e, ada, eng, bob := withMember(t, "Ada", "Bob", docket.RoleEditor)
	cy := e.signup("Cy")
	ada.addMember(eng, cy, docket.RoleEditor)
	out := e.signup("Outsider")
	d := bob.createDoc(eng, "Storage plan", "- [ ] @bob write it\n")
	th := bob.must(http.StatusCreated, "POST", "/api/docs/"+d+"/threads", map[string]any{"body": "Which store, @ada?"})
	if w := th.body["warnings"]; w != nil {
		t.Errorf("warnings of a member's mention = %v", w)
	}
	thID := th.str("id")
	for i, c := range []*client{ada, cy, ada, cy} {
		c.must(http.StatusCreated, "POST", "/api/threads/"+thID+"/comments", map[string]any{"body": fmt.Sprintf("> Which store, @ada?\n\nreply %d", i)})
	}
	// A mention of someone who cannot read the space: saved, with a warning.
	r := cy.must(http.StatusCreated, "POST", "/api/threads/"+thID+"/comments", map[string]any{"body": "@outsider knows"})
	ws, _ := r.body["warnings"].([]any)
	if len(ws) != 1 || ws[0].(map[string]any)["code"] != "mention_not_member" || ws[0].(map[string]any)["user"] != "outsider" {
		t.Errorf("answer = %s; want a mention_not_member warning for outsider", r.raw)
	}
	if got := out.must(http.StatusOK, "GET", "/api/inbox", nil).num("unread"); got != 0 {
		t.Errorf("outsider's unread = %v; want 0", got)
	}

	// Ada was mentioned once: the quotes in the replies do not notify her.
	r = ada.must(http.StatusOK, "GET", "/api/inbox", nil)
	var adaKinds []string
	for _, it := range r.body["items"].([]any) {
		adaKinds = append(adaKinds, it.(map[string]any)["kind"].(string))
	}
	if diff := cmp.Diff([]string{"reply", "reply", "reply", "mention"}, adaKinds); diff != "" {
		t.Errorf("ada's items (-want +got):\n%s", diff)
	}

	// Action items are read from the text after the commit.
	eventually(t, "bob's action item in his inbox", func() bool {
		r = bob.must(http.StatusOK, "GET", "/api/inbox", nil)
		return r.num("total") == 2
	})
	groups := r.body["groups"].([]any)
	if r.num("total") != 2 || r.num("unread") != 6 || len(groups) != 2 {
		t.Fatalf("bob's inbox = %s; want 2 groups, 6 unread", r.raw)
	}
	g := groups[0].(map[string]any)
	var actors []string
	for _, a := range g["actors"].([]any) {
		actors = append(actors, a.(map[string]any)["name"].(string))
	}
	if g["title"] != "Storage plan" || g["threadId"] != thID || g["count"] != float64(5) || g["unread"] != float64(5) ||
		g["excerpt"] != "@outsider knows" || !cmp.Equal(actors, []string{"Cy", "Ada"}) || len(g["itemIds"].([]any)) != 5 {
		t.Errorf("thread group = %v; want 5 unread replies from Cy and Ada", g)
	}
	items := r.body["items"].([]any)
	if len(items) != 6 || items[1].(map[string]any)["text"] != "reply 3" {
		t.Errorf("items = %v; want the 6 items, excerpts without the quote", items)
	}
	action := groups[1].(map[string]any)
	actionID := action["itemIds"].([]any)[0].(string)
	if action["kinds"].([]any)[0] != "action" || !strings.HasPrefix(actionID, "action:") {
		t.Errorf("second group = %v; want bob's action item", action)
	}

	// Mark all read: nothing unread, the action item included.
	bob.must(http.StatusNoContent, "POST", "/api/inbox/read", `{}`)
	if r := bob.must(http.StatusOK, "GET", "/api/inbox?unread=true", nil); r.num("unread") != 0 || r.num("total") != 0 {
		t.Errorf("unread after mark all read = %s; want nothing", r.raw)
	}
	// Done: the action item and the thread leave the inbox.
	ids := append([]any{actionID}, g["itemIds"].([]any)...)
	bob.must(http.StatusNoContent, "POST", "/api/inbox/done", map[string]any{"ids": ids})
	if r := bob.must(http.StatusOK, "GET", "/api/inbox", nil); r.num("total") != 0 {
		t.Errorf("inbox after done = %s; want empty", r.raw)
	}
	if r := bob.must(http.StatusOK, "GET", "/api/inbox?done=true", nil); r.num("total") != 2 {
		t.Errorf("done inbox = %s; want the 2 groups", r.raw)
	}
	for _, tc := range []struct {
		who  *client
		body any
		want int
	}{
		{bob, `{}`, http.StatusBadRequest},
		{bob, map[string]any{"ids": []string{"action:" + d + ":nope:none"}}, http.StatusNotFound},
		{ada, map[string]any{"ids": []string{actionID}}, http.StatusNotFound},
	} {
		if r := tc.who.do("POST", "/api/inbox/done", tc.body); r.status != tc.want || r.errCode() == "" {
			t.Errorf("POST /api/inbox/done %v = %d %s; want %d", tc.body, r.status, r.raw, tc.want)
		}
	}
	if r := bob.do("GET", "/api/inbox?done=perhaps", nil); r.status != http.StatusBadRequest {
		t.Errorf("done=perhaps = %d; want 400", r.status)
	}
}
