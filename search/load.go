package search

import (
	"context"
	"runtime"
	"slices"
	"sync"

	"github.com/docket-dev/docket"
)

// TextLoader reads documents, comments, decisions and minutes from
// storage, without checking permissions. The index stores no text:
// [Index.Search] loads the text of the hits of a page to make their
// fragments, and that of the candidates of a phrase to check it.
type TextLoader interface {
	// LoadDocuments returns the documents of these ids that exist, in any
	// order; their bodies only if withBody is true.
	LoadDocuments(ctx context.Context, ids []string, withBody bool) ([]*docket.Document, error)
	// LoadComments returns the comments of these ids that exist and are
	// not deleted, in any order.
	LoadComments(ctx context.Context, ids []string) ([]*docket.Comment, error)
	// LoadDecisions returns the documents of these ids that exist and
	// have a recorded decision, with their metadata and Decision (no
	// body), in any order.
	LoadDecisions(ctx context.Context, docIDs []string) ([]*docket.Document, error)
	// LoadMinutes returns every frozen minutes record of these
	// documents, with its text, in any order.
	LoadMinutes(ctx context.Context, docIDs []string) ([]*docket.MinutesRecord, error)
	// LoadUserNames returns the display names of the users of these ids
	// that exist.
	LoadUserNames(ctx context.Context, ids []string) (map[string]string, error)
}

// loaded holds the items read from storage during one search. A nil
// value is an item that was looked for and is gone, not read again.
type loaded struct {
	docs     map[string]*docket.Document
	withBody map[string]bool // the documents read with their bodies
	comments map[string]*docket.Comment
	// decisions are documents with their Decision (no body), by id; nil
	// for one without a decision.
	decisions map[string]*docket.Document
	minutes   map[string]*docket.MinutesRecord // by record id
	minutesOf map[string]bool                  // the documents whose minutes were read
	names     map[string]string                // of who decided, by user id
}

func newLoaded() *loaded {
	return &loaded{
		docs: map[string]*docket.Document{}, withBody: map[string]bool{}, comments: map[string]*docket.Comment{},
		decisions: map[string]*docket.Document{}, minutes: map[string]*docket.MinutesRecord{},
		minutesOf: map[string]bool{}, names: map[string]string{},
	}
}

// loadItems reads what ld does not hold yet of the items of hits, to check
// their text or to show them: documents with their bodies, comments,
// decisions and the names of who decided, minutes and the titles of
// their documents; with commentTitles, the titles of the documents of
// the comments too.
func (x *Index) loadItems(ctx context.Context, ld *loaded, hits []Hit, commentTitles bool) error {
	var docIDs, commentIDs, decided, minuted []string
	for _, h := range hits {
		switch h.Type {
		case TypeComment:
			commentIDs = append(commentIDs, h.ID)
		case TypeDecision:
			decided = append(decided, h.DocID)
		case TypeMinutes:
			minuted = append(minuted, h.DocID)
		default:
			docIDs = append(docIDs, h.ID)
		}
	}
	if err := x.load(ctx, ld, docIDs, true, commentIDs); err != nil {
		return err
	}
	if err := x.loadDecisions(ctx, ld, decided); err != nil {
		return searchError(ctx, "search: load hits", err)
	}
	if err := x.loadMinutes(ctx, ld, minuted); err != nil {
		return searchError(ctx, "search: load hits", err)
	}
	var titleOnly []string
	for _, h := range hits {
		switch h.Type {
		case TypeComment:
			if c := ld.comments[h.ID]; c != nil && commentTitles {
				titleOnly = append(titleOnly, c.DocID)
			}
		case TypeMinutes:
			if ld.minutes[h.ID] != nil {
				titleOnly = append(titleOnly, h.DocID)
			}
		}
	}
	return x.load(ctx, ld, titleOnly, false, nil)
}

// loadDecisions reads the decisions of the documents of docIDs that ld
// does not hold yet, and the names of who decided.
func (x *Index) loadDecisions(ctx context.Context, ld *loaded, docIDs []string) error {
	ids, ds, err := readMissing(ctx, docIDs, held(ld.decisions), x.opts.Loader.LoadDecisions)
	if err != nil {
		return err
	}
	var deciders []string
	for _, d := range ds {
		if d.Decision != nil {
			ld.decisions[d.ID] = d
			deciders = append(deciders, d.Decision.By)
		}
	}
	markGone(ld.decisions, ids)
	by, names, err := readMissing(ctx, deciders, held(ld.names), x.opts.Loader.LoadUserNames)
	if err != nil {
		return err
	}
	for _, id := range by {
		ld.names[id] = names[id] // "" for a user who is gone
	}
	return nil
}

