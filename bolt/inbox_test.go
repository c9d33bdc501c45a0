package bolt

import (
	"context"
	"fmt"
	"testing"
	"time"

	docket "github.com/docket-dev/docket"
	"github.com/docket-dev/docket/kv"
	"github.com/google/go-cmp/cmp"
)

// putStored appends an event by actor and puts an item for userID in
// their inbox, as the services that append events do.
func putStored(tx kv.Tx, db *DB, actor context.Context, userID string, d *docket.Document, at time.Time, kind docket.InboxKind) (string, error) {
	ev := &docket.Event{Type: docket.EventCommentCreated, Time: at, SpaceID: d.SpaceID, DocID: d.ID, ThreadID: "t1"}
	if err := db.appendEvent(actor, tx, ev); err != nil {
		return "", err
	}
	return fmt.Sprint(ev.Seq), addInbox(tx, userID, ev, &docket.InboxItem{Kind: kind, Text: string(kind)})
}

func putActions(tx kv.Tx, docID string, items ...*docket.ActionItem) error {
	for _, a := range items {
		a.DocID = docID
		if a.UserID != "" {
			if err := tx.Bucket(bucketUserActions).Put(pair(a.UserID, docID), nil); err != nil {
				return err
			}
		}
	}
	return putJSON(tx.Bucket(bucketActions), []byte(docID), items)
}

// line renders an inbox item for comparison.
func line(it *docket.InboxItem) string {
	s := fmt.Sprintf("%s %s %q", it.Kind, it.Title, it.Text)
	if it.Overdue {
		s += " overdue"
	}
	if it.Read {
		s += " read"
	}
	return s
}

