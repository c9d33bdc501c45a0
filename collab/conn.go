package collab

import (
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	docket "github.com/docket-dev/docket"
	"golang.org/x/time/rate"
)

// This file is a connection's life: it is made, its reader goroutine
// reads messages from the socket and hands each to the handler of its
// kind (conn_ops.go, conn_subscribe.go, presence.go), and when it ends
// it leaves the hub. Its writer is in conn_writer.go.

// conn is one client connection. The reader goroutine (the caller of
// run) reads messages and serves them one at a time, calling into the hub;
// a writer goroutine (writeLoop) is the only one that writes to the
// socket. The writer runs on demand: whatever has output for the client
// (a reply queued by the reader, the hub's events, a drop, the ping and
// recheck timers of [Live]'s ticker) calls kick, which starts it when it
// is not running, and it stops after WriterIdle with nothing to do, so an
// idle connection has no writer goroutine. Replies reach the writer
// through a bounded queue (outq), the hub's events through the
// subscriber's own bounded queue. Whatever overflows closes the
// connection; nothing ever waits for a slow client.
type conn struct {
	// Owned by Live's ticker: when the next ping and the next permission
	// recheck are due (nanoseconds on Live's clock), and the Epoch and
	// time of the last recheck.
	nextPing, nextRecheck int64
	checkedEpoch          uint64
	checkedAt             int64

	live   *Live
	hub    *Hub
	store  Documents
	opts   *LiveOptions
	log    *slog.Logger
	ws     Conn
	ctx    context.Context
	cancel context.CancelFunc
	userID string

	// src is the agent id; it may change on hs until the subscriber exists.
	// Owned by the reader.
	src string
	// readAt is when the reader read the message it handles.
	readAt time.Time
	// sub receives the hub's events; created by the reader on first use.
	sub atomic.Pointer[Subscriber]

	opLimit, msgLimit, presenceLimit, strikes *rate.Limiter

	outMu sync.Mutex
	outq  []outItem // replies for the writer; nil while empty

	// writing is set while a writer goroutine runs; wake tells a running
	// writer that there is something new. pingDue and recheckDue are set
	// by Live's ticker.
	writing atomic.Bool
	wake    chan struct{}
	// urgent cuts the writer's pause short: a reply (an ack above all)
	// waits for no pacing, only broadcast frames do.
	urgent     chan struct{}
	pingDue    atomic.Bool
	recheckDue atomic.Bool
	// writerEpoch is the Epoch of the writer's last recheck, opEpoch that
	// of the reader's last credential check: when Epoch has moved since,
	// access may have been revoked, and the writer rechecks before it
	// delivers anything, the reader before it submits an op.
	writerEpoch, opEpoch uint64
	// frames is the writer's frame list, kept between rounds while the
	// writer runs; only the running writer touches it.
	frames [][]byte
	events []Event // the writer's spare event queue, the same way
	// paceTimer is the writer's pause timer, kept while it runs.
	paceTimer *time.Timer
	// acked are, during a round of the writer, the times the ops whose
	// acks it writes were read (for LiveOptions.ObserveAck).
	acked []time.Time

	done       chan struct{} // closed when the connection starts closing
	readerDone chan struct{}
	writerDone chan struct{} // closed when the last writer has closed the socket
	finished   chan struct{} // closed after cleanup
	closeOnce  sync.Once
	closeCode  int
	closeMsg   string
	hurry      atomic.Bool // close without waiting for the client's answer

	mu       sync.Mutex           // guards state and overflow
	state    map[string]*docState // made on first use
	overflow bool
}

// docState is what a connection knows about one document in use.
type docState struct {
	subscribed bool // subscribed to ops in the hub
	// Ordering of op frames for a subscribed document: every frame for a
	// version below next has been sent; frames at next and above wait in
	// pending until they can go out in order. While syncing, a
	// subscription is being set up and events only wait.
	syncing bool
	next    int64
	pending map[int64]pendingFrame

	presenceSub bool                     // subscribed to the presence channel
	presences   map[string]presenceState // presence id -> last state sent
}

// pendingFrame is an op frame waiting for its turn: a committed op or the
// ack of the client's own op.
type pendingFrame struct {
	rec   *docket.OpRecord
	frame []byte // rec's frame when the hub built it, else nil
	ack   []byte
}

// maxPending bounds the frames waiting for a gap to fill; a connection over
// it is closed and the client resynchronises.
const maxPending = 4096

func newConn(l *Live, ctx context.Context, ws Conn, userID string) *conn {
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	o := &l.opts
	return &conn{
		live: l, hub: l.hub, store: l.store, opts: o, log: o.Logger, ws: ws,
		ctx: ctx, cancel: cancel, userID: userID, src: newSrc(userID),
		opLimit:       rate.NewLimiter(rate.Limit(o.OpRate), o.OpBurst),
		msgLimit:      rate.NewLimiter(rate.Limit(o.MessageRate), o.MessageBurst),
		presenceLimit: rate.NewLimiter(rate.Limit(o.PresenceRate), o.PresenceBurst),
		strikes:       rate.NewLimiter(rate.Limit(o.StrikeRate), o.StrikeBurst),
		wake:          make(chan struct{}, 1),
		urgent:        make(chan struct{}, 1),
		done:          make(chan struct{}),
		readerDone:    make(chan struct{}),
		writerDone:    make(chan struct{}),
		finished:      make(chan struct{}),
	}
}

