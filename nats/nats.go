// Package nats implements [docket.Bus] over core NATS publish/subscribe
// (github.com/nats-io/nats.go): the messages between the nodes of a
// cluster. Delivery is at most once, as the contract asks: a message sent
// while a node is disconnected, or that arrives faster than a subscriber
// handles it, is lost and counted, never retried.
//
// A node never receives its own messages (the connection's no-echo
// option). Every subject is sent under "docket." and an optional prefix
// ([Options.Prefix]), so several Docket clusters, and tests, can share one
// NATS server without hearing each other. The connection reconnects
// forever, with a pause that doubles up to a bound, and logs each
// disconnect and reconnect.
package nats

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	natsgo "github.com/nats-io/nats.go"

	docket "github.com/docket-dev/docket"
)

// Defaults of [Options].
const (
	DefaultName             = "docket"
	DefaultMaxReconnectWait = 5 * time.Second
	DefaultPendingLimit     = 65536
)

const (
	// rootToken starts every subject Docket sends.
	rootToken = "docket"
	// minReconnectWait is the first pause between reconnect attempts.
	minReconnectWait = 100 * time.Millisecond
	// pendingBytesLimit caps the bytes waiting for one subscription's fn,
	// beside [Options.PendingLimit].
	pendingBytesLimit = 64 << 20
	// subscribeFlushTimeout bounds the round trip that makes a
	// subscription known to the server before Subscribe returns.
	subscribeFlushTimeout = 5 * time.Second
	// pingTimeout bounds Ping when its context has no deadline.
	pingTimeout = 5 * time.Second
	// drainTimeout bounds Close.
	drainTimeout = 10 * time.Second
	// pingInterval and maxPingsOut notice a silent server (one that went
	// away without closing the socket) within about 10 s.
	pingInterval = 5 * time.Second
	maxPingsOut  = 2
)

// Options configure [Open]. The zero value is usable.
type Options struct {
	// Prefix keeps this Docket's subjects apart from other users of the
	// same NATS server (another cluster, a test): subjects are sent as
	// "docket.<Prefix>.<subject>", or "docket.<subject>" without one. It
	// follows the rules of [docket.CheckSubject].
	Prefix string
	// Name names the connection in the server's monitoring, such as the
	// node's host name. Default [DefaultName].
	Name string
	// Logger receives disconnects, reconnects and lost messages. Default
	// slog.Default().
	Logger *slog.Logger
	// MaxReconnectWait bounds the pause between two reconnect attempts,
	// which starts at 100 ms and doubles (with jitter) up to it. Default
	// [DefaultMaxReconnectWait].
	MaxReconnectWait time.Duration
	// PendingLimit is how many messages one subscription may hold waiting
	// for its function; past it the newest are dropped (counted in
	// [Stats].Dropped). Default [DefaultPendingLimit].
	PendingLimit int
}

// Bus is a node's connection to NATS. It is safe for concurrent use.
type Bus struct {
	conn         *natsgo.Conn
	prefix       string // "docket." or "docket.<Prefix>."
	servers      string // the URLs given to Open, without passwords
	log          *slog.Logger
	pendingLimit int
	closed       chan struct{} // closed by the connection's closed handler
	closeOnce    sync.Once
	closing      atomic.Bool // Close was called: a disconnect is no news

	published atomic.Uint64
	received  atomic.Uint64

	mu          sync.Mutex
	subs        map[*natsgo.Subscription]struct{}
	droppedDone uint64 // dropped by subscriptions that ended
}

var _ docket.Bus = (*Bus)(nil)

