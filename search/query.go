package search

import (
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/docket-dev/docket"
)

// Limits of the query syntax and of paging. A query over a limit is
// rejected with EINVALID; paging values over a cap are clamped.
const (
	// MaxQueryLength is the longest query, in characters.
	MaxQueryLength = 512
	// MaxClauses is the most terms and filters one query may hold.
	MaxClauses = 32
	// MaxLimit is the most hits one page may hold.
	MaxLimit = 100
	// DefaultLimit is the page size when none is given.
	DefaultLimit = 20
	// MaxOffset is the deepest offset a page may start at.
	MaxOffset = 10000
	// MaxTermLength is the longest single word or phrase, in characters.
	MaxTermLength = 200
)

// maxFuzzyLength is the longest fuzzy word: the automaton of a long word
// is costly to build and a typo in it rarely matters.
const maxFuzzyLength = 40

// Item types, the values of the type: filter and of [Hit.Type].
const (
	TypeDocument = "document"
	TypeComment  = "comment"
	TypeDecision = "decision" // a document's recorded decision
	TypeMinutes  = "minutes"  // a set of minutes frozen at a decision
)

// Sort orders of a [Query].
const (
	SortRelevance = "relevance"
	SortDate      = "date" // newest first
)

// Filter fields accepted by [ParseQuery] before a colon.
var filterFields = map[string]bool{
	"type": true, "status": true, "kind": true, "space": true,
	"author": true, "owner": true, "tag": true, "in": true,
	"before": true, "after": true,
}

// Term is one element of a parsed query: a word, a phrase or a filter.
type Term struct {
	// Field is "" for text, or a filter name: type, status, kind, space,
	// author, owner, tag, before or after.
	Field string
	// Text is the word, phrase or filter value, as typed (not lower-cased).
	Text string
	// Phrase is set for a "quoted phrase".
	Phrase bool
	// Prefix is set for a word typed with a trailing *.
	Prefix bool
	// Fuzzy is 1 for a word typed with a trailing ~, else 0.
	Fuzzy int
	// Date is the parsed value of a before: or after: filter.
	Date time.Time
}

// Clause is a set of alternatives of which at least one must match (a
// single term unless OR was used), or, with Not, none may match.
type Clause struct {
	Any []Term
	Not bool
}

// Query is a parsed search query plus what the caller adds: the readable
// spaces, sort order and page.
type Query struct {
	// Clauses must all hold.
	Clauses []Clause
	// InTitle restricts text terms to titles (typed as in:title).
	InTitle bool
	// ReadableSpaces are the ids of the spaces the caller may read. It is
	// required: an empty list finds nothing.
	ReadableSpaces []string
	// Sort is SortRelevance (the default) or SortDate.
	Sort string
	// Limit is the page size, DefaultLimit when 0, capped at MaxLimit.
	Limit int
	// Offset is where the page starts, capped at MaxOffset.
	Offset int
}

// hasText reports whether the query has a positive text term, which is
// what makes relevance and highlighting meaningful.
func (q *Query) hasText() bool {
	for _, c := range q.Clauses {
		if c.Not {
			continue
		}
		for _, t := range c.Any {
			if t.Field == "" {
				return true
			}
		}
	}
	return false
}

func invalid(format string, args ...any) error {
	return docket.Errorf(docket.EINVALID, format, args...)
}

// ParseQuery parses the search syntax of Docket:
//
//	plain words        all must match
//	"exact phrase"     the words in this order, across line breaks
//	-word, -"phrase"   must not match
//	a OR b             either (OR binds the terms on both sides)
//	type:document      filters: type, status, kind, space, author, owner, tag
//	in:title           text terms match titles only
//	before:2024-01-31  updated (or, for comments, written) before or after
//	after:2024-01-01     a date, as YYYY-MM-DD
//	word*              prefix (trailing * only, at least 2 characters)
//	word~              fuzzy, one edit at most (~1 is the same)
//
// Malformed input, or a query over MaxQueryLength characters or
// MaxClauses terms, returns an EINVALID error with a message for the user.
func ParseQuery(s string) (Query, error) {
	var q Query
	if !utf8.ValidString(s) {
		return q, invalid("The query is not valid UTF-8.")
	}
	if n := utf8.RuneCountInString(s); n > MaxQueryLength {
		return q, invalid("The query is too long: %d characters, at most %d.", n, MaxQueryLength)
	}
	toks, err := lex(s)
	if err != nil {
		return q, err
	}
	nterms := 0
	pendingOr := false
	for i, tk := range toks {
		if tk.or {
			if i == 0 || pendingOr {
				return q, invalid("OR needs a term on each side.")
			}
			if i == len(toks)-1 {
				return q, invalid("OR needs a term on each side.")
			}
			last := q.Clauses[len(q.Clauses)-1]
			if last.Not || toks[i+1].not {
				return q, invalid("An excluded term cannot be part of OR.")
			}
			pendingOr = true
			continue
		}
		if tk.term.Field == "in" {
			if pendingOr {
				return q, invalid("in:title cannot be part of OR.")
			}
			if tk.not {
				return q, invalid("in:title cannot be excluded.")
			}
			q.InTitle = true
			continue
		}
		nterms++
		if nterms > MaxClauses {
			return q, invalid("The query has too many terms: at most %d.", MaxClauses)
		}
		if pendingOr {
			c := &q.Clauses[len(q.Clauses)-1]
			c.Any = append(c.Any, tk.term)
			pendingOr = false
			continue
		}
		q.Clauses = append(q.Clauses, Clause{Any: []Term{tk.term}, Not: tk.not})
	}
	positive := false
	for _, c := range q.Clauses {
		if !c.Not {
			positive = true
		}
	}
	if !positive {
		if len(q.Clauses) == 0 {
			return q, invalid("The query is empty.")
		}
		return q, invalid("The query needs at least one term that is not excluded.")
	}
	return q, nil
}

