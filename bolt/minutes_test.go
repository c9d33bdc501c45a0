package bolt_test

import (
	"context"
	"strings"
	"testing"
	"time"

	docket "github.com/docket-dev/docket"
	"github.com/docket-dev/docket/bolt"
	"github.com/docket-dev/docket/internal/testenv"
	"github.com/docket-dev/docket/markdown"
)

// TestMinutesFrozenWithLiveSession records a decision while a live
// session is still running, with Vic only reading along and Olga's edit
// not yet in the stored counts, and checks the frozen minutes tell it as
// it stood at the decision: in progress, not "now" or "live"; only
// editors as participants; the outdated and open threads called out; the
// reviews with their bodies, Bob's approval stale at the decision and
// Carol's not (the text changed in white space only after it); the
// overdue action item.
func TestMinutesFrozenWithLiveSession(t *testing.T) {
	w := newDecisionWorld(t)
	// Approvals keep counting after a change here; the minutes still say
	// which ones the text outgrew.
	if _, err := bolt.NewSpaceService(w.db).SetDecisionRules(w.ada, "eng", docket.DecisionRules{MinApprovals: 1}); err != nil {
		t.Fatal(err)
	}
	minutes := bolt.NewMinutesService(w.db, bolt.NewActionService(w.db, markdown.ActionItems), markdown.Minutes)
	dec := bolt.NewDecisionService(w.db, escaper{}, minutes)
	threads := bolt.NewThreadService(w.db, escaper{}, nil)
	edit := func(body string) {
		t.Helper()
		d, err := w.docs.FindDocumentMeta(w.olga, w.docID)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.docs.EditDocument(w.olga, w.docID, docket.Edit{Version: d.Version, Body: &body}); err != nil {
			t.Fatal(err)
		}
	}
	body := "# Queues\n\nWe use one queue per space.\n\nRetries back off.\n\n- [ ] @Bob size the queue due:2026-12-02\n"
	edit(body)
	thread := func(quote, comment string) {
		t.Helper()
		d, err := w.docs.FindDocumentByID(w.olga, w.docID)
		if err != nil {
			t.Fatal(err)
		}
		start := len([]rune(body[:strings.Index(body, quote)]))
		a := &docket.Anchor{Version: d.Version, Start: start, End: start + len([]rune(quote))}
		if _, err := threads.CreateThread(w.carol, docket.ThreadCreate{DocID: w.docID, Anchor: a, Body: comment}); err != nil {
			t.Fatal(err)
		}
	}
	thread("one queue per space", "Why not one per document?")
	thread("Retries back off.", "With jitter?")

	mustTransition(t, w, w.olga, docket.Transition{To: docket.StatusReview, Due: w.clock.Now().Add(72 * time.Hour), Reviewers: []string{w.bobID, w.carolID}})
	w.clock.Add(time.Hour)
	if _, err := dec.AddReview(w.bob, docket.ReviewCreate{DocID: w.docID, Verdict: docket.VerdictApprove, Body: "Ship it."}); err != nil {
		t.Fatal(err)
	}
	// The retry passage goes; its thread is outdated. Bob's approval was
	// given before this change.
	body = "# Queues\n\nWe use one queue per space.\n\n- [ ] @Bob size the queue due:2026-12-02\n"
	edit(body)
	if _, err := dec.AddReview(w.carol, docket.ReviewCreate{DocID: w.docID, Verdict: docket.VerdictApprove, Body: "Fine by me;\nthe retry part was the only doubt."}); err != nil {
		t.Fatal(err)
	}

	// A live session runs at the decision: Olga editing, Vic reading.
	w.clock.Add(2 * 24 * time.Hour)
	started := w.clock.Now().Add(-10 * time.Minute)
	d, err := w.docs.FindDocumentMeta(w.olga, w.docID)
	if err != nil {
		t.Fatal(err)
	}
	rec := &docket.Recording{DocID: w.docID, StartedAt: started, StartVersion: d.Version, EndVersion: d.Version, Participants: []docket.RecordingParticipant{
		{UserID: w.olgaID, JoinedAt: started, Joins: 1},
		{UserID: w.vicID, JoinedAt: started, Joins: 1},
	}}
	if err := bolt.NewRecordingService(w.db).SaveRecording(w.ada, rec); err != nil {
		t.Fatal(err)
	}
	edit(body + "\n") // version 4, in the session, before its counts are saved
	lc, err := dec.Transition(w.olga, w.docID, docket.Transition{To: docket.StatusAccepted, Summary: "One queue per space."})
	if err != nil {
		t.Fatal(err)
	}
	r, err := minutes.FindMinutesRecord(w.vic, w.docID, lc.Decision.MinutesID)
	if err != nil {
		t.Fatal(err)
	}
	md := r.Markdown

	at := started.Format(docket.MinutesTimeLayout)
	testenv.FrozenMinutes(t, md, []string{
		"**Accepted with 1 open thread and 1 outdated thread** by Olga",
		"- **Frozen:** " + w.clock.Now().Format(docket.MinutesTimeLayout) + ", with the decision\n",
		"- In progress at the decision (started " + at + ", 1 editor so far), versions 3 to 4: Olga (1 edit); read along: 1 person\n",
		"## Participants\n\nOlga, Bob, Carol\n",
		"**Bob**: approve at version 2, ",
		" (stale at the decision: the text changed after it):\n\n> Ship it.\n",
		"**Carol**: approve at version 3, " + w.clock.Now().Add(-48*time.Hour).Format(docket.MinutesTimeLayout) + ":\n\n> Fine by me;\n> the retry part was the only doubt.\n",
		"## Outdated threads\n\n### 1. On a passage\n\n> Retries back off.\n",
		"Outdated at the decision: the passage it was on was removed",
		"## Open threads\n\n### 1. On a passage\n\n> one queue per space\n",
		"Still open at the decision.",
		"- [ ] size the queue (owner Bob, due 2 Dec 2026, **overdue**)\n",
	}, []string{"Vic", "(0 edits)", "T09:00:00Z"})
}

