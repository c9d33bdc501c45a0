package docket

import (
	"context"
	"time"
)

// Limits on discussion.
const (
	// MaxCommentBytes is the largest comment body, in bytes of UTF-8.
	MaxCommentBytes = 64 << 10
	// MaxQuoteRunes is the longest quote stored with an anchor; a longer
	// anchored range keeps its full range but a shortened quote.
	MaxQuoteRunes = 2000
	// MaxMentions is the most people one comment or review may mention.
	MaxMentions = 50
)

// ThreadStatus says whether a thread still needs attention.
type ThreadStatus string

// Thread statuses. A thread is outdated when every character of the text
// it was anchored to has been deleted; it keeps its quote.
const (
	ThreadOpen     ThreadStatus = "open"
	ThreadResolved ThreadStatus = "resolved"
	ThreadOutdated ThreadStatus = "outdated"
)

// Anchor is a range of a document's text at a version, in Unicode code
// points: Start <= End. Quote is the text the range covered when the
// thread was started.
type Anchor struct {
	Version int64  `json:"version"`
	Start   int    `json:"start"`
	End     int    `json:"end"`
	Quote   string `json:"quote,omitempty"`
}

// Thread is a discussion on a document, anchored to a range of its text or
// to the whole document (Anchor nil). In answers from the service the
// anchor has been moved through every later op, so it is valid for the
// document's current version.
type Thread struct {
	ID         string       `json:"id"`
	DocID      string       `json:"docId"`
	SpaceID    string       `json:"spaceId"`
	Anchor     *Anchor      `json:"anchor,omitempty"`
	Status     ThreadStatus `json:"status"`
	AuthorID   string       `json:"authorId"`
	CreatedAt  time.Time    `json:"createdAt"`
	UpdatedAt  time.Time    `json:"updatedAt"`
	ResolvedBy string       `json:"resolvedBy,omitempty"`
	ResolvedAt time.Time    `json:"resolvedAt,omitzero"`
	// Resolution is the note given when the thread was resolved, if any.
	Resolution string     `json:"resolution,omitempty"`
	Comments   []*Comment `json:"comments"`
	// Warnings are those of the first comment, in the answer to
	// CreateThread only.
	Warnings []Warning `json:"warnings,omitempty"`
}

// Comment is one message of a thread. A deleted comment stays as a
// tombstone (Deleted set, Body empty) so the thread still reads in order.
type Comment struct {
	ID        string    `json:"id"`
	ThreadID  string    `json:"threadId"`
	DocID     string    `json:"docId"`
	AuthorID  string    `json:"authorId"`
	Body      string    `json:"body"`
	HTML      string    `json:"html,omitempty"`
	Mentions  []string  `json:"mentions,omitempty"` // user ids
	CreatedAt time.Time `json:"createdAt"`
	EditedAt  time.Time `json:"editedAt,omitzero"`
	Deleted   bool      `json:"deleted,omitempty"`
	// Warnings are set in the answer to the write only, never stored.
	Warnings []Warning `json:"warnings,omitempty"`
}

// Warning tells the author of a change that went through about something
// that may not do what they meant, such as mentioning someone who cannot
// read the space.
type Warning struct {
	Code    string `json:"code"`
	User    string `json:"user,omitempty"` // the name as written, for a mention
	Message string `json:"message"`
}

// WarnMentionNotMember is the code of a [Warning] about an @name of a
// user who cannot read the space: they were not notified.
const WarnMentionNotMember = "mention_not_member"

// ThreadCreate is the input of [ThreadService.CreateThread].
type ThreadCreate struct {
	DocID  string
	Anchor *Anchor // nil for a document-level thread; Quote is ignored
	Body   string  // the first comment
}

// ThreadFilter selects threads in [ThreadService.FindThreads].
type ThreadFilter struct {
	Status ThreadStatus // empty for all
}

// ThreadService manages threads and comments. Commenting needs the
// commenter role or higher in the document's space; reading needs viewer.
// A thread or comment id is always checked against the document it
// belongs to, so an id from an unreadable document is ENOTFOUND.
type ThreadService interface {
	// CreateThread starts a thread with its first comment. The anchor must
	// be a range of the text at its version, which may be older than the
	// current one. Returns ENOTFOUND, EFORBIDDEN, EINVALID, ETOOLARGE.
	CreateThread(ctx context.Context, tc ThreadCreate) (*Thread, error)

	// FindThread returns a thread with its comments and its anchor moved
	// to the current version. Returns ENOTFOUND.
	FindThread(ctx context.Context, id string) (*Thread, error)

	// FindThreads lists a document's threads, oldest first, with anchors
	// moved to the current version. Returns ENOTFOUND.
	FindThreads(ctx context.Context, docID string, filter ThreadFilter) ([]*Thread, error)

	// AddComment replies to a thread. Returns ENOTFOUND, EFORBIDDEN,
	// EINVALID, ETOOLARGE.
	AddComment(ctx context.Context, threadID, body string) (*Comment, error)

	// UpdateComment changes the caller's own comment. Returns ENOTFOUND,
	// EFORBIDDEN, EINVALID, ETOOLARGE, ECONFLICT for a deleted comment.
	UpdateComment(ctx context.Context, id, body string) (*Comment, error)

	// DeleteComment deletes the caller's own comment (or any, for a space
	// admin), leaving a tombstone. Returns ENOTFOUND, EFORBIDDEN.
	DeleteComment(ctx context.Context, id string) error

	// ResolveThread marks a thread resolved, with an optional note; editors
	// and the thread's author only; an outdated thread may be resolved too.
	// Returns ENOTFOUND, EFORBIDDEN, ECONFLICT if it is already resolved.
	ResolveThread(ctx context.Context, id, note string) (*Thread, error)

	// ReopenThread opens a resolved thread again; editors and the thread's
	// author only. Returns ENOTFOUND, EFORBIDDEN, ECONFLICT if it is open.
	ReopenThread(ctx context.Context, id string) (*Thread, error)
}
