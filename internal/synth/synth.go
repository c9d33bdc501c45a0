// Package synth generates a deterministic synthetic corpus of documents
// and comments for benchmarks: RFC-like markdown documents of 1 to 3 KB
// (or of lengths drawn from a real corpus) with headings, lists and code, and comments of a sentence or three, over
// a vocabulary with a Zipf distribution like natural text.
//
// Every item is generated from its own seed, so item i is the same
// whatever was generated before it: a benchmark can build the index in
// any order and read an item's text back (as storage would) without
// keeping the corpus in memory.
package synth

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// common are frequent English words, so that text and queries read
// naturally. The first ones are function words that no one searches for.
var common = strings.Fields(`the of and to a in is that for it as with be on not this by are or
from at an but have was can we which will if all would there their one has more
when what use so about new only other should may then these than also into some
could them time how any most such make like after first because way where each
need two over just must been does data code design change proposal type value
function package error interface module version build test memory runtime
compiler garbage collector channel goroutine server client request response cache
index search query storage document review decision owner deadline concern
approve release migration schema backup restore latency throughput network
`)

// Stopwords is the number of function words at the head of the
// vocabulary: titles and queries skip them.
const Stopwords = 50

// syllables build the rare words of the vocabulary.
var syllables = strings.Fields(`ka ri to na me lo su vi da po ze ru fa gi ho ju le mi no pa qu ra se ti
va wo xe yu zo bra cle dri fro glu pla sto tri vex zan mor tel quin dor`)

// Corpus generates documents, comments and queries.
type Corpus struct {
	seed    uint64
	vocab   []string
	lengths []int // of documents, in bytes, to draw from; nil for 150-450 words
}

// Lengths of documents drawn by [Corpus.DrawLengths] are clamped to this
// range, in bytes.
const (
	MinLength = 2 << 10
	MaxLength = 60 << 10
)

// DrawLengths makes the documents of c as long as lengths drawn from
// these (in bytes, such as those of a real corpus), clamped to
// MinLength..MaxLength, instead of 150 to 450 words. It must be called
// before the first document is generated.
func (c *Corpus) DrawLengths(lengths []int) {
	c.lengths = nil
	for _, n := range lengths {
		c.lengths = append(c.lengths, min(max(n, MinLength), MaxLength))
	}
}

// New returns a corpus of the given seed with a vocabulary of vocab
// words (at least a few hundred).
func New(seed uint64, vocab int) *Corpus {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	c := &Corpus{seed: seed}
	seen := map[string]bool{}
	for _, w := range common {
		if !seen[w] {
			seen[w] = true
			c.vocab = append(c.vocab, w)
		}
	}
	for len(c.vocab) < vocab {
		n := 2 + rng.IntN(3)
		var b strings.Builder
		for range n {
			b.WriteString(syllables[rng.IntN(len(syllables))])
		}
		if w := b.String(); !seen[w] {
			seen[w] = true
			c.vocab = append(c.vocab, w)
		}
	}
	return c
}

// Vocabulary returns the words, most frequent first.
func (c *Corpus) Vocabulary() []string { return c.vocab }

// gen draws the words of one item.
type gen struct {
	c       *Corpus
	rng     *rand.Rand
	zipf    *rand.Zipf // the whole vocabulary
	content *rand.Zipf // without the stopwords
}

// Kinds of items, so that document i and comment i differ.
const (
	kindDoc uint64 = iota + 1
	kindComment
	kindQuery
)

func (c *Corpus) gen(kind uint64, i int) *gen {
	rng := rand.New(rand.NewPCG(c.seed^kind<<56, uint64(i)))
	return &gen{
		c:       c,
		rng:     rng,
		zipf:    rand.NewZipf(rng, 1.07, 2, uint64(len(c.vocab)-1)),
		content: rand.NewZipf(rng, 1.07, 8, uint64(len(c.vocab)-1-Stopwords)),
	}
}

func (g *gen) word() string        { return g.c.vocab[g.zipf.Uint64()] }
func (g *gen) contentWord() string { return g.c.vocab[Stopwords+int(g.content.Uint64())] }

// rareWord returns a word from the rare end of the vocabulary, such as a
// project's code name.
func (g *gen) rareWord() string {
	n := len(g.c.vocab)
	return g.c.vocab[n/10+g.rng.IntN(n*9/10)]
}

func (g *gen) words(n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(g.word())
	}
	return b.String()
}

func (g *gen) sentence() string {
	s := g.words(6 + g.rng.IntN(14))
	return strings.ToUpper(s[:1]) + s[1:] + "."
}

