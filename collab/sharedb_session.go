package collab

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	docket "github.com/docket-dev/docket"
	"github.com/docket-dev/docket/collab/ot"
	"golang.org/x/time/rate"
)

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
	ws   Conn
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
	// frames is the writer's frame list, kept between rounds while the
	// writer runs; only the running writer touches it.
	frames [][]byte
	events []Event // the writer's spare event queue, the same way
	// paceTimer is the writer's pause timer, kept while it runs.
	paceTimer *time.Timer
	// acked are, during a round of the writer, the times the ops whose
	// acks it writes were read (for LiveOptions.ObserveAck).
	acked []time.Time

	done       chan struct{} // closed when the session starts closing
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

// docState is what a session knows about one document in use.
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

type presenceState struct {
	pv    int64
	value json.RawMessage
}

// maxPending bounds the frames waiting for a gap to fill; a session over
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

// close starts closing the session with a close code; the first call wins.
func (c *conn) close(code int, reason string) {
	c.closeOnce.Do(func() {
		c.closeCode, c.closeMsg = code, reason
		close(c.done)
		c.kick() // the writer sends the close frame
	})
}

func (c *conn) closing() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

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

// send queues a frame for the writer. A full queue means the client does
// not read: the session is closed.
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

// loadOps reads the op log from from to to, at most MaxCatchUp ops.
func (c *conn) loadOps(id string, from, to int64) ([]*docket.OpRecord, error) {
	if to-from > c.opts.MaxCatchUp {
		return nil, errBehind(to - from)
	}
	ctx, cancel := c.hubCtx()
	defer cancel()
	return docket.FindAllOps(ctx, c.store, id, from, to)
}

// errBehind refuses to catch up a client that is n versions behind.
func errBehind(n int64) error {
	return &docket.Error{Code: docket.EUNPROCESS, Message: fmt.Sprintf("The client is %d versions behind; fetch the document again.", n), Data: map[string]any{"behind": n}}
}

// catchUpError sends the reply for a client too far behind, if err says so.
func (c *conn) catchUpError(request []byte, err error) bool {
	if _, ok := docket.ErrorData(err)["behind"]; ok {
		c.sendError(request, errCatchUpTooLong, docket.ErrorMessage(err))
		return true
	}
	return false
}

// fetch answers f: the current snapshot, or with a version the ops since.
func (c *conn) fetch(m *message, raw []byte) {
	v, ok := parseVersion(m.V)
	if !ok {
		c.sendError(raw, errBadMessage, "Invalid version")
		return
	}
	if _, err := c.checkDoc(m.C, m.D); err != nil {
		c.replyErr(raw, err, false)
		return
	}
	if v < 0 {
		ctx, cancel := c.hubCtx()
		version, text, err := c.hub.Snapshot(ctx, m.D)
		cancel()
		if err != nil {
			c.replyErr(raw, err, false)
			return
		}
		c.send(snapshotFrame("f", m.D, version, text))
		return
	}
	d, err := c.fetchOps(m.D, v)
	if err != nil {
		if !c.catchUpError(raw, err) {
			c.replyErr(raw, err, false)
		}
		return
	}
	c.enqueue(outItem{sync: &syncItem{docs: []syncDoc{d}, reply: docReply("f", m.D)}})
}

// fetchOps reads the ops from version v to the current one.
func (c *conn) fetchOps(id string, v int64) (syncDoc, error) {
	ctx, cancel := c.hubCtx()
	current, _, err := c.hub.Snapshot(ctx, id)
	cancel()
	if err != nil {
		return syncDoc{}, err
	}
	if v > current {
		return syncDoc{}, &docket.Error{Code: docket.ECONFLICT, Message: fmt.Sprintf("Version %d is newer than the document (%d).", v, current)}
	}
	ops, err := c.loadOps(id, v, current)
	if err != nil {
		return syncDoc{}, err
	}
	return syncDoc{id: id, ops: ops, at: v + int64(len(ops))}, nil
}

// stateFor returns the state of a document, creating it. Call with s.mu
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

// gc forgets a document nothing uses any more. Call with s.mu held.
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

