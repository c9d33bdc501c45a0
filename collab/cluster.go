package collab

import (
	"context"
	"encoding/json"
	"log/slog"
	"math"
	"sync/atomic"
	"time"

	docket "github.com/docket-dev/docket"
	"github.com/docket-dev/docket/collab/ot"
)

// This file is what a hub does when it is one node of a cluster
// (Options.Bus is set): the nodes share one store, which orders the
// commits of every node, and one bus, which tells the others what was
// committed. A node publishes each commit on the document's subject; a
// node with the document loaded applies what it receives in version
// order, fills a gap from the store, and checks the store now and then
// for a message that never came. A commit that another node's beat is
// rebased inside the transaction by a store that can (commit.go,
// document.commitAll); with another store it fails with ECONFLICT,
// catches up from the store and transforms its ops again. Presence
// travels on the bus only.

// maxConflictRetries is how many times a document catches up and commits
// again when other nodes keep committing first.
const maxConflictRetries = 10

// maxHeldPresence is how many remote presences a document holds while it
// has not yet seen the version they refer to.
const maxHeldPresence = 256

// errBusy fails submissions that lost the race to other nodes too often:
// the client reconnects and resends them (they are de-duplicated).
var errBusy = docket.Errorf(docket.EUNAVAILABLE, "The document is edited on other nodes faster than this one could catch up; resend the op.")

func opsSubject(docID string) string      { return "doc." + docID + ".ops" }
func presenceSubject(docID string) string { return "doc." + docID + ".presence" }

// Stats are a hub's counts since it started, for metrics.
type Stats struct {
	// RemoteOps are the committed ops of other nodes applied to the
	// documents loaded here, from the bus or the store.
	RemoteOps int64
	// GapFills are the reads of missing ops from the store: after a bus
	// message lost or overtaken, a periodic check that found ops, a
	// conflict, or a client that named a version not seen here.
	GapFills int64
	// Conflicts are the commits that another node's commit beat: the
	// document caught up and committed again.
	Conflicts int64
	// Rebases are the commits that another node's commit beat and that
	// the store ([docket.OpRebaser]) brought up to date inside the
	// transaction: nothing was retried.
	Rebases int64
	// ConflictFailures are the submissions failed after
	// maxConflictRetries conflicts in a row.
	ConflictFailures int64
	// BusDropped are the bus messages dropped because the document's
	// inbox was full (a later message or check catches up).
	BusDropped int64
	// PublishErrors are the bus publishes that failed.
	PublishErrors int64
}

type hubStats struct {
	remoteOps, gapFills, conflicts, rebases, conflictFailures, busDropped, publishErrors atomic.Int64
}

// Stats returns the hub's counts.
func (h *Hub) Stats() Stats {
	s := &h.stats
	return Stats{
		RemoteOps: s.remoteOps.Load(), GapFills: s.gapFills.Load(), Conflicts: s.conflicts.Load(), Rebases: s.rebases.Load(),
		ConflictFailures: s.conflictFailures.Load(), BusDropped: s.busDropped.Load(), PublishErrors: s.publishErrors.Load(),
	}
}

// remoteOpsRequest carries the records another node committed.
type remoteOpsRequest struct{ recs []*docket.OpRecord }

// remotePresenceRequest carries another node's presence message.
type remotePresenceRequest struct{ m presenceMessage }

func (*remoteOpsRequest) isRequest()      {}
func (*remotePresenceRequest) isRequest() {}

// presenceMessage is a presence on the bus, or a request that the agents
// resend theirs (someone subscribed on the sending node).
type presenceMessage struct {
	Src     string          `json:"src"`
	ID      string          `json:"id,omitempty"`
	Version int64           `json:"v"`
	Value   json.RawMessage `json:"value,omitempty"`
	Seq     int64           `json:"seq,omitempty"`
	Request bool            `json:"request,omitempty"`
}