// run serves the connection until it ends, then leaves the hub.
func (c *conn) run() {
	defer close(c.finished)
	defer c.cancel()
	defer c.live.remove(c)
	ws := c.ws
	ws.SetReadLimit(c.opts.MaxMessageBytes)
	ws.SetReadDeadline(time.Now().Add(c.opts.PongTimeout))
	ws.SetPongHandler(func(string) error {
		if c.closing() {
			return nil
		}
		return ws.SetReadDeadline(time.Now().Add(c.opts.PongTimeout))
	})
	c.send(initFrame(c.src))
	c.readLoop()
	close(c.readerDone)
	c.close(CloseNormal, "")
	<-c.writerDone
	c.cleanup()
}

// close starts closing the connection with a close code; the first call
// wins.
func (c *conn) close(code int, reason string) {
	c.closeOnce.Do(func() {
		c.closeCode, c.closeMsg = code, reason
		close(c.done)
		c.kick() // the writer sends the close frame
	})
}

// closing reports whether the connection is closing.
func (c *conn) closing() bool { return isClosed(c.done) }

func (c *conn) readLoop() {
	defer func() {
		if r := recover(); r != nil {
			c.log.Error("live: panic in reader", slog.Any("panic", r), slog.String("user", c.userID))
			c.close(CloseInternalError, "Internal error.")
		}
	}()
	draining := false
	for {
		typ, data, err := c.ws.ReadMessage()
		if err != nil {
			// A message over the read limit has already been answered
			// with 1009 by the WebSocket library.
			c.close(CloseNormal, "")
			return
		}
		if c.closing() {
			// The close frame is (being) sent: read on, discarding, until
			// the client answers it, so that the socket is not closed
			// with unread data (which resets the connection and can lose
			// the close frame on the client's side).
			if !draining {
				draining = true
				c.ws.SetReadDeadline(time.Now().Add(closeGrace))
			}
			continue
		}
		c.readAt = time.Now()
		c.ws.SetReadDeadline(c.readAt.Add(c.opts.PongTimeout))
		if typ != textMessage {
			c.sendError(nil, errBadMessage, "Messages must be JSON in text frames.")
			continue
		}
		c.handle(data)
	}
}

// handle serves one message.
func (c *conn) handle(data []byte) {
	if !utf8.Valid(data) {
		c.sendError(nil, errBadMessage, "Messages must be UTF-8 JSON.")
		c.strike()
		return
	}
	var m message
	if err := json.Unmarshal(data, &m); err != nil {
		c.sendError(data, errBadMessage, "Invalid or unknown message")
		c.strike()
		return
	}
	if !c.msgLimit.Allow() {
		c.sendError(data, errRateLimited, "Too many messages; slow down.")
		c.strike()
		return
	}
	switch m.A {
	case "hs":
		c.handshake(&m)
	case "pp":
		c.send([]byte(`{"a":"pp"}`))
	case "f":
		c.fetch(&m, data)
	case "s":
		c.subscribe(&m, data)
	case "u":
		c.unsubscribe(&m, data)
	case "bf", "bs", "bu":
		c.bulk(&m, data)
	case "op":
		c.submit(&m, data)
	case "nf":
		c.snapshotAt(&m, data)
	case "ps", "pu", "p", "pr":
		c.presence(&m, data)
	case "qf", "qs", "qu", "nt":
		c.sendError(data, errBadMessage, "Queries and snapshots by time are not supported; use the REST API.")
	default:
		c.sendError(data, errBadMessage, "Invalid or unknown message")
	}
}

// handshake answers hs. A client that reconnects sends the id it had; it
// is adopted (if it is one of this user's ids) so that resent ops
// de-duplicate.
func (c *conn) handshake(m *message) {
	id, ok := parseString(m.ID)
	if ok && id != "" && id != c.src && c.sub.Load() == nil && validSrc(c.userID, id) {
		old := c.src
		c.src = id
		if prev := c.live.claim(c, old, id); prev != nil {
			// The old socket of this client is still open (half-open
			// TCP); it is dead to the client, so it goes, and its
			// presence is cleared before the new one announces any.
			prev.hurry.Store(true)
			prev.close(CloseNormal, "Replaced by a newer connection.")
			select {
			case <-prev.finished:
			case <-time.After(5 * time.Second):
			}
		}
	}
	c.send(handshakeFrame("hs", c.src))
}

// send queues a frame for the writer. A full queue means the client does
// not read: the connection is closed.
func (c *conn) send(frame []byte) { c.enqueue(outItem{frame: frame}) }

