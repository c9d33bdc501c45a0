package search

import (
	"cmp"
	"encoding/binary"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
	"unsafe"
)

// Fragments are made here, from the text of a hit as stored, rather than
// by bleve's highlighter, which needs the text stored in the index with
// the offset of every word: that doubled the size of the index.

// fragmentSize is the length of a fragment of text, in bytes, before it
// is cut at word boundaries.
const fragmentSize = 200

// fragmentLead is how much text a fragment shows before its first match.
const fragmentLead = 40

// maxBodyFragments is the most fragments of the body of one hit.
const maxBodyFragments = 2

// unit is one positive text term of a query, as analysed: a word, or
// words that must follow each other (a phrase, or a word such as
// "open-coded" or 東京 that analyses to several).
type unit struct {
	toks   []string
	prefix bool // the last token is a prefix
	fuzzy  bool // one token, matched within one edit
}

// highlightUnits returns the units of the positive text terms of q.
func (x *Index) highlightUnits(q Query) []unit {
	var out []unit
	for _, c := range q.Clauses {
		if c.Not {
			continue
		}
		for _, t := range c.Any {
			if t.Field != "" {
				continue
			}
			toks := x.analyze(t.Text)
			if len(toks) == 0 {
				continue
			}
			out = append(out, unitOf(t, toks))
		}
	}
	return out
}

// unitOf returns the unit of text term t, analysed to toks.
func unitOf(t Term, toks []string) unit {
	return unit{toks: toks, prefix: t.Prefix, fuzzy: t.Fuzzy > 0 && len(toks) == 1}
}

// span is a match in a text: bytes start to end, of unit u.
type span struct {
	start, end int
	u          int
}

// fragments returns the fragments of a hit: its title if it matches,
// then up to maxBodyFragments pieces of the plain text of the markdown
// body that hold the most distinct matches, found in a window of the
// markdown (see sourceText). If nothing matches (the
// match was in a link's URL, or the text changed since it was indexed),
// it returns the start of the body, so that a hit always shows some text.
func (x *Index) fragments(title, markdown string, units []unit) []string {
	var out []string
	if title != "" {
		if spans := x.match(title, units); len(spans) > 0 {
			out = append(out, render(title, spans, 0, len(title)))
		}
	}
	body := sourceText(markdown, units)
	if frags, ok := x.bodyFragments(body, units, true); ok {
		return append(out, frags...)
	}
	frags, _ := x.bodyFragments(body, units, false)
	if len(frags) == 0 && len(out) == 0 {
		if frag := render(body, nil, 0, cutEnd(body, 0, fragmentSize)); frag != "" {
			frags = append(frags, frag)
		}
	}
	return append(out, frags...)
}

// sourceSize is the most markdown that the fragments of one hit are
// made from: turning a whole long document into plain text costs more
// than the search (a few milliseconds for 60 KB).
const sourceSize = 2048

// sourceText returns the plain text that the fragments of markdown are
// made from: all of it if it is short; else about sourceSize bytes of
// whole lines around the place where the most distinct units seem to
// match, as their words are found as ASCII substrings of the markdown
// (see candidates and findASCII), or its start if none is found, and a quarter of that
// around the first place of a unit found outside it. A window that
// starts in a code block starts with a fence, so that it reads as one.
// When the units cannot be looked for that way (not ASCII, or fuzzy), or
// one is not found in a text that is not all ASCII, it is made from all
// of markdown.
func sourceText(markdown string, units []unit) string {
	if len(markdown) <= sourceSize {
		return shownText(markdown)
	}
	// Most queries are found in the start of a long text: look there
	// first, and in the whole text for the units not found there.
	whole := len(markdown) <= sourceScan
	spans, missing, ok := unitSpans(asciiLower(markdown[:min(len(markdown), sourceScan)]), units, whole)
	if ok && missing && !whole {
		spans, missing, ok = unitSpans(asciiLower(markdown), units, true)
	}
	if !ok || missing && !isASCIIString(markdown) {
		// A unit may match a folded form ("cafe" in "café").
		return shownText(markdown)
	}
	at := 0
	if len(spans) > 0 {
		at = spans[bestWindow(spans, len(units))].start
	}
	start, end := lines(markdown, at-sourceSize/4, at+sourceSize*3/4)
	body := plainWindow(markdown, start, end)
	in := make([]bool, len(units))
	for _, s := range spans {
		in[s.u] = in[s.u] || s.start >= start && s.end <= end
	}
	for _, s := range spans {
		if !in[s.u] {
			from, to := lines(markdown, s.start-sourceSize/16, s.start+sourceSize*3/16)
			if from < end && to > start {
				break // overlaps the first window
			}
			other := plainWindow(markdown, from, to)
			if from < start {
				return other + "\n\n" + body
			}
			return body + "\n\n" + other
		}
	}
	return body
}

