package storetest

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	docket "github.com/docket-dev/docket"
)

// testThreadsAndAnchors: a thread is anchored to a range of the text, its
// anchor follows later edits, comments are kept in order, and a thread is
// resolved and reopened.
func testThreadsAndAnchors(t *testing.T, w *world) {
	ada, bob, _ := w.team(docket.RoleCommenter)
	cy, _ := w.user("cy")
	d := w.doc(ada, "eng", "Plan", "We use one queue.")

	th, err := w.s.Threads.CreateThread(bob, docket.ThreadCreate{DocID: d.ID, Anchor: &docket.Anchor{Version: 1, Start: 11, End: 16}, Body: "Why one?"})
	must(t, err)
	if th.Anchor == nil || th.Anchor.Quote != "queue" || th.Status != docket.ThreadOpen || len(th.Comments) != 1 {
		t.Fatalf("created thread = %+v", th)
	}
	for _, tc := range []struct {
		name string
		tc   docket.ThreadCreate
		code string
	}{
		{"anchor past the end", docket.ThreadCreate{DocID: d.ID, Anchor: &docket.Anchor{Version: 1, Start: 10, End: 99}, Body: "x"}, docket.EINVALID},
		{"anchor at a future version", docket.ThreadCreate{DocID: d.ID, Anchor: &docket.Anchor{Version: 9, Start: 0, End: 1}, Body: "x"}, docket.EINVALID},
		{"empty body", docket.ThreadCreate{DocID: d.ID}, docket.EINVALID},
	} {
		wantCode(t, tc.name, second(w.s.Threads.CreateThread(bob, tc.tc)), tc.code)
	}
	wantCode(t, "stranger creates", second(w.s.Threads.CreateThread(cy, docket.ThreadCreate{DocID: d.ID, Body: "x"})), docket.ENOTFOUND)
	wantCode(t, "stranger reads", second(w.s.Threads.FindThread(cy, th.ID)), docket.ENOTFOUND)

	// Text inserted before the anchor moves it; the quote stays.
	w.edit(ada, d.ID, "Today we use one queue.")
	moved, err := w.s.Threads.FindThread(bob, th.ID)
	must(t, err)
	if a := moved.Anchor; a.Version != 2 || a.Start != 17 || a.End != 22 || a.Quote != "queue" {
		t.Errorf("anchor after an insert before it = %+v; want 17-22 at version 2", a)
	}

	_, err = w.s.Threads.AddComment(ada, th.ID, "Simpler to run.")
	must(t, err)
	reply, err := w.s.Threads.AddComment(bob, th.ID, "Fine.")
	must(t, err)
	_, err = w.s.Threads.UpdateComment(ada, reply.ID, "Edited by someone else")
	wantCode(t, "edit another's comment", err, docket.EFORBIDDEN)
	resolved, err := w.s.Threads.ResolveThread(ada, th.ID, "One queue.")
	must(t, err)
	if resolved.Status != docket.ThreadResolved || resolved.Resolution != "One queue." || resolved.ResolvedBy != docket.UserIDFromContext(ada) {
		t.Errorf("resolved = %+v", resolved)
	}
	open, err := w.s.Threads.FindThreads(bob, d.ID, docket.ThreadFilter{Status: docket.ThreadOpen})
	if err != nil || len(open) != 0 {
		t.Errorf("open threads after resolving = %d, %v; want none", len(open), err)
	}
	_, err = w.s.Threads.ReopenThread(bob, th.ID)
	must(t, err)
	all, err := w.s.Threads.FindThreads(bob, d.ID, docket.ThreadFilter{})
	must(t, err)
	if len(all) != 1 || all[0].Status != docket.ThreadOpen {
		t.Fatalf("threads = %+v; want the one, open again", all)
	}
	var bodies []string
	for _, c := range all[0].Comments {
		bodies = append(bodies, c.Body)
	}
	if want := []string{"Why one?", "Simpler to run.", "Fine."}; !slices.Equal(bodies, want) {
		t.Errorf("comments = %q; want %q", bodies, want)
	}

	// Deleting every character the thread was anchored to outdates it.
	w.edit(ada, d.ID, "Today we use one.")
	gone, err := w.s.Threads.FindThread(bob, th.ID)
	if err != nil || gone.Status != docket.ThreadOutdated || gone.Anchor.Quote != "queue" {
		t.Errorf("thread of deleted text = %+v, %v; want outdated with its quote", gone, err)
	}
}