// subscribeBus listens to the document's subjects; the messages become
// requests in its inbox, so that only its goroutine touches its state.
func (h *Hub) subscribeBus(d *document) error {
	unOps, err := h.opts.Bus.Subscribe(opsSubject(d.id), func(data []byte) {
		var recs []*docket.OpRecord
		if err := json.Unmarshal(data, &recs); err != nil || len(recs) == 0 {
			h.log.Warn("live: bad ops message on the bus", slog.String("doc", d.id), slog.Any("err", err))
			return
		}
		d.post(&remoteOpsRequest{recs})
	})
	if err != nil {
		return err
	}
	unPresence, err := h.opts.Bus.Subscribe(presenceSubject(d.id), func(data []byte) {
		var m presenceMessage
		if err := json.Unmarshal(data, &m); err != nil {
			h.log.Warn("live: bad presence message on the bus", slog.String("doc", d.id), slog.Any("err", err))
			return
		}
		d.post(&remotePresenceRequest{m})
	})
	if err != nil {
		unOps()
		return err
	}
	d.unsubscribeBus = func() { unOps(); unPresence() }
	return nil
}

// post queues a bus message for the document without blocking the bus:
// when the inbox is full the message is dropped, and a later message or
// the periodic check catches up from the store.
func (d *document) post(req request) {
	select {
	case d.inbox <- req:
	case <-d.stopped:
	default:
		d.hub.stats.busDropped.Add(1)
	}
}

// publishOps tells the other nodes what the document committed; if that
// fails, they catch up from the store.
func (d *document) publishOps(recs []docket.OpRecord) { d.publish(opsSubject(d.id), recs) }

// publishPresence tells the other nodes about a local presence.
func (d *document) publishPresence(m presenceMessage) {
	if d.hub.opts.Bus != nil {
		d.publish(presenceSubject(d.id), m)
	}
}

func (d *document) publish(subject string, v any) {
	data, err := json.Marshal(v)
	if err == nil {
		err = d.hub.opts.Bus.Publish(subject, data)
	}
	if err != nil {
		d.hub.stats.publishErrors.Add(1)
		d.hub.log.Warn("live: publishing on the bus failed", slog.String("subject", subject), slog.Any("err", err))
	}
}

// remoteOps applies records another node committed, in version order:
// those already seen are skipped and a gap before them is read from the
// store first.
func (d *document) remoteOps(recs []*docket.OpRecord) {
	for len(recs) > 0 && recs[0].Version < d.version {
		recs = recs[1:]
	}
	if len(recs) == 0 {
		return
	}
	if recs[0].Version > d.version {
		if _, err := d.fill(recs[0].Version); err != nil {
			d.hub.log.Warn("live: filling a gap from the store failed", slog.String("doc", d.id), slog.Any("err", err))
			return
		}
	}
	for i, rec := range recs {
		if rec.Version != d.version+int64(i) {
			recs = recs[:i] // out of order: the next message or check fills it
			break
		}
	}
	if err := d.applyRemote(recs); err != nil {
		d.hub.log.Error("live: a remote op does not apply; reading the store", slog.String("doc", d.id), slog.Any("err", err))
		d.catchUp()
	}
}

// catchUp brings the document to the store's current version: it reads
// the ops after its own, which usually are none. It reports whether
// there were any.
func (d *document) catchUp() (bool, error) {
	start := time.Now()
	n, err := d.fill(math.MaxInt64)
	if err != nil {
		return false, err
	}
	d.checked = start
	return n > 0, nil
}

// fill reads the committed ops from the document's version up to to, or
// up to the store's last for math.MaxInt64, and applies them. It returns
// how many it applied.
func (d *document) fill(to int64) (int, error) {
	recs, err := d.hub.store.LoadOps(context.Background(), d.id, d.version, to)
	if err != nil || len(recs) == 0 {
		return 0, err
	}
	if recs[0].Version != d.version || (to != math.MaxInt64 && int64(len(recs)) != to-d.version) {
		return 0, docket.Errorf(docket.EINTERNAL, "op log of %s has gaps", d.id)
	}
	d.hub.stats.gapFills.Add(1)
	return len(recs), d.applyRemote(recs)
}

