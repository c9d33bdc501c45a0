package bolt

import (
	"context"
	"encoding/json"
	"slices"
	"strings"

	docket "github.com/docket-dev/docket"
	"github.com/docket-dev/docket/kv"
)

// Comments are stored in the comments bucket (commentID -> Comment) and
// listed in order under thread_comments (threadID/seq -> commentID). A
// comment is checked and rendered, and its mentions read, before the
// transaction that stores it (prepareComment); the ThreadService methods
// that write comments are in this file.

// findComment reads a comment by id.
func findComment(tx kv.Tx, id string) (*docket.Comment, error) {
	return findByID[docket.Comment](tx, bucketComments, id, "Comment not found.")
}

// readableComment finds a comment, checked against its thread and its
// document: a comment of an unreadable document is ENOTFOUND.
func readableComment(ctx context.Context, tx kv.Tx, id string) (*docket.Comment, *threadRecord, *docket.Document, docket.SpaceRole, error) {
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
func threadComments(tx kv.Tx, threadID string) ([]*docket.Comment, error) {
	out := []*docket.Comment{}
	comments := tx.Bucket(bucketComments)
	for _, id := range prefixed(tx.Bucket(bucketThreadComments), threadID) {
		var cm docket.Comment
		if ok, err := getJSON(comments, id, &cm); err != nil {
			return nil, err
		} else if ok {
			out = append(out, &cm)
		}
	}
	return out, nil
}

// putComment stores a comment; a new one is appended to its thread.
func putComment(tx kv.Tx, c *docket.Comment, isNew bool) error {
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

// commentInput is a checked and rendered comment body and its author.
type commentInput struct {
	author     string // the caller
	body, html string
	names      []string // mentioned names, not yet resolved to users
}

// prepareComment checks that the caller is signed in, and checks a
// comment body and renders it, before any transaction.
func (s *ThreadService) prepareComment(ctx context.Context, body string) (*commentInput, error) {
	author, err := callerID(ctx)
	if err != nil {
		return nil, err
	}
	if err := docket.CheckText("Comment", body, docket.MaxCommentBytes); err != nil {
		return nil, err
	}
	if strings.TrimSpace(body) == "" {
		return nil, docket.Errorf(docket.EINVALID, "Comment is empty.")
	}
	// The leading newline keeps a comment that starts with "---" from
	// being read as a front matter block; it changes nothing else.
	out, err := s.renderer.Render(ctx, "\n"+body)
	if err != nil {
		return nil, err
	}
	return &commentInput{author: author, body: body, html: out, names: s.mentions(body)}, nil
}

// resolveMentions turns mentioned names into the ids of members of a
// space: a name matches a member whose email address is the name, or
// whose address's local part is the name (case-insensitive).
func resolveMentions(tx kv.Tx, spaceID string, names []string) []string {
	if len(names) == 0 {
		return nil
	}
	type member struct{ id, email, local string }
	var members []member
	for userID := range prefixed(tx.Bucket(bucketMembers), spaceID) {
		u, err := findUser(tx, string(userID))
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

// mentionWarnings tells the author about the mentioned names that are
// nobody who can read the space, but are someone: a user whose email
// address, or its local part, is the name. Names of no one are ignored.
// The comment is saved anyway; those people are not notified.
func mentionWarnings(tx kv.Tx, spaceID string, names []string) []docket.Warning {
	var out []docket.Warning
	var byLocal map[string][]string // local part -> user ids, read on first need
	for _, name := range names {
		name = strings.ToLower(name)
		var ids []string
		if strings.Contains(name, "@") {
			if id := findUserIDByEmail(tx, name); id != "" {
				ids = []string{id}
			}
		} else {
			if byLocal == nil {
				byLocal = map[string][]string{}
				_ = tx.Bucket(bucketUsers).ForEach(func(k, v []byte) error {
					var u struct {
						Email       string `json:"email"`
						Deactivated bool   `json:"deactivated"`
					}
					if json.Unmarshal(v, &u) == nil && !u.Deactivated {
						local, _, _ := strings.Cut(strings.ToLower(u.Email), "@")
						byLocal[local] = append(byLocal[local], string(k))
					}
					return nil
				})
			}
			ids = byLocal[name]
		}
		if len(ids) > 0 && !slices.ContainsFunc(ids, func(id string) bool { return canRead(tx, spaceID, id) }) {
			out = append(out, docket.Warning{Code: docket.WarnMentionNotMember, User: name,
				Message: "@" + name + " cannot read this space and was not notified; invite?"})
		}
	}
	return out
}

// mayComment checks that a role may write comments.
func mayComment(role docket.SpaceRole) error {
	if !role.AtLeast(docket.RoleCommenter) {
		return docket.Errorf(docket.EFORBIDDEN, "You need the commenter role in this space to comment.")
	}
	return nil
}

// AddComment implements [docket.ThreadService].
func (s *ThreadService) AddComment(ctx context.Context, threadID, body string) (*docket.Comment, error) {
	in, err := s.prepareComment(ctx, body)
	if err != nil {
		return nil, err
	}
	return inTx(ctx, s.db.update, func(tx kv.Tx) (*docket.Comment, error) {
		rec, d, role, err := readableThread(ctx, tx, threadID)
		if err != nil {
			return nil, err
		}
		if err := mayComment(role); err != nil {
			return nil, err
		}
		earlier, err := threadComments(tx, rec.ID)
		if err != nil {
			return nil, err
		}
		now := s.db.Now().UTC()
		cm := &docket.Comment{
			ID: newID(), ThreadID: rec.ID, DocID: d.ID, AuthorID: in.author, Body: in.body, HTML: in.html,
			Mentions: resolveMentions(tx, d.SpaceID, in.names), CreatedAt: now,
		}
		if err := putComment(tx, cm, true); err != nil {
			return nil, err
		}
		cm.Warnings = mentionWarnings(tx, d.SpaceID, in.names)
		rec.UpdatedAt = now
		if err := putThread(tx, rec); err != nil {
			return nil, err
		}
		// Mentions first: someone both mentioned and in the thread gets
		// one item, the more specific one.
		ev, err := s.announceComment(ctx, tx, docket.EventCommentCreated, d, cm, nil, nil)
		if err != nil {
			return nil, err
		}
		replyTo := []string{rec.AuthorID}
		for _, c := range earlier {
			replyTo = append(replyTo, c.AuthorID)
		}
		if isConcern(tx, d.ID, rec.ID) {
			replyTo = append(replyTo, d.OwnerID)
		}
		return cm, addInboxes(tx, ev, docket.InboxItem{Kind: docket.InboxReply, Text: excerpt(cm.HTML)}, replyTo)
	})
}

// UpdateComment implements [docket.ThreadService].
func (s *ThreadService) UpdateComment(ctx context.Context, id, body string) (*docket.Comment, error) {
	in, err := s.prepareComment(ctx, body)
	if err != nil {
		return nil, err
	}
	return inTx(ctx, s.db.update, func(tx kv.Tx) (*docket.Comment, error) {
		cm, _, d, role, err := readableComment(ctx, tx, id)
		if err != nil {
			return nil, err
		}
		if cm.AuthorID != in.author {
			return nil, docket.Errorf(docket.EFORBIDDEN, "Only its author may edit a comment.")
		}
		if err := mayComment(role); err != nil {
			return nil, err
		}
		if cm.Deleted {
			return nil, docket.Errorf(docket.ECONFLICT, "The comment was deleted.")
		}
		before := cm.Mentions
		cm.Body, cm.HTML, cm.EditedAt = in.body, in.html, s.db.Now().UTC()
		cm.Mentions = resolveMentions(tx, d.SpaceID, in.names)
		if err := putComment(tx, cm, false); err != nil {
			return nil, err
		}
		cm.Warnings = mentionWarnings(tx, d.SpaceID, in.names)
		_, err = s.announceComment(ctx, tx, docket.EventCommentEdited, d, cm, before, nil)
		return cm, err
	})
}

// DeleteComment implements [docket.ThreadService]. Deleting a deleted
// comment again changes nothing.
func (s *ThreadService) DeleteComment(ctx context.Context, id string) error {
	caller, err := callerID(ctx)
	if err != nil {
		return err
	}
	return s.db.update(ctx, func(tx kv.Tx) error {
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
		return s.db.announce(ctx, tx, &docket.Event{Type: docket.EventCommentDeleted, SpaceID: d.SpaceID, DocID: d.ID,
			ThreadID: cm.ThreadID, CommentID: cm.ID, Data: eventData(map[string]any{"authorId": cm.AuthorID})}, docket.ChangeThread)
	})
}

// announceComment appends the event of type typ about a comment that was
// written, with the comment's excerpt added to data (nil for none), tells
// the watchers, and puts a mention item in the inbox of everyone the
// comment mentions who was not in before. It returns the event.
func (s *ThreadService) announceComment(ctx context.Context, tx kv.Tx, typ docket.EventType, d *docket.Document, cm *docket.Comment, before []string, data map[string]any) (*docket.Event, error) {
	text := excerpt(cm.HTML)
	if data == nil {
		data = map[string]any{}
	}
	data["excerpt"] = text
	ev := &docket.Event{Type: typ, SpaceID: d.SpaceID, DocID: d.ID, ThreadID: cm.ThreadID, CommentID: cm.ID, Data: eventData(data)}
	if err := s.db.announce(ctx, tx, ev, docket.ChangeThread); err != nil {
		return nil, err
	}
	return ev, notifyMentions(tx, ev, cm.Mentions, before, text)
}

// notifyMentions puts a mention item in the inbox of every mentioned user
// who was not mentioned before (by an earlier version of the comment).
func notifyMentions(tx kv.Tx, ev *docket.Event, mentions, before []string, text string) error {
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
func isConcern(tx kv.Tx, docID, threadID string) bool {
	for _, v := range prefixed(tx.Bucket(bucketReviews), docID) {
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
