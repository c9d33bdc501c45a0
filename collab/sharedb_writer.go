package collab

import (
	"context"
	"log/slog"
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
}

// closeGrace is how long the writer waits for the client's answer to its
// close frame before dropping the TCP connection.
const closeGrace = 2 * time.Second

// writeLoop is the only writer of the socket. It sends queued replies and
// the hub's events in an order where a subscribed client sees every
// version exactly once and in turn (an op frame or its own ack), pings,
// and checks permissions again on a timer.
func (s *session) writeLoop() {
	defer close(s.writerDone)
	defer func() {
		if r := recover(); r != nil {
			s.log.Error("live: panic in writer", slog.Any("panic", r), slog.String("user", s.userID))
			s.close(CloseInternalError, "Internal error.")
			s.finishWrites()
		}
	}()
	ping := time.NewTicker(s.opts.PingInterval)
	defer ping.Stop()
	recheck := time.NewTicker(s.opts.RecheckInterval)
	defer recheck.Stop()
	for {
		var ready, dropped <-chan struct{}
		sub := s.sub.Load()
		if sub != nil {
			ready, dropped = sub.Ready(), sub.Dropped()
		}
		select {
		case <-s.done:
			s.finishWrites()
			return
		default:
		}
		var err error
		select {
		case <-s.done:
			s.finishWrites()
			return
		case it := <-s.out:
			frames := s.render(it)
			// Whatever else is already waiting goes out in the same write.
		more:
			for n := 0; n < 64; n++ {
				select {
				case it := <-s.out:
					frames = append(frames, s.render(it)...)
				default:
					break more
				}
			}
			err = s.write(frames)
		case <-ready:
			var frames [][]byte
			for _, ev := range sub.Take() {
				frames = append(frames, s.onEvent(ev)...)
			}
			err = s.write(frames)
		case <-dropped:
			s.close(CloseTryAgainLater, "Too slow to keep up; reconnect.")
		case <-ping.C:
			err = s.conn.WriteControl(pingMessage, nil, time.Now().Add(s.opts.WriteTimeout))
		case <-recheck.C:
			if s.recheckDue() {
				err = s.write(s.recheck())
			}
		}
		if err != nil {
			s.close(CloseNormal, "")
		}
		s.mu.Lock()
		overflow := s.overflow
		s.mu.Unlock()
		if overflow {
			s.close(CloseTryAgainLater, "Too far behind; reconnect.")
		}
	}
}

// finishWrites sends the close frame, waits a little for the client to
// answer it (the reader then ends) and closes the socket.
func (s *session) finishWrites() {
	s.conn.WriteControl(closeMessage, closePayload(s.closeCode, s.closeMsg), time.Now().Add(time.Second))
	if !s.hurry.Load() {
		select {
		case <-s.readerDone:
		case <-time.After(closeGrace):
		}
	}
	s.conn.Close()
}

// write sends frames, each as one text message under the write deadline;
// on a [Batcher] all of them in one write.
func (s *session) write(frames [][]byte) error {
	if len(frames) == 0 {
		return nil
	}
	if b, ok := s.conn.(Batcher); ok && len(frames) > 1 {
		b.BeginBatch()
		for _, f := range frames {
			if err := s.conn.WriteMessage(textMessage, f); err != nil {
				b.FlushBatch(time.Now().Add(s.opts.WriteTimeout))
				return err
			}
		}
		return b.FlushBatch(time.Now().Add(s.opts.WriteTimeout))
	}
	for _, f := range frames {
		if err := s.conn.SetWriteDeadline(time.Now().Add(s.opts.WriteTimeout)); err != nil {
			return err
		}
		if err := s.conn.WriteMessage(textMessage, f); err != nil {
			return err
		}
	}
	return nil
}

// render turns a queued item into frames, updating the ordering state.
func (s *session) render(it outItem) [][]byte {
	switch {
	case it.frame != nil:
		return [][]byte{it.frame}
	case it.sync != nil:
		return s.renderSync(it.sync)
	case it.ack != nil:
		return s.renderAck(it.ack)
	}
	return nil
}

