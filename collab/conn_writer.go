package collab

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"

	docket "github.com/docket-dev/docket"
)

// outItem is something the reader hands to the writer, in order: a plain
// frame, the frames that (re)start or catch up a document (sync), or the
// ack of an op with the ops the client missed before it. An empty item
// only wakes the writer.
type outItem struct {
	frame []byte
	sync  *syncItem
	ack   *ackItem
}

// syncItem sends, for each document, the ops the client lacks, then the
// reply, then whatever waited for the document.
type syncItem struct {
	docs  []syncDoc
	reply []byte
}

type syncDoc struct {
	id  string
	ops []*docket.OpRecord
	// at is the version the client is at after the ops and the reply.
	at int64
	// subscribe is set when the item answers a subscription, which ends
	// the syncing state of the document.
	subscribe bool
}

// ackItem acknowledges an op committed at version.
type ackItem struct {
	doc     string
	missed  []*docket.OpRecord
	version int64
	frame   []byte
	read    time.Time // when the op was read
}

// writerStopping, if set (by tests), runs when a writer has decided to
// stop and before it marks itself stopped.
var writerStopping atomic.Pointer[func()]

// maxKeptFrames is the largest frame list a writer keeps for its next
// round; a larger one (a big catch-up) is left to the collector.
const maxKeptFrames = 64

// closeGrace is how long the writer waits for the client's answer to its
// close frame before dropping the TCP connection.
const closeGrace = 2 * time.Second

// kick makes sure a writer runs for the connection: it starts one when none
// runs, or else wakes the one that does. Whoever queues output calls it
// after queueing. There is at most one writer at a time: only the caller
// that turns writing on starts one.
func (c *conn) kick() {
	if c.writing.CompareAndSwap(false, true) {
		c.live.writers.Add(1)
		go c.writeLoop()
		return
	}
	select {
	case c.wake <- struct{}{}:
	default: // a wake-up is pending already
	}
}

// writeLoop is the only writer of the socket while it runs. It sends
// queued replies and the hub's events in an order where a subscribed
// client sees every version exactly once and in turn (an op frame or its
// own ack), pings, and checks permissions again when the ticker says so.
// With nothing to do for WriterIdle it stops; it marks itself stopped
// before looking at the queues one last time, so output queued meanwhile
// is either seen here or starts a new writer (kick), never lost.
func (c *conn) writeLoop() {
	final := false // this writer closes the socket
	defer func() {
		if r := recover(); r != nil {
			c.log.Error("live: panic in writer", slog.Any("panic", r), slog.String("user", c.userID))
			c.close(CloseInternalError, "Internal error.")
			if !final {
				final = true
				c.finishWrites()
			} else {
				c.ws.Close()
			}
		}
		c.live.writers.Add(-1)
		if final {
			// writing stays set: no writer starts after this one.
			close(c.writerDone)
		}
	}()
	var idle *time.Timer
	for {
		if c.closing() {
			final = true
			c.finishWrites()
			return
		}
		if c.writeWaiting() {
			c.pace()
			continue
		}
		// Nothing to do: wait a little for more, then stop.
		if idle == nil {
			idle = time.NewTimer(c.opts.WriterIdle)
		} else {
			idle.Reset(c.opts.WriterIdle)
		}
		select {
		case <-c.wake:
			idle.Stop()
			continue
		case <-idle.C:
		}
		if f := writerStopping.Load(); f != nil {
			(*f)()
		}
		c.frames, c.events, c.paceTimer, c.acked = nil, nil, nil, nil // an idle socket keeps no buffers
		if sub := c.sub.Load(); sub != nil {
			sub.trim()
		}
		c.writing.Store(false)
		if !c.hasOutput() || !c.writing.CompareAndSwap(false, true) {
			// Nothing came, or it came and kicked a new writer.
			return
		}
	}
}

// pace waits WritePace after a write, until a reply is queued or until
// the connection closes; the hub's wake-ups that come meanwhile are left
// for the next round. Replies are few (one per request of this client)
// and an ack is what its sender waits for; broadcast frames are many,
// and the pause lets them go out several to a write.
func (c *conn) pace() {
	if c.opts.WritePace <= 0 {
		return
	}
	if c.paceTimer == nil {
		c.paceTimer = time.NewTimer(c.opts.WritePace)
	} else {
		c.paceTimer.Reset(c.opts.WritePace)
	}
	select {
	case <-c.paceTimer.C:
	case <-c.urgent:
		c.paceTimer.Stop()
	case <-c.done:
		c.paceTimer.Stop()
	}
}

