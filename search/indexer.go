package search

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/docket-dev/docket"
)

// Indexer keeps the index current. Storage calls Notify after every
// committed change, and NotifyEvent with every committed event; Run
// indexes each changed document at most Debounce after its first
// unindexed change, so continuous live editing is indexed about once a
// second rather than once per keystroke. Metadata, thread and delete
// changes are indexed at once.
//
// Two watermarks let a restart catch up on what was not indexed (see
// [Indexer.CatchUp]): the indexed version of each document, for bodies,
// and the sequence number of the last event whose changes are all
// indexed, for comments, threads, decisions, minutes and metadata, which
// do not move a document's version.
type Indexer struct {
	Index   *Index
	Docs    docket.DocumentService
	Threads docket.ThreadService // nil: comments are not indexed on change
	Scanner Scanner
	Logger  *slog.Logger
	// Debounce is the longest a text change waits; DefaultDebounce if zero.
	Debounce time.Duration
	// Poll, when set, reads the event log after the newest event noted
	// that often. On a node of a cluster the other nodes' events arrive
	// as bus messages, which may be lost; the poll finds what they
	// missed, so a lost message delays the index by at most Poll.
	Poll time.Duration

	mu      sync.Mutex
	pending map[string]*pending
	wake    chan struct{}
	// seenSeq is the newest event noted (NotifyEvent, catch-up, rebuild);
	// inflight the oldest event of each group being indexed; savedSeq
	// the event watermark stored in the index.
	seenSeq  int64
	inflight []int64
	savedSeq int64
	// savedAt is when the watermark was last written; unsaved is set
	// when a newer one waits for watermarkEvery to pass.
	savedAt time.Time
	unsaved bool

	rebuilding atomic.Bool
	lagMax     atomic.Int64 // nanoseconds, for the last flush
	flushes    atomic.Int64
}

// pending is what is waiting to be indexed for one document.
type pending struct {
	first   time.Time // the first unindexed change
	due     time.Time
	doc     bool
	meta    bool // comments carry the title: reindex them too
	deleted bool
	space   string
	threads map[string]bool
	// seq is the oldest event whose changes wait here, 0 if none.
	seq int64
}

