package ot

import (
	"errors"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// op is a test helper that reads an op from the wire format.
func op(tb testing.TB, s string) Op {
	tb.Helper()
	var o Op
	if err := o.UnmarshalJSON([]byte(s)); err != nil {
		tb.Fatalf("op %s: %v", s, err)
	}
	return o
}

func TestComponentKind(t *testing.T) {
	for _, tc := range []struct {
		name string
		c    Component
		want Kind
		len  int
	}{
		{"skip", Component{Skip: 3}, KindSkip, 3},
		{"negative skip", Component{Skip: -1}, KindSkip, -1},
		{"insert", Component{Insert: "a😭"}, KindInsert, 2},
		{"delete", Component{Delete: 2}, KindDelete, 2},
		{"delete text", Component{DeleteText: "🤸🏼\u200d♀️"}, KindDelete, 5},
		{"empty", Component{}, KindInvalid, 0},
		{"two fields", Component{Skip: 1, Insert: "x"}, KindInvalid, 0},
		{"delete with both", Component{Delete: 1, DeleteText: "x"}, KindInvalid, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.c.Kind(); got != tc.want {
				t.Errorf("%#v.Kind() = %v; want %v", tc.c, got, tc.want)
			}
			if got := tc.c.Len(); got != tc.len {
				t.Errorf("%#v.Len() = %d; want %d", tc.c, got, tc.len)
			}
		})
	}
}

func TestCheck(t *testing.T) {
	for _, tc := range []struct {
		name string
		op   Op
		ok   bool
	}{
		{"nil", nil, true},
		{"skip insert delete", Op{{Skip: 3}, {Insert: "hi"}, {Delete: 2}}, true},
		{"adjacent inserts", Op{{Insert: "x"}, {Insert: "y"}}, true},
		{"adjacent deletes", Op{{Delete: 1}, {DeleteText: "x"}}, true},
		{"trailing skip", Op{{Insert: "x"}, {Skip: 1}}, false},
		{"only a skip", Op{{Skip: 1}}, false},
		{"adjacent skips", Op{{Skip: 1}, {Skip: 2}, {Insert: "x"}}, false},
		{"zero component", Op{{}, {Insert: "x"}}, false},
		{"negative skip", Op{{Skip: -1}, {Insert: "x"}}, false},
		{"negative delete", Op{{Delete: -2}}, false},
		{"two fields", Op{{Skip: 1, Insert: "x"}}, false},
		{"skip too long", Op{{Skip: MaxLength + 1}, {Insert: "x"}}, false},
		{"skip at max", Op{{Skip: MaxLength}, {Insert: "x"}}, true},
		{"delete too long", Op{{Delete: MaxLength + 1}}, false},
		{"invalid UTF-8 insert", Op{{Insert: "a\xffb"}}, false},
		{"surrogate bytes in delete", Op{{DeleteText: "\xed\xa0\x80"}}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := Check(tc.op)
			if got := err == nil; got != tc.ok {
				t.Fatalf("Check(%#v) = %v; want ok=%v", tc.op, err, tc.ok)
			}
			if err != nil && !errors.Is(err, ErrInvalidOp) {
				t.Fatalf("Check(%#v) = %v; want it to wrap ErrInvalidOp", tc.op, err)
			}
		})
	}
}

