package search

import (
	"context"
	"time"

	"github.com/docket-dev/docket"
)

// Scanner walks everything stored, in order and a page at a time, for
// rebuilds and catch-up, and loads what changed. It bypasses permissions;
// bolt implements it.
type Scanner interface {
	TextLoader
	// ScanDocuments returns up to limit documents whose ids sort after
	// the given one, with their bodies if withBody is set.
	ScanDocuments(ctx context.Context, after string, limit int, withBody bool) ([]*docket.Document, error)
	// ScanComments returns up to limit comments (tombstones left out)
	// whose ids sort after the given one.
	ScanComments(ctx context.Context, after string, limit int) ([]*docket.Comment, error)
	// ScanDecisions returns up to limit documents with a recorded
	// decision (metadata and Decision, no body) whose ids sort after the
	// given one.
	ScanDecisions(ctx context.Context, after string, limit int) ([]*docket.Document, error)
	// ScanMinutes returns up to limit frozen minutes records, with their
	// text, after the one whose DocID/ID is after ("" for the first).
	ScanMinutes(ctx context.Context, after string, limit int) ([]*docket.MinutesRecord, error)
	// ScanEvents returns up to limit events with a sequence number
	// greater than after, oldest first.
	ScanEvents(ctx context.Context, after int64, limit int) ([]*docket.Event, error)
	// LastEventSeq returns the sequence number of the newest event.
	LastEventSeq(ctx context.Context) (int64, error)
}

// How many documents and comments one scan reads. A rebuild writes each
// page as one bleve batch: larger batches index faster (fewer, larger
// segments to merge), and a page of documents stays a few megabytes.
const (
	docPage     = 1000
	commentPage = 5000
)

// Rebuild indexes every document, comment, decision and set of minutes
// from storage, compacts the index, marks it rebuilt and sets the event
// watermark to the newest event before it started. progress, if not nil,
// is called with the number of items done so far. Search keeps answering
// meanwhile (Rebuilding is true).
func (ix *Indexer) Rebuild(ctx context.Context, progress func(done int)) error {
	ix.setup()
	ix.rebuilding.Store(true)
	defer ix.rebuilding.Store(false)
	start := time.Now()
	// Whatever happens from now on is in the scans, or is noted and
	// queued by NotifyEvent.
	lastSeq, err := ix.Scanner.LastEventSeq(ctx)
	if err != nil {
		return err
	}
	done := 0
	counted := func(n int) {
		done += n
		if progress != nil {
			progress(done)
		}
	}
	docs := map[string]*docket.Document{} // metadata for comments and items
	// The steps, in order: documents first, whose metadata the comments
	// and minutes need.
	for _, step := range []func() error{
		func() error {
			return pages(ctx, "", func(after string) ([]*docket.Document, error) {
				return ix.Scanner.ScanDocuments(ctx, after, docPage, true)
			}, docID, func(page []*docket.Document) error {
				batch := make([]Doc, len(page))
				for i, d := range page {
					batch[i] = DocFrom(d)
					meta := *d
					meta.Body = ""
					docs[d.ID] = &meta
				}
				return ix.Index.IndexDocuments(ctx, batch)
			}, counted)
		},
		func() error {
			return pages(ctx, "", func(after string) ([]*docket.Comment, error) {
				return ix.Scanner.ScanComments(ctx, after, commentPage)
			}, func(c *docket.Comment) string { return c.ID }, func(page []*docket.Comment) error {
				return ix.Index.IndexComments(ctx, ofKnown(docs, page, func(c *docket.Comment) string { return c.DocID }, CommentFrom))
			}, counted)
		},
		func() error {
			return pages(ctx, "", func(after string) ([]*docket.Document, error) {
				return ix.Scanner.ScanDecisions(ctx, after, docPage)
			}, docID, func(page []*docket.Document) error {
				batch, err := ix.decisions(ctx, page)
				if err != nil {
					return err
				}
				return ix.Index.IndexDecisions(ctx, batch)
			}, counted)
		},
		func() error {
			return pages(ctx, "", func(after string) ([]*docket.MinutesRecord, error) {
				return ix.Scanner.ScanMinutes(ctx, after, docPage)
			}, func(r *docket.MinutesRecord) string { return r.DocID + "/" + r.ID }, func(page []*docket.MinutesRecord) error {
				return ix.Index.IndexMinutes(ctx, ofKnown(docs, page, func(r *docket.MinutesRecord) string { return r.DocID }, MinutesFrom))
			}, counted)
		},
		func() error { return ix.Index.Compact(ctx) },
		func() error { return ix.Index.MarkRebuilt(ctx) },
		func() error { return ix.Index.SetEventWatermark(ctx, lastSeq) },
	} {
		if err := step(); err != nil {
			return err
		}
	}
	ix.mu.Lock()
	ix.seenSeq, ix.savedSeq = max(ix.seenSeq, lastSeq), max(ix.savedSeq, lastSeq)
	ix.mu.Unlock()
	ix.Logger.Info("search index rebuilt", "items", done, "took", time.Since(start).Round(time.Millisecond))
	return nil
}

