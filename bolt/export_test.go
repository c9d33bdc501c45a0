package bolt

import (
	"encoding/json"

	docket "github.com/docket-dev/docket"
	bolt "go.etcd.io/bbolt"
)

// This file gives the external tests a look at records that no service of
// this branch reads yet.

// SetThreadStatus changes a thread's stored status, as the thread service
// does when a thread is resolved or reopened.
func SetThreadStatus(db *DB, id string, status docket.ThreadStatus) error {
	return db.db.Update(func(tx *bolt.Tx) error {
		var th docket.Thread
		if ok, err := getJSON(tx.Bucket(bucketThreads), []byte(id), &th); err != nil {
			return err
		} else if !ok {
			return docket.Errorf(docket.ENOTFOUND, "Thread not found.")
		}
		th.Status = status
		return putJSON(tx.Bucket(bucketThreads), []byte(id), &th)
	})
}

// ThreadRecord returns a stored thread with its comments in order.
func ThreadRecord(db *DB, id string) (*docket.Thread, error) {
	var th docket.Thread
	err := db.db.View(func(tx *bolt.Tx) error {
		if ok, err := getJSON(tx.Bucket(bucketThreads), []byte(id), &th); err != nil {
			return err
		} else if !ok {
			return docket.Errorf(docket.ENOTFOUND, "Thread not found.")
		}
		if tx.Bucket(bucketDocThreads).Get(pair(th.DocID, th.ID)) == nil {
			return docket.Errorf(docket.ENOTFOUND, "Thread not indexed under its document.")
		}
		c := tx.Bucket(bucketThreadComments).Cursor()
		for k, v := c.Seek([]byte(id + "/")); k != nil && hasPrefixKey(k, id); k, v = c.Next() {
			var cm docket.Comment
			if ok, err := getJSON(tx.Bucket(bucketComments), v, &cm); err != nil || !ok {
				return docket.Errorf(docket.EINTERNAL, "comment %s of thread %s missing", v, id)
			}
			th.Comments = append(th.Comments, &cm)
		}
		return nil
	})
	return &th, err
}

// InboxOf returns a user's stored inbox items, oldest first.
func InboxOf(db *DB, userID string) []*docket.InboxItem {
	var out []*docket.InboxItem
	db.db.View(func(tx *bolt.Tx) error {
		return eachPrefixed(tx.Bucket(bucketInbox), userID, func(v []byte) error {
			var it docket.InboxItem
			json.Unmarshal(v, &it)
			out = append(out, &it)
			return nil
		})
	})
	return out
}

// DocEvents returns a document's events, oldest first.
func DocEvents(db *DB, docID string) []*docket.Event {
	var out []*docket.Event
	db.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketDocEvents).Cursor()
		for k, _ := c.Seek([]byte(docID + "/")); k != nil && hasPrefixKey(k, docID); k, _ = c.Next() {
			var ev docket.Event
			getJSON(tx.Bucket(bucketEvents), u64(seqFromKey(k)), &ev)
			out = append(out, &ev)
		}
		return nil
	})
	return out
}

// StoredStatus returns the status kept in a document's metadata record and
// whether the document has a lifecycle record, reviews or handoffs.
func StoredStatus(db *DB, docID string) (status docket.Status, lifecycle, reviews, handoffs bool) {
	db.db.View(func(tx *bolt.Tx) error {
		var d docket.Document
		getJSON(tx.Bucket(bucketDocs), []byte(docID), &d)
		status = d.Status
		lifecycle = tx.Bucket(bucketLifecycles).Get([]byte(docID)) != nil
		eachPrefixed(tx.Bucket(bucketReviews), docID, func([]byte) error { reviews = true; return nil })
		eachPrefixed(tx.Bucket(bucketHandoffs), docID, func([]byte) error { handoffs = true; return nil })
		return nil
	})
	return
}

// StoredMeta returns the raw metadata record of a document.
func StoredMeta(db *DB, docID string) string {
	var out string
	db.db.View(func(tx *bolt.Tx) error {
		out = string(tx.Bucket(bucketDocs).Get([]byte(docID)))
		return nil
	})
	return out
}

// UserActionKeys returns every key of the user_actions index as
// "userID/docID", for tests.
func UserActionKeys(db *DB) []string {
	var keys []string
	db.db.View(func(tx *bolt.Tx) error {
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
	db.db.View(func(tx *bolt.Tx) error {
		if v := tx.Bucket(bucketActions).Get([]byte(docID)); v != nil {
			out = append([]byte{}, v...)
		}
		return nil
	})
	return string(out), out != nil
}
