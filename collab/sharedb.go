package collab

import (
	"context"
	"crypto/rand"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	docket "github.com/docket-dev/docket"
)

// This file holds the public side of the ShareDB wire protocol adapter
// (protocol 1.2, collection "docs", type text-unicode): [Live] serves
// connections, [Conn] is the socket it needs and [Documents] the
// permission-checked reads it makes. A connection itself (a reader
// goroutine, and a writer goroutine while there is output) is a conn, in
// conn.go and the files named after it; the wire frames are in
// sharedb_frames.go.

// WebSocket message types and close codes (RFC 6455). The values are the
// ones gorilla/websocket uses, so a *websocket.Conn can be passed as a
// [Conn] directly.
const (
	textMessage  = 1
	closeMessage = 8
	pingMessage  = 9

	// CloseNormal ends a connection normally.
	CloseNormal = 1000
	// CloseGoingAway tells clients the server is shutting down.
	CloseGoingAway = 1001
	// ClosePolicyViolation closes a connection that keeps breaking the
	// rate limits.
	ClosePolicyViolation = 1008
	// CloseMessageTooBig closes a connection that sent a message over the
	// read limit (gorilla/websocket sends it itself).
	CloseMessageTooBig = 1009
	// CloseInternalError closes a connection after a server fault.
	CloseInternalError = 1011
	// CloseTryAgainLater closes a connection that fell behind (slow reader)
	// or whose op could not be stored; the client reconnects, resubscribes
	// from its last version and resends its pending op.
	CloseTryAgainLater = 1013
)

// Conn is the part of a WebSocket connection the protocol uses.
// *websocket.Conn from gorilla/websocket satisfies it. ReadMessage is
// called by one goroutine and WriteMessage by another, as gorilla allows;
// WriteControl and Close may be called from either.
type Conn interface {
	ReadMessage() (messageType int, p []byte, err error)
	WriteMessage(messageType int, data []byte) error
	WriteControl(messageType int, data []byte, deadline time.Time) error
	SetReadLimit(limit int64)
	SetReadDeadline(t time.Time) error
	SetWriteDeadline(t time.Time) error
	SetPongHandler(h func(appData string) error)
	Close() error
}

type credentialKey struct{}

// WithCredentialCheck returns a copy of ctx for [Live.Serve] that carries a
// check of the credentials the connection was opened with (a session
// cookie or an API token). The connection runs it with every permission
// recheck and closes with 1008 once it fails with EUNAUTHORIZED, so
// signing out, a password change or a revoked token also ends open
// sockets within seconds.
func WithCredentialCheck(ctx context.Context, check func(context.Context) error) context.Context {
	return context.WithValue(ctx, credentialKey{}, check)
}

// Batcher is an optional part of a [Conn]: between BeginBatch and
// FlushBatch, written frames are collected and then sent in one write, so
// a connection that has several frames waiting costs one system call.
// Frames written by other goroutines meanwhile (control frames) join the
// batch whole.
type Batcher interface {
	BeginBatch()
	FlushBatch(deadline time.Time) error
}

// Documents is the part of [docket.DocumentService] the protocol needs.
// It is always called with the connection's context, which carries the
// user, so every answer is checked against the caller's role: a document
// the caller may not read is ENOTFOUND, exactly like a missing one.
type Documents interface {
	// FindDocumentMeta returns a document without its body, with the
	// caller's Role filled in. Returns ENOTFOUND.
	FindDocumentMeta(ctx context.Context, id string) (*docket.Document, error)
	// DocumentAt returns the text at a version. Returns ENOTFOUND, EINVALID.
	DocumentAt(ctx context.Context, id string, version int64) (string, error)
	// FindOps returns op log entries with from <= version < to, at most
	// limit. Returns ENOTFOUND.
	FindOps(ctx context.Context, id string, from, to int64, limit int) ([]*docket.OpRecord, error)
}

var _ Documents = docket.DocumentService(nil)