// loadMinutes reads the minutes of the documents of docIDs that ld has
// not read yet.
func (x *Index) loadMinutes(ctx context.Context, ld *loaded, docIDs []string) error {
	ids, rs, err := readMissing(ctx, docIDs, func(id string) bool { return ld.minutesOf[id] }, x.opts.Loader.LoadMinutes)
	if err != nil {
		return err
	}
	for _, r := range rs {
		ld.minutes[r.ID] = r
	}
	for _, id := range ids {
		ld.minutesOf[id] = true
	}
	return nil
}

// load reads the comments of commentIDs and the documents of docIDs (with
// their bodies if body is set) that it has not read yet. Missing items
// are left out.
func (x *Index) load(ctx context.Context, ld *loaded, docIDs []string, body bool, commentIDs []string) error {
	cids, cs, err := readMissing(ctx, commentIDs, held(ld.comments), x.opts.Loader.LoadComments)
	if err != nil {
		return searchError(ctx, "search: load hits", err)
	}
	for _, c := range cs {
		ld.comments[c.ID] = c
	}
	markGone(ld.comments, cids)
	dids, ds, err := readMissing(ctx, docIDs, func(id string) bool {
		_, ok := ld.docs[id]
		return ok && (!body || ld.withBody[id])
	}, func(ctx context.Context, ids []string) ([]*docket.Document, error) {
		return x.opts.Loader.LoadDocuments(ctx, ids, body)
	})
	if err != nil {
		return searchError(ctx, "search: load hits", err)
	}
	for _, d := range ds {
		ld.docs[d.ID] = d
		ld.withBody[d.ID] = body
	}
	markGone(ld.docs, dids)
	return nil
}

// toRead returns the ids still to read, those for which have is false,
// each once.
func toRead(ids []string, have func(id string) bool) []string {
	var out []string
	seen := map[string]bool{}
	for _, id := range ids {
		if !have(id) && !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// readMissing reads with read the ids for which have is false, each once,
// and returns them with what read returned: nothing, without calling
// read, when there are none.
func readMissing[T any](ctx context.Context, ids []string, have func(id string) bool, read func(context.Context, []string) (T, error)) ([]string, T, error) {
	var none T
	ids = toRead(ids, have)
	if len(ids) == 0 {
		return nil, none, nil
	}
	got, err := read(ctx, ids)
	return ids, got, err
}

// held returns a function that reports whether m holds an id.
func held[V any](m map[string]V) func(id string) bool {
	return func(id string) bool {
		_, ok := m[id]
		return ok
	}
}

// markGone records the ids that were read and are not in m as gone
// (nil), so that they are not read again.
func markGone[V any](m map[string]*V, ids []string) {
	for _, id := range ids {
		if _, ok := m[id]; !ok {
			m[id] = nil
		}
	}
}

// loadHits fills in the hits from storage (reading what ld does not hold
// yet): document ids, titles and fragments. It leaves out hits that are
// gone from storage or whose space is not in q.ReadableSpaces.
func (x *Index) loadHits(ctx context.Context, hits []Hit, q Query, ld *loaded) ([]Hit, error) {
	if len(hits) == 0 {
		return hits, nil
	}
	if err := x.loadItems(ctx, ld, hits, true); err != nil {
		return nil, err
	}
	units := x.highlightUnits(q)
	out := hits[:0]
	var texts, titles []string // of the hits of out
	for _, h := range hits {
		var text, title string
		d := ld.docs[h.DocID]
		switch h.Type {
		case TypeComment:
			c := ld.comments[h.ID]
			if c == nil {
				continue
			}
			h.DocID, h.ThreadID, text = c.DocID, c.ThreadID, c.Body
			d = ld.docs[h.DocID]
		case TypeDecision:
			d = ld.decisions[h.DocID]
			if d == nil {
				continue
			}
			text = DecisionText(d.Decision, ld.names[d.Decision.By])
		case TypeMinutes:
			r := ld.minutes[h.ID]
			if r == nil || r.DocID != h.DocID {
				continue
			}
			text = MinutesText(r.Markdown)
		}
		if d == nil || !slices.Contains(q.ReadableSpaces, d.SpaceID) {
			continue
		}
		h.Title = d.Title
		if h.Type == TypeDocument {
			text, title = d.Body, d.Title
		}
		out = append(out, h)
		texts, titles = append(texts, text), append(titles, title)
	}
	// Fragments cost more than the rest of a search: make them on every
	// core.
	onCores(ctx, len(out), 4, func(i int) {
		out[i].Fragments = x.fragments(titles[i], texts[i], units)
	})
	if ctx.Err() != nil {
		return nil, timedOut()
	}
	return out, nil
}

// onCores calls f for each i below n, on up to GOMAXPROCS goroutines that
// each take at least per of them, and returns when they are done. It
// stops early when ctx is done.
func onCores(ctx context.Context, n, per int, f func(i int)) {
	workers := max(min(runtime.GOMAXPROCS(0), (n+per-1)/per), 1)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < n; i += workers {
				if i%256 == w && ctx.Err() != nil {
					return
				}
				f(i)
			}
		})
	}
	wg.Wait()
}
