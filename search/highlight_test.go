package search

import (
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// TestASCIIWords checks that asciiWords finds the words of ASCII text
// that the text analyzer finds, on random text made of the characters
// that the word boundary rules treat apart.
func TestASCIIWords(t *testing.T) {
	x := openIndex(t, nil)
	a := x.idx.Mapping().AnalyzerNamed(textAnalyzer)
	const chars = "aZb09_:.',;- \n\t\"()*#<>é"
	rng := rand.New(rand.NewPCG(1, 2))
	cases := []string{"don't stop", "3.14, 1,000 and 4;5", "a:b c:1 1:c", "snake_case _x_ __", "e.g. U.S.A. x.", "'quoted' a'' ''a"}
	for range 20000 {
		var b strings.Builder
		for range 1 + rng.IntN(30) {
			c := chars[rng.IntN(len(chars)-2)] // no é
			b.WriteByte(c)
		}
		cases = append(cases, b.String())
	}
	for _, s := range cases {
		var want []word
		for _, tok := range a.Analyze([]byte(s)) {
			want = append(want, word{start: tok.Start, end: tok.End, term: string(tok.Term)})
		}
		if diff := cmp.Diff(want, asciiWords(s), cmp.AllowUnexported(word{})); diff != "" {
			t.Fatalf("asciiWords(%q) (-analyzer +got):\n%s", s, diff)
		}
	}
}

// TestWordsByLines checks that words, which splits the ASCII lines of a
// text apart, finds the words that the text analyzer finds in the whole
// text, on random lines of ASCII and other characters.
func TestWordsByLines(t *testing.T) {
	x := openIndex(t, nil)
	a := x.idx.Mapping().AnalyzerNamed(textAnalyzer)
	chars := []string{"a", "Z", "b", "0", "9", "_", ":", ".", "'", ",", " ", "\n", "\n", "\r", "\t", "-", "é", "’", "—", "東", "京", "😀", "\u0301", "\u200d", "\x1e", "É"}
	rng := rand.New(rand.NewPCG(3, 4))
	cases := []string{"café\nplain line\n", "plain\nnaïve – text\n\nend", "\n\u0301x\n", "a\r\nb’c\r\n"}
	for range 20000 {
		var b strings.Builder
		for range 1 + rng.IntN(40) {
			if rng.IntN(4) == 0 {
				b.WriteString(chars[rng.IntN(len(chars))])
			} else {
				b.WriteString(chars[rng.IntN(15)]) // mostly ASCII lines
			}
		}
		cases = append(cases, b.String())
	}
	for _, s := range cases {
		want := []word{}
		for _, tok := range a.Analyze([]byte(s)) {
			want = append(want, word{start: tok.Start, end: tok.End, term: string(tok.Term)})
		}
		if diff := cmp.Diff(want, x.words(s), cmp.AllowUnexported(word{}), cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("words(%q) (-analyzer +got):\n%s", s, diff)
		}
	}
}

func TestIndexAt(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	const chars = "etzq _1"
	random := func(n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = chars[rng.IntN(len(chars))]
		}
		return string(b)
	}
	for range 50000 {
		s, w := random(rng.IntN(40)), random(1+rng.IntN(4))
		if got, want := indexAt(s, w, rarest(w)), strings.Index(s, w); got != want {
			t.Fatalf("indexAt(%q, %q, %d) = %d; want %d", s, w, rarest(w), got, want)
		}
	}
}

