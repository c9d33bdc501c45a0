package docket

import (
	"context"
	"slices"
	"time"
)

// WebhookFormat is the shape of the payload a webhook receives.
type WebhookFormat string

// Webhook formats.
const (
	// WebhookSlack posts {"text": "<url|title>: what happened"}, which Slack
	// incoming webhooks and compatible chat tools (Mattermost, Rocket.Chat)
	// accept.
	WebhookSlack WebhookFormat = "slack"
	// WebhookJSON posts {"event", "document", "url", "text"} with the whole
	// event.
	WebhookJSON WebhookFormat = "json"
)

// Valid reports whether f is a known format.
func (f WebhookFormat) Valid() bool { return f == WebhookSlack || f == WebhookJSON }

// Limits of webhooks.
const (
	// MaxWebhooksPerSpace is the most webhooks one space may have.
	MaxWebhooksPerSpace = 20
	// MaxWebhookURLBytes is the longest receiver URL.
	MaxWebhookURLBytes = 2048
	// MaxDeliveriesPage is the most deliveries returned by one call.
	MaxDeliveriesPage = 200
)

// EventTypes lists every event type, for validating webhook filters.
var EventTypes = []EventType{
	EventDocCreated, EventDocUpdated, EventDocEdited, EventDocDeleted,
	EventThreadCreated, EventThreadResolved, EventThreadReopened,
	EventCommentCreated, EventCommentEdited, EventCommentDeleted,
	EventReviewCreated, EventDocTransitioned, EventOwnerChanged, EventSessionEnded,
	EventSuggestionCreated, EventSuggestionApplied, EventSuggestionRejected,
	EventDocDueSoon, EventDocOverdue, EventActionOverdue,
}

// Webhook sends the events of a space to a URL. Its signing secret is
// shown once, when it is created, and never again.
type Webhook struct {
	ID      string        `json:"id"`
	SpaceID string        `json:"spaceId"`
	URL     string        `json:"url"`
	Format  WebhookFormat `json:"format"`
	// Events are the event types sent; empty means all of them.
	Events    []EventType `json:"events"`
	Active    bool        `json:"active"`
	CreatedBy string      `json:"createdBy"`
	CreatedAt time.Time   `json:"createdAt"`
}

// Wants reports whether the webhook sends events of type t.
func (h *Webhook) Wants(t EventType) bool {
	return h.Active && (len(h.Events) == 0 || slices.Contains(h.Events, t))
}

// DeliveryStatus says where a delivery stands.
type DeliveryStatus string

// Delivery statuses. A pending delivery waits for its first attempt or
// for a retry at NextAt.
const (
	DeliveryPending DeliveryStatus = "pending"
	DeliveryOK      DeliveryStatus = "ok"
	DeliveryFailed  DeliveryStatus = "failed" // gave up
)

// WebhookDelivery is one event sent to one webhook, with the outcome of
// its latest attempt. It is created pending, in the same transaction as
// the event, and sent later by a dispatcher, so a request never waits for
// a receiver.
type WebhookDelivery struct {
	ID       int64          `json:"id"`
	HookID   string         `json:"hookId"`
	EventSeq int64          `json:"eventSeq"`
	Attempt  int            `json:"attempt"` // attempts made so far
	Status   DeliveryStatus `json:"status"`
	// StatusCode is the HTTP status of the latest answer; 0 if there was
	// none (refused, timed out).
	StatusCode int       `json:"statusCode,omitempty"`
	Error      string    `json:"error,omitempty"`
	CreatedAt  time.Time `json:"createdAt"`
	// NextAt is when a pending delivery is (re)tried.
	NextAt      time.Time `json:"nextAt,omitzero"`
	DeliveredAt time.Time `json:"deliveredAt,omitzero"` // end of the latest attempt
	DurationMs  int64     `json:"durationMs,omitempty"` // of the latest attempt
}

// WebhookCreate is the input of [WebhookService.CreateWebhook].
type WebhookCreate struct {
	Space  string // id or slug
	URL    string
	Format WebhookFormat // empty means json
	Events []EventType   // empty means all
}

// WebhookService manages the webhooks of spaces; space admins (and site
// admins) only. A space the caller may not read is ENOTFOUND; a space the
// caller reads without being its admin is EFORBIDDEN.
type WebhookService interface {
	// CreateWebhook adds a webhook to a space and returns it with its
	// signing secret, which is never shown again. Returns ENOTFOUND,
	// EFORBIDDEN, EINVALID (a URL that is not http(s) or names a private
	// address, an unknown format or event type), ECONFLICT when the space
	// has MaxWebhooksPerSpace webhooks.
	CreateWebhook(ctx context.Context, wc WebhookCreate) (*Webhook, string, error)

	// FindWebhooks lists a space's webhooks, oldest first. Returns
	// ENOTFOUND, EFORBIDDEN.
	FindWebhooks(ctx context.Context, space string) ([]*Webhook, error)

	// DeleteWebhook deletes a webhook with its deliveries, including those
	// still pending. Returns ENOTFOUND, EFORBIDDEN.
	DeleteWebhook(ctx context.Context, id string) error

	// FindDeliveries lists a webhook's latest deliveries, newest first, at
	// most limit (capped at MaxDeliveriesPage). Returns ENOTFOUND,
	// EFORBIDDEN.
	FindDeliveries(ctx context.Context, hookID string, limit int) ([]*WebhookDelivery, error)
}

// WebhookTask is a delivery due to be sent, with what sending it takes.
type WebhookTask struct {
	Delivery *WebhookDelivery
	Hook     *Webhook
	Secret   string // the HMAC key of the signature
	Event    *Event
	// ActorName is the name of the event's actor, "" if unknown.
	ActorName string
	// SpaceName is the name of the event's space.
	SpaceName string
	// Names are the names of the users the event's data names (reviewers,
	// an action item's owner), by id.
	Names map[string]string
}

// WebhookQueue is the storage side of webhook delivery, used by the
// dispatcher only; it checks no permissions.
type WebhookQueue interface {
	// DueDeliveries claims up to limit pending deliveries due at or before
	// now, oldest first, and makes each attempt count. A claimed delivery
	// is not offered again until lease has passed, so a delivery whose
	// dispatcher died mid-attempt is retried.
	DueDeliveries(ctx context.Context, now time.Time, limit int, lease time.Duration) ([]*WebhookTask, error)

	// FinishDelivery records the outcome of the attempt d.Attempt of a
	// claimed delivery: ok, failed (given up), or pending again with the
	// retry time in d.NextAt. Returns ENOTFOUND if the delivery or its
	// webhook was deleted meanwhile, ECONFLICT if the attempt is stale.
	FinishDelivery(ctx context.Context, d *WebhookDelivery) error

	// NextDue returns when the next queued delivery is due; ok is false
	// when none is queued.
	NextDue(ctx context.Context) (at time.Time, ok bool, err error)
}