func TestInbox(t *testing.T) {
	f := newFixture(t)
	t0 := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	now := t0
	f.db.Now = func() time.Time { return now }
	inbox := NewInboxService(f.db)
	ada, bob := f.user("ada"), f.user("bob")
	bobID := docket.UserIDFromContext(bob)
	eng, ops := f.space(ada, "eng"), f.space(ada, "ops")
	f.member(ada, eng, bob, docket.RoleEditor)
	f.member(ada, ops, bob, docket.RoleViewer)
	e1 := f.doc(ada, eng, "E1")
	now = t0.Add(time.Minute)
	e2 := f.doc(bob, eng, "E2")
	now = t0.Add(2 * time.Minute)
	o1 := f.doc(ada, ops, "O1")
	e3 := f.doc(ada, eng, "E3")

	var ids []string
	f.write(func(tx kv.Tx) error {
		for _, s := range []struct {
			d    *docket.Document
			at   time.Duration
			kind docket.InboxKind
		}{
			{e1, time.Hour, docket.InboxMention},
			{o1, 2 * time.Hour, docket.InboxReviewRequest},
			{e2, 3 * time.Hour, docket.InboxReply},
		} {
			id, err := putStored(tx, f.db, ada, bobID, s.d, t0.Add(s.at), s.kind)
			if err != nil {
				return err
			}
			ids = append(ids, id)
		}
		// Bob's own action is not in his inbox; nor is the actor's item.
		if _, err := putStored(tx, f.db, bob, bobID, e1, t0.Add(4*time.Hour), docket.InboxReply); err != nil {
			return err
		}
		for _, err := range []error{
			putActions(tx, e1.ID,
				&docket.ActionItem{Line: 3, Text: "write plan", UserID: bobID, Due: t0.Add(-48 * time.Hour)},
				&docket.ActionItem{Line: 4, Text: "done already", UserID: bobID, Done: true},
				&docket.ActionItem{Line: 5, Text: "ada's", UserID: docket.UserIDFromContext(ada)}),
			putActions(tx, o1.ID, &docket.ActionItem{Line: 1, Text: "check", UserID: bobID}),
			putLifecycle(tx, e1.ID, &docket.Lifecycle{Status: docket.StatusReview, Due: t0.Add(-time.Hour),
				Reviewers: []*docket.Reviewer{{UserID: docket.UserIDFromContext(ada)}, {UserID: bobID}}}),
			putLifecycle(tx, e2.ID, &docket.Lifecycle{Status: docket.StatusLastCall, Due: t0.Add(-30 * time.Minute)}),
			putLifecycle(tx, o1.ID, &docket.Lifecycle{Status: docket.StatusReview, Due: t0.Add(48 * time.Hour),
				Reviewers: []*docket.Reviewer{{UserID: bobID}}}),
			putLifecycle(tx, e3.ID, &docket.Lifecycle{Status: docket.StatusReview, Due: t0.Add(-time.Hour),
				Reviewers: []*docket.Reviewer{{UserID: bobID, Verdict: docket.VerdictApprove}}}),
		} {
			if err != nil {
				return err
			}
		}
		return nil
	})
	now = t0.Add(4 * time.Hour)

	check := func(what string, filter docket.InboxFilter, want []string, wantTotal, wantUnread int) {
		t.Helper()
		items, total, unread, err := inbox.FindInbox(bob, filter)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		got := []string{}
		for _, it := range items {
			got = append(got, line(it))
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s: items (-want +got):\n%s", what, diff)
		}
		if total != wantTotal || unread != wantUnread {
			t.Errorf("%s: total, unread = %d, %d; want %d, %d", what, total, unread, wantTotal, wantUnread)
		}
	}
	all := []string{
		`reply E2 "reply"`,
		`review_request O1 "review_request"`,
		`mention E1 "mention"`,
		`action O1 "check"`,
		`action E1 "write plan" overdue`,
		`overdue E2 "The last call ended 2026-06-01 11:30 UTC; move the document on." overdue`,
		`overdue E1 "Your review was due 2026-06-01 11:00 UTC." overdue`,
	}
	check("everything", docket.InboxFilter{}, all, 7, 7)
	check("page", docket.InboxFilter{Limit: 2, Offset: 2}, all[2:4], 7, 7)

	// Stored items carry links to their document and thread.
	items, _, _, _ := inbox.FindInbox(bob, docket.InboxFilter{Limit: 1})
	if it := items[0]; it.ID != ids[2] || it.URL != "/d/"+e2.ID+"#t-t1" || it.SpaceID != eng || it.ActorID != docket.UserIDFromContext(ada) {
		t.Errorf("stored item = %+v", it)
	}

	// One unknown id and nothing is marked.
	wantCode(t, "MarkRead unknown", inbox.MarkRead(bob, []string{ids[0], "999"}), docket.ENOTFOUND)
	for _, bad := range []string{"", "x", "01", "-1", "0"} {
		wantCode(t, "MarkRead "+bad, inbox.MarkRead(bob, []string{bad}), docket.ENOTFOUND)
	}
	// Ada cannot mark Bob's items.
	wantCode(t, "MarkRead by another", inbox.MarkRead(ada, []string{ids[0]}), docket.ENOTFOUND)
	check("nothing marked", docket.InboxFilter{Unread: true}, all, 7, 7)

	if err := inbox.MarkRead(bob, []string{ids[0]}); err != nil {
		t.Fatal(err)
	}
	check("one read, unread only", docket.InboxFilter{Unread: true}, append(all[:2:2], all[3:]...), 6, 6)
	if err := inbox.MarkRead(bob, nil); err != nil {
		t.Fatal(err)
	}
	// Mark all read leaves nothing unread, computed items included.
	check("all read", docket.InboxFilter{}, []string{
		`reply E2 "reply" read`, `review_request O1 "review_request" read`, `mention E1 "mention" read`,
		all[3] + " read", all[4] + " read", all[5] + " read", all[6] + " read",
	}, 7, 0)
	check("all read, unread only", docket.InboxFilter{Unread: true}, []string{}, 0, 0)

	// Leaving ops takes its items away; so does deleting E2.
	if err := f.spaces.RemoveMember(bob, ops, bobID); err != nil {
		t.Fatal(err)
	}
	if err := f.docs.DeleteDocument(bob, e2.ID); err != nil {
		t.Fatal(err)
	}
	check("after removal and delete", docket.InboxFilter{}, []string{`mention E1 "mention" read`, all[4] + " read", all[6] + " read"}, 3, 0)

	_, _, _, err := inbox.FindInbox(context.Background(), docket.InboxFilter{})
	wantCode(t, "anonymous", err, docket.EUNAUTHORIZED)
	_, _, _, err = inbox.FindInbox(bob, docket.InboxFilter{Offset: -1})
	wantCode(t, "negative offset", err, docket.EINVALID)
}

func TestActionOverdue(t *testing.T) {
	due := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		now  time.Time
		want bool
	}{
		{due.Add(-time.Hour), false},
		{due.Add(23 * time.Hour), false}, // still the due day
		{due.Add(24 * time.Hour), true},
	} {
		if got := actionOverdue(due, tc.now); got != tc.want {
			t.Errorf("actionOverdue(%v, %v) = %v; want %v", due, tc.now, got, tc.want)
		}
	}
	if actionOverdue(time.Time{}, due) {
		t.Error("an item without a due date is overdue")
	}
}

