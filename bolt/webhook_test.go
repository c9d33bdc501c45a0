package bolt

import (
	"cmp"
	"encoding/json"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	docket "github.com/docket-dev/docket"
	"github.com/docket-dev/docket/kv"
	gocmp "github.com/google/go-cmp/cmp"
)

func TestWebhookPermissions(t *testing.T) {
	f := newFixture(t)
	hooks := NewWebhookService(f.db, acceptURL)
	ada, bob, cy := f.user("ada"), f.user("bob"), f.user("cy")
	eng := f.space(ada, "eng")
	f.member(ada, eng, bob, docket.RoleEditor)
	h, secret, err := hooks.CreateWebhook(ada, docket.WebhookCreate{Space: "eng", URL: "https://hooks.example.com/x"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(secret, "whsec_") || len(secret) < 40 {
		t.Errorf("secret = %q", secret)
	}
	if _, _, err := hooks.CreateWebhook(f.root, docket.WebhookCreate{Space: eng, URL: "https://hooks.example.com/root"}); err != nil {
		t.Errorf("site admin: %v", err)
	}
	for _, tc := range []struct {
		name string
		err  error
		code string
	}{
		{"editor creates", third(hooks.CreateWebhook(bob, docket.WebhookCreate{Space: eng, URL: "https://e.com"})), docket.EFORBIDDEN},
		{"stranger creates", third(hooks.CreateWebhook(cy, docket.WebhookCreate{Space: eng, URL: "https://e.com"})), docket.ENOTFOUND},
		{"editor lists", second(hooks.FindWebhooks(bob, eng)), docket.EFORBIDDEN},
		{"stranger lists", second(hooks.FindWebhooks(cy, eng)), docket.ENOTFOUND},
		{"editor deletes", hooks.DeleteWebhook(bob, h.ID), docket.EFORBIDDEN},
		{"stranger deletes", hooks.DeleteWebhook(cy, h.ID), docket.ENOTFOUND},
		{"editor reads log", second(hooks.FindDeliveries(bob, h.ID, 10)), docket.EFORBIDDEN},
		{"stranger reads log", second(hooks.FindDeliveries(cy, h.ID, 10)), docket.ENOTFOUND},
		{"bad id", hooks.DeleteWebhook(ada, "../"+h.ID), docket.ENOTFOUND},
		{"unknown id", hooks.DeleteWebhook(ada, "aaaaaaaaaaaaaaaa"), docket.ENOTFOUND},
	} {
		wantCode(t, tc.name, tc.err, tc.code)
	}
	list, err := hooks.FindWebhooks(ada, "eng")
	if err != nil || len(list) != 2 || list[0].ID != h.ID {
		t.Fatalf("FindWebhooks = %v, %v", list, err)
	}
	data, _ := json.Marshal(list)
	if strings.Contains(string(data), secret) || strings.Contains(string(data), "secret") {
		t.Errorf("listed webhooks show the secret: %s", data)
	}
	if err := hooks.DeleteWebhook(ada, h.ID); err != nil {
		t.Fatal(err)
	}
	wantCode(t, "deleted", hooks.DeleteWebhook(ada, h.ID), docket.ENOTFOUND)
}

// sortTasks orders tasks by event, then URL: the deliveries of one event
// come in the order of their hooks' random ids.
func sortTasks(tasks []*docket.WebhookTask) {
	slices.SortStableFunc(tasks, func(a, b *docket.WebhookTask) int {
		return cmp.Or(cmp.Compare(a.Delivery.EventSeq, b.Delivery.EventSeq), strings.Compare(a.Hook.URL, b.Hook.URL))
	})
}

// acceptURL takes every receiver URL as given: the tests in this package
// name public https receivers, and webhook.CheckURL, the policy, is
// applied in webhook_url_test.go.
func acceptURL(raw string, _ bool) (string, error) { return raw, nil }

func second[T any](_ T, err error) error { return err }

func third[T, U any](_ T, _ U, err error) error { return err }

func TestDeliveryQueue(t *testing.T) {
	f := newFixture(t)
	t0 := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	f.db.Now = func() time.Time { return t0 }
	var woken atomic.Int32
	f.db.OnDeliveryQueued(func() { woken.Add(1) })
	hooks := NewWebhookService(f.db, acceptURL)
	ada := f.user("ada")
	f.space(ada, "eng")
	f.space(ada, "ops")
	all, secretAll, _ := hooks.CreateWebhook(ada, docket.WebhookCreate{Space: "eng", URL: "https://a.example.com"})
	created, _, _ := hooks.CreateWebhook(ada, docket.WebhookCreate{Space: "eng", URL: "https://b.example.com", Events: []docket.EventType{docket.EventDocCreated}})
	other, _, _ := hooks.CreateWebhook(ada, docket.WebhookCreate{Space: "ops", URL: "https://c.example.com"})

	if _, ok, _ := hooks.NextDue(ada); ok {
		t.Fatal("queue not empty before any event")
	}
	d := f.doc(ada, "eng", "Plan")
	text := "v2"
	if _, err := f.docs.EditDocument(ada, d.ID, docket.Edit{Version: 1, Body: &text}); err != nil {
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
	f.write(func(tx kv.Tx) error {
		for _, name := range [][]byte{bucketDeliveries, bucketHookDeliveries} {
			c := tx.Bucket(name).Cursor()
			for k, v := c.First(); k != nil; k, v = c.Next() {
				if strings.Contains(string(k)+string(v), all.ID) {
					t.Errorf("%s still holds %q for the deleted webhook", name, k)
				}
			}
		}
		return nil
	})
}

func TestDeliveryLogPruned(t *testing.T) {
	f := newFixture(t)
	hooks := NewWebhookService(f.db, acceptURL)
	ada := f.user("ada")
	eng := f.space(ada, "eng")
	h, _, _ := hooks.CreateWebhook(ada, docket.WebhookCreate{Space: eng, URL: "https://a.example.com"})
	f.write(func(tx kv.Tx) error {
		for range MaxDeliveryLog + 10 {
			if err := f.db.appendEvent(ada, tx, &docket.Event{Type: docket.EventDocUpdated, SpaceID: eng}); err != nil {
				return err
			}
		}
		return nil
	})
	tasks, err := hooks.DueDeliveries(ada, time.Now(), 1000, time.Minute)
	if err != nil || len(tasks) != MaxDeliveryLog+10 {
		t.Fatalf("DueDeliveries = %d, %v", len(tasks), err)
	}
	// One stays pending: pending deliveries are never pruned.
	for i, tk := range tasks {
		d := *tk.Delivery
		d.Status = docket.DeliveryOK
		if i == 0 {
			d.Status, d.NextAt = docket.DeliveryPending, time.Now().Add(time.Hour)
		}
		if err := hooks.FinishDelivery(ada, &d); err != nil {
			t.Fatal(err)
		}
	}
	log, err := hooks.FindDeliveries(ada, h.ID, docket.MaxDeliveriesPage)
	if err != nil || len(log) != docket.MaxDeliveriesPage || log[0].EventSeq != MaxDeliveryLog+10 {
		t.Fatalf("log: %d entries from %d, %v", len(log), log[0].EventSeq, err)
	}
	f.write(func(tx kv.Tx) error {
		if n := countKeys(tx.Bucket(bucketDeliveries)); n != MaxDeliveryLog+1 {
			t.Errorf("%d deliveries kept; want %d (the log and the pending one)", n, MaxDeliveryLog+1)
		}
		return nil
	})
}