// sourceScan is how much of a long text sourceText first looks for the
// units in.
const sourceScan = 16 << 10

// maxUnitSpans is the most places of one unit that sourceText looks at:
// bestWindow looks at the first 500 places of all units.
const maxUnitSpans = 500

// unitSpans returns where the units seem to match in lower, a markdown
// text with its ASCII letters lower-cased (see sourceText), sorted, and
// whether a unit was not found; ok is false if a unit cannot be looked
// for that way. A phrase whose words are not found one after the other
// is placed where its first word is, if last is set (lower is the whole
// text), else it is missing.
func unitSpans(lower string, units []unit, last bool) (spans []span, missing, ok bool) {
	for ui, u := range units {
		if !searchable(u) {
			return nil, false, false
		}
		n := len(spans)
		if len(u.toks) > 1 {
			// Where the words of a phrase follow each other.
			for at := 0; len(spans)-n < maxUnitSpans; {
				i := findASCII(lower, u, at)
				if i < 0 {
					break
				}
				spans = append(spans, span{start: i, end: i + 1, u: ui})
				at = i + 1
			}
		}
		if len(spans) == n && (len(u.toks) == 1 || last) {
			for _, s := range candidatesIn(lower, []unit{u}, maxUnitSpans) {
				s.u = ui
				spans = append(spans, s)
			}
		}
		missing = missing || len(spans) == n
	}
	slices.SortFunc(spans, func(a, b span) int { return a.start - b.start })
	return spans, missing, true
}

// lines returns the bytes of the whole lines of markdown from the one
// that holds byte start to the one that holds byte end, both clamped to
// the text. A line longer than sourceSize is cut at a space instead.
func lines(markdown string, start, end int) (int, int) {
	start, end = max(start, 0), min(max(end, 0), len(markdown))
	from := max(start-sourceSize, 0)
	if i := strings.LastIndexByte(markdown[from:start], '\n'); i >= 0 {
		start = from + i + 1
	} else if i := strings.LastIndexByte(markdown[from:start], ' '); i >= 0 {
		start = from + i + 1
	} else {
		start = from
	}
	to := min(end+sourceSize, len(markdown))
	if i := strings.IndexByte(markdown[end:to], '\n'); i >= 0 {
		end += i
	} else if i := strings.IndexByte(markdown[end:to], ' '); i >= 0 {
		end += i
	} else {
		end = to
	}
	return start, end
}

// plainWindow returns the plain text of markdown[start:end], read as in
// a code block if it starts in one.
func plainWindow(markdown string, start, end int) string {
	md := markdown[start:end]
	if inFence(markdown[:start]) {
		md = "```\n" + md
	}
	return shownText(md)
}

// searchable reports whether every match of u can be found as ASCII
// substrings (see candidates).
func searchable(u unit) bool {
	return !u.fuzzy && asciiUnit(u)
}

// inFence reports whether markdown ends inside a fenced code block.
func inFence(markdown string) bool {
	in := false
	for rest := markdown; rest != ""; {
		line := rest
		if i := strings.IndexByte(rest, '\n'); i >= 0 {
			line, rest = rest[:i], rest[i+1:]
		} else {
			rest = ""
		}
		if isFence(strings.TrimLeft(line, " \t")) {
			in = !in
		}
	}
	return in
}

