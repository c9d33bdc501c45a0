package collab

import (
	"context"
	"slices"
	"sync"

	docket "github.com/docket-dev/docket"
)

// This file is what subscribers receive: [Event]s in a bounded queue per
// [Subscriber], filled by the document goroutine (deliverAll) and emptied
// by the connection's writer.

// Event is something a subscriber is told about a document.
type Event struct {
	DocID string
	// Op is a committed op; Op.Src and Op.Seq name its submitter.
	Op *docket.OpRecord
	// Presence is another agent's presence, its positions moved to the
	// document's current version.
	Presence *Presence
	// PresenceRequest asks the subscriber to send its presence again,
	// because someone joined.
	PresenceRequest bool
	// Gone says the document was deleted: the subscriber is no longer
	// subscribed to it, nor to its presence.
	Gone bool
	// frame is Op's wire frame, built once for every subscriber.
	frame []byte
}

// Subscriber is one connection's view of the documents it subscribed to.
// Events wait in a bounded queue that takes memory only while it holds
// something, so an idle subscriber costs a few dozen bytes; a subscriber
// that does not keep up is dropped (Dropped is closed) and must
// resynchronise, so a slow reader never slows a document down.
type Subscriber struct {
	Src    string // the agent id; its own ops and presence are not echoed
	UserID string

	max   int
	mu    sync.Mutex
	queue []Event
	ready chan struct{}
	gone  chan struct{}
	once  sync.Once
	// notify, if set, is called when events start waiting and when the
	// subscriber is dropped, by the document's goroutine: it must not
	// block. A connection uses it to start its writer on demand.
	notify func()
}

// NewSubscriber returns a subscriber whose queue holds at most max events.
func NewSubscriber(src, userID string, max int) *Subscriber {
	return &Subscriber{Src: src, UserID: userID, max: max, ready: make(chan struct{}, 1), gone: make(chan struct{})}
}

// Ready receives a value when events are waiting; call Take.
func (s *Subscriber) Ready() <-chan struct{} { return s.ready }

// Take returns the waiting events, oldest first, and empties the queue.
func (s *Subscriber) Take() []Event { return s.swap(nil) }

// trim lets an empty queue's memory go.
func (s *Subscriber) trim() {
	s.mu.Lock()
	if len(s.queue) == 0 {
		s.queue = nil
	}
	s.mu.Unlock()
}

// swap returns the waiting events and queues the next ones in spare,
// whose contents are dropped: a writer that alternates two slices does
// not grow a new queue for every batch.
func (s *Subscriber) swap(spare []Event) []Event {
	clear(spare)
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.queue
	s.queue = spare[:0]
	if len(q) == 0 {
		s.queue = q[:0]
		return spare[:0]
	}
	return q
}

// Dropped is closed when the hub dropped the subscriber for being slow.
func (s *Subscriber) Dropped() <-chan struct{} { return s.gone }

// waiting reports whether events wait to be taken.
func (s *Subscriber) waiting() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.queue) > 0
}

// dropped reports whether the hub dropped the subscriber.
func (s *Subscriber) dropped() bool { return isClosed(s.gone) }

// isClosed reports whether ch is closed, without waiting.
func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// deliver queues an event without blocking; a full queue drops the
// subscriber. It reports whether the subscriber is still live.
func (s *Subscriber) deliver(ev Event) bool {
	return s.deliverAll([]Event{ev}, "")
}

// deliverAll queues the events, leaving out those from skip (the
// subscriber's own ops, which reach it as acks), under one lock and with
// at most one wake-up of the reader: a group commit of many ops costs
// each subscriber one call, not one per op. It reports false when the
// subscriber is, or is now, dropped because its queue would overflow.
func (s *Subscriber) deliverAll(evs []Event, skip string) bool {
	select {
	case <-s.gone:
		return false
	default:
	}
	wanted := func(ev Event) bool { return skip == "" || ev.Op == nil || ev.Op.Src != skip }
	n := 0
	for _, ev := range evs {
		if wanted(ev) {
			n++
		}
	}
	if n == 0 {
		return true
	}
	s.mu.Lock()
	if len(s.queue)+n > s.max {
		s.mu.Unlock()
		s.once.Do(func() { close(s.gone) })
		if s.notify != nil {
			s.notify()
		}
		return false
	}
	// Whoever takes the queue after the first event was notified takes
	// the later ones too.
	first := len(s.queue) == 0
	s.queue = slices.Grow(s.queue, n)
	for _, ev := range evs {
		if wanted(ev) {
			s.queue = append(s.queue, ev)
		}
	}
	s.mu.Unlock()
	select {
	case s.ready <- struct{}{}:
	default:
	}
	if first && s.notify != nil {
		s.notify()
	}
	return true
}

type subscribeRequest struct {
	sub   *Subscriber
	from  int64 // -1: snapshot
	reply chan subscribeReply
}

type subscribeReply struct {
	version int64
	text    string
	ops     []*docket.OpRecord
	err     error
}

type unsubscribeRequest struct {
	sub      *Subscriber
	presence bool // the presence subscription, else the op one
	done     chan struct{}
}

func (*subscribeRequest) isRequest()   {}
func (*unsubscribeRequest) isRequest() {}

// Subscribe registers sub for a document's ops. With from < 0 it returns
// the current version and text; otherwise the ops from version from on,
// which the subscriber has not seen. Ops committed after the call are
// delivered as events, each exactly once and in order. Returns ENOTFOUND,
// EINVALID for a version past the document's.
func (h *Hub) Subscribe(ctx context.Context, docID string, sub *Subscriber, from int64) (int64, string, []*docket.OpRecord, error) {
	req := &subscribeRequest{sub: sub, from: from, reply: make(chan subscribeReply, 1)}
	r, err := call(ctx, h, docID, req, req.reply)
	if err != nil {
		return 0, "", nil, err
	}
	return r.version, r.text, r.ops, r.err
}

// Unsubscribe ends sub's subscription to a document's ops; its presence
// subscription, if any, goes on.
func (h *Hub) Unsubscribe(docID string, sub *Subscriber) { h.unsubscribe(docID, sub, false) }

func (h *Hub) unsubscribe(docID string, sub *Subscriber, presence bool) {
	h.mu.Lock()
	d := h.docs[docID]
	h.mu.Unlock()
	if d == nil {
		return
	}
	req := &unsubscribeRequest{sub: sub, presence: presence, done: make(chan struct{})}
	select {
	case d.inbox <- req:
		select {
		case <-req.done:
		case <-d.stopped:
		}
	case <-d.stopped:
	}
}