// TestMatchWords checks that match, which looks for one-word units in
// the ASCII lines of a text, finds what matchTokens finds from all the
// words of the text.
func TestMatchWords(t *testing.T) {
	x := openIndex(t, nil)
	rng := rand.New(rand.NewPCG(9, 10))
	chars := []string{"a", "b", "A", "B", "1", "_", ":", ".", "'", ",", ";", " ", "\n", "\n", "-", "é", "’", "Á"}
	words := []string{"a", "ab", "b1", "ba", "1", "a1b", "ab"}
	for range 50000 {
		var b strings.Builder
		for range rng.IntN(30) {
			if c := chars[rng.IntN(len(chars))]; len(c) == 1 || rng.IntN(4) == 0 {
				b.WriteString(c)
			}
		}
		var units []unit
		for range 1 + rng.IntN(3) {
			units = append(units, unit{toks: []string{words[rng.IntN(len(words))]}})
		}
		text := b.String()
		if diff := cmp.Diff(x.matchTokens(text, units), x.match(text, units), cmp.AllowUnexported(span{})); diff != "" {
			t.Fatalf("match(%q, %v) (-matchTokens +got):\n%s", text, units, diff)
		}
	}
}

func TestFragments(t *testing.T) {
	x := openIndex(t, nil)
	long := strings.Repeat("filler words here. ", 30)
	lines := strings.Repeat("A filler line of a long document.\n", 1000)
	tests := []struct {
		name, title, body, q string
		want                 []string // substrings of the joined fragments
		not                  []string
	}{
		{"word", "", "The cache is warm.", "cache", []string{"The <mark>cache</mark> is warm."}, nil},
		{"title and body", "Cache design", "How the cache works.", "cache",
			[]string{"<mark>Cache</mark> design", "How the <mark>cache</mark> works."}, nil},
		{"phrase across a line break", "", "the soft\nmemory limit is set", `"soft memory limit"`,
			[]string{"the <mark>soft memory limit</mark> is set"}, nil},
		{"phrase words apart are not marked", "", "soft and then memory limit", `"soft memory"`, nil, []string{"<mark>"}},
		{"prefix", "", "Generics and generic code", "generic*", []string{"<mark>Generics</mark> and <mark>generic</mark> code"}, nil},
		{"fuzzy", "", "a constraint here", "contraint~", []string{"a <mark>constraint</mark> here"}, nil},
		{"folded accents", "", "Le café est ouvert", "cafe", []string{"Le <mark>café</mark> est ouvert"}, nil},
		{"escaped", "", "1 < 2 && <b>x</b> escaping", "escaping", []string{"1 &lt; 2 &amp;&amp;", "<mark>escaping</mark>"}, []string{"<b>"}},
		{"cut with ellipses", "", long + "the needle is here. " + long, "needle", []string{"…", "<mark>needle</mark>"}, nil},
		{"two fragments for words apart", "", "alpha " + long + long + "omega", "alpha omega", []string{"<mark>alpha</mark>", "<mark>omega</mark>"}, nil},
		{"no match shows the start", "", "Nothing to see [link](http://x.example/gcshape).", "gcshape", []string{"Nothing to see link."}, []string{"<mark>"}},
		{"CJK phrase", "", "数据库迁移计划已经完成。", "迁移计划", []string{"数据库<mark>迁移计划</mark>已经完成"}, nil},
		{"words inside words are not marked", "", "caches and cachet", "cache", nil, []string{"<mark>"}},
		{"deep in a long document", "", lines + "The **needle** is deep.\n" + lines, "needle", []string{"The <mark>needle</mark> is deep."}, nil},
		{"the words of a long document apart", "", "Alpha first.\n" + lines + "Then omega.\n" + lines, "alpha omega",
			[]string{"<mark>Alpha</mark> first.", "<mark>omega</mark>"}, nil},
		{"in a code block of a long document", "", lines + "```\n" + lines + "x := needle * 2 * y\n```\n" + lines, "needle",
			[]string{"x := <mark>needle</mark> * 2 * y"}, nil},
		{"a phrase of a long document whose first word comes earlier", "", "Per unit.\n" + lines + "A per-iteration loop.\n" + lines, `"per-iteration loop"`,
			[]string{"A <mark>per-iteration loop</mark>."}, nil},
		{"no match in a long document shows its start", "", "Start here.\n" + lines, "gcshape", []string{"Start here."}, []string{"<mark>"}},
		{"folded accents in a long document", "", lines + "Le café est ouvert.\n" + lines, "cafe", []string{"Le <mark>café</mark> est ouvert"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			frags := x.fragments(tc.title, tc.body, x.highlightUnits(mustParse(t, tc.q)))
			got := strings.Join(frags, " | ")
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("fragments = %q; want %q in them", got, w)
				}
			}
			for _, n := range tc.not {
				if strings.Contains(got, n) {
					t.Errorf("fragments = %q; want no %q", got, n)
				}
			}
			for _, f := range frags {
				if len(f) > 3*fragmentSize {
					t.Errorf("fragment of %d bytes: %q", len(f), f)
				}
			}
		})
	}
}

