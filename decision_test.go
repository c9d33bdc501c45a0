package docket_test

import (
	"strings"
	"testing"
	"time"

	docket "github.com/docket-dev/docket"
)

var statuses = []docket.Status{
	docket.StatusDraft, docket.StatusReview, docket.StatusLastCall, docket.StatusAccepted,
	docket.StatusDeclined, docket.StatusPostponed, docket.StatusWithdrawn, docket.StatusSuperseded,
}

// TestCheckTransitionMatrix tries every (from, to) pair of statuses with
// every precondition met, so that only the process graph decides.
func TestCheckTransitionMatrix(t *testing.T) {
	// allowed[from] lists the statuses a document may move to, written out
	// from the lifecycle in DESIGN.md.
	allowed := map[docket.Status]string{
		docket.StatusDraft:      "review withdrawn",
		docket.StatusReview:     "draft last-call accepted declined postponed withdrawn",
		docket.StatusLastCall:   "review accepted declined postponed withdrawn",
		docket.StatusAccepted:   "superseded",
		docket.StatusDeclined:   "",
		docket.StatusPostponed:  "draft review",
		docket.StatusWithdrawn:  "",
		docket.StatusSuperseded: "",
	}
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	for _, from := range statuses {
		for _, to := range statuses {
			t.Run(string(from)+"->"+string(to), func(t *testing.T) {
				st := docket.TransitionState{From: from, Due: now.Add(-time.Hour), Now: now, Reviewers: 2, Approved: 2}
				tr := docket.Transition{To: to, Due: now.Add(24 * time.Hour), Reviewers: []string{"bob"}, Summary: "Because.", SupersededBy: "newdoc"}
				err := docket.CheckTransition(st, tr)
				ok := false
				for _, s := range strings.Fields(allowed[from]) {
					ok = ok || docket.Status(s) == to
				}
				if ok {
					if err != nil {
						t.Fatalf("CheckTransition(%s -> %s) = %v; want nil", from, to, err)
					}
					return
				}
				var wantMsg string
				switch {
				case from == to:
					wantMsg = "already " + string(to)
				case (from == docket.StatusAccepted || from == docket.StatusDeclined) && to == docket.StatusReview:
					wantMsg = "cannot move to review; amend it to open a new round"
				case allowed[from] == "":
					wantMsg = "is final and cannot move to " + string(to)
				default:
					wantMsg = "cannot move to " + string(to)
				}
				if got := docket.ErrorCode(err); got != docket.ECONFLICT {
					t.Fatalf("CheckTransition(%s -> %s) code = %q (%v); want %q", from, to, got, err, docket.ECONFLICT)
				}
				if got := docket.ErrorMessage(err); !strings.Contains(got, wantMsg) {
					t.Fatalf("CheckTransition(%s -> %s) message = %q; want it to contain %q", from, to, got, wantMsg)
				}
			})
		}
	}
}

// transitionCase is a state, a transition and the error code and part of
// the message [docket.CheckTransition] should answer.
type transitionCase struct {
	name     string
	st       docket.TransitionState
	tr       docket.Transition
	wantCode string // "" for allowed
	wantMsg  string
}

func checkTransitions(t *testing.T, cases []transitionCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := docket.CheckTransition(tc.st, tc.tr)
			if got := docket.ErrorCode(err); got != tc.wantCode {
				t.Fatalf("CheckTransition = %v (code %q); want code %q", err, got, tc.wantCode)
			}
			if got := docket.ErrorMessage(err); !strings.Contains(got, tc.wantMsg) {
				t.Fatalf("CheckTransition message = %q; want it to contain %q", got, tc.wantMsg)
			}
		})
	}
}