// TestMinutesOfAmendedRound decides an RFC, amends it and decides it
// again: the second frozen minutes tell the round, give each reviewer's
// verdict in it (Bob gave none) and mark the reviews of the first round.
func TestMinutesOfAmendedRound(t *testing.T) {
	w := newDecisionWorld(t)
	minutes := bolt.NewMinutesService(w.db, nil, markdown.Minutes)
	dec := bolt.NewDecisionService(w.db, escaper{}, minutes)
	move := func(ctx context.Context, tr docket.Transition) *docket.Lifecycle {
		t.Helper()
		lc, err := dec.Transition(ctx, w.docID, tr)
		if err != nil {
			t.Fatalf("Transition(%s): %v", tr.To, err)
		}
		return lc
	}
	approve := func(ctx context.Context) {
		t.Helper()
		w.clock.Add(time.Minute)
		if _, err := dec.AddReview(ctx, docket.ReviewCreate{DocID: w.docID, Verdict: docket.VerdictApprove}); err != nil {
			t.Fatal(err)
		}
	}
	move(w.olga, docket.Transition{To: docket.StatusReview, Due: w.clock.Now().Add(time.Hour), Reviewers: []string{w.bobID, w.carolID}})
	approve(w.bob)
	approve(w.carol)
	w.clock.Add(time.Minute)
	move(w.olga, docket.Transition{To: docket.StatusAccepted, Summary: "Queues it is."})

	body := "# Queues\n\nWith a dead letter queue.\n"
	if _, err := w.docs.EditDocument(w.olga, w.docID, docket.Edit{Version: 1, Body: &body}); err != nil {
		t.Fatal(err)
	}
	w.clock.Add(time.Minute)
	move(w.olga, docket.Transition{To: docket.StatusReview, Amend: true, Due: w.clock.Now().Add(time.Hour)})
	approve(w.carol)
	move(w.olga, docket.Transition{To: docket.StatusLastCall, Due: w.clock.Now().Add(time.Hour)})
	w.clock.Add(2 * time.Hour)
	lc := move(w.olga, docket.Transition{To: docket.StatusAccepted, Summary: "With the dead letter queue."})

	r, err := minutes.FindMinutesRecord(w.olga, w.docID, lc.Decision.MinutesID)
	if err != nil {
		t.Fatal(err)
	}
	testenv.FrozenMinutes(t, r.Markdown, []string{
		"- **Round of review:** 2, after the document was amended\n",
		": accepted → review (amended) by Olga, due ",
		"## Reviewers\n\n- **Bob**: no verdict in round 2\n- **Carol**: approve at version 2 in round 2, ",
		"## Reviews\n\n**Bob**: approve at version 1 in round 1, ",
		" (stale at the decision: the text changed after it).\n\n**Carol**: approve at version 1 in round 1, ",
	}, []string{"**Bob**: approve at version 1, "})
}
