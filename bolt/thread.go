package bolt

import (
	"bytes"
	"context"
	"encoding/json"
	"html"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	docket "github.com/docket-dev/docket"
	bolt "go.etcd.io/bbolt"
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

// excerptRunes is the length of the excerpts of comments put in events
// and inbox items.
const excerptRunes = 200

func (s *ThreadService) cacheAfter() int64 {
	if s.MoveCacheAfter == 0 {
		return DefaultMoveCacheAfter
	}
	if s.MoveCacheAfter < 0 {
		return -1
	}
	return s.MoveCacheAfter
}

func findThread(tx *bolt.Tx, id string) (*threadRecord, error) {
	if !docket.ValidID(id) {
		return nil, docket.Errorf(docket.ENOTFOUND, "Thread not found.")
	}
	var rec threadRecord
	if ok, err := getJSON(tx.Bucket(bucketThreads), []byte(id), &rec); err != nil {
		return nil, err
	} else if !ok {
		return nil, docket.Errorf(docket.ENOTFOUND, "Thread not found.")
	}
	return &rec, nil
}

func putThread(tx *bolt.Tx, rec *threadRecord) error {
	stored := *rec
	stored.Comments = nil
	return putJSON(tx.Bucket(bucketThreads), []byte(rec.ID), &stored)
}

// readableThread finds a thread on a document the caller may read, the
// document and the caller's role in its space. A thread of an unreadable
// document is ENOTFOUND.
func readableThread(ctx context.Context, tx *bolt.Tx, id string) (*threadRecord, *docket.Document, docket.SpaceRole, error) {
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

func findComment(tx *bolt.Tx, id string) (*docket.Comment, error) {
	if !docket.ValidID(id) {
		return nil, docket.Errorf(docket.ENOTFOUND, "Comment not found.")
	}
	var c docket.Comment
	if ok, err := getJSON(tx.Bucket(bucketComments), []byte(id), &c); err != nil {
		return nil, err
	} else if !ok {
		return nil, docket.Errorf(docket.ENOTFOUND, "Comment not found.")
	}
	return &c, nil
}

// readableComment finds a comment, checked against its thread and its
// document: a comment of an unreadable document is ENOTFOUND.
func readableComment(ctx context.Context, tx *bolt.Tx, id string) (*docket.Comment, *threadRecord, *docket.Document, docket.SpaceRole, error) {
	c, err := findComment(tx, id)
	if err != nil {
		return nil, nil, nil, "", err
	}
	rec, d, role, err := readableThread(ctx, tx, c.ThreadID)
	if err != nil || rec.DocID != c.DocID {
		return nil, nil, nil, "", docket.Errorf(docket.ENOTFOUND, "Comment not found.")
	}
	return c, rec, d, role, nil
}

// threadComments reads a thread's comments in order.
func threadComments(tx *bolt.Tx, threadID string) ([]*docket.Comment, error) {
	out := []*docket.Comment{}
	prefix := []byte(threadID + "/")
	comments := tx.Bucket(bucketComments)
	c := tx.Bucket(bucketThreadComments).Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		var cm docket.Comment
		if ok, err := getJSON(comments, v, &cm); err != nil {
			return nil, err
		} else if ok {
			out = append(out, &cm)
		}
	}
	return out, nil
}

// putComment stores a comment; a new one is appended to its thread.
func putComment(tx *bolt.Tx, c *docket.Comment, isNew bool) error {
	if isNew {
		b := tx.Bucket(bucketThreadComments)
		seq, err := b.NextSequence()
		if err != nil {
			return err
		}
		if err := b.Put(seqKey(c.ThreadID, seq), []byte(c.ID)); err != nil {
			return err
		}
	}
	return putJSON(tx.Bucket(bucketComments), []byte(c.ID), c)
}

// deleteThreads deletes every thread of a document with its comments, in
// the caller's transaction.
func deleteThreads(tx *bolt.Tx, docID string) error {
	prefix := []byte(docID + "/")
	var threadKeys [][]byte
	c := tx.Bucket(bucketDocThreads).Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		threadKeys = append(threadKeys, bytes.Clone(k))
	}
	for _, tk := range threadKeys {
		threadID := string(tk[len(prefix):])
		tprefix := []byte(threadID + "/")
		var keys, ids [][]byte
		cc := tx.Bucket(bucketThreadComments).Cursor()
		for k, v := cc.Seek(tprefix); k != nil && bytes.HasPrefix(k, tprefix); k, v = cc.Next() {
			keys, ids = append(keys, bytes.Clone(k)), append(ids, bytes.Clone(v))
		}
		for i := range keys {
			if err := tx.Bucket(bucketComments).Delete(ids[i]); err != nil {
				return err
			}
			if err := tx.Bucket(bucketThreadComments).Delete(keys[i]); err != nil {
				return err
			}
		}
		if err := tx.Bucket(bucketThreads).Delete([]byte(threadID)); err != nil {
			return err
		}
		if err := tx.Bucket(bucketDocThreads).Delete(tk); err != nil {
			return err
		}
	}
	return nil
}