// merge adds what o waits for to p.
func (p *pending) merge(o *pending) {
	p.first = minTime(p.first, o.first)
	p.due = minTime(p.due, o.due)
	p.doc, p.meta, p.deleted = p.doc || o.doc, p.meta || o.meta, p.deleted || o.deleted
	for tid := range o.threads {
		if p.threads == nil {
			p.threads = make(map[string]bool)
		}
		p.threads[tid] = true
	}
	p.seq = minSeq(p.seq, o.seq)
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// minSeq returns the smaller of two event sequence numbers, 0 meaning
// none.
func minSeq(a, b int64) int64 {
	if a == 0 || (b != 0 && b < a) {
		return b
	}
	return a
}

func (ix *Indexer) init() {
	if ix.pending == nil {
		ix.pending = make(map[string]*pending)
		ix.wake = make(chan struct{}, 1)
	}
	if ix.Logger == nil {
		ix.Logger = slog.New(slog.DiscardHandler)
	}
}

func (ix *Indexer) setup() {
	ix.mu.Lock()
	ix.init()
	ix.mu.Unlock()
}

func (ix *Indexer) debounce() time.Duration {
	if ix.Debounce > 0 {
		return ix.Debounce
	}
	return DefaultDebounce
}

// DefaultDebounce is how long a text change waits to be indexed: long
// enough that continuous typing is indexed a few times a second at most,
// short enough that, with the indexing itself, a word is found within a
// second of being typed.
const DefaultDebounce = 800 * time.Millisecond

// Notify queues the reindexing that a change needs. It never blocks.
func (ix *Indexer) Notify(ch docket.Change) {
	if ch.DocID == "" {
		return
	}
	ix.mu.Lock()
	ix.init()
	ix.queueLocked(ch, 0, time.Now())
	ix.mu.Unlock()
	ix.poke()
}

// NotifyEvent queues the reindexing that a committed event's change
// needs, and notes its sequence number: the event watermark stored in
// the index passes it only once that change is indexed. It never blocks.
func (ix *Indexer) NotifyEvent(ev docket.Event) {
	ix.mu.Lock()
	ix.init()
	ch, ok := changeOf(ev)
	if ok {
		ix.queueLocked(ch, ev.Seq, time.Now())
	}
	ix.seenSeq = max(ix.seenSeq, ev.Seq)
	ix.mu.Unlock()
	ix.poke() // a flush also moves the watermark
}

// changeOf returns the change that an event records, as far as the index
// is concerned, and false if the index has nothing to do for it.
func changeOf(ev docket.Event) (docket.Change, bool) {
	ch := docket.Change{DocID: ev.DocID, SpaceID: ev.SpaceID, ThreadID: ev.ThreadID, CommentID: ev.CommentID}
	if ev.DocID == "" {
		return ch, false
	}
	switch ev.Type {
	case docket.EventDocCreated, docket.EventDocEdited:
		ch.Kind = docket.ChangeText
	case docket.EventDocUpdated, docket.EventDocTransitioned, docket.EventOwnerChanged:
		ch.Kind = docket.ChangeMeta
	case docket.EventDocDeleted:
		ch.Kind = docket.ChangeDeleted
	case docket.EventThreadCreated, docket.EventThreadResolved, docket.EventThreadReopened,
		docket.EventCommentCreated, docket.EventCommentEdited, docket.EventCommentDeleted,
		docket.EventReviewCreated, docket.EventSuggestionCreated, docket.EventSuggestionApplied,
		docket.EventSuggestionRejected:
		if ev.ThreadID == "" {
			return ch, false // a verdict without a thread
		}
		ch.Kind = docket.ChangeThread
	default:
		return ch, false
	}
	return ch, true
}

func (ix *Indexer) poke() {
	select {
	case ix.wake <- struct{}{}:
	default:
	}
}

// queueLocked queues ch, of the event seq (0 if none); ix.mu is held.
func (ix *Indexer) queueLocked(ch docket.Change, seq int64, now time.Time) {
	p := ix.pending[ch.DocID]
	if p == nil {
		p = &pending{first: now, due: now.Add(ix.debounce())}
		ix.pending[ch.DocID] = p
	}
	p.space = ch.SpaceID
	switch ch.Kind {
	case docket.ChangeDeleted:
		p.deleted, p.due = true, now
	case docket.ChangeText:
		p.doc = true
	case docket.ChangeMeta:
		p.doc, p.meta, p.due = true, true, now
	case docket.ChangeThread:
		if p.threads == nil {
			p.threads = make(map[string]bool)
		}
		p.threads[ch.ThreadID] = true
		p.due = now
	}
	p.seq = minSeq(p.seq, seq)
}

// Pending returns how many documents wait to be indexed.
func (ix *Indexer) Pending() int {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	return len(ix.pending)
}

// MaxLag returns the longest time a change waited in the last flush.
func (ix *Indexer) MaxLag() time.Duration { return time.Duration(ix.lagMax.Load()) }

// Rebuilding reports whether a full rebuild is running.
func (ix *Indexer) Rebuilding() bool { return ix.rebuilding.Load() }

// Run indexes queued changes until ctx is done. If the index needs a
// rebuild it does that first; otherwise it catches up on whatever changed
// while the server was down.
func (ix *Indexer) Run(ctx context.Context) error {
	ix.setup()
	if ix.Index.NeedsRebuild() {
		if err := ix.Rebuild(ctx, nil); err != nil && ctx.Err() == nil {
			ix.Logger.Error("search rebuild failed", "err", err)
		}
	} else if err := ix.CatchUp(ctx); err != nil && ctx.Err() == nil {
		ix.Logger.Error("search catch-up failed", "err", err)
	}
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	polled := time.Now()
	for {
		if ix.Poll > 0 && time.Since(polled) >= ix.Poll {
			polled = time.Now()
			if err := ix.pollEvents(ctx); err != nil && ctx.Err() == nil {
				ix.Logger.Warn("search: reading new events failed", "err", err)
			}
		}
		next := ix.flushDue(ctx, time.Now())
		if t := ix.watermarkDue(); !t.IsZero() && (next.IsZero() || t.Before(next)) {
			next = t
		}
		if ix.Poll > 0 && (next.IsZero() || polled.Add(ix.Poll).Before(next)) {
			next = polled.Add(ix.Poll)
		}
		wait := time.Hour
		if !next.IsZero() {
			wait = max(time.Until(next), time.Millisecond)
		}
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			ix.saveWatermark(context.WithoutCancel(ctx), true)
			return nil
		case <-ix.wake:
		case <-timer.C:
		}
	}
}

