package bolt

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strings"

	docket "github.com/docket-dev/docket"
	bolt "go.etcd.io/bbolt"
)

// OnChange registers fn to be called after every committed change to a
// document, from the committing goroutine. fn must return quickly: it is
// meant to queue work (reindexing, re-reading action items), not do it.
func (db *DB) OnChange(fn func(docket.Change)) {
	db.watchMu.Lock()
	defer db.watchMu.Unlock()
	db.watchers = append(db.watchers, fn)
}

// notify arranges for ch to reach the OnChange watchers once tx commits.
// Nothing is sent for a transaction that rolls back.
func (db *DB) notify(tx *bolt.Tx, ch docket.Change) {
	tx.OnCommit(func() {
		db.watchMu.RLock()
		defer db.watchMu.RUnlock()
		for _, fn := range db.watchers {
			fn(ch)
		}
	})
}

// appendEvent gives ev the next sequence number and stores it, with its
// document and space indexes, in the caller's transaction. Actor, Time and
// Title are filled in when empty. It returns the sequence number.
func (db *DB) appendEvent(ctx context.Context, tx *bolt.Tx, ev *docket.Event) (int64, error) {
	b := tx.Bucket(bucketEvents)
	seq, err := b.NextSequence()
	if err != nil {
		return 0, err
	}
	ev.Seq = int64(seq)
	if ev.Time.IsZero() {
		ev.Time = db.Now().UTC()
	}
	if ev.ActorID == "" {
		ev.ActorID = docket.UserIDFromContext(ctx)
	}
	if ev.Title == "" && ev.DocID != "" {
		if d, err := findDoc(tx, ev.DocID); err == nil {
			ev.Title = d.Title
		}
	}
	if ev.SpaceID == "" {
		return 0, fmt.Errorf("event %s without a space", ev.Type)
	}
	key := u64(seq)
	if err := putJSON(b, key, ev); err != nil {
		return 0, err
	}
	if ev.DocID != "" {
		if err := tx.Bucket(bucketDocEvents).Put(seqKey(ev.DocID, seq), nil); err != nil {
			return 0, err
		}
	}
	if err := tx.Bucket(bucketSpaceEvents).Put(seqKey(ev.SpaceID, seq), nil); err != nil {
		return 0, err
	}
	return ev.Seq, nil
}

// eventData marshals the details of an event.
func eventData(v any) json.RawMessage {
	data, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	return data
}

// seqKey is prefix/ followed by a big-endian sequence number, so that a
// cursor over prefix/ walks the entries in order.
func seqKey(prefix string, seq uint64) []byte {
	k := make([]byte, len(prefix)+1+8)
	copy(k, prefix)
	k[len(prefix)] = '/'
	binary.BigEndian.PutUint64(k[len(prefix)+1:], seq)
	return k
}

// seqFromKey returns the sequence number at the end of a seqKey.
func seqFromKey(k []byte) uint64 {
	if len(k) < 8 {
		return 0
	}
	return binary.BigEndian.Uint64(k[len(k)-8:])
}

// addInbox puts an item in a user's inbox, keyed by the event that caused
// it, unless the user is the actor, already has an item for that event, or
// can no longer read the document's space.
func addInbox(tx *bolt.Tx, userID string, ev *docket.Event, item *docket.InboxItem) error {
	if userID == "" || userID == ev.ActorID {
		return nil
	}
	if !canRead(tx, ev.SpaceID, userID) {
		return nil
	}
	key := seqKey(userID, uint64(ev.Seq))
	b := tx.Bucket(bucketInbox)
	if b.Get(key) != nil {
		return nil
	}
	item.ID = fmt.Sprintf("%d", ev.Seq)
	item.Time = ev.Time
	item.DocID, item.SpaceID, item.ActorID = ev.DocID, ev.SpaceID, ev.ActorID
	if item.ThreadID == "" {
		item.ThreadID = ev.ThreadID
	}
	if item.Title == "" {
		item.Title = ev.Title
	}
	if item.URL == "" {
		item.URL = docURL(ev.DocID, item.ThreadID)
	}
	return putJSON(b, key, item)
}

// docURL is the web app path of a document, or of a thread on it.
func docURL(docID, threadID string) string {
	if threadID != "" {
		return "/d/" + docID + "#t-" + threadID
	}
	return "/d/" + docID
}

// userRole returns a user's role in a space: admin for a site admin, the
// membership role otherwise, "" for none. It is roleIn for a user other
// than the caller.
func userRole(tx *bolt.Tx, spaceID, userID string) docket.SpaceRole {
	if u, err := findUser(tx, userID); err != nil {
		return ""
	} else if u.Role == docket.SiteAdmin {
		return docket.RoleAdmin
	}
	return docket.SpaceRole(tx.Bucket(bucketUserSpaces).Get(pair(userID, spaceID)))
}

// canRead reports whether a user may read a space.
func canRead(tx *bolt.Tx, spaceID, userID string) bool {
	return userRole(tx, spaceID, userID).AtLeast(docket.RoleViewer)
}

// hasPrefixKey reports whether k starts with prefix/.
func hasPrefixKey(k []byte, prefix string) bool {
	return len(k) > len(prefix) && strings.HasPrefix(string(k), prefix) && k[len(prefix)] == '/'
}
