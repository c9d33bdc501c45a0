package docket

import (
	"context"
	"time"
)

// MinutesData is everything the minutes of a document say: the meeting
// that did not happen, compiled from its lifecycle, reviews, threads,
// action items and live sessions. People are given by display name;
// whoever builds it resolves user ids. Lists are written in the order
// given, which should be oldest first. Package markdown writes it as a
// markdown document (markdown.Minutes).
//
// Minutes tell the truth as of CompiledAt: frozen minutes are compiled
// at the decision, and whatever was still running then (a live session)
// is described as it stood at the decision, never as running "now".
type MinutesData struct {
	DocID     string
	Title     string
	Kind      Kind
	Status    Status
	Owner     string    // the current owner's name
	CreatedBy string    // the author's name
	CreatedAt time.Time // when the document was created
	Version   int64     // the version the minutes describe
	// CompiledAt is when the minutes were compiled, or frozen with the
	// decision; left out when zero.
	CompiledAt time.Time
	// Frozen says the minutes are compiled to be kept with a decision:
	// what was still running at CompiledAt was running at the decision.
	Frozen bool
	// Round is the round of review described when the document had more
	// than one (it was amended); 0 otherwise.
	Round int

	Timeline []MinutesTransition
	Handoffs []MinutesHandoff
	// Participants is everyone who wrote, commented, reviewed or edited
	// live; who only read along in a live session is not one.
	Participants []string
	Reviewers    []MinutesReviewer
	Reviews      []MinutesReview  // every review and comment given, oldest first
	Decision     *MinutesDecision // nil while undecided

	ResolvedThreads []MinutesThread
	OpenThreads     []MinutesThread // still open at the version described
	OutdatedThreads []MinutesThread // open, but their passage was removed
	Actions         []MinutesAction
	Sessions        []MinutesSession

	// Suggested changes by state: applied, rejected, and still open
	// (outdated ones included).
	SuggestionsApplied, SuggestionsRejected, SuggestionsOpen int
}

// MinutesTimeLayout is how minutes write an instant for people to read,
// in UTC to the minute (a time.Format layout): 6 Dec 2026, 14:02 UTC.
// Machine fields (JSON) stay RFC 3339.
const MinutesTimeLayout = "2 Jan 2006, 15:04 UTC"

// MinutesTransition is one move of the document's status.
type MinutesTransition struct {
	From Status
	To   Status
	At   time.Time
	By   string    // name
	Due  time.Time // the deadline set with it (review, last call), if any
	// Amend says the move reopened a decided document for a new round.
	Amend bool
}

// MinutesHandoff is one change of the document's owner.
type MinutesHandoff struct {
	From string // names
	To   string
	By   string
	At   time.Time
}

// MinutesReviewer is a reviewer and the verdicts they gave in the round
// described, oldest first; the last one stands. No verdicts means they
// have not answered in it.
type MinutesReviewer struct {
	Name     string
	Verdicts []MinutesVerdict
}

// MinutesVerdict is one verdict given by a reviewer.
type MinutesVerdict struct {
	Verdict Verdict
	At      time.Time
	Version int64 // the version it was given at
	Round   int   // the round of review it was given in, when MinutesData.Round is set
	// Resolved says a concern's thread is resolved.
	Resolved bool
	// Stale says the text changed beyond white space between Version
	// and the version the minutes describe (ChangedBeyondWhitespace).
	Stale bool
}

// MinutesReview is one review as given: a verdict with its body, by a
// reviewer, or a comment by anyone.
type MinutesReview struct {
	Name string
	MinutesVerdict
	Body string // as written (markdown); the minutes quote it as text
}

// MinutesDecision is the recorded outcome.
type MinutesDecision struct {
	Outcome      Status
	Summary      string // the rationale, as written
	By           string // name
	At           time.Time
	Version      int64
	SupersededBy string // the title (or id) of the replacing document
}

// MinutesThread is one discussion on the document.
type MinutesThread struct {
	Status ThreadStatus
	// Quote is the text the thread was anchored to; empty for a
	// document-level thread.
	Quote        string
	Author       string // the name of who started it
	CreatedAt    time.Time
	FirstComment string // the body of the first comment; the minutes show an excerpt
	Comments     int    // how many comments, deleted ones excluded
	// How a resolved thread ended.
	ResolvedBy string
	ResolvedAt time.Time
	Resolution string // the note given when resolving, if any
}

// MinutesAction is an action item of the document.
type MinutesAction struct {
	Text  string
	Owner string // the assignee's name, or the @name as written; empty if unassigned
	Due   time.Time
	Done  bool
	// Overdue says the due date had passed, undone, at CompiledAt
	// (ActionItem.OverdueAt).
	Overdue bool
}

// MinutesSession is a live co-editing session.
type MinutesSession struct {
	StartedAt    time.Time
	EndedAt      time.Time // zero if it was still running at CompiledAt
	StartVersion int64
	EndVersion   int64
	Participants []MinutesSessionParticipant
}

// MinutesSessionParticipant is one person's part in a live session:
// an editor, or, with no ops, a reader who had it open.
type MinutesSessionParticipant struct {
	Name string
	Ops  int
}

// MinutesRecord is a set of minutes frozen when a decision was recorded:
// later edits to the document do not change it.
type MinutesRecord struct {
	ID       string    `json:"id"`
	DocID    string    `json:"docId"`
	Version  int64     `json:"version"`
	Outcome  Status    `json:"outcome"`
	FrozenAt time.Time `json:"frozenAt"`
	Markdown string    `json:"markdown,omitempty"` // left out of lists
}

// MinutesService compiles the minutes of documents: the meeting that did
// not happen, from the document's history, discussion and decision.
type MinutesService interface {
	// CompileMinutes gathers a document's minutes as of now. Returns
	// ENOTFOUND.
	CompileMinutes(ctx context.Context, docID string) (*MinutesData, error)

	// MinutesMarkdown compiles a document's minutes as of now and writes
	// them as markdown, as a frozen record holds them. Returns ENOTFOUND.
	MinutesMarkdown(ctx context.Context, docID string) (string, error)

	// FindMinutesRecords lists the minutes frozen at each decision of a
	// document, newest first, without their text. Returns ENOTFOUND.
	FindMinutesRecords(ctx context.Context, docID string) ([]*MinutesRecord, error)

	// FindMinutesRecord returns one frozen set of minutes. Returns ENOTFOUND.
	FindMinutesRecord(ctx context.Context, docID, id string) (*MinutesRecord, error)
}