// pollEvents notes the events after the newest one noted (see Poll).
func (ix *Indexer) pollEvents(ctx context.Context) error {
	ix.mu.Lock()
	after := ix.seenSeq
	ix.mu.Unlock()
	_, err := ix.noteEventsAfter(ctx, after)
	return err
}

// Flush indexes everything queued now, whatever its due time; tests and
// shutdown use it.
func (ix *Indexer) Flush(ctx context.Context) {
	ix.setup()
	ix.flushDue(ctx, time.Now().Add(24*time.Hour))
	ix.saveWatermark(ctx, true)
}

// flushDue indexes the documents due by now and returns the next due time
// (zero if nothing waits).
func (ix *Indexer) flushDue(ctx context.Context, now time.Time) time.Time {
	ix.mu.Lock()
	due := make(map[string]*pending)
	var next time.Time
	for id, p := range ix.pending {
		if !p.due.After(now) {
			due[id] = p
			delete(ix.pending, id)
		} else if next.IsZero() || p.due.Before(next) {
			next = p.due
		}
	}
	if len(due) == 0 {
		ix.mu.Unlock()
		ix.saveWatermark(ctx, false)
		return next
	}
	var seq int64
	for _, p := range due {
		seq = minSeq(seq, p.seq)
	}
	ix.inflight = append(ix.inflight, seq)
	ix.mu.Unlock()
	err := ix.index(ctx, due)
	retry := time.Now().Add(ix.debounce())
	if err != nil {
		// Put them back for another try a little later (or at the next
		// start, through the watermarks, if ctx is done).
		ix.mu.Lock()
		for id, p := range due {
			p.due = retry
			if q, ok := ix.pending[id]; ok {
				q.merge(p)
			} else {
				ix.pending[id] = p
			}
		}
		ix.mu.Unlock()
	}
	ix.doneInflight(seq)
	if err != nil {
		if ctx.Err() != nil {
			return next
		}
		ix.Logger.Error("search indexing failed; will retry", "docs", len(due), "err", err)
		if next.IsZero() || retry.Before(next) {
			next = retry
		}
		return next
	}
	var lag time.Duration
	for _, p := range due {
		lag = max(lag, time.Since(p.first))
	}
	ix.lagMax.Store(int64(lag))
	ix.flushes.Add(1)
	ix.saveWatermark(ctx, false)
	return next
}

// doneInflight forgets the in-flight group whose oldest event is seq.
func (ix *Indexer) doneInflight(seq int64) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	for i, s := range ix.inflight {
		if s == seq {
			ix.inflight = append(ix.inflight[:i], ix.inflight[i+1:]...)
			break
		}
	}
}

// watermarkEvery is the most often the event watermark is written unless
// forced: a write is a bleve batch of its own (about 10 ms), and a late
// watermark only makes the next start replay a few more events.
const watermarkEvery = time.Second

// watermarkDue returns when a newer event watermark is to be written,
// zero if none waits.
func (ix *Indexer) watermarkDue() time.Time {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if !ix.unsaved {
		return time.Time{}
	}
	return ix.savedAt.Add(watermarkEvery)
}

// saveWatermark stores the event watermark, the newest event noted
// before the oldest one whose changes still wait, if it moved and, unless
// force is set, watermarkEvery has passed since the last write.
func (ix *Indexer) saveWatermark(ctx context.Context, force bool) {
	ix.mu.Lock()
	w := ix.seenSeq
	for _, p := range ix.pending {
		if p.seq > 0 {
			w = min(w, p.seq-1)
		}
	}
	for _, s := range ix.inflight {
		if s > 0 {
			w = min(w, s-1)
		}
	}
	if w <= ix.savedSeq {
		ix.mu.Unlock()
		return
	}
	if !force && time.Since(ix.savedAt) < watermarkEvery {
		ix.unsaved = true
		ix.mu.Unlock()
		return
	}
	ix.unsaved = false
	ix.savedAt = time.Now()
	ix.mu.Unlock()
	if err := ix.Index.SetEventWatermark(ctx, w); err != nil {
		if ctx.Err() == nil {
			ix.Logger.Error("search event watermark not saved", "err", err)
		}
		return
	}
	ix.mu.Lock()
	ix.savedSeq = max(ix.savedSeq, w)
	ix.mu.Unlock()
}

