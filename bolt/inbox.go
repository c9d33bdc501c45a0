package bolt

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"

	docket "github.com/docket-dev/docket"
	"github.com/docket-dev/docket/kv"
)

// Interface guard.
var _ docket.InboxService = (*InboxService)(nil)

// InboxService implements [docket.InboxService]. Stored items (bucket
// inbox, written by the services that append events) are read with the
// items computed from the current state: the caller's open action items
// (user_actions, actions) and the overdue deadlines of documents the
// caller reviews or owns (lifecycles of the documents of the caller's
// spaces). Readability is decided at read time, so items of a space the
// caller has left, or of a deleted document, are left out.
type InboxService struct{ db *DB }

// NewInboxService returns the inbox over db.
func NewInboxService(db *DB) *InboxService { return &InboxService{db: db} }

// Inbox page sizes.
const (
	defaultInboxPage = 50
	maxInboxPage     = 200
	// maxMarkRead is the most ids one MarkRead call may name.
	maxMarkRead = 1000
)

// inboxReader reads one user's inbox in a transaction, remembering which
// documents and spaces it has looked at.
type inboxReader struct {
	ctx    context.Context
	tx     kv.Tx
	userID string
	now    time.Time
	docs   map[string]*docket.Document // nil for a document that is gone or unreadable
	spaces map[string]bool
	// reminded holds the deadlines (doc id and due time) the caller has a
	// stored overdue reminder of, which stands for the computed item.
	reminded map[string]bool
}

// doc returns a document the caller may read, or nil.
func (r *inboxReader) doc(id string) *docket.Document {
	if d, ok := r.docs[id]; ok {
		return d
	}
	d, err := findDoc(r.tx, id)
	if err != nil || !r.readable(d.SpaceID) {
		d = nil
	}
	r.docs[id] = d
	return d
}

func (r *inboxReader) readable(spaceID string) bool {
	ok, seen := r.spaces[spaceID]
	if !seen {
		ok = roleIn(r.ctx, r.tx, spaceID).AtLeast(docket.RoleViewer)
		r.spaces[spaceID] = ok
	}
	return ok
}

// stored appends the caller's stored items whose documents are readable.
func (r *inboxReader) stored(out []*docket.InboxItem) ([]*docket.InboxItem, error) {
	items, err := decodePrefixed[docket.InboxItem](r.tx.Bucket(bucketInbox), r.userID, "inbox item")
	if err != nil {
		return nil, err
	}
	// The reminders of an overdue action item come once a day; only the
	// latest of them is listed.
	latest := map[string]int{}
	for _, it := range items {
		d := r.doc(it.DocID)
		if d == nil {
			continue
		}
		it.Title, it.SpaceID = d.Title, d.SpaceID
		if it.Kind == docket.InboxOverdue {
			r.reminded[deadlineKey(it.DocID, it.Due)] = true
			k := deadlineKey(it.DocID, it.Due) + "/" + it.Text
			if i, ok := latest[k]; ok {
				out[i] = it
				continue
			}
			latest[k] = len(out)
		}
		out = append(out, it)
	}
	return out, nil
}

// deadlineKey names a document's deadline in inboxReader.reminded.
func deadlineKey(docID string, due time.Time) string {
	return docID + "/" + due.UTC().Format(time.RFC3339Nano)
}

// actions appends the caller's open action items.
func (r *inboxReader) actions(out []*docket.InboxItem) ([]*docket.InboxItem, error) {
	actions := r.tx.Bucket(bucketActions)
	for docID := range prefixed(r.tx.Bucket(bucketUserActions), r.userID) {
		d := r.doc(string(docID))
		if d == nil {
			continue
		}
		var items []*docket.ActionItem
		if ok, err := getJSON(actions, []byte(d.ID), &items); err != nil {
			return nil, err
		} else if !ok {
			continue
		}
		for _, a := range items {
			if a == nil || a.Done || a.UserID != r.userID {
				continue
			}
			out = append(out, &docket.InboxItem{
				ID: actionItemID(d.ID, a), Kind: docket.InboxAction, Time: d.UpdatedAt, DocID: d.ID, Title: d.Title, SpaceID: d.SpaceID,
				Text: a.Text, Due: a.Due, Overdue: actionOverdue(a.Due, r.now), URL: docURL(d.ID, ""),
			})
		}
	}
	return out, nil
}

// actionOverdue reports whether an action item's due date (midnight UTC
// of the day) is over: it is overdue from the day after.
func actionOverdue(due, now time.Time) bool {
	return !due.IsZero() && !now.Before(due.Add(24*time.Hour))
}

// deadline is the part of a docket.Lifecycle the inbox reads.
type deadline struct {
	Status    docket.Status      `json:"status"`
	Due       time.Time          `json:"due"`
	Reviewers []*docket.Reviewer `json:"reviewers"`
}

