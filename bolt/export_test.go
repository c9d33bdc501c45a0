package bolt

import (
	"context"

	docket "github.com/docket-dev/docket"
	"github.com/docket-dev/docket/kv"
)

// This file gives the external tests a look at records that no service of
// this branch reads yet.

// SetThreadStatus changes a thread's stored status, as the thread service
// does when a thread is resolved or reopened.
func SetThreadStatus(db *DB, id string, status docket.ThreadStatus) error {
	return db.update(context.Background(), func(tx kv.Tx) error {
		th, err := findByID[docket.Thread](tx, bucketThreads, id, "Thread not found.")
		if err != nil {
			return err
		}
		th.Status = status
		return putJSON(tx.Bucket(bucketThreads), []byte(id), th)
	})
}

// ThreadRecord returns a stored thread with its comments in order.
func ThreadRecord(db *DB, id string) (*docket.Thread, error) {
	return inTx(context.Background(), db.view, func(tx kv.Tx) (*docket.Thread, error) {
		th, err := findByID[docket.Thread](tx, bucketThreads, id, "Thread not found.")
		if err != nil {
			return nil, err
		}
		if tx.Bucket(bucketDocThreads).Get(pair(th.DocID, th.ID)) == nil {
			return nil, docket.Errorf(docket.ENOTFOUND, "Thread not indexed under its document.")
		}
		for _, v := range prefixed(tx.Bucket(bucketThreadComments), id) {
			var cm docket.Comment
			if ok, err := getJSON(tx.Bucket(bucketComments), v, &cm); err != nil || !ok {
				return nil, docket.Errorf(docket.EINTERNAL, "comment %s of thread %s missing", v, id)
			}
			th.Comments = append(th.Comments, &cm)
		}
		return th, nil
	})
}

// InboxOf returns a user's stored inbox items, oldest first.
func InboxOf(db *DB, userID string) []*docket.InboxItem {
	items, _ := inTx(context.Background(), db.view, func(tx kv.Tx) ([]*docket.InboxItem, error) {
		return decodePrefixed[docket.InboxItem](tx.Bucket(bucketInbox), userID, "inbox item")
	})
	return items
}

// DocEvents returns a document's events, oldest first.
func DocEvents(db *DB, docID string) []*docket.Event {
	var out []*docket.Event
	db.kv.View(func(tx kv.Tx) error {
		for seq := range prefixed(tx.Bucket(bucketDocEvents), docID) {
			var ev docket.Event
			if ok, _ := getJSON(tx.Bucket(bucketEvents), seq, &ev); ok {
				out = append(out, &ev)
			}
		}
		return nil
	})
	return out
}

// PutReview stores a review of a document as the decision service does,
// so that thread tests can make a concern thread.
func PutReview(db *DB, r *docket.Review) error {
	return db.update(context.Background(), func(tx kv.Tx) error {
		return appendJSON(tx.Bucket(bucketReviews), r.DocID, r)
	})
}

// ThreadRecordCount counts the stored threads, comments and their index
// entries, to check that nothing is left behind.
func ThreadRecordCount(db *DB) int {
	n := 0
	db.kv.View(func(tx kv.Tx) error {
		for _, name := range [][]byte{bucketThreads, bucketDocThreads, bucketComments, bucketThreadComments} {
			n += countKeys(tx.Bucket(name))
		}
		return nil
	})
	return n
}

// StoredStatus returns the status kept in a document's metadata record and
// whether the document has a lifecycle record, reviews or handoffs.
func StoredStatus(db *DB, docID string) (status docket.Status, lifecycle, reviews, handoffs bool) {
	db.kv.View(func(tx kv.Tx) error {
		var d docket.Document
		getJSON(tx.Bucket(bucketDocs), []byte(docID), &d)
		status = d.Status
		lifecycle = tx.Bucket(bucketLifecycles).Get([]byte(docID)) != nil
		for range prefixed(tx.Bucket(bucketReviews), docID) {
			reviews = true
		}
		for range prefixed(tx.Bucket(bucketHandoffs), docID) {
			handoffs = true
		}
		return nil
	})
	return
}

// StoredMeta returns the raw metadata record of a document.
func StoredMeta(db *DB, docID string) string {
	var out string
	db.kv.View(func(tx kv.Tx) error {
		out = string(tx.Bucket(bucketDocs).Get([]byte(docID)))
		return nil
	})
	return out
}

// UserActionKeys returns every key of the user_actions index as
// "userID/docID", for tests.
func UserActionKeys(db *DB) []string {
	var keys []string
	db.kv.View(func(tx kv.Tx) error {
		return tx.Bucket(bucketUserActions).ForEach(func(k, _ []byte) error {
			keys = append(keys, string(k))
			return nil
		})
	})
	return keys
}

// StoredActions returns the stored JSON of a document's action items and
// whether there is any, for tests.
func StoredActions(db *DB, docID string) (string, bool) {
	var out []byte
	db.kv.View(func(tx kv.Tx) error {
		if v := tx.Bucket(bucketActions).Get([]byte(docID)); v != nil {
			out = append([]byte{}, v...)
		}
		return nil
	})
	return string(out), out != nil
}
