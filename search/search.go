package search

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/mapping"
	bsearch "github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/query"
	"github.com/blevesearch/bleve/v2/search/searcher"
	index "github.com/blevesearch/bleve_index_api"

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

// MaxSuggestions is the most titles [Index.Suggest] returns.
const MaxSuggestions = 20

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
	// Approximate is set when the phrases of the query were not all
	// checked against the text (more than MaxPhraseChecks candidates, or
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

// Suggestion is a document title completing a prefix.
type Suggestion struct {
	DocID string
	Title string
}

// fieldOf maps a filter to the field of its terms.
var fieldOf = map[string]string{
	"type": fieldFacet, "status": fieldFacet, "space": fieldFacet, "author": fieldFacet, "tag": fieldFacet,
	"kind": fieldFilter, "owner": fieldFilter,
}

// Search runs q and returns one page of results. Only items in
// q.ReadableSpaces are considered, inside the bleve query, so nothing
// about other spaces reaches hits, totals or facets; the hits of the page
// are then read through the [TextLoader] for their titles and fragments,
// and a hit whose stored space is no longer readable (the index lags
// storage by a moment) is left out. Phrases are found as the
// conjunction of their words and checked against the text of the
// candidates (see [MaxPhraseChecks]); totals, facets and pages then count
// the candidates that hold them. Returns EINVALID for a query that
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
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil {
			return nil, docket.Errorf(docket.EUNAVAILABLE, "The search timed out.")
		}
		return nil, fmt.Errorf("search: %w", err)
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