// applyRemote applies committed ops that start at the document's
// version, all or none, and delivers them to the subscribers exactly as
// if they had been committed here.
func (d *document) applyRemote(recs []*docket.OpRecord) error {
	if len(recs) == 0 {
		return nil
	}
	text, length := d.text, d.length
	ops := make([]ot.Op, len(recs))
	for i, rec := range recs {
		if rec.Version != d.version+int64(i) {
			return docket.Errorf(docket.EINTERNAL, "op %d of %s is out of order", rec.Version, d.id)
		}
		if err := ops[i].UnmarshalJSON(rec.Op); err != nil {
			return err
		}
		if ops[i].BaseLen() > length {
			return docket.Errorf(docket.EINTERNAL, "op %d of %s does not fit the text", rec.Version, d.id)
		}
		var err error
		if text, err = ot.Apply(text, ops[i]); err != nil {
			return err
		}
		length += ops[i].TargetLen() - ops[i].BaseLen()
	}
	evs := make([]Event, len(recs))
	for i, rec := range recs {
		d.recent = append(d.recent, committed{rec, ops[i]})
		if rec.Src != "" && rec.Seq > d.seqs[rec.Src] {
			d.seqs[rec.Src] = rec.Seq
		}
		evs[i] = Event{DocID: d.id, Op: rec, frame: opFrame(d.id, rec)}
	}
	d.version += int64(len(recs))
	d.text, d.length = text, length
	d.trimRecent()
	d.hub.stats.remoteOps.Add(int64(len(recs)))
	for s := range d.subs {
		if !s.deliverAll(evs, s.Src) {
			d.drop(s)
		}
	}
	d.releaseHeld()
	return nil
}

// remotePresence relays another node's presence to the local presence
// subscribers. A presence at a version this node has not reached yet is
// held (the latest per agent and id) until the document catches up: the
// next ops message or the periodic check.
func (d *document) remotePresence(m presenceMessage) {
	if len(d.psubs) == 0 {
		return
	}
	if m.Request {
		d.broadcast(d.psubs, m.Src, Event{DocID: d.id, PresenceRequest: true})
		return
	}
	p := Presence{Src: m.Src, ID: m.ID, Version: m.Version, Value: m.Value, Seq: m.Seq}
	if len(p.Value) == 0 {
		p.Value = json.RawMessage("null")
	}
	if p.Version > d.version {
		key := p.Src + "\x00" + p.ID
		if _, ok := d.held[key]; ok || len(d.held) < maxHeldPresence {
			if d.held == nil {
				d.held = map[string]Presence{}
			}
			d.held[key] = p
		}
		return
	}
	d.relayPresence(p, false)
}

// releaseHeld relays the held presences the document has caught up with.
func (d *document) releaseHeld() {
	for key, p := range d.held {
		if p.Version <= d.version {
			delete(d.held, key)
			d.relayPresence(p, false)
		}
	}
}

// check catches up from the store when the document has not been known
// current for a check interval; it runs on the periodic tick and before
// a snapshot is served.
func (d *document) check() {
	if d.hub.opts.Bus == nil || time.Since(d.checked) < d.hub.opts.CheckInterval {
		return
	}
	if _, err := d.catchUp(); err != nil {
		d.hub.log.Warn("live: checking the store failed", slog.String("doc", d.id), slog.Any("err", err))
	}
}

// reach catches up from the store when a client names a version this
// node has not seen yet (it saw it through another node).
func (d *document) reach(version int64) {
	if version <= d.version {
		return
	}
	if _, err := d.catchUp(); err != nil {
		d.hub.log.Warn("live: catching up failed", slog.String("doc", d.id), slog.Any("err", err))
	}
}