type token struct {
	term Term
	not  bool
	or   bool
}

// lex splits s into tokens and validates each one.
func lex(s string) ([]token, error) {
	var toks []token
	i := 0
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		if unicode.IsSpace(r) {
			i += size
			continue
		}
		var tk token
		if r == '-' {
			tk.not = true
			i++
			if i >= len(s) || isSpaceAt(s, i) {
				return nil, invalid("A - must be followed by the term to exclude.")
			}
		}
		if s[i] == '"' {
			end := strings.IndexByte(s[i+1:], '"')
			if end < 0 {
				return nil, invalid("A quoted phrase is not closed.")
			}
			text := strings.Join(strings.Fields(s[i+1:i+1+end]), " ")
			i += end + 2
			if text == "" {
				return nil, invalid("A quoted phrase is empty.")
			}
			if !hasWordChar(text) {
				return nil, invalid("The phrase %q has no words.", text)
			}
			if utf8.RuneCountInString(text) > MaxTermLength {
				return nil, invalid("A phrase is too long: at most %d characters.", MaxTermLength)
			}
			if i < len(s) && !isSpaceAt(s, i) {
				return nil, invalid("Put a space after a quoted phrase.")
			}
			tk.term = Term{Text: text, Phrase: true}
			toks = append(toks, tk)
			continue
		}
		j := i
		for j < len(s) {
			r, size := utf8.DecodeRuneInString(s[j:])
			if unicode.IsSpace(r) {
				break
			}
			if r == '"' {
				return nil, invalid("A quote must start a phrase, as in \"exact words\".")
			}
			j += size
		}
		word := s[i:j]
		i = j
		if word == "OR" && !tk.not {
			tk.or = true
			toks = append(toks, tk)
			continue
		}
		t, err := parseWord(word)
		if err != nil {
			return nil, err
		}
		tk.term = t
		toks = append(toks, tk)
	}
	return toks, nil
}

func isSpaceAt(s string, i int) bool {
	r, _ := utf8.DecodeRuneInString(s[i:])
	return unicode.IsSpace(r)
}

func hasWordChar(s string) bool {
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsNumber(r) || unicode.Is(unicode.So, r) {
			return true
		}
	}
	return false
}

// parseWord parses one unquoted word: a filter, or a word with an optional
// trailing * or ~.
func parseWord(w string) (Term, error) {
	if utf8.RuneCountInString(w) > MaxTermLength {
		return Term{}, invalid("A word is too long: at most %d characters.", MaxTermLength)
	}
	if k, v, ok := strings.Cut(w, ":"); ok && filterFields[strings.ToLower(k)] {
		return parseFilter(strings.ToLower(k), v)
	}
	t := Term{Text: w}
	switch {
	case strings.HasSuffix(w, "~1"):
		t.Text, t.Fuzzy = w[:len(w)-2], 1
	case strings.HasSuffix(w, "~"):
		t.Text, t.Fuzzy = w[:len(w)-1], 1
	case strings.HasSuffix(w, "*"):
		t.Text, t.Prefix = w[:len(w)-1], true
	}
	if strings.Contains(t.Text, "~") {
		return Term{}, invalid("Fuzziness is written as a trailing ~ (at most one edit), as in %q.", "word~")
	}
	if strings.ContainsAny(t.Text, "*?") {
		return Term{}, invalid("Wildcards are allowed only at the end of a word, as in %q.", "word*")
	}
	if !hasWordChar(t.Text) {
		return Term{}, invalid("%q has no letters or digits to search for.", w)
	}
	if t.Prefix && utf8.RuneCountInString(t.Text) < 2 {
		return Term{}, invalid("A prefix needs at least 2 characters before the *.")
	}
	if n := utf8.RuneCountInString(t.Text); t.Fuzzy > 0 && (n < 3 || n > maxFuzzyLength) {
		return Term{}, invalid("A fuzzy word needs 3 to %d characters before the ~.", maxFuzzyLength)
	}
	return t, nil
}

func parseFilter(field, v string) (Term, error) {
	if v == "" {
		return Term{}, invalid("The filter %s: needs a value, as in %s:value.", field, field)
	}
	if strings.ContainsAny(v, "*?~") {
		return Term{}, invalid("The filter %s: takes a plain value, without wildcards.", field)
	}
	t := Term{Field: field, Text: v}
	switch field {
	case "type":
		v = strings.ToLower(v)
		if _, ok := typeValue[v]; !ok {
			return Term{}, invalid("Unknown type %q: use type:document, comment, decision or minutes.", v)
		}
		t.Text = v
	case "status":
		v = strings.ToLower(v)
		if !docket.Status(v).Valid() {
			return Term{}, invalid("Unknown status %q.", v)
		}
		t.Text = v
	case "kind":
		v = strings.ToLower(v)
		if !docket.Kind(v).Valid() {
			return Term{}, invalid("Unknown kind %q.", v)
		}
		t.Text = v
	case "in":
		if strings.ToLower(v) != "title" {
			return Term{}, invalid("Only in:title is supported.")
		}
	case "before", "after":
		d, err := time.Parse(time.DateOnly, v)
		if err != nil {
			return Term{}, invalid("The date %q of %s: must be written YYYY-MM-DD.", v, field)
		}
		if d.Year() < 1900 || d.Year() > 2200 {
			return Term{}, invalid("The date %q of %s: must be between 1900 and 2200.", v, field)
		}
		t.Date = d
	case "tag":
		t.Text = strings.ToLower(v)
	}
	return t, nil
}