// TestCheckTransitionRules checks the preconditions: deadlines, reviewers,
// concerns, the end of the last call, approvals, summaries and the
// superseding document.
func TestCheckTransitionRules(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	hour, day := time.Hour, 24*time.Hour
	// in review with two reviewers, one approving; a deadline tomorrow
	review := docket.TransitionState{From: docket.StatusReview, Due: now.Add(day), Now: now, Reviewers: 2, Approved: 1}
	lastCall := review
	lastCall.From = docket.StatusLastCall
	with := func(st docket.TransitionState, f func(*docket.TransitionState)) docket.TransitionState {
		f(&st)
		return st
	}
	checkTransitions(t, []transitionCase{
		{"unknown status", review, docket.Transition{To: "merged"}, docket.EINVALID, `Unknown status "merged"`},
		{"empty status", review, docket.Transition{}, docket.EINVALID, "Unknown status"},

		// Deadlines.
		{"review without deadline", docket.TransitionState{From: docket.StatusDraft, Now: now},
			docket.Transition{To: docket.StatusReview, Reviewers: []string{"bob"}}, docket.EINVALID, "needs a deadline"},
		{"last-call without deadline", review, docket.Transition{To: docket.StatusLastCall}, docket.EINVALID, "needs a deadline"},
		{"review deadline past", docket.TransitionState{From: docket.StatusDraft, Now: now},
			docket.Transition{To: docket.StatusReview, Reviewers: []string{"bob"}, Due: now.Add(-hour)}, docket.EINVALID, "in the future"},
		{"review deadline now", docket.TransitionState{From: docket.StatusDraft, Now: now},
			docket.Transition{To: docket.StatusReview, Reviewers: []string{"bob"}, Due: now}, docket.EINVALID, "in the future"},
		{"last-call deadline past", review, docket.Transition{To: docket.StatusLastCall, Due: now.Add(-time.Second)}, docket.EINVALID, "in the future"},
		{"deadline beyond MaxDeadline", docket.TransitionState{From: docket.StatusDraft, Now: now},
			docket.Transition{To: docket.StatusReview, Reviewers: []string{"bob"}, Due: now.Add(docket.MaxDeadline + time.Second)}, docket.EINVALID, "within a year"},
		{"deadline at MaxDeadline", docket.TransitionState{From: docket.StatusDraft, Now: now},
			docket.Transition{To: docket.StatusReview, Reviewers: []string{"bob"}, Due: now.Add(docket.MaxDeadline)}, "", ""},
		{"last-call back to review needs a new deadline", lastCall, docket.Transition{To: docket.StatusReview}, docket.EINVALID, "needs a deadline"},

		// Reviewers.
		{"review without reviewers", docket.TransitionState{From: docket.StatusDraft, Now: now},
			docket.Transition{To: docket.StatusReview, Due: now.Add(day)}, docket.EINVALID, "at least one reviewer"},
		{"review keeps earlier reviewers", docket.TransitionState{From: docket.StatusPostponed, Now: now, Reviewers: 1},
			docket.Transition{To: docket.StatusReview, Due: now.Add(day)}, "", ""},
		{"last-call back to review keeps reviewers", lastCall, docket.Transition{To: docket.StatusReview, Due: now.Add(day)}, "", ""},

		// Concerns.
		{"concern blocks last-call", with(review, func(s *docket.TransitionState) { s.OpenConcerns = 1 }),
			docket.Transition{To: docket.StatusLastCall, Due: now.Add(day)}, docket.ECONFLICT, "1 unresolved concern blocks the last call"},
		{"last-call without concerns", review, docket.Transition{To: docket.StatusLastCall, Due: now.Add(day)}, "", ""},
		{"concern blocks accept after last call", with(lastCall, func(s *docket.TransitionState) { s.OpenConcerns = 2; s.Due = now.Add(-hour) }),
			docket.Transition{To: docket.StatusAccepted, Summary: "ok"}, docket.ECONFLICT, "2 unresolved concerns block acceptance"},
		{"concern blocks accept with all approving", with(review, func(s *docket.TransitionState) { s.OpenConcerns = 1; s.Approved = 2 }),
			docket.Transition{To: docket.StatusAccepted, Summary: "ok"}, docket.ECONFLICT, "blocks acceptance"},
		{"concern does not block decline", with(lastCall, func(s *docket.TransitionState) { s.OpenConcerns = 1; s.Due = now.Add(-hour) }),
			docket.Transition{To: docket.StatusDeclined, Summary: "no"}, "", ""},
		{"concern does not block postpone", with(review, func(s *docket.TransitionState) { s.OpenConcerns = 1 }),
			docket.Transition{To: docket.StatusPostponed, Summary: "later"}, "", ""},
		{"concern does not block withdraw", with(review, func(s *docket.TransitionState) { s.OpenConcerns = 1 }),
			docket.Transition{To: docket.StatusWithdrawn}, "", ""},

		// A decision needs the last call ended or every reviewer approving.
		{"accept in review without all approving", review, docket.Transition{To: docket.StatusAccepted, Summary: "ok"},
			docket.ECONFLICT, "needs the last call to have ended or every reviewer to approve"},
		{"decline in review without all approving", review, docket.Transition{To: docket.StatusDeclined, Summary: "no"}, "", ""},
		{"accept in review after the review deadline", with(review, func(s *docket.TransitionState) { s.Due = now.Add(-hour) }),
			docket.Transition{To: docket.StatusAccepted, Summary: "ok"}, docket.ECONFLICT, "needs the last call to have ended"},
		{"accept in review with all approving", with(review, func(s *docket.TransitionState) { s.Approved = 2 }),
			docket.Transition{To: docket.StatusAccepted, Summary: "ok"}, "", ""},
		{"accept without reviewers", with(review, func(s *docket.TransitionState) { s.Reviewers, s.Approved = 0, 0 }),
			docket.Transition{To: docket.StatusAccepted, Summary: "ok"}, docket.ECONFLICT, "every reviewer"},
		{"accept during last call", lastCall, docket.Transition{To: docket.StatusAccepted, Summary: "ok"},
			docket.ECONFLICT, "The last call runs until 2026-12-02T12:00:00Z and not every reviewer has approved."},
		{"accept during last call with all approving", with(lastCall, func(s *docket.TransitionState) { s.Approved = 2 }),
			docket.Transition{To: docket.StatusAccepted, Summary: "ok"}, "", ""},
		{"accept when the last call ends", with(lastCall, func(s *docket.TransitionState) { s.Due = now }),
			docket.Transition{To: docket.StatusAccepted, Summary: "ok"}, "", ""},
		{"accept after the last call", with(lastCall, func(s *docket.TransitionState) { s.Due = now.Add(-hour); s.Approved = 0 }),
			docket.Transition{To: docket.StatusAccepted, Summary: "ok"}, "", ""},
		{"decline after the last call", with(lastCall, func(s *docket.TransitionState) { s.Due = now.Add(-hour) }),
			docket.Transition{To: docket.StatusDeclined, Summary: "no"}, "", ""},
		{"a last call without deadline never ends", with(lastCall, func(s *docket.TransitionState) { s.Due = time.Time{} }),
			docket.Transition{To: docket.StatusAccepted, Summary: "ok"}, docket.ECONFLICT, "runs until"},
		{"postpone before any deadline", review, docket.Transition{To: docket.StatusPostponed, Summary: "later"}, "", ""},
		{"withdraw during last call", lastCall, docket.Transition{To: docket.StatusWithdrawn}, "", ""},

		// Summaries.
		{"accept without summary", with(review, func(s *docket.TransitionState) { s.Approved = 2 }),
			docket.Transition{To: docket.StatusAccepted}, docket.EINVALID, "needs a summary"},
		{"accept with a blank summary", with(review, func(s *docket.TransitionState) { s.Approved = 2 }),
			docket.Transition{To: docket.StatusAccepted, Summary: " \n\t"}, docket.EINVALID, "needs a summary"},
		{"decline without summary", with(lastCall, func(s *docket.TransitionState) { s.Due = now.Add(-hour) }),
			docket.Transition{To: docket.StatusDeclined}, docket.EINVALID, "needs a summary"},
		{"postpone without summary", review, docket.Transition{To: docket.StatusPostponed}, docket.EINVALID, "needs a summary"},
		{"withdraw without summary", docket.TransitionState{From: docket.StatusDraft, Now: now}, docket.Transition{To: docket.StatusWithdrawn}, "", ""},

		// Superseding.
		{"supersede without the new document", docket.TransitionState{From: docket.StatusAccepted, Now: now},
			docket.Transition{To: docket.StatusSuperseded}, docket.EINVALID, "supersededBy"},
		{"supersede", docket.TransitionState{From: docket.StatusAccepted, Now: now},
			docket.Transition{To: docket.StatusSuperseded, SupersededBy: "newdoc"}, "", ""},
	})
}

