package search

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	docket "github.com/docket-dev/docket"
)

// Scanner walks everything stored, in id order and a page at a time, for
// rebuilds and catch-up. It bypasses permissions; bolt implements it.
type Scanner interface {
	// ScanDocuments returns up to limit documents whose ids sort after
	// the given one, with their bodies if withBody is set.
	ScanDocuments(ctx context.Context, after string, limit int, withBody bool) ([]*docket.Document, error)
	// ScanComments returns up to limit comments (tombstones left out)
	// whose ids sort after the given one.
	ScanComments(ctx context.Context, after string, limit int) ([]*docket.Comment, error)
}

// Indexer keeps the index current. Storage calls Notify after every
// committed change; Run indexes each changed document at most Debounce
// after its first unindexed change, so continuous live editing is
// indexed about once a second rather than once per keystroke. Metadata,
// thread and delete changes are indexed at once.
type Indexer struct {
	Index   *Index
	Docs    docket.DocumentService
	Threads docket.ThreadService // nil: comments are not indexed on change
	Scanner Scanner
	Logger  *slog.Logger
	// Debounce is the longest a text change waits; DefaultDebounce if zero.
	Debounce time.Duration

	mu      sync.Mutex
	pending map[string]*pending
	wake    chan struct{}

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
	now := time.Now()
	ix.mu.Lock()
	ix.init()
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
	ix.mu.Unlock()
	select {
	case ix.wake <- struct{}{}:
	default:
	}
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
	for {
		next := ix.flushDue(ctx, time.Now())
		wait := time.Hour
		if !next.IsZero() {
			wait = max(time.Until(next), time.Millisecond)
		}
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return nil
		case <-ix.wake:
		case <-timer.C:
		}
	}
}

// Flush indexes everything queued now, whatever its due time; tests and
// shutdown use it.
func (ix *Indexer) Flush(ctx context.Context) {
	ix.setup()
	ix.flushDue(ctx, time.Now().Add(24*time.Hour))
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
	ix.mu.Unlock()
	if len(due) == 0 {
		return next
	}
	if err := ix.index(ctx, due); err != nil {
		if ctx.Err() != nil {
			return next
		}
		ix.Logger.Error("search indexing failed; will retry", "docs", len(due), "err", err)
		// Put them back for another try a little later.
		ix.mu.Lock()
		retry := time.Now().Add(ix.debounce())
		for id, p := range due {
			if _, ok := ix.pending[id]; !ok {
				p.due = retry
				ix.pending[id] = p
			}
		}
		ix.mu.Unlock()
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
	return next
}

// index writes one group of changes.
func (ix *Indexer) index(ctx context.Context, due map[string]*pending) error {
	sys := docket.NewSystemContext(ctx)
	var docs []Doc
	var comments []Comment
	var gone []string
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
	return ix.Index.IndexComments(ctx, comments)
}

// DocFrom converts a stored document (with its body) to what is indexed.
func DocFrom(d *docket.Document) Doc {
	return Doc{
		ID: d.ID, SpaceID: d.SpaceID, Title: d.Title, Body: d.Body, Kind: d.Kind,
		Status: d.Status, OwnerID: d.OwnerID, Tags: d.Tags, Version: d.Version,
		CreatedAt: d.CreatedAt, UpdatedAt: d.UpdatedAt,
	}
}

// CommentFrom converts a comment of document d to what is indexed.
func CommentFrom(c *docket.Comment, d *docket.Document) Comment {
	return Comment{
		ID: c.ID, DocID: c.DocID, ThreadID: c.ThreadID, SpaceID: d.SpaceID,
		DocTitle: d.Title, AuthorID: c.AuthorID, Body: c.Body, CreatedAt: c.CreatedAt,
	}
}

// How many documents and comments one scan reads. A rebuild writes each
// page as one bleve batch: larger batches index faster (fewer, larger
// segments to merge), and a page of documents stays a few megabytes.
const (
	docPage     = 1000
	commentPage = 5000
)

// Rebuild indexes every document and comment from storage, compacts the
// index and marks it rebuilt. progress, if not nil, is called with the number of items
// done so far. Search keeps answering meanwhile (Rebuilding is true).
func (ix *Indexer) Rebuild(ctx context.Context, progress func(done int)) error {
	ix.setup()
	ix.rebuilding.Store(true)
	defer ix.rebuilding.Store(false)
	start := time.Now()
	done := 0
	docs := map[string]*docket.Document{} // metadata for comments
	after := ""
	for {
		page, err := ix.Scanner.ScanDocuments(ctx, after, docPage, true)
		if err != nil {
			return err
		}
		if len(page) == 0 {
			break
		}
		batch := make([]Doc, len(page))
		for i, d := range page {
			batch[i] = DocFrom(d)
			meta := *d
			meta.Body = ""
			docs[d.ID] = &meta
		}
		if err := ix.Index.IndexDocuments(ctx, batch); err != nil {
			return err
		}
		done += len(page)
		if progress != nil {
			progress(done)
		}
		after = page[len(page)-1].ID
	}
	after = ""
	for {
		page, err := ix.Scanner.ScanComments(ctx, after, commentPage)
		if err != nil {
			return err
		}
		if len(page) == 0 {
			break
		}
		batch := make([]Comment, 0, len(page))
		for _, c := range page {
			if d := docs[c.DocID]; d != nil {
				batch = append(batch, CommentFrom(c, d))
			}
		}
		if err := ix.Index.IndexComments(ctx, batch); err != nil {
			return err
		}
		done += len(page)
		if progress != nil {
			progress(done)
		}
		after = page[len(page)-1].ID
	}
	if err := ix.Index.Compact(ctx); err != nil {
		return err
	}
	if err := ix.Index.MarkRebuilt(ctx); err != nil {
		return err
	}
	ix.Logger.Info("search index rebuilt", "items", done, "took", time.Since(start).Round(time.Millisecond))
	return nil
}

// CatchUp reindexes the documents stored at a newer version than the
// index holds (changed while the server was down, or never indexed) and
// removes documents that are no longer stored. Comments of a document
// that was indexed behind are reindexed with it.
func (ix *Indexer) CatchUp(ctx context.Context) error {
	ix.setup()
	indexed, err := ix.Index.IndexedVersions(ctx)
	if err != nil {
		return err
	}
	n := 0
	after := ""
	for {
		page, err := ix.Scanner.ScanDocuments(ctx, after, docPage, false)
		if err != nil {
			return err
		}
		if len(page) == 0 {
			break
		}
		for _, d := range page {
			v, ok := indexed[d.ID]
			delete(indexed, d.ID)
			if !ok || v < d.Version {
				ix.Notify(docket.Change{Kind: docket.ChangeMeta, DocID: d.ID, SpaceID: d.SpaceID})
				n++
			}
		}
		after = page[len(page)-1].ID
	}
	for id := range indexed {
		ix.Notify(docket.Change{Kind: docket.ChangeDeleted, DocID: id})
		n++
	}
	if n > 0 {
		ix.Logger.Info("search index catching up", "docs", n)
	}
	return nil
}
