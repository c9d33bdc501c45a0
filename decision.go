package docket

import (
	"context"
	"fmt"
	"slices"
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
	// Version is the document version the verdict was given at.
	Version int64 `json:"version,omitempty"`
	// ChangesSince and Stale are filled in on reads: how many versions
	// the document moved since the verdict, and whether an approval no
	// longer counts because the text changed beyond whitespace since.
	ChangesSince int64 `json:"changesSince,omitempty"`
	Stale        bool  `json:"stale,omitempty"`
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
	// Round is the round of review the decision ended (1 for the first).
	Round int `json:"round,omitempty"`
}

// Lifecycle is the decision process state of a document, kept with it.
type Lifecycle struct {
	Status    Status      `json:"status"`
	Due       time.Time   `json:"due,omitzero"` // deadline of review or last call
	Reviewers []*Reviewer `json:"reviewers,omitempty"`
	Decision  *Decision   `json:"decision,omitempty"`
	// EnteredAt is when the document entered its current status.
	EnteredAt time.Time `json:"enteredAt,omitzero"`
	// Round counts the rounds of review: 1, and one more each time a
	// decided document is amended or a decision is otherwise reopened.
	Round int `json:"round"`
	// Earlier lists the decisions of earlier rounds, oldest first.
	Earlier []*Decision `json:"earlierDecisions,omitempty"`
	// Amended and ChangesSinceDecision are filled in on reads: whether
	// the document changed after its decision, and by how many versions.
	Amended              bool  `json:"amended"`
	ChangesSinceDecision int64 `json:"changesSinceDecision,omitempty"`
}

// CountApprovals counts the reviewers' approvals that count under rules
// for a document owned by owner, and those left out as stale (Stale is
// filled in by the service). The owner's approval counts only if the rules
// let the owner approve.
func CountApprovals(reviewers []*Reviewer, owner string, rules DecisionRules) (approved, stale int) {
	for _, r := range reviewers {
		switch {
		case r.Verdict != VerdictApprove || (r.UserID == owner && !rules.OwnerMayApprove):
		case r.Stale:
			stale++
		default:
			approved++
		}
	}
	return approved, stale
}

// Amendment fills in Amended and ChangesSinceDecision for a document now
// at version.
func (l *Lifecycle) Amendment(version int64) {
	l.Amended, l.ChangesSinceDecision = false, 0
	if l.Decision != nil && version > l.Decision.Version {
		l.Amended, l.ChangesSinceDecision = true, version-l.Decision.Version
	}
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
	// Amend reopens review of an accepted or declined document: a new
	// round, with To review. The earlier decision stays on record.
	Amend bool
}

// TransitionState is what [CheckTransition] needs to know about a document.
type TransitionState struct {
	From Status
	Due  time.Time // deadline of the current review or last call
	Now  time.Time
	// EnteredAt is when the document entered From: the start of a last
	// call.
	EnteredAt time.Time
	// OpenConcerns counts concerns whose threads are not resolved.
	OpenConcerns int
	// Reviewers counts the reviewers; Approved those whose latest verdict
	// is an approval that counts (not stale, not the owner's unless the
	// rules allow it); Stale the approvals left out because the text
	// changed since.
	Reviewers int
	Approved  int
	Stale     int
	// Owner is the document's owner (a user id).
	Owner string
	// Rules are the space's rules; the zero value enforces none of them.
	Rules DecisionRules
}

// MaxDeadline is how far ahead a deadline may be set.
const MaxDeadline = 366 * 24 * time.Hour

// MaxReviewers is the most reviewers a document may have.
const MaxReviewers = 50

