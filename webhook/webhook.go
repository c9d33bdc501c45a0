// Package webhook sends the events of spaces to their webhooks over HTTP.
//
// A request that changes something never talks to a receiver: it only
// stores a pending delivery, in the transaction of the change (see
// [docket.WebhookQueue]). The [Dispatcher] takes due deliveries from the
// store, posts them with a short timeout and bounded concurrency, signs
// them with the webhook's secret, and retries failures with exponential
// backoff until it gives up. It refuses to connect to loopback, private
// and link-local addresses, checked on the address actually dialled, so
// that a webhook cannot be used to reach internal services.
//
// [CheckURL] is the policy for receiver URLs: the store applies it when a
// webhook is made (cmd/docket hands it to bolt.NewWebhookService) and the
// dispatcher again before each attempt; [PublicAddr] is the rule for the
// addresses dialled.
package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	docket "github.com/docket-dev/docket"
)

// Headers of a delivery.
const (
	// HeaderSignature is "sha256=" and the hex HMAC-SHA256 of the body
	// with the webhook's secret.
	HeaderSignature = "X-Docket-Signature"
	// HeaderEvent is the event type, such as doc.created.
	HeaderEvent = "X-Docket-Event"
	// HeaderDelivery is the delivery id; retries of one delivery repeat it.
	HeaderDelivery = "X-Docket-Delivery"
)

// DefaultBackoff is the wait before each retry: five retries after the
// first attempt, six attempts in all, over about seven hours.
var DefaultBackoff = []time.Duration{30 * time.Second, 2 * time.Minute, 10 * time.Minute, time.Hour, 6 * time.Hour}

// Options configure a [Dispatcher]; zero fields take the defaults.
type Options struct {
	// BaseURL is the server's public URL, for links in payloads.
	BaseURL string
	// AllowPrivate lets deliveries go to loopback, private and link-local
	// addresses. Off by default (SSRF).
	AllowPrivate bool
	// Timeout bounds one attempt, from dialling to the end of the
	// answer's headers (default 10 s).
	Timeout time.Duration
	// Concurrency is the most deliveries in flight (default 4).
	Concurrency int
	// Poll is how often the queue is looked at when nothing wakes the
	// dispatcher (default 5 s).
	Poll time.Duration
	// Backoff are the waits before the retries; a delivery is attempted
	// len(Backoff)+1 times (default DefaultBackoff).
	Backoff []time.Duration
	// Lease is how long a claimed delivery is kept from being offered
	// again (default Timeout plus one minute); a delivery whose attempt
	// never finished, because the process died, is retried after it.
	Lease time.Duration
	// Now returns the current time; tests replace it.
	Now func() time.Time
	// Logger receives failed attempts and store errors.
	Logger *slog.Logger
}

// Dispatcher sends due deliveries. Run it once per data file.
type Dispatcher struct {
	q      docket.WebhookQueue
	opts   Options
	client *http.Client
	log    *slog.Logger
	wake   chan struct{}
}

// New returns a dispatcher over the queue q.
func New(q docket.WebhookQueue, opts Options) *Dispatcher {
	if opts.Timeout <= 0 {
		opts.Timeout = 10 * time.Second
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = 4
	}
	if opts.Poll <= 0 {
		opts.Poll = 5 * time.Second
	}
	if opts.Backoff == nil {
		opts.Backoff = DefaultBackoff
	}
	if opts.Lease <= 0 {
		opts.Lease = opts.Timeout + time.Minute
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	opts.BaseURL = strings.TrimSuffix(opts.BaseURL, "/")
	return &Dispatcher{q: q, opts: opts, client: NewClient(opts.Timeout, opts.AllowPrivate), log: opts.Logger, wake: make(chan struct{}, 1)}
}

// MaxAttempts is how many times a delivery is attempted before it fails.
func (d *Dispatcher) MaxAttempts() int { return len(d.opts.Backoff) + 1 }

// Wake makes a running dispatcher look at the queue now. It never blocks;
// pass it to the store's "delivery queued" hook.
func (d *Dispatcher) Wake() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// Run sends deliveries until ctx is cancelled, then waits for the attempts
// in flight, which are cancelled too (their lease brings them back later).
func (d *Dispatcher) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	slots := make(chan struct{}, d.opts.Concurrency)
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		wait := d.opts.Poll
		if free := cap(slots) - len(slots); free > 0 {
			tasks, err := d.q.DueDeliveries(ctx, d.opts.Now(), free, d.opts.Lease)
			if err != nil && ctx.Err() == nil {
				d.log.Error("webhook queue", slog.Any("err", err))
			}
			for _, t := range tasks {
				slots <- struct{}{}
				wg.Add(1)
				go func() {
					defer wg.Done()
					d.deliver(ctx, t)
					<-slots
					d.Wake()
				}()
			}
			if err == nil && len(tasks) < free {
				if at, ok, err := d.q.NextDue(ctx); err == nil && ok {
					wait = min(wait, max(at.Sub(d.opts.Now()), 0))
				}
			}
		}
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return nil
		case <-d.wake:
		case <-timer.C:
		}
	}
}

