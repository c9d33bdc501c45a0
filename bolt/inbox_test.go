package bolt

import (
	"context"
	"fmt"
	"testing"
	"time"

	docket "github.com/docket-dev/docket"
	"github.com/google/go-cmp/cmp"
	bolt "go.etcd.io/bbolt"
)

// putStored appends an event by actor and puts an item for userID in
// their inbox, as the services that append events do.
func putStored(tx *bolt.Tx, db *DB, actor context.Context, userID string, d *docket.Document, at time.Time, kind docket.InboxKind) (string, error) {
	ev := &docket.Event{Type: docket.EventCommentCreated, Time: at, SpaceID: d.SpaceID, DocID: d.ID, ThreadID: "t1"}
	if err := db.appendEvent(actor, tx, ev); err != nil {
		return "", err
	}
	return fmt.Sprint(ev.Seq), addInbox(tx, userID, ev, &docket.InboxItem{Kind: kind, Text: string(kind)})
}

func putActions(tx *bolt.Tx, docID string, items ...*docket.ActionItem) error {
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
	f.write(func(tx *bolt.Tx) error {
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
	check("all read", docket.InboxFilter{}, []string{
		`reply E2 "reply" read`, `review_request O1 "review_request" read`, `mention E1 "mention" read`,
		all[3], all[4], all[5], all[6],
	}, 7, 4)

	// Leaving ops takes its items away; so does deleting E2.
	if err := f.spaces.RemoveMember(bob, ops, bobID); err != nil {
		t.Fatal(err)
	}
	if err := f.docs.DeleteDocument(bob, e2.ID); err != nil {
		t.Fatal(err)
	}
	check("after removal and delete", docket.InboxFilter{}, []string{`mention E1 "mention" read`, all[4], all[6]}, 3, 2)

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
