package docket

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Verdict is a reviewer's answer to a document in review.
type Verdict string

// Verdicts. A concern blocks the last call until it is resolved.
const (
	VerdictApprove Verdict = "approve"
	VerdictConcern Verdict = "concern"
	VerdictComment Verdict = "comment"
)

// Valid reports whether v is a known verdict.
func (v Verdict) Valid() bool {
	return v == VerdictApprove || v == VerdictConcern || v == VerdictComment
}

// Reviewer is a person asked to review a document, with their latest
// verdict (empty while they have not answered).
type Reviewer struct {
	UserID    string    `json:"userId"`
	Verdict   Verdict   `json:"verdict,omitempty"`
	VerdictAt time.Time `json:"verdictAt,omitzero"`
}

// Review is one verdict given on a document. A concern is also a thread
// (ThreadID) so that it can be discussed and resolved like any other; it
// stops blocking when that thread is resolved.
type Review struct {
	ID        string    `json:"id"`
	DocID     string    `json:"docId"`
	AuthorID  string    `json:"authorId"`
	Verdict   Verdict   `json:"verdict"`
	Body      string    `json:"body,omitempty"`
	HTML      string    `json:"html,omitempty"` // Body rendered and sanitised
	ThreadID  string    `json:"threadId,omitempty"`
	Version   int64     `json:"version"` // the document version reviewed
	CreatedAt time.Time `json:"createdAt"`
	// Resolved is filled in on reads: whether a concern's thread is
	// resolved. Always false for other verdicts.
	Resolved bool `json:"resolved,omitempty"`
}

// Decision is the recorded outcome of a document.
type Decision struct {
	Outcome Status    `json:"outcome"`
	Summary string    `json:"summary"`
	By      string    `json:"by"` // user id
	At      time.Time `json:"at"`
	Version int64     `json:"version"`
	// SupersededBy is the document that replaces this one.
	SupersededBy string `json:"supersededBy,omitempty"`
	// MinutesID names the minutes frozen when the decision was recorded.
	MinutesID string `json:"minutesId,omitempty"`
}

// Lifecycle is the decision process state of a document, kept with it.
type Lifecycle struct {
	Status    Status      `json:"status"`
	Due       time.Time   `json:"due,omitzero"` // deadline of review or last call
	Reviewers []*Reviewer `json:"reviewers,omitempty"`
	Decision  *Decision   `json:"decision,omitempty"`
	// EnteredAt is when the document entered its current status.
	EnteredAt time.Time `json:"enteredAt,omitzero"`
}

// Overdue reports whether a review or last call has passed its deadline.
func (l *Lifecycle) Overdue(now time.Time) bool {
	return (l.Status == StatusReview || l.Status == StatusLastCall) && !l.Due.IsZero() && now.After(l.Due)
}

// Transition is the input of [DecisionService.Transition].
type Transition struct {
	To  Status
	Due time.Time // required for review and last-call
	// Reviewers (user ids or emails) replace the reviewer list when
	// entering review; they must be members who can read the document.
	Reviewers []string
	// Summary is the decision's rationale, required for an outcome.
	Summary string
	// SupersededBy is the replacing document, required for superseded.
	SupersededBy string
}

// TransitionState is what [CheckTransition] needs to know about a document.
type TransitionState struct {
	From Status
	Due  time.Time // deadline of the current review or last call
	Now  time.Time
	// OpenConcerns counts concerns whose threads are not resolved.
	OpenConcerns int
	// Reviewers counts the reviewers; Approved those whose latest verdict
	// is approve.
	Reviewers int
	Approved  int
}

// MaxDeadline is how far ahead a deadline may be set.
const MaxDeadline = 366 * 24 * time.Hour

// MaxReviewers is the most reviewers a document may have.
const MaxReviewers = 50