func TestOneEdit(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{"abc", "abc", true}, {"abc", "abd", true}, {"abc", "ab", true}, {"abc", "xabc", true},
		{"abc", "acb", false}, {"abc", "a", false}, {"café", "cafe", true}, {"", "a", true}, {"ab", "ba", false},
	}
	for _, tc := range tests {
		if got := oneEdit(tc.a, tc.b); got != tc.want {
			t.Errorf("oneEdit(%q, %q) = %v; want %v", tc.a, tc.b, got, tc.want)
		}
	}
}

// TestDropEmphasis compares dropEmphasis and dropUnderline with the
// expressions they replace, on random text of the characters they treat
// apart.
func TestLinkText(t *testing.T) {
	image := regexp.MustCompile(`!\[([^\]]*)\]\([^)]*\)`)
	link := regexp.MustCompile(`\[([^\]]*)\]\([^)]*\)`)
	ref := regexp.MustCompile(`\[([^\]]*)\]\[[^\]]*\]`)
	chars := []string{"[", "[", "]", "]", "(", "(", ")", ")", "!", "a", " ", "é", "\xff"}
	cases := randomTexts(5, 100000, 14, chars, "", "[a](b)", "![i](x.png) and [l](u) [r][1]", "[a[b](c)", "[a](b", "!![a](b)", "[](x)[y]()")
	for _, s := range cases {
		for _, tc := range []struct {
			re          *regexp.Regexp
			image       bool
			open, close byte
		}{{image, true, '(', ')'}, {link, false, '(', ')'}, {ref, false, '[', ']'}} {
			if got, want := linkText(s, tc.image, tc.open, tc.close), tc.re.ReplaceAllString(s, "$1"); got != want {
				t.Fatalf("linkText(%q, %v, %c) = %q; want %q", s, tc.image, tc.open, got, want)
			}
		}
	}
}

func TestDropEmphasis(t *testing.T) {
	emphasis := regexp.MustCompile("\\*+|`+|~~+")
	underline := regexp.MustCompile(`(^|[^\p{L}\p{N}])_+|_+([^\p{L}\p{N}]|$)`)
	chars := []string{"a", "1", "_", "_", "_", " ", "*", "`", "~", "~", "é", "٣", ".", "\xff", "\x82", "\xe2\x82"}
	cases := randomTexts(3, 100000, 16, chars, "", "_", "__a", "a__b", "a_b", "x___", "_a_", "snake_case _x_ __", "**bold** `code` ~~gone~~ ~one")
	for _, s := range cases {
		if got, want := dropEmphasis(s), emphasis.ReplaceAllString(s, ""); got != want {
			t.Fatalf("dropEmphasis(%q) = %q; want %q", s, got, want)
		}
		if got, want := dropUnderline(s), underline.ReplaceAllString(s, "$1$2"); got != want {
			t.Fatalf("dropUnderline(%q) = %q; want %q", s, got, want)
		}
	}
}

// randomTexts returns cases and n texts of up to maxLen pieces of chars
// each, drawn from a generator seeded with seed.
func randomTexts(seed uint64, n, maxLen int, chars []string, cases ...string) []string {
	rng := rand.New(rand.NewPCG(seed, seed+1))
	for range n {
		var b strings.Builder
		for range rng.IntN(maxLen) {
			b.WriteString(chars[rng.IntN(len(chars))])
		}
		cases = append(cases, b.String())
	}
	return cases
}
