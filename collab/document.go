package collab

import (
	"context"
	"errors"
	"slices"
	"time"

	docket "github.com/docket-dev/docket"
	"github.com/docket-dev/docket/collab/ot"
)

// ErrNoOp answers a submission that changes nothing: it is not stored.
var ErrNoOp = docket.Errorf(docket.EUNPROCESS, "The op changes nothing and was not stored.")

// request is something a document goroutine does for a caller.
type request interface{ isRequest() }

type submitReply struct {
	ack *Ack
	err error
}

type submitRequest struct {
	sub   Submission
	reply chan submitReply
}

type snapshotRequest struct {
	// atLeast is a version the caller has seen (through another node);
	// the document catches up from the store if it is behind it.
	atLeast int64
	reply   chan snapshot
}

type snapshot struct {
	version int64
	text    string
}

func (*submitRequest) isRequest()   {}
func (*snapshotRequest) isRequest() {}

// committed is an op in the document's recent history.
type committed struct {
	rec *docket.OpRecord
	op  ot.Op
}

// document is one open document, owned by its goroutine.
type document struct {
	hub      *Hub
	id       string
	version  int64
	text     string
	length   int                        // text's length in code points
	recent   []committed                // the last ops, recent[len-1].rec.Version == version-1
	subs     map[*Subscriber]bool       // op subscribers
	psubs    map[*Subscriber]bool       // presence subscribers
	pids     map[string]map[string]bool // src -> presence ids it announced
	recorder *recorder                  // the running recording, if any
	// seqs is the highest seq committed by each agent (src) while the
	// document is loaded: an op from that agent needs a higher one, or
	// must be a resend of the op committed with it. seqUndo takes back
	// what a batch whose commit failed set.
	seqs    map[string]int64
	seqUndo []seqSet
	inbox   chan request
	quit    chan struct{}
	stopped chan struct{}
	// In a cluster (Options.Bus): checked is when the document was last
	// known to be at the store's version, held are remote presences at
	// versions not seen yet, and unsubscribeBus ends its bus
	// subscriptions.
	checked        time.Time
	held           map[string]Presence
	unsubscribeBus func()
}

// newDocument returns a document at version 0 with no text; load sets
// them.
func newDocument(h *Hub, id string) *document {
	return &document{
		hub: h, id: id,
		subs: map[*Subscriber]bool{}, psubs: map[*Subscriber]bool{}, pids: map[string]map[string]bool{}, seqs: map[string]int64{},
		inbox: make(chan request, 256), quit: make(chan struct{}), stopped: make(chan struct{}),
	}
}

func (d *document) stop() {
	close(d.quit)
	<-d.stopped
}

// run serves requests until the document is idle or the hub closes.
func (d *document) run() {
	defer close(d.stopped)
	defer d.hub.unload(d)
	if d.unsubscribeBus != nil {
		defer d.unsubscribeBus()
	}
	idle := time.NewTimer(d.hub.opts.IdleTimeout)
	defer idle.Stop()
	var tick <-chan time.Time
	if d.hub.opts.Bus != nil {
		t := time.NewTicker(d.hub.opts.CheckInterval)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case req := <-d.inbox:
			// Other nodes' ops do not keep a document nobody here uses
			// loaded.
			if d.handle(gather(d.inbox, req)) {
				idle.Reset(d.hub.opts.IdleTimeout)
			}
		case <-tick:
			if len(d.subs)+len(d.psubs)+len(d.held) > 0 {
				d.check()
			}
		case <-idle.C:
			if len(d.subs)+len(d.psubs) > 0 {
				idle.Reset(d.hub.opts.IdleTimeout)
				continue
			}
			// Unload; a request that slipped in meanwhile is served.
			d.hub.retire(d)
			select {
			case req := <-d.inbox:
				d.handle([]request{req})
			default:
			}
			d.drain()
			d.recordEnd(true)
			return
		case <-d.quit:
			d.drain()
			d.recordEnd(true)
			return
		}
	}
}