// subscribeDoc subscribes to a document's ops from version from, or from
// a snapshot when from < 0, and returns what the writer must send.
func (c *conn) subscribeDoc(coll, id string, from int64) (syncDoc, string, error) {
	meta, err := c.checkDoc(coll, id)
	if err != nil {
		return syncDoc{}, "", err
	}
	if from > meta.Version {
		return syncDoc{}, "", &docket.Error{Code: docket.ECONFLICT, Message: fmt.Sprintf("Version %d is newer than the document (%d).", from, meta.Version)}
	}
	if from >= 0 && meta.Version-from > c.opts.MaxCatchUp {
		return syncDoc{}, "", errBehind(meta.Version - from)
	}
	if c.tooMany(id) {
		return syncDoc{}, "", errTooManyDocs
	}
	sub := c.ensureSub()
	c.mu.Lock()
	st := c.stateFor(id)
	was := st.subscribed
	st.subscribed, st.syncing = true, true
	c.mu.Unlock()

	ctx, cancel := c.hubCtx()
	version, text, ops, err := c.hub.Subscribe(ctx, id, sub, from)
	cancel()

	c.mu.Lock()
	revoked := c.state[id] != st
	if err != nil && !revoked {
		st.syncing = false
		if !was {
			st.subscribed, st.pending = false, nil
			c.gc(id)
		}
	}
	c.mu.Unlock()
	if err != nil {
		return syncDoc{}, "", err
	}
	if revoked {
		// Access was revoked while subscribing.
		c.hub.Unsubscribe(id, sub)
		return syncDoc{}, "", docket.Errorf(docket.ENOTFOUND, "Document not found.")
	}
	return syncDoc{id: id, ops: ops, at: version, subscribe: true}, text, nil
}

// subscribe answers s.
func (c *conn) subscribe(m *message, raw []byte) {
	v, ok := parseVersion(m.V)
	if !ok {
		c.sendError(raw, errBadMessage, "Invalid version")
		return
	}
	d, text, err := c.subscribeDoc(m.C, m.D, v)
	if err != nil {
		if !c.catchUpError(raw, err) {
			c.replyErr(raw, err, false)
		}
		return
	}
	reply := docReply("s", m.D)
	if v < 0 {
		reply = snapshotFrame("s", m.D, d.at, text)
	}
	c.enqueue(outItem{sync: &syncItem{docs: []syncDoc{d}, reply: reply}})
}

// unsubscribeDoc ends the op subscription of a document.
func (c *conn) unsubscribeDoc(id string) {
	c.mu.Lock()
	st := c.state[id]
	if st == nil || !st.subscribed {
		c.mu.Unlock()
		return
	}
	st.subscribed, st.syncing, st.pending, st.next = false, false, nil, 0
	c.gc(id)
	c.mu.Unlock()
	// The presence subscription, if any, goes on.
	c.hub.Unsubscribe(id, c.sub.Load())
}

// unsubscribe answers u.
func (c *conn) unsubscribe(m *message, raw []byte) {
	if m.C != shareDBCollection || !docket.ValidID(m.D) {
		c.send(docReply("u", m.D))
		return
	}
	c.unsubscribeDoc(m.D)
	c.send(docReply("u", m.D))
}