func TestGroupInbox(t *testing.T) {
	at := func(m int) time.Time { return time.Date(2026, 6, 1, 12, m, 0, 0, time.UTC) }
	item := func(id string, m int, doc, thread, actor string, kind docket.InboxKind, read bool) *docket.InboxItem {
		return &docket.InboxItem{ID: id, Kind: kind, Time: at(m), DocID: doc, Title: "T " + doc, ThreadID: thread,
			ActorID: actor, Text: "text " + id, Read: read, URL: "/d/" + doc}
	}
	// group renders a group for comparison.
	group := func(g *docket.InboxGroup) string {
		var actors []string
		for _, a := range g.Actors {
			actors = append(actors, a.ID)
		}
		return fmt.Sprintf("%s/%s %v n=%d unread=%d actors=%v latest=%d excerpt=%q ids=%v items=%d",
			g.DocID, g.ThreadID, g.Kinds, g.Count, g.Unread, actors, g.Latest.Minute(), g.Excerpt, g.ItemIDs, len(g.Items))
	}
	for _, tc := range []struct {
		name  string
		items []*docket.InboxItem // newest first, as FindInbox sorts them
		want  []string
	}{
		{"empty", nil, []string{}},
		{"replies in one thread make one group", []*docket.InboxItem{
			item("4", 4, "rfc", "t1", "bob", docket.InboxReply, false),
			item("3", 3, "rfc", "t1", "cy", docket.InboxReply, false),
			item("2", 2, "rfc", "t1", "bob", docket.InboxMention, true),
			item("1", 1, "rfc", "t1", "bob", docket.InboxReply, false),
		}, []string{
			`rfc/t1 [reply mention] n=4 unread=3 actors=[bob cy] latest=4 excerpt="text 4" ids=[4 3 2 1] items=4`,
		}},
		{"documents and threads apart, newest group first", []*docket.InboxItem{
			item("5", 5, "rfc", "t2", "bob", docket.InboxReply, false),
			item("4", 4, "plan", "", "cy", docket.InboxReviewRequest, false),
			item("3", 3, "rfc", "t1", "cy", docket.InboxReply, false),
			item("action:plan:x:none", 2, "plan", "", "", docket.InboxAction, false),
			item("2", 1, "rfc", "t2", "cy", docket.InboxMention, false),
		}, []string{
			`rfc/t2 [reply mention] n=2 unread=2 actors=[bob cy] latest=5 excerpt="text 5" ids=[5 2] items=2`,
			`plan/ [review_request action] n=2 unread=2 actors=[cy] latest=4 excerpt="text 4" ids=[4 action:plan:x:none] items=2`,
			`rfc/t1 [reply] n=1 unread=1 actors=[cy] latest=3 excerpt="text 3" ids=[3] items=1`,
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := []string{}
			for _, g := range groupInbox(tc.items) {
				got = append(got, group(g))
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("groupInbox (-want +got):\n%s", diff)
			}
		})
	}
	// A group carries its newest items only, and every id.
	var many []*docket.InboxItem
	for i := range docket.MaxInboxGroupItems + 5 {
		many = append(many, item(fmt.Sprint(100-i), 50-i, "rfc", "t1", "bob", docket.InboxReply, false))
	}
	g := groupInbox(many)[0]
	if len(g.Items) != docket.MaxInboxGroupItems || len(g.ItemIDs) != len(many) || g.Items[0].ID != "100" {
		t.Errorf("big group: %d items, %d ids, newest %s", len(g.Items), len(g.ItemIDs), g.Items[0].ID)
	}
}

