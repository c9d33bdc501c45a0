package bolt

import (
	"context"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	docket "github.com/docket-dev/docket"
	"github.com/docket-dev/docket/kv"
)

// Interface guard.
var _ docket.ThreadService = (*ThreadService)(nil)

// DefaultMoveCacheAfter is how many versions an anchor may be moved
// through on a read before its new place is stored.
const DefaultMoveCacheAfter = 50

// ThreadService implements [docket.ThreadService].
type ThreadService struct {
	db       *DB
	renderer docket.Renderer
	mentions func(src string) []string

	// MoveCacheAfter is how many versions a read may move an anchor
	// through before it stores the anchor's new place with the thread (in
	// a short write transaction after the read), so that later reads only
	// move it through newer ops. Zero means DefaultMoveCacheAfter; a
	// negative value turns the cache off.
	MoveCacheAfter int64
}

// NewThreadService returns the thread service over db. renderer turns
// comment bodies into sanitised HTML; mentions extracts the names a
// comment mentions with @ (markdown.Mentions); nil mentions no one.
func NewThreadService(db *DB, renderer docket.Renderer, mentions func(src string) []string) *ThreadService {
	if mentions == nil {
		mentions = func(string) []string { return nil }
	}
	return &ThreadService{db: db, renderer: renderer, mentions: mentions}
}

// threadRecord is a thread as stored: without comments, with its anchor
// as it was made and where it was last moved to.
type threadRecord struct {
	docket.Thread
	// Seq orders the threads of a document.
	Seq   uint64       `json:"seq"`
	Moved *movedAnchor `json:"moved,omitempty"`

	cur [2]int // the range at the current version, set by moveAnchors
}

func (s *ThreadService) cacheAfter() int64 {
	if s.MoveCacheAfter == 0 {
		return DefaultMoveCacheAfter
	}
	if s.MoveCacheAfter < 0 {
		return -1
	}
	return s.MoveCacheAfter
}

func findThread(tx kv.Tx, id string) (*threadRecord, error) {
	return findByID[threadRecord](tx, bucketThreads, id, "Thread not found.")
}

func putThread(tx kv.Tx, rec *threadRecord) error {
	stored := *rec
	stored.Comments = nil
	return putJSON(tx.Bucket(bucketThreads), []byte(rec.ID), &stored)
}

// readableThread finds a thread on a document the caller may read, the
// document and the caller's role in its space. A thread of an unreadable
// document is ENOTFOUND.
func readableThread(ctx context.Context, tx kv.Tx, id string) (*threadRecord, *docket.Document, docket.SpaceRole, error) {
	rec, err := findThread(tx, id)
	if err != nil {
		return nil, nil, "", err
	}
	d, role, err := readableDoc(ctx, tx, rec.DocID)
	if err != nil || d.SpaceID != rec.SpaceID {
		return nil, nil, "", docket.Errorf(docket.ENOTFOUND, "Thread not found.")
	}
	return rec, d, role, nil
}

// docThreads reads a document's threads in the order they were started.
func docThreads(tx kv.Tx, docID string) ([]*threadRecord, error) {
	var out []*threadRecord
	for threadID := range prefixed(tx.Bucket(bucketDocThreads), docID) {
		rec, err := findThread(tx, string(threadID))
		if err != nil {
			return nil, err
		}
		out = append(out, rec)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Seq < out[j].Seq })
	return out, nil
}

// deleteThreads deletes every thread of a document with its comments, in
// the caller's transaction.
func deleteThreads(tx kv.Tx, docID string) error {
	return deletePrefix(tx.Bucket(bucketDocThreads), docID, func(threadID, _ []byte) error {
		err := deletePrefix(tx.Bucket(bucketThreadComments), string(threadID), func(_, commentID []byte) error {
			return tx.Bucket(bucketComments).Delete(commentID)
		})
		if err != nil {
			return err
		}
		return tx.Bucket(bucketThreads).Delete(threadID)
	})
}

// view returns the thread as the API shows it at version: the anchor at
// its moved place, the status outdated for an open thread whose text is
// gone, and the comments.
func (rec *threadRecord) view(version int64, comments []*docket.Comment) *docket.Thread {
	t := rec.Thread
	if rec.Suggestion != nil {
		sug := *rec.Suggestion // the view's state may differ
		t.Suggestion = &sug
	}
	if rec.Anchor != nil {
		a := *rec.Anchor
		a.Version, a.Start, a.End = version, rec.cur[0], rec.cur[1]
		t.Anchor = &a
		if t.Status == docket.ThreadOpen && a.Start == a.End {
			t.Status = docket.ThreadOutdated
		}
	}
	t.Comments = comments
	return &t
}