// LiveOptions tune the connections of a [Live]. Zero fields take the
// defaults shown.
type LiveOptions struct {
	// MaxMessageBytes is the read limit; a larger message closes the
	// connection with 1009 (256 KiB).
	MaxMessageBytes int64
	// SendQueue is how many replies may wait for the writer; a client
	// that lets it fill is disconnected (128).
	SendQueue int
	// EventQueue is the most events the hub subscriber queue holds; a
	// client that lets it fill is dropped by the hub and disconnected
	// (512). The hub delivers up to 256 ops of one commit batch at once,
	// so it must be well over 256; the queue takes memory only while it
	// holds events.
	EventQueue int
	// WriteTimeout bounds every write (10 s).
	WriteTimeout time.Duration
	// ObserveAck, if set, is called by a connection's writer for every
	// op whose ack it wrote, with the time from reading the op to
	// writing the ack (for metrics; must be quick).
	ObserveAck func(time.Duration)
	// WriterIdle is how long a connection's writer goroutine waits for
	// more output before it stops; the next output starts it again (1 s).
	WriterIdle time.Duration
	// WritePace is the shortest time between two writes to one
	// connection (5 ms; negative: no pause). A writer that has just
	// written waits this long before it writes again, so that under a
	// stream of ops the frames that arrive meanwhile go out in one write
	// and one wake-up instead of one each; a connection that has been
	// quiet is written to at once. It adds at most WritePace to a frame's
	// delay.
	WritePace time.Duration
	// PingInterval is how often the server pings (30 s).
	PingInterval time.Duration
	// PongTimeout closes a connection that sent nothing, not even a
	// pong, for this long (60 s).
	PongTimeout time.Duration
	// OpRate and OpBurst limit ops per connection (100/s, burst 200).
	OpRate  float64
	OpBurst int
	// MessageRate and MessageBurst limit messages of any kind (500/s,
	// burst 1000).
	MessageRate  float64
	MessageBurst int
	// PresenceRate and PresenceBurst limit presence updates (50/s,
	// burst 100).
	PresenceRate  float64
	PresenceBurst int
	// StrikeRate and StrikeBurst decide when refusals become abuse: each
	// refused message costs a strike, and a connection out of strikes is
	// closed with 1008 (10/s, burst 100).
	StrikeRate  float64
	StrikeBurst int
	// Epoch, if set, returns a number that changes whenever a
	// permission or a credential may have been revoked (a member removed,
	// a token deleted, a sign-out). Rechecks then run only when it
	// changed, or after FullRecheck, so idle connections cost nothing.
	Epoch func() uint64
	// FullRecheck is how often every connection rechecks even when Epoch
	// has not changed, for expiries (1 min).
	FullRecheck time.Duration
	// RecheckInterval is how often the read permission of every document
	// in use is checked again, so a revoked member is cut off (2 s).
	RecheckInterval time.Duration
	// HubTimeout bounds each call into the hub (30 s).
	HubTimeout time.Duration
	// MaxDocuments is how many documents one connection may use at once
	// (1000).
	MaxDocuments int
	// MaxCatchUp is the most ops sent to bring a client up to date; a
	// client further behind gets an error and must fetch again (10000).
	MaxCatchUp int64
	// MaxPresenceBytes caps a presence value (16 KiB).
	MaxPresenceBytes int
	// Logger receives internal errors.
	Logger *slog.Logger
}

func (o *LiveOptions) setDefaults() {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	defDur := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	defRate := func(v *float64, d float64) {
		if *v <= 0 {
			*v = d
		}
	}
	if o.MaxMessageBytes <= 0 {
		o.MaxMessageBytes = 256 << 10
	}
	def(&o.SendQueue, 128)
	def(&o.EventQueue, 512)
	defDur(&o.WriteTimeout, 10*time.Second)
	defDur(&o.WriterIdle, time.Second)
	if o.WritePace == 0 {
		o.WritePace = 5 * time.Millisecond
	}
	defDur(&o.PingInterval, 30*time.Second)
	defDur(&o.PongTimeout, 60*time.Second)
	defRate(&o.OpRate, 100)
	def(&o.OpBurst, 200)
	defRate(&o.MessageRate, 500)
	def(&o.MessageBurst, 1000)
	defRate(&o.PresenceRate, 50)
	def(&o.PresenceBurst, 100)
	defRate(&o.StrikeRate, 10)
	def(&o.StrikeBurst, 100)
	defDur(&o.RecheckInterval, 2*time.Second)
	defDur(&o.FullRecheck, time.Minute)
	defDur(&o.HubTimeout, 30*time.Second)
	def(&o.MaxDocuments, 1000)
	if o.MaxCatchUp <= 0 {
		o.MaxCatchUp = 10000
	}
	def(&o.MaxPresenceBytes, 16<<10)
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
}

// Live serves the ShareDB protocol on WebSocket connections, on top of a
// [Hub]. It keeps track of its connections so that [Live.Shutdown] can
// close them all.
type Live struct {
	hub   *Hub
	store Documents
	opts  LiveOptions

	mu      sync.Mutex
	conns   map[*conn]struct{}
	srcs    map[string]*conn // agent id -> the connection that uses it
	closing bool
	ticking bool // the ticker goroutine runs
	wg      sync.WaitGroup

	start   time.Time    // the origin of the ticker's clock
	writers atomic.Int64 // writer goroutines running
}

// NewLive returns a protocol server over hub that checks permissions and
// reads history through store.
func NewLive(hub *Hub, store Documents, opts LiveOptions) *Live {
	opts.setDefaults()
	return &Live{hub: hub, store: store, opts: opts, conns: map[*conn]struct{}{}, srcs: map[string]*conn{}, start: time.Now()}
}

// Serve speaks the protocol on conn until the connection ends, and then
// closes it. ctx must carry the authenticated user ([docket.UserFromContext]);
// every permission check and every op's author use that user, never a
// field of a message. Serve returns EUNAUTHORIZED without a user and
// EUNAVAILABLE after [Live.Shutdown]; it closes conn in every case.
func (l *Live) Serve(ctx context.Context, ws Conn) error {
	user := docket.UserFromContext(ctx)
	if user == nil {
		ws.Close()
		return docket.Errorf(docket.EUNAUTHORIZED, "Sign in first.")
	}
	c := newConn(l, ctx, ws, user.ID)
	if !l.add(c) {
		ws.WriteControl(closeMessage, closePayload(CloseGoingAway, "The server is shutting down."), time.Now().Add(time.Second))
		ws.Close()
		return docket.Errorf(docket.EUNAVAILABLE, "The server is shutting down.")
	}
	defer l.wg.Done()
	c.run()
	return nil
}