// writeWaiting sends what waits: replies, the hub's events, a ping, the
// result of a recheck. It reports whether there was anything.
func (c *conn) writeWaiting() bool {
	var err error
	worked := false
	// Replies and the hub's events go out in one write: under a stream of
	// ops each write is a syscall and a wake-up of the reader's side.
	frames := c.frames[:0]
	if c.epochMoved(&c.writerEpoch) {
		// Something was revoked since the last recheck: nothing more is
		// delivered to a reader who may have lost it.
		worked = true
		frames = append(frames, c.recheck()...)
		if c.closing() {
			return true
		}
	}
	if items := c.takeOut(); len(items) > 0 {
		worked = true
		for _, it := range items {
			frames = append(frames, c.render(it)...)
			if it.ack != nil && c.opts.ObserveAck != nil {
				c.acked = append(c.acked, it.ack.read)
			}
		}
	}
	if sub := c.sub.Load(); sub != nil {
		if sub.dropped() {
			c.close(CloseTryAgainLater, "Too slow to keep up; reconnect.")
			return true
		}
		evs := sub.swap(c.events)
		if len(evs) > 0 {
			worked = true
			for _, ev := range evs {
				frames = c.appendEvent(frames, ev)
			}
		}
		clear(evs)
		c.events = nil
		if cap(evs) <= maxKeptFrames {
			c.events = evs
		}
	}
	err = c.write(frames)
	if len(c.acked) > 0 {
		if err == nil {
			now := time.Now()
			for _, t := range c.acked {
				c.opts.ObserveAck(now.Sub(t))
			}
		}
		c.acked = c.acked[:0]
	}
	clear(frames)
	if cap(frames) <= maxKeptFrames {
		c.frames = frames[:0]
	} else {
		c.frames = nil
	}
	if err == nil && c.pingDue.Swap(false) {
		worked = true
		err = c.ws.WriteControl(pingMessage, nil, time.Now().Add(c.opts.WriteTimeout))
	}
	if err == nil && c.recheckDue.Swap(false) {
		worked = true
		err = c.write(c.recheck())
	}
	if err != nil {
		c.close(CloseNormal, "")
		return true
	}
	c.mu.Lock()
	overflow := c.overflow
	c.mu.Unlock()
	if overflow {
		c.close(CloseTryAgainLater, "Too far behind; reconnect.")
		return true
	}
	return worked
}

// hasOutput reports whether anything waits for a writer.
func (c *conn) hasOutput() bool {
	if c.closing() || c.pingDue.Load() || c.recheckDue.Load() {
		return true
	}
	c.outMu.Lock()
	n := len(c.outq)
	c.outMu.Unlock()
	if n > 0 {
		return true
	}
	sub := c.sub.Load()
	return sub != nil && (sub.waiting() || sub.dropped())
}

// finishWrites sends the close frame, waits a little for the client to
// answer it (the reader then ends) and closes the socket.
func (c *conn) finishWrites() {
	c.ws.WriteControl(closeMessage, closePayload(c.closeCode, c.closeMsg), time.Now().Add(time.Second))
	if !c.hurry.Load() {
		select {
		case <-c.readerDone:
		case <-time.After(closeGrace):
		}
	}
	c.ws.Close()
}

// write sends frames, each as one text message under the write deadline;
// on a [Batcher] all of them in one write.
func (c *conn) write(frames [][]byte) error {
	if len(frames) == 0 {
		return nil
	}
	if b, ok := c.ws.(Batcher); ok && len(frames) > 1 {
		b.BeginBatch()
		for _, f := range frames {
			if err := c.ws.WriteMessage(textMessage, f); err != nil {
				b.FlushBatch(time.Now().Add(c.opts.WriteTimeout))
				return err
			}
		}
		return b.FlushBatch(time.Now().Add(c.opts.WriteTimeout))
	}
	for _, f := range frames {
		if err := c.ws.SetWriteDeadline(time.Now().Add(c.opts.WriteTimeout)); err != nil {
			return err
		}
		if err := c.ws.WriteMessage(textMessage, f); err != nil {
			return err
		}
	}
	return nil
}

// render turns a queued item into frames, updating the ordering state.
func (c *conn) render(it outItem) [][]byte {
	switch {
	case it.frame != nil:
		return [][]byte{it.frame}
	case it.sync != nil:
		return c.renderSync(it.sync)
	case it.ack != nil:
		return c.renderAck(it.ack)
	}
	return nil
}

func (c *conn) renderSync(it *syncItem) [][]byte {
	var frames [][]byte
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, d := range it.docs {
		for _, rec := range d.ops {
			frames = append(frames, opFrame(d.id, rec))
		}
		if st := c.state[d.id]; st != nil && st.subscribed {
			if d.subscribe {
				st.syncing = false
			}
			// next never goes back: versions below it were sent already,
			// and the hub will not send them again.
			if d.at > st.next {
				st.next = d.at
			}
		}
	}
	if it.reply != nil {
		frames = append(frames, it.reply)
	}
	for _, d := range it.docs {
		if st := c.state[d.id]; st != nil && st.subscribed && !st.syncing {
			for v := range st.pending {
				if v < st.next {
					delete(st.pending, v)
				}
			}
			frames = c.flush(frames, d.id, st)
		}
	}
	return frames
}

