// Package synth generates a deterministic synthetic corpus of documents
// and comments for benchmarks: markdown documents with headings, lists and
// code, and short comments, over a vocabulary with a Zipf distribution
// like natural text. The same seed always gives the same corpus.
package synth

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// common are frequent English words, so that queries read naturally.
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

// syllables build the rare words of the vocabulary.
var syllables = strings.Fields(`ka ri to na me lo su vi da po ze ru fa gi ho ju le mi no pa qu ra se ti
va wo xe yu zo bra cle dri fro glu pla sto tri vex zan mor tel quin dor`)

// Generator produces documents and comments.
type Generator struct {
	rng   *rand.Rand
	zipf  *rand.Zipf
	vocab []string
}

// New returns a generator with a vocabulary of about vocab words.
func New(seed uint64, vocab int) *Generator {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	g := &Generator{rng: rng}
	seen := map[string]bool{}
	for _, w := range common {
		if !seen[w] {
			seen[w] = true
			g.vocab = append(g.vocab, w)
		}
	}
	for len(g.vocab) < vocab {
		n := 2 + rng.IntN(3)
		var b strings.Builder
		for range n {
			b.WriteString(syllables[rng.IntN(len(syllables))])
		}
		if w := b.String(); !seen[w] {
			seen[w] = true
			g.vocab = append(g.vocab, w)
		}
	}
	g.zipf = rand.NewZipf(rng, 1.07, 2, uint64(len(g.vocab)-1))
	return g
}

// Word returns one word drawn by frequency.
func (g *Generator) Word() string { return g.vocab[g.zipf.Uint64()] }

// RareWord returns a word from the rare end of the vocabulary, as a user
// looking for a specific document would type.
func (g *Generator) RareWord() string {
	return g.vocab[len(g.vocab)/10+g.rng.IntN(len(g.vocab)*9/10)]
}

// Vocabulary returns the words, most frequent first.
func (g *Generator) Vocabulary() []string { return g.vocab }

func (g *Generator) words(n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(g.Word())
	}
	return b.String()
}

func (g *Generator) sentence() string {
	s := g.words(6 + g.rng.IntN(14))
	return strings.ToUpper(s[:1]) + s[1:] + "."
}

// Title returns a document title.
func (g *Generator) Title() string {
	s := g.words(2+g.rng.IntN(4)) + " " + g.RareWord()
	return strings.ToUpper(s[:1]) + s[1:]
}

// Doc returns the markdown body of a document of about words words,
// starting with its title as a heading.
func (g *Generator) Doc(title string, words int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# %s\n\n", title)
	n := 0
	for section := 0; n < words; section++ {
		if section > 0 {
			fmt.Fprintf(&b, "## %s\n\n", g.Title())
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
			fmt.Fprintf(&b, "```go\nfunc %s() error { return nil }\n```\n\n", g.RareWord())
			n += 6
		}
	}
	return b.String()
}

// Comment returns a comment body of a few sentences.
func (g *Generator) Comment() string {
	var b strings.Builder
	for s := 0; s < 1+g.rng.IntN(3); s++ {
		if s > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(g.sentence())
	}
	return b.String()
}

// IntN returns a random int in [0, n).
func (g *Generator) IntN(n int) int { return g.rng.IntN(n) }