// testDecisionProcess runs an RFC through review, approval, last call and
// decision; the minutes frozen at the decision do not change afterwards.
func testDecisionProcess(t *testing.T, w *world) {
	t0 := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	now := t0
	w.db.Now = func() time.Time { return now }
	defer func() { w.db.Now = time.Now }()
	ada, _ := w.user("ada")
	olga, olgaUser := w.user("olga")
	bob, bobUser := w.user("bob")
	vic, vicUser := w.user("vic")
	w.space(ada, "eng")
	w.member(ada, "eng", olgaUser, docket.RoleEditor)
	w.member(ada, "eng", bobUser, docket.RoleCommenter)
	w.member(ada, "eng", vicUser, docket.RoleViewer)
	d, err := w.s.Docs.CreateDocument(olga, docket.DocumentCreate{Space: "eng", Title: "RFC 1: Queues", Body: "# Queues\n\nOne queue.\n", Kind: docket.KindRFC})
	must(t, err)

	transition := func(what string, tr docket.Transition) *docket.Lifecycle {
		t.Helper()
		lc, err := w.s.Decisions.Transition(olga, d.ID, tr)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		return lc
	}
	_, err = w.s.Decisions.Transition(vic, d.ID, docket.Transition{To: docket.StatusReview, Due: t0.Add(time.Hour)})
	wantCode(t, "a viewer starts the review", err, docket.EFORBIDDEN)
	lc := transition("review", docket.Transition{To: docket.StatusReview, Due: t0.Add(7 * 24 * time.Hour), Reviewers: []string{bobUser.ID}})
	if lc.Status != docket.StatusReview || len(lc.Reviewers) != 1 || lc.Reviewers[0].UserID != bobUser.ID {
		t.Fatalf("in review: %+v", lc)
	}
	_, err = w.s.Decisions.AddReview(vic, docket.ReviewCreate{DocID: d.ID, Verdict: docket.VerdictApprove})
	wantCode(t, "a viewer reviews", err, docket.EFORBIDDEN)
	now = now.Add(time.Hour)
	_, err = w.s.Decisions.AddReview(bob, docket.ReviewCreate{DocID: d.ID, Verdict: docket.VerdictApprove})
	must(t, err)
	reviews, err := w.s.Decisions.FindReviews(vic, d.ID)
	if err != nil || len(reviews) != 1 || reviews[0].Verdict != docket.VerdictApprove {
		t.Fatalf("FindReviews = %+v, %v; want bob's approval", reviews, err)
	}
	lastCall := now.Add(7 * 24 * time.Hour)
	lc = transition("last call", docket.Transition{To: docket.StatusLastCall, Due: lastCall})
	if lc.Status != docket.StatusLastCall || !lc.Due.Equal(lastCall) {
		t.Fatalf("in last call: %+v", lc)
	}
	now = lastCall.Add(time.Minute)
	_, err = w.s.Decisions.Transition(olga, d.ID, docket.Transition{To: docket.StatusAccepted})
	wantCode(t, "a decision without a summary", err, docket.EINVALID)
	lc = transition("accept", docket.Transition{To: docket.StatusAccepted, Summary: "Ship it."})
	if lc.Status != docket.StatusAccepted || lc.Decision == nil || lc.Decision.Summary != "Ship it." || lc.Decision.MinutesID == "" {
		t.Fatalf("accepted: %+v, decision %+v", lc, lc.Decision)
	}
	got, err := w.s.Decisions.FindLifecycle(vic, d.ID)
	if err != nil || got.Status != docket.StatusAccepted || got.Decision == nil || !got.Decision.At.Equal(now) {
		t.Errorf("FindLifecycle = %+v, %v; want accepted at %v", got, err, now)
	}

	frozen, err := w.s.Minutes.FindMinutesRecord(vic, d.ID, lc.Decision.MinutesID)
	must(t, err)
	if frozen.Outcome != docket.StatusAccepted || frozen.Version != d.Version || !strings.Contains(frozen.Markdown, "Ship it.") || !strings.Contains(frozen.Markdown, "RFC 1: Queues") {
		t.Fatalf("frozen minutes = %+v", frozen)
	}
	// Discussion after the decision changes the live minutes, not the
	// frozen ones.
	_, err = w.s.Threads.CreateThread(bob, docket.ThreadCreate{DocID: d.ID, Body: "A late thought about backlogs."})
	must(t, err)
	live, err := w.s.Minutes.MinutesMarkdown(vic, d.ID)
	must(t, err)
	if !strings.Contains(live, "backlogs") {
		t.Errorf("live minutes lack the late thread:\n%s", live)
	}
	again, err := w.s.Minutes.FindMinutesRecord(vic, d.ID, lc.Decision.MinutesID)
	if err != nil || again.Markdown != frozen.Markdown {
		t.Errorf("frozen minutes changed after the decision (%v):\n%s\nwant:\n%s", err, again.Markdown, frozen.Markdown)
	}
	records, err := w.s.Minutes.FindMinutesRecords(vic, d.ID)
	if err != nil || len(records) != 1 || records[0].ID != frozen.ID || records[0].Markdown != "" {
		t.Errorf("FindMinutesRecords = %+v, %v; want the one record, without markdown", records, err)
	}
}