func (c *conn) renderAck(it *ackItem) [][]byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	st := c.state[it.doc]
	if st == nil || !st.subscribed {
		// Not subscribed: the missed ops, then the ack, as ShareDB does.
		frames := make([][]byte, 0, len(it.missed)+1)
		for _, rec := range it.missed {
			frames = append(frames, opFrame(it.doc, rec))
		}
		return append(frames, it.frame)
	}
	for _, rec := range it.missed {
		c.hold(st, rec.Version, pendingFrame{rec: rec})
	}
	// An ack below next is for an op the client already received in a
	// catch-up (as its own op, which it takes as the ack) or acked
	// before: sending it again would be a stray ack.
	c.hold(st, it.version, pendingFrame{ack: it.frame})
	if st.syncing {
		return nil
	}
	return c.flush(nil, it.doc, st)
}

// hold queues a frame for version v unless it was sent. Call with c.mu held.
func (c *conn) hold(st *docState, v int64, f pendingFrame) {
	if v < st.next && !st.syncing {
		return
	}
	if st.pending == nil {
		st.pending = map[int64]pendingFrame{}
	}
	if _, ok := st.pending[v]; ok && f.ack == nil {
		return // an ack wins over the same op seen as an event
	}
	st.pending[v] = f
	if len(st.pending) > maxPending {
		c.overflow = true
	}
}

// flush appends the frames that are next in turn. Call with c.mu held.
func (c *conn) flush(frames [][]byte, id string, st *docState) [][]byte {
	for {
		f, ok := st.pending[st.next]
		if !ok {
			return frames
		}
		delete(st.pending, st.next)
		switch {
		case f.ack != nil:
			frames = append(frames, f.ack)
		case f.frame != nil:
			frames = append(frames, f.frame)
		default:
			frames = append(frames, opFrame(id, f.rec))
		}
		st.next++
	}
}

// appendEvent appends the frames of a hub event.
func (c *conn) appendEvent(frames [][]byte, ev Event) [][]byte {
	if ev.Gone {
		if f := c.revoke(ev.DocID, "This document was deleted."); f != nil {
			frames = append(frames, f)
		}
		return frames
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	st := c.state[ev.DocID]
	if st == nil {
		return frames
	}
	switch {
	case ev.Op != nil:
		if !st.subscribed {
			return frames
		}
		c.hold(st, ev.Op.Version, pendingFrame{rec: ev.Op, frame: ev.frame})
		if st.syncing {
			return frames
		}
		return c.flush(frames, ev.DocID, st)
	case ev.Presence != nil:
		if !st.presenceSub {
			return frames
		}
		return append(frames, presenceFrame(presencePrefix+ev.DocID, *ev.Presence))
	case ev.PresenceRequest:
		if !st.presenceSub {
			return frames
		}
		return append(frames, channelFrame("pr", presencePrefix+ev.DocID, nil))
	}
	return frames
}

// recheck checks the read permission of every document in use again and
// cuts the connection off those the user lost.
func (c *conn) recheck() [][]byte {
	c.epochMoved(&c.writerEpoch) // what follows sees every change up to now
	if !c.credentialsHold() {
		return nil
	}
	c.mu.Lock()
	ids := make([]string, 0, len(c.state))
	for id := range c.state {
		ids = append(ids, id)
	}
	c.mu.Unlock()
	var frames [][]byte
	for _, id := range ids {
		ctx, cancel := c.hubCtx()
		_, err := c.store.FindDocumentMeta(ctx, id)
		cancel()
		if docket.ErrorCode(err) != docket.ENOTFOUND {
			continue // readable, or a transient failure: checked again soon
		}
		if f := c.revoke(id, "You can no longer read this document."); f != nil {
			frames = append(frames, f)
		}
	}
	return frames
}

// epochMoved reports whether Epoch has changed since *seen, and records
// the current one in *seen.
func (c *conn) epochMoved(seen *uint64) bool {
	if c.opts.Epoch == nil {
		return false
	}
	e := c.opts.Epoch()
	if e == *seen {
		return false
	}
	*seen = e
	return true
}

// credentialsHold runs the credential check the connection was opened
// with, if any, and closes the connection with 1008 when the credentials
// are gone (signed out, token deleted, password changed). A transient
// failure counts as holding: it is checked again soon.
func (c *conn) credentialsHold() bool {
	check, ok := c.ctx.Value(credentialKey{}).(func(context.Context) error)
	if !ok {
		return true
	}
	ctx, cancel := c.hubCtx()
	err := check(ctx)
	cancel()
	if docket.ErrorCode(err) == docket.EUNAUTHORIZED {
		c.close(ClosePolicyViolation, "Signed out; sign in again.")
		return false
	}
	return true
}