// overdue appends the documents in review or last call past their
// deadline where the caller is a reviewer without a verdict, or the
// owner. It looks at every document of the caller's spaces; a document
// without a lifecycle record is a draft.
func (r *inboxReader) overdue(out []*docket.InboxItem) ([]*docket.InboxItem, error) {
	spaceIDs, err := readableSpaceIDs(r.ctx, r.tx)
	if err != nil {
		return nil, err
	}
	lifecycles := r.tx.Bucket(bucketLifecycles)
	for _, spaceID := range spaceIDs {
		for docID := range prefixed(r.tx.Bucket(bucketSpaceDocs), spaceID) {
			raw := lifecycles.Get(docID)
			if raw == nil {
				continue
			}
			var lc deadline
			if err := json.Unmarshal(raw, &lc); err != nil {
				return nil, fmt.Errorf("decode lifecycle %s: %w", docID, err)
			}
			l := docket.Lifecycle{Status: lc.Status, Due: lc.Due}
			if !l.Overdue(r.now) || r.reminded[deadlineKey(string(docID), lc.Due)] {
				continue
			}
			d := r.doc(string(docID))
			if d == nil {
				continue
			}
			what := "review"
			if lc.Status == docket.StatusLastCall {
				what = "last call"
			}
			due := lc.Due.UTC().Format("2006-01-02 15:04 UTC")
			item := &docket.InboxItem{
				ID: "overdue:" + d.ID + ":" + strconv.FormatInt(lc.Due.Unix(), 10), Kind: docket.InboxOverdue, Time: lc.Due, DocID: d.ID, Title: d.Title, SpaceID: d.SpaceID,
				Due: lc.Due, Overdue: true, URL: docURL(d.ID, ""),
			}
			if i := slices.IndexFunc(lc.Reviewers, func(rv *docket.Reviewer) bool { return rv != nil && rv.UserID == r.userID }); i >= 0 && lc.Reviewers[i].Verdict == "" {
				item.Text = fmt.Sprintf("Your review was due %s.", due)
			} else if d.OwnerID == r.userID {
				item.Text = fmt.Sprintf("The %s ended %s; move the document on.", what, due)
			} else {
				continue
			}
			out = append(out, item)
		}
	}
	return out, nil
}

// FindInbox implements [docket.InboxService]. Items are sorted newest
// first: stored items by their event's time, action items by their
// document's last update, overdue deadlines by the deadline. A stored
// overdue reminder of a deadline (see Reminders) replaces the computed
// item of that deadline, so a deadline shows once.
func (s *InboxService) FindInbox(ctx context.Context, f docket.InboxFilter) ([]*docket.InboxItem, int, int, error) {
	var items []*docket.InboxItem
	var unread int
	err := s.read(ctx, f, func(_ *inboxReader, shown []*docket.InboxItem, n int) error {
		items, unread = shown, n
		return nil
	})
	if err != nil {
		return nil, 0, 0, err
	}
	return page(items, f.Offset, inboxLimit(f)), len(items), unread, nil
}

// inboxLimit is the page size a filter asks for, within bounds.
func inboxLimit(f docket.InboxFilter) int {
	if f.Limit == 0 {
		return defaultInboxPage
	}
	return min(f.Limit, maxInboxPage)
}

// read reads the caller's inbox in one transaction and calls fn with the
// items the filter shows, newest first, and the count of unread items
// that are not done.
func (s *InboxService) read(ctx context.Context, f docket.InboxFilter, fn func(r *inboxReader, shown []*docket.InboxItem, unread int) error) error {
	userID := docket.UserIDFromContext(ctx)
	if userID == "" {
		return docket.Errorf(docket.EUNAUTHORIZED, "Sign in first.")
	}
	if f.Limit < 0 || f.Offset < 0 {
		return docket.Errorf(docket.EINVALID, "Limit and offset must not be negative.")
	}
	return s.db.view(ctx, func(tx kv.Tx) error {
		r := newInboxReader(ctx, tx, userID, s.db.Now())
		all, err := r.all()
		if err != nil {
			return err
		}
		unread := 0
		shown := all[:0]
		for _, it := range all {
			if !it.Read && !it.Done {
				unread++
			}
			if it.Done == f.Done && (!f.Unread || !it.Read) {
				shown = append(shown, it)
			}
		}
		slices.SortStableFunc(shown, func(a, b *docket.InboxItem) int {
			return cmp.Or(b.Time.Compare(a.Time), cmp.Compare(inboxSeq(b), inboxSeq(a)),
				cmp.Compare(a.DocID, b.DocID), cmp.Compare(a.Text, b.Text))
		})
		return fn(r, shown, unread)
	})
}

func newInboxReader(ctx context.Context, tx kv.Tx, userID string, now time.Time) *inboxReader {
	return &inboxReader{ctx: ctx, tx: tx, userID: userID, now: now,
		docs: map[string]*docket.Document{}, spaces: map[string]bool{}, reminded: map[string]bool{}}
}