func TestNormalize(t *testing.T) {
	for _, tc := range []struct {
		name string
		op   Op
		want Op
	}{
		// The example of SHAREDB-NOTES.md B.2.
		{"notes example",
			Op{{}, {Insert: "a"}, {Insert: "b"}, {Skip: 1}, {}, {Skip: 2}, {Delete: 1}, {DeleteText: "x"}, {Skip: 3}},
			Op{{Insert: "ab"}, {Skip: 3}, {Delete: 2}}},
		{"text deletes stay text", Op{{DeleteText: "a"}, {DeleteText: "😭"}}, Op{{DeleteText: "a😭"}}},
		{"text then number", Op{{DeleteText: "ab"}, {Delete: 1}}, Op{{Delete: 3}}},
		{"empty", Op{{}, {Skip: 4}}, nil},
		{"malformed kept", Op{{Insert: "a"}, {Skip: 1, Insert: "b"}, {Insert: "c"}},
			Op{{Insert: "a"}, {Skip: 1, Insert: "b"}, {Insert: "c"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := slices.Clone(tc.op)
			got := Normalize(tc.op)
			if !slices.Equal(got, tc.want) {
				t.Errorf("Normalize(%v) = %v; want %v", tc.op, got, tc.want)
			}
			if !slices.Equal(in, tc.op) {
				t.Errorf("Normalize changed its input to %v", tc.op)
			}
		})
	}
}

func TestApply(t *testing.T) {
	for _, tc := range []struct {
		name string
		doc  string
		op   string
		want string
		err  error
		raw  Op // used instead of op, for ops the decoder rejects
	}{
		{"insert", "hi", `[2,"A"]`, "hiA", nil, nil},
		{"code points", "😭a", `[1,"x"]`, "😭xa", nil, nil},
		{"skin tone", "🤸🏼\u200d♀️", `[1,{"d":1}]`, "🤸\u200d♀️", nil, nil},
		{"delete text", "abc", `[1,{"d":"b"}]`, "ac", nil, nil},
		{"noop", "abc", `[]`, "abc", nil, nil},
		{"delete past end is cut", "abc", `[2,{"d":5}]`, "ab", nil, nil},
		{"skip to end", "abc", `[3,"x"]`, "abcx", nil, nil},
		{"skip past end", "abc", `[4,"x"]`, "", ErrOpTooLong, nil},
		{"delete text mismatch", "abc", `[1,{"d":"x"}]`, "", ErrDeleteMismatch, nil},
		{"delete text past end", "abc", `[2,{"d":"cd"}]`, "", ErrDeleteMismatch, nil},
		{"trailing skip", "abc", `[1,"x",1]`, "", ErrInvalidOp, Op{{Skip: 1}, {Insert: "x"}, {Skip: 1}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := tc.raw
			if o == nil {
				o = op(t, tc.op)
			}
			got, err := Apply(tc.doc, o)
			if !errors.Is(err, tc.err) || got != tc.want {
				t.Fatalf("Apply(%q, %s) = %q, %v; want %q, %v", tc.doc, tc.op, got, err, tc.want, tc.err)
			}
		})
	}
}

func TestTransform(t *testing.T) {
	for _, tc := range []struct {
		name        string
		op, other   string
		side        Side
		want        string
		errExpected bool
	}{
		{"tie left", `["a"]`, `["b"]`, Left, `["a"]`, false},
		{"tie right", `["a"]`, `["b"]`, Right, `[1,"a"]`, false},
		{"insert in deleted range", `[2,"a"]`, `[1,{"d":3}]`, Left, `[1,"a"]`, false},
		{"delete around insert", `[1,{"d":3}]`, `[2,"a"]`, Left, `[1,{"d":1},1,{"d":2}]`, false},
		{"overlapping text deletes", `[1,{"d":"bcd"}]`, `[2,{"d":3}]`, Left, `[1,{"d":"b"}]`, false},
		{"same delete", `[1,{"d":2}]`, `[1,{"d":2}]`, Right, `[]`, false},
		{"bad side", `["a"]`, `["b"]`, 0, ``, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Transform(op(t, tc.op), op(t, tc.other), tc.side)
			if tc.errExpected {
				if !errors.Is(err, ErrInvalidSide) {
					t.Fatalf("Transform = %v, %v; want ErrInvalidSide", got, err)
				}
				return
			}
			if err != nil || got.String() != tc.want {
				t.Fatalf("Transform(%s, %s, %v) = %v, %v; want %s", tc.op, tc.other, tc.side, got, err, tc.want)
			}
		})
	}
}

// TestShareDBTie replays the example of SHAREDB-NOTES.md A.5: B's insert
// commits first, A's concurrent insert is transformed as left and lands
// before it.
func TestShareDBTie(t *testing.T) {
	b := op(t, `[2,"B"]`)
	a := op(t, `[2,"A"]`)
	a2, err := Transform(a, b, Left)
	if err != nil {
		t.Fatal(err)
	}
	got, err := applyAll("hi", b, a2)
	if want := "hiAB"; err != nil || got != want {
		t.Fatalf("hi + B + A' = %q, %v; want %q", got, err, want)
	}
}

// TestTransformUnnormalizedDiverges pins down a property of the npm type
// that a server must work around: an op with adjacent inserts (which checkOp
// accepts) does not converge, because transform only moves the first insert
// ahead of the other side's insert. The same op normalized does converge, so
// a server should Normalize ops it receives before transforming them.
func TestTransformUnnormalizedDiverges(t *testing.T) {
	doc := ""
	a := Op{{Insert: "x"}, {Insert: "y"}}
	b := Op{{Insert: "s"}}
	converge := func(a Op) bool {
		a2, err1 := Transform(a, b, Left)
		b2, err2 := Transform(b, a, Right)
		x1, err3 := applyAll(doc, b, a2)
		x2, err4 := applyAll(doc, a, b2)
		if err := errors.Join(err1, err2, err3, err4); err != nil {
			t.Fatal(err)
		}
		return x1 == x2
	}
	if converge(a) {
		t.Errorf("unnormalized %v converges; the npm type does not", a)
	}
	if !converge(Normalize(a)) {
		t.Errorf("normalized %v does not converge", Normalize(a))
	}
}

func TestCompose(t *testing.T) {
	for _, tc := range []struct {
		name string
		a, b string
		want string
	}{
		{"insert then delete cancels", `["abc"]`, `[{"d":3}]`, `[]`},
		{"deletes merge", `[1,{"d":"xy"}]`, `[1,{"d":1}]`, `[1,{"d":3}]`},
		{"text deletes merge", `[1,{"d":"xy"}]`, `[1,{"d":"z"}]`, `[1,{"d":"xyz"}]`},
		{"insert inside insert", `["ac"]`, `[1,"b"]`, `["abc"]`},
		{"b past a", `[1,"x"]`, `[5,"y"]`, `[1,"x",3,"y"]`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Compose(op(t, tc.a), op(t, tc.b))
			if err != nil || got.String() != tc.want {
				t.Fatalf("Compose(%s, %s) = %v, %v; want %s", tc.a, tc.b, got, err, tc.want)
			}
		})
	}
}

