package search

import (
	"context"

	"github.com/blevesearch/bleve/v2/mapping"
	bsearch "github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/query"
	"github.com/blevesearch/bleve/v2/search/searcher"
	index "github.com/blevesearch/bleve_index_api"
)

// phraseQuery matches a phrase in the body: the items that hold each
// pair of its words (in the pairs field) and each word are its
// candidates, and it reads the positions of its words in those only.
// bleve's phrase query reads them in every item that holds all the
// words, even inside a conjunction with the pairs (its Advance goes on to
// the next match): for a phrase of frequent words, most items.
type phraseQuery struct {
	candidates query.Query
	toks       []string
}

// Searcher implements query.Query.
func (p *phraseQuery) Searcher(ctx context.Context, i index.IndexReader, m mapping.IndexMapping, options bsearch.SearcherOptions) (bsearch.Searcher, error) {
	s, err := p.candidates.Searcher(ctx, i, m, options)
	if err != nil {
		return nil, err
	}
	ps := &phraseSearcher{toks: p.toks}
	for _, tok := range p.toks {
		r, err := i.TermFieldReader(ctx, []byte(tok), "body", false, false, true)
		if err != nil {
			ps.closeReaders()
			s.Close()
			return nil, err
		}
		ps.readers = append(ps.readers, r)
	}
	ps.docs = make([]index.TermFieldDoc, len(p.toks))
	ps.Searcher = searcher.NewFilteringSearcher(ctx, s, func(_ *bsearch.SearchContext, d *bsearch.DocumentMatch) bool {
		return ps.holds(d.IndexInternalID)
	})
	return ps, nil
}

// phraseSearcher filters the candidates of a phraseQuery by the
// positions of its words.
type phraseSearcher struct {
	bsearch.Searcher
	toks    []string
	readers []index.TermFieldReader
	docs    []index.TermFieldDoc
	err     error
}

// holds reports whether the words follow each other in the item of id;
// candidates come in the order of their ids.
func (ps *phraseSearcher) holds(id index.IndexInternalID) bool {
	for k, r := range ps.readers {
		d, err := r.Advance(id, &ps.docs[k])
		if err != nil {
			ps.err = err
			return false
		}
		if d == nil || !d.ID.Equals(id) {
			return false
		}
	}
	// Positions of the first word p such that word k is at p+k.
	for _, v := range ps.docs[0].Vectors {
		ok := true
		for k := 1; k < len(ps.docs) && ok; k++ {
			ok = hasPos(ps.docs[k].Vectors, v.Pos+uint64(k))
		}
		if ok {
			return true
		}
	}
	return false
}

func hasPos(vs []*index.TermFieldVector, pos uint64) bool {
	for _, v := range vs {
		if v.Pos == pos {
			return true
		}
	}
	return false
}

func (ps *phraseSearcher) closeReaders() {
	for _, r := range ps.readers {
		r.Close()
	}
}

// Close implements bsearch.Searcher.
func (ps *phraseSearcher) Close() error {
	ps.closeReaders()
	return ps.Searcher.Close()
}

// Next implements bsearch.Searcher.
func (ps *phraseSearcher) Next(ctx *bsearch.SearchContext) (*bsearch.DocumentMatch, error) {
	d, err := ps.Searcher.Next(ctx)
	return ps.result(d, err)
}

// Advance implements bsearch.Searcher.
func (ps *phraseSearcher) Advance(ctx *bsearch.SearchContext, id index.IndexInternalID) (*bsearch.DocumentMatch, error) {
	d, err := ps.Searcher.Advance(ctx, id)
	return ps.result(d, err)
}

// result returns what the filter returned, or the error of reading
// positions.
func (ps *phraseSearcher) result(d *bsearch.DocumentMatch, err error) (*bsearch.DocumentMatch, error) {
	if err == nil && ps.err != nil {
		return nil, ps.err
	}
	return d, err
}
