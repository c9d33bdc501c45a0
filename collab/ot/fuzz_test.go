package ot

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// byteSource hands out the bytes of a fuzz input, then zeros.
type byteSource struct {
	b []byte
	i int
}

func (s *byteSource) more() bool { return s.i < len(s.b) }

func (s *byteSource) next() int {
	if s.i >= len(s.b) {
		return 0
	}
	s.i++
	return int(s.b[s.i-1])
}

// fuzzAlphabet is what generated inserts are made of: ASCII, accents as one
// or two code points, CJK, astral emoji, a skin tone and a ZWJ.
var fuzzAlphabet = []string{"a", "b", " ", "\n", "é", "e\u0301", "中", "😭", "🏼", "\u200d"}

// fuzzDoc makes a valid document of at most 64 code points from fuzz input.
func fuzzDoc(s string) string {
	s = strings.ToValidUTF8(s, "?")
	if rs := []rune(s); len(rs) > 64 {
		s = string(rs[:64])
	}
	return s
}

// genOp builds an op that applies to doc from the bytes of src: a mix of
// skips, inserts, numeric deletes and text deletes, fixed up to pass Check
// (adjacent skips merged, no trailing skip). If normalize is false it may
// keep adjacent inserts or deletes, which Check accepts.
func genOp(src *byteSource, doc string, normalize bool) Op {
	rs := []rune(doc)
	pos := 0
	var op Op
	for steps := 0; src.more() && steps < 16; steps++ {
		left := len(rs) - pos
		switch b := src.next(); b % 4 {
		case 0:
			if n := src.next() % (left + 1); n > 0 {
				op = append(op, Component{Skip: n})
				pos += n
			}
		case 1:
			var text strings.Builder
			for range 1 + src.next()%4 {
				text.WriteString(fuzzAlphabet[src.next()%len(fuzzAlphabet)])
			}
			op = append(op, Component{Insert: text.String()})
		case 2, 3:
			if left == 0 {
				continue
			}
			n := 1 + src.next()%left
			if b%4 == 2 {
				op = append(op, Component{Delete: n})
			} else {
				op = append(op, Component{DeleteText: string(rs[pos : pos+n])})
			}
			pos += n
		}
	}
	if normalize {
		return Normalize(op)
	}
	// Merge adjacent skips and drop a trailing one; keep the rest as is.
	var out Op
	for _, c := range op {
		if l := len(out) - 1; l >= 0 && c.Kind() == KindSkip && out[l].Kind() == KindSkip {
			out[l].Skip += c.Skip
			continue
		}
		out = append(out, c)
	}
	if l := len(out) - 1; l >= 0 && out[l].Kind() == KindSkip {
		out = out[:l]
	}
	return out
}

// splitInput splits fuzz bytes in two at a position the input chooses.
func splitInput(data []byte) (*byteSource, *byteSource) {
	if len(data) == 0 {
		return &byteSource{}, &byteSource{}
	}
	cut := 1 + int(data[0])%len(data)
	return &byteSource{b: data[1:cut]}, &byteSource{b: data[cut:]}
}

func mustApply(t *testing.T, doc string, op Op) string {
	t.Helper()
	res, err := Apply(doc, op)
	if err != nil {
		t.Fatalf("Apply(%q, %v): %v", doc, op, err)
	}
	return res
}

// FuzzTransformConverges checks that two normalized ops made against the
// same document converge: b then a′ gives the same text as a then b′. It
// also checks the server rule of normalizing an op before transforming it.
func FuzzTransformConverges(f *testing.F) {
	f.Add("hello world", []byte{4, 1, 3, 1, 0, 0, 2, 1, 5, 2, 3, 0, 7})
	f.Add("😭🤸🏼\u200d♀️中文", []byte{9, 0, 2, 3, 1, 1, 2, 2, 0, 1, 1, 9, 3, 2, 2})
	f.Add("", []byte{3, 1, 0, 0, 1, 1, 5})
	f.Add("e\u0301e\u0301", []byte{2, 3, 1, 1, 3, 0, 1})
	f.Fuzz(func(t *testing.T, doc string, data []byte) {
		doc = fuzzDoc(doc)
		sa, sb := splitInput(data)
		a, b := genOp(sa, doc, true), genOp(sb, doc, true)
		a2, err := Transform(a, b, Left)
		if err != nil {
			t.Fatalf("Transform(%v, %v, Left): %v", a, b, err)
		}
		b2, err := Transform(b, a, Right)
		if err != nil {
			t.Fatalf("Transform(%v, %v, Right): %v", b, a, err)
		}
		x1 := mustApply(t, mustApply(t, doc, b), a2)
		x2 := mustApply(t, mustApply(t, doc, a), b2)
		if x1 != x2 {
			t.Fatalf("doc %q a %v b %v: b then a′ %v = %q; a then b′ %v = %q", doc, a, b, a2, x1, b2, x2)
		}
		for _, o := range []Op{a2, b2} {
			if err := Check(o); err != nil {
				t.Fatalf("Transform result %v: %v", o, err)
			}
		}

		// A client whose op is not normalized still converges with a server
		// that normalizes it on arrival (see the package doc).
		sa.i, sb.i = 0, 0
		raw := genOp(sa, doc, false)
		server, err := Transform(Normalize(raw), b, Left)
		if err != nil {
			t.Fatal(err)
		}
		client, err := Transform(b, raw, Right)
		if err != nil {
			t.Fatal(err)
		}
		x1 = mustApply(t, mustApply(t, doc, b), server)
		x2 = mustApply(t, mustApply(t, doc, raw), client)
		if x1 != x2 {
			t.Fatalf("doc %q raw %v b %v: server %q; client %q", doc, raw, b, x1, x2)
		}
	})
}