// Open connects to the NATS server at rawURL (nats://host:4222, tls://,
// ws:// or wss://; several URLs of one cluster separated by commas) and
// returns the node's bus. It returns EINVALID for a bad URL or option and
// EUNAVAILABLE when no server answers before ctx is done or the connect
// timeout passes; once connected, it reconnects by itself.
func Open(ctx context.Context, rawURL string, opts Options) (*Bus, error) {
	servers, err := checkURLs(rawURL)
	if err != nil {
		return nil, err
	}
	if opts.Prefix != "" {
		if err := docket.CheckSubject(opts.Prefix); err != nil {
			return nil, docket.Errorf(docket.EINVALID, "Bus prefix: %s", docket.ErrorMessage(err))
		}
	}
	if opts.MaxReconnectWait < 0 || opts.PendingLimit < 0 {
		return nil, docket.Errorf(docket.EINVALID, "Bus options: MaxReconnectWait and PendingLimit must not be negative.")
	}
	if opts.Name == "" {
		opts.Name = DefaultName
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.MaxReconnectWait == 0 {
		opts.MaxReconnectWait = DefaultMaxReconnectWait
	}
	if opts.PendingLimit == 0 {
		opts.PendingLimit = DefaultPendingLimit
	}
	b := &Bus{
		prefix:       rootToken + ".",
		servers:      servers,
		log:          opts.Logger.With("bus", "nats"),
		pendingLimit: opts.PendingLimit,
		closed:       make(chan struct{}),
		subs:         map[*natsgo.Subscription]struct{}{},
	}
	if opts.Prefix != "" {
		b.prefix += opts.Prefix + "."
	}
	maxWait := opts.MaxReconnectWait
	natsOpts := []natsgo.Option{
		natsgo.Name(opts.Name),
		natsgo.NoEcho(),
		natsgo.MaxReconnects(-1),
		natsgo.CustomReconnectDelay(func(attempts int) time.Duration { return reconnectWait(attempts, maxWait) }),
		natsgo.PingInterval(pingInterval),
		natsgo.MaxPingsOutstanding(maxPingsOut),
		natsgo.DrainTimeout(drainTimeout),
		natsgo.DisconnectErrHandler(func(nc *natsgo.Conn, err error) {
			if b.closing.Load() {
				return
			}
			b.log.Warn("bus disconnected; reconnecting", "server", b.servers, "err", err)
		}),
		natsgo.ReconnectHandler(func(nc *natsgo.Conn) {
			b.log.Info("bus reconnected", "server", nc.ConnectedUrlRedacted(), "reconnects", nc.Stats().Reconnects)
		}),
		natsgo.ClosedHandler(func(*natsgo.Conn) { close(b.closed) }),
		natsgo.ErrorHandler(func(nc *natsgo.Conn, sub *natsgo.Subscription, err error) {
			subject := ""
			if sub != nil {
				subject = strings.TrimPrefix(sub.Subject, b.prefix)
			}
			if errors.Is(err, natsgo.ErrSlowConsumer) {
				b.log.Warn("bus subscriber falls behind; dropping its messages", "subject", subject, "limit", b.pendingLimit)
				return
			}
			b.log.Warn("bus error", "subject", subject, "err", err)
		}),
	}
	if deadline, ok := ctx.Deadline(); ok {
		natsOpts = append(natsOpts, natsgo.Timeout(max(time.Until(deadline), time.Millisecond)))
	}
	type result struct {
		conn *natsgo.Conn
		err  error
	}
	done := make(chan result, 1)
	go func() {
		conn, err := natsgo.Connect(rawURL, natsOpts...)
		done <- result{conn, err}
	}()
	var r result
	select {
	case r = <-done:
	case <-ctx.Done():
		go func() {
			if r := <-done; r.conn != nil {
				r.conn.Close()
			}
		}()
		return nil, unavailable(ctx.Err(), "Cannot reach NATS at %s: %v.", servers, ctx.Err())
	}
	if r.err != nil {
		return nil, unavailable(r.err, "Cannot reach NATS at %s: %v.", servers, r.err)
	}
	b.conn = r.conn
	b.log.Info("bus connected", "server", b.conn.ConnectedUrlRedacted(), "prefix", strings.TrimSuffix(b.prefix, "."))
	return b, nil
}

// checkURLs validates the comma-separated server URLs of Open and returns
// them without passwords, for messages.
func checkURLs(rawURL string) (string, error) {
	if strings.TrimSpace(rawURL) == "" {
		return "", docket.Errorf(docket.EINVALID, "NATS URL required, such as nats://127.0.0.1:4222.")
	}
	var shown []string
	for _, s := range strings.Split(rawURL, ",") {
		u, err := url.Parse(strings.TrimSpace(s))
		if err != nil {
			return "", docket.Errorf(docket.EINVALID, "NATS URL %q is not a URL: %v", s, err)
		}
		switch u.Scheme {
		case "nats", "tls", "ws", "wss":
		default:
			return "", docket.Errorf(docket.EINVALID, "NATS URL %q: the scheme must be nats, tls, ws or wss, such as nats://127.0.0.1:4222.", u.Redacted())
		}
		if u.Hostname() == "" {
			return "", docket.Errorf(docket.EINVALID, "NATS URL %q has no host.", u.Redacted())
		}
		shown = append(shown, u.Redacted())
	}
	return strings.Join(shown, ","), nil
}

// reconnectWait returns the pause before reconnect attempt number
// attempts: 100 ms doubled per attempt up to max, then a random part of it
// between a half and the whole, so that many nodes do not come back at
// the same instant.
func reconnectWait(attempts int, max time.Duration) time.Duration {
	d := max
	if attempts < 30 {
		d = min(minReconnectWait<<attempts, max)
	}
	return d/2 + rand.N(d/2+1)
}

// unavailable returns an EUNAVAILABLE error whose message is for users;
// its text, for logs, also has the cause.
func unavailable(cause error, format string, args ...any) error {
	return fmt.Errorf("%w (%v)", docket.Errorf(docket.EUNAVAILABLE, format, args...), cause)
}

// Publish sends data on subject to the other nodes. While the connection
// is down it is buffered (up to nats.go's reconnect buffer) and sent on
// reconnect. Returns EINVALID for a bad subject, ETOOLARGE over the
// server's payload limit and EUNAVAILABLE when the bus is closed or the
// buffer is full.
func (b *Bus) Publish(subject string, data []byte) error {
	if err := docket.CheckSubject(subject); err != nil {
		return err
	}
	err := b.conn.Publish(b.prefix+subject, data)
	switch {
	case err == nil:
		b.published.Add(1)
		return nil
	case errors.Is(err, natsgo.ErrMaxPayload):
		return fmt.Errorf("%w (%v)", docket.Errorf(docket.ETOOLARGE, "The bus message on %s is larger than the server allows (%d bytes).", subject, b.conn.MaxPayload()), err)
	case errors.Is(err, natsgo.ErrConnectionClosed), errors.Is(err, natsgo.ErrConnectionDraining):
		return unavailable(err, "The bus is closed.")
	default:
		return unavailable(err, "Cannot publish on the bus to %s: %v.", b.servers, err)
	}
}

// Subscribe calls fn with every message on subject from the other nodes,
// one at a time in the order they arrive, on a goroutine of the
// subscription. It returns once the server knows the subscription (when
// connected), so a message published after it returns reaches fn.
func (b *Bus) Subscribe(subject string, fn func(data []byte)) (unsubscribe func(), err error) {
	if err := docket.CheckSubject(subject); err != nil {
		return nil, err
	}
	if fn == nil {
		return nil, docket.Errorf(docket.EINVALID, "Subscribe needs a function to call.")
	}
	var stopped atomic.Bool
	sub, err := b.conn.Subscribe(b.prefix+subject, func(m *natsgo.Msg) {
		if stopped.Load() {
			return
		}
		b.received.Add(1)
		fn(m.Data)
	})
	if err != nil {
		if errors.Is(err, natsgo.ErrConnectionClosed) || errors.Is(err, natsgo.ErrConnectionDraining) {
			return nil, unavailable(err, "The bus is closed.")
		}
		return nil, unavailable(err, "Cannot subscribe to %s on the bus: %v.", subject, err)
	}
	if err := sub.SetPendingLimits(b.pendingLimit, pendingBytesLimit); err != nil {
		_ = sub.Unsubscribe()
		return nil, unavailable(err, "Cannot subscribe to %s on the bus: %v.", subject, err)
	}
	b.mu.Lock()
	b.subs[sub] = struct{}{}
	b.mu.Unlock()
	if b.conn.IsConnected() {
		// A failed round trip leaves a subscription that nats.go sends
		// again on reconnect: what is published meanwhile is lost, as
		// the contract allows.
		if err := b.conn.FlushTimeout(subscribeFlushTimeout); err != nil {
			b.log.Warn("bus subscription not confirmed by the server", "subject", subject, "err", err)
		}
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			stopped.Store(true)
			b.mu.Lock()
			if n, err := sub.Dropped(); err == nil {
				b.droppedDone += uint64(n)
			}
			delete(b.subs, sub)
			b.mu.Unlock()
			// An error means the connection is closed or draining, which
			// ends the subscription anyway.
			_ = sub.Unsubscribe()
		})
	}, nil
}