// CheckTransition reports whether a document in state st may move as t
// asks. It returns ECONFLICT with the rule for a transition the process
// does not allow and EINVALID for missing or bad input. It checks the
// process only; who may move a document is the service's business.
//
//	draft     -> review | withdrawn
//	review    -> draft | last-call | accepted | declined | postponed | withdrawn
//	last-call -> review | accepted | declined | postponed | withdrawn
//	postponed -> draft | review
//	accepted  -> superseded, or review by amending
//	declined  -> review by amending
//
// The owner is not a reviewer unless the rules allow it, and a review
// names at least as many reviewers as acceptance needs approvals. Entering
// last-call needs no open concern and a deadline at least the rules'
// minimum away. Acceptance needs no open concern, a last call (if the
// rules require one) that has run its minimum, the last call ended or
// every reviewer approving, and the rules' number of counted approvals.
// Declining, postponing and withdrawing need no deadline to have passed.
func CheckTransition(st TransitionState, t Transition) error {
	if !t.To.Valid() {
		return Errorf(EINVALID, "Unknown status %q.", t.To)
	}
	if err := checkMove(st, t); err != nil {
		return err
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
		return checkReviewers(st, t)
	case StatusLastCall:
		if st.OpenConcerns > 0 {
			return Errorf(ECONFLICT, "%s the last call.", concernsBlock(st.OpenConcerns))
		}
		if min := st.Rules.MinLastCall(); t.Due.Sub(st.Now) < min {
			return Errorf(ECONFLICT, "A last call in this space lasts at least %s; this deadline is %s away.",
				FormatDuration(min), FormatElapsed(t.Due.Sub(st.Now), min))
		}
	case StatusAccepted:
		if err := checkAcceptance(st); err != nil {
			return err
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

// transitions lists where a document may move from each status, amending
// aside.
var transitions = map[Status][]Status{
	StatusDraft:     {StatusReview, StatusWithdrawn},
	StatusReview:    {StatusDraft, StatusLastCall, StatusAccepted, StatusDeclined, StatusPostponed, StatusWithdrawn},
	StatusLastCall:  {StatusReview, StatusAccepted, StatusDeclined, StatusPostponed, StatusWithdrawn},
	StatusPostponed: {StatusDraft, StatusReview},
	StatusAccepted:  {StatusSuperseded},
}

// checkMove checks the lifecycle graph, and that amending goes from a
// decided document to review.
func checkMove(st TransitionState, t Transition) error {
	amendable := st.From == StatusAccepted || st.From == StatusDeclined
	if t.Amend {
		if t.To != StatusReview {
			return Errorf(EINVALID, "Amending moves a document to review, not %s.", t.To)
		}
		if !amendable {
			return Errorf(ECONFLICT, "Only an accepted or declined document can be amended; this one is %s.", st.From)
		}
		return nil
	}
	if st.From == t.To {
		return Errorf(ECONFLICT, "The document is already %s.", t.To)
	}
	if slices.Contains(transitions[st.From], t.To) {
		return nil
	}
	switch {
	case amendable && t.To == StatusReview:
		return Errorf(ECONFLICT, "%s %s document cannot move to review; amend it to open a new round.", capitalize(article(string(st.From))), st.From)
	case len(transitions[st.From]) == 0:
		return Errorf(ECONFLICT, "%s %s document is final and cannot move to %s.", capitalize(article(string(st.From))), st.From, t.To)
	}
	return Errorf(ECONFLICT, "%s %s document cannot move to %s.", capitalize(article(string(st.From))), st.From, t.To)
}

// checkReviewers checks the reviewers of a review about to start: there
// are some, the owner is not one unless the rules allow it, and there are
// enough of them to give the approvals acceptance needs.
func checkReviewers(st TransitionState, t Transition) error {
	n := st.Reviewers
	if len(t.Reviewers) > 0 {
		n = len(t.Reviewers)
	}
	if n == 0 && st.From != StatusLastCall {
		return Errorf(EINVALID, "A review needs at least one reviewer.")
	}
	if !st.Rules.OwnerMayApprove && st.Owner != "" && slices.Contains(t.Reviewers, st.Owner) {
		return Errorf(ECONFLICT, "The owner cannot be a reviewer of their own document.")
	}
	if n < st.Rules.MinApprovals {
		return Errorf(ECONFLICT, "Acceptance in this space needs %s; name at least %s.",
			Plural(st.Rules.MinApprovals, "approval"), Plural(st.Rules.MinApprovals, "reviewer"))
	}
	return nil
}

// checkAcceptance checks the rules of accepting a document.
func checkAcceptance(st TransitionState) error {
	if st.OpenConcerns > 0 {
		return Errorf(ECONFLICT, "%s acceptance.", concernsBlock(st.OpenConcerns))
	}
	inLastCall := st.From == StatusLastCall
	if st.Rules.RequireLastCall && !inLastCall {
		return Errorf(ECONFLICT, "Acceptance needs a completed last call; this document is in %s.", st.From)
	}
	if min := st.Rules.MinLastCall(); inLastCall && st.Now.Sub(st.EnteredAt) < min {
		return Errorf(ECONFLICT, "Acceptance needs a last call of at least %s; this one started %s ago.",
			FormatDuration(min), FormatElapsed(st.Now.Sub(st.EnteredAt), min))
	}
	// A last call without a deadline never ends by itself.
	lastCallOver := inLastCall && !st.Due.IsZero() && !st.Now.Before(st.Due)
	allApproved := st.Reviewers > 0 && st.Approved == st.Reviewers
	if !lastCallOver && !allApproved {
		if inLastCall {
			return Errorf(ECONFLICT, "The last call runs until %s and not every reviewer has approved.", st.Due.UTC().Format(time.RFC3339))
		}
		return Errorf(ECONFLICT, "Acceptance needs the last call to have ended or every reviewer to approve.")
	}
	if st.Approved < st.Rules.MinApprovals {
		has := "none"
		if st.Approved > 0 {
			has = fmt.Sprint(st.Approved)
		}
		stale := ""
		if st.Stale > 0 {
			stale = fmt.Sprintf(" (%s of an earlier version, and the text changed since)", Plural(st.Stale, "approval"))
		}
		return Errorf(ECONFLICT, "Acceptance needs %s of the current text; it has %s%s.", Plural(st.Rules.MinApprovals, "approval"), has, stale)
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
