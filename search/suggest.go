package search

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/search/query"
)

// MaxSuggestions is the most titles [Index.Suggest] returns.
const MaxSuggestions = 20

// Suggestion is a document title completing a prefix.
type Suggestion struct {
	DocID string
	Title string
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
			return searchError(ctx, "suggest", err)
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