// drain answers whatever is still queued.
func (d *document) drain() {
	for {
		select {
		case req := <-d.inbox:
			d.handle([]request{req})
		default:
			return
		}
	}
}

// handle serves a batch of requests in order; consecutive submissions are
// committed together. What other nodes committed or sent (the bus) is
// applied at once without ending a run of submissions: those are not
// applied yet and go over it, as they would in a rebase, so the bus
// messages among them do not split their commit in several. It reports
// whether any request came from this node rather than the bus.
func (d *document) handle(batch []request) (local bool) {
	var subs []*submitRequest
	for _, req := range batch {
		switch r := req.(type) {
		case *submitRequest:
			subs = append(subs, r)
			local = true
			continue
		case *remoteOpsRequest:
			d.remoteOps(r.recs)
			continue
		case *remotePresenceRequest:
			d.remotePresence(r.m)
			continue
		}
		d.submitAll(subs)
		subs = nil
		switch r := req.(type) {
		case *snapshotRequest:
			d.check()
			d.reach(r.atLeast)
			r.reply <- snapshot{d.version, d.text}
			local = true
		default:
			d.handleSubscription(req)
			local = true
		}
	}
	d.submitAll(subs)
	return local
}

// pendingAck is a submission that was applied tentatively and waits for
// its commit.
type pendingAck struct {
	req *submitRequest
	ack *Ack
}

// submitAll transforms and applies submissions to a tentative state,
// commits them in one request, and then acknowledges them, or rolls the
// state back and fails them all if the commit fails. When another node
// committed first (ECONFLICT), the document catches up from the store
// and transforms and commits them again, up to maxConflictRetries times.
func (d *document) submitAll(subs []*submitRequest) {
	if len(subs) == 0 {
		return
	}
	for _, r := range subs {
		if r.sub.Version > d.version {
			d.reach(r.sub.Version)
			break
		}
	}
	for attempt := 0; ; attempt++ {
		commits, acks, err := d.commitAll(subs)
		if err == nil {
			d.committed(commits, acks)
			return
		}
		if docket.ErrorCode(err) == docket.ECONFLICT {
			// Another node committed first: catch up, so that the
			// document is current whatever comes next.
			caught, cerr := d.catchUp()
			switch {
			case cerr != nil:
				err = cerr
			case !caught: // not another node's doing: fail with it
			case attempt == maxConflictRetries:
				err = errBusy
			default:
				// The pending submissions go again, transformed over
				// what the other nodes committed.
				d.hub.stats.conflicts.Add(1)
				subs = subs[:0]
				for _, p := range acks {
					subs = append(subs, p.req)
				}
				continue
			}
		}
		for _, p := range acks {
			if p.ack.Duplicate {
				p.req.reply <- submitReply{ack: p.ack}
				continue
			}
			if err == errBusy {
				d.hub.stats.conflictFailures.Add(1)
			}
			p.req.reply <- submitReply{err: err}
		}
		return
	}
}

// commitAll applies submissions to a tentative state and commits them;
// those refused are answered at once. If the commit fails, the state is
// rolled back and the error returned with the submissions still to
// answer.
//
// With a store that rebases ([docket.OpRebaser]), a commit that another
// node's beat is brought up to date inside the transaction by cr.rebase,
// in the committer goroutine while this one waits for the result (the
// channels order the two): it rolls the tentative state back, applies
// the missing ops as remote ones (they are committed, so they stay even
// if the transaction fails), and applies the pending submissions again
// over them. The commits and acks returned are then the rebased ones.
func (d *document) commitAll(subs []*submitRequest) ([]docket.OpCommit, []pendingAck, error) {
	base := d.mark()
	commits, acks := d.applyAll(subs)
	if len(commits) == 0 {
		return nil, acks, nil
	}
	cr := &commitRequest{docID: d.id, commits: commits, result: make(chan error, 1)}
	if d.hub.rebaser != nil {
		cr.rebase = func(missing []*docket.OpRecord) ([]docket.OpCommit, error) {
			d.rollback(base)
			if err := d.applyRemote(missing); err != nil {
				return nil, err
			}
			base = d.mark()
			pending := make([]*submitRequest, len(acks))
			for i, p := range acks {
				pending[i] = p.req
			}
			commits, acks = d.applyAll(pending)
			return commits, nil
		}
	}
	d.hub.commits <- cr
	if err := <-cr.result; err != nil {
		d.rollback(base)
		return nil, acks, err
	}
	if d.hub.opts.Bus != nil {
		d.checked = time.Now()
	}
	return commits, acks, nil
}