func TestTransformPosition(t *testing.T) {
	for _, tc := range []struct {
		pos  int
		op   string
		want int
	}{
		{2, `[2,"xx"]`, 2},
		{2, `[1,"xx"]`, 4},
		{3, `[1,{"d":4}]`, 1},
		{3, `[1,{"d":1}]`, 2},
		{0, `["😭"]`, 0},
		{1, `["😭"]`, 2},
		{5, `[]`, 5},
	} {
		if got := TransformPosition(tc.pos, op(t, tc.op)); got != tc.want {
			t.Errorf("TransformPosition(%d, %s) = %d; want %d", tc.pos, tc.op, got, tc.want)
		}
	}
}

func TestInvert(t *testing.T) {
	doc := "a😭c"
	o := op(t, `[1,{"d":1},1,"xy"]`)
	if _, err := Invert(o); !errors.Is(err, ErrNotInvertible) {
		t.Fatalf("Invert(%v) = %v; want ErrNotInvertible", o, err)
	}
	if IsInvertible(o) {
		t.Fatalf("IsInvertible(%v) = true", o)
	}
	inv, err := InvertWithDoc(o, doc)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := inv.String(), `[1,"😭",1,{"d":"xy"}]`; got != want {
		t.Fatalf("InvertWithDoc = %s; want %s", got, want)
	}
	got, err := applyAll(doc, o, inv)
	if err != nil || got != doc {
		t.Fatalf("doc + op + inverse = %q, %v; want %q", got, err, doc)
	}
	mi, _ := MakeInvertible(o, doc)
	if got, want := StripInvertible(mi).String(), o.String(); got != want {
		t.Fatalf("StripInvertible(MakeInvertible(op)) = %s; want %s", got, want)
	}
}

func TestLengths(t *testing.T) {
	o := op(t, `[2,"😭x",{"d":3},1,{"d":"ab"}]`)
	if got, want := o.BaseLen(), 8; got != want {
		t.Errorf("BaseLen = %d; want %d", got, want)
	}
	if got, want := o.TargetLen(), 5; got != want {
		t.Errorf("TargetLen = %d; want %d", got, want)
	}
	doc := "012345ab89"
	res, err := Apply(doc, o)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := Length(res), Length(doc)-o.BaseLen()+o.TargetLen(); got != want {
		t.Errorf("Length after = %d; want %d", got, want)
	}
	if got, want := Length("🤸🏼\u200d♀️"), 5; got != want {
		t.Errorf("Length = %d; want %d", got, want)
	}
}

func TestHelpers(t *testing.T) {
	for _, tc := range []struct {
		got  Op
		want string
	}{
		{InsertAt(0, "x"), `["x"]`},
		{InsertAt(3, "x"), `[3,"x"]`},
		{InsertAt(3, ""), `[]`},
		{DeleteAt(0, 2), `[{"d":2}]`},
		{DeleteAt(1, 2), `[1,{"d":2}]`},
		{DeleteAt(1, 0), `[]`},
	} {
		if got := tc.got.String(); got != tc.want {
			t.Errorf("got %s; want %s", got, tc.want)
		}
	}
	if !(Op{}).IsNoop() || op(t, `["x"]`).IsNoop() {
		t.Error("IsNoop is wrong")
	}
	if Left.String() != "left" || Right.String() != "right" || Side(0).String() != "Side(0)" {
		t.Error("Side.String is wrong")
	}
}

// TestAdvance compares the block counting of advance with stepping one
// code point at a time, on valid and invalid UTF-8.
func TestAdvance(t *testing.T) {
	naive := func(s string, pos, n int) (int, bool) {
		for ; n > 0; n-- {
			if pos >= len(s) {
				return len(s), false
			}
			_, w := utf8.DecodeRuneInString(s[pos:])
			pos += w
		}
		return pos, true
	}
	r := rand.New(rand.NewPCG(9, 9))
	pieces := []string{"a", "bc", "é", "中", "😭", "\xff", "\x80", "\xe2\x82", "\xf0\x9f", "\xed\xa0\x80", strings.Repeat("x", 20)}
	for range 3000 {
		var b strings.Builder
		for range r.IntN(30) {
			b.WriteString(pieces[r.IntN(len(pieces))])
		}
		s := b.String()
		// Start from a decode boundary.
		pos := 0
		for range r.IntN(5) {
			pos, _ = naive(s, pos, 1)
		}
		n := r.IntN(utf8.RuneCountInString(s) + 3)
		gotPos, gotOK := advance(s, pos, n)
		wantPos, wantOK := naive(s, pos, n)
		if gotPos != wantPos || gotOK != wantOK {
			t.Fatalf("advance(%q, %d, %d) = %d, %v; want %d, %v", s, pos, n, gotPos, gotOK, wantPos, wantOK)
		}
	}
}
