package docket

import (
	"context"
	"time"
)

// SuggestionState says where a suggested change stands.
type SuggestionState string

// Suggestion states. A suggestion is outdated while it is open but the
// text under its anchor is no longer the text it proposed to replace; the
// state is computed when it is read and never stored.
const (
	SuggestionOpen     SuggestionState = "open"
	SuggestionApplied  SuggestionState = "applied"
	SuggestionRejected SuggestionState = "rejected"
	SuggestionOutdated SuggestionState = "outdated"
)

// MaxReplacementBytes is the longest proposed replacement, in bytes of
// UTF-8. The text replaced is at most MaxQuoteRunes code points.
const MaxReplacementBytes = 64 << 10

// Suggestion is the proposed change of a thread that suggests one: the
// original text under the thread's anchor is to be replaced with
// Replacement. A suggestion is decided once: applied (the change was
// made, attributed to the thread's author) or rejected (with a reason).
type Suggestion struct {
	Original    string          `json:"original"`
	Replacement string          `json:"replacement"`
	State       SuggestionState `json:"state"`
	DecidedBy   string          `json:"decidedBy,omitempty"`
	DecidedAt   time.Time       `json:"decidedAt,omitzero"`
	// Reason is the note given with a rejection, if any.
	Reason string `json:"reason,omitempty"`
	// AppliedVersion is the first version of the text with the change.
	AppliedVersion int64 `json:"appliedVersion,omitempty"`
}

// SuggestionCreate is the input of [SuggestionService.CreateSuggestion].
type SuggestionCreate struct {
	DocID string
	// Anchor is the range to replace, as a thread takes it; Quote is
	// ignored.
	Anchor      *Anchor
	Replacement string
	Comment     string // optional words for the reviewers
}

// SuggestionService manages suggested changes. A suggestion is a thread
// (its id is the thread's id) with a [Suggestion]; the thread is read
// through [ThreadService]. Suggesting needs the commenter role; accepting
// and rejecting need the editor role or the document's ownership.
// Applying the change itself is the live hub's business: the caller
// checks the suggestion with PrepareAccept, submits the op made from the
// returned anchor, then records it with MarkApplied.
type SuggestionService interface {
	// CreateSuggestion starts a thread suggesting that the anchored text
	// be replaced. Returns ENOTFOUND, EFORBIDDEN, EINVALID (a bad anchor,
	// a replacement equal to the original), ETOOLARGE.
	CreateSuggestion(ctx context.Context, sc SuggestionCreate) (*Thread, error)

	// PrepareAccept returns the suggestion's thread with its anchor moved
	// to the current version (Anchor.Version), once it is checked that the
	// caller may accept it, that it is open and that the anchor still
	// covers the original text. Returns ENOTFOUND, EFORBIDDEN, ECONFLICT
	// (decided already, or outdated).
	PrepareAccept(ctx context.Context, id string) (*Thread, error)

	// MarkApplied records that the change was made, version being the
	// first version with it (0 if the text had it already): the
	// suggestion is applied, the thread resolved with an "Applied"
	// comment by the caller. Returns ENOTFOUND, EFORBIDDEN, ECONFLICT.
	MarkApplied(ctx context.Context, id string, version int64) (*Thread, error)

	// RejectSuggestion rejects an open (or outdated) suggestion with an
	// optional reason and resolves its thread. Returns ENOTFOUND,
	// EFORBIDDEN, EINVALID, ECONFLICT if it was decided already.
	RejectSuggestion(ctx context.Context, id, reason string) (*Thread, error)
}
