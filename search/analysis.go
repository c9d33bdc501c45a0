package search

import (
	"bytes"
	"hash/fnv"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2/analysis"
	unicodetok "github.com/blevesearch/bleve/v2/analysis/tokenizer/unicode"
	"github.com/blevesearch/bleve/v2/registry"
	"golang.org/x/text/unicode/norm"
)

// Names of the analysis components registered by this package.
const (
	// textAnalyzer analyses queries and the text that fragments are
	// made of.
	textAnalyzer = "docket_text"
	// indexAnalyzer is textAnalyzer without token offsets, for the
	// indexed text fields.
	indexAnalyzer   = "docket_index"
	textTokenizer   = "docket_tokenizer"
	foldFilter      = "docket_fold"
	noOffsetsFilter = "docket_no_offsets"
	// pairsAnalyzer makes the word pairs of the pairs field.
	pairsAnalyzer = "docket_pairs"
	pairsFilter   = "docket_pairs"
)

func init() {
	registry.RegisterTokenizer(textTokenizer, func(map[string]any, *registry.Cache) (analysis.Tokenizer, error) {
		return tokenizer{unicodetok.NewUnicodeTokenizer()}, nil
	})
	registry.RegisterTokenFilter(foldFilter, func(map[string]any, *registry.Cache) (analysis.TokenFilter, error) {
		return foldTokenFilter{}, nil
	})
	registry.RegisterTokenFilter(noOffsetsFilter, func(map[string]any, *registry.Cache) (analysis.TokenFilter, error) {
		return noOffsetsTokenFilter{}, nil
	})
	registry.RegisterTokenFilter(pairsFilter, func(map[string]any, *registry.Cache) (analysis.TokenFilter, error) {
		return pairsTokenFilter{}, nil
	})
}

// tokenizer is bleve's Unicode (UAX #29) word tokenizer, which makes one
// token per CJK ideograph and per kana so that phrases of them match, plus
// one token per emoji and other symbol, which it would drop.
type tokenizer struct {
	words analysis.Tokenizer
}

// Tokenize implements analysis.Tokenizer.
func (t tokenizer) Tokenize(input []byte) analysis.TokenStream {
	words := t.words.Tokenize(input)
	var symbols analysis.TokenStream
	for i := 0; i < len(input); {
		r, size := utf8.DecodeRune(input[i:])
		if unicode.Is(unicode.So, r) {
			symbols = append(symbols, &analysis.Token{
				Start: i, End: i + size, Term: input[i : i+size], Type: analysis.Single,
			})
		}
		i += size
	}
	out := words
	if len(symbols) > 0 {
		out = make(analysis.TokenStream, 0, len(words)+len(symbols))
		wi, si := 0, 0
		for wi < len(words) || si < len(symbols) {
			if si == len(symbols) || wi < len(words) && words[wi].Start < symbols[si].Start {
				out = append(out, words[wi])
				wi++
			} else {
				out = append(out, symbols[si])
				si++
			}
		}
	}
	if len(symbols) == 0 && bytes.IndexByte(input, sectionBreak) < 0 {
		return out
	}
	// Number the tokens again, leaving a gap at each section break so
	// that no phrase matches across it.
	pos, prevEnd := 0, 0
	for _, tok := range out {
		pos += 1 + bytes.Count(input[prevEnd:tok.Start], []byte{sectionBreak})
		tok.Position = pos
		prevEnd = tok.End
	}
	return out
}

// sectionBreak separates the parts of a text field that are indexed
// together but are not one text, such as the title and the body of a
// document: phrases do not match across it (the body keeps no positions,
// and phrase checks take each section apart: see itemText).
const sectionBreak = '\x1e'

// foldTokenFilter removes accents from Latin letters (é -> e), so that
// "cafe" finds "café"; other scripts keep their marks (が stays が). It
// works on tokens, not on the input text, so the offsets used by
// highlighting stay right.
type foldTokenFilter struct{}

// Filter implements analysis.TokenFilter.
func (foldTokenFilter) Filter(ts analysis.TokenStream) analysis.TokenStream {
	for _, tok := range ts {
		if !isASCII(tok.Term) {
			tok.Term = []byte(fold(string(tok.Term)))
		}
	}
	return ts
}