// bulk answers bf, bs and bu. With a list of ids, bf and bs answer with a
// snapshot (or an error) per id; with a map of versions they send the
// ops each document missed and echo b, all or nothing.
func (c *conn) bulk(m *message, raw []byte) {
	if m.C != shareDBCollection {
		c.sendError(raw, errDocMissing, fmt.Sprintf("Unknown collection %q.", m.C))
		return
	}
	var ids []string
	var versions map[string]json.RawMessage
	if json.Unmarshal(m.B, &ids) != nil {
		if json.Unmarshal(m.B, &versions) != nil || versions == nil {
			c.sendError(raw, errBadMessage, "Invalid bulk subscribe data")
			return
		}
		for id := range versions {
			ids = append(ids, id)
		}
		slices.Sort(ids)
	}
	if len(ids) > maxBulk {
		c.sendError(raw, errBadMessage, fmt.Sprintf("At most %d documents per bulk request.", maxBulk))
		return
	}
	ids = slices.Compact(slices.Sorted(slices.Values(ids)))
	action := m.A
	if action == "bu" {
		for _, id := range ids {
			if docket.ValidID(id) {
				c.unsubscribeDoc(id)
			}
		}
		c.send(bulkReply(action, nil, m.B))
		return
	}
	if versions == nil {
		// Snapshots, one answer per id.
		data := map[string]json.RawMessage{}
		var docs []syncDoc
		for _, id := range ids {
			var d syncDoc
			var text string
			var err error
			if action == "bs" {
				d, text, err = c.subscribeDoc(m.C, id, -1)
			} else if _, err = c.checkDoc(m.C, id); err == nil {
				ctx, cancel := c.hubCtx()
				d.at, text, err = c.hub.Snapshot(ctx, id)
				cancel()
			}
			if err != nil {
				code, msg := wireError(err, false)
				data[id] = json.RawMessage(`{"error":` + string(errorObject(code, msg)) + `}`)
				continue
			}
			data[id] = appendSnapshot(nil, d.at, text)
			if action == "bs" {
				docs = append(docs, d)
			}
		}
		c.enqueue(outItem{sync: &syncItem{docs: docs, reply: bulkReply(action, data, nil)}})
		return
	}
	// Versions: ops since each version, then b echoed; one failure fails
	// the request and undoes the subscriptions it made.
	var docs []syncDoc
	var failed error
	for _, id := range ids {
		v, ok := parseInt(versions[id], 0)
		if !ok {
			failed = docket.Errorf(docket.EINVALID, "Invalid version")
			break
		}
		var d syncDoc
		var err error
		if action == "bs" {
			d, _, err = c.subscribeDoc(m.C, id, v)
		} else if _, err = c.checkDoc(m.C, id); err == nil {
			d, err = c.fetchOps(id, v)
		}
		if err != nil {
			failed = err
			break
		}
		docs = append(docs, d)
	}
	if failed != nil {
		if action == "bs" {
			for _, d := range docs {
				c.unsubscribeDoc(d.id)
			}
		}
		if !c.catchUpError(raw, failed) {
			c.replyErr(raw, failed, false)
		}
		return
	}
	c.enqueue(outItem{sync: &syncItem{docs: docs, reply: bulkReply(action, nil, m.B)}})
}

// submit answers op: an edit is checked, transformed, committed and
// acknowledged; create and del are refused.
func (c *conn) submit(m *message, raw []byte) {
	if !c.opLimit.Allow() {
		c.sendError(raw, errRateLimited, "Too many ops; slow down.")
		c.strike()
		return
	}
	if m.Op == nil {
		if !isNull(m.Create) || (len(m.Del) > 0 && string(m.Del) != "false" && string(m.Del) != "null") {
			c.sendError(raw, errRejected, msgCreateDelRefuse)
			return
		}
		c.sendError(raw, errBadMessage, "Missing op, create, or del")
		return
	}
	seq, ok := parseInt(m.Seq, 1)
	if !ok {
		c.sendError(raw, errBadMessage, "Invalid seq")
		return
	}
	v, ok := parseVersion(m.V)
	if !ok {
		c.sendError(raw, errBadMessage, "Invalid version")
		return
	}
	// The op's src names the agent that first sent it (a resend after a
	// reconnect keeps it); only this user's agent ids are accepted, so
	// nobody can de-duplicate against, or be acked as, someone else.
	src := c.src
	if claimed, ok := parseString(m.Src); ok && claimed != "" && validSrc(c.userID, claimed) {
		src = claimed
	}
	var op ot.Op
	if err := op.UnmarshalJSON(m.Op); err != nil {
		msg := strings.TrimPrefix(strings.TrimPrefix(err.Error(), "ot: "), "invalid op: ")
		c.sendError(raw, errNotApplied, "Invalid op: "+msg)
		return
	}
	meta, err := c.checkDoc(m.C, m.D)
	if err != nil {
		c.replyErr(raw, err, true)
		return
	}
	if !meta.Role.AtLeast(docket.RoleEditor) {
		c.sendError(raw, errRejected, "You need the editor role in this space to change documents.")
		return
	}
	c.ensureSub()
	ctx, cancel := c.hubCtx()
	ack, err := c.hub.Submit(ctx, m.D, Submission{Version: v, Op: op, Src: src, Seq: seq, Author: c.userID})
	cancel()
	if err != nil {
		code := docket.ErrorCode(err)
		if !errors.Is(err, ErrNoOp) && (code == docket.EINTERNAL || code == docket.EUNAVAILABLE || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled)) {
			// The op was not stored, or may still be: close, so that the
			// client keeps it and resends it once reconnected, where it
			// is de-duplicated. An error reply would make it drop the op.
			if code == docket.EINTERNAL {
				c.log.Error("live: op not stored", slog.Any("err", err), slog.String("doc", m.D), slog.String("user", c.userID))
			}
			c.close(CloseTryAgainLater, "The op could not be stored; reconnect and resend it.")
			return
		}
		c.replyErr(raw, err, true)
		return
	}
	missed := ack.Missed
	if ack.Duplicate && v >= 0 && v < ack.Version {
		// The hub does not list what a duplicate was transformed
		// against; the client, at version v, needs it before the ack.
		missed, _ = c.loadOps(m.D, v, ack.Version)
	}
	c.enqueue(outItem{ack: &ackItem{doc: m.D, missed: missed, version: ack.Version, frame: ackFrame(m.D, src, seq, ack.Version), read: c.readAt}})
}

