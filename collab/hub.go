package collab

import (
	"context"
	"log/slog"
	"sync"
	"time"

	docket "github.com/docket-dev/docket"
	"github.com/docket-dev/docket/collab/ot"
)

// Submission is an op sent by a client.
type Submission struct {
	// Version is the base version the op was made at; -1 means the
	// current version (the op is not transformed).
	Version int64
	Op      ot.Op
	Src     string
	Seq     int64
	Author  string
	// Announce records the edit in the activity feed (a doc.edited
	// event): for edits made one at a time through the API, not for
	// keystrokes of live sessions, which are summed up when they end.
	Announce bool
}

// Ack is the answer to a committed submission.
type Ack struct {
	// Version is the version the op was committed at.
	Version int64
	// Op is the op as committed, after transformation.
	Op ot.Op
	// Missed are the committed ops the submission was transformed against,
	// in order, for a client that has not seen them yet.
	Missed []*docket.OpRecord
	// Duplicate is true when (Src, Seq) had been committed before; Version
	// is then the original version and nothing was applied.
	Duplicate bool
}

// Options tune a hub.
type Options struct {
	// MaxDocumentBytes caps a document's size (docket.MaxDocumentBytes).
	MaxDocumentBytes int
	// RecentOps is how many committed ops each open document keeps in
	// memory at least (twice as many at most) for transforming late
	// submissions.
	RecentOps int
	// IdleTimeout unloads a document nobody used for this long.
	IdleTimeout time.Duration
	// Logger receives commit failures.
	Logger *slog.Logger
	// Recordings, if set, stores a recording of each live session.
	Recordings docket.RecordingService
	// RecordingGrace is how long a recording goes on after the last
	// subscriber left, so that a reconnect continues it.
	RecordingGrace time.Duration
	// RecordingSave is how soon after an op a running recording's counts
	// are stored, so that the history page and GET /api/docs/:id/sessions
	// show a live session as it goes (5 s).
	RecordingSave time.Duration
	// ObserveCommit, if set, is called after every group commit that
	// succeeded with the number of ops it stored and how long the
	// transaction took, fsync included (for metrics; must be quick).
	ObserveCommit func(ops int, took time.Duration)
	// Bus, if set, makes the hub one node of a cluster whose nodes share
	// the store (cluster.go): commits are published on it, and the
	// documents loaded here follow the other nodes' commits. Nil is a
	// single node.
	Bus docket.Bus
	// CheckInterval is how often a document with subscribers, in a
	// cluster, checks the store for commits whose bus message was lost,
	// and how old its state may be when served to a new subscriber (2 s).
	CheckInterval time.Duration
}

// Hub owns the open documents.
type Hub struct {
	store docket.OpLog
	// rebaser is the store if it rebases a commit that is behind inside
	// its transaction (commit.go); nil otherwise.
	rebaser docket.OpRebaser
	opts    Options
	log     *slog.Logger

	mu   sync.Mutex
	docs map[string]*document
	// stopping are documents unloading: they take no new requests but
	// may still commit the ones they took, so the document is not loaded
	// again from storage until they have stopped.
	stopping map[string]*document
	closed   bool // Close has begun: no document opens any more

	commits chan *commitRequest
	saver   *saver // stores recordings; nil without Options.Recordings
	stats   hubStats
	done    chan struct{}
	wg      sync.WaitGroup
}

