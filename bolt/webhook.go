package bolt

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"slices"
	"time"

	docket "github.com/docket-dev/docket"
	"github.com/docket-dev/docket/kv"
)

// Interface guards.
var (
	_ docket.WebhookService = (*WebhookService)(nil)
	_ docket.WebhookQueue   = (*WebhookService)(nil)
)

// WebhookService implements [docket.WebhookService] for space admins and
// [docket.WebhookQueue] for the dispatcher. Deliveries are created by
// appendEvent, in the transaction of the change.
//
// Buckets: webhooks (id -> hookRecord with its secret), space_webhooks
// (spaceID/hookID), deliveries (u64 id -> deliveryRecord), delivery_queue
// (queueKey(due, id) for every pending delivery, at its due time or, while
// an attempt is under way, at the end of its lease) and hook_deliveries
// (seqKey(hookID, id)), the delivery log.
type WebhookService struct {
	db       *DB
	checkURL CheckURLFunc

	// AllowPrivate lets webhooks name loopback, private and link-local
	// addresses (for receivers on the same machine or network). Off by
	// default: a webhook is a request the server makes on behalf of a
	// space admin, and must not reach internal services (SSRF).
	AllowPrivate bool
}

// CheckURLFunc validates the receiver URL of a webhook and returns it
// normalised, or an EINVALID error; allowPrivate is
// [WebhookService.AllowPrivate]. webhook.CheckURL is the policy.
type CheckURLFunc func(raw string, allowPrivate bool) (string, error)

// NewWebhookService returns the webhook store over db. checkURL decides
// which receiver URLs webhooks may have; it must not be nil.
func NewWebhookService(db *DB, checkURL CheckURLFunc) *WebhookService {
	if checkURL == nil {
		panic("bolt: NewWebhookService without a URL check")
	}
	return &WebhookService{db: db, checkURL: checkURL}
}

// MaxDeliveryLog is how many deliveries are kept per webhook; older ones
// that are finished are deleted.
const MaxDeliveryLog = 500

// hookRecord is a stored webhook with its secret, which the HMAC needs in
// the clear.
type hookRecord struct {
	docket.Webhook
	Secret string `json:"secret"`
}

// deliveryRecord is a stored delivery and where it sits in the queue.
type deliveryRecord struct {
	docket.WebhookDelivery
	// Queued is the due time of its delivery_queue key in Unix
	// nanoseconds, 0 when it is not queued (finished).
	Queued int64 `json:"queued,omitempty"`
}

// OnDeliveryQueued registers fn to be called after every commit that
// queued webhook deliveries, so that a dispatcher can wake up. fn must
// return at once.
func (db *DB) OnDeliveryQueued(fn func()) {
	db.watchMu.Lock()
	defer db.watchMu.Unlock()
	db.queued = append(db.queued, fn)
}

func (db *DB) deliveryQueued() {
	db.watchMu.RLock()
	defer db.watchMu.RUnlock()
	for _, fn := range db.queued {
		fn()
	}
}

// queueKey orders the queue by due time, then delivery id.
func queueKey(due int64, id uint64) []byte {
	k := make([]byte, 17)
	binary.BigEndian.PutUint64(k, uint64(due))
	k[8] = '/'
	binary.BigEndian.PutUint64(k[9:], id)
	return k
}

// queueDeliveries creates a pending delivery of ev for every active
// webhook of its space that wants it, in the caller's transaction.
func (db *DB) queueDeliveries(tx kv.Tx, ev *docket.Event) error {
	hooks := tx.Bucket(bucketWebhooks)
	deliveries := tx.Bucket(bucketDeliveries)
	queued := false
	for hookID := range prefixed(tx.Bucket(bucketSpaceWebhooks), ev.SpaceID) {
		var h hookRecord
		if ok, err := getJSON(hooks, hookID, &h); err != nil {
			return err
		} else if !ok || !h.Wants(ev.Type) {
			continue
		}
		id, err := deliveries.NextSequence()
		if err != nil {
			return err
		}
		rec := deliveryRecord{
			WebhookDelivery: docket.WebhookDelivery{
				ID: int64(id), HookID: h.ID, EventSeq: ev.Seq, Status: docket.DeliveryPending,
				CreatedAt: ev.Time, NextAt: ev.Time,
			},
			Queued: ev.Time.UnixNano(),
		}
		if err := putDelivery(tx, &rec); err != nil {
			return err
		}
		if err := tx.Bucket(bucketHookDeliveries).Put(seqKey(h.ID, id), nil); err != nil {
			return err
		}
		queued = true
	}
	if queued {
		if n := noteOf(tx); n != nil {
			n.Queued = true
		}
		tx.OnCommit(db.deliveryQueued)
	}
	return nil
}