// snapshotAt answers nf: the text at a version (the current one when v is
// null or past it).
func (c *conn) snapshotAt(m *message, raw []byte) {
	v, ok := parseVersion(m.V)
	if !ok {
		c.sendError(raw, errBadMessage, "Invalid version")
		return
	}
	meta, err := c.checkDoc(m.C, m.D)
	if err != nil {
		c.replyErr(raw, err, false)
		return
	}
	if v < 0 || v > meta.Version {
		v = meta.Version
	}
	ctx, cancel := c.hubCtx()
	text, err := c.store.DocumentAt(ctx, m.D, v)
	cancel()
	if err != nil {
		c.replyErr(raw, err, false)
		return
	}
	id := m.ID
	if len(id) == 0 {
		id = json.RawMessage("null")
	}
	b := []byte(`{"a":"nf","id":`)
	b = append(b, id...)
	b = append(b, `,"v":`...)
	b = strconv.AppendInt(b, v, 10)
	if v == 0 {
		b = append(b, `,"type":null,"m":null}`...)
	} else {
		data, _ := json.Marshal(text)
		b = append(b, `,"type":"`+ot.TypeURI+`","data":`...)
		b = append(b, data...)
		b = append(b, `,"m":null}`...)
	}
	c.send(b)
}

// presence answers ps, pu, p and pr on a document's channel "docs.<id>".
// Presence is untyped: the value is relayed as is, except that its numeric
// fields anchor, head, index and end are moved by the hub through the ops
// committed since the version they refer to (the message's v, or the
// value's own "v").
func (c *conn) presence(m *message, raw []byte) {
	id, ok := strings.CutPrefix(m.Ch, presencePrefix)
	if !ok || !docket.ValidID(id) {
		c.sendError(raw, errBadMessage, "Unknown presence channel; use \"docs.<document id>\".")
		return
	}
	if _, err := c.checkDoc(shareDBCollection, id); err != nil {
		c.replyErr(raw, err, false)
		return
	}
	switch m.A {
	case "ps":
		c.presenceSubscribe(id, m, raw)
	case "pu":
		c.presenceUnsubscribe(id)
		c.send(channelFrame("pu", m.Ch, m.Seq))
	case "pr":
		c.mu.Lock()
		st := c.state[id]
		subscribed := st != nil && st.presenceSub
		c.mu.Unlock()
		if subscribed {
			// Subscribing again asks the others to send their presence.
			ctx, cancel := c.hubCtx()
			c.hub.SubscribePresence(ctx, id, c.ensureSub())
			cancel()
		}
		c.send([]byte(`{"a":"pr"}`))
	case "p":
		c.submitPresence(id, m, raw)
	}
}

