package bolt_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	docket "github.com/docket-dev/docket"
	"github.com/docket-dev/docket/bolt"
)

// pass runs one reminder pass and checks how many reminders it sent.
func pass(t *testing.T, r *bolt.Reminders, want int) {
	t.Helper()
	n, err := r.Pass(context.Background())
	if err != nil || n != want {
		t.Fatalf("Pass = %d, %v; want %d", n, err, want)
	}
}

// kinds lists "kind: text" of a user's stored inbox items, oldest first.
func kinds(db *bolt.DB, userID string) []string {
	var out []string
	for _, it := range bolt.InboxOf(db, userID) {
		out = append(out, string(it.Kind)+": "+it.Text)
	}
	return out
}

// reminderEvents returns "type waiting=n" of a document's reminder
// events.
func reminderEvents(db *bolt.DB, docID string) []string {
	var out []string
	for _, ev := range bolt.DocEvents(db, docID) {
		switch ev.Type {
		case docket.EventDocDueSoon, docket.EventDocOverdue, docket.EventActionOverdue:
			var data struct {
				Waiting     []string `json:"waiting"`
				DecisionDue bool     `json:"decisionDue"`
			}
			json.Unmarshal(ev.Data, &data)
			s := string(ev.Type) + " " + strings.Join(data.Waiting, ",")
			if data.DecisionDue {
				s += " decision due"
			}
			if ev.ActorID != "" {
				s += " actor " + ev.ActorID
			}
			out = append(out, s)
		}
	}
	return out
}

func wantList(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s:\n got %q\nwant %q", what, got, want)
	}
}

// TestRemindersReview: a day before its end a review reminds the
// reviewer who has not answered and the owner, not the one who has; at
// its end both again, once; the computed overdue item gives way to the
// stored reminder.
func TestRemindersReview(t *testing.T) {
	w := newDecisionWorld(t)
	due := w.clock.Now().Add(72 * time.Hour) // 2026-12-04 09:00
	mustTransition(t, w, w.olga, docket.Transition{To: docket.StatusReview, Due: due, Reviewers: []string{w.bobID, w.carolID}})
	r := bolt.NewReminders(w.db, bolt.RemindersOptions{})
	pass(t, r, 0)
	if _, err := w.dec.AddReview(w.bob, docket.ReviewCreate{DocID: w.docID, Verdict: docket.VerdictApprove}); err != nil {
		t.Fatal(err)
	}
	w.clock.Add(47 * time.Hour)
	pass(t, r, 0) // 25 hours before
	w.clock.Add(time.Hour + time.Minute)
	pass(t, r, 1)
	pass(t, r, 0)
	w.clock.Add(24 * time.Hour)
	pass(t, r, 1)
	pass(t, r, 0)

	wantList(t, "carol's inbox", kinds(w.db, w.carolID), []string{
		"review_request: ",
		"due_soon: Your review is due within a day, by 2026-12-04 09:00 UTC.",
		"overdue: Your review was due 2026-12-04 09:00 UTC.",
	})
	wantList(t, "olga's inbox", kinds(w.db, w.olgaID), []string{
		"due_soon: The review ends within a day, at 2026-12-04 09:00 UTC. 1 of 2 reviewers have not answered.",
		"overdue: The review ended 2026-12-04 09:00 UTC; move the document on. 1 of 2 reviewers have not answered.",
	})
	wantList(t, "bob's inbox", kinds(w.db, w.bobID), []string{"review_request: "})
	wantList(t, "events", reminderEvents(w.db, w.docID), []string{"doc.due_soon " + w.carolID, "doc.overdue " + w.carolID})

	// The inbox shows the deadline once: the stored reminder stands for
	// the item computed on read.
	items, _, _, err := bolt.NewInboxService(w.db).FindInbox(w.carol, docket.InboxFilter{})
	if err != nil {
		t.Fatal(err)
	}
	overdue := 0
	for _, it := range items {
		if it.Kind == docket.InboxOverdue {
			overdue++
			if it.ID == "" {
				t.Errorf("the computed item is shown: %+v", it)
			}
		}
	}
	if overdue != 1 {
		t.Errorf("carol's inbox has %d overdue items; want 1: %+v", overdue, items)
	}
}