// applyAll applies submissions to the tentative state and returns the
// commits and the acks to send once they are committed; those refused
// are answered at once.
func (d *document) applyAll(subs []*submitRequest) ([]docket.OpCommit, []pendingAck) {
	var commits []docket.OpCommit
	var acks []pendingAck
	for _, r := range subs {
		ack, rec, err := d.apply(r.sub)
		if err != nil {
			r.reply <- submitReply{err: err}
			continue
		}
		if rec != nil {
			commits = append(commits, docket.OpCommit{DocID: d.id, Rec: *rec, Text: d.text, Announce: r.sub.Announce})
		}
		acks = append(acks, pendingAck{r, ack})
	}
	return commits, acks
}

// mark is a state of a document to roll back to: the one before a
// batch's tentative ops, or after the ops a rebase found missing.
type mark struct {
	version int64
	text    string
	length  int
	nrecent int
}

// mark returns the current state and starts recording what applied ops
// set in seqs.
func (d *document) mark() mark {
	d.seqUndo = d.seqUndo[:0]
	return mark{d.version, d.text, d.length, len(d.recent)}
}

// rollback takes back the ops applied since m and what they set in seqs.
func (d *document) rollback(m mark) {
	d.version, d.text, d.length, d.recent = m.version, m.text, m.length, d.recent[:m.nrecent]
	for i := len(d.seqUndo) - 1; i >= 0; i-- {
		d.seqUndo[i].undo(d.seqs)
	}
	d.seqUndo = d.seqUndo[:0]
}

// committed publishes committed submissions to the other nodes of a
// cluster, acknowledges them and delivers the ops to the subscribers.
func (d *document) committed(commits []docket.OpCommit, acks []pendingAck) {
	d.trimRecent()
	d.recordOps(commits)
	bus := d.hub.opts.Bus
	var recs []docket.OpRecord
	if len(commits) > 0 && (len(d.subs) > 0 || bus != nil) {
		// The records are copied out of the commits, which hold the text
		// at each version: queued events must not keep those alive.
		recs = make([]docket.OpRecord, len(commits))
		for i := range commits {
			recs[i] = commits[i].Rec
		}
	}
	if bus != nil && len(recs) > 0 {
		d.publishOps(recs)
	}
	for _, p := range acks {
		p.req.reply <- submitReply{ack: p.ack}
	}
	if len(recs) == 0 || len(d.subs) == 0 {
		return
	}
	evs := make([]Event, len(recs))
	for i := range recs {
		evs[i] = Event{DocID: d.id, Op: &recs[i], frame: opFrame(d.id, &recs[i])}
	}
	for s := range d.subs {
		if !s.deliverAll(evs, s.Src) {
			d.drop(s)
		}
	}
}

// drop forgets a subscriber that was dropped for falling behind.
func (d *document) drop(s *Subscriber) {
	delete(d.subs, s)
	delete(d.psubs, s)
	d.recordLeave(s.UserID)
}

