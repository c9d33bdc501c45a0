package bolt

import (
	"context"
	"testing"
	"time"

	docket "github.com/docket-dev/docket"
	"github.com/docket-dev/docket/kv"
)

// TestReadCacheSeesChanges: the cached token and document metadata are
// never older than the last write: a deleted token, a removed member, a
// renamed document and a passed deadline are all seen by the next read.
func TestReadCacheSeesChanges(t *testing.T) {
	f := newFixture(t)
	ada, bob := f.user("ada"), f.user("bob")
	space := f.space(ada, "eng")
	f.member(ada, space, bob, docket.RoleViewer)
	d := f.doc(ada, space, "Plan")

	secret, tok, err := f.users.CreateToken(bob, "script")
	if err != nil {
		t.Fatal(err)
	}
	for range 2 { // the second read is the cached one
		if u, err := f.users.FindUserByToken(context.Background(), secret); err != nil || u.ID != docket.UserIDFromContext(bob) {
			t.Fatalf("FindUserByToken = %+v, %v", u, err)
		}
		if m, err := f.docs.FindDocumentMeta(bob, d.ID); err != nil || m.Title != "Plan" || m.Role != docket.RoleViewer {
			t.Fatalf("FindDocumentMeta = %+v, %v", m, err)
		}
	}
	// A caller changing what it was given changes nothing cached.
	m, _ := f.docs.FindDocumentMeta(bob, d.ID)
	m.Title, m.Tags = "Changed", append(m.Tags, "x")
	if m, _ := f.docs.FindDocumentMeta(bob, d.ID); m.Title != "Plan" || len(m.Tags) != 0 {
		t.Fatalf("cached meta changed by a caller: %+v", m)
	}

	title := "Plan B"
	if _, err := f.docs.UpdateDocument(ada, d.ID, docket.DocumentUpdate{Title: &title}); err != nil {
		t.Fatal(err)
	}
	if m, err := f.docs.FindDocumentMeta(bob, d.ID); err != nil || m.Title != "Plan B" {
		t.Fatalf("after the rename: %+v, %v", m, err)
	}
	if err := f.spaces.RemoveMember(ada, space, docket.UserIDFromContext(bob)); err != nil {
		t.Fatal(err)
	}
	_, err = f.docs.FindDocumentMeta(bob, d.ID)
	wantCode(t, "meta after removal", err, docket.ENOTFOUND)
	if err := f.users.DeleteToken(bob, tok.ID); err != nil {
		t.Fatal(err)
	}
	_, err = f.users.FindUserByToken(context.Background(), secret)
	wantCode(t, "token after deletion", err, docket.EUNAUTHORIZED)

	// Overdue follows the clock, which writes nothing.
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	f.db.Now = func() time.Time { return now }
	f.write(func(tx kv.Tx) error {
		return putJSON(tx.Bucket(bucketLifecycles), []byte(d.ID), &docket.Lifecycle{Status: docket.StatusReview, Due: now.Add(time.Hour)})
	})
	if m, err := f.docs.FindDocumentMeta(ada, d.ID); err != nil || m.Overdue {
		t.Fatalf("before the deadline: %+v, %v", m, err)
	}
	now = now.Add(2 * time.Hour)
	if m, err := f.docs.FindDocumentMeta(ada, d.ID); err != nil || !m.Overdue {
		t.Fatalf("after the deadline: overdue = %v, %v; want true", m.Overdue, err)
	}
}