// bodyFragments returns up to maxBodyFragments fragments of body: the
// first holds the most distinct units, the next one starts at the first
// unit not shown yet.
//
// Analysing a whole document to find its matches costs more than the
// search itself, so when fast is set it looks for the words of the units
// as ASCII substrings (see candidates), picks the windows from those
// and analyses the windows only. It reports false when that cannot be
// done or misses, and the caller tries again with fast unset.
func (x *Index) bodyFragments(body string, units []unit, fast bool) ([]string, bool) {
	var spans []span
	var exactIn func(start, end int) []span
	if fast {
		spans = candidates(body, units)
		if spans == nil {
			return nil, false
		}
		exactIn = func(start, end int) []span {
			// Analyse a little past the end, for a phrase that starts
			// inside the window.
			to := cutEnd(body, end, fragmentLead)
			var in []span
			for _, s := range x.match(body[start:to], units) {
				if s.end += start; s.end <= end {
					s.start += start
					in = append(in, s)
				}
			}
			return in
		}
	} else {
		spans = x.match(body, units)
		exactIn = func(start, end int) []span {
			var in []span
			for _, s := range spans {
				if s.start >= start && s.end <= end {
					in = append(in, s)
				}
			}
			return in
		}
	}
	if len(spans) == 0 {
		return nil, !fast
	}
	var out []string
	covered := make([]bool, len(units))
	for k := range maxBodyFragments {
		first := -1
		if k == 0 {
			first = bestWindow(spans, len(units))
		} else {
			for i, s := range spans {
				if !covered[s.u] {
					first = i
					break
				}
			}
		}
		if first < 0 {
			break
		}
		start, end := window(body, spans, first)
		in := exactIn(start, end)
		if len(in) == 0 {
			if fast {
				return nil, false
			}
			break
		}
		for _, s := range spans {
			// What the window holds is shown, exact or not.
			if s.start >= start && s.end <= end {
				covered[s.u] = true
			}
		}
		out = append(out, render(body, in, start, end))
	}
	return out, true
}

// candidates returns where the units may match in text, from a search of
// the first word of each unit as a substring of the text with ASCII
// letters lower-cased, at the start of a word. It returns nil when that
// cannot find every match (a unit that is not all ASCII, or fuzzy) or
// when a unit is not found (it may match a folded form, such as "cafe"
// matching "café").
func candidates(text string, units []unit) []span {
	for _, u := range units {
		if u.fuzzy {
			return nil
		}
		for _, t := range u.toks {
			if !isASCII([]byte(t)) {
				return nil
			}
		}
	}
	return candidatesIn(asciiLower(text), units, 10000)
}

// candidatesIn is candidates in a text with its ASCII letters
// lower-cased, at most limit places.
func candidatesIn(lower string, units []unit, limit int) []span {
	var out []span
	for ui, u := range units {
		w := u.toks[0]
		whole := len(u.toks) == 1 && !u.prefix
		found := false
		rare := rarest(w)
		for at := 0; len(out) < limit; {
			i := indexAt(lower[at:], w, rare)
			if i < 0 {
				break
			}
			i += at
			at = i + len(w)
			if i > 0 && isWordByte(lower[i-1]) {
				continue
			}
			if whole && at < len(lower) && isWordByte(lower[at]) {
				continue
			}
			found = true
			out = append(out, span{start: i, end: at, u: ui})
		}
		if !found {
			return nil
		}
	}
	slices.SortFunc(out, func(a, b span) int { return a.start - b.start })
	return out
}

// indexAt is strings.Index(s, w), looking for w[k] first: with k the
// byte of w that is rarest in text (see rarest), it finds the frequent
// words of a query in a long text faster, as strings.Index looks for
// w[0] first.
func indexAt(s, w string, k int) int {
	if k == 0 {
		return strings.Index(s, w)
	}
	c := w[k]
	for at := k; at < len(s); at++ {
		i := strings.IndexByte(s[at:], c)
		if i < 0 {
			return -1
		}
		at += i
		start := at - k
		if start+len(w) > len(s) {
			return -1
		}
		if s[start:start+len(w)] == w {
			return start
		}
	}
	return -1
}

// rarest returns the index of the byte of w that is the least frequent in
// English text, the first of them if several are.
func rarest(w string) int {
	k := 0
	for i := 1; i < len(w); i++ {
		if byteRank[w[i]] > byteRank[w[k]] {
			k = i
		}
	}
	return k
}

// byteRank ranks the lower-case letters from the most frequent in English
// text; other bytes rank 0, as the most frequent.
var byteRank = func() (r [256]byte) {
	for i, c := range []byte("etaoinshrdlcumwfgypbvkjxqz") {
		r[c] = byte(i + 1)
	}
	return r
}()

