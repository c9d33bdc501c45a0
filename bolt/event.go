package bolt

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"strings"

	docket "github.com/docket-dev/docket"
	"github.com/docket-dev/docket/kv"
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
func (db *DB) notify(tx kv.Tx, ch docket.Change) {
	if n := noteOf(tx); n != nil {
		n.Changes = append(n.Changes, ch)
	}
	tx.OnCommit(func() { db.changed(ch) })
}

// changed runs the OnChange watchers.
func (db *DB) changed(ch docket.Change) {
	db.watchMu.RLock()
	defer db.watchMu.RUnlock()
	for _, fn := range db.watchers {
		fn(ch)
	}
}

// evented runs the OnEvent watchers.
func (db *DB) evented(ev docket.Event) {
	db.watchMu.RLock()
	defer db.watchMu.RUnlock()
	for _, fn := range db.events {
		fn(ev)
	}
}

// OnEvent registers fn to be called with every event after the
// transaction that appended it commits, from the committing goroutine.
// fn must return at once (it wakes the event streams of open document
// pages, which then read the events from the log).
func (db *DB) OnEvent(fn func(docket.Event)) {
	db.watchMu.Lock()
	defer db.watchMu.Unlock()
	db.events = append(db.events, fn)
}

// appendEvent gives ev the next sequence number and stores it, with its
// document and space indexes and a pending delivery for every webhook of
// its space that wants it, in the caller's transaction. Actor, Time and
// Title are filled in when empty.
func (db *DB) appendEvent(ctx context.Context, tx kv.Tx, ev *docket.Event) error {
	b := tx.Bucket(bucketEvents)
	seq, err := b.NextSequence()
	if err != nil {
		return err
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
		return fmt.Errorf("event %s without a space", ev.Type)
	}
	key := u64(seq)
	if err := putJSON(b, key, ev); err != nil {
		return err
	}
	if ev.DocID != "" {
		if err := tx.Bucket(bucketDocEvents).Put(seqKey(ev.DocID, seq), nil); err != nil {
			return err
		}
	}
	if err := tx.Bucket(bucketSpaceEvents).Put(seqKey(ev.SpaceID, seq), nil); err != nil {
		return err
	}
	if err := db.queueDeliveries(tx, ev); err != nil {
		return err
	}
	committed := *ev
	if n := noteOf(tx); n != nil {
		n.Events = append(n.Events, committed)
	}
	tx.OnCommit(func() { db.evented(committed) })
	return nil
}

