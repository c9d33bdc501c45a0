package search

import (
	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/search/query"
)

// fieldOf maps a filter to the field of its terms.
var fieldOf = map[string]string{
	"type": fieldFacet, "status": fieldFacet, "space": fieldFacet, "author": fieldFacet, "tag": fieldFacet,
	"kind": fieldFilter, "owner": fieldFilter,
}

// buildQuery turns q into a bleve query whose every match is readable.
// The text terms must match and are scored; matches in titles and
// headings score more. Filters are a filter, which neither scores nor
// needs positions, and readableQuery keeps the readable matches.
//
// Phrases match in the body's positions; one whose last word is a prefix
// matches as the conjunction of its words, and Search checks it against
// the text (see checked). Such an excluded phrase excludes what excl says for its
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
		if boost := fieldQuery(t, toks, "title", boostLead); boost != nil {
			return match, []query.Query{boost}
		}
		return match, nil
	}
	return match, []query.Query{fieldQuery(t, toks, fieldLead, boostLead)}
}

// positional are the text fields that keep positions, which phrases need.
var positional = map[string]bool{"title": true, "body": true}

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
		return bodyPhrase(toks, boost)
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

// bodyPhrase returns the query of a phrase of several tokens in the body
// (see phraseQuery).
func bodyPhrase(toks []string, boost float64) query.Query {
	seen := map[string]bool{}
	var pairs, words []query.Query
	for i := 0; i+1 < len(toks); i++ {
		if p := pair(toks[i], toks[i+1]); !seen[p] {
			seen[p] = true
			pairs = append(pairs, keywordQuery(fieldPairs, p))
		}
	}
	for _, tok := range toks {
		if !seen[" "+tok] {
			seen[" "+tok] = true
			words = append(words, keywordQuery("body", tok))
		}
	}
	// The words score; the pairs, without frequencies or norms, only
	// filter.
	b := bleve.NewBooleanQuery()
	b.AddMust(bleve.NewConjunctionQuery(words...))
	b.AddFilter(bleve.NewConjunctionQuery(pairs...))
	b.SetBoost(boost)
	return &phraseQuery{candidates: b, toks: toks}
}

func keywordQuery(field, value string) *query.TermQuery {
	t := bleve.NewTermQuery(value)
	t.SetField(field)
	return t
}