// hitOf returns the hit of a bleve match, with the ids its key holds (see
// docKey, commentKey, decisionKey, minutesKey), without what storage
// tells.
func hitOf(h *bsearch.DocumentMatch) Hit {
	hit := Hit{Score: h.Score}
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
		return loadError(ctx, err)
	}
	if err := x.loadMinutes(ctx, ld, minuted); err != nil {
		return loadError(ctx, err)
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
	var ids []string
	seen := map[string]bool{}
	for _, id := range docIDs {
		if _, ok := ld.decisions[id]; !ok && !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	ds, err := x.opts.Loader.LoadDecisions(ctx, ids)
	if err != nil {
		return err
	}
	var by []string
	asked := map[string]bool{}
	for _, d := range ds {
		if d.Decision != nil {
			ld.decisions[d.ID] = d
			if _, ok := ld.names[d.Decision.By]; !ok && !asked[d.Decision.By] {
				asked[d.Decision.By] = true
				by = append(by, d.Decision.By)
			}
		}
	}
	for _, id := range ids {
		if _, ok := ld.decisions[id]; !ok {
			ld.decisions[id] = nil
		}
	}
	if len(by) == 0 {
		return nil
	}
	names, err := x.opts.Loader.LoadUserNames(ctx, by)
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
	var ids []string
	seen := map[string]bool{}
	for _, id := range docIDs {
		if !ld.minutesOf[id] && !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	rs, err := x.opts.Loader.LoadMinutes(ctx, ids)
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

// textOf returns the text of the item of hit h as its body field was
// indexed, and the space it is in ("" for a comment, whose space is its
// document's); nil if it is gone from storage.
func textOf(ld *loaded, h Hit) (*itemText, string) {
	switch h.Type {
	case TypeComment:
		if c := ld.comments[h.ID]; c != nil {
			return textOfComment(c), ""
		}
	case TypeDecision:
		if d := ld.decisions[h.DocID]; d != nil {
			return textOfDecision(d, ld.names[d.Decision.By]), d.SpaceID
		}
	case TypeMinutes:
		r, d := ld.minutes[h.ID], ld.docs[h.DocID]
		if r != nil && r.DocID == h.DocID && d != nil {
			return textOfMinutes(r, d.Title), d.SpaceID
		}
	default:
		if d := ld.docs[h.ID]; d != nil {
			return textOfDocument(d), d.SpaceID
		}
	}
	return nil, ""
}

// load reads the comments of commentIDs and the documents of docIDs (with
// their bodies if body is set) that it has not read yet. Missing items
// are left out.
func (x *Index) load(ctx context.Context, ld *loaded, docIDs []string, body bool, commentIDs []string) error {
	var cids []string
	for _, id := range commentIDs {
		if _, ok := ld.comments[id]; !ok {
			cids = append(cids, id)
		}
	}
	if len(cids) > 0 {
		cs, err := x.opts.Loader.LoadComments(ctx, cids)
		if err != nil {
			return loadError(ctx, err)
		}
		for _, c := range cs {
			ld.comments[c.ID] = c
		}
		for _, id := range cids {
			if _, ok := ld.comments[id]; !ok {
				ld.comments[id] = nil // gone: not read again
			}
		}
	}
	var dids []string
	seen := map[string]bool{}
	for _, id := range docIDs {
		if _, ok := ld.docs[id]; (!ok || body && !ld.withBody[id]) && !seen[id] {
			seen[id] = true
			dids = append(dids, id)
		}
	}
	if len(dids) > 0 {
		ds, err := x.opts.Loader.LoadDocuments(ctx, dids, body)
		if err != nil {
			return loadError(ctx, err)
		}
		for _, d := range ds {
			ld.docs[d.ID] = d
			ld.withBody[d.ID] = body
		}
		for _, id := range dids {
			if _, ok := ld.docs[id]; !ok {
				ld.docs[id] = nil
			}
		}
	}
	return nil
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
		h.Fragments = x.fragments(title, text, units)
		out = append(out, h)
	}
	return out, nil
}

// verify keeps the candidates of res, up to budget of them, that pass the
// checks of the phrases of q, in their order. The result's Hits are all
// those kept, without titles or fragments yet; Total and Facets count
// them.
func (x *Index) verify(ctx context.Context, q Query, checks []clauseCheck, res *bleve.SearchResult, rq *readableQuery, ld *loaded, budget int) (*Result, error) {
	out := &Result{}
	cands := res.Hits
	if len(cands) > budget {
		cands, out.Approximate = cands[:budget], true
	}
	for _, cc := range checks {
		out.Approximate = out.Approximate || cc.unsure
	}
	hits := make([]Hit, len(cands))
	for i, h := range cands {
		hits[i] = hitOf(h)
	}
	if err := x.loadItems(ctx, ld, hits, false); err != nil {
		return nil, err
	}
	// Check the candidates on every core: each costs a few
	// microseconds, and a broad phrase has thousands.
	ok := make([]bool, len(cands))
	terms := make([][]string, len(cands))
	if rq != nil {
		for i, h := range cands {
			terms[i] = rq.facetTerms(h.IndexInternalID)
		}
	}
	check := func(i int) {
		// A comment's space is checked with its document's, by
		// loadHits.
		text, space := textOf(ld, hits[i])
		if text == nil || space != "" && !slices.Contains(q.ReadableSpaces, space) {
			return
		}
		ok[i] = x.pass(checks, text, terms[i])
	}
	workers := min(runtime.GOMAXPROCS(0), (len(cands)+63)/64)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < len(cands); i += workers {
				if i%256 == w && ctx.Err() != nil {
					return
				}
				check(i)
			}
		})
	}
	wg.Wait()
	if ctx.Err() != nil {
		return nil, docket.Errorf(docket.EUNAVAILABLE, "The search timed out.")
	}
	counts := map[string]*int{}
	for i, hit := range hits {
		if !ok[i] {
			continue
		}
		for _, t := range terms[i] {
			if n := counts[t]; n != nil {
				*n++
			} else {
				n := 1
				counts[t] = &n
			}
		}
		out.Hits = append(out.Hits, hit)
	}
	out.Total = uint64(len(out.Hits))
	out.Facets = facets(counts)
	return out, nil
}

func loadError(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return docket.Errorf(docket.EUNAVAILABLE, "The search timed out.")
	}
	return fmt.Errorf("search: load hits: %w", err)
}

// readableQuery matches what its query matches in the readable spaces,
// and counts the facet terms of its matches. It reads the terms of
// fieldFacet of each match from their doc values: a disjunction of the
// terms of the readable spaces would step a posting list per space at
// every match, and bleve's facets would read the doc values a second
// time. It must be the root of the query, so that what it matches is
// exactly what the search collects.
type readableQuery struct {
	q      query.Query
	spaces map[string]bool // their terms
	// counts are the facet terms of the matches, once Searcher ran.
	counts map[string]*int
	// record keeps the facet terms of each match too, for facetTerms.
	record bool
	// matches are the internal ids of the matches, in order, and where
	// their facet terms are in terms, as indexes into names: a broad
	// query records tens of thousands, so nothing is allocated per match.
	matches []recordedMatch
	terms   []int32
	names   []string
}