// Ping reports whether the bus can carry messages now: nil when it is
// connected and the server answers a round trip before ctx is done (or
// within 5 s when ctx has no deadline), else
// EUNAVAILABLE naming the server and what is wrong (for /healthz).
func (b *Bus) Ping(ctx context.Context) error {
	status := b.conn.Status()
	if status != natsgo.CONNECTED {
		if err := b.conn.LastError(); err != nil {
			return unavailable(err, "The bus to NATS at %s is %s: %v.", b.servers, strings.ToLower(status.String()), err)
		}
		return docket.Errorf(docket.EUNAVAILABLE, "The bus to NATS at %s is %s.", b.servers, strings.ToLower(status.String()))
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, pingTimeout)
		defer cancel()
	}
	if err := b.conn.FlushWithContext(ctx); err != nil {
		return unavailable(err, "NATS at %s does not answer: %v.", b.conn.ConnectedUrlRedacted(), err)
	}
	return nil
}

// Stats are a bus's counters since Open, for /metrics.
type Stats struct {
	Published  uint64 // messages handed to the server (or its reconnect buffer)
	Received   uint64 // messages handed to a subscriber's function
	Dropped    uint64 // messages lost because a subscriber fell behind
	Reconnects uint64 // times the connection was re-established
}

// Stats returns the bus's counters.
func (b *Bus) Stats() Stats {
	b.mu.Lock()
	dropped := b.droppedDone
	for sub := range b.subs {
		if n, err := sub.Dropped(); err == nil {
			dropped += uint64(n)
		}
	}
	b.mu.Unlock()
	return Stats{
		Published:  b.published.Load(),
		Received:   b.received.Load(),
		Dropped:    dropped,
		Reconnects: b.conn.Stats().Reconnects,
	}
}

// Close drains the bus: it stops taking messages, lets every subscriber
// handle what it already received and sends what was published, then
// closes the connection (within 10 s). Later calls do nothing.
func (b *Bus) Close() error {
	var err error
	b.closeOnce.Do(func() {
		b.closing.Store(true)
		if dErr := b.conn.Drain(); dErr != nil && !errors.Is(dErr, natsgo.ErrConnectionReconnecting) {
			if errors.Is(dErr, natsgo.ErrConnectionClosed) {
				return
			}
			b.conn.Close()
			err = fmt.Errorf("nats: drain: %w", dErr)
		}
		select {
		case <-b.closed:
		case <-time.After(drainTimeout + time.Second):
			b.conn.Close()
			err = errors.New("nats: drain did not finish in time; closed")
		}
		b.log.Info("bus closed", "server", b.servers)
	})
	return err
}
