package ot

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// benchDoc returns a text of about size bytes: lines of words, mostly ASCII
// with accents, CJK and emoji mixed in.
func benchDoc(size int) string {
	r := rand.New(rand.NewPCG(7, 7))
	words := []string{"the", "document", "meeting", "decision", "café", "naïve", "中文", "テスト", "😭", "🎉", "and", "of", "to"}
	var b strings.Builder
	for b.Len() < size {
		b.WriteString(words[r.IntN(len(words))])
		if r.IntN(12) == 0 {
			b.WriteByte('\n')
		} else {
			b.WriteByte(' ')
		}
	}
	return b.String()
}

// scatteredOp returns an op with n edits spread evenly over a document of
// docLen code points: inserts, numeric deletes and text deletes in turn.
func scatteredOp(doc string, n int, seed uint64) Op {
	rs := []rune(doc)
	r := rand.New(rand.NewPCG(seed, seed))
	var a appender
	pos := 0
	gap := len(rs) / (n + 1)
	for i := range n {
		skip := gap/2 + r.IntN(gap/2)
		a.push(Component{Skip: skip})
		pos += skip
		switch i % 3 {
		case 0:
			a.push(Component{Insert: "inserted ✓ "})
		case 1:
			a.push(Component{Delete: 5})
			pos += 5
		case 2:
			a.push(Component{DeleteText: string(rs[pos : pos+7])})
			pos += 7
		}
	}
	return a.done()
}

func BenchmarkApply100KB(b *testing.B) {
	doc := benchDoc(100 << 10)
	op := scatteredOp(doc, 10, 1)
	b.SetBytes(int64(len(doc)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Apply(doc, op); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkTransform100KB transforms ops over a 100 KB document that carry
// big texts: a paste of a third of it against a cut of another third, plus
// scattered edits on both sides.
func BenchmarkTransform100KB(b *testing.B) {
	doc := benchDoc(100 << 10)
	rs := []rune(doc)
	third := len(rs) / 3
	paste, err := Compose(scatteredOp(doc, 10, 1), InsertAt(len(rs)/2, string(rs[:third])))
	if err != nil {
		b.Fatal(err)
	}
	cut, err := Compose(scatteredOp(doc, 10, 2), Op{{Skip: third}, {DeleteText: string(rs[third : 2*third])}})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Transform(paste, cut, Left); err != nil {
			b.Fatal(err)
		}
		if _, err := Transform(cut, paste, Right); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCompose composes two ops of 20 edits each, as a client does with
// the edits it makes while an op is in flight.
func BenchmarkCompose(b *testing.B) {
	doc := benchDoc(10 << 10)
	a := scatteredOp(doc, 20, 1)
	mid, err := Apply(doc, a)
	if err != nil {
		b.Fatal(err)
	}
	next := scatteredOp(mid, 20, 2)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Compose(a, next); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDiff100KB diffs a 100 KB document against itself with five
// scattered edits, as a REST save of a whole new text does.
func BenchmarkDiff100KB(b *testing.B) {
	doc := benchDoc(100 << 10)
	edited, err := Apply(doc, scatteredOp(doc, 5, 3))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(doc)))
	b.ReportAllocs()
	for b.Loop() {
		d := Diff(doc, edited)
		if len(d) < 5 {
			b.Fatalf("Diff = %v", d)
		}
	}
}
