package bolt

import (
	"context"
	"encoding/json"
	"log/slog"
	"time"

	docket "github.com/docket-dev/docket"
	"github.com/docket-dev/docket/kv"
)

// This file makes a DB one node of a cluster: several processes on one
// shared engine (postgres.Store), told of each other's commits over a
// docket.Bus. The engine is the truth; the bus only wakes the other
// nodes' watchers (search, event streams, the action updater, the mailer
// and the webhook dispatcher) and ends what their caches hold, so a lost
// message delays a node and never misleads it: every watcher reads what
// changed from the store, and caches expire within cacheTTL anyway.

// subjectStore is the bus subject of commit notes.
const subjectStore = "store"

// cacheTTL bounds how long a node of a cluster serves what it cached
// (tokens, document metadata) without hearing of a commit: a revocation
// on another node is seen within it even if its note was lost.
const cacheTTL = time.Second

// clusterNote tells the other nodes what one write transaction committed:
// the same things the local OnChange, OnEvent, OnDeliveryQueued and
// OnSignupMail watchers hear.
type clusterNote struct {
	Changes []docket.Change `json:"changes,omitempty"`
	Events  []docket.Event  `json:"events,omitempty"`
	Queued  bool            `json:"queued,omitempty"`
	Signup  bool            `json:"signup,omitempty"`
}

// noteTx is a write transaction of a node, collecting its note.
type noteTx struct {
	kv.Tx
	note *clusterNote
}

// noteOf returns the note of tx, or nil on a single node.
func noteOf(tx kv.Tx) *clusterNote {
	if t, ok := tx.(noteTx); ok {
		return t.note
	}
	return nil
}

// SetBus makes db a node of a cluster: every write transaction publishes
// a note of what it committed, and the notes of the other nodes run this
// node's watchers. It runs until ctx is done.
func (db *DB) SetBus(ctx context.Context, bus docket.Bus, log *slog.Logger) error {
	if log == nil {
		log = slog.Default()
	}
	unsubscribe, err := bus.Subscribe(subjectStore, func(data []byte) {
		var n clusterNote
		if err := json.Unmarshal(data, &n); err != nil {
			log.Warn("cluster: bad store note", "err", err)
			return
		}
		db.heard(n)
	})
	if err != nil {
		return err
	}
	db.bus, db.busLog = bus, log
	go func() {
		t := time.NewTicker(cacheTTL)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				unsubscribe()
				return
			case <-t.C:
				db.gen.Add(1) // see cacheTTL
			}
		}
	}()
	return nil
}

// inCluster wraps fn of a write transaction so that, on a node of a
// cluster, the transaction's note is published once it commits.
func (db *DB) inCluster(fn func(kv.Tx) error) func(kv.Tx) error {
	if db.bus == nil {
		return fn
	}
	return func(tx kv.Tx) error {
		n := &clusterNote{}
		tx.OnCommit(func() { db.publish(n) })
		return fn(noteTx{tx, n})
	}
}

// publish sends n to the other nodes. Even an empty note is sent: it
// ends what their caches hold.
func (db *DB) publish(n *clusterNote) {
	data, err := json.Marshal(n)
	if err == nil {
		err = db.bus.Publish(subjectStore, data)
	}
	if err != nil {
		db.busLog.Warn("cluster: store note not published", "err", err)
	}
}

// heard runs this node's watchers for a note from another node.
func (db *DB) heard(n clusterNote) {
	db.gen.Add(1)
	for _, ch := range n.Changes {
		db.changed(ch)
	}
	for _, ev := range n.Events {
		db.evented(ev)
	}
	if n.Queued {
		db.deliveryQueued()
	}
	if n.Signup {
		db.signupMailed()
	}
}