// storeMoves stores the moved anchors of threads that a read computed, in
// a short write transaction of its own. It is a cache: a failure only
// means the next read moves the anchors again, so errors are dropped.
func (s *ThreadService) storeMoves(ctx context.Context, dirty []*threadRecord) {
	if len(dirty) == 0 || s.db.ReadOnly {
		return
	}
	_ = s.db.update(ctx, func(tx kv.Tx) error {
		for _, moved := range dirty {
			rec, err := findThread(tx, moved.ID)
			if err != nil {
				continue // deleted since
			}
			if rec.Moved != nil && rec.Moved.Version >= moved.Moved.Version {
				continue
			}
			rec.Moved = moved.Moved
			if err := putThread(tx, rec); err != nil {
				return err
			}
		}
		return nil
	})
}

// callerID returns the caller's id, or EUNAUTHORIZED.
func callerID(ctx context.Context) (string, error) {
	if id := docket.UserIDFromContext(ctx); id != "" {
		return id, nil
	}
	return "", docket.Errorf(docket.EUNAUTHORIZED, "Sign in first.")
}

// CreateThread implements [docket.ThreadService].
func (s *ThreadService) CreateThread(ctx context.Context, tc docket.ThreadCreate) (*docket.Thread, error) {
	if _, err := callerID(ctx); err != nil {
		return nil, err
	}
	if err := checkAnchor(tc.Anchor); err != nil {
		return nil, err
	}
	in, err := s.prepareComment(ctx, tc.Body)
	if err != nil {
		return nil, err
	}
	return inTx(ctx, s.db.update, func(tx kv.Tx) (*docket.Thread, error) {
		return s.createThread(ctx, tx, tc, in, nil)
	})
}

// createThread creates a thread in the caller's transaction, with the
// caller's permissions checked, its event, inbox items and change
// notification: the whole of CreateThread after the input is checked and
// the body prepared with prepareComment. A non-nil sug makes the thread a
// suggested change of the anchored text (CreateSuggestion).
func (s *ThreadService) createThread(ctx context.Context, tx kv.Tx, tc docket.ThreadCreate, in *commentInput, sug *docket.Suggestion) (*docket.Thread, error) {
	d, role, err := readableDoc(ctx, tx, tc.DocID)
	if err != nil {
		return nil, err
	}
	if err := mayComment(role); err != nil {
		return nil, err
	}
	now := s.db.Now().UTC()
	rec := &threadRecord{Thread: docket.Thread{
		ID: newID(), DocID: d.ID, SpaceID: d.SpaceID, Status: docket.ThreadOpen,
		AuthorID: in.author, CreatedAt: now, UpdatedAt: now,
	}}
	if err := checkAnchor(tc.Anchor); err != nil {
		return nil, err
	}
	if a := tc.Anchor; a != nil {
		if a.Version > d.Version {
			return nil, docket.Errorf(docket.EINVALID, "Anchor version %d is newer than the document (version %d).", a.Version, d.Version)
		}
		text, err := textAt(tx, d, a.Version)
		if err != nil {
			return nil, err
		}
		if n := utf8.RuneCountInString(text); a.End > n {
			return nil, docket.Errorf(docket.EINVALID, "Anchor end %d is past the end of the text at version %d (%d characters).", a.End, a.Version, n)
		}
		rec.Anchor = &docket.Anchor{Version: a.Version, Start: a.Start, End: a.End, Quote: quote(text, a.Start, a.End)}
	}
	if sug != nil {
		if err := checkSuggestion(rec.Anchor, sug); err != nil {
			return nil, err
		}
		rec.Suggestion = sug
	}
	if rec.Seq, err = tx.Bucket(bucketThreads).NextSequence(); err != nil {
		return nil, err
	}
	if _, err := moveAnchors(tx, d, []*threadRecord{rec}, s.cacheAfter()); err != nil {
		return nil, err
	}
	cm := &docket.Comment{
		ID: newID(), ThreadID: rec.ID, DocID: d.ID, AuthorID: in.author, Body: in.body, HTML: in.html,
		Mentions: resolveMentions(tx, d.SpaceID, in.names), CreatedAt: now,
	}
	if err := putThread(tx, rec); err != nil {
		return nil, err
	}
	if err := tx.Bucket(bucketDocThreads).Put(pair(d.ID, rec.ID), nil); err != nil {
		return nil, err
	}
	if err := putComment(tx, cm, true); err != nil {
		return nil, err
	}
	var data map[string]any
	if rec.Anchor != nil {
		data = map[string]any{"quote": shorten(collapseSpace(rec.Anchor.Quote), excerptRunes)}
	}
	if sug != nil {
		return rec.view(d.Version, []*docket.Comment{cm}), s.announceSuggestion(ctx, tx, d, cm, data)
	}
	if _, err := s.announceComment(ctx, tx, docket.EventThreadCreated, d, cm, nil, data); err != nil {
		return nil, err
	}
	cm.Warnings = mentionWarnings(tx, d.SpaceID, in.names)
	th := rec.view(d.Version, []*docket.Comment{cm})
	th.Warnings = cm.Warnings
	return th, nil
}

