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
	for _, tc := range []struct {
		name     string
		st       docket.TransitionState
		tr       docket.Transition
		wantCode string // "" for allowed
		wantMsg  string
	}{
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
			docket.Transition{To: docket.StatusAccepted, Summary: "ok"}, docket.ECONFLICT, "2 unresolved concerns block the decision"},
		{"concern blocks accept with all approving", with(review, func(s *docket.TransitionState) { s.OpenConcerns = 1; s.Approved = 2 }),
			docket.Transition{To: docket.StatusAccepted, Summary: "ok"}, docket.ECONFLICT, "blocks the decision"},
		{"concern does not block decline", with(lastCall, func(s *docket.TransitionState) { s.OpenConcerns = 1; s.Due = now.Add(-hour) }),
			docket.Transition{To: docket.StatusDeclined, Summary: "no"}, "", ""},
		{"concern does not block postpone", with(review, func(s *docket.TransitionState) { s.OpenConcerns = 1 }),
			docket.Transition{To: docket.StatusPostponed, Summary: "later"}, "", ""},
		{"concern does not block withdraw", with(review, func(s *docket.TransitionState) { s.OpenConcerns = 1 }),
			docket.Transition{To: docket.StatusWithdrawn}, "", ""},

		// A decision needs the last call ended or every reviewer approving.
		{"accept in review without all approving", review, docket.Transition{To: docket.StatusAccepted, Summary: "ok"},
			docket.ECONFLICT, "needs the last call to have ended or every reviewer to approve"},
		{"decline in review without all approving", review, docket.Transition{To: docket.StatusDeclined, Summary: "no"},
			docket.ECONFLICT, "needs the last call to have ended"},
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
	} {
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