// index writes one group of changes.
func (ix *Indexer) index(ctx context.Context, due map[string]*pending) error {
	sys := docket.NewSystemContext(ctx)
	var docs []Doc
	var comments []Comment
	var gone, undecided []string
	var decided, minuted []*docket.Document
	for id, p := range due {
		if p.deleted {
			gone = append(gone, id)
			continue
		}
		var d *docket.Document
		if p.doc || p.meta || len(p.threads) > 0 {
			var err error
			if p.doc {
				d, err = ix.Docs.FindDocumentByID(sys, id)
			} else {
				d, err = ix.Docs.FindDocumentMeta(sys, id)
			}
			if docket.ErrorCode(err) == docket.ENOTFOUND {
				gone = append(gone, id)
				continue
			} else if err != nil {
				return err
			}
		}
		if p.doc {
			docs = append(docs, DocFrom(d))
		}
		if p.meta && ix.Scanner != nil {
			// The decision and minutes carry the metadata.
			if d.Decision != nil {
				decided = append(decided, d)
			} else {
				undecided = append(undecided, id)
			}
			minuted = append(minuted, d)
		}
		if ix.Threads == nil {
			continue
		}
		var threads []*docket.Thread
		if p.meta {
			ts, err := ix.Threads.FindThreads(sys, id, docket.ThreadFilter{})
			if err != nil && docket.ErrorCode(err) != docket.ENOTFOUND {
				return err
			}
			threads = ts
		} else {
			for tid := range p.threads {
				th, err := ix.Threads.FindThread(sys, tid)
				if docket.ErrorCode(err) == docket.ENOTFOUND {
					continue
				} else if err != nil {
					return err
				}
				threads = append(threads, th)
			}
		}
		for _, th := range threads {
			for _, c := range th.Comments {
				if c.Deleted {
					if err := ix.Index.DeleteComment(ctx, c.ID); err != nil {
						return err
					}
					continue
				}
				comments = append(comments, CommentFrom(c, d))
			}
		}
	}
	for _, id := range gone {
		if err := ix.Index.DeleteDocument(ctx, id); err != nil {
			return err
		}
	}
	if err := ix.Index.IndexDocuments(ctx, docs); err != nil {
		return err
	}
	if err := ix.Index.IndexComments(ctx, comments); err != nil {
		return err
	}
	for _, id := range undecided {
		if err := ix.Index.DeleteDecision(ctx, id); err != nil {
			return err
		}
	}
	decisions, err := ix.decisions(ctx, decided)
	if err != nil {
		return err
	}
	if err := ix.Index.IndexDecisions(ctx, decisions); err != nil {
		return err
	}
	minutes, err := ix.minutes(ctx, minuted)
	if err != nil {
		return err
	}
	return ix.Index.IndexMinutes(ctx, minutes)
}

// decisions returns the decisions of docs (which all have one) as
// indexed, with the names of who decided.
func (ix *Indexer) decisions(ctx context.Context, docs []*docket.Document) ([]Decision, error) {
	if len(docs) == 0 {
		return nil, nil
	}
	ids := make([]string, 0, len(docs))
	for _, d := range docs {
		ids = append(ids, d.Decision.By)
	}
	names, err := ix.Scanner.LoadUserNames(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make([]Decision, 0, len(docs))
	for _, d := range docs {
		out = append(out, DecisionFrom(d, names[d.Decision.By]))
	}
	return out, nil
}

// minutes returns every frozen set of minutes of docs, as indexed.
func (ix *Indexer) minutes(ctx context.Context, docs []*docket.Document) ([]Minutes, error) {
	if len(docs) == 0 {
		return nil, nil
	}
	byID := make(map[string]*docket.Document, len(docs))
	ids := make([]string, 0, len(docs))
	for _, d := range docs {
		byID[d.ID] = d
		ids = append(ids, d.ID)
	}
	recs, err := ix.Scanner.LoadMinutes(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make([]Minutes, 0, len(recs))
	for _, r := range recs {
		if d := byID[r.DocID]; d != nil {
			out = append(out, MinutesFrom(r, d))
		}
	}
	return out, nil
}
