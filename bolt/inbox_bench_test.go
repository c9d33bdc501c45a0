package bolt

import (
	"fmt"
	"testing"
	"time"

	docket "github.com/docket-dev/docket"
	"github.com/docket-dev/docket/kv"
)

// BenchmarkFindInbox reads the inbox of a user who is a member of ten
// spaces holding 1,000 documents (target: under 20 ms), with 100 stored
// items, 200 open action items, 300 documents in review (70 of them
// overdue for the user) and 500 documents in a space the user is not in.
func BenchmarkFindInbox(b *testing.B) {
	f := newFixture(b)
	f.db.bdb.NoSync = true // setup only: the benchmark reads
	ada, bob, cy := f.user("ada"), f.user("bob"), f.user("cy")
	adaID, bobID, cyID := docket.UserIDFromContext(ada), docket.UserIDFromContext(bob), docket.UserIDFromContext(cy)
	var docs []*docket.Document
	for s := range 10 {
		sp := f.space(ada, fmt.Sprintf("s%d", s))
		f.member(ada, sp, bob, docket.RoleEditor)
		for d := range 100 {
			owner := ada
			if d%10 == 0 {
				owner = bob
			}
			docs = append(docs, f.doc(owner, sp, fmt.Sprintf("Doc %d-%d", s, d)))
		}
	}
	other := f.space(cy, "other")
	for d := range 500 {
		f.doc(cy, other, fmt.Sprintf("Other %d", d))
	}
	now := f.db.Now()
	f.write(func(tx kv.Tx) error {
		for i := range 100 {
			if _, err := putStored(tx, f.db, ada, bobID, docs[i*7], now.Add(-time.Duration(i)*time.Minute), docket.InboxMention); err != nil {
				return err
			}
		}
		for i := range 100 {
			err := putActions(tx, docs[i*3].ID,
				&docket.ActionItem{Line: 1, Text: "first", UserID: bobID, Due: now.Add(-72 * time.Hour)},
				&docket.ActionItem{Line: 2, Text: "second", UserID: bobID},
				&docket.ActionItem{Line: 3, Text: "ada's", UserID: adaID},
				&docket.ActionItem{Line: 4, Text: "cy's", UserID: cyID},
				&docket.ActionItem{Line: 5, Text: "done", UserID: bobID, Done: true})
			if err != nil {
				return err
			}
		}
		for i := range 300 {
			due := now.Add(48 * time.Hour)
			if i%4 == 0 {
				due = now.Add(-time.Hour) // 75 overdue
			}
			lc := &docket.Lifecycle{Status: docket.StatusReview, Due: due, Reviewers: []*docket.Reviewer{
				{UserID: adaID, Verdict: docket.VerdictApprove}, {UserID: cyID}, {UserID: bobID},
			}}
			if i%3 == 0 {
				lc.Status = docket.StatusLastCall
			}
			if err := putLifecycle(tx, docs[i*3+1].ID, lc); err != nil {
				return err
			}
		}
		return nil
	})
	inbox := NewInboxService(f.db)
	items, total, unread, err := inbox.FindInbox(bob, docket.InboxFilter{})
	if err != nil || len(items) != defaultInboxPage {
		b.Fatalf("FindInbox = %d items, %v", len(items), err)
	}
	b.Logf("total %d, unread %d", total, unread)
	b.ResetTimer()
	for b.Loop() {
		if _, _, _, err := inbox.FindInbox(bob, docket.InboxFilter{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFindInboxThousands reads the inbox of an owner with 3,000
// stored items: replies and mentions in 100 threads of 20 documents (the
// 200-person trial's shape, where one RFC made hundreds of replies), plus
// 40 open action items. "items" pages the flat list, "groups" groups it
// by document and thread.
func BenchmarkFindInboxThousands(b *testing.B) {
	f := newFixture(b)
	f.db.bdb.NoSync = true // setup only: the benchmark reads
	ada, bob := f.user("ada"), f.user("bob")
	bobID := docket.UserIDFromContext(bob)
	sp := f.space(ada, "eng")
	f.member(ada, sp, bob, docket.RoleEditor)
	var docs []*docket.Document
	for d := range 20 {
		docs = append(docs, f.doc(bob, sp, fmt.Sprintf("RFC %d", d)))
	}
	now := f.db.Now()
	f.write(func(tx kv.Tx) error {
		for i := range 3000 {
			d := docs[i%len(docs)]
			kind := docket.InboxReply
			if i%7 == 0 {
				kind = docket.InboxMention
			}
			ev := &docket.Event{Type: docket.EventCommentCreated, Time: now.Add(-time.Duration(i) * time.Minute),
				SpaceID: d.SpaceID, DocID: d.ID, ThreadID: fmt.Sprintf("t%d", i%100)}
			if err := f.db.appendEvent(ada, tx, ev); err != nil {
				return err
			}
			if err := addInbox(tx, bobID, ev, &docket.InboxItem{Kind: kind, Text: "a reply that says something"}); err != nil {
				return err
			}
		}
		for i := range 40 {
			if err := putActions(tx, docs[i%len(docs)].ID, &docket.ActionItem{Line: 1, Text: fmt.Sprint("do ", i), UserID: bobID}); err != nil {
				return err
			}
		}
		return nil
	})
	inbox := NewInboxService(f.db)
	b.Run("items", func(b *testing.B) {
		for b.Loop() {
			if _, _, _, err := inbox.FindInbox(bob, docket.InboxFilter{}); err != nil {
				b.Fatal(err)
			}
		}
	})
	groups, total, unread, err := inbox.FindInboxGroups(bob, docket.InboxFilter{})
	if err != nil || total != 120 || unread != 3020 || groups[0].Count != 30 || groups[0].Actors[0].Name != "ada" {
		b.Fatalf("FindInboxGroups = %d groups, unread %d, %v", total, unread, err)
	}
	b.Run("groups", func(b *testing.B) {
		for b.Loop() {
			if _, _, _, err := inbox.FindInboxGroups(bob, docket.InboxFilter{}); err != nil {
				b.Fatal(err)
			}
		}
	})
}