// putDelivery stores a delivery and, if it is queued, its queue key.
func putDelivery(tx kv.Tx, rec *deliveryRecord) error {
	if rec.Queued != 0 {
		if err := tx.Bucket(bucketDeliveryQueue).Put(queueKey(rec.Queued, uint64(rec.ID)), nil); err != nil {
			return err
		}
	}
	return putJSON(tx.Bucket(bucketDeliveries), u64(uint64(rec.ID)), rec)
}

// unqueue takes a delivery out of the queue.
func unqueue(tx kv.Tx, rec *deliveryRecord) error {
	if rec.Queued == 0 {
		return nil
	}
	err := tx.Bucket(bucketDeliveryQueue).Delete(queueKey(rec.Queued, uint64(rec.ID)))
	rec.Queued = 0
	return err
}

func findHook(tx kv.Tx, id string) (*hookRecord, error) {
	return findByID[hookRecord](tx, bucketWebhooks, id, "Webhook not found.")
}

// adminSpace finds a space the caller administers. An unreadable space is
// ENOTFOUND, a readable one EFORBIDDEN.
func adminSpace(ctx context.Context, tx kv.Tx, space string) (*docket.Space, error) {
	return spaceWithRole(ctx, tx, space, docket.RoleAdmin, "Only space admins may manage webhooks.")
}

// adminHook finds a webhook of a space the caller administers. A webhook
// of a space the caller cannot read is ENOTFOUND.
func adminHook(ctx context.Context, tx kv.Tx, id string) (*hookRecord, error) {
	h, err := findHook(tx, id)
	if err != nil {
		return nil, err
	}
	role := roleIn(ctx, tx, h.SpaceID)
	if !role.AtLeast(docket.RoleViewer) {
		return nil, docket.Errorf(docket.ENOTFOUND, "Webhook not found.")
	}
	if !role.AtLeast(docket.RoleAdmin) {
		return nil, docket.Errorf(docket.EFORBIDDEN, "Only space admins may manage webhooks.")
	}
	return h, nil
}

// CreateWebhook implements [docket.WebhookService].
func (s *WebhookService) CreateWebhook(ctx context.Context, wc docket.WebhookCreate) (*docket.Webhook, string, error) {
	caller := docket.UserIDFromContext(ctx)
	u, err := s.checkURL(wc.URL, s.AllowPrivate)
	if err != nil {
		return nil, "", err
	}
	if wc.Format == "" {
		wc.Format = docket.WebhookJSON
	} else if !wc.Format.Valid() {
		return nil, "", docket.Errorf(docket.EINVALID, "Format %q is not one of slack, json.", wc.Format)
	}
	events := []docket.EventType{}
	for _, t := range wc.Events {
		if !slices.Contains(docket.EventTypes, t) {
			return nil, "", docket.Errorf(docket.EINVALID, "Event type %q is not known.", t)
		}
		if !slices.Contains(events, t) {
			events = append(events, t)
		}
	}
	secret := newSecret("whsec_")
	h := &hookRecord{
		Webhook: docket.Webhook{
			ID: newID(), URL: u, Format: wc.Format, Events: events, Active: true,
			CreatedBy: caller, CreatedAt: s.db.Now().UTC(),
		},
		Secret: secret,
	}
	err = s.db.update(ctx, func(tx kv.Tx) error {
		sp, err := adminSpace(ctx, tx, wc.Space)
		if err != nil {
			return err
		}
		h.SpaceID = sp.ID
		if n := len(spaceHookIDs(tx, sp.ID)); n >= docket.MaxWebhooksPerSpace {
			return docket.Errorf(docket.ECONFLICT, "A space may have at most %d webhooks.", docket.MaxWebhooksPerSpace)
		}
		if err := putJSON(tx.Bucket(bucketWebhooks), []byte(h.ID), h); err != nil {
			return err
		}
		return tx.Bucket(bucketSpaceWebhooks).Put(pair(sp.ID, h.ID), nil)
	})
	if err != nil {
		return nil, "", err
	}
	out := h.Webhook
	return &out, secret, nil
}

func spaceHookIDs(tx kv.Tx, spaceID string) []string {
	var ids []string
	for hookID := range prefixed(tx.Bucket(bucketSpaceWebhooks), spaceID) {
		ids = append(ids, string(hookID))
	}
	return ids
}

