package search

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/blevesearch/bleve/v2"
	bsearch "github.com/blevesearch/bleve/v2/search"

	"github.com/docket-dev/docket"
)

// Facet names of a [Result].
const (
	FacetType   = "type"
	FacetStatus = "status"
	FacetSpace  = "space"
	FacetTag    = "tag"
	FacetAuthor = "author"
)

// facetSize is the most values returned per facet.
const facetSize = 20

// Result is one page of search results.
type Result struct {
	// Total is the number of matching items the caller may read.
	Total uint64
	Hits  []Hit
	// Facets maps a facet name (FacetType, ...) to its most frequent
	// values, most frequent first.
	Facets map[string][]FacetCount
	// Took is how long the search took.
	Took time.Duration
	// Approximate is set when the prefix phrases of the query were not
	// all checked against the text (more than MaxPhraseChecks candidates, or
	// no TextLoader): Total and Facets then count the matches among the
	// candidates that were checked, in the order of the sort, so there
	// may be more.
	Approximate bool
}

// Hit is one matching document, comment, decision or set of minutes.
type Hit struct {
	Type     string  // TypeDocument, TypeComment, TypeDecision or TypeMinutes
	ID       string  // the id of the document, comment or minutes record; a decision's is its document's
	DocID    string  // the document's id (its own for a document)
	Title    string  // the document's title, plain text: escape it to show it
	ThreadID string  // for comments
	Score    float64 // relevance
	// Fragments are pieces of the matching text: HTML-escaped, matches
	// wrapped in <mark>…</mark>.
	Fragments []string
}

// FacetCount is a value of a facet and how many matches have it.
type FacetCount struct {
	Value string
	Count int
}

// Search runs q and returns one page of results. Only items in
// q.ReadableSpaces are considered, inside the bleve query, so nothing
// about other spaces reaches hits, totals or facets; the hits of the page
// are then read through the [TextLoader] for their titles and fragments,
// and a hit whose stored space is no longer readable (the index lags
// storage by a moment) is left out. Phrases are matched by the index;
// a phrase whose last word is a prefix is found as the conjunction of its
// words and checked against the text of the candidates (see
// [MaxPhraseChecks]), and totals, facets and pages then count the
// candidates that hold it. Returns EINVALID for a query that
// cannot be run, EUNAVAILABLE when ctx is done or the index closed.
func (x *Index) Search(ctx context.Context, q Query) (*Result, error) {
	if err := x.check(ctx); err != nil {
		return nil, err
	}
	start := time.Now()
	if len(q.ReadableSpaces) == 0 {
		return &Result{Facets: map[string][]FacetCount{}}, nil
	}
	if len(q.Clauses) > MaxClauses {
		return nil, invalid("The query has too many terms: at most %d.", MaxClauses)
	}
	limit := q.Limit
	if limit <= 0 {
		limit = DefaultLimit
	}
	limit = min(limit, MaxLimit)
	offset := min(max(q.Offset, 0), MaxOffset)

	ld := newLoaded()
	approx := false
	budget := x.opts.MaxPhraseChecks
	excl, err := x.exclusions(ctx, q, ld, &budget, &approx)
	if err != nil {
		return nil, err
	}
	bq, err := x.buildQuery(q, excl)
	if err != nil {
		return nil, err
	}
	checks := x.checks(q)
	if len(checks) > 0 && x.opts.Loader == nil {
		// Nothing to check the text with.
		checks, approx = nil, true
	}
	budget = max(budget, x.opts.MaxPhraseChecks/2)
	rq, _ := bq.(*readableQuery)
	size, from := limit, offset
	if len(checks) > 0 {
		// Every candidate up to the budget, to keep those that hold
		// the phrases; one more tells whether there were more.
		size, from = budget+1, 0
		if rq != nil {
			rq.record = true
		}
	}
	req := bleve.NewSearchRequestOptions(bq, size, from, false)
	switch q.Sort {
	case "", SortRelevance:
		if !q.hasText() {
			req.SortBy([]string{"-" + fieldDate})
		}
	case SortDate:
		req.SortBy([]string{"-" + fieldDate})
	default:
		return nil, invalid("Unknown sort %q: use relevance or date.", q.Sort)
	}
	res, err := x.idx.SearchInContext(ctx, req)
	if err != nil {
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return nil, timedOut()
		}
		return nil, searchError(ctx, "search", err)
	}
	var out *Result
	if len(checks) > 0 {
		if out, err = x.verify(ctx, q, checks, res, rq, ld, budget); err != nil {
			return nil, err
		}
		approx = approx || out.Approximate
		out.Hits = out.Hits[min(offset, len(out.Hits)):min(offset+limit, len(out.Hits))]
	} else {
		var counts map[string]*int
		if rq != nil {
			counts = rq.counts
		}
		out = &Result{Total: res.Total, Facets: facets(counts), Hits: make([]Hit, 0, len(res.Hits))}
		for _, h := range res.Hits {
			out.Hits = append(out.Hits, hitOf(h))
		}
	}
	out.Approximate = approx
	if x.opts.Loader != nil {
		hits, err := x.loadHits(ctx, out.Hits, q, ld)
		if err != nil {
			return nil, err
		}
		out.Total -= uint64(len(out.Hits) - len(hits))
		out.Hits = hits
	}
	out.Took = time.Since(start)
	return out, nil
}