// pages reads pages with scan, the first after from and each next one
// after the key of the previous page's last item, until an empty one, and
// hands each to index, then its length to counted if not nil.
func pages[T, K any](ctx context.Context, from K, scan func(after K) ([]T, error), key func(T) K, index func([]T) error, counted func(int)) error {
	after := from
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		page, err := scan(after)
		if err != nil || len(page) == 0 {
			return err
		}
		if err := index(page); err != nil {
			return err
		}
		if counted != nil {
			counted(len(page))
		}
		after = key(page[len(page)-1])
	}
}

func docID(d *docket.Document) string { return d.ID }

// ofKnown converts with from the items of page whose document is in docs,
// leaving out those of documents removed meanwhile.
func ofKnown[T, I any](docs map[string]*docket.Document, page []T, docIDOf func(T) string, from func(T, *docket.Document) I) []I {
	out := make([]I, 0, len(page))
	for _, v := range page {
		if d := docs[docIDOf(v)]; d != nil {
			out = append(out, from(v, d))
		}
	}
	return out
}

// eventPage is how many events one read of the log returns at catch-up.
const eventPage = 5000

// CatchUp queues what changed while the indexer was not running. First
// the changes of the events after the event watermark of the index:
// comments, threads, decisions, minutes and document metadata, which do
// not move a document's version. Then the documents stored at a newer
// version than the index holds (or never indexed), with their comments,
// decision and minutes, and the removal of documents that are no longer
// stored. What is queued is indexed by the next flush, which then moves
// the watermark. It must not run while a flush does (Run calls it before
// flushing).
func (ix *Indexer) CatchUp(ctx context.Context) error {
	ix.setup()
	if err := ix.replayEvents(ctx); err != nil {
		return err
	}
	indexed, err := ix.Index.IndexedVersions(ctx)
	if err != nil {
		return err
	}
	n := 0
	err = pages(ctx, "", func(after string) ([]*docket.Document, error) {
		return ix.Scanner.ScanDocuments(ctx, after, docPage, false)
	}, docID, func(page []*docket.Document) error {
		for _, d := range page {
			v, ok := indexed[d.ID]
			delete(indexed, d.ID)
			if !ok || v < d.Version {
				ix.Notify(docket.Change{Kind: docket.ChangeMeta, DocID: d.ID, SpaceID: d.SpaceID})
				n++
			}
		}
		return nil
	}, nil)
	if err != nil {
		return err
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

// noteEventsAfter notes the events after seq, to the end of the log
// (NotifyEvent), and returns how many there were.
func (ix *Indexer) noteEventsAfter(ctx context.Context, seq int64) (int, error) {
	n := 0
	err := pages(ctx, seq, func(after int64) ([]*docket.Event, error) {
		return ix.Scanner.ScanEvents(ctx, after, eventPage)
	}, func(ev *docket.Event) int64 { return ev.Seq }, func(page []*docket.Event) error {
		for _, ev := range page {
			ix.NotifyEvent(*ev)
		}
		return nil
	}, func(done int) { n += done })
	return n, err
}

// replayEvents queues the changes of the events after the event
// watermark of the index, to the end of the log.
func (ix *Indexer) replayEvents(ctx context.Context) error {
	from, ok := ix.Index.EventWatermark()
	if !ok {
		ix.Logger.Warn("search index has no event watermark; replaying every event")
	}
	ix.mu.Lock()
	ix.savedSeq = max(ix.savedSeq, from)
	ix.mu.Unlock()
	n, err := ix.noteEventsAfter(ctx, from)
	if err != nil {
		return err
	}
	if n > 0 {
		ix.Logger.Info("search index replaying events", "events", n, "after", from)
	}
	return nil
}
