package storetest

import (
	"cmp"
	"context"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	docket "github.com/docket-dev/docket"
	gocmp "github.com/google/go-cmp/cmp"
)

// sortTasks orders tasks by event, then URL: the deliveries of one event
// come in the order of their hooks' random ids.
func sortTasks(tasks []*docket.WebhookTask) {
	slices.SortStableFunc(tasks, func(a, b *docket.WebhookTask) int {
		return cmp.Or(cmp.Compare(a.Delivery.EventSeq, b.Delivery.EventSeq), strings.Compare(a.Hook.URL, b.Hook.URL))
	})
}

// testDeliveryQueue: events queue deliveries to the hooks that want them;
// a claimed delivery is leased, retried after its lease, finished once,
// and goes with its webhook.
func testDeliveryQueue(t *testing.T, w *world) {
	t0 := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	w.db.Now = func() time.Time { return t0 }
	var woken atomic.Int32
	w.db.OnDeliveryQueued(func() { woken.Add(1) })
	hooks := w.s.Webhooks
	ada, _ := w.user("ada")
	w.space(ada, "eng")
	w.space(ada, "ops")
	all, secretAll, _ := hooks.CreateWebhook(ada, docket.WebhookCreate{Space: "eng", URL: "https://a.example.com"})
	created, _, _ := hooks.CreateWebhook(ada, docket.WebhookCreate{Space: "eng", URL: "https://b.example.com", Events: []docket.EventType{docket.EventDocCreated}})
	other, _, _ := hooks.CreateWebhook(ada, docket.WebhookCreate{Space: "ops", URL: "https://c.example.com"})

	if _, ok, _ := hooks.NextDue(ada); ok {
		t.Fatal("queue not empty before any event")
	}
	d := w.doc(ada, "eng", "Plan", "hello Plan")
	text := "v2"
	if _, err := w.s.Docs.EditDocument(ada, d.ID, docket.Edit{Version: 1, Body: &text}); err != nil {
		t.Fatal(err)
	}
	if got := woken.Load(); got != 2 {
		t.Errorf("woken %d times; want 2", got)
	}
	if at, ok, err := hooks.NextDue(ada); err != nil || !ok || !at.Equal(t0) {
		t.Fatalf("NextDue = %v, %v, %v; want %v", at, ok, err, t0)
	}
	// Nothing is due before its time.
	if tasks, err := hooks.DueDeliveries(ada, t0.Add(-time.Second), 10, time.Minute); err != nil || len(tasks) != 0 {
		t.Fatalf("early DueDeliveries = %d tasks, %v", len(tasks), err)
	}
	tasks, err := hooks.DueDeliveries(ada, t0, 10, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	type task struct {
		Hook, Event, Actor, Secret string
		Attempt                    int
	}
	sortTasks(tasks)
	got := []task{}
	for _, tk := range tasks {
		s := ""
		if tk.Hook.ID == all.ID {
			s = tk.Secret
		}
		got = append(got, task{tk.Hook.URL, string(tk.Event.Type), tk.ActorName, s, tk.Delivery.Attempt})
	}
	want := []task{
		{"https://a.example.com", "doc.created", "ada", secretAll, 1},
		{"https://b.example.com", "doc.created", "ada", "", 1},
		{"https://a.example.com", "doc.edited", "ada", secretAll, 1},
	}
	if diff := gocmp.Diff(want, got); diff != "" {
		t.Fatalf("tasks (-want +got):\n%s", diff)
	}
	// Claimed deliveries are leased: not offered again until the lease ends.
	if again, _ := hooks.DueDeliveries(ada, t0.Add(30*time.Second), 10, time.Minute); len(again) != 0 {
		t.Fatalf("leased deliveries offered again: %d", len(again))
	}
	if at, _, _ := hooks.NextDue(ada); !at.Equal(t0.Add(time.Minute)) {
		t.Errorf("NextDue while leased = %v; want %v", at, t0.Add(time.Minute))
	}
	// The lease ran out (the dispatcher died): offered again, next attempt.
	again, err := hooks.DueDeliveries(ada, t0.Add(time.Minute), 10, time.Minute)
	if err != nil || len(again) != 3 || again[0].Delivery.Attempt != 2 {
		t.Fatalf("after the lease: %d tasks, %v", len(again), err)
	}
	sortTasks(again)

	stale := *tasks[0].Delivery
	stale.Status = docket.DeliveryOK
	wantCode(t, "stale attempt", hooks.FinishDelivery(ada, &stale), docket.ECONFLICT)
	wantCode(t, "bad status", hooks.FinishDelivery(ada, &docket.WebhookDelivery{ID: 1, Status: "meh"}), docket.EINVALID)

	ok := *again[0].Delivery
	ok.Status, ok.StatusCode, ok.DeliveredAt, ok.DurationMs = docket.DeliveryOK, 200, t0.Add(time.Minute), 12
	if err := hooks.FinishDelivery(ada, &ok); err != nil {
		t.Fatal(err)
	}
	wantCode(t, "finished twice", hooks.FinishDelivery(ada, &ok), docket.ECONFLICT)
	retry := *again[2].Delivery
	retry.Status, retry.StatusCode, retry.Error, retry.NextAt = docket.DeliveryPending, 500, "the receiver answered 500", t0.Add(time.Hour)
	if err := hooks.FinishDelivery(ada, &retry); err != nil {
		t.Fatal(err)
	}

	log, err := hooks.FindDeliveries(ada, all.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		Event      int64
		Status     docket.DeliveryStatus
		Code       int
		Attempt    int
		NextAt     time.Time
		DurationMs int64
	}
	gotLog := []row{}
	for _, d := range log {
		gotLog = append(gotLog, row{d.EventSeq, d.Status, d.StatusCode, d.Attempt, d.NextAt, d.DurationMs})
	}
	wantLog := []row{
		{2, docket.DeliveryPending, 500, 2, t0.Add(time.Hour), 0},
		{1, docket.DeliveryOK, 200, 2, time.Time{}, 12},
	}
	if diff := gocmp.Diff(wantLog, gotLog); diff != "" {
		t.Errorf("delivery log (-want +got):\n%s", diff)
	}

	// Deleting a webhook takes its deliveries out of the queue.
	if err := hooks.DeleteWebhook(ada, all.ID); err != nil {
		t.Fatal(err)
	}
	wantCode(t, "finish after delete", hooks.FinishDelivery(ada, &retry), docket.ENOTFOUND)
	left, err := hooks.DueDeliveries(ada, t0.Add(24*time.Hour), 10, time.Minute)
	if err != nil || len(left) != 1 || left[0].Hook.ID != created.ID {
		t.Fatalf("after delete: %d tasks, %v; want the created hook's only", len(left), err)
	}
	if log, _ := hooks.FindDeliveries(ada, other.ID, 0); len(log) != 0 {
		t.Errorf("other space's hook got %d deliveries", len(log))
	}
	wantCode(t, "log of the deleted webhook", second(hooks.FindDeliveries(ada, all.ID, 0)), docket.ENOTFOUND)
}

// claimAll has n claimers take every due item from claim at once, each
// claiming a few at a time until nothing is left, and returns how many
// times each item was claimed.
func claimAll(t *testing.T, n int, claim func() ([]int64, error)) map[int64]int {
	t.Helper()
	var mu sync.Mutex
	claimed := map[int64]int{}
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				ids, err := claim()
				if err != nil {
					t.Error(err)
					return
				}
				if len(ids) == 0 {
					return
				}
				mu.Lock()
				for _, id := range ids {
					claimed[id]++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return claimed
}

// testDeliveryClaimedOnce: two dispatchers claiming the same queue under a
// lease each get different deliveries, and every delivery is claimed once.
func testDeliveryClaimedOnce(t *testing.T, w *world) {
	ada, _ := w.user("ada")
	w.space(ada, "eng")
	for _, url := range []string{"https://a.example.com", "https://b.example.com"} {
		_, _, err := w.s.Webhooks.CreateWebhook(ada, docket.WebhookCreate{Space: "eng", URL: url})
		must(t, err)
	}
	const docs = 10
	for i := range docs {
		w.doc(ada, "eng", "Doc "+string(rune('A'+i)), "x")
	}
	now := time.Now().Add(time.Second)
	claimed := claimAll(t, 2, func() ([]int64, error) {
		tasks, err := w.s.Webhooks.DueDeliveries(context.Background(), now, 3, time.Hour)
		var ids []int64
		for _, tk := range tasks {
			ids = append(ids, tk.Delivery.ID)
		}
		return ids, err
	})
	if len(claimed) != 2*docs {
		t.Errorf("%d deliveries claimed; want %d", len(claimed), 2*docs)
	}
	for id, n := range claimed {
		if n != 1 {
			t.Errorf("delivery %d claimed %d times", id, n)
		}
	}
}

// testMailQueue: a mention queues a mail when mail is on; it is claimed
// under a lease by one claimer, retried after the lease, finished once.
func testMailQueue(t *testing.T, w *world) {
	ctx := context.Background()
	ada, _ := w.user("ada")
	_, bobUser := w.user("bob")
	_, cyUser := w.user("cy")
	w.space(ada, "eng")
	w.member(ada, "eng", bobUser, docket.RoleCommenter)
	w.member(ada, "eng", cyUser, docket.RoleCommenter)
	d := w.doc(ada, "eng", "Plan", "text")
	_, err := w.s.Threads.CreateThread(ada, docket.ThreadCreate{DocID: d.ID, Body: "@bob before mail is on"})
	must(t, err)
	if _, ok, err := w.s.Mail.NextMailDue(ctx); err != nil || ok {
		t.Fatalf("NextMailDue with mail off = %v, %v; want nothing queued", ok, err)
	}
	must(t, w.db.SetMail(ctx, true))
	for _, body := range []string{"@bob look", "@cy look", "@bob again", "@cy again"} {
		_, err := w.s.Threads.CreateThread(ada, docket.ThreadCreate{DocID: d.ID, Body: body})
		must(t, err)
	}
	if _, ok, err := w.s.Mail.NextMailDue(ctx); err != nil || !ok {
		t.Fatalf("NextMailDue = %v, %v; want a mail queued", ok, err)
	}
	now := time.Now().Add(time.Second)
	var mu sync.Mutex
	tasks := map[int64]*docket.MailTask{}
	claimed := claimAll(t, 2, func() ([]int64, error) {
		got, err := w.s.Mail.DueMails(ctx, now, 1, time.Minute)
		var ids []int64
		mu.Lock()
		for _, tk := range got {
			ids = append(ids, tk.Mail.ID)
			tasks[tk.Mail.ID] = tk
		}
		mu.Unlock()
		return ids, err
	})
	to := map[string]int{}
	for id, n := range claimed {
		if n != 1 {
			t.Errorf("mail %d claimed %d times", id, n)
		}
		tk := tasks[id]
		to[tk.Mail.To]++
		if tk.Mail.Attempt != 1 || tk.User == nil || tk.User.Email != tk.Mail.To || len(tk.Items) != 1 || tk.Items[0].Kind != docket.InboxMention {
			t.Errorf("mail task = %+v (user %+v, %d items)", tk.Mail, tk.User, len(tk.Items))
		}
	}
	if want := map[string]int{"bob@example.com": 2, "cy@example.com": 2}; !maps.Equal(to, want) {
		t.Errorf("mails to %v; want %v", to, want)
	}
	// The lease runs out: offered again, as the next attempt; the stale
	// attempt can no longer be recorded.
	var first *docket.MailTask
	for _, tk := range tasks {
		first = tk
		break
	}
	again, err := w.s.Mail.DueMails(ctx, now.Add(time.Minute), 10, time.Minute)
	if err != nil || len(again) != 4 || again[0].Mail.Attempt != 2 {
		t.Fatalf("after the lease: %d mails, %v; want 4 at attempt 2", len(again), err)
	}
	stale := *first.Mail
	stale.Status, stale.SentAt = docket.MailSent, now
	wantCode(t, "a stale attempt", w.s.Mail.FinishMail(ctx, &stale), docket.ECONFLICT)
	for _, tk := range again {
		m := *tk.Mail
		m.Status, m.SentAt = docket.MailSent, now.Add(time.Minute)
		must(t, w.s.Mail.FinishMail(ctx, &m))
		wantCode(t, "finished twice", w.s.Mail.FinishMail(ctx, &m), docket.ECONFLICT)
	}
	if left, err := w.s.Mail.DueMails(ctx, now.Add(24*time.Hour), 10, time.Minute); err != nil || len(left) != 0 {
		t.Errorf("sent mails offered again: %d, %v", len(left), err)
	}
	report, err := w.s.Mail.FindMails(docket.NewSystemContext(ctx), 10)
	if err != nil || report.Counts[docket.MailSent] != 4 {
		t.Errorf("FindMails = %+v, %v; want 4 sent", report, err)
	}
}

// testTemplates: a space starts with the default templates; templates
// are created, renamed and deleted by space admins, names unique.
func testTemplates(t *testing.T, w *world) {
	ada, bob, _ := w.team(docket.RoleEditor)
	defaults, err := w.s.Templates.FindTemplates(bob, "eng")
	must(t, err)
	if len(defaults) == 0 {
		t.Fatal("a new space has no templates; want the defaults")
	}
	name, body := "Postmortem", "# Postmortem\n\n## Timeline\n"
	tpl, err := w.s.Templates.CreateTemplate(ada, "eng", docket.TemplateInput{Name: &name, Body: &body})
	must(t, err)
	if tpl.Name != name || tpl.Body != body || tpl.Kind != docket.KindPage {
		t.Errorf("created template = %+v; want kind page", tpl)
	}
	_, err = w.s.Templates.CreateTemplate(ada, "eng", docket.TemplateInput{Name: &name, Body: &body})
	wantCode(t, "duplicate name", err, docket.ECONFLICT)
	_, err = w.s.Templates.CreateTemplate(ada, "eng", docket.TemplateInput{Name: &name})
	wantCode(t, "no body", err, docket.EINVALID)
	other := "Incident review"
	_, err = w.s.Templates.UpdateTemplate(bob, "eng", tpl.ID, docket.TemplateInput{Name: &other})
	wantCode(t, "an editor renames", err, docket.EFORBIDDEN)
	renamed, err := w.s.Templates.UpdateTemplate(ada, "eng", tpl.ID, docket.TemplateInput{Name: &other})
	if err != nil || renamed.Name != other || renamed.Body != body {
		t.Errorf("renamed = %+v, %v", renamed, err)
	}
	got, err := w.s.Templates.FindTemplate(bob, "eng", tpl.ID)
	if err != nil || got.Name != other {
		t.Errorf("FindTemplate = %+v, %v", got, err)
	}
	list, err := w.s.Templates.FindTemplates(bob, "eng")
	if err != nil || len(list) != len(defaults)+1 {
		t.Errorf("FindTemplates = %d, %v; want %d", len(list), err, len(defaults)+1)
	}
	must(t, w.s.Templates.DeleteTemplate(ada, "eng", tpl.ID))
	wantCode(t, "deleted template", second(w.s.Templates.FindTemplate(bob, "eng", tpl.ID)), docket.ENOTFOUND)
	if list, _ := w.s.Templates.FindTemplates(bob, "eng"); len(list) != len(defaults) {
		t.Errorf("%d templates after delete; want %d", len(list), len(defaults))
	}
}