// searchError is the error of a search, or of a read of its hits, that
// failed with err: EUNAVAILABLE if ctx is done, else err after op.
func searchError(ctx context.Context, op string, err error) error {
	if ctx.Err() != nil {
		return timedOut()
	}
	return fmt.Errorf("%s: %w", op, err)
}

// timedOut is the error of a search that ctx stopped.
func timedOut() error {
	return docket.Errorf(docket.EUNAVAILABLE, "The search timed out.")
}

// hitOf returns the hit of a bleve match, with the ids its key holds (see
// docKey, commentKey, decisionKey, minutesKey), without what storage
// tells.
func hitOf(h *bsearch.DocumentMatch) Hit {
	hit := Hit{Score: h.Score}
	if math.IsNaN(hit.Score) || math.IsInf(hit.Score, 0) {
		// A match of a filter alone, whose field has no norms, scores
		// NaN; JSON has no NaN.
		hit.Score = 0
	}
	kind, id, _ := strings.Cut(h.ID, ":")
	switch kind {
	case "c":
		hit.Type, hit.ID = TypeComment, id
	case "x":
		hit.Type, hit.ID, hit.DocID = TypeDecision, id, id
	case "m":
		hit.Type = TypeMinutes
		hit.DocID, hit.ID, _ = strings.Cut(id, "/")
	default:
		hit.Type, hit.ID, hit.DocID = TypeDocument, id, id
	}
	return hit
}

// facets turns the counts of the facet terms of the matches into the
// facets of a [Result], keeping the facetSize most frequent values of
// each, most frequent first.
func facets(counts map[string]*int) map[string][]FacetCount {
	out := map[string][]FacetCount{}
	names := map[string]string{}
	for _, name := range []string{FacetType, FacetStatus, FacetSpace, FacetTag, FacetAuthor} {
		out[name] = nil
		names[prefixOf[name]] = name
	}
	for t, n := range counts {
		prefix, value, _ := strings.Cut(t, ":")
		name, ok := names[prefix]
		if !ok {
			continue
		}
		if name == FacetType {
			for typ, v := range typeValue {
				if v == value {
					value = typ
				}
			}
		}
		out[name] = append(out[name], FacetCount{Value: value, Count: *n})
	}
	for name, fcs := range out {
		slices.SortFunc(fcs, func(a, b FacetCount) int {
			return cmp.Or(b.Count-a.Count, strings.Compare(a.Value, b.Value))
		})
		out[name] = fcs[:min(len(fcs), facetSize)]
	}
	return out
}