// docThreads reads a document's threads in the order they were started.
func docThreads(tx *bolt.Tx, docID string) ([]*threadRecord, error) {
	var out []*threadRecord
	prefix := []byte(docID + "/")
	c := tx.Bucket(bucketDocThreads).Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		rec, err := findThread(tx, string(k[len(prefix):]))
		if err != nil {
			return nil, err
		}
		out = append(out, rec)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Seq < out[j].Seq })
	return out, nil
}

// view returns the thread as the API shows it at version: the anchor at
// its moved place, the status outdated for an open thread whose text is
// gone, and the comments.
func (rec *threadRecord) view(version int64, comments []*docket.Comment) *docket.Thread {
	t := rec.Thread
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
	_ = s.db.update(ctx, func(tx *bolt.Tx) error {
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

// commentInput is a checked and rendered comment body.
type commentInput struct {
	body, html string
	names      []string // mentioned names, not yet resolved to users
}

// prepareComment checks a comment body and renders it, before any
// transaction.
func (s *ThreadService) prepareComment(ctx context.Context, body string) (*commentInput, error) {
	switch {
	case len(body) > docket.MaxCommentBytes:
		return nil, docket.Errorf(docket.ETOOLARGE, "Comment is larger than %d bytes.", docket.MaxCommentBytes)
	case !utf8.ValidString(body):
		return nil, docket.Errorf(docket.EINVALID, "Comment is not valid UTF-8.")
	case strings.TrimSpace(body) == "":
		return nil, docket.Errorf(docket.EINVALID, "Comment is empty.")
	}
	// The leading newline keeps a comment that starts with "---" from
	// being read as a front matter block; it changes nothing else.
	out, err := s.renderer.Render(ctx, "\n"+body)
	if err != nil {
		return nil, err
	}
	return &commentInput{body: body, html: out, names: s.mentions(body)}, nil
}

// resolveMentions turns mentioned names into the ids of members of a
// space: a name matches a member whose email address is the name, or
// whose address's local part is the name (case-insensitive).
func resolveMentions(tx *bolt.Tx, spaceID string, names []string) []string {
	if len(names) == 0 {
		return nil
	}
	type member struct{ id, email, local string }
	var members []member
	prefix := []byte(spaceID + "/")
	c := tx.Bucket(bucketMembers).Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		u, err := findUser(tx, string(k[len(prefix):]))
		if err != nil {
			continue
		}
		email := strings.ToLower(u.Email)
		local, _, _ := strings.Cut(email, "@")
		members = append(members, member{u.ID, email, local})
	}
	var out []string
	for _, name := range names {
		name = strings.ToLower(name)
		for _, m := range members {
			if (m.email == name || m.local == name) && !slices.Contains(out, m.id) && len(out) < docket.MaxMentions {
				out = append(out, m.id)
			}
		}
	}
	return out
}

// checkAnchor checks the shape of an anchor; nil is a document-level
// thread.
func checkAnchor(a *docket.Anchor) error {
	switch {
	case a == nil:
		return nil
	case a.Version < 1:
		return docket.Errorf(docket.EINVALID, "Anchor version must be 1 or more.")
	case a.Start < 0 || a.End < 0:
		return docket.Errorf(docket.EINVALID, "Anchor start and end must not be negative.")
	case a.Start >= a.End:
		return docket.Errorf(docket.EINVALID, "Anchor start must be before its end; leave the anchor out for a thread on the whole document.")
	}
	return nil
}

// callerID returns the caller's id, or EUNAUTHORIZED.
func callerID(ctx context.Context) (string, error) {
	if id := docket.UserIDFromContext(ctx); id != "" {
		return id, nil
	}
	return "", docket.Errorf(docket.EUNAUTHORIZED, "Sign in first.")
}

// mayComment checks that a role may write comments.
func mayComment(role docket.SpaceRole) error {
	if !role.AtLeast(docket.RoleCommenter) {
		return docket.Errorf(docket.EFORBIDDEN, "You need the commenter role in this space to comment.")
	}
	return nil
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
	var out *docket.Thread
	err = s.db.update(ctx, func(tx *bolt.Tx) error {
		out, err = s.createThread(ctx, tx, tc, in)
		return err
	})
	return out, err
}

// createThread creates a thread in the caller's transaction, with the
// caller's permissions checked, its event, inbox items and change
// notification: the whole of CreateThread after the input is checked and
// the body prepared with prepareComment. Other services of this package
// (a review's concern) start threads with it inside their own changes.
func (s *ThreadService) createThread(ctx context.Context, tx *bolt.Tx, tc docket.ThreadCreate, in *commentInput) (*docket.Thread, error) {
	author, err := callerID(ctx)
	if err != nil {
		return nil, err
	}
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
		AuthorID: author, CreatedAt: now, UpdatedAt: now,
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
	if rec.Seq, err = tx.Bucket(bucketThreads).NextSequence(); err != nil {
		return nil, err
	}
	if _, err := moveAnchors(tx, d, []*threadRecord{rec}, s.cacheAfter()); err != nil {
		return nil, err
	}
	mentions := resolveMentions(tx, d.SpaceID, in.names)
	cm := &docket.Comment{
		ID: newID(), ThreadID: rec.ID, DocID: d.ID, AuthorID: author,
		Body: in.body, HTML: in.html, Mentions: mentions, CreatedAt: now,
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
	data := map[string]any{"excerpt": excerpt(in.html)}
	if rec.Anchor != nil {
		data["quote"] = shorten(collapseSpace(rec.Anchor.Quote), excerptRunes)
	}
	ev := &docket.Event{Type: docket.EventThreadCreated, SpaceID: d.SpaceID, DocID: d.ID,
		ThreadID: rec.ID, CommentID: cm.ID, Data: eventData(data)}
	if _, err := s.db.appendEvent(ctx, tx, ev); err != nil {
		return nil, err
	}
	if err := notifyMentions(tx, ev, mentions, nil, excerpt(in.html)); err != nil {
		return nil, err
	}
	s.db.notify(tx, docket.Change{Kind: docket.ChangeThread, DocID: d.ID, SpaceID: d.SpaceID, ThreadID: rec.ID, CommentID: cm.ID})
	return rec.view(d.Version, []*docket.Comment{cm}), nil
}

// FindThread implements [docket.ThreadService].
func (s *ThreadService) FindThread(ctx context.Context, id string) (*docket.Thread, error) {
	var out *docket.Thread
	var dirty []*threadRecord
	err := s.db.view(ctx, func(tx *bolt.Tx) error {
		rec, d, _, err := readableThread(ctx, tx, id)
		if err != nil {
			return err
		}
		if dirty, err = moveAnchors(tx, d, []*threadRecord{rec}, s.cacheAfter()); err != nil {
			return err
		}
		comments, err := threadComments(tx, rec.ID)
		if err != nil {
			return err
		}
		out = rec.view(d.Version, comments)
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.storeMoves(ctx, dirty)
	return out, nil
}

// FindThreads implements [docket.ThreadService].
func (s *ThreadService) FindThreads(ctx context.Context, docID string, f docket.ThreadFilter) ([]*docket.Thread, error) {
	switch f.Status {
	case "", docket.ThreadOpen, docket.ThreadResolved, docket.ThreadOutdated:
	default:
		return nil, docket.Errorf(docket.EINVALID, "Status %q is not one of open, resolved, outdated.", f.Status)
	}
	out := []*docket.Thread{}
	var dirty []*threadRecord
	err := s.db.view(ctx, func(tx *bolt.Tx) error {
		d, _, err := readableDoc(ctx, tx, docID)
		if err != nil {
			return err
		}
		recs, err := docThreads(tx, d.ID)
		if err != nil {
			return err
		}
		if f.Status == docket.ThreadResolved {
			recs = slices.DeleteFunc(recs, func(r *threadRecord) bool { return r.Status != docket.ThreadResolved })
		}
		if dirty, err = moveAnchors(tx, d, recs, s.cacheAfter()); err != nil {
			return err
		}
		for _, rec := range recs {
			t := rec.view(d.Version, nil)
			if f.Status != "" && t.Status != f.Status {
				continue
			}
			if t.Comments, err = threadComments(tx, rec.ID); err != nil {
				return err
			}
			out = append(out, t)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.storeMoves(ctx, dirty)
	return out, nil
}

// AddComment implements [docket.ThreadService].
func (s *ThreadService) AddComment(ctx context.Context, threadID, body string) (*docket.Comment, error) {
	author, err := callerID(ctx)
	if err != nil {
		return nil, err
	}
	in, err := s.prepareComment(ctx, body)
	if err != nil {
		return nil, err
	}
	var out *docket.Comment
	err = s.db.update(ctx, func(tx *bolt.Tx) error {
		rec, d, role, err := readableThread(ctx, tx, threadID)
		if err != nil {
			return err
		}
		if err := mayComment(role); err != nil {
			return err
		}
		earlier, err := threadComments(tx, rec.ID)
		if err != nil {
			return err
		}
		mentions := resolveMentions(tx, d.SpaceID, in.names)
		now := s.db.Now().UTC()
		cm := &docket.Comment{
			ID: newID(), ThreadID: rec.ID, DocID: d.ID, AuthorID: author,
			Body: in.body, HTML: in.html, Mentions: mentions, CreatedAt: now,
		}
		if err := putComment(tx, cm, true); err != nil {
			return err
		}
		rec.UpdatedAt = now
		if err := putThread(tx, rec); err != nil {
			return err
		}
		text := excerpt(in.html)
		ev := &docket.Event{Type: docket.EventCommentCreated, SpaceID: d.SpaceID, DocID: d.ID,
			ThreadID: rec.ID, CommentID: cm.ID, Data: eventData(map[string]any{"excerpt": text})}
		if _, err := s.db.appendEvent(ctx, tx, ev); err != nil {
			return err
		}
		// Mentions first: someone both mentioned and in the thread gets
		// one item, the more specific one.
		if err := notifyMentions(tx, ev, mentions, nil, text); err != nil {
			return err
		}
		replyTo := []string{rec.AuthorID}
		for _, c := range earlier {
			replyTo = append(replyTo, c.AuthorID)
		}
		if isConcern(tx, d.ID, rec.ID) {
			replyTo = append(replyTo, d.OwnerID)
		}
		for _, uid := range replyTo {
			if err := addInbox(tx, uid, ev, &docket.InboxItem{Kind: docket.InboxReply, Text: text}); err != nil {
				return err
			}
		}
		s.db.notify(tx, docket.Change{Kind: docket.ChangeThread, DocID: d.ID, SpaceID: d.SpaceID, ThreadID: rec.ID, CommentID: cm.ID})
		out = cm
		return nil
	})
	return out, err
}

// UpdateComment implements [docket.ThreadService].
func (s *ThreadService) UpdateComment(ctx context.Context, id, body string) (*docket.Comment, error) {
	caller, err := callerID(ctx)
	if err != nil {
		return nil, err
	}
	in, err := s.prepareComment(ctx, body)
	if err != nil {
		return nil, err
	}
	var out *docket.Comment
	err = s.db.update(ctx, func(tx *bolt.Tx) error {
		cm, _, d, role, err := readableComment(ctx, tx, id)
		if err != nil {
			return err
		}
		if cm.AuthorID != caller {
			return docket.Errorf(docket.EFORBIDDEN, "Only its author may edit a comment.")
		}
		if err := mayComment(role); err != nil {
			return err
		}
		if cm.Deleted {
			return docket.Errorf(docket.ECONFLICT, "The comment was deleted.")
		}
		mentions := resolveMentions(tx, d.SpaceID, in.names)
		before := cm.Mentions
		cm.Body, cm.HTML, cm.Mentions, cm.EditedAt = in.body, in.html, mentions, s.db.Now().UTC()
		if err := putComment(tx, cm, false); err != nil {
			return err
		}
		text := excerpt(in.html)
		ev := &docket.Event{Type: docket.EventCommentEdited, SpaceID: d.SpaceID, DocID: d.ID,
			ThreadID: cm.ThreadID, CommentID: cm.ID, Data: eventData(map[string]any{"excerpt": text})}
		if _, err := s.db.appendEvent(ctx, tx, ev); err != nil {
			return err
		}
		if err := notifyMentions(tx, ev, mentions, before, text); err != nil {
			return err
		}
		s.db.notify(tx, docket.Change{Kind: docket.ChangeThread, DocID: d.ID, SpaceID: d.SpaceID, ThreadID: cm.ThreadID, CommentID: cm.ID})
		out = cm
		return nil
	})
	return out, err
}

// DeleteComment implements [docket.ThreadService]. Deleting a deleted
// comment again changes nothing.
func (s *ThreadService) DeleteComment(ctx context.Context, id string) error {
	caller, err := callerID(ctx)
	if err != nil {
		return err
	}
	return s.db.update(ctx, func(tx *bolt.Tx) error {
		cm, _, d, role, err := readableComment(ctx, tx, id)
		if err != nil {
			return err
		}
		if role != docket.RoleAdmin && (cm.AuthorID != caller || !role.AtLeast(docket.RoleCommenter)) {
			return docket.Errorf(docket.EFORBIDDEN, "Only its author or a space admin may delete a comment.")
		}
		if cm.Deleted {
			return nil
		}
		cm.Deleted, cm.Body, cm.HTML, cm.Mentions = true, "", "", nil
		if err := putComment(tx, cm, false); err != nil {
			return err
		}
		ev := &docket.Event{Type: docket.EventCommentDeleted, SpaceID: d.SpaceID, DocID: d.ID,
			ThreadID: cm.ThreadID, CommentID: cm.ID, Data: eventData(map[string]any{"authorId": cm.AuthorID})}
		if _, err := s.db.appendEvent(ctx, tx, ev); err != nil {
			return err
		}
		s.db.notify(tx, docket.Change{Kind: docket.ChangeThread, DocID: d.ID, SpaceID: d.SpaceID, ThreadID: cm.ThreadID, CommentID: cm.ID})
		return nil
	})
}

// ResolveThread implements [docket.ThreadService].
func (s *ThreadService) ResolveThread(ctx context.Context, id, note string) (*docket.Thread, error) {
	note = strings.TrimSpace(note)
	switch {
	case len(note) > docket.MaxCommentBytes:
		return nil, docket.Errorf(docket.ETOOLARGE, "Note is larger than %d bytes.", docket.MaxCommentBytes)
	case !utf8.ValidString(note):
		return nil, docket.Errorf(docket.EINVALID, "Note is not valid UTF-8.")
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
	var out *docket.Thread
	err = s.db.update(ctx, func(tx *bolt.Tx) error {
		rec, d, role, err := readableThread(ctx, tx, id)
		if err != nil {
			return err
		}
		if !role.AtLeast(docket.RoleEditor) && (rec.AuthorID != caller || !role.AtLeast(docket.RoleCommenter)) {
			return docket.Errorf(docket.EFORBIDDEN, "Only editors and the thread's author may resolve or reopen it.")
		}
		resolved := rec.Status == docket.ThreadResolved
		switch {
		case to == docket.ThreadResolved && resolved:
			return docket.Errorf(docket.ECONFLICT, "The thread is already resolved.")
		case to == docket.ThreadOpen && !resolved:
			return docket.Errorf(docket.ECONFLICT, "The thread is not resolved.")
		}
		if _, err := moveAnchors(tx, d, []*threadRecord{rec}, s.cacheAfter()); err != nil {
			return err
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
			return err
		}
		if _, err := s.db.appendEvent(ctx, tx, ev); err != nil {
			return err
		}
		s.db.notify(tx, docket.Change{Kind: docket.ChangeThread, DocID: d.ID, SpaceID: d.SpaceID, ThreadID: rec.ID})
		comments, err := threadComments(tx, rec.ID)
		if err != nil {
			return err
		}
		out = rec.view(d.Version, comments)
		return nil
	})
	return out, err
}

// notifyMentions puts a mention item in the inbox of every mentioned user
// who was not mentioned before (by an earlier version of the comment).
func notifyMentions(tx *bolt.Tx, ev *docket.Event, mentions, before []string, text string) error {
	for _, uid := range mentions {
		if slices.Contains(before, uid) {
			continue
		}
		if err := addInbox(tx, uid, ev, &docket.InboxItem{Kind: docket.InboxMention, Text: text}); err != nil {
			return err
		}
	}
	return nil
}

// isConcern reports whether a thread holds a review's concern.
func isConcern(tx *bolt.Tx, docID, threadID string) bool {
	prefix := []byte(docID + "/")
	c := tx.Bucket(bucketReviews).Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		var r struct {
			Verdict  docket.Verdict `json:"verdict"`
			ThreadID string         `json:"threadId"`
		}
		if json.Unmarshal(v, &r) == nil && r.ThreadID == threadID && r.Verdict == docket.VerdictConcern {
			return true
		}
	}
	return false
}

// quote returns the code points [start, end) of text, at most
// MaxQuoteRunes of them.
func quote(text string, start, end int) string {
	end = min(end, start+docket.MaxQuoteRunes)
	i, from := 0, len(text)
	for pos := range text {
		if i == start {
			from = pos
		}
		if i == end {
			return text[from:pos]
		}
		i++
	}
	return text[from:]
}

// excerpt returns the start of a comment's sanitised HTML as plain text,
// for events and inbox items: tags are dropped (block tags leave a space),
// entities decoded, white space collapsed.
func excerpt(h string) string {
	var b strings.Builder
	for len(h) > 0 && b.Len() < 8*excerptRunes {
		i := strings.IndexByte(h, '<')
		if i < 0 {
			b.WriteString(h)
			break
		}
		b.WriteString(h[:i])
		j := strings.IndexByte(h[i:], '>')
		if j < 0 {
			break
		}
		name := strings.TrimPrefix(h[i+1:i+j], "/")
		if k := strings.IndexAny(name, " /"); k >= 0 {
			name = name[:k]
		}
		if !inlineTags[name] {
			b.WriteByte(' ')
		}
		h = h[i+j+1:]
	}
	return shorten(collapseSpace(html.UnescapeString(b.String())), excerptRunes)
}

// inlineTags are the HTML elements that do not separate words.
var inlineTags = map[string]bool{
	"a": true, "abbr": true, "b": true, "code": true, "del": true, "em": true, "i": true,
	"kbd": true, "mark": true, "s": true, "small": true, "span": true, "strong": true,
	"sub": true, "sup": true, "u": true,
}

// collapseSpace trims s and turns every run of white space into a space.
func collapseSpace(s string) string {
	return strings.Join(strings.FieldsFunc(s, unicode.IsSpace), " ")
}

// shorten cuts s to at most n code points, marking a cut with an ellipsis.
func shorten(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return strings.TrimSpace(string(r[:n-1])) + "…"
}