func (s *session) renderSync(it *syncItem) [][]byte {
	var frames [][]byte
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, d := range it.docs {
		for _, rec := range d.ops {
			frames = append(frames, opFrame(d.id, rec))
		}
		if st := s.state[d.id]; st != nil && st.subscribed {
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
		if st := s.state[d.id]; st != nil && st.subscribed && !st.syncing {
			for v := range st.pending {
				if v < st.next {
					delete(st.pending, v)
				}
			}
			frames = s.flush(frames, d.id, st)
		}
	}
	return frames
}

func (s *session) renderAck(it *ackItem) [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.state[it.doc]
	if st == nil || !st.subscribed {
		// Not subscribed: the missed ops, then the ack, as ShareDB does.
		frames := make([][]byte, 0, len(it.missed)+1)
		for _, rec := range it.missed {
			frames = append(frames, opFrame(it.doc, rec))
		}
		return append(frames, it.frame)
	}
	for _, rec := range it.missed {
		s.hold(st, rec.Version, pendingFrame{rec: rec})
	}
	// An ack below next is for an op the client already received in a
	// catch-up (as its own op, which it takes as the ack) or acked
	// before: sending it again would be a stray ack.
	s.hold(st, it.version, pendingFrame{ack: it.frame})
	if st.syncing {
		return nil
	}
	return s.flush(nil, it.doc, st)
}

// hold queues a frame for version v unless it was sent. Call with s.mu held.
func (s *session) hold(st *docState, v int64, f pendingFrame) {
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
		s.overflow = true
	}
}

// flush appends the frames that are next in turn. Call with s.mu held.
func (s *session) flush(frames [][]byte, id string, st *docState) [][]byte {
	for {
		f, ok := st.pending[st.next]
		if !ok {
			return frames
		}
		delete(st.pending, st.next)
		if f.ack != nil {
			frames = append(frames, f.ack)
		} else {
			frames = append(frames, opFrame(id, f.rec))
		}
		st.next++
	}
}

// onEvent turns a hub event into frames.
func (s *session) onEvent(ev Event) [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.state[ev.DocID]
	if st == nil {
		return nil
	}
	switch {
	case ev.Op != nil:
		if !st.subscribed {
			return nil
		}
		s.hold(st, ev.Op.Version, pendingFrame{rec: ev.Op})
		if st.syncing {
			return nil
		}
		return s.flush(nil, ev.DocID, st)
	case ev.Presence != nil:
		if !st.presenceSub {
			return nil
		}
		return [][]byte{presenceFrame(presencePrefix+ev.DocID, *ev.Presence)}
	case ev.PresenceRequest:
		if !st.presenceSub {
			return nil
		}
		return [][]byte{channelFrame("pr", presencePrefix+ev.DocID, nil)}
	}
	return nil
}

// recheckDue reports whether permissions may have changed since the last
// recheck, and records this one.
func (s *session) recheckDue() bool {
	now := time.Now()
	if s.opts.Epoch == nil {
		return true
	}
	epoch := s.opts.Epoch()
	if epoch == s.checkedEpoch && now.Sub(s.checkedAt) < s.opts.FullRecheck {
		return false
	}
	s.checkedEpoch, s.checkedAt = epoch, now
	return true
}

// recheck checks the read permission of every document in use again and
// cuts the session off those the user lost.
func (s *session) recheck() [][]byte {
	if check, ok := s.ctx.Value(credentialKey{}).(func(context.Context) error); ok {
		ctx, cancel := s.hubCtx()
		err := check(ctx)
		cancel()
		if docket.ErrorCode(err) == docket.EUNAUTHORIZED {
			s.close(ClosePolicyViolation, "Signed out; sign in again.")
			return nil
		}
	}
	s.mu.Lock()
	ids := make([]string, 0, len(s.state))
	for id := range s.state {
		ids = append(ids, id)
	}
	s.mu.Unlock()
	var frames [][]byte
	for _, id := range ids {
		ctx, cancel := s.hubCtx()
		_, err := s.store.FindDocumentMeta(ctx, id)
		cancel()
		if docket.ErrorCode(err) != docket.ENOTFOUND {
			continue // readable, or a transient failure: checked again soon
		}
		if f := s.revoke(id); f != nil {
			frames = append(frames, f)
		}
	}
	return frames
}