// FindThread implements [docket.ThreadService].
func (s *ThreadService) FindThread(ctx context.Context, id string) (*docket.Thread, error) {
	var dirty []*threadRecord
	out, err := inTx(ctx, s.db.view, func(tx kv.Tx) (*docket.Thread, error) {
		rec, d, _, err := readableThread(ctx, tx, id)
		if err != nil {
			return nil, err
		}
		if dirty, err = moveAnchors(tx, d, []*threadRecord{rec}, s.cacheAfter()); err != nil {
			return nil, err
		}
		comments, err := threadComments(tx, rec.ID)
		if err != nil {
			return nil, err
		}
		t := rec.view(d.Version, comments)
		return t, markOutdated(tx, d, []*docket.Thread{t})
	})
	if err == nil {
		s.storeMoves(ctx, dirty)
	}
	return out, err
}

// FindThreads implements [docket.ThreadService].
func (s *ThreadService) FindThreads(ctx context.Context, docID string, f docket.ThreadFilter) ([]*docket.Thread, error) {
	switch f.Status {
	case "", docket.ThreadOpen, docket.ThreadResolved, docket.ThreadOutdated:
	default:
		return nil, docket.Errorf(docket.EINVALID, "Status %q is not one of open, resolved, outdated.", f.Status)
	}
	var dirty []*threadRecord
	out, err := inTx(ctx, s.db.view, func(tx kv.Tx) ([]*docket.Thread, error) {
		d, _, err := readableDoc(ctx, tx, docID)
		if err != nil {
			return nil, err
		}
		recs, err := docThreads(tx, d.ID)
		if err != nil {
			return nil, err
		}
		if f.Status == docket.ThreadResolved {
			recs = slices.DeleteFunc(recs, func(r *threadRecord) bool { return r.Status != docket.ThreadResolved })
		}
		if dirty, err = moveAnchors(tx, d, recs, s.cacheAfter()); err != nil {
			return nil, err
		}
		out := []*docket.Thread{}
		for _, rec := range recs {
			t := rec.view(d.Version, nil)
			if f.Status != "" && t.Status != f.Status {
				continue
			}
			if t.Comments, err = threadComments(tx, rec.ID); err != nil {
				return nil, err
			}
			out = append(out, t)
		}
		return out, markOutdated(tx, d, out)
	})
	if err == nil {
		s.storeMoves(ctx, dirty)
	}
	return out, err
}

// ResolveThread implements [docket.ThreadService].
func (s *ThreadService) ResolveThread(ctx context.Context, id, note string) (*docket.Thread, error) {
	note = strings.TrimSpace(note)
	if err := docket.CheckText("Note", note, docket.MaxCommentBytes); err != nil {
		return nil, err
	}
	return s.setStatus(ctx, id, docket.ThreadResolved, note)
}

// ReopenThread implements [docket.ThreadService].
func (s *ThreadService) ReopenThread(ctx context.Context, id string) (*docket.Thread, error) {
	return s.setStatus(ctx, id, docket.ThreadOpen, "")
}

// setStatus resolves (with a note) or reopens a thread.
func (s *ThreadService) setStatus(ctx context.Context, id string, to docket.ThreadStatus, note string) (*docket.Thread, error) {
	caller, err := callerID(ctx)
	if err != nil {
		return nil, err
	}
	return inTx(ctx, s.db.update, func(tx kv.Tx) (*docket.Thread, error) {
		rec, d, role, err := readableThread(ctx, tx, id)
		if err != nil {
			return nil, err
		}
		if !role.AtLeast(docket.RoleEditor) && (rec.AuthorID != caller || !role.AtLeast(docket.RoleCommenter)) {
			return nil, docket.Errorf(docket.EFORBIDDEN, "Only editors and the thread's author may resolve or reopen it.")
		}
		resolved := rec.Status == docket.ThreadResolved
		switch {
		case to == docket.ThreadResolved && resolved:
			return nil, docket.Errorf(docket.ECONFLICT, "The thread is already resolved.")
		case to == docket.ThreadOpen && !resolved:
			return nil, docket.Errorf(docket.ECONFLICT, "The thread is not resolved.")
		}
		if _, err := moveAnchors(tx, d, []*threadRecord{rec}, s.cacheAfter()); err != nil {
			return nil, err
		}
		now := s.db.Now().UTC()
		rec.Status, rec.UpdatedAt = to, now
		ev := &docket.Event{Type: docket.EventThreadReopened, SpaceID: d.SpaceID, DocID: d.ID, ThreadID: rec.ID}
		if to == docket.ThreadResolved {
			rec.ResolvedBy, rec.ResolvedAt, rec.Resolution = caller, now, note
			ev.Type = docket.EventThreadResolved
			if note != "" {
				ev.Data = eventData(map[string]any{"note": shorten(collapseSpace(note), excerptRunes)})
			}
		} else {
			rec.ResolvedBy, rec.ResolvedAt, rec.Resolution = "", time.Time{}, ""
		}
		if err := putThread(tx, rec); err != nil {
			return nil, err
		}
		if err := s.db.announce(ctx, tx, ev, docket.ChangeThread); err != nil {
			return nil, err
		}
		comments, err := threadComments(tx, rec.ID)
		if err != nil {
			return nil, err
		}
		t := rec.view(d.Version, comments)
		return t, markOutdated(tx, d, []*docket.Thread{t})
	})
}
