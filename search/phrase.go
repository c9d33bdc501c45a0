package search

import (
	"context"
	"slices"
	"strings"
	"unicode/utf8"
	"unsafe"

	"github.com/blevesearch/bleve/v2"

	"github.com/docket-dev/docket"
)

// The body and title fields keep word positions, so the index matches a
// phrase, or a word that analyses to several tokens ("open-coded", 東京),
// itself. A phrase whose last word is a prefix ("open-cod*") is looked up
// as the conjunction of its words, and the items found (the candidates)
// are checked against their stored text, read through the [TextLoader]
// as fragments are: the phrase's tokens must follow each other in one
// section of the item (the title, the plain text, the link words), across
// line breaks.

// MaxPhraseChecks is the most candidates whose text one search reads to
// check its phrases, unless Options.MaxPhraseChecks says otherwise; the
// excluded phrases of a query share it, and its positive phrases get at
// least half of it. Past it, the result says it is approximate: only the
// first MaxPhraseChecks candidates, in the order asked for (relevance or
// date), are checked, and total and facets count the matches among them.
const MaxPhraseChecks = 2000

// checked reports whether the text term t, analysed to toks, is matched
// by the index only approximately, and so is checked against the text:
// a phrase whose last word is a prefix.
func checked(t Term, toks []string, inTitle bool) bool {
	return t.Field == "" && len(toks) > 1 && t.Prefix && !inTitle
}

// clauseCheck is a positive clause of a query that holds a term to check:
// a candidate passes it if one of its text alternatives is in its text,
// or one of its filter alternatives holds.
type clauseCheck struct {
	units []unit
	// facets are the facet terms of the filter alternatives, which a
	// candidate passes if it has one.
	facets []string
	// unsure is set when an alternative is a filter that cannot be
	// checked (kind, owner, dates): a candidate then passes, and the
	// result is approximate.
	unsure bool
}

// checks returns the checks of the positive clauses of q, none if it has
// no term to check.
func (x *Index) checks(q Query) []clauseCheck {
	var out []clauseCheck
	for _, c := range q.Clauses {
		if c.Not {
			continue
		}
		need := false
		var cc clauseCheck
		for _, t := range c.Any {
			if t.Field != "" {
				if fieldOf[t.Field] == fieldFacet {
					cc.facets = append(cc.facets, term(t.Field, t.Text))
				} else {
					cc.unsure = true
				}
				continue
			}
			toks := x.analyze(t.Text)
			if len(toks) == 0 {
				continue
			}
			need = need || checked(t, toks, q.InTitle)
			cc.units = append(cc.units, unitOf(t, toks))
		}
		if need {
			out = append(out, cc)
		}
	}
	return out
}