// isWordByte reports whether b is an ASCII letter or digit.
func isWordByte(b byte) bool {
	return 'a' <= b && b <= 'z' || '0' <= b && b <= '9' || 'A' <= b && b <= 'Z'
}

// asciiLower returns s with its ASCII letters lower-cased, byte for byte.
func asciiLower(s string) string {
	if s == "" {
		return ""
	}
	b := make([]byte, len(s))
	copy(b, s)
	i := 0
	for ; i+8 <= len(b); i += 8 {
		binary.LittleEndian.PutUint64(b[i:], lower8(binary.LittleEndian.Uint64(b[i:])))
	}
	for ; i < len(b); i++ {
		if c := b[i]; 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return unsafe.String(&b[0], len(b))
}

// lower8 lower-cases the ASCII letters of 8 bytes at once: a byte whose
// low 7 bits are from 'A' to 'Z' and whose high bit is clear gets 0x20.
func lower8(x uint64) uint64 {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	low := x &^ highs
	fromA := low + (0x80-'A')*ones   // high bit set where low >= 'A'
	pastZ := low + (0x80-'Z'-1)*ones // high bit set where low > 'Z'
	upper := fromA &^ pastZ &^ x & highs
	return x | upper>>2
}

// bestWindow returns the index of the span that starts the window of
// fragmentSize bytes holding the most distinct units, then the most
// matches.
func bestWindow(spans []span, nunits int) int {
	best, bestScore := 0, -1
	seen := make([]int, nunits) // the last i that counted unit u, plus one
	for i := range spans {
		if i > 500 {
			break
		}
		limit := max(spans[i].start-fragmentLead, 0) + fragmentSize
		distinct, n := 0, 0
		for j := i; j < len(spans) && spans[j].end <= limit; j++ {
			n++
			if seen[spans[j].u] != i+1 {
				seen[spans[j].u] = i + 1
				distinct++
			}
		}
		if score := distinct*10000 + n; score > bestScore {
			best, bestScore = i, score
		}
	}
	return best
}

// window returns the bytes of text to show around spans[first]: from a
// little before it to fragmentSize bytes later, cut at spaces.
func window(text string, spans []span, first int) (start, end int) {
	s := spans[first]
	start = max(s.start-fragmentLead, 0)
	if start > 0 {
		// Start after a space, but not after the match.
		if i := strings.IndexFunc(text[start:s.start], unicode.IsSpace); i >= 0 {
			start += i + 1
		} else {
			start = s.start
		}
	}
	end = cutEnd(text, start, fragmentSize)
	if end < s.end {
		end = s.end
	}
	return start, end
}

// cutEnd returns where a fragment of text that starts at start ends: at
// most size bytes later, before a space if there is one in its second
// half.
func cutEnd(text string, start, size int) int {
	end := start + size
	if end >= len(text) {
		return len(text)
	}
	for end > start && !utf8.RuneStart(text[end]) {
		end--
	}
	if i := strings.LastIndexFunc(text[start:end], unicode.IsSpace); i > size/2 {
		end = start + i
	}
	return end
}

// match returns the matches of units in text, in order and without
// overlaps.
func (x *Index) match(text string, units []unit) []span {
	if len(units) == 0 || text == "" {
		return nil
	}
	if slices.IndexFunc(units, func(u unit) bool { return !oneWord(u) }) >= 0 {
		return x.matchTokens(text, units)
	}
	// A one-word unit matches within a line: look for them in the ASCII
	// lines (see matchWords), split the others into words.
	lower := asciiLower(text)
	var out []span
	lineRuns(text, func(from, to int, ascii bool) {
		var spans []span
		if ascii {
			spans = matchWords(lower[from:to], units)
		} else {
			spans = x.matchTokens(text[from:to], units)
		}
		for _, s := range spans {
			s.start, s.end = from+s.start, from+s.end
			out = append(out, s)
		}
	})
	return out
}

// oneWord reports whether u is one word of ASCII letters and digits,
// neither a prefix nor fuzzy.
func oneWord(u unit) bool {
	return len(u.toks) == 1 && !u.prefix && !u.fuzzy && isWordBytes(u.toks[0])
}

// matchWords is match for units that are each one word (see oneWord), in
// lower, an ASCII text with its letters lower-cased: such a word matches
// where it is found in lower with a word boundary (see joins) before and
// after it. It does not split the whole text into words, which costs
// several times more.
func matchWords(lower string, units []unit) []span {
	var out []span
	for ui, u := range units {
		w := u.toks[0]
		rare := rarest(w)
		for at := 0; ; {
			i := indexAt(lower[at:], w, rare)
			if i < 0 {
				break
			}
			i += at
			at = i + len(w)
			if !joins(lower, i) && !joins(lower, at) {
				out = append(out, span{start: i, end: at, u: ui})
			}
		}
	}
	// Sorted, and one span where units match the same word: that of
	// the first unit, as matchTokens does.
	slices.SortFunc(out, func(a, b span) int { return cmp.Or(a.start-b.start, a.u-b.u) })
	return slices.CompactFunc(out, func(a, b span) bool { return a.start == b.start })
}

// isWordBytes reports whether s is made of ASCII letters and digits only.
func isWordBytes(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isWordByte(s[i]) {
			return false
		}
	}
	return s != ""
}