// Connections returns the number of open connections.
func (l *Live) Connections() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.conns)
}

// Shutdown refuses new connections, closes the open ones with code 1001
// (going away) so that clients reconnect elsewhere or later, and waits
// until they have unsubscribed from the hub or ctx ends.
func (l *Live) Shutdown(ctx context.Context) error {
	l.mu.Lock()
	l.closing = true
	conns := make([]*conn, 0, len(l.conns))
	for c := range l.conns {
		conns = append(conns, c)
	}
	l.mu.Unlock()
	for _, c := range conns {
		c.close(CloseGoingAway, "The server is restarting; reconnect.")
	}
	done := make(chan struct{})
	go func() {
		l.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (l *Live) add(c *conn) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closing {
		return false
	}
	now := l.now()
	c.nextPing = now + int64(l.opts.PingInterval)
	c.nextRecheck = now + int64(l.opts.RecheckInterval)
	// The first recheck runs whatever the epoch: something may have been
	// revoked between the upgrade's authentication and now.
	c.checkedAt = now - int64(l.opts.FullRecheck)
	l.conns[c] = struct{}{}
	l.srcs[c.src] = c
	l.wg.Add(1)
	if !l.ticking {
		l.ticking = true
		go l.tick()
	}
	return true
}

// now is the ticker's clock: monotonic nanoseconds since NewLive.
func (l *Live) now() int64 { return int64(time.Since(l.start)) }

// tick is one ticker for the pings and permission rechecks of every
// connection, so that an idle connection needs no timer and no goroutine
// of its own: a few times per RecheckInterval it marks what is due and
// kicks those connections' writers. Each connection is due on its own
// schedule (from when it connected), which spreads the work. It runs
// while there are connections.
func (l *Live) tick() {
	period := min(l.opts.RecheckInterval, l.opts.PingInterval) / 4
	period = max(period, 5*time.Millisecond)
	t := time.NewTicker(period)
	defer t.Stop()
	var conns []*conn
	for range t.C {
		l.mu.Lock()
		if len(l.conns) == 0 {
			l.ticking = false
			l.mu.Unlock()
			return
		}
		for c := range l.conns {
			conns = append(conns, c)
		}
		l.mu.Unlock()
		var epoch uint64
		if l.opts.Epoch != nil {
			epoch = l.opts.Epoch()
		}
		now := l.now()
		for _, c := range conns {
			l.due(c, now, epoch)
		}
		clear(conns)
		conns = conns[:0]
	}
}

// due marks the ping and recheck of c that are due at now and kicks its
// writer if there are any. Called by the ticker only.
func (l *Live) due(c *conn, now int64, epoch uint64) {
	kick := false
	if now >= c.nextPing {
		c.nextPing = now + int64(l.opts.PingInterval)
		c.pingDue.Store(true)
		kick = true
	}
	if now >= c.nextRecheck {
		c.nextRecheck = now + int64(l.opts.RecheckInterval)
		// With Epoch, only when something may have been revoked since
		// the last recheck, or for expiries after FullRecheck. The epoch
		// is read before the recheck runs, so a change during it leads to
		// another.
		if l.opts.Epoch == nil || epoch != c.checkedEpoch || now-c.checkedAt >= int64(l.opts.FullRecheck) {
			c.checkedEpoch, c.checkedAt = epoch, now
			c.recheckDue.Store(true)
			kick = true
		}
	}
	if kick {
		c.kick()
	}
}

func (l *Live) remove(c *conn) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.conns, c)
	if l.srcs[c.src] == c {
		delete(l.srcs, c.src)
	}
}

// claim makes c the connection of agent id src and returns the connection
// that had it, if any: a client that reconnects while its old socket is still
// open on the server (a half-open TCP connection) takes its id over.
func (l *Live) claim(c *conn, old, src string) *conn {
	l.mu.Lock()
	defer l.mu.Unlock()
	prev := l.srcs[src]
	if l.srcs[old] == c {
		delete(l.srcs, old)
	}
	l.srcs[src] = c
	if prev == c {
		return nil
	}
	return prev
}

// newSrc returns a fresh agent id. Agent ids start with the user's id, so
// that a client may only adopt (and de-duplicate against) its own user's
// ids; see validSrc.
func newSrc(userID string) string {
	return userID + "." + rand.Text()[:20]
}

// validSrc reports whether src is an agent id the user may adopt: one
// made by newSrc for that user.
func validSrc(userID, src string) bool {
	rest, ok := strings.CutPrefix(src, userID+".")
	if !ok || len(rest) < 8 || len(rest) > 40 {
		return false
	}
	for i := 0; i < len(rest); i++ {
		c := rest[i]
		if !(c >= 'A' && c <= 'Z' || c >= '2' && c <= '7') {
			return false
		}
	}
	return true
}