// FuzzCompose checks that Compose(a, b) does what a then b does, for ops
// that need not be normalized.
func FuzzCompose(f *testing.F) {
	f.Add("hello world", []byte{4, 1, 3, 1, 0, 0, 2, 1, 5, 2, 3, 0, 7})
	f.Add("😭🤸🏼\u200d♀️中文", []byte{9, 0, 2, 3, 1, 1, 2, 2, 0, 1, 1, 9, 3, 2, 2})
	f.Add("abc", []byte{2, 1, 1, 1, 3, 1})
	f.Fuzz(func(t *testing.T, doc string, data []byte) {
		doc = fuzzDoc(doc)
		sa, sb := splitInput(data)
		a := genOp(sa, doc, sa.next()%2 == 0)
		mid := mustApply(t, doc, a)
		b := genOp(sb, mid, sb.next()%2 == 0)
		want := mustApply(t, mid, b)
		c, err := Compose(a, b)
		if err != nil {
			t.Fatalf("Compose(%v, %v): %v", a, b, err)
		}
		if got := mustApply(t, doc, c); got != want {
			t.Fatalf("doc %q a %v b %v: Compose = %v gives %q; want %q", doc, a, b, c, got, want)
		}
		if !slices.Equal(c, Normalize(c)) {
			t.Fatalf("Compose(%v, %v) = %v; not normalized", a, b, c)
		}
		// An inverse, if there is one, undoes the composition.
		if inv, err := InvertWithDoc(c, doc); err != nil {
			t.Fatalf("InvertWithDoc(%v, %q): %v", c, doc, err)
		} else if back := mustApply(t, want, inv); back != doc {
			t.Fatalf("undo of %v = %q; want %q", c, back, doc)
		}
	})
}

// FuzzUnmarshal checks that decoding never panics, that whatever it accepts
// passes Check and is valid JSON, and that it survives a round trip.
func FuzzUnmarshal(f *testing.F) {
	for _, s := range []string{
		`[]`, `[3,"hi",{"d":2},{"d":"ab"}]`, `["\ud83d\ude2d"]`, `["\ud800"]`,
		`[1.0,"x"]`, `[1e2,"x"]`, `[{"d":1,"x":2}]`, `[0]`, `null`, "[\"\xff\"]",
		`[ 1 , "\u00e9\n" ]`, `[-1,"x"]`, `[1,2]`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var op Op
		if err := op.UnmarshalJSON(data); err != nil {
			return
		}
		if err := Check(op); err != nil {
			t.Fatalf("UnmarshalJSON(%q) = %v, which fails Check: %v", data, op, err)
		}
		if !json.Valid(data) {
			t.Fatalf("UnmarshalJSON accepted invalid JSON %q", data)
		}
		// encoding/json reads the same text the same way.
		var items []any
		if err := json.Unmarshal(data, &items); err != nil || len(items) != len(op) {
			t.Fatalf("encoding/json reads %q as %v, %v; we read %v", data, items, err, op)
		}
		out, err := op.MarshalJSON()
		if err != nil {
			t.Fatalf("MarshalJSON(%v): %v", op, err)
		}
		var again Op
		if err := again.UnmarshalJSON(out); err != nil || !slices.Equal(op, again) {
			t.Fatalf("round trip of %q: %s -> %v, %v", data, out, again, err)
		}
	})
}

// FuzzDiff checks that Diff turns old into new with a valid, normalized op
// that is a shortest edit script.
func FuzzDiff(f *testing.F) {
	f.Add("hello world", "jello worlds")
	f.Add("é", "ê")
	f.Add("😭a😭", "😭b😭")
	f.Add("", "abc")
	f.Add("abc", "")
	f.Add("the quick brown fox", "the quack brown fix")
	f.Fuzz(func(t *testing.T, old, new string) {
		if len(old) > 300 || len(new) > 300 {
			// Large texts only exercise the search budget, and slow the
			// fuzzer down a lot; TestDiffFallback covers that.
			t.Skip()
		}
		if !utf8.ValidString(old) || !utf8.ValidString(new) {
			// Still no panic and a valid op.
			if err := Check(Diff(old, new)); err != nil {
				t.Fatalf("Diff(%q, %q): %v", old, new, err)
			}
			return
		}
		d := Diff(old, new)
		checkDiff(t, old, new, d)
		a, b := []rune(old), []rune(new)
		if got, want := editCost(d), len(a)+len(b)-2*lcsLen(a, b); got != want {
			t.Fatalf("Diff(%q, %q) = %v: %d edits; want %d", old, new, d, got, want)
		}
	})
}
