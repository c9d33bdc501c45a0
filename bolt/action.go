package bolt

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	docket "github.com/docket-dev/docket"
	"github.com/docket-dev/docket/kv"
)

// Interface guard.
var _ docket.ActionService = (*ActionService)(nil)

// ParseActionsFunc reads the action items of a document's text, in text
// order, with Line, Text, Done, Assignee and Due filled in. It is
// markdown.ActionItems in the server; bolt does not parse markdown itself.
// It must be safe for concurrent use and must not fail.
type ParseActionsFunc func(src string) []docket.ActionItem

// ActionService implements [docket.ActionService] over the actions bucket
// (docID -> JSON []*docket.ActionItem) and keeps that bucket and its index
// user_actions (userID/docID -> nil, for every user assigned an item in the
// document) derived from the documents' text; see [ActionUpdater].
type ActionService struct {
	db    *DB
	parse ParseActionsFunc
}

// NewActionService returns the action item service over db. parse may be
// nil for a service that only reads stored items.
func NewActionService(db *DB, parse ParseActionsFunc) *ActionService {
	return &ActionService{db: db, parse: parse}
}

// FindActions implements [docket.ActionService]. The items are those
// derived from the text the last time it was read (see [ActionUpdater]);
// for a document whose items were never derived they are derived now.
// Assignees are resolved to the members of the document's space as they
// are at the time of the call, and Overdue is computed then too (see
// [docket.ActionItem.OverdueAt]). Needs the viewer role.
func (s *ActionService) FindActions(ctx context.Context, docID string) ([]*docket.ActionItem, error) {
	var (
		items  []*docket.ActionItem
		stored bool
		d      *docket.Document
		text   string
	)
	err := s.db.view(ctx, func(tx kv.Tx) error {
		var err error
		if d, _, err = readableDoc(ctx, tx, docID); err != nil {
			return err
		}
		if stored, err = getJSON(tx.Bucket(bucketActions), []byte(docID), &items); err != nil {
			return err
		}
		if !stored {
			text, err = body(tx, d)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	if !stored {
		// Parse outside the transaction, then resolve in another.
		items = s.derive(d, text)
	}
	err = s.db.view(ctx, func(tx kv.Tx) error {
		members := newMemberIndex(tx, d.SpaceID)
		for _, it := range items {
			it.UserID = members.resolve(it.Assignee)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	now := s.db.Now()
	for _, it := range items {
		it.Overdue = it.OverdueAt(now)
	}
	if items == nil {
		items = []*docket.ActionItem{}
	}
	return items, nil
}

// derive parses text into the items of document d at its version.
func (s *ActionService) derive(d *docket.Document, text string) []*docket.ActionItem {
	if s.parse == nil {
		return nil
	}
	parsed := s.parse(text)
	items := make([]*docket.ActionItem, len(parsed))
	for i := range parsed {
		it := parsed[i]
		it.DocID, it.Version, it.UserID, it.Overdue = d.ID, d.Version, "", false
		items[i] = &it
	}
	return items
}

// Refresh derives a document's action items from its current text and
// stores them with their assignees resolved, updating the user index in
// the same transaction. For a document that no longer exists it removes
// both. It checks no permissions: it is for trusted in-process callers.
// The text is parsed outside any transaction; if the document changed in
// the meantime nothing is written (the change brings its own refresh).
// Nothing is written either when the stored items are already current.
func (s *ActionService) Refresh(ctx context.Context, docID string) error {
	_, err := s.refresh(ctx, docID)
	return err
}

// refresh implements Refresh and reports whether it wrote anything.
func (s *ActionService) refresh(ctx context.Context, docID string) (bool, error) {
	if s.parse == nil {
		return false, fmt.Errorf("refresh actions: no parser")
	}
	var (
		d    *docket.Document
		text string
	)
	err := s.db.view(ctx, func(tx kv.Tx) error {
		var err error
		if d, err = findDoc(tx, docID); err != nil {
			return err
		}
		text, err = body(tx, d)
		return err
	})
	if docket.ErrorCode(err) == docket.ENOTFOUND {
		return s.remove(ctx, docID)
	} else if err != nil {
		return false, err
	}
	items := s.derive(d, text)

	// Check first in a read transaction whether anything would change,
	// so that refreshing current items costs no write.
	current := false
	err = s.db.view(ctx, func(tx kv.Tx) error {
		st, err := planActions(tx, d, items)
		current = st == nil
		return err
	})
	if err != nil || current {
		return false, err
	}
	wrote := false
	err = s.db.update(ctx, func(tx kv.Tx) error {
		st, err := planActions(tx, d, items)
		if err != nil || st == nil {
			return err
		}
		wrote = true
		return st.apply(tx)
	})
	return wrote, err
}

// actionState is a change of a document's stored items and index.
type actionState struct {
	docID     string
	data      []byte   // the new JSON of the items
	add, drop []string // user ids to index and to unindex
}

// planActions resolves items against the members of d's space and
// returns the writes that store them, or nil when they are already
// stored or the document is gone or no longer at d's version.
func planActions(tx kv.Tx, d *docket.Document, items []*docket.ActionItem) (*actionState, error) {
	cur, err := findDoc(tx, d.ID)
	if docket.ErrorCode(err) == docket.ENOTFOUND {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	if cur.Version != d.Version {
		return nil, nil
	}
	members := newMemberIndex(tx, cur.SpaceID)
	users := map[string]bool{}
	for _, it := range items {
		if it.UserID = members.resolve(it.Assignee); it.UserID != "" {
			users[it.UserID] = true
		}
	}
	if items == nil {
		items = []*docket.ActionItem{}
	}
	data, err := json.Marshal(items)
	if err != nil {
		return nil, err
	}
	old, err := storedUsers(tx, d.ID)
	if err != nil {
		return nil, err
	}
	st := &actionState{docID: d.ID, data: data}
	for uid := range users {
		if !old[uid] || tx.Bucket(bucketUserActions).Get(pair(uid, d.ID)) == nil {
			st.add = append(st.add, uid)
		}
	}
	for uid := range old {
		if !users[uid] {
			st.drop = append(st.drop, uid)
		}
	}
	if len(st.add) == 0 && len(st.drop) == 0 && bytes.Equal(tx.Bucket(bucketActions).Get([]byte(d.ID)), data) {
		return nil, nil
	}
	return st, nil
}

// apply writes the change in tx.
func (st *actionState) apply(tx kv.Tx) error {
	idx := tx.Bucket(bucketUserActions)
	for _, uid := range st.drop {
		if err := idx.Delete(pair(uid, st.docID)); err != nil {
			return err
		}
	}
	for _, uid := range st.add {
		if err := idx.Put(pair(uid, st.docID), nil); err != nil {
			return err
		}
	}
	return tx.Bucket(bucketActions).Put([]byte(st.docID), st.data)
}

// storedUsers returns the user ids of a document's stored items.
func storedUsers(tx kv.Tx, docID string) (map[string]bool, error) {
	var items []*docket.ActionItem
	if _, err := getJSON(tx.Bucket(bucketActions), []byte(docID), &items); err != nil {
		return nil, err
	}
	users := map[string]bool{}
	for _, it := range items {
		if it.UserID != "" {
			users[it.UserID] = true
		}
	}
	return users, nil
}

// remove deletes a document's stored items and their index entries, if
// it has any, and reports whether it did.
func (s *ActionService) remove(ctx context.Context, docID string) (bool, error) {
	stored := false
	if err := s.db.view(ctx, func(tx kv.Tx) error {
		stored = tx.Bucket(bucketActions).Get([]byte(docID)) != nil
		return nil
	}); err != nil || !stored {
		return false, err
	}
	err := s.db.update(ctx, func(tx kv.Tx) error {
		if _, err := findDoc(tx, docID); err == nil {
			return nil // created again meanwhile (only ids of the same shape can be)
		}
		return removeActions(tx, docID)
	})
	return err == nil, err
}

// removeActions deletes a document's stored items and index entries in tx.
func removeActions(tx kv.Tx, docID string) error {
	users, err := storedUsers(tx, docID)
	if err != nil {
		return err
	}
	for uid := range users {
		if err := tx.Bucket(bucketUserActions).Delete(pair(uid, docID)); err != nil {
			return err
		}
	}
	return tx.Bucket(bucketActions).Delete([]byte(docID))
}

// RefreshAll refreshes every document's action items and removes those of
// documents that no longer exist, writing only where something changed.
// It repairs what a crash between a commit and the debounced refresh left
// stale, and derives items for documents that have none stored. It
// returns the number of documents whose items it changed.
func (s *ActionService) RefreshAll(ctx context.Context) (int, error) {
	var ids []string
	err := s.db.view(ctx, func(tx kv.Tx) error {
		seen := map[string]bool{}
		for _, name := range [][]byte{bucketDocs, bucketActions} {
			c := tx.Bucket(name).Cursor()
			for k, _ := c.First(); k != nil; k, _ = c.Next() {
				if id := string(k); !seen[id] {
					seen[id] = true
					ids = append(ids, id)
				}
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	n := 0
	for _, id := range ids {
		wrote, err := s.refresh(ctx, id)
		if err != nil {
			return n, fmt.Errorf("refresh actions of %s: %w", id, err)
		}
		if wrote {
			n++
		}
	}
	return n, nil
}

// memberIndex resolves assignees to the members of one space inside one
// transaction. It reads the members on the first assignee to resolve.
type memberIndex struct {
	tx      kv.Tx
	spaceID string
	built   bool
	byEmail map[string]string // lower-case email -> user id
	byLocal map[string]string // lower-case local part -> user id, "" if ambiguous
}

func newMemberIndex(tx kv.Tx, spaceID string) *memberIndex {
	return &memberIndex{tx: tx, spaceID: spaceID}
}

// build reads the space's members. It must run inside the transaction.
func (m *memberIndex) build() {
	m.built = true
	m.byEmail, m.byLocal = map[string]string{}, map[string]string{}
	for userID := range prefixed(m.tx.Bucket(bucketMembers), m.spaceID) {
		uid := string(userID)
		u, err := findUser(m.tx, uid)
		if err != nil {
			continue
		}
		email := strings.ToLower(u.Email)
		m.byEmail[email] = uid
		local, _, _ := strings.Cut(email, "@")
		if prev, ok := m.byLocal[local]; ok && prev != uid {
			m.byLocal[local] = ""
		} else {
			m.byLocal[local] = uid
		}
	}
}

// resolve returns the id of the member an assignee names: the member with
// that email address, or the only member whose email's local part is the
// name, compared case-insensitively; "" for none.
func (m *memberIndex) resolve(assignee string) string {
	if assignee == "" {
		return ""
	}
	if !m.built {
		m.build()
	}
	a := strings.ToLower(assignee)
	if strings.Contains(a, "@") {
		return m.byEmail[a]
	}
	return m.byLocal[a]
}

// ActionUpdaterOptions configures an [ActionUpdater]. The zero value gives
// the defaults.
type ActionUpdaterOptions struct {
	// Debounce is how long after a document's first change the updater
	// re-reads it; further changes in that time are covered by the same
	// refresh. Zero or less means one second.
	Debounce time.Duration
	// MaxPending bounds the documents waiting for a refresh. Past it,
	// changes are not queued one by one: the worker refreshes every
	// document instead. Zero or less means 10,000.
	MaxPending int
	// Logger receives refresh failures.
	Logger *slog.Logger
}

// ActionUpdater keeps the stored action items current as documents change.
// It watches the database's changes ([DB.OnChange]); a change of a
// document's text, metadata or existence queues the document, and one
// worker goroutine ([ActionUpdater.Run]) refreshes it with
// [ActionService.Refresh] a debounce after its first change, so a burst
// of edits costs one parse. Stop it with Close before closing the
// database.
type ActionUpdater struct {
	s    *ActionService
	opts ActionUpdaterOptions

	mu       sync.Mutex
	queue    []pendingRefresh // in order of due time
	pending  map[string]bool  // the ids in queue
	all      bool             // refresh every document next
	closed   bool
	cancel   context.CancelFunc // of the running worker
	exited   chan struct{}      // closed when the worker returns
	wake     chan struct{}
	inFlight string // the document being refreshed, for Idle
}

type pendingRefresh struct {
	docID string
	due   time.Time
}

// NewActionUpdater returns an updater for s's database and starts
// watching its changes. Call Run to do the work.
func NewActionUpdater(s *ActionService, opts ActionUpdaterOptions) *ActionUpdater {
	if opts.Debounce <= 0 {
		opts.Debounce = time.Second
	}
	if opts.MaxPending <= 0 {
		opts.MaxPending = 10000
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	u := &ActionUpdater{s: s, opts: opts, pending: map[string]bool{}, wake: make(chan struct{}, 1)}
	s.db.OnChange(u.onChange)
	return u
}

// onChange queues the document of a change. It runs in the committing
// goroutine and only takes a lock.
func (u *ActionUpdater) onChange(ch docket.Change) {
	switch ch.Kind {
	case docket.ChangeText, docket.ChangeMeta, docket.ChangeDeleted:
	default:
		return
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.closed || u.pending[ch.DocID] {
		return
	}
	if len(u.pending) >= u.opts.MaxPending {
		u.all = true
	} else {
		u.pending[ch.DocID] = true
		u.queue = append(u.queue, pendingRefresh{docID: ch.DocID, due: time.Now().Add(u.opts.Debounce)})
	}
	u.signal()
}

// signal wakes the worker; u.mu is held.
func (u *ActionUpdater) signal() {
	select {
	case u.wake <- struct{}{}:
	default:
	}
}

// RefreshAll asks the worker to run [ActionService.RefreshAll] before
// anything else, such as once at startup. It does not wait.
func (u *ActionUpdater) RefreshAll() {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.all = true
	u.signal()
}

// Idle reports whether nothing is queued or being refreshed.
func (u *ActionUpdater) Idle() bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	return len(u.queue) == 0 && !u.all && u.inFlight == ""
}

// Run refreshes queued documents until ctx is done or Close is called.
// It is meant to be called once, in its own goroutine; a second call, or
// a call after Close, returns at once.
func (u *ActionUpdater) Run(ctx context.Context) {
	u.mu.Lock()
	if u.closed || u.cancel != nil {
		u.mu.Unlock()
		return
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	u.cancel, u.exited = cancel, make(chan struct{})
	exited := u.exited
	u.mu.Unlock()
	defer close(exited)

	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	for {
		u.mu.Lock()
		all := u.all
		u.all = false
		var next pendingRefresh
		have := len(u.queue) > 0
		if have {
			next = u.queue[0]
		}
		if all {
			u.inFlight = "*"
		}
		u.mu.Unlock()

		if all {
			n, err := u.s.RefreshAll(ctx)
			u.done(err)
			if n > 0 {
				u.opts.Logger.Info("action items refreshed", slog.Int("documents", n))
			}
			continue
		}
		if !have {
			select {
			case <-u.wake:
				continue
			case <-ctx.Done():
				return
			}
		}
		if wait := time.Until(next.due); wait > 0 {
			timer.Reset(wait)
			select {
			case <-timer.C:
			case <-u.wake:
				timer.Stop()
				continue
			case <-ctx.Done():
				return
			}
		}
		u.mu.Lock()
		if len(u.queue) == 0 || u.queue[0].docID != next.docID {
			// Close emptied the queue while we waited.
			u.mu.Unlock()
			continue
		}
		u.queue = u.queue[1:]
		delete(u.pending, next.docID)
		u.inFlight = next.docID
		u.mu.Unlock()
		u.done(u.s.Refresh(ctx, next.docID))
	}
}

// done ends a refresh, logging its failure.
func (u *ActionUpdater) done(err error) {
	u.mu.Lock()
	u.inFlight = ""
	u.mu.Unlock()
	if err != nil && !errors.Is(err, context.Canceled) {
		u.opts.Logger.Error("refresh action items failed", slog.Any("err", err))
	}
}

// Close stops watching changes and stops the worker, waiting for a refresh
// in progress to finish. Queued documents are dropped: [ActionService.RefreshAll]
// at the next start brings them up to date.
func (u *ActionUpdater) Close() error {
	u.mu.Lock()
	u.closed = true
	cancel, exited := u.cancel, u.exited
	u.queue, u.pending = nil, map[string]bool{}
	u.mu.Unlock()
	if cancel != nil {
		cancel()
		<-exited
	}
	return nil
}