// FindWebhooks implements [docket.WebhookService].
func (s *WebhookService) FindWebhooks(ctx context.Context, space string) ([]*docket.Webhook, error) {
	out, err := inTx(ctx, s.db.view, func(tx kv.Tx) ([]*docket.Webhook, error) {
		sp, err := adminSpace(ctx, tx, space)
		if err != nil {
			return nil, err
		}
		out := []*docket.Webhook{}
		for _, id := range spaceHookIDs(tx, sp.ID) {
			h, err := findHook(tx, id)
			if err != nil {
				return nil, err
			}
			out = append(out, &h.Webhook)
		}
		return out, nil
	})
	slices.SortFunc(out, func(a, b *docket.Webhook) int { return a.CreatedAt.Compare(b.CreatedAt) })
	return out, err
}

// DeleteWebhook implements [docket.WebhookService].
func (s *WebhookService) DeleteWebhook(ctx context.Context, id string) error {
	return s.db.update(ctx, func(tx kv.Tx) error {
		h, err := adminHook(ctx, tx, id)
		if err != nil {
			return err
		}
		err = deletePrefix(tx.Bucket(bucketHookDeliveries), h.ID, func(id, _ []byte) error {
			return deleteDelivery(tx, seqFromKey(id))
		})
		if err != nil {
			return err
		}
		if err := tx.Bucket(bucketSpaceWebhooks).Delete(pair(h.SpaceID, h.ID)); err != nil {
			return err
		}
		return tx.Bucket(bucketWebhooks).Delete([]byte(h.ID))
	})
}

// deleteDelivery deletes a delivery and its queue entry, but not its
// entry in the delivery log index.
func deleteDelivery(tx kv.Tx, id uint64) error {
	var rec deliveryRecord
	ok, err := getJSON(tx.Bucket(bucketDeliveries), u64(id), &rec)
	if err != nil || !ok {
		return err
	}
	if err := unqueue(tx, &rec); err != nil {
		return err
	}
	return tx.Bucket(bucketDeliveries).Delete(u64(id))
}

// FindDeliveries implements [docket.WebhookService].
func (s *WebhookService) FindDeliveries(ctx context.Context, hookID string, limit int) ([]*docket.WebhookDelivery, error) {
	if limit <= 0 || limit > docket.MaxDeliveriesPage {
		limit = docket.MaxDeliveriesPage
	}
	return inTx(ctx, s.db.view, func(tx kv.Tx) ([]*docket.WebhookDelivery, error) {
		h, err := adminHook(ctx, tx, hookID)
		if err != nil {
			return nil, err
		}
		out := []*docket.WebhookDelivery{}
		deliveries := tx.Bucket(bucketDeliveries)
		c := tx.Bucket(bucketHookDeliveries).Cursor()
		k := seekBefore(c, seqKey(h.ID, 1<<64-1), false)
		for ; k != nil && hasPrefixKey(k, h.ID) && len(out) < limit; k, _ = c.Prev() {
			var rec deliveryRecord
			if ok, err := getJSON(deliveries, u64(seqFromKey(k)), &rec); err != nil {
				return nil, err
			} else if ok {
				out = append(out, &rec.WebhookDelivery)
			}
		}
		return out, nil
	})
}

// DueDeliveries implements [docket.WebhookQueue].
func (s *WebhookService) DueDeliveries(ctx context.Context, now time.Time, limit int, lease time.Duration) ([]*docket.WebhookTask, error) {
	if limit <= 0 {
		return nil, nil
	}
	// Look first in a read transaction: an empty write one would still
	// cost an fsync on every poll.
	if at, ok, err := s.NextDue(ctx); err != nil || !ok || at.After(now) {
		return nil, err
	}
	return inTx(ctx, s.db.update, func(tx kv.Tx) ([]*docket.WebhookTask, error) {
		return loadAll(dueIDs(tx.Bucket(bucketDeliveryQueue), now, limit), func(id uint64) (*docket.WebhookTask, error) { return s.claim(tx, id, now, lease) })
	})
}