// testEvents: every write is an event with the next sequence number;
// pages go back with Before and forward with After; an unreadable space's
// events are not listed.
func testEvents(t *testing.T, w *world) {
	ada, bob, _ := w.team(docket.RoleEditor)
	w.space(ada, "ops")
	for i := range 5 {
		space := []string{"eng", "ops"}[i%2]
		w.doc(ada, space, fmt.Sprintf("%s %d", space, i), "x")
	}
	all, err := w.s.Events.FindEvents(ada, docket.EventFilter{})
	must(t, err)
	if len(all) != 5 {
		t.Fatalf("FindEvents = %d events; want 5", len(all))
	}
	for i, ev := range all {
		if ev.Type != docket.EventDocCreated {
			t.Errorf("event %d type %s; want doc.created", i, ev.Type)
		}
		if i > 0 && ev.Seq >= all[i-1].Seq {
			t.Errorf("events not newest first: seq %d after %d", ev.Seq, all[i-1].Seq)
		}
	}
	seqs := func(evs []*docket.Event) []int64 {
		var out []int64
		for _, ev := range evs {
			out = append(out, ev.Seq)
		}
		return out
	}
	s := seqs(all) // newest first
	for _, tc := range []struct {
		name   string
		filter docket.EventFilter
		want   []int64
	}{
		{"newest two", docket.EventFilter{Limit: 2}, s[:2]},
		{"before the second", docket.EventFilter{Before: s[1], Limit: 2}, s[2:4]},
		{"after the oldest", docket.EventFilter{After: s[4], Limit: 2}, []int64{s[3], s[2]}},
		{"one space", docket.EventFilter{Space: "ops"}, []int64{s[1], s[3]}},
	} {
		got, err := w.s.Events.FindEvents(ada, tc.filter)
		if err != nil || !slices.Equal(seqs(got), tc.want) {
			t.Errorf("%s: %v, %v; want %v", tc.name, seqs(got), err, tc.want)
		}
	}
	got, err := w.s.Events.FindEvents(bob, docket.EventFilter{})
	if err != nil || !slices.Equal(seqs(got), []int64{s[0], s[2], s[4]}) {
		t.Errorf("bob's events = %v, %v; want eng's only %v", seqs(got), err, []int64{s[0], s[2], s[4]})
	}
	_, err = w.s.Events.FindEvents(bob, docket.EventFilter{Space: "ops"})
	wantCode(t, "events of an unreadable space", err, docket.ENOTFOUND)
	if all[0].ActorID != docket.UserIDFromContext(ada) {
		t.Errorf("newest event's actor = %q; want ada", all[0].ActorID)
	}
}