// handleSubscription serves the subscription, presence and recording
// requests.
func (d *document) handleSubscription(req request) {
	switch r := req.(type) {
	case *subscribeRequest:
		d.check()
		d.reach(r.from)
		rep := subscribeReply{version: d.version}
		if r.from < 0 {
			rep.text = d.text
		} else if r.from > d.version {
			rep.err = docket.Errorf(docket.EINVALID, "Version %d is newer than the document (%d).", r.from, d.version)
		} else {
			ops, err := d.opsSince(r.from)
			rep.err = err
			for _, c := range ops {
				rep.ops = append(rep.ops, c.rec)
			}
		}
		if rep.err == nil && !d.subs[r.sub] {
			d.subs[r.sub] = true
			d.recordJoin(r.sub.UserID)
		}
		r.reply <- rep
	case *unsubscribeRequest:
		if !r.presence && d.subs[r.sub] {
			delete(d.subs, r.sub)
			d.recordLeave(r.sub.UserID)
		}
		if r.presence {
			d.unsubscribePresence(r.sub)
		}
		close(r.done)
	case *presenceSubscribeRequest:
		d.subscribePresence(r.sub)
		close(r.done)
	case *forgetRequest:
		d.forget()
	case *recordingEndRequest:
		d.recordEnd(false)
	case *recordingSaveRequest:
		d.recordSaveDue()
	case *presenceRequest:
		r.done <- d.relayPresence(r.p, true)
	}
}

// opsSince returns the committed ops from base to the current version,
// from memory or, for old bases, from storage.
func (d *document) opsSince(base int64) ([]committed, error) {
	if base == d.version {
		return nil, nil
	}
	if n := len(d.recent); n > 0 && d.recent[0].rec.Version <= base {
		return d.recent[base-d.recent[0].rec.Version:], nil
	}
	// Storage holds every op before the in-memory history, which is
	// always committed; ops after it may be tentative (applied in this
	// group, not yet committed), so they come from memory.
	upto := d.version
	if len(d.recent) > 0 {
		upto = d.recent[0].rec.Version
	}
	recs, err := d.hub.store.LoadOps(context.Background(), d.id, base, upto)
	if err != nil {
		return nil, err
	}
	out := make([]committed, 0, int(d.version-base))
	for _, rec := range recs {
		var op ot.Op
		if err := op.UnmarshalJSON(rec.Op); err != nil {
			// The creation op of an imported document is a plain insert;
			// anything unreadable is a storage fault.
			return nil, err
		}
		out = append(out, committed{rec, op})
	}
	out = append(out, d.recent...)
	if int64(len(out)) != d.version-base {
		return nil, docket.Errorf(docket.EINTERNAL, "op log of %s has gaps", d.id)
	}
	return out, nil
}

