package bolt

import (
	"bytes"
	"encoding/json"

	docket "github.com/docket-dev/docket"
	bolt "go.etcd.io/bbolt"
)

// InboxForTest returns a user's inbox items, oldest first.
func (db *DB) InboxForTest(userID string) []*docket.InboxItem {
	var out []*docket.InboxItem
	db.db.View(func(tx *bolt.Tx) error {
		prefix := []byte(userID + "/")
		c := tx.Bucket(bucketInbox).Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			var it docket.InboxItem
			if json.Unmarshal(v, &it) == nil {
				out = append(out, &it)
			}
		}
		return nil
	})
	return out
}

// EventsForTest returns a document's events, oldest first.
func (db *DB) EventsForTest(docID string) []*docket.Event {
	var out []*docket.Event
	db.db.View(func(tx *bolt.Tx) error {
		prefix := []byte(docID + "/")
		c := tx.Bucket(bucketDocEvents).Cursor()
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			var ev docket.Event
			if ok, _ := getJSON(tx.Bucket(bucketEvents), k[len(prefix):], &ev); ok {
				out = append(out, &ev)
			}
		}
		return nil
	})
	return out
}

// PutReviewForTest stores a review of a document as the decision service
// does, so that thread tests can make a concern thread.
func (db *DB) PutReviewForTest(r *docket.Review) error {
	return db.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketReviews)
		seq, err := b.NextSequence()
		if err != nil {
			return err
		}
		return putJSON(b, seqKey(r.DocID, seq), r)
	})
}

// ThreadRecordCountForTest counts the stored threads, comments and their
// index entries, to check that nothing is left behind.
func (db *DB) ThreadRecordCountForTest() int {
	n := 0
	db.db.View(func(tx *bolt.Tx) error {
		for _, name := range [][]byte{bucketThreads, bucketDocThreads, bucketComments, bucketThreadComments} {
			n += tx.Bucket(name).Stats().KeyN
		}
		return nil
	})
	return n
}