func (c *conn) presenceSubscribe(id string, m *message, raw []byte) {
	if c.tooMany(id) {
		c.replyErr(raw, errTooManyDocs, false)
		return
	}
	sub := c.ensureSub()
	c.mu.Lock()
	st := c.stateFor(id)
	already := st.presenceSub
	st.presenceSub = true
	c.mu.Unlock()
	if !already {
		ctx, cancel := c.hubCtx()
		err := c.hub.SubscribePresence(ctx, id, sub)
		cancel()
		c.mu.Lock()
		revoked := c.state[id] != st
		if err != nil && !revoked {
			st.presenceSub = false
			c.gc(id)
		}
		c.mu.Unlock()
		if err == nil && revoked {
			c.hub.UnsubscribePresence(id, sub)
			err = docket.Errorf(docket.ENOTFOUND, "Document not found.")
		}
		if err != nil {
			c.replyErr(raw, err, false)
			return
		}
	}
	c.send(channelFrame("ps", m.Ch, m.Seq))
}

// presenceUnsubscribe ends the presence subscription of a document and,
// as ShareDB does, clears this client's presences there.
func (c *conn) presenceUnsubscribe(id string) {
	c.mu.Lock()
	st := c.state[id]
	if st == nil {
		c.mu.Unlock()
		return
	}
	was := st.presenceSub
	pres := st.presences
	st.presenceSub, st.presences = false, nil
	c.gc(id)
	c.mu.Unlock()
	c.clearPresences(id, pres)
	if was {
		c.hub.UnsubscribePresence(id, c.sub.Load())
	}
}

// clearPresences tells the others that presences left, with the presence
// version the client last used (stock clients ignore an older one).
func (c *conn) clearPresences(id string, pres map[string]presenceState) {
	if len(pres) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.opts.HubTimeout)
	defer cancel()
	for pid, p := range pres {
		c.hub.SubmitPresence(ctx, id, Presence{Src: c.src, ID: pid, Version: -1, Value: json.RawMessage("null"), Seq: p.pv})
	}
}

func (c *conn) submitPresence(id string, m *message, raw []byte) {
	if !c.presenceLimit.Allow() {
		c.sendError(raw, errRateLimited, "Too many presence updates; slow down.")
		c.strike()
		return
	}
	pid, ok := parseString(m.ID)
	if !ok || pid == "" || len(pid) > 100 {
		c.sendError(raw, errBadMessage, "Invalid presence ID")
		return
	}
	pv, ok := parseInt(m.PV, 0)
	if !ok {
		c.sendError(raw, errBadMessage, "Invalid presence version")
		return
	}
	value := m.P
	if len(value) == 0 {
		value = json.RawMessage("null")
	}
	if len(value) > c.opts.MaxPresenceBytes {
		c.sendError(raw, errBadMessage, fmt.Sprintf("Presence values are limited to %d bytes.", c.opts.MaxPresenceBytes))
		return
	}
	version, ok := parseVersion(m.V)
	if !ok {
		c.sendError(raw, errBadMessage, "Invalid version")
		return
	}
	if version < 0 {
		version = presenceValueVersion(value)
	}
	null := isNull(value)
	c.mu.Lock()
	st := c.state[id]
	if !null && (st == nil || st.presences[pid].value == nil) {
		if (st == nil && len(c.state) >= c.opts.MaxDocuments) || (st != nil && len(st.presences) >= maxPresenceIDs) {
			c.mu.Unlock()
			c.sendError(raw, errBadMessage, "Too many presences.")
			return
		}
	}
	c.mu.Unlock()
	c.ensureSub()
	ctx, cancel := c.hubCtx()
	out, err := c.hub.SubmitPresence(ctx, id, Presence{Src: c.src, ID: pid, Version: version, Value: value, Seq: pv})
	cancel()
	if err != nil {
		c.replyErr(raw, err, false)
		return
	}
	c.mu.Lock()
	if null {
		if st := c.state[id]; st != nil {
			delete(st.presences, pid)
			c.gc(id)
		}
	} else {
		st := c.stateFor(id)
		if st.presences == nil {
			st.presences = map[string]presenceState{}
		}
		if old, ok := st.presences[pid]; !ok || old.pv <= pv {
			st.presences[pid] = presenceState{pv: pv, value: out.Value}
		}
	}
	c.mu.Unlock()
	c.send(presenceFrame(m.Ch, out))
}

// revoke cuts the session off a document the user may no longer read:
// its presence is cleared, its subscriptions end and the client is told
// with an error. Called by the writer.
func (c *conn) revoke(id string) []byte {
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
	const msg = "You can no longer read this document."
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