// announce appends ev and arranges for the change it records, of kind,
// to reach the OnChange watchers once tx commits (see notify).
func (db *DB) announce(ctx context.Context, tx kv.Tx, ev *docket.Event, kind docket.ChangeKind) error {
	if err := db.appendEvent(ctx, tx, ev); err != nil {
		return err
	}
	db.notify(tx, docket.Change{Kind: kind, DocID: ev.DocID, SpaceID: ev.SpaceID, ThreadID: ev.ThreadID, CommentID: ev.CommentID})
	return nil
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
func addInbox(tx kv.Tx, userID string, ev *docket.Event, item *docket.InboxItem) error {
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
	if err := putJSON(b, key, item); err != nil {
		return err
	}
	return queueMail(tx, userID, item)
}

// addInboxes puts a copy of item in the inbox of each of users, as
// addInbox does.
func addInboxes(tx kv.Tx, ev *docket.Event, item docket.InboxItem, users []string) error {
	for _, userID := range users {
		it := item
		if err := addInbox(tx, userID, ev, &it); err != nil {
			return err
		}
	}
	return nil
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
func userRole(tx kv.Tx, spaceID, userID string) docket.SpaceRole {
	if u, err := findUser(tx, userID); err != nil {
		return ""
	} else if u.Role == docket.SiteAdmin {
		return docket.RoleAdmin
	}
	return docket.SpaceRole(tx.Bucket(bucketUserSpaces).Get(pair(userID, spaceID)))
}

// canRead reports whether a user may read a space.
func canRead(tx kv.Tx, spaceID, userID string) bool {
	return userRole(tx, spaceID, userID).AtLeast(docket.RoleViewer)
}

// hasPrefixKey reports whether k starts with prefix/.
func hasPrefixKey(k []byte, prefix string) bool {
	return len(k) > len(prefix) && strings.HasPrefix(string(k), prefix) && k[len(prefix)] == '/'
}

// Interface guard.
var _ docket.EventService = (*EventService)(nil)

// EventService implements [docket.EventService] over the event log and its
// space and document indexes.
type EventService struct{ db *DB }

// NewEventService returns the activity feed over db.
func NewEventService(db *DB) *EventService { return &EventService{db: db} }

// defaultEventsPage is the page size when the filter names none.
const defaultEventsPage = 50

// FindEvents implements [docket.EventService]. Readability is decided per
// space at the time of the call: the events of a space one has left are
// gone from one's feed, and those of a deleted document can be read
// through its space only.
func (s *EventService) FindEvents(ctx context.Context, f docket.EventFilter) ([]*docket.Event, error) {
	switch {
	case f.After < 0 || f.Before < 0:
		return nil, docket.Errorf(docket.EINVALID, "Cursors after and before must not be negative.")
	case f.After > 0 && f.Before > 0:
		return nil, docket.Errorf(docket.EINVALID, "Use after or before, not both.")
	case f.Limit < 0:
		return nil, docket.Errorf(docket.EINVALID, "Limit must not be negative.")
	}
	limit := f.Limit
	if limit == 0 {
		limit = defaultEventsPage
	}
	limit = min(limit, docket.MaxEventsPage)
	w := seqWalk{after: uint64(f.After), before: uint64(f.Before), limit: limit}
	return inTx(ctx, s.db.view, func(tx kv.Tx) ([]*docket.Event, error) {
		var seqs []uint64
		switch {
		case f.DocID != "":
			d, _, err := readableDoc(ctx, tx, f.DocID)
			if err != nil {
				return nil, err
			}
			if f.Space != "" {
				sp, _, err := readableSpace(ctx, tx, f.Space)
				if err != nil {
					return nil, err
				}
				if sp.ID != d.SpaceID {
					return nil, docket.Errorf(docket.ENOTFOUND, "Document not found in that space.")
				}
			}
			seqs = w.merge(tx.Bucket(bucketDocEvents), []string{d.ID})
		case f.Space != "":
			sp, _, err := readableSpace(ctx, tx, f.Space)
			if err != nil {
				return nil, err
			}
			seqs = w.merge(tx.Bucket(bucketSpaceEvents), []string{sp.ID})
		case docket.IsSystemContext(ctx) || docket.UserFromContext(ctx).IsAdmin():
			seqs = w.all(tx.Bucket(bucketEvents))
		default:
			ids, err := readableSpaceIDs(ctx, tx)
			if err != nil {
				return nil, err
			}
			seqs = w.merge(tx.Bucket(bucketSpaceEvents), ids)
		}
		out := []*docket.Event{}
		events := tx.Bucket(bucketEvents)
		for _, seq := range seqs {
			var ev docket.Event
			if ok, err := getJSON(events, u64(seq), &ev); err != nil {
				return nil, err
			} else if ok {
				out = append(out, &ev)
			}
		}
		return out, nil
	})
}

// seqWalk reads sequence numbers from seqKey indexes: oldest first after
// a cursor, or newest first before one (or from the end).
type seqWalk struct {
	after, before uint64
	limit         int
}

func (w seqWalk) forward() bool { return w.after > 0 }

// all walks the event log itself, for callers who may read every space.
func (w seqWalk) all(b kv.Bucket) []uint64 {
	var out []uint64
	c := b.Cursor()
	var k []byte
	if w.forward() {
		k, _ = c.Seek(u64(w.after + 1))
	} else {
		k = seekBefore(c, u64(w.before), w.before == 0)
	}
	for ; k != nil && len(out) < w.limit; k = step(c, w.forward()) {
		if len(k) == 8 {
			out = append(out, binary.BigEndian.Uint64(k))
		}
	}
	return out
}

// merge walks the seqKey entries of several prefixes of an index
// together, in sequence order.
func (w seqWalk) merge(b kv.Bucket, prefixes []string) []uint64 {
	type head struct {
		c      kv.Cursor
		prefix string
		seq    uint64
		ok     bool
	}
	heads := make([]*head, 0, len(prefixes))
	advance := func(h *head, k []byte) {
		h.ok = k != nil && len(k) == len(h.prefix)+9 && hasPrefixKey(k, h.prefix)
		if h.ok {
			h.seq = seqFromKey(k)
		}
	}
	for _, p := range prefixes {
		h := &head{c: b.Cursor(), prefix: p}
		if w.forward() {
			k, _ := h.c.Seek(seqKey(p, w.after+1))
			advance(h, k)
		} else {
			end := w.before
			if end == 0 {
				end = math.MaxUint64
			}
			advance(h, seekBefore(h.c, seqKey(p, end), false))
		}
		if h.ok {
			heads = append(heads, h)
		}
	}
	var out []uint64
	for len(out) < w.limit {
		var best *head
		for _, h := range heads {
			if h.ok && (best == nil || (w.forward() && h.seq < best.seq) || (!w.forward() && h.seq > best.seq)) {
				best = h
			}
		}
		if best == nil {
			break
		}
		out = append(out, best.seq)
		advance(best, step(best.c, w.forward()))
	}
	return out
}

// seekBefore positions c on the last key before key (or on the last key
// of the bucket when last is set) and returns it.
func seekBefore(c kv.Cursor, key []byte, last bool) []byte {
	if last {
		k, _ := c.Last()
		return k
	}
	if k, _ := c.Seek(key); k == nil {
		k, _ = c.Last() // every key is before key
		return k
	}
	k, _ := c.Prev()
	return k
}

func step(c kv.Cursor, forward bool) []byte {
	var k []byte
	if forward {
		k, _ = c.Next()
	} else {
		k, _ = c.Prev()
	}
	return k
}