// apply checks, de-duplicates, transforms and applies one submission to
// the tentative state. It returns the record to commit, or nil for a
// duplicate.
func (d *document) apply(s Submission) (*Ack, *docket.OpRecord, error) {
	base := s.Version
	if base < 0 {
		base = d.version
	}
	if base > d.version {
		return nil, nil, &docket.Error{Code: docket.ECONFLICT, Message: "The op's version is newer than the document; fetch and resubmit.", Data: map[string]any{"version": d.version}}
	}
	since, err := d.opsSince(base)
	if err != nil {
		return nil, nil, err
	}
	if s.Src != "" {
		for i, c := range since {
			if c.rec.Src == s.Src && c.rec.Seq == s.Seq {
				if !isResend(s.Op, since[:i], c.op) {
					return nil, nil, seqReused(s.Seq)
				}
				return &Ack{Version: c.rec.Version, Op: c.op, Duplicate: true}, nil, nil
			}
		}
		if last, ok := d.seqs[s.Src]; ok && s.Seq <= last {
			return nil, nil, seqReused(s.Seq)
		}
	}
	if err := ot.Check(s.Op); err != nil {
		return nil, nil, invalidOp(err)
	}
	op := ot.Normalize(s.Op)
	for _, c := range since {
		if op, err = ot.Transform(op, c.op, ot.Left); err != nil {
			return nil, nil, invalidOp(err)
		}
	}
	if op.BaseLen() > d.length {
		return nil, nil, docket.Errorf(docket.EINVALID, "Invalid op: it is longer than the document.")
	}
	text, err := ot.Apply(d.text, op)
	if err != nil {
		return nil, nil, invalidOp(err)
	}
	if len(text) > d.hub.opts.MaxDocumentBytes {
		return nil, nil, docket.Errorf(docket.ETOOLARGE, "The document would be larger than %d bytes.", d.hub.opts.MaxDocumentBytes)
	}
	if text == d.text {
		return nil, nil, ErrNoOp
	}
	raw, err := op.MarshalJSON()
	if err != nil {
		return nil, nil, err
	}
	rec := &docket.OpRecord{Version: d.version, Src: s.Src, Seq: s.Seq, Author: s.Author, Time: time.Now().UTC(), Op: raw}
	missed := make([]*docket.OpRecord, len(since))
	for i, c := range since {
		missed[i] = c.rec
	}
	d.recent = append(d.recent, committed{rec, op})
	if s.Src != "" {
		last, had := d.seqs[s.Src]
		d.seqUndo = append(d.seqUndo, seqSet{src: s.Src, last: last, had: had})
		d.seqs[s.Src] = s.Seq
	}
	d.version++
	d.text = text
	d.length += op.TargetLen() - op.BaseLen()
	return &Ack{Version: rec.Version, Op: op, Missed: missed}, rec, nil
}

// seqSet is what an applied op changed in document.seqs.
type seqSet struct {
	src  string
	last int64
	had  bool
}

func (u seqSet) undo(seqs map[string]int64) {
	if u.had {
		seqs[u.src] = u.last
	} else {
		delete(seqs, u.src)
	}
}

// isResend reports whether op, sent at the version before the ops of
// between, is the op that was committed as stored after them: a client
// that resends after a reconnect sends the same op at the same version.
func isResend(op ot.Op, between []committed, stored ot.Op) bool {
	if ot.Check(op) != nil {
		return false
	}
	op = ot.Normalize(op)
	var err error
	for _, c := range between {
		if op, err = ot.Transform(op, c.op, ot.Left); err != nil {
			return false
		}
	}
	return slices.Equal(op, stored)
}

// seqReused is the error of an op whose seq its agent has used already.
func seqReused(seq int64) error {
	return docket.Errorf(docket.EINVALID, "Seq %d of this agent was used by another op; a new op needs a new seq.", seq)
}

// invalidOp wraps an ot error as an invalid-op error.
func invalidOp(err error) error {
	var de *docket.Error
	if errors.As(err, &de) {
		return err
	}
	return docket.Errorf(docket.EINVALID, "Invalid op: %v", err)
}

// trimRecent keeps the in-memory history bounded: once it holds twice
// RecentOps, the older half goes, so that an op costs one copy of an
// entry on average rather than a copy of the whole history.
func (d *document) trimRecent() {
	if keep := d.hub.opts.RecentOps; len(d.recent) >= 2*keep {
		d.recent = append(d.recent[:0:0], d.recent[len(d.recent)-keep:]...)
	}
}

// Snapshot returns a document's current version and text.
func (h *Hub) Snapshot(ctx context.Context, docID string) (int64, string, error) {
	return h.snapshotAt(ctx, docID, -1)
}

// snapshotAt returns a document's current version and text, at least at
// version atLeast if the store has it (a client that saw it elsewhere).
func (h *Hub) snapshotAt(ctx context.Context, docID string, atLeast int64) (int64, string, error) {
	req := &snapshotRequest{atLeast: atLeast, reply: make(chan snapshot, 1)}
	s, err := call(ctx, h, docID, req, req.reply)
	return s.version, s.text, err
}
