package bolt

import (
	bolt "go.etcd.io/bbolt"
)

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
