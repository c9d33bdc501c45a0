package search

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/search/highlight/highlighter/html"
	"github.com/blevesearch/bleve/v2/search/query"

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
}

// Hit is one matching document or comment.
type Hit struct {
	Type     string  // TypeDocument or TypeComment
	ID       string  // the document's or the comment's id
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

var fieldOf = map[string]string{
	"type": "type", "status": "status", "kind": "kind", "space": "space",
	"author": "author", "owner": "owner", "tag": "tag",
}

// Search runs q and returns one page of results. Only items in
// q.ReadableSpaces are considered, inside the bleve query, so nothing
// about other spaces reaches hits, totals, facets or fragments. Returns
// EINVALID for a query that cannot be run, EUNAVAILABLE when ctx is done
// or the index closed.
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
	bq, err := x.buildQuery(q)
	if err != nil {
		return nil, err
	}
	limit := q.Limit
	if limit <= 0 {
		limit = DefaultLimit
	}
	limit = min(limit, MaxLimit)
	offset := min(max(q.Offset, 0), MaxOffset)

	req := bleve.NewSearchRequestOptions(bq, limit, offset, false)
	req.Fields = []string{"id", "doc_id", "thread_id", "title", "doc_title"}
	switch q.Sort {
	case "", SortRelevance:
		if !q.hasText() {
			req.SortBy([]string{"-date", "_id"})
		} else {
			req.SortBy([]string{"-_score", "-date", "_id"})
		}
	case SortDate:
		req.SortBy([]string{"-date", "_id"})
	default:
		return nil, invalid("Unknown sort %q: use relevance or date.", q.Sort)
	}
	for _, f := range []string{FacetType, FacetStatus, FacetSpace, FacetTag, FacetAuthor} {
		req.AddFacet(f, bleve.NewFacetRequest(f, facetSize))
	}
	if q.hasText() {
		req.Highlight = bleve.NewHighlightWithStyle(html.Name)
		req.Highlight.AddField("title")
		req.Highlight.AddField("headings")
		req.Highlight.AddField("body")
	}
	res, err := x.idx.SearchInContext(ctx, req)
	if err != nil {
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil {
			return nil, docket.Errorf(docket.EUNAVAILABLE, "The search timed out.")
		}
		return nil, fmt.Errorf("search: %w", err)
	}
	out := &Result{Total: res.Total, Facets: map[string][]FacetCount{}, Hits: make([]Hit, 0, len(res.Hits))}
	for name, fr := range res.Facets {
		var fcs []FacetCount
		if fr.Terms != nil {
			for _, t := range fr.Terms.Terms() {
				fcs = append(fcs, FacetCount{Value: t.Term, Count: t.Count})
			}
		}
		out.Facets[name] = fcs
	}
	for _, h := range res.Hits {
		hit := Hit{
			ID:       str(h.Fields["id"]),
			DocID:    str(h.Fields["doc_id"]),
			ThreadID: str(h.Fields["thread_id"]),
			Title:    str(h.Fields["title"]) + str(h.Fields["doc_title"]),
			Score:    h.Score,
		}
		// The type is not stored; the key says it.
		if strings.HasPrefix(h.ID, "c:") {
			hit.Type = TypeComment
		} else {
			hit.Type = TypeDocument
		}
		hit.Fragments = fragments(h.Fragments)
		out.Hits = append(out.Hits, hit)
	}
	out.Took = time.Since(start)
	return out, nil
}