// matchTokens is match, from all the words of text.
func (x *Index) matchTokens(text string, units []unit) []span {
	toks := x.words(text)
	var out []span
	for p := range toks {
		for ui, u := range units {
			if e := matchAt(toks, p, u); e >= 0 {
				s := span{start: toks[p].start, end: toks[e].end, u: ui}
				if n := len(out); n > 0 && s.start < out[n-1].end {
					// Overlaps the previous match: extend it.
					out[n-1].end = max(out[n-1].end, s.end)
					continue
				}
				out = append(out, s)
			}
		}
	}
	return out
}

// matchAt returns the index of the last token of a match of u starting at
// token p, or -1.
func matchAt(toks []word, p int, u unit) int {
	k := len(u.toks)
	if p+k > len(toks) {
		return -1
	}
	for i, want := range u.toks {
		got := toks[p+i].term
		last := i == k-1
		switch {
		case got == want:
		case last && u.prefix && strings.HasPrefix(got, want):
		case u.fuzzy && oneEdit(got, want):
		default:
			return -1
		}
	}
	return p + k - 1
}

// oneEdit reports whether a and b are at most one insertion, deletion or
// substitution of a character apart.
func oneEdit(a, b string) bool {
	ra, rb := []rune(a), []rune(b)
	if len(ra) < len(rb) {
		ra, rb = rb, ra
	}
	if len(ra)-len(rb) > 1 {
		return false
	}
	i := 0
	for i < len(rb) && ra[i] == rb[i] {
		i++
	}
	if len(ra) == len(rb) {
		return string(ra[i+min(1, len(ra)-i):]) == string(rb[i+min(1, len(rb)-i):])
	}
	return string(ra[i+1:]) == string(rb[i:])
}

// render returns text[start:end] HTML-escaped, with spans (which lie
// within it) wrapped in <mark>, runs of white space made one space, and
// an ellipsis where the text was cut.
func render(text string, spans []span, start, end int) string {
	var b strings.Builder
	b.Grow(end - start + 32)
	if start > 0 {
		b.WriteString("…")
	}
	space := false
	write := func(s string) {
		for _, r := range s {
			if unicode.IsSpace(r) {
				space = true
				continue
			}
			if space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = false
			switch r {
			case '<':
				b.WriteString("&lt;")
			case '>':
				b.WriteString("&gt;")
			case '&':
				b.WriteString("&amp;")
			case '"':
				b.WriteString("&#34;")
			case '\'':
				b.WriteString("&#39;")
			default:
				b.WriteRune(r)
			}
		}
	}
	at := start
	for _, s := range spans {
		write(text[at:s.start])
		if space && b.Len() > 0 {
			b.WriteByte(' ')
			space = false
		}
		b.WriteString("<mark>")
		write(text[s.start:s.end])
		b.WriteString("</mark>")
		at = s.end
	}
	write(text[at:end])
	out := strings.TrimSpace(b.String())
	if out == "" || out == "…" {
		return ""
	}
	if end < len(text) && strings.TrimSpace(text[end:]) != "" {
		out += "…"
	}
	return out
}