// permanentError is a failure that retrying cannot mend.
type permanentError struct{ msg string }

func (e *permanentError) Error() string { return e.msg }

// deliver makes one attempt and records its outcome.
func (d *Dispatcher) deliver(ctx context.Context, t *docket.WebhookTask) {
	del := *t.Delivery
	start := time.Now()
	code, err := d.send(ctx, t)
	if err != nil && ctx.Err() != nil {
		return // cut short by the shutdown; the lease brings the delivery back
	}
	del.DurationMs = time.Since(start).Milliseconds()
	del.DeliveredAt = d.opts.Now().UTC()
	del.StatusCode, del.Error, del.NextAt = code, "", time.Time{}
	var perm *permanentError
	switch {
	case err == nil:
		del.Status = docket.DeliveryOK
	case errors.As(err, &perm) || del.Attempt >= d.MaxAttempts():
		del.Status, del.Error = docket.DeliveryFailed, errorText(err)
	default:
		del.Status, del.Error = docket.DeliveryPending, errorText(err)
		del.NextAt = del.DeliveredAt.Add(d.opts.Backoff[max(del.Attempt-1, 0)])
	}
	if err != nil {
		d.log.Warn("webhook delivery failed", slog.String("hook", t.Hook.ID), slog.Int64("delivery", del.ID),
			slog.Int("attempt", del.Attempt), slog.String("status", string(del.Status)), slog.String("err", del.Error))
	}
	// An attempt that was made is recorded even when the shutdown has
	// begun: Run waits for it before returning.
	if err := d.q.FinishDelivery(context.WithoutCancel(ctx), &del); err != nil && docket.ErrorCode(err) != docket.ENOTFOUND {
		d.log.Error("webhook delivery not recorded", slog.Int64("delivery", del.ID), slog.Any("err", err))
	}
}

func errorText(err error) string {
	s := err.Error()
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}

// send posts one delivery and returns the answer's status.
func (d *Dispatcher) send(ctx context.Context, t *docket.WebhookTask) (int, error) {
	if _, err := CheckURL(t.Hook.URL, d.opts.AllowPrivate); err != nil {
		return 0, &permanentError{"refused: " + docket.ErrorMessage(err)}
	}
	body, err := Payload(t, d.opts.BaseURL)
	if err != nil {
		return 0, &permanentError{"payload: " + err.Error()}
	}
	ctx, cancel := context.WithTimeout(ctx, d.opts.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.Hook.URL, bytes.NewReader(body))
	if err != nil {
		return 0, &permanentError{"request: " + err.Error()}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Docket-Webhook/1")
	req.Header.Set(HeaderSignature, Sign(t.Secret, body))
	req.Header.Set(HeaderEvent, string(t.Event.Type))
	req.Header.Set(HeaderDelivery, fmt.Sprint(t.Delivery.ID))
	resp, err := d.client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, fmt.Errorf("the receiver answered %s", resp.Status)
	}
	return resp.StatusCode, nil
}

// Sign returns the value of the signature header for body: "sha256="
// and the hex HMAC-SHA256 of the body with secret. Receivers compute the
// same and compare in constant time.
func Sign(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}