// fragments keeps the pieces of text that hold a match, title first; when
// none does (the match was in a link's URL, say), it keeps the start of
// the body so a hit always shows some text.
func fragments(byField map[string][]string) []string {
	var out []string
	for _, f := range []string{"title", "headings", "body"} {
		for _, frag := range byField[f] {
			if strings.Contains(frag, "<mark>") {
				out = append(out, frag)
			}
		}
	}
	if len(out) == 0 && len(byField["body"]) > 0 {
		out = append(out, byField["body"][0])
	}
	return out
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

// spaceFilter matches items in one of the readable spaces.
func spaceFilter(spaces []string) query.Query {
	qs := make([]query.Query, 0, len(spaces))
	for _, s := range spaces {
		t := bleve.NewTermQuery(s)
		t.SetField("space")
		qs = append(qs, t)
	}
	d := bleve.NewDisjunctionQuery(qs...)
	return d
}

// buildQuery turns q into a bleve query whose every match is readable.
func (x *Index) buildQuery(q Query) (query.Query, error) {
	must := []query.Query{spaceFilter(q.ReadableSpaces)}
	var mustNot []query.Query
	for _, c := range q.Clauses {
		alts := make([]query.Query, 0, len(c.Any))
		for _, t := range c.Any {
			tq, err := x.termQuery(t, q.InTitle)
			if err != nil {
				return nil, err
			}
			if tq != nil {
				alts = append(alts, tq)
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
		if c.Not {
			mustNot = append(mustNot, cq)
		} else {
			must = append(must, cq)
		}
	}
	b := bleve.NewBooleanQuery()
	b.AddMust(must...)
	if len(mustNot) > 0 {
		b.AddMustNot(mustNot...)
	}
	return b, nil
}

// textFields are the searched fields and their boosts.
var textFields = []struct {
	name  string
	boost float64
}{{"title", 3}, {"headings", 2}, {"body", 1}, {"links", 0.3}}

func (x *Index) termQuery(t Term, inTitle bool) (query.Query, error) {
	if t.Field != "" {
		switch t.Field {
		case "before", "after":
			var q *query.DateRangeQuery
			incl, excl := true, false
			if t.Field == "before" {
				q = bleve.NewDateRangeInclusiveQuery(time.Time{}, t.Date, nil, &excl)
			} else {
				// after:D means from the end of day D.
				q = bleve.NewDateRangeInclusiveQuery(t.Date.AddDate(0, 0, 1), time.Time{}, &incl, nil)
			}
			q.SetField("date")
			return q, nil
		}
		f, ok := fieldOf[t.Field]
		if !ok {
			return nil, invalid("Unknown filter %s:.", t.Field)
		}
		tq := bleve.NewTermQuery(t.Text)
		tq.SetField(f)
		return tq, nil
	}
	toks := x.analyze(t.Text)
	if len(toks) == 0 {
		return nil, nil
	}
	fields := textFields
	if inTitle {
		fields = textFields[:1]
	}
	alts := make([]query.Query, 0, len(fields))
	for _, f := range fields {
		var fq query.Query
		switch {
		case t.Prefix:
			if len(toks) == 1 {
				p := bleve.NewPrefixQuery(toks[0])
				p.SetField(f.name)
				p.SetBoost(f.boost)
				fq = p
			} else {
				// "open-cod*": the words before the last must be a phrase,
				// the last a prefix; approximate with a conjunction.
				parts := make([]query.Query, 0, len(toks))
				for i, tok := range toks {
					if i == len(toks)-1 {
						p := bleve.NewPrefixQuery(tok)
						p.SetField(f.name)
						parts = append(parts, p)
					} else {
						tq := bleve.NewTermQuery(tok)
						tq.SetField(f.name)
						parts = append(parts, tq)
					}
				}
				c := bleve.NewConjunctionQuery(parts...)
				c.SetBoost(f.boost)
				fq = c
			}
		case t.Fuzzy > 0 && len(toks) == 1:
			fz := bleve.NewFuzzyQuery(toks[0])
			fz.SetFuzziness(1)
			fz.SetField(f.name)
			fz.SetBoost(f.boost)
			fq = fz
		case len(toks) == 1:
			tq := bleve.NewTermQuery(toks[0])
			tq.SetField(f.name)
			tq.SetBoost(f.boost)
			fq = tq
		default:
			// Words that analyse to several tokens (phrases, "open-coded",
			// CJK text) must match as a phrase.
			pq := bleve.NewPhraseQuery(toks, f.name)
			pq.SetBoost(f.boost)
			fq = pq
		}
		alts = append(alts, fq)
	}
	if len(alts) == 1 {
		return alts[0], nil
	}
	return bleve.NewDisjunctionQuery(alts...), nil
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
// in the readable spaces whose title words start with the words of
// prefix: every word but the last must be in the title, the last is a
// prefix. Returns EUNAVAILABLE when ctx is done or the index closed.
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
	tq := bleve.NewTermQuery(TypeDocument)
	tq.SetField("type")
	must := []query.Query{spaceFilter(readableSpaces), tq}
	for i, tok := range toks {
		if i == len(toks)-1 {
			p := bleve.NewPrefixQuery(tok)
			p.SetField("title")
			must = append(must, p)
		} else {
			t := bleve.NewTermQuery(tok)
			t.SetField("title")
			must = append(must, t)
		}
	}
	req := bleve.NewSearchRequestOptions(bleve.NewConjunctionQuery(must...), limit, 0, false)
	// The title comes back as a sort value, from doc values: loading
	// stored documents would cost far more.
	req.SortBy([]string{"-_score", "title_sort", "_id"})
	res, err := x.idx.SearchInContext(ctx, req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, docket.Errorf(docket.EUNAVAILABLE, "The search timed out.")
		}
		return nil, fmt.Errorf("suggest: %w", err)
	}
	out := make([]Suggestion, 0, len(res.Hits))
	for _, h := range res.Hits {
		title := ""
		if len(h.Sort) > 1 {
			title = h.Sort[1]
		}
		out = append(out, Suggestion{DocID: strings.TrimPrefix(h.ID, "d:"), Title: title})
	}
	return out, nil
}