func (c *conn) enqueue(it outItem) {
	c.outMu.Lock()
	if len(c.outq) >= c.opts.SendQueue {
		c.outMu.Unlock()
		c.close(CloseTryAgainLater, "Too slow to keep up; reconnect.")
		return
	}
	c.outq = append(c.outq, it)
	c.outMu.Unlock()
	c.kick()
	select {
	case c.urgent <- struct{}{}:
	default:
	}
}

// takeOut returns the queued replies, oldest first, and empties the queue.
func (c *conn) takeOut() []outItem {
	c.outMu.Lock()
	defer c.outMu.Unlock()
	q := c.outq
	c.outq = nil
	return q
}

func (c *conn) sendError(request []byte, code, msg string) {
	c.send(errorFrame(request, code, msg))
}

// version reads the request's optional version (-1 when absent); when it
// is not one, it answers the request with an error and ok is false.
func (c *conn) version(m *message, request []byte) (v int64, ok bool) {
	v, ok = parseVersion(m.V)
	if !ok {
		c.sendError(request, errBadMessage, "Invalid version")
	}
	return v, ok
}

// replyErr sends the request back with err translated.
func (c *conn) replyErr(request []byte, err error, forOp bool) {
	code, msg := wireError(err, forOp)
	if code == errUnknown {
		c.log.Error("live: request failed", slog.Any("err", err), slog.String("user", c.userID))
	}
	c.sendError(request, code, msg)
}

// strike counts a refused message; a client that runs out of strikes is
// abusing the connection and is closed with 1008.
func (c *conn) strike() {
	if !c.strikes.Allow() {
		c.close(ClosePolicyViolation, "Too many requests.")
	}
}

func (c *conn) hubCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(c.ctx, c.opts.HubTimeout)
}

// ensureSub returns the hub subscriber, creating it on first use; from
// then on the agent id is fixed.
func (c *conn) ensureSub() *Subscriber {
	if sub := c.sub.Load(); sub != nil {
		return sub
	}
	sub := NewSubscriber(c.src, c.userID, c.opts.EventQueue)
	sub.notify = c.kick
	c.sub.Store(sub)
	return sub
}

// checkDoc checks the collection and id of a request and the caller's
// read permission.
func (c *conn) checkDoc(coll, id string) (*docket.Document, error) {
	if coll != shareDBCollection {
		return nil, docket.Errorf(docket.ENOTFOUND, "Unknown collection %q; documents are in %q.", coll, shareDBCollection)
	}
	if !docket.ValidID(id) {
		return nil, docket.Errorf(docket.ENOTFOUND, "Document not found.")
	}
	ctx, cancel := c.hubCtx()
	defer cancel()
	return c.store.FindDocumentMeta(ctx, id)
}

// stateFor returns the state of a document, creating it. Call with c.mu
// held.
func (c *conn) stateFor(id string) *docState {
	st := c.state[id]
	if st == nil {
		if c.state == nil {
			c.state = map[string]*docState{}
		}
		st = &docState{}
		c.state[id] = st
	}
	return st
}

// gc forgets a document nothing uses any more. Call with c.mu held.
func (c *conn) gc(id string) {
	if st := c.state[id]; st != nil && !st.subscribed && !st.presenceSub && len(st.presences) == 0 {
		delete(c.state, id)
	}
}

// tooMany reports whether using one more document is over the limit.
func (c *conn) tooMany(id string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state[id] == nil && len(c.state) >= c.opts.MaxDocuments
}

var errTooManyDocs = docket.Errorf(docket.EUNPROCESS, "Too many documents open on one connection.")

// revoke cuts the connection off a document the user may no longer read:
// its presence is cleared, its subscriptions end and the client is told
// with an error. Called by the writer.
func (c *conn) revoke(id, msg string) []byte {
	c.mu.Lock()
	st := c.state[id]
	delete(c.state, id)
	c.mu.Unlock()
	if st == nil {
		return nil
	}
	sub := c.sub.Load()
	c.clearPresences(id, st.presences)
	if st.presenceSub && sub != nil {
		c.hub.UnsubscribePresence(id, sub)
	}
	if st.subscribed && sub != nil {
		c.hub.Unsubscribe(id, sub)
	}
	if st.subscribed {
		return append(docFrame(nil, "op", id), `,"error":`+string(errorObject(errDocMissing, msg))+`}`...)
	}
	b := []byte(`{"a":"p","ch":`)
	b = appendString(b, presencePrefix+id)
	return append(b, `,"error":`+string(errorObject(errDocMissing, msg))+`}`...)
}

// cleanup leaves the hub once both goroutines have ended: presences are
// cleared for the others and every subscription ends.
func (c *conn) cleanup() {
	c.mu.Lock()
	state := c.state
	c.state = nil
	c.mu.Unlock()
	sub := c.sub.Load()
	for id, st := range state {
		c.clearPresences(id, st.presences)
		if sub == nil {
			continue
		}
		if st.presenceSub {
			c.hub.UnsubscribePresence(id, sub)
		}
		if st.subscribed {
			c.hub.Unsubscribe(id, sub)
		}
	}
}