// TestRemindersLastCall: a last call that ended while the server was
// down tells the owner a decision is due and the reviewer without a
// verdict that it ended, without the "a day before" reminder it missed.
func TestRemindersLastCall(t *testing.T) {
	w := newDecisionWorld(t)
	mustTransition(t, w, w.olga, docket.Transition{To: docket.StatusReview, Due: w.clock.Now().Add(72 * time.Hour), Reviewers: []string{w.bobID, w.carolID}})
	if _, err := w.dec.AddReview(w.bob, docket.ReviewCreate{DocID: w.docID, Verdict: docket.VerdictApprove}); err != nil {
		t.Fatal(err)
	}
	end := w.clock.Now().Add(48 * time.Hour)
	mustTransition(t, w, w.olga, docket.Transition{To: docket.StatusLastCall, Due: end})
	r := bolt.NewReminders(w.db, bolt.RemindersOptions{})
	pass(t, r, 0)
	w.clock.Add(50 * time.Hour)
	pass(t, r, 1)
	pass(t, r, 0)
	wantList(t, "olga's inbox", kinds(w.db, w.olgaID), []string{"overdue: The last call ended 2026-12-03 09:00 UTC; a decision is due."})
	wantList(t, "carol's inbox", kinds(w.db, w.carolID), []string{
		"review_request: ", "overdue: The last call ended 2026-12-03 09:00 UTC without your verdict.",
	})
	wantList(t, "events", reminderEvents(w.db, w.docID), []string{"doc.overdue " + w.carolID + " decision due"})
	if keys := bolt.SentReminders(w.db, w.docID); len(keys) != 1 || !strings.HasSuffix(keys[0], "/due") {
		t.Errorf("recorded %q; want the due reminder only", keys)
	}
}

// TestRemindersRestart closes and reopens the data file with a new
// scheduler between passes: nothing is sent twice, and what came due
// while it was closed is sent at the next pass. A moved deadline makes
// new reminders.
func TestRemindersRestart(t *testing.T) {
	w := newDecisionWorld(t)
	due := w.clock.Now().Add(72 * time.Hour)
	mustTransition(t, w, w.olga, docket.Transition{To: docket.StatusReview, Due: due, Reviewers: []string{w.bobID}})
	restart := func() *bolt.Reminders {
		t.Helper()
		if err := w.db.Close(); err != nil {
			t.Fatal(err)
		}
		if err := w.db.Open(); err != nil {
			t.Fatal(err)
		}
		return bolt.NewReminders(w.db, bolt.RemindersOptions{})
	}
	w.clock.Add(49 * time.Hour)
	pass(t, restart(), 1)
	pass(t, restart(), 0)
	w.clock.Add(30 * time.Hour) // down past the deadline
	r := restart()
	pass(t, r, 1)
	pass(t, restart(), 0)
	wantList(t, "bob's inbox", kinds(w.db, w.bobID), []string{
		"review_request: ",
		"due_soon: Your review is due within a day, by 2026-12-04 09:00 UTC.",
		"overdue: Your review was due 2026-12-04 09:00 UTC.",
	})

	// Back to draft and into review again with a later deadline.
	mustTransition(t, w, w.olga, docket.Transition{To: docket.StatusDraft})
	mustTransition(t, w, w.olga, docket.Transition{To: docket.StatusReview, Due: w.clock.Now().Add(48 * time.Hour), Reviewers: []string{w.bobID}})
	pass(t, r, 0)
	w.clock.Add(25 * time.Hour)
	pass(t, r, 1)
	if got := kinds(w.db, w.bobID); len(got) != 5 || !strings.HasPrefix(got[4], "due_soon: Your review is due within a day, by 2026-12-06 16:00 UTC") {
		t.Errorf("bob's inbox after the new deadline: %q", got)
	}
}

// TestRemindersSkipShortDeadline: a deadline set less than a day ahead
// gets no "a day before" reminder, only the one at its end.
func TestRemindersSkipShortDeadline(t *testing.T) {
	w := newDecisionWorld(t)
	mustTransition(t, w, w.olga, docket.Transition{To: docket.StatusReview, Due: w.clock.Now().Add(3 * time.Hour), Reviewers: []string{w.bobID}})
	r := bolt.NewReminders(w.db, bolt.RemindersOptions{})
	w.clock.Add(time.Hour)
	pass(t, r, 0)
	w.clock.Add(2 * time.Hour)
	pass(t, r, 1)
}