// pass reports whether an item of this text and these facet terms passes
// every check.
func (x *Index) pass(checks []clauseCheck, text *itemText, facets []string) bool {
	for _, cc := range checks {
		ok := cc.unsure
		for _, f := range cc.facets {
			if !ok {
				for _, have := range facets {
					if have == f {
						ok = true
						break
					}
				}
			}
		}
		for _, u := range cc.units {
			if ok {
				break
			}
			ok = x.holds(text, u)
		}
		if !ok {
			return false
		}
	}
	return true
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
	onCores(ctx, len(cands), 64, check)
	if ctx.Err() != nil {
		return nil, timedOut()
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
			return nil, searchError(ctx, "search", err)
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
		u := unitOf(t, toks)
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

// itemText is the text of an item as indexed, in the sections that a
// phrase does not match across (see bodyText).
type itemText struct {
	sections []string
	lower    []string // ASCII sections with ASCII letters lower-cased
	words    [][]word // the words of each section, once analysed
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

// textOfDocument, textOfComment, textOfDecision and textOfMinutes return
// the text of a stored item as its indexed body field holds it (see
// bodyText and the builder's methods).
func textOfDocument(d *docket.Document) *itemText {
	body, _, links := plainText(d.Body)
	return newItemText(d.Title, body, links)
}

func textOfComment(c *docket.Comment) *itemText {
	body, _, links := plainText(c.Body)
	return newItemText(body, links)
}

// textOfDecision returns the text of the decision of d, a document with
// its Decision; by is the name of who decided.
func textOfDecision(d *docket.Document, by string) *itemText {
	body, _, links := plainText(DecisionText(d.Decision, by))
	return newItemText(d.Title, body, links)
}

// textOfMinutes returns the text of minutes record r of the document
// titled title.
func textOfMinutes(r *docket.MinutesRecord, title string) *itemText {
	body, _, links := plainText(MinutesText(r.Markdown))
	return newItemText(title, body, links)
}

func newItemText(sections ...string) *itemText {
	t := &itemText{sections: sections, lower: make([]string, len(sections)), words: make([][]word, len(sections))}
	for i, s := range sections {
		t.lower[i] = lowerIfASCII(s)
	}
	return t
}

// lowerIfASCII returns s with its letters lower-cased if it is all ASCII,
// else "", in one pass.
func lowerIfASCII(s string) string {
	if s == "" {
		return ""
	}
	b := make([]byte, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf {
			return ""
		}
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		b[i] = c
	}
	return unsafe.String(&b[0], len(b))
}

// holds reports whether u matches in one of the sections of t: its
// tokens one after the other, the last a prefix if u is a prefix.
func (x *Index) holds(t *itemText, u unit) bool {
	for i, s := range t.sections {
		if s == "" {
			continue
		}
		if t.lower[i] != "" && !u.fuzzy {
			// The words of an ASCII text are ASCII.
			if asciiUnit(u) && holdsASCII(t.lower[i], u) {
				return true
			}
			continue
		}
		if t.words[i] == nil {
			t.words[i] = x.words(s)
		}
		for p := range t.words[i] {
			if matchAt(t.words[i], p, u) >= 0 {
				return true
			}
		}
	}
	return false
}

func asciiUnit(u unit) bool {
	for _, t := range u.toks {
		if !isASCII([]byte(t)) {
			return false
		}
	}
	return true
}

// holdsASCII reports whether u matches in lower, an ASCII text with its
// letters lower-cased. Rather than splitting the whole text into words,
// it looks for the longest word of u as a substring and splits only the
// text around each place found, cut at white space: white space always
// separates words, so the words of such a window are those of the text.
func holdsASCII(lower string, u unit) bool {
	return findASCII(lower, u, 0) >= 0
}

// findASCII returns where the first match of u in lower at or after byte
// at has its longest word (see holdsASCII), or -1 if there is none.
func findASCII(lower string, u unit, at int) int {
	k := len(u.toks)
	anchor := 0
	for i, t := range u.toks {
		if (i < k-1 || !u.prefix) && len(t) > len(u.toks[anchor]) {
			anchor = i
		}
	}
	w := u.toks[anchor]
	before, after := 0, 0
	for i, t := range u.toks {
		if i < anchor {
			before += len(t) + 4
		} else if i > anchor {
			after += len(t) + 4
		}
	}
	rare := rarest(w)
	for at < len(lower) {
		i := indexAt(lower[at:], w, rare)
		if i < 0 {
			return -1
		}
		i += at
		at = i + 1
		if i > 0 && isWordByte(lower[i-1]) && isWordByte(lower[i]) {
			continue // inside a word
		}
		for slack := 16; ; slack *= 4 {
			start := max(i-before-slack, 0)
			if start > 0 {
				start = strings.LastIndexAny(lower[:start], " \t\n\r\v\f") + 1
			}
			end := min(i+len(w)+after+slack, len(lower))
			if j := strings.IndexAny(lower[end:], " \t\n\r\v\f"); j >= 0 {
				end += j
			} else {
				end = len(lower)
			}
			ws := asciiWords(lower[start:end])
			p := -1
			for j, wd := range ws {
				if wd.start == i-start {
					p = j
					break
				}
			}
			if p < 0 {
				break // not the start of a word
			}
			first := p - anchor
			if first < 0 && start > 0 || first+k > len(ws) && end < len(lower) {
				continue // the window is too small: widen it
			}
			if first >= 0 && matchAt(ws, first, u) >= 0 {
				return i
			}
			break
		}
	}
	return -1
}