// all reads the stored and the computed items, with the read and done
// marks of the computed ones applied.
func (r *inboxReader) all() ([]*docket.InboxItem, error) {
	all, err := r.stored(nil)
	if err != nil {
		return nil, err
	}
	n := len(all)
	if all, err = r.actions(all); err != nil {
		return nil, err
	}
	if all, err = r.overdue(all); err != nil {
		return nil, err
	}
	if marks := r.tx.Bucket(bucketInboxMarks); marks != nil {
		for _, it := range all[n:] {
			var m inboxMark
			if _, err := getJSON(marks, pair(r.userID, it.ID), &m); err != nil {
				return nil, err
			}
			it.Read, it.Done = m.Read || m.Done, m.Done
		}
	}
	return all, nil
}

// inboxMark is the state of a computed item the user has marked.
type inboxMark struct {
	Read bool `json:"read,omitempty"`
	Done bool `json:"done,omitempty"`
}

// actionItemID is the id of an action item's inbox item: its document,
// its text and its due date, so that the same item with a new due date is
// a new inbox item.
func actionItemID(docID string, a *docket.ActionItem) string {
	sum := sha256.Sum256([]byte(a.Text))
	due := "none"
	if !a.Due.IsZero() {
		due = a.Due.UTC().Format("20060102")
	}
	return "action:" + docID + ":" + hex.EncodeToString(sum[:8]) + ":" + due
}

// inboxSeq is the event sequence number of a stored item, 0 for a
// computed one.
func inboxSeq(it *docket.InboxItem) uint64 {
	n, _ := strconv.ParseUint(it.ID, 10, 64)
	return n
}

// MarkRead implements [docket.InboxService]. All ids are checked before
// anything is written: one unknown id and nothing changes.
func (s *InboxService) MarkRead(ctx context.Context, ids []string) error {
	return s.mark(ctx, ids, inboxMark{Read: true})
}

// MarkDone implements [docket.InboxService].
func (s *InboxService) MarkDone(ctx context.Context, ids []string) error {
	if len(ids) == 0 {
		return docket.Errorf(docket.EINVALID, "Name the inbox items to mark done.")
	}
	return s.mark(ctx, ids, inboxMark{Read: true, Done: true})
}

// mark sets the caller's items read (and done, with m.Done): the stored
// ones in their records, the computed ones in inbox_marks. No ids means
// every item the caller has now.
func (s *InboxService) mark(ctx context.Context, ids []string, m inboxMark) error {
	userID := docket.UserIDFromContext(ctx)
	if userID == "" {
		return docket.Errorf(docket.EUNAUTHORIZED, "Sign in first.")
	}
	if len(ids) > maxMarkRead {
		return docket.Errorf(docket.EINVALID, "Mark at most %d items at once.", maxMarkRead)
	}
	return s.db.update(ctx, func(tx kv.Tx) error {
		b := tx.Bucket(bucketInbox)
		r := newInboxReader(ctx, tx, userID, s.db.Now())
		computed, err := r.actions(nil)
		if err != nil {
			return err
		}
		if computed, err = r.overdue(computed); err != nil {
			return err
		}
		var keys [][]byte
		var marks []string
		if len(ids) == 0 {
			for seq := range prefixed(b, userID) {
				keys = append(keys, seqKey(userID, seqFromKey(seq)))
			}
			for _, it := range computed {
				marks = append(marks, it.ID)
			}
		}
		for _, id := range ids {
			if slices.ContainsFunc(computed, func(it *docket.InboxItem) bool { return it.ID == id }) {
				marks = append(marks, id)
				continue
			}
			seq, err := strconv.ParseUint(id, 10, 64)
			if err != nil || seq == 0 || strconv.FormatUint(seq, 10) != id {
				return docket.Errorf(docket.ENOTFOUND, "Inbox item %q not found.", id)
			}
			k := seqKey(userID, seq)
			if b.Get(k) == nil {
				return docket.Errorf(docket.ENOTFOUND, "Inbox item %q not found.", id)
			}
			keys = append(keys, k)
		}
		for _, k := range keys {
			var it docket.InboxItem
			if _, err := getJSON(b, k, &it); err != nil {
				return err
			}
			if it.Read == (it.Read || m.Read) && it.Done == (it.Done || m.Done) {
				continue
			}
			it.Read, it.Done = it.Read || m.Read, it.Done || m.Done
			if err := putJSON(b, k, &it); err != nil {
				return err
			}
		}
		return putMarks(tx, userID, marks, m)
	})
}

// putMarks adds m to the marks of the caller's computed items ids.
func putMarks(tx kv.Tx, userID string, ids []string, m inboxMark) error {
	if len(ids) == 0 {
		return nil
	}
	marks, err := tx.CreateBucketIfNotExists(bucketInboxMarks)
	if err != nil {
		return err
	}
	for _, id := range ids {
		var old inboxMark
		k := pair(userID, id)
		if _, err := getJSON(marks, k, &old); err != nil {
			return err
		}
		if err := putJSON(marks, k, inboxMark{Read: old.Read || m.Read, Done: old.Done || m.Done}); err != nil {
			return err
		}
	}
	return nil
}