func TestFindInboxGroups(t *testing.T) {
	f := newFixture(t)
	inbox := NewInboxService(f.db)
	ada, bob, cy := f.user("ada"), f.user("bob"), f.user("cy")
	bobID := docket.UserIDFromContext(bob)
	eng := f.space(ada, "eng")
	f.member(ada, eng, bob, docket.RoleEditor)
	f.member(ada, eng, cy, docket.RoleEditor)
	rfc, plan := f.doc(bob, eng, "Storage plan"), f.doc(ada, eng, "Plan")
	now := f.db.Now()
	f.write(func(tx kv.Tx) error {
		for i, actor := range []context.Context{ada, cy, ada, cy} {
			if _, err := putStored(tx, f.db, actor, bobID, rfc, now.Add(time.Duration(i)*time.Minute), docket.InboxReply); err != nil {
				return err
			}
		}
		_, err := putStored(tx, f.db, ada, bobID, plan, now.Add(-time.Hour), docket.InboxMention)
		return err
	})
	groups, total, unread, err := inbox.FindInboxGroups(bob, docket.InboxFilter{Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	if total != 2 || unread != 5 || len(groups) != 1 {
		t.Fatalf("FindInboxGroups = %d groups of %d, unread %d; want 1 of 2, unread 5", len(groups), total, unread)
	}
	g := groups[0]
	wantActors := []docket.InboxActor{{ID: docket.UserIDFromContext(cy), Name: "cy"}, {ID: docket.UserIDFromContext(ada), Name: "ada"}}
	if g.Title != "Storage plan" || g.Count != 4 || g.Unread != 4 || !cmp.Equal(g.Actors, wantActors) || len(g.Items) != 4 {
		t.Errorf("group = %+v; want 4 unread replies in Storage plan from cy and ada", g)
	}
	// Marking a group's ids read leaves the other group unread.
	if err := inbox.MarkRead(bob, g.ItemIDs); err != nil {
		t.Fatal(err)
	}
	groups, total, unread, err = inbox.FindInboxGroups(bob, docket.InboxFilter{Unread: true})
	if err != nil || total != 1 || unread != 1 || groups[0].Title != "Plan" {
		t.Errorf("unread groups after marking one = %d, unread %d, %v", total, unread, err)
	}
	_, _, _, err = inbox.FindInboxGroups(context.Background(), docket.InboxFilter{})
	wantCode(t, "anonymous", err, docket.EUNAUTHORIZED)
}

func TestInboxDone(t *testing.T) {
	f := newFixture(t)
	t0 := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	f.db.Now = func() time.Time { return t0 }
	inbox := NewInboxService(f.db)
	ada, bob := f.user("ada"), f.user("bob")
	bobID := docket.UserIDFromContext(bob)
	eng := f.space(ada, "eng")
	f.member(ada, eng, bob, docket.RoleEditor)
	d := f.doc(bob, eng, "D")
	var stored string
	f.write(func(tx kv.Tx) error {
		var err error
		if stored, err = putStored(tx, f.db, ada, bobID, d, t0, docket.InboxReply); err != nil {
			return err
		}
		if err := putActions(tx, d.ID, &docket.ActionItem{Line: 1, Text: "write it", UserID: bobID, Due: t0.Add(-48 * time.Hour)}); err != nil {
			return err
		}
		return putLifecycle(tx, d.ID, &docket.Lifecycle{Status: docket.StatusLastCall, Due: t0.Add(-time.Hour)})
	})
	kinds := func(what string, filter docket.InboxFilter) (map[docket.InboxKind]string, int) {
		t.Helper()
		items, _, unread, err := inbox.FindInbox(bob, filter)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		out := map[docket.InboxKind]string{}
		for _, it := range items {
			if it.ID == "" {
				t.Errorf("%s: item %+v has no id", what, it)
			}
			out[it.Kind] = it.ID
		}
		return out, unread
	}
	ids, unread := kinds("start", docket.InboxFilter{})
	if len(ids) != 3 || unread != 3 {
		t.Fatalf("inbox = %v, unread %d; want a reply, an action item and a deadline, all unread", ids, unread)
	}
	wantCode(t, "MarkDone without ids", inbox.MarkDone(bob, nil), docket.EINVALID)
	wantCode(t, "MarkDone unknown", inbox.MarkDone(bob, []string{ids[docket.InboxAction], "action:nope"}), docket.ENOTFOUND)
	wantCode(t, "MarkDone of another", inbox.MarkDone(ada, []string{ids[docket.InboxAction]}), docket.ENOTFOUND)
	if err := inbox.MarkDone(bob, []string{stored, ids[docket.InboxAction], ids[docket.InboxOverdue]}); err != nil {
		t.Fatal(err)
	}
	if got, unread := kinds("after done", docket.InboxFilter{}); len(got) != 0 || unread != 0 {
		t.Errorf("inbox after done = %v, unread %d; want empty", got, unread)
	}
	if got, _ := kinds("done", docket.InboxFilter{Done: true}); len(got) != 3 {
		t.Errorf("done items = %v; want all three", got)
	}
	// A new due date and a new deadline are new items.
	f.write(func(tx kv.Tx) error {
		if err := putActions(tx, d.ID, &docket.ActionItem{Line: 1, Text: "write it", UserID: bobID, Due: t0.Add(-24 * time.Hour)}); err != nil {
			return err
		}
		return putLifecycle(tx, d.ID, &docket.Lifecycle{Status: docket.StatusLastCall, Due: t0.Add(-time.Minute)})
	})
	got, unread := kinds("after new dates", docket.InboxFilter{})
	if len(got) != 2 || got[docket.InboxAction] == ids[docket.InboxAction] || got[docket.InboxOverdue] == ids[docket.InboxOverdue] || unread != 2 {
		t.Errorf("inbox after new dates = %v, unread %d; want a new action item and deadline", got, unread)
	}
	// Read marks of computed items stay too.
	if err := inbox.MarkRead(bob, []string{got[docket.InboxAction]}); err != nil {
		t.Fatal(err)
	}
	if _, unread := kinds("one read", docket.InboxFilter{}); unread != 1 {
		t.Errorf("unread after reading the action item = %d; want 1", unread)
	}
}