type recordedMatch struct {
	id          uint64
	first, last int32
}

// internalID returns a scorch internal id (8 bytes, big-endian) as a
// number, so that its order is theirs.
func internalID(id index.IndexInternalID) uint64 {
	var n uint64
	for _, b := range id {
		n = n<<8 | uint64(b)
	}
	return n
}

// facetTerms returns the facet terms of the match of this internal id,
// recorded while the search ran.
func (r *readableQuery) facetTerms(id index.IndexInternalID) []string {
	n := internalID(id)
	i, ok := slices.BinarySearchFunc(r.matches, n, func(m recordedMatch, n uint64) int {
		return cmp.Compare(m.id, n)
	})
	if !ok {
		return nil
	}
	m := r.matches[i]
	out := make([]string, 0, m.last-m.first)
	for _, t := range r.terms[m.first:m.last] {
		out = append(out, r.names[t])
	}
	return out
}

func newReadableQuery(q query.Query, spaces []string) *readableQuery {
	r := &readableQuery{q: q, spaces: make(map[string]bool, len(spaces))}
	for _, s := range spaces {
		r.spaces[term("space", s)] = true
	}
	return r
}

// Searcher implements query.Query.
func (r *readableQuery) Searcher(ctx context.Context, i index.IndexReader, m mapping.IndexMapping, options bsearch.SearcherOptions) (bsearch.Searcher, error) {
	s, err := r.q.Searcher(ctx, i, m, options)
	if err != nil {
		return nil, err
	}
	dvr, err := i.DocValueReader([]string{fieldFacet})
	if err != nil {
		s.Close()
		return nil, err
	}
	r.counts = map[string]*int{}
	r.matches, r.terms, r.names = nil, nil, nil
	numbers := map[string]int32{}
	var terms [][]byte
	return searcher.NewFilteringSearcher(ctx, s, func(_ *bsearch.SearchContext, d *bsearch.DocumentMatch) bool {
		ok := false
		terms = terms[:0]
		err := dvr.VisitDocValues(d.IndexInternalID, func(_ string, t []byte) {
			terms = append(terms, t)
			if !ok && r.spaces[string(t)] {
				ok = true
			}
		})
		if err != nil || !ok {
			return false
		}
		for _, t := range terms {
			if n := r.counts[string(t)]; n != nil {
				*n++
			} else {
				n := 1
				r.counts[string(t)] = &n
			}
		}
		if r.record {
			// Searchers return their matches in the order of their
			// internal ids, which facetTerms relies on.
			m := recordedMatch{id: internalID(d.IndexInternalID), first: int32(len(r.terms))}
			for _, t := range terms {
				n, ok := numbers[string(t)]
				if !ok {
					n = int32(len(r.names))
					r.names = append(r.names, string(t))
					numbers[string(t)] = n
				}
				r.terms = append(r.terms, n)
			}
			m.last = int32(len(r.terms))
			r.matches = append(r.matches, m)
		}
		return true
	}), nil
}

func keywordQuery(field, value string) *query.TermQuery {
	t := bleve.NewTermQuery(value)
	t.SetField(field)
	return t
}

// exclusion is how buildQuery excludes the items that hold an excluded
// phrase: those of keys (checked against their text), or, when they were
// too many to check (words), every item that holds all its words.
type exclusion struct {
	keys  []string
	words bool
}