// CheckTransition reports whether a document in state st may move as t
// asks. It returns ECONFLICT with the reason for a transition the process
// does not allow and EINVALID for missing or bad input. It checks the
// process only; who may move a document is the service's business.
//
//	draft     -> review | withdrawn
//	review    -> draft | last-call | accepted | declined | postponed | withdrawn
//	last-call -> review | accepted | declined | postponed | withdrawn
//	postponed -> draft | review
//	accepted  -> superseded
//
// Entering last-call needs no open concern. An outcome (accepted,
// declined) needs the last call ended, or every reviewer approving.
// Postponing or withdrawing needs no deadline to have passed.
func CheckTransition(st TransitionState, t Transition) error {
	if !t.To.Valid() {
		return Errorf(EINVALID, "Unknown status %q.", t.To)
	}
	if st.From == t.To {
		return Errorf(ECONFLICT, "The document is already %s.", t.To)
	}
	allowed := map[Status][]Status{
		StatusDraft:     {StatusReview, StatusWithdrawn},
		StatusReview:    {StatusDraft, StatusLastCall, StatusAccepted, StatusDeclined, StatusPostponed, StatusWithdrawn},
		StatusLastCall:  {StatusReview, StatusAccepted, StatusDeclined, StatusPostponed, StatusWithdrawn},
		StatusPostponed: {StatusDraft, StatusReview},
		StatusAccepted:  {StatusSuperseded},
	}
	ok := false
	for _, to := range allowed[st.From] {
		ok = ok || to == t.To
	}
	if !ok {
		if len(allowed[st.From]) == 0 {
			return Errorf(ECONFLICT, "A %s document is final and cannot move to %s.", st.From, t.To)
		}
		return Errorf(ECONFLICT, "A %s document cannot move to %s.", st.From, t.To)
	}
	switch t.To {
	case StatusReview, StatusLastCall:
		if t.Due.IsZero() {
			return Errorf(EINVALID, "Moving to %s needs a deadline (due).", t.To)
		}
		if !t.Due.After(st.Now) {
			return Errorf(EINVALID, "The deadline must be in the future.")
		}
		if t.Due.Sub(st.Now) > MaxDeadline {
			return Errorf(EINVALID, "The deadline must be within a year.")
		}
	}
	switch t.To {
	case StatusReview:
		if st.From != StatusLastCall && len(t.Reviewers) == 0 && st.Reviewers == 0 {
			return Errorf(EINVALID, "A review needs at least one reviewer.")
		}
	case StatusLastCall:
		if st.OpenConcerns > 0 {
			return Errorf(ECONFLICT, "%s the last call.", concernsBlock(st.OpenConcerns))
		}
	case StatusAccepted, StatusDeclined:
		if st.OpenConcerns > 0 && t.To == StatusAccepted {
			return Errorf(ECONFLICT, "%s the decision.", concernsBlock(st.OpenConcerns))
		}
		// A last call without a deadline never ends by itself.
		lastCallOver := st.From == StatusLastCall && !st.Due.IsZero() && !st.Now.Before(st.Due)
		allApproved := st.Reviewers > 0 && st.Approved == st.Reviewers
		if !lastCallOver && !allApproved {
			if st.From == StatusLastCall {
				return Errorf(ECONFLICT, "The last call runs until %s and not every reviewer has approved.", st.Due.UTC().Format(time.RFC3339))
			}
			return Errorf(ECONFLICT, "A decision needs the last call to have ended or every reviewer to approve.")
		}
	case StatusSuperseded:
		if t.SupersededBy == "" {
			return Errorf(EINVALID, "Superseding needs the replacing document (supersededBy).")
		}
	}
	if (t.To == StatusAccepted || t.To == StatusDeclined || t.To == StatusPostponed) && strings.TrimSpace(t.Summary) == "" {
		return Errorf(EINVALID, "Recording a decision needs a summary of why.")
	}
	return nil
}

// Outcome reports whether s ends the process (for now): accepted,
// declined, postponed, withdrawn or superseded.
func (s Status) Outcome() bool {
	switch s {
	case StatusAccepted, StatusDeclined, StatusPostponed, StatusWithdrawn, StatusSuperseded:
		return true
	}
	return false
}

// ReviewCreate is the input of [DecisionService.AddReview].
type ReviewCreate struct {
	DocID   string
	Verdict Verdict
	Body    string // required for a concern
}

// Handoff records a change of a document's owner.
type Handoff struct {
	From string    `json:"from"`
	To   string    `json:"to"`
	By   string    `json:"by"`
	At   time.Time `json:"at"`
}

// DecisionService runs the decision process of documents. Only the owner
// or a space admin moves a document or hands it over; reviewers (and any
// commenter, with verdict comment) give verdicts.
type DecisionService interface {
	// FindLifecycle returns a document's process state. Returns ENOTFOUND.
	FindLifecycle(ctx context.Context, docID string) (*Lifecycle, error)

	// Transition moves a document. Returns ENOTFOUND, EFORBIDDEN, EINVALID,
	// and ECONFLICT with the reason when the process does not allow it;
	// nothing changes then. Recording an outcome freezes the minutes.
	Transition(ctx context.Context, docID string, t Transition) (*Lifecycle, error)

	// AddReview records a verdict by the caller. Approve and concern are
	// for reviewers of a document in review or last call; a concern opens
	// a document-level thread with its body. Returns ENOTFOUND,
	// EFORBIDDEN, EINVALID, ECONFLICT when the document is not in review.
	AddReview(ctx context.Context, rc ReviewCreate) (*Review, error)

	// FindReviews lists a document's reviews, oldest first. Returns ENOTFOUND.
	FindReviews(ctx context.Context, docID string) ([]*Review, error)

	// SetOwner hands a document over to a member who may edit it.
	// Returns ENOTFOUND, EFORBIDDEN, EINVALID.
	SetOwner(ctx context.Context, docID, user string) (*Handoff, error)

	// FindHandoffs lists a document's ownership changes, oldest first.
	FindHandoffs(ctx context.Context, docID string) ([]*Handoff, error)
}

// concernsBlock is "1 unresolved concern blocks" or "n unresolved
// concerns block".
func concernsBlock(n int) string {
	if n == 1 {
		return "1 unresolved concern blocks"
	}
	return fmt.Sprintf("%d unresolved concerns block", n)
}