// claim makes the next attempt of a queued delivery and leases it: it is
// queued again at now+lease, in case the attempt never finishes. It
// returns nil for a delivery that cannot be sent any more; that one is
// finished as failed (or deleted with its webhook).
func (s *WebhookService) claim(tx kv.Tx, id uint64, now time.Time, lease time.Duration) (*docket.WebhookTask, error) {
	var rec deliveryRecord
	if ok, err := getJSON(tx.Bucket(bucketDeliveries), u64(id), &rec); err != nil {
		return nil, err
	} else if !ok {
		return nil, fmt.Errorf("delivery %d queued but not stored", id)
	}
	if err := unqueue(tx, &rec); err != nil {
		return nil, err
	}
	h, err := findHook(tx, rec.HookID)
	if docket.ErrorCode(err) == docket.ENOTFOUND {
		return nil, tx.Bucket(bucketDeliveries).Delete(u64(id))
	} else if err != nil {
		return nil, err
	}
	var ev docket.Event
	found, err := getJSON(tx.Bucket(bucketEvents), u64(uint64(rec.EventSeq)), &ev)
	if err != nil {
		return nil, err
	}
	switch {
	case !h.Active:
		rec.Status, rec.Error = docket.DeliveryFailed, "The webhook is inactive."
	case !found:
		rec.Status, rec.Error = docket.DeliveryFailed, "The event is gone."
	}
	if rec.Status != docket.DeliveryPending {
		rec.NextAt = time.Time{}
		return nil, putDelivery(tx, &rec)
	}
	rec.Attempt++
	rec.Queued = now.Add(lease).UnixNano()
	if err := putDelivery(tx, &rec); err != nil {
		return nil, err
	}
	t := &docket.WebhookTask{Delivery: &rec.WebhookDelivery, Hook: &h.Webhook, Secret: h.Secret, Event: &ev}
	if u, err := findUser(tx, ev.ActorID); err == nil {
		t.ActorName = u.Name
	}
	if sp, err := findSpace(tx, ev.SpaceID); err == nil {
		t.SpaceName = sp.Name
	}
	t.Names = eventNames(tx, &ev)
	return t, nil
}

// FinishDelivery implements [docket.WebhookQueue].
func (s *WebhookService) FinishDelivery(ctx context.Context, d *docket.WebhookDelivery) error {
	switch d.Status {
	case docket.DeliveryOK, docket.DeliveryFailed:
	case docket.DeliveryPending:
		if d.NextAt.IsZero() {
			return docket.Errorf(docket.EINVALID, "A delivery to retry needs its next time.")
		}
	default:
		return docket.Errorf(docket.EINVALID, "Unknown delivery status %q.", d.Status)
	}
	return s.db.update(ctx, func(tx kv.Tx) error {
		var rec deliveryRecord
		if ok, err := getJSON(tx.Bucket(bucketDeliveries), u64(uint64(d.ID)), &rec); err != nil {
			return err
		} else if !ok {
			return docket.Errorf(docket.ENOTFOUND, "Delivery not found.")
		}
		if rec.Status != docket.DeliveryPending || rec.Attempt != d.Attempt || rec.Queued == 0 {
			return docket.Errorf(docket.ECONFLICT, "Delivery %d is not waiting for attempt %d.", d.ID, d.Attempt)
		}
		if _, err := findHook(tx, rec.HookID); err != nil {
			return err
		}
		if err := unqueue(tx, &rec); err != nil {
			return err
		}
		rec.Status, rec.StatusCode, rec.Error = d.Status, d.StatusCode, d.Error
		rec.DeliveredAt, rec.DurationMs = d.DeliveredAt.UTC(), d.DurationMs
		rec.NextAt = time.Time{}
		if d.Status == docket.DeliveryPending {
			rec.NextAt = d.NextAt.UTC()
			rec.Queued = d.NextAt.UnixNano()
		}
		if err := putDelivery(tx, &rec); err != nil {
			return err
		}
		return pruneDeliveries(tx, rec.HookID)
	})
}

// pruneDeliveries deletes a webhook's finished deliveries beyond the
// latest MaxDeliveryLog.
func pruneDeliveries(tx kv.Tx, hookID string) error {
	index := tx.Bucket(bucketHookDeliveries)
	c := index.Cursor()
	n := 0
	var old [][]byte
	for k := seekBefore(c, seqKey(hookID, 1<<64-1), false); k != nil && hasPrefixKey(k, hookID); k, _ = c.Prev() {
		if n++; n > MaxDeliveryLog {
			old = append(old, bytes.Clone(k))
		}
	}
	for _, k := range old {
		var rec deliveryRecord
		if ok, err := getJSON(tx.Bucket(bucketDeliveries), u64(seqFromKey(k)), &rec); err != nil {
			return err
		} else if ok && rec.Status == docket.DeliveryPending {
			continue
		}
		if err := deleteDelivery(tx, seqFromKey(k)); err != nil {
			return err
		}
		if err := index.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// NextDue implements [docket.WebhookQueue].
func (s *WebhookService) NextDue(ctx context.Context) (time.Time, bool, error) {
	var at time.Time
	var ok bool
	err := s.db.view(ctx, func(tx kv.Tx) error {
		k, _ := tx.Bucket(bucketDeliveryQueue).Cursor().First()
		if len(k) == 17 {
			at, ok = time.Unix(0, int64(binary.BigEndian.Uint64(k))).UTC(), true
		}
		return nil
	})
	return at, ok, err
}