// TestRemindersActionOverdue: an overdue action item reminds its owner
// once a day; the inbox shows the latest reminder only, next to the
// action item itself.
func TestRemindersActionOverdue(t *testing.T) {
	w := newActionWorld(t, fakeParse)
	bob := w.addUser(t, "bob", "bob@example.com", docket.RoleEditor)
	now := time.Date(2026, 6, 9, 12, 0, 0, 0, time.UTC)
	w.db.Now = func() time.Time { return now }
	d := w.create(t, "- [ ] @bob write the plan due:2026-06-09\n- [x] @bob done due:2026-06-01\n- [ ] nobody's due:2026-06-01\n")
	if err := w.actions.Refresh(context.Background(), d.ID); err != nil {
		t.Fatal(err)
	}
	r := bolt.NewReminders(w.db, bolt.RemindersOptions{})
	pass(t, r, 0) // due today: not overdue yet
	now = time.Date(2026, 6, 10, 9, 0, 0, 0, time.UTC)
	pass(t, r, 1)
	now = now.Add(9 * time.Hour)
	pass(t, r, 0) // the same day
	now = time.Date(2026, 6, 11, 8, 0, 0, 0, time.UTC)
	pass(t, r, 1)
	wantList(t, "bob's stored items", kinds(w.db, bob.ID), []string{"overdue: write the plan", "overdue: write the plan"})
	wantList(t, "events", reminderEvents(w.db, d.ID), []string{"action.overdue ", "action.overdue "})
	var data struct {
		DaysOverdue int    `json:"daysOverdue"`
		UserID      string `json:"userId"`
	}
	evs := bolt.DocEvents(w.db, d.ID)
	json.Unmarshal(evs[len(evs)-1].Data, &data)
	if data.DaysOverdue != 2 || data.UserID != bob.ID {
		t.Errorf("event data %s", evs[len(evs)-1].Data)
	}

	items, _, unread, err := bolt.NewInboxService(w.db).FindInbox(w.as("bob"), docket.InboxFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, it := range items {
		got = append(got, string(it.Kind)+": "+it.Text)
	}
	wantList(t, "bob's inbox", got, []string{"overdue: write the plan", "action: write the plan"})
	if unread != 2 {
		t.Errorf("unread = %d; want 2", unread)
	}
}

// TestRemindersWebhooks: reminder events reach the webhooks of the space
// that want them.
func TestRemindersWebhooks(t *testing.T) {
	w := newDecisionWorld(t)
	hooks := bolt.NewWebhookService(w.db, func(raw string, _ bool) (string, error) { return raw, nil })
	h, _, err := hooks.CreateWebhook(w.ada, docket.WebhookCreate{Space: "eng", URL: "https://hooks.example.com/x",
		Events: []docket.EventType{docket.EventDocDueSoon, docket.EventDocOverdue}})
	if err != nil {
		t.Fatal(err)
	}
	mustTransition(t, w, w.olga, docket.Transition{To: docket.StatusReview, Due: w.clock.Now().Add(72 * time.Hour), Reviewers: []string{w.bobID}})
	r := bolt.NewReminders(w.db, bolt.RemindersOptions{})
	w.clock.Add(50 * time.Hour)
	pass(t, r, 1)
	w.clock.Add(50 * time.Hour)
	pass(t, r, 1)
	tasks, err := hooks.DueDeliveries(context.Background(), w.clock.Now(), 10, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, tk := range tasks {
		if tk.Hook.ID == h.ID {
			got = append(got, string(tk.Event.Type))
		}
	}
	wantList(t, "deliveries", got, []string{"doc.due_soon", "doc.overdue"})
}

// TestRemindersRun runs the scheduler as serve does and moves the clock.
func TestRemindersRun(t *testing.T) {
	w := newDecisionWorld(t)
	mustTransition(t, w, w.olga, docket.Transition{To: docket.StatusReview, Due: w.clock.Now().Add(72 * time.Hour), Reviewers: []string{w.bobID}})
	r := bolt.NewReminders(w.db, bolt.RemindersOptions{Every: 10 * time.Millisecond, Batch: 1})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); r.Run(ctx) }()
	defer func() { cancel(); <-done }()
	w.clock.Add(80 * time.Hour)
	waitFor(t, "the overdue reminders", func() bool { return len(bolt.InboxOf(w.db, w.olgaID)) == 1 && len(bolt.InboxOf(w.db, w.bobID)) == 2 })
}