// exclusions checks the excluded phrases of q (see checked) against the
// text of the items that hold their words and match the rest of q, and
// returns, by clause index, the items to exclude. Each phrase uses up to
// *budget checks; past it, approx is set and the phrase excludes every
// item that holds its words.
func (x *Index) exclusions(ctx context.Context, q Query, ld *loaded, budget *int, approx *bool) (map[int]*exclusion, error) {
	var out map[int]*exclusion
	for ci, c := range q.Clauses {
		if !c.Not || len(c.Any) != 1 || c.Any[0].Field != "" {
			continue
		}
		t := c.Any[0]
		toks := x.analyze(t.Text)
		if !checked(t, toks, q.InTitle) {
			continue
		}
		if out == nil {
			out = map[int]*exclusion{}
		}
		if x.opts.Loader == nil || *budget <= 0 {
			out[ci], *approx = &exclusion{words: true}, true
			continue
		}
		// The items that hold the words of the phrase and match the
		// rest of the query (other excluded phrases left out).
		cq := Query{InTitle: q.InTitle, ReadableSpaces: q.ReadableSpaces}
		for cj, other := range q.Clauses {
			if cj != ci {
				cq.Clauses = append(cq.Clauses, other)
			}
		}
		cq.Clauses = append(cq.Clauses, Clause{Any: []Term{t}})
		bq, err := x.buildQuery(cq, nil)
		if err != nil {
			return nil, err
		}
		req := bleve.NewSearchRequestOptions(bq, *budget+1, 0, false)
		req.Score = bleve.ScoreNone // stops at the first budget+1
		res, err := x.idx.SearchInContext(ctx, req)
		if err != nil {
			if ctx.Err() != nil {
				return nil, docket.Errorf(docket.EUNAVAILABLE, "The search timed out.")
			}
			return nil, fmt.Errorf("search: %w", err)
		}
		if len(res.Hits) > *budget {
			out[ci], *approx = &exclusion{words: true}, true
			continue
		}
		*budget -= len(res.Hits)
		hits := make([]Hit, len(res.Hits))
		for i, h := range res.Hits {
			hits[i] = hitOf(h)
		}
		if err := x.loadItems(ctx, ld, hits, false); err != nil {
			return nil, err
		}
		u := unit{toks: toks, prefix: t.Prefix}
		ex := &exclusion{}
		for i, h := range res.Hits {
			if text, _ := textOf(ld, hits[i]); text == nil || x.holds(text, u) {
				// A missing item is excluded too: the index lags.
				ex.keys = append(ex.keys, h.ID)
			}
		}
		out[ci] = ex
	}
	return out, nil
}

// buildQuery turns q into a bleve query whose every match is readable.
// The text terms must match and are scored; matches in titles and
// headings score more. Filters are a filter, which neither scores nor
// needs positions, and readableQuery keeps the readable matches.
//
// Phrases match as the conjunction of their words: Search checks them
// against the text. An excluded phrase excludes what excl says for its
// clause (see exclusions); without an entry, the clause is left out.
func (x *Index) buildQuery(q Query, excl map[int]*exclusion) (query.Query, error) {
	var filters, must, should, mustNot []query.Query
	for ci, c := range q.Clauses {
		alts := make([]query.Query, 0, len(c.Any))
		filter := true
		for _, t := range c.Any {
			if t.Field != "" {
				fq, err := filterQuery(t)
				if err != nil {
					return nil, err
				}
				alts = append(alts, fq)
				continue
			}
			filter = false
			if c.Not && checked(t, x.analyze(t.Text), q.InTitle) {
				switch ex := excl[ci]; {
				case ex == nil || !ex.words && len(ex.keys) == 0:
					continue
				case !ex.words:
					alts = append(alts, query.NewDocIDQuery(ex.keys))
					continue
				}
			}
			match, boosts := x.textQuery(t, q.InTitle)
			if match != nil {
				alts = append(alts, match)
			}
			if !c.Not {
				should = append(should, boosts...)
			}
		}
		if len(alts) == 0 {
			if c.Not {
				continue
			}
			// A term that analyses to nothing cannot match.
			return query.NewMatchNoneQuery(), nil
		}
		var cq query.Query = alts[0]
		if len(alts) > 1 {
			cq = bleve.NewDisjunctionQuery(alts...)
		}
		switch {
		case c.Not:
			mustNot = append(mustNot, cq)
		case filter:
			filters = append(filters, cq)
		default:
			must = append(must, cq)
		}
	}
	b := bleve.NewBooleanQuery()
	if len(mustNot) > 0 {
		b.AddMustNot(mustNot...)
	}
	switch {
	case len(must) == 0:
		// Filters alone: nothing to score, and a filter over all items
		// would visit every one of them.
		b.AddMust(filters...)
	default:
		b.AddMust(must...)
		if len(should) > 0 {
			b.AddShould(should...)
		}
		if len(filters) == 1 {
			b.AddFilter(filters[0])
		} else if len(filters) > 1 {
			b.AddFilter(bleve.NewConjunctionQuery(filters...))
		}
	}
	return newReadableQuery(b, q.ReadableSpaces), nil
}