// TestCheckTransitionSpaceRules checks the rules a space sets, each by a
// case that tries to break it and one that keeps it.
func TestCheckTransitionSpaceRules(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	rules := docket.DefaultDecisionRules()
	draft := docket.TransitionState{From: docket.StatusDraft, Now: now, Owner: "olga", Rules: rules}
	review := docket.TransitionState{From: docket.StatusReview, Due: now.Add(day), Now: now, Reviewers: 2, Approved: 2, Owner: "olga", Rules: rules}
	// a last call that started 8 days ago and ended an hour ago
	lastCall := review
	lastCall.From, lastCall.EnteredAt, lastCall.Due = docket.StatusLastCall, now.Add(-8*day), now.Add(-time.Hour)
	with := func(st docket.TransitionState, f func(*docket.TransitionState)) docket.TransitionState {
		f(&st)
		return st
	}
	accept := docket.Transition{To: docket.StatusAccepted, Summary: "Ship."}
	checkTransitions(t, []transitionCase{
		{"owner as reviewer", draft, docket.Transition{To: docket.StatusReview, Due: now.Add(day), Reviewers: []string{"bob", "olga"}},
			docket.ECONFLICT, "The owner cannot be a reviewer of their own document."},
		{"owner as reviewer when allowed", with(draft, func(s *docket.TransitionState) { s.Rules.OwnerMayApprove = true }),
			docket.Transition{To: docket.StatusReview, Due: now.Add(day), Reviewers: []string{"olga"}}, "", ""},
		{"fewer reviewers than approvals", with(draft, func(s *docket.TransitionState) { s.Rules.MinApprovals = 2 }),
			docket.Transition{To: docket.StatusReview, Due: now.Add(day), Reviewers: []string{"bob"}},
			docket.ECONFLICT, "Acceptance in this space needs 2 approvals; name at least 2 reviewers."},
		{"last call shorter than the minimum", review, docket.Transition{To: docket.StatusLastCall, Due: now.Add(2 * day)},
			docket.ECONFLICT, "A last call in this space lasts at least 7 days; this deadline is 2 days away."},
		{"last call of the minimum", review, docket.Transition{To: docket.StatusLastCall, Due: now.Add(7 * day)}, "", ""},
		{"skipping the last call", review, accept,
			docket.ECONFLICT, "Acceptance needs a completed last call; this document is in review."},
		{"skipping the last call when allowed", with(review, func(s *docket.TransitionState) { s.Rules.RequireLastCall = false }), accept, "", ""},
		{"last call too short at acceptance", with(lastCall, func(s *docket.TransitionState) { s.EnteredAt = now.Add(-2*day - 5*time.Hour) }), accept,
			docket.ECONFLICT, "Acceptance needs a last call of at least 7 days; this one started 2 days ago."},
		{"last call long enough", lastCall, accept, "", ""},
		{"too few approvals", with(lastCall, func(s *docket.TransitionState) { s.Approved = 0 }), accept,
			docket.ECONFLICT, "Acceptance needs 1 approval of the current text; it has none."},
		{"too few approvals, two needed", with(lastCall, func(s *docket.TransitionState) { s.Approved, s.Rules.MinApprovals = 1, 2 }), accept,
			docket.ECONFLICT, "Acceptance needs 2 approvals of the current text; it has 1."},
		{"a stale approval does not count", with(lastCall, func(s *docket.TransitionState) { s.Approved, s.Stale = 0, 1 }), accept,
			docket.ECONFLICT, "it has none (1 approval of an earlier version, and the text changed since)."},
		{"no approvals needed", with(lastCall, func(s *docket.TransitionState) { s.Approved, s.Rules.MinApprovals = 0, 0 }), accept, "", ""},
		{"decline over a concern", with(review, func(s *docket.TransitionState) { s.OpenConcerns, s.Approved = 1, 0 }),
			docket.Transition{To: docket.StatusDeclined, Summary: "No."}, "", ""},
		{"amend an accepted document", with(draft, func(s *docket.TransitionState) { s.From, s.Reviewers = docket.StatusAccepted, 1 }),
			docket.Transition{To: docket.StatusReview, Due: now.Add(day), Amend: true}, "", ""},
		{"amend a declined document", with(draft, func(s *docket.TransitionState) { s.From, s.Reviewers = docket.StatusDeclined, 1 }),
			docket.Transition{To: docket.StatusReview, Due: now.Add(day), Amend: true}, "", ""},
		{"amend a draft", with(draft, func(s *docket.TransitionState) { s.Reviewers = 1 }),
			docket.Transition{To: docket.StatusReview, Due: now.Add(day), Amend: true},
			docket.ECONFLICT, "Only an accepted or declined document can be amended; this one is draft."},
		{"amend to another status", with(draft, func(s *docket.TransitionState) { s.From = docket.StatusAccepted }),
			docket.Transition{To: docket.StatusLastCall, Due: now.Add(day), Amend: true}, docket.EINVALID, "Amending moves a document to review"},
		{"amend needs a deadline", with(draft, func(s *docket.TransitionState) { s.From, s.Reviewers = docket.StatusAccepted, 1 }),
			docket.Transition{To: docket.StatusReview, Amend: true}, docket.EINVALID, "needs a deadline"},
		{"accepted to review without amending", with(draft, func(s *docket.TransitionState) { s.From = docket.StatusAccepted }),
			docket.Transition{To: docket.StatusReview, Due: now.Add(day)},
			docket.ECONFLICT, "An accepted document cannot move to review; amend it to open a new round."},
	})
}

func TestDecisionRulesValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		r    docket.DecisionRules
		want string // "" for valid
	}{
		{"defaults", docket.DefaultDecisionRules(), ""},
		{"zero", docket.DecisionRules{}, ""},
		{"most", docket.DecisionRules{MinLastCallSeconds: int64(docket.MaxMinLastCall / time.Second), MinApprovals: docket.MaxMinApprovals}, ""},
		{"negative last call", docket.DecisionRules{MinLastCallSeconds: -1}, "minimum last call"},
		{"huge last call", docket.DecisionRules{MinLastCallSeconds: int64(docket.MaxMinLastCall/time.Second) + 1}, "minimum last call"},
		{"overflowing last call", docket.DecisionRules{MinLastCallSeconds: 1 << 62}, "minimum last call"},
		{"negative approvals", docket.DecisionRules{MinApprovals: -1}, "approvals"},
		{"too many approvals", docket.DecisionRules{MinApprovals: docket.MaxMinApprovals + 1}, "approvals"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.r.Validate()
			if got := docket.ErrorMessage(err); (err == nil) != (tc.want == "") || !strings.Contains(got, tc.want) {
				t.Fatalf("Validate() = %v; want an error containing %q", err, tc.want)
			}
		})
	}
}

func TestFormatDuration(t *testing.T) {
	for _, tc := range []struct {
		d, ref time.Duration
		want   string // FormatDuration(d)
		ago    string // FormatElapsed(d, ref)
	}{
		{7 * 24 * time.Hour, 7 * 24 * time.Hour, "7 days", "7 days"},
		{24 * time.Hour, time.Hour, "1 day", "24 hours"},
		{36 * time.Hour, 7 * 24 * time.Hour, "36 hours", "1 day"},
		{90 * time.Second, time.Hour, "90 seconds", "1 minute"},
		{time.Minute, time.Minute, "1 minute", "1 minute"},
		{59 * time.Second, 7 * 24 * time.Hour, "59 seconds", "59 seconds"},
		{0, time.Hour, "0 seconds", "less than a second"},
	} {
		if got := docket.FormatDuration(tc.d); got != tc.want {
			t.Errorf("FormatDuration(%v) = %q; want %q", tc.d, got, tc.want)
		}
		if got := docket.FormatElapsed(tc.d, tc.ref); got != tc.ago {
			t.Errorf("FormatElapsed(%v, %v) = %q; want %q", tc.d, tc.ref, got, tc.ago)
		}
	}
}

func TestLifecycleOverdue(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		status docket.Status
		due    time.Time
		want   bool
	}{
		{docket.StatusReview, now.Add(-time.Second), true},
		{docket.StatusLastCall, now.Add(-time.Second), true},
		{docket.StatusReview, now, false},
		{docket.StatusReview, now.Add(time.Hour), false},
		{docket.StatusReview, time.Time{}, false},
		{docket.StatusAccepted, now.Add(-time.Hour), false},
		{docket.StatusDraft, now.Add(-time.Hour), false},
	} {
		l := &docket.Lifecycle{Status: tc.status, Due: tc.due}
		if got := l.Overdue(now); got != tc.want {
			t.Errorf("Lifecycle{%s, due %v}.Overdue(now) = %v; want %v", tc.status, tc.due, got, tc.want)
		}
	}
}