// testInbox: a mention reaches the person mentioned; items are marked
// read and done.
func testInbox(t *testing.T, w *world) {
	ada, bob, _ := w.team(docket.RoleCommenter)
	d := w.doc(ada, "eng", "Plan", "text")
	th, err := w.s.Threads.CreateThread(ada, docket.ThreadCreate{DocID: d.ID, Body: "@bob have a look"})
	must(t, err)
	_, err = w.s.Threads.CreateThread(ada, docket.ThreadCreate{DocID: d.ID, Body: "@bob and this"})
	must(t, err)

	items, total, unread, err := w.s.Inbox.FindInbox(bob, docket.InboxFilter{})
	must(t, err)
	if total != 2 || unread != 2 || len(items) != 2 {
		t.Fatalf("inbox = %d items (total %d, unread %d); want 2, 2 unread", len(items), total, unread)
	}
	first := items[len(items)-1]
	if first.Kind != docket.InboxMention || first.DocID != d.ID || first.ThreadID != th.ID {
		t.Errorf("oldest item = %+v; want the mention in thread %s", first, th.ID)
	}
	if _, n, _, _ := w.s.Inbox.FindInbox(ada, docket.InboxFilter{}); n != 0 {
		t.Errorf("ada's inbox has %d items; want none for her own comments", n)
	}
	must(t, w.s.Inbox.MarkRead(bob, []string{first.ID}))
	_, total, unread, err = w.s.Inbox.FindInbox(bob, docket.InboxFilter{})
	if err != nil || total != 2 || unread != 1 {
		t.Errorf("after MarkRead: total %d, unread %d, %v; want 2, 1", total, unread, err)
	}
	must(t, w.s.Inbox.MarkDone(bob, []string{first.ID}))
	left, total, _, err := w.s.Inbox.FindInbox(bob, docket.InboxFilter{})
	if err != nil || total != 1 || len(left) != 1 || left[0].ID == first.ID {
		t.Errorf("after MarkDone: %d items (total %d), %v; want the other one", len(left), total, err)
	}
	done, _, _, err := w.s.Inbox.FindInbox(bob, docket.InboxFilter{Done: true})
	if err != nil || len(done) != 1 || done[0].ID != first.ID {
		t.Errorf("done items = %+v, %v; want the first", done, err)
	}
}

// testSuggestions: a suggestion is accepted (applied) or rejected once.
func testSuggestions(t *testing.T, w *world) {
	ada, bob, _ := w.team(docket.RoleCommenter)
	d := w.doc(ada, "eng", "Plan", "We use one queue.")
	s1, err := w.s.Suggestions.CreateSuggestion(bob, docket.SuggestionCreate{DocID: d.ID, Anchor: &docket.Anchor{Version: 1, Start: 7, End: 10}, Replacement: "two"})
	must(t, err)
	s2, err := w.s.Suggestions.CreateSuggestion(bob, docket.SuggestionCreate{DocID: d.ID, Anchor: &docket.Anchor{Version: 1, Start: 11, End: 16}, Replacement: "pipe", Comment: "Shorter."})
	must(t, err)
	_, err = w.s.Suggestions.CreateSuggestion(bob, docket.SuggestionCreate{DocID: d.ID, Anchor: &docket.Anchor{Version: 1, Start: 7, End: 10}, Replacement: "one"})
	wantCode(t, "a replacement equal to the original", err, docket.EINVALID)
	_, err = w.s.Suggestions.PrepareAccept(bob, s1.ID)
	wantCode(t, "a commenter accepts", err, docket.EFORBIDDEN)

	w.edit(ada, d.ID, "Today we use one queue.")
	prepared, err := w.s.Suggestions.PrepareAccept(ada, s1.ID)
	must(t, err)
	if a := prepared.Anchor; a.Version != 2 || a.Start != 13 || a.End != 16 {
		t.Fatalf("prepared anchor = %+v; want 13-16 at version 2", a)
	}
	after := w.edit(ada, d.ID, "Today we use two queue.")
	applied, err := w.s.Suggestions.MarkApplied(ada, s1.ID, after.Version)
	must(t, err)
	if applied.Status != docket.ThreadResolved || applied.Suggestion == nil || applied.Suggestion.State != docket.SuggestionApplied {
		t.Errorf("applied = %+v, suggestion %+v", applied, applied.Suggestion)
	}
	_, err = w.s.Suggestions.MarkApplied(ada, s1.ID, after.Version)
	wantCode(t, "applied twice", err, docket.ECONFLICT)
	rejected, err := w.s.Suggestions.RejectSuggestion(ada, s2.ID, "Queue is the word.")
	must(t, err)
	if rejected.Suggestion == nil || rejected.Suggestion.State != docket.SuggestionRejected || rejected.Status != docket.ThreadResolved {
		t.Errorf("rejected = %+v, suggestion %+v", rejected, rejected.Suggestion)
	}
	_, err = w.s.Suggestions.RejectSuggestion(ada, s2.ID, "")
	wantCode(t, "rejected twice", err, docket.ECONFLICT)
}