// boostLead is the boost of a text term in the title and headings of a
// document. A term must match the body field (which holds the title and
// the words of link URLs too: see bodyText); matching the title or a
// heading (fieldLead) adds to its score.
const boostLead = 2

// filterQuery returns the query of a filter term.
func filterQuery(t Term) (query.Query, error) {
	switch t.Field {
	case "before", "after":
		// before:D is the days up to D, excluded; after:D the days
		// from D, excluded.
		from, to := minDay, t.Date.AddDate(0, 0, -1)
		if t.Field == "after" {
			from, to = t.Date.AddDate(0, 0, 1), maxDay
		}
		terms := dayRangeTerms(from, to)
		if len(terms) == 0 {
			return query.NewMatchNoneQuery(), nil
		}
		qs := make([]query.Query, len(terms))
		for i, tm := range terms {
			qs[i] = keywordQuery(fieldFilter, tm)
		}
		if len(qs) == 1 {
			return qs[0], nil
		}
		return bleve.NewDisjunctionQuery(qs...), nil
	}
	f, ok := fieldOf[t.Field]
	if !ok {
		return nil, invalid("Unknown filter %s:.", t.Field)
	}
	return keywordQuery(f, term(t.Field, t.Text)), nil
}

// textQuery returns the query that a text term must match, or nil if it
// analyses to nothing, and the queries that raise the score of its
// matches. With inTitle, it must match the title.
func (x *Index) textQuery(t Term, inTitle bool) (match query.Query, boosts []query.Query) {
	toks := x.analyze(t.Text)
	if len(toks) == 0 {
		return nil, nil
	}
	if inTitle {
		return fieldQuery(t, toks, "title", 1), nil
	}
	match = fieldQuery(t, toks, "body", 1)
	if len(toks) > 1 {
		// A phrase scores more in the title; the lead has no positions.
		return match, []query.Query{fieldQuery(t, toks, "title", boostLead)}
	}
	return match, []query.Query{fieldQuery(t, toks, fieldLead, boostLead)}
}

// positional are the text fields that keep positions, which phrases need.
// The body has none: a phrase matches there as the conjunction of its
// words, and Search checks it against the text.
var positional = map[string]bool{"title": true}

// fieldQuery returns the query of a text term, analysed to toks, in
// field; nil if toks must match as a phrase and field has no positions.
func fieldQuery(t Term, toks []string, field string, boost float64) query.Query {
	switch {
	case t.Prefix:
		if len(toks) == 1 {
			p := bleve.NewPrefixQuery(toks[0])
			p.SetField(field)
			p.SetBoost(boost)
			return p
		}
		// "open-cod*": the words before the last must be a phrase, the
		// last a prefix; approximate with a conjunction.
		parts := make([]query.Query, 0, len(toks))
		for i, tok := range toks {
			if i == len(toks)-1 {
				p := bleve.NewPrefixQuery(tok)
				p.SetField(field)
				parts = append(parts, p)
			} else {
				parts = append(parts, keywordQuery(field, tok))
			}
		}
		c := bleve.NewConjunctionQuery(parts...)
		c.SetBoost(boost)
		return c
	case t.Fuzzy > 0 && len(toks) == 1:
		fz := bleve.NewFuzzyQuery(toks[0])
		fz.SetFuzziness(1)
		fz.SetField(field)
		fz.SetBoost(boost)
		return fz
	case len(toks) == 1:
		tq := keywordQuery(field, toks[0])
		tq.SetBoost(boost)
		return tq
	case field == "body":
		parts := make([]query.Query, len(toks))
		for i, tok := range toks {
			parts[i] = keywordQuery(field, tok)
		}
		c := bleve.NewConjunctionQuery(parts...)
		c.SetBoost(boost)
		return c
	case !positional[field]:
		return nil
	default:
		// Words that analyse to several tokens (phrases, "open-coded",
		// CJK text) must match as a phrase.
		pq := bleve.NewPhraseQuery(toks, field)
		pq.SetBoost(boost)
		return pq
	}
}

