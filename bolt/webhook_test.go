package bolt

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	docket "github.com/docket-dev/docket"
	"github.com/docket-dev/docket/kv"
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

// acceptURL takes every receiver URL as given: the tests in this package
// name public https receivers, and webhook.CheckURL, the policy, is
// applied in webhook_url_test.go.
func acceptURL(raw string, _ bool) (string, error) { return raw, nil }

func second[T any](_ T, err error) error { return err }

func third[T, U any](_ T, _ U, err error) error { return err }

// TestDeleteWebhookPurgesDeliveries: deleting a webhook leaves none of
// its deliveries in the queue's buckets (the queue itself is checked by
// the contract, storetest's DeliveryQueue).
func TestDeleteWebhookPurgesDeliveries(t *testing.T) {
	f := newFixture(t)
	hooks := NewWebhookService(f.db, acceptURL)
	ada := f.user("ada")
	f.space(ada, "eng")
	h, _, err := hooks.CreateWebhook(ada, docket.WebhookCreate{Space: "eng", URL: "https://a.example.com"})
	if err != nil {
		t.Fatal(err)
	}
	f.doc(ada, "eng", "Plan")
	if tasks, err := hooks.DueDeliveries(ada, time.Now().Add(time.Second), 10, time.Minute); err != nil || len(tasks) != 1 {
		t.Fatalf("DueDeliveries = %d tasks, %v; want 1", len(tasks), err)
	}
	if err := hooks.DeleteWebhook(ada, h.ID); err != nil {
		t.Fatal(err)
	}
	f.write(func(tx kv.Tx) error {
		for _, name := range [][]byte{bucketDeliveries, bucketHookDeliveries, bucketDeliveryQueue} {
			c := tx.Bucket(name).Cursor()
			for k, v := c.First(); k != nil; k, v = c.Next() {
				if strings.Contains(string(k)+string(v), h.ID) {
					t.Errorf("%s still holds %q for the deleted webhook", name, k)
				}
			}
		}
		if n := countKeys(tx.Bucket(bucketDeliveryQueue)); n != 0 {
			t.Errorf("%d deliveries still queued", n)
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