// title is a few content words and a rare one: "Garbage collector
// pacing for zanfrolo".
func (g *gen) title() string {
	var b strings.Builder
	for i := range 2 + g.rng.IntN(3) {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(g.contentWord())
	}
	b.WriteByte(' ')
	b.WriteString(g.rareWord())
	s := b.String()
	return strings.ToUpper(s[:1]) + s[1:]
}

// Doc returns document i: its title and its markdown body of 150 to 450
// words (1 to 3 KB), or of a length drawn from those given to
// [Corpus.DrawLengths], starting with the title as a heading.
func (c *Corpus) Doc(i int) (title, body string) {
	g := c.gen(kindDoc, i)
	title = g.title()
	words := 150 + g.rng.IntN(300)
	var b strings.Builder
	if c.lengths != nil {
		size := c.lengths[g.rng.IntN(len(c.lengths))]
		words = size * 4 / 27 // about 6.75 bytes a word, as counted below
		b.Grow(size + 256)
	}
	fmt.Fprintf(&b, "# %s\n\n", title)
	n := 0
	for section := 0; n < words; section++ {
		if section > 0 {
			fmt.Fprintf(&b, "## %s\n\n", g.title())
		}
		for p := 0; p < 1+g.rng.IntN(3) && n < words; p++ {
			for s := 0; s < 2+g.rng.IntN(4); s++ {
				st := g.sentence()
				n += strings.Count(st, " ") + 1
				b.WriteString(st)
				b.WriteByte(' ')
			}
			b.WriteString("\n\n")
		}
		switch g.rng.IntN(4) {
		case 0:
			for range 2 + g.rng.IntN(4) {
				fmt.Fprintf(&b, "- %s\n", g.words(3+g.rng.IntN(8)))
				n += 6
			}
			b.WriteByte('\n')
		case 1:
			fmt.Fprintf(&b, "```go\nfunc %s() error { return nil }\n```\n\n", g.rareWord())
			n += 6
		}
	}
	return title, b.String()
}

// Comment returns comment i on a corpus of docs documents: the document
// it is on and its body of one to three sentences (about 150 bytes).
func (c *Corpus) Comment(i, docs int) (doc int, body string) {
	g := c.gen(kindComment, i)
	doc = g.rng.IntN(docs)
	var b strings.Builder
	for s := 0; s < 1+g.rng.IntN(3); s++ {
		if s > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(g.sentence())
	}
	return doc, b.String()
}

// Queries returns n two-word queries over a corpus of docs documents, as
// people type them to find a document they have read: two words of the
// same document, never function words. Even queries take both words
// among the 1,000 most frequent (broad queries with many hits, such as
// "cache latency"); odd ones take at least one rarer word (narrow
// queries with a few hits).
func (c *Corpus) Queries(n, docs int) []string {
	rank := make(map[string]int, len(c.vocab))
	for i, w := range c.vocab {
		rank[w] = i
	}
	out := make([]string, 0, n)
	for i := 0; len(out) < n; i++ {
		g := c.gen(kindQuery, i)
		_, body := c.Doc(g.rng.IntN(docs))
		var frequent, rarer []string
		for _, w := range strings.FieldsFunc(strings.ToLower(body), func(r rune) bool {
			return !('a' <= r && r <= 'z')
		}) {
			switch r, ok := rank[w]; {
			case !ok || r < Stopwords:
			case r < 1000:
				frequent = append(frequent, w)
			default:
				rarer = append(rarer, w)
			}
		}
		var a, b string
		if len(out)%2 == 0 {
			if len(frequent) < 2 {
				continue
			}
			a, b = frequent[g.rng.IntN(len(frequent))], frequent[g.rng.IntN(len(frequent))]
		} else {
			if len(frequent) == 0 || len(rarer) == 0 {
				continue
			}
			a, b = frequent[g.rng.IntN(len(frequent))], rarer[g.rng.IntN(len(rarer))]
		}
		if a == b {
			continue
		}
		out = append(out, a+" "+b)
	}
	return out
}

// Prefixes returns n title prefixes as people type them to find a
// document by its title: the first three letters of a word of a title,
// or a whole word and the start of the next one.
func (c *Corpus) Prefixes(n, docs int) []string {
	out := make([]string, 0, n)
	for i := 0; len(out) < n; i++ {
		g := c.gen(kindQuery, -1-i)
		title, _ := c.Doc(g.rng.IntN(docs))
		words := strings.Fields(strings.ToLower(title))
		k := g.rng.IntN(len(words))
		switch {
		case i%2 == 1 && k+1 < len(words):
			next := words[k+1]
			out = append(out, words[k]+" "+next[:min(2, len(next))])
		default:
			out = append(out, words[k][:min(3, len(words[k]))])
		}
	}
	return out
}