// analyze returns the terms of s under the text analyzer.
func (x *Index) analyze(s string) []string {
	a := x.idx.Mapping().AnalyzerNamed(textAnalyzer)
	if a == nil {
		return nil
	}
	var ts analysis.TokenStream = a.Analyze([]byte(s))
	out := make([]string, 0, len(ts))
	for _, t := range ts {
		out = append(out, string(t.Term))
	}
	return out
}

// Suggest returns up to limit document titles (capped at MaxSuggestions)
// in the readable spaces that complete prefix: titles that hold its
// words, every word but the last whole and the last as the start of a
// word. Titles whose first word is the first word typed (or starts with
// it, when only one is typed) come first; each group is sorted by title.
// Word prefixes are looked up as terms (fieldTitleWords), and Suggest
// stops at the first limit matches of each group, so it costs about the
// same whatever the prefix; which titles come when more match is
// unspecified. Returns EUNAVAILABLE when ctx is done or the index closed.
func (x *Index) Suggest(ctx context.Context, prefix string, readableSpaces []string, limit int) ([]Suggestion, error) {
	if err := x.check(ctx); err != nil {
		return nil, err
	}
	if len(readableSpaces) == 0 || len(prefix) > MaxQueryLength {
		return nil, nil
	}
	if limit <= 0 || limit > MaxSuggestions {
		limit = MaxSuggestions
	}
	toks := x.analyze(prefix)
	if len(toks) == 0 || len(toks) > MaxClauses {
		return nil, nil
	}
	var out []Suggestion
	seen := map[string]bool{}
	add := func(q query.Query) error {
		req := bleve.NewSearchRequestOptions(newReadableQuery(q, readableSpaces), limit, 0, false)
		// Without scores or facets, bleve stops at the first limit hits.
		req.Score = bleve.ScoreNone
		req.Fields = []string{"title"}
		res, err := x.idx.SearchInContext(ctx, req)
		if err != nil {
			if ctx.Err() != nil {
				return docket.Errorf(docket.EUNAVAILABLE, "The search timed out.")
			}
			return fmt.Errorf("suggest: %w", err)
		}
		var page []Suggestion
		for _, h := range res.Hits {
			id := strings.TrimPrefix(h.ID, "d:")
			if !seen[id] {
				seen[id] = true
				page = append(page, Suggestion{DocID: id, Title: str(h.Fields["title"])})
			}
		}
		slices.SortFunc(page, func(a, b Suggestion) int {
			return cmp.Or(strings.Compare(strings.ToLower(a.Title), strings.ToLower(b.Title)), strings.Compare(a.DocID, b.DocID))
		})
		out = append(out, page[:min(len(page), limit-len(out))]...)
		return nil
	}
	// First titles that start with the words, then any that hold them.
	for _, start := range []bool{true, false} {
		must := make([]query.Query, 0, len(toks))
		for i, tok := range toks {
			first := ""
			if start && i == 0 {
				first = firstWord
			}
			switch {
			case i < len(toks)-1 && first == "":
				must = append(must, keywordQuery("title", tok))
			case utf8.RuneCountInString(tok) <= maxWordPrefix:
				must = append(must, keywordQuery(fieldTitleWords, first+tok))
			case first != "":
				// The first word is longer than its indexed prefixes:
				// take titles that hold it.
				must = append(must, keywordQuery(fieldTitleWords, first+string([]rune(tok)[:maxWordPrefix])))
				p := bleve.NewPrefixQuery(tok)
				p.SetField("title")
				must = append(must, p)
			default:
				p := bleve.NewPrefixQuery(tok)
				p.SetField("title")
				must = append(must, p)
			}
		}
		var q query.Query = must[0]
		if len(must) > 1 {
			q = bleve.NewConjunctionQuery(must...)
		}
		if err := add(q); err != nil {
			return nil, err
		}
		if len(out) == limit {
			break
		}
	}
	return out, nil
}

func str(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case []any:
		if len(v) > 0 {
			s, _ := v[0].(string)
			return s
		}
	}
	return ""
}
