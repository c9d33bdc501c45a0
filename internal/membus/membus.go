// Package membus is an in-memory [docket.Bus] for the tests of the
// packages that use one: a [Network] joins any number of nodes in one
// process, and a test can lose messages ([Network.Drop]), hold them back
// ([Network.Pause]) and wait until every message has been handled
// ([Network.Settle]). It keeps the contract that package nats keeps on a
// real NATS server (internal/bustest checks both): a message reaches every
// other node's subscribers of its subject asynchronously, in the order it
// was published, one at a time per subscription, never the sender.
package membus

import (
	"slices"
	"sync"

	docket "github.com/docket-dev/docket"
)

// Network is a bus shared by nodes. Its zero value is not usable: call
// [New].
type Network struct {
	mu      sync.Mutex
	changed *sync.Cond // signalled when a queue, pending or paused changes
	subs    map[string][]*subscription
	drop    func(subject string, data []byte) bool
	paused  bool
	pending int // messages queued or being handled
	dropped int
}

// New returns an empty network.
func New() *Network {
	n := &Network{subs: map[string][]*subscription{}}
	n.changed = sync.NewCond(&n.mu)
	return n
}

// Node returns a new node of the network: a bus that sends to the other
// nodes and receives from them.
func (n *Network) Node() *Node { return &Node{net: n} }

// Drop makes the network lose each delivery for which drop returns true:
// it is called once per message and receiving subscription, in publish
// order, so a test can lose a message for one node only (by counting
// calls). A nil drop loses nothing. drop runs while the network is
// locked: it must not call the network or its nodes.
func (n *Network) Drop(drop func(subject string, data []byte) bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.drop = drop
}

// Dropped returns how many deliveries the drop function lost.
func (n *Network) Dropped() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.dropped
}

// Pause holds every delivery back, as a slow or stalled bus would:
// messages published meanwhile queue up, in order, until [Network.Resume].
func (n *Network) Pause() {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.paused = true
}

// Resume delivers what [Network.Pause] held back, and what comes after.
func (n *Network) Resume() {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.paused = false
	n.changed.Broadcast()
}

// Settle waits until every message published so far has been handled by
// its subscribers (or dropped). It panics on a paused network, where it
// would wait forever.
func (n *Network) Settle() {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.paused {
		panic("membus: Settle on a paused network would never return; call Resume first")
	}
	for n.pending > 0 {
		n.changed.Wait()
	}
}

// Node is one node's bus.
type Node struct {
	net    *Network
	closed bool // under net.mu
	subs   []*subscription
}

var _ docket.Bus = (*Node)(nil)

// Publish queues a copy of data for the subscribers of subject on every
// other node.
func (nd *Node) Publish(subject string, data []byte) error {
	if err := docket.CheckSubject(subject); err != nil {
		return err
	}
	n := nd.net
	n.mu.Lock()
	defer n.mu.Unlock()
	if nd.closed {
		return docket.Errorf(docket.EUNAVAILABLE, "The bus is closed.")
	}
	for _, s := range n.subs[subject] {
		if s.node == nd {
			continue
		}
		if n.drop != nil && n.drop(subject, data) {
			n.dropped++
			continue
		}
		s.queue = append(s.queue, slices.Clone(data))
		n.pending++
	}
	n.changed.Broadcast()
	return nil
}

// Subscribe calls fn with the messages of subject from other nodes, on a
// goroutine of its own.
func (nd *Node) Subscribe(subject string, fn func(data []byte)) (unsubscribe func(), err error) {
	if err := docket.CheckSubject(subject); err != nil {
		return nil, err
	}
	if fn == nil {
		return nil, docket.Errorf(docket.EINVALID, "Subscribe needs a function to call.")
	}
	n := nd.net
	n.mu.Lock()
	defer n.mu.Unlock()
	if nd.closed {
		return nil, docket.Errorf(docket.EUNAVAILABLE, "The bus is closed.")
	}
	s := &subscription{node: nd, subject: subject, fn: fn}
	n.subs[subject] = append(n.subs[subject], s)
	nd.subs = append(nd.subs, s)
	go s.run()
	return func() {
		n.mu.Lock()
		defer n.mu.Unlock()
		s.stop()
	}, nil
}

// Close ends every subscription of the node, as if its process stopped;
// later calls of Publish and Subscribe return EUNAVAILABLE.
func (nd *Node) Close() error {
	nd.net.mu.Lock()
	defer nd.net.mu.Unlock()
	nd.closed = true
	subs := nd.subs
	nd.subs = nil
	for _, s := range subs {
		s.stop()
	}
	return nil
}

// subscription is one call of Subscribe. Its fields other than fn are
// guarded by the network's mu.
type subscription struct {
	node    *Node
	subject string
	fn      func([]byte)
	queue   [][]byte
	stopped bool
}

// stop removes s from the network and discards its queue. The caller
// holds the network's mu.
func (s *subscription) stop() {
	if s.stopped {
		return
	}
	n := s.node.net
	s.stopped = true
	n.subs[s.subject] = slices.DeleteFunc(n.subs[s.subject], func(o *subscription) bool { return o == s })
	if len(n.subs[s.subject]) == 0 {
		delete(n.subs, s.subject)
	}
	s.node.subs = slices.DeleteFunc(s.node.subs, func(o *subscription) bool { return o == s })
	n.pending -= len(s.queue)
	s.queue = nil
	n.changed.Broadcast()
}

// run delivers s's queue to its fn in order, one message at a time, until
// s is stopped.
func (s *subscription) run() {
	n := s.node.net
	n.mu.Lock()
	defer n.mu.Unlock()
	for {
		for !s.stopped && (len(s.queue) == 0 || n.paused) {
			n.changed.Wait()
		}
		if s.stopped {
			return
		}
		data := s.queue[0]
		s.queue[0] = nil
		s.queue = s.queue[1:]
		n.mu.Unlock()
		s.fn(data)
		n.mu.Lock()
		n.pending--
		n.changed.Broadcast()
	}
}