// New returns a hub over store and starts its committer. Call Close to stop.
func New(store docket.OpLog, opts Options) *Hub {
	if opts.MaxDocumentBytes <= 0 {
		opts.MaxDocumentBytes = docket.MaxDocumentBytes
	}
	if opts.RecentOps <= 0 {
		opts.RecentOps = 1000
	}
	if opts.IdleTimeout <= 0 {
		opts.IdleTimeout = 5 * time.Minute
	}
	if opts.RecordingGrace <= 0 {
		opts.RecordingGrace = 30 * time.Second
	}
	if opts.RecordingSave <= 0 {
		opts.RecordingSave = 5 * time.Second
	}
	if opts.CheckInterval <= 0 {
		opts.CheckInterval = 2 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	h := &Hub{
		store: store, opts: opts, log: opts.Logger,
		docs:     map[string]*document{},
		stopping: map[string]*document{},
		commits:  make(chan *commitRequest, 1024),
		done:     make(chan struct{}),
	}
	h.rebaser, _ = store.(docket.OpRebaser)
	if opts.Recordings != nil {
		h.saver = newSaver(opts.Recordings, opts.Logger)
	}
	h.wg.Add(1)
	go h.runCommitter()
	return h
}

// Close stops every document goroutine and the committer, after the
// commits in flight have finished, and then stores the recordings that
// wait to be.
func (h *Hub) Close() {
	h.mu.Lock()
	h.closed = true
	docs := h.docs
	h.docs = map[string]*document{}
	h.mu.Unlock()
	for _, d := range docs {
		d.stop()
	}
	close(h.done)
	h.wg.Wait()
	if h.saver != nil {
		h.saver.close()
	}
}

var errClosed = docket.Errorf(docket.EUNAVAILABLE, "The server is shutting down; reconnect.")

// Submit transforms, commits and applies an op, and returns once it is
// durable. Errors: EINVALID for a bad op, ETOOLARGE, ENOTFOUND,
// ECONFLICT for a base version newer than the document.
func (h *Hub) Submit(ctx context.Context, docID string, s Submission) (*Ack, error) {
	req := &submitRequest{sub: s, reply: make(chan submitReply, 1)}
	// If ctx ends first, the op may still commit; a resubmission with the
	// same (src, seq) is acknowledged once.
	r, err := call(ctx, h, docID, req, req.reply)
	if err != nil {
		return nil, err
	}
	return r.ack, r.err
}

// call delivers a request to a document's goroutine, loading the document
// if needed, and waits for the answer on reply. A document that unloads
// (idle) just as the request reaches it never takes it; the request then
// goes to the document loaded again. A document answers everything it
// took before it stops, so an answer is never lost nor given twice.
func call[T any](ctx context.Context, h *Hub, docID string, req request, reply <-chan T) (T, error) {
	var zero T
	for attempt := 0; attempt < 3; attempt++ {
		d, err := h.open(ctx, docID)
		if err != nil {
			return zero, err
		}
		select {
		case d.inbox <- req:
		case <-d.stopped:
			continue // unloaded meanwhile: open it again
		case <-ctx.Done():
			return zero, ctx.Err()
		}
		select {
		case r := <-reply:
			return r, nil
		case <-ctx.Done():
			return zero, ctx.Err()
		case <-d.stopped:
			select {
			case r := <-reply:
				return r, nil
			default: // left in the inbox of a stopped document
			}
		}
	}
	return zero, errClosed
}

// open returns the running document, loading it from storage; a
// previous instance that is unloading is waited for first.
func (h *Hub) open(ctx context.Context, docID string) (*document, error) {
	for {
		h.mu.Lock()
		if h.closed {
			h.mu.Unlock()
			// A document opened now would never be stopped, and Close
			// would wait for it until it idles out.
			return nil, errClosed
		}
		if d := h.docs[docID]; d != nil {
			h.mu.Unlock()
			return d, nil
		}
		if old := h.stopping[docID]; old != nil {
			h.mu.Unlock()
			select {
			case <-old.stopped:
				continue
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
		d, err := h.load(ctx, docID)
		h.mu.Unlock()
		return d, err
	}
}

// load reads a document from storage and starts its goroutine. h.mu is
// held. In a cluster it listens to the bus before it reads, so that no
// commit falls between the two: what the bus brings meanwhile waits in
// the inbox, and what the read already has is skipped.
func (h *Hub) load(ctx context.Context, docID string) (*document, error) {
	d := newDocument(h, docID)
	if h.opts.Bus != nil {
		if err := h.subscribeBus(d); err != nil {
			return nil, docket.Errorf(docket.EUNAVAILABLE, "The cluster's bus is unavailable: %v", err)
		}
	}
	version, text, err := h.store.LoadDocument(ctx, docID)
	if err != nil {
		if d.unsubscribeBus != nil {
			d.unsubscribeBus()
		}
		return nil, err
	}
	d.version, d.text, d.length, d.checked = version, text, ot.Length(text), time.Now()
	h.docs[docID] = d
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		d.run()
	}()
	return d, nil
}

// retire stops new requests from reaching an idle document that is about
// to stop; until it has, the document is not loaded again.
func (h *Hub) retire(d *document) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.docs[d.id] == d {
		delete(h.docs, d.id)
		h.stopping[d.id] = d
	}
}

// unload forgets a document whose goroutine is ending: it has answered
// and committed everything it took.
func (h *Hub) unload(d *document) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.docs[d.id] == d {
		delete(h.docs, d.id)
	}
	if h.stopping[d.id] == d {
		delete(h.stopping, d.id)
	}
}

// Forget tells a loaded document that it was deleted: its op and presence
// subscribers get a Gone event and are let go, and its running recording
// is dropped rather than saved (there is no document to save it with).
// The document then unloads like any idle one. Nothing happens if it is
// not loaded.
func (h *Hub) Forget(docID string) {
	h.mu.Lock()
	d := h.docs[docID]
	h.mu.Unlock()
	if d == nil {
		return
	}
	select {
	case d.inbox <- &forgetRequest{}:
	case <-d.stopped:
	}
}

type forgetRequest struct{}

func (*forgetRequest) isRequest() {}

// forget lets every subscriber go with a Gone event and drops the
// recording.
func (d *document) forget() {
	gone := Event{DocID: d.id, Gone: true}
	for s := range d.subs {
		s.deliver(gone)
	}
	for s := range d.psubs {
		if !d.subs[s] {
			s.deliver(gone)
		}
	}
	clear(d.subs)
	clear(d.psubs)
	clear(d.pids)
	if r := d.recorder; r != nil {
		for _, t := range []*time.Timer{r.grace, r.save} {
			if t != nil {
				t.Stop()
			}
		}
		d.recorder = nil
	}
}

// OpenDocuments returns how many documents are loaded.
func (h *Hub) OpenDocuments() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.docs)
}
