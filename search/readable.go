package search

import (
	"cmp"
	"context"
	"slices"

	"github.com/blevesearch/bleve/v2/mapping"
	bsearch "github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/query"
	"github.com/blevesearch/bleve/v2/search/searcher"
	index "github.com/blevesearch/bleve_index_api"
)

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