func isASCII(b []byte) bool {
	for _, c := range b {
		if c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// isASCIIString is isASCII of a string, without copying it.
func isASCIIString(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// fold strips the combining marks that follow Latin letters.
func fold(s string) string {
	var b strings.Builder
	latin := false
	for _, r := range norm.NFD.String(s) {
		if unicode.Is(unicode.Mn, r) {
			if latin {
				continue
			}
		} else {
			latin = unicode.Is(unicode.Latin, r)
		}
		b.WriteRune(r)
	}
	return norm.NFC.String(b.String())
}

// noOffsetsTokenFilter sets the byte offsets of tokens to zero. The index
// keeps, for every word of a field with term vectors, its position (which
// phrases need) and its offsets (which only bleve's highlighter needs);
// fragments are made from the stored text instead, so the offsets are
// zeroed to take one byte each instead of two or three.
type noOffsetsTokenFilter struct{}

// Filter implements analysis.TokenFilter.
func (noOffsetsTokenFilter) Filter(ts analysis.TokenStream) analysis.TokenStream {
	for _, tok := range ts {
		tok.Start, tok.End = 0, 0
	}
	return ts
}

// pairsTokenFilter replaces the tokens by the pairs of tokens that follow
// each other (see pair), without offsets: a phrase is looked for among
// the items that hold all its pairs (see phraseQuery).
type pairsTokenFilter struct{}

// Filter implements analysis.TokenFilter.
func (pairsTokenFilter) Filter(ts analysis.TokenStream) analysis.TokenStream {
	out := make(analysis.TokenStream, 0, len(ts))
	for i := 0; i+1 < len(ts); i++ {
		a, b := ts[i], ts[i+1]
		if b.Position != a.Position+1 {
			continue // a section break lies between them
		}
		out = append(out, &analysis.Token{
			Term: []byte(pair(string(a.Term), string(b.Term))), Position: len(out) + 1, Type: analysis.AlphaNumeric,
		})
	}
	return out
}

// pair returns the term of the pairs field of two words that follow
// each other: one of pairBuckets hashes of the two, so that the field's
// dictionary stays small (every distinct pair of words as a term made the
// index 3.5 times the raw text). Pairs that share a hash only make more
// candidates, whose positions phraseQuery checks.
func pair(a, b string) string {
	h := fnv.New64a()
	h.Write([]byte(a))
	h.Write([]byte{' '})
	h.Write([]byte(b))
	return strconv.FormatUint(h.Sum64()%pairBuckets, 36)
}

// pairBuckets is the number of distinct terms of the pairs field.
const pairBuckets = 1 << 18

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

// words returns the words of text as the text analyzer finds them.
func (x *Index) words(text string) []word {
	if isASCIIString(text) {
		return asciiWords(text)
	}
	a := x.idx.Mapping().AnalyzerNamed(textAnalyzer)
	if a == nil {
		return []word{}
	}
	var out []word
	lineRuns(text, func(from, to int, ascii bool) {
		if ascii {
			for _, w := range asciiWords(text[from:to]) {
				w.start, w.end = from+w.start, from+w.end
				out = append(out, w)
			}
			return
		}
		for _, tk := range a.Analyze([]byte(text[from:to])) {
			out = append(out, word{start: from + tk.Start, end: from + tk.End, term: string(tk.Term)})
		}
	})
	if out == nil {
		out = []word{}
	}
	return out
}

// lineRuns calls f with each run of the lines of text that are all ASCII
// or all not, in order, lines with their line feeds. No word goes on
// across a line feed (UAX #29 breaks before and after one), so the words
// of each run can be found apart, and the ASCII ones several times
// faster than by the analyzer.
func lineRuns(text string, f func(from, to int, ascii bool)) {
	run, runASCII := 0, false // the run so far: text[run:at]
	for at := 0; at < len(text); {
		end := len(text)
		if i := strings.IndexByte(text[at:], '\n'); i >= 0 {
			end = at + i + 1
		}
		ascii := isASCIIString(text[at:end])
		if ascii != runASCII && run < at {
			f(run, at, runASCII)
			run = at
		}
		runASCII, at = ascii, end
	}
	if run < len(text) {
		f(run, len(text), runASCII)
	}
}

// word is a token of a text: its bytes and its term.
type word struct {
	start, end int
	term       string
}

// asciiWords returns the words of an ASCII text as the text analyzer
// finds them (the word boundaries of Unicode's UAX #29, lower-cased),
// several times faster. TestASCIIWords compares the two.
func asciiWords(s string) []word {
	out := make([]word, 0, len(s)/8+1)
	for i := 0; i < len(s); {
		j := i + 1
		for j < len(s) && (inWord[s[j-1]] && inWord[s[j]] || joins(s, j)) {
			j++
		}
		if inWord[s[i]] {
			out = append(out, word{start: i, end: j, term: strings.ToLower(s[i:j])})
		}
		i = j
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// joins reports whether the words of an ASCII text s go on across the
// boundary before s[i], by the word boundary rules of UAX #29 that apply
// to ASCII text; false at its start and end.
func joins(s string, i int) bool {
	class := func(i int) byte {
		if uint(i) >= uint(len(s)) {
			return 0
		}
		return asciiClass[s[i]]
	}
	if i <= 0 || i >= len(s) {
		return false
	}
	a, b := class(i-1), class(i)
	switch {
	case (a == 'L' || a == 'N' || a == 'E') && (b == 'L' || b == 'N' || b == 'E'):
		return true // WB5, WB8-10, WB13a-b
	case a == 'L' && (b == 'M' || b == 'Q') && class(i+1) == 'L':
		return true // WB6
	case (a == 'M' || a == 'Q') && b == 'L' && class(i-2) == 'L':
		return true // WB7
	case a == 'N' && (b == 'U' || b == 'Q') && class(i+1) == 'N':
		return true // WB12
	case (a == 'U' || a == 'Q') && b == 'N' && class(i-2) == 'N':
		return true // WB11
	}
	return false
}

// asciiClass is the class of an ASCII byte in the word boundary rules
// that asciiWords follows: L (a letter), N (a digit), E (ExtendNumLet),
// M (MidLetter), Q (MidNumLet or Single_Quote), U (MidNum), or 0.
// inWord tells the bytes of classes L, N and E, which words are made of.
var asciiClass, inWord = func() (class [256]byte, in [256]bool) {
	for c := 'a'; c <= 'z'; c++ {
		class[c], class[c-'a'+'A'] = 'L', 'L'
	}
	for c := '0'; c <= '9'; c++ {
		class[c] = 'N'
	}
	class['_'], class[':'] = 'E', 'M'
	class['.'], class['\''] = 'Q', 'Q'
	class[','], class[';'] = 'U', 'U'
	for c, k := range class {
		in[c] = k == 'L' || k == 'N' || k == 'E'
	}
	return class, in
}()
