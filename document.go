package docket

import (
	"context"
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Kind says what a document is for.
type Kind string

// Document kinds.
const (
	KindRFC        Kind = "rfc"
	KindNotes      Kind = "notes"
	KindBrainstorm Kind = "brainstorm"
	KindPage       Kind = "page"
)

// Kinds lists every kind, in the order forms offer them.
var Kinds = []Kind{KindRFC, KindNotes, KindBrainstorm, KindPage}

// Valid reports whether k is a known kind.
func (k Kind) Valid() bool { return slices.Contains(Kinds, k) }

// Status is where a document is in its lifecycle:
// draft -> review -> last-call -> accepted | declined | postponed |
// withdrawn, and later superseded.
type Status string

// Document statuses.
const (
	StatusDraft      Status = "draft"
	StatusReview     Status = "review"
	StatusLastCall   Status = "last-call"
	StatusAccepted   Status = "accepted"
	StatusDeclined   Status = "declined"
	StatusPostponed  Status = "postponed"
	StatusWithdrawn  Status = "withdrawn"
	StatusSuperseded Status = "superseded"
)

// Statuses lists every status, in the order of the lifecycle.
var Statuses = []Status{
	StatusDraft, StatusReview, StatusLastCall, StatusAccepted,
	StatusDeclined, StatusPostponed, StatusWithdrawn, StatusSuperseded,
}

// Valid reports whether s is a known status.
func (s Status) Valid() bool { return slices.Contains(Statuses, s) }

// Document is a markdown document in a space. Version counts the ops
// committed to it: creation is op 0, so a new document is at version 1.
type Document struct {
	ID        string    `json:"id"`
	SpaceID   string    `json:"spaceId"`
	Title     string    `json:"title"`
	Kind      Kind      `json:"kind"`
	Status    Status    `json:"status"`
	OwnerID   string    `json:"ownerId"`
	CreatedBy string    `json:"createdBy"`
	Tags      []string  `json:"tags"`
	Version   int64     `json:"version"`
	Size      int       `json:"size"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
	// Body is the current markdown text; empty in lists.
	Body string `json:"body,omitempty"`
	// Role is the caller's role in the document's space, filled in by
	// the service when it reads a single document.
	Role SpaceRole `json:"role,omitempty"`
	// Source names where an imported document came from, such as
	// "import:rfcs/0001-x.md"; empty for documents written here.
	Source string `json:"source,omitempty"`

	// Due is the deadline of the current review or last call. Due,
	// Overdue, Reviewers and Decision come from the document's
	// [Lifecycle]: the service fills them in on reads (lists leave
	// Reviewers and Decision out) and never stores them with the metadata.
	Due time.Time `json:"due,omitzero"`
	// Overdue reports whether Due has passed while the document is still
	// in review or last call.
	Overdue   bool        `json:"overdue,omitempty"`
	Reviewers []*Reviewer `json:"reviewers,omitempty"`
	Decision  *Decision   `json:"decision,omitempty"`
	// Amended reports that the document changed after its decision, by
	// ChangesSinceDecision versions.
	Amended              bool  `json:"amended,omitempty"`
	ChangesSinceDecision int64 `json:"changesSinceDecision,omitempty"`
}

// DocumentCreate is the input of [DocumentService.CreateDocument].
type DocumentCreate struct {
	Space string // id or slug
	Title string
	Body  string
	Kind  Kind
	Tags  []string
	// Source, when set, makes the creation idempotent per space: a second
	// creation with the same source edits that document instead.
	Source string
}

// DocumentUpdate holds the metadata fields that may be patched. Nil fields
// are left alone.
type DocumentUpdate struct {
	Title *string
	Tags  *[]string
	Kind  *Kind
}

// DocumentFilter selects documents in [DocumentService.FindDocuments].
type DocumentFilter struct {
	Space  string // id or slug; empty means every readable space
	Status Status
	Owner  string // user id or email
	Kind   Kind
	Tag    string
	Limit  int
	Offset int
}

// Edit changes a document's text. Exactly one of Op and Body is set: Op
// is an ot-text-unicode operation in its JSON wire format, Body a whole new
// text that the service turns into an op by diffing.
type Edit struct {
	Version int64
	Op      json.RawMessage
	Body    *string
	// Src and Seq identify the submission for de-duplication; may be empty.
	Src string
	Seq int64
}

// OpRecord is one entry of a document's append-only op log.
type OpRecord struct {
	Version int64           `json:"v"`
	Src     string          `json:"src,omitempty"`
	Seq     int64           `json:"seq,omitempty"`
	Author  string          `json:"author"`
	Time    time.Time       `json:"time"`
	Op      json.RawMessage `json:"op"`
}

// MaxOpsPage is the most op log entries returned by one call.
const MaxOpsPage = 1000

// OpFinder reads a document's op log a page at a time, as
// [DocumentService.FindOps] does.
type OpFinder interface {
	FindOps(ctx context.Context, id string, from, to int64, limit int) ([]*OpRecord, error)
}

// FindAllOps reads the op log entries with from <= version < to, page
// after page.
func FindAllOps(ctx context.Context, f OpFinder, id string, from, to int64) ([]*OpRecord, error) {
	var out []*OpRecord
	for from < to {
		page, err := f.FindOps(ctx, id, from, to, MaxOpsPage)
		if err != nil {
			return nil, err
		}
		if len(page) == 0 {
			break
		}
		out = append(out, page...)
		from += int64(len(page))
	}
	return out, nil
}

// DocumentService manages documents and their history. Every method checks
// the caller's role in the document's space: reading needs viewer, editing
// text and metadata needs editor. A document the caller may not read is
// ENOTFOUND, so its existence does not leak.
type DocumentService interface {
	// CreateDocument creates a document owned by the caller in a space
	// where the caller is at least an editor. Returns ENOTFOUND, EFORBIDDEN,
	// EINVALID, ETOOLARGE.
	CreateDocument(ctx context.Context, dc DocumentCreate) (*Document, error)

	// FindDocumentByID returns a document with its body. Returns ENOTFOUND.
	FindDocumentByID(ctx context.Context, id string) (*Document, error)

	// FindDocumentMeta returns a document without its body, which is
	// cheaper when only the metadata or version is needed: its reviewers'
	// Stale is left false (telling it replays texts; FindDocumentByID
	// and DecisionService.FindLifecycle tell it). Returns ENOTFOUND.
	FindDocumentMeta(ctx context.Context, id string) (*Document, error)

	// FindDocuments lists readable documents without bodies, most recently
	// updated first, and the total count. Returns ENOTFOUND for an
	// unreadable space, EINVALID for a bad filter.
	FindDocuments(ctx context.Context, filter DocumentFilter) ([]*Document, int, error)

	// UpdateDocument patches metadata. Returns ENOTFOUND, EFORBIDDEN, EINVALID.
	UpdateDocument(ctx context.Context, id string, upd DocumentUpdate) (*Document, error)

	// EditDocument applies an edit made at the current version. Returns
	// ECONFLICT (with "version" in the error data) when the edit's version
	// is not the current one, EINVALID for a bad op, ETOOLARGE when the
	// result would exceed MaxDocumentBytes; the document is then unchanged.
	EditDocument(ctx context.Context, id string, e Edit) (*Document, error)

	// DeleteDocument deletes a document and its history; its owner or a
	// space admin only. Returns ENOTFOUND, EFORBIDDEN.
	DeleteDocument(ctx context.Context, id string) error

	// FindOps returns op log entries with from <= version < to, at most
	// limit (capped at MaxOpsPage). Returns ENOTFOUND, EINVALID.
	FindOps(ctx context.Context, id string, from, to int64, limit int) ([]*OpRecord, error)

	// DocumentAt returns the text of a document at a version between 0 and
	// the current one. Returns ENOTFOUND, EINVALID.
	DocumentAt(ctx context.Context, id string, version int64) (string, error)
}

// Renderer turns markdown into sanitised HTML and reads what the server
// needs to know about a markdown text.
type Renderer interface {
	// Render returns safe HTML for src. Returns ETOOLARGE for oversized
	// input and EINVALID for input the renderer cannot handle, such as a
	// malformed front matter block.
	Render(ctx context.Context, src string) (string, error)

	// Validate checks that src may be stored: its front matter, if any,
	// is well formed and within limits. Returns EINVALID or ETOOLARGE.
	Validate(src string) error

	// Title returns the text of the first level-1 heading of src (or the
	// title of its front matter), or "" if it has none.
	Title(src string) string
}

var idRE = regexp.MustCompile(`^[a-z0-9]{1,32}$`)

// ValidID reports whether s has the shape of an id generated by Docket.
// Ids are checked before any lookup so that hostile strings never reach
// storage.
func ValidID(s string) bool { return idRE.MatchString(s) }

// OpCommit is one op to append to a document's log by [OpLog.CommitOps].
type OpCommit struct {
	DocID string
	Rec   OpRecord // Rec.Version is the version the op is committed at
	Text  string   // the document's text after the op
	// Announce asks for a doc.edited event in the activity feed.
	Announce bool
}

// OpLog is the storage of live co-editing: the hub owns open documents and
// writes their ops in groups. Implementations check no permissions; the
// hub's callers do.
type OpLog interface {
	// LoadDocument returns the current version and text of a document.
	// Returns ENOTFOUND.
	LoadDocument(ctx context.Context, id string) (version int64, text string, err error)

	// LoadOps returns the op log entries with from <= version < to; a to
	// past the document's version reads up to its last entry (a node of
	// a cluster catches up with math.MaxInt64).
	LoadOps(ctx context.Context, id string, from, to int64) ([]*OpRecord, error)

	// CommitOps appends every commit's op at its version, with the text
	// after it, in one durable transaction: all or nothing. Returns
	// ECONFLICT if a commit's version is not its document's next version.
	CommitOps(ctx context.Context, commits []OpCommit) error
}

// OpRebaser is an [OpLog] whose commit cannot lose a race: a node of a
// cluster brings its ops up to date inside the transaction, while it
// holds the store's writer lock, instead of failing with ECONFLICT,
// reading what it missed and queueing for the lock again.
type OpRebaser interface {
	// CommitOpsRebasing is CommitOps, except that when a document's first
	// commit in the batch is behind the document, it reads the ops
	// committed since that commit's version, inside the transaction,
	// calls rebase with them, and writes the commits rebase returns
	// instead of that document's commits (they must start at the
	// document's current version; none is allowed). Each document of a
	// batch is rebased on its own. An error from rebase fails the whole
	// transaction. Returns ECONFLICT for a commit ahead of its document or
	// out of sequence.
	CommitOpsRebasing(ctx context.Context, commits []OpCommit, rebase func(docID string, missing []*OpRecord) ([]OpCommit, error)) error
}

// ChangedBeyondWhitespace reports whether after differs from before in more
// than whitespace: a reflowed paragraph or a trailing newline is not a
// change, a fixed typo is. The decision process uses it to tell whether a
// review given at one version still holds at another.
func ChangedBeyondWhitespace(before, after string) bool {
	if before == after {
		return false
	}
	a, b := strings.Fields(before), strings.Fields(after)
	return !slices.Equal(a, b)
}
