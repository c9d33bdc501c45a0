package ot

import (
	"math/rand/v2"
	"strings"
	"testing"
)

func TestDiff(t *testing.T) {
	for _, tc := range []struct {
		name     string
		old, new string
		want     string
	}{
		{"same", "abc", "abc", `[]`},
		{"both empty", "", "", `[]`},
		{"from empty", "", "abc", `["abc"]`},
		{"to empty", "abc", "", `[{"d":3}]`},
		{"insert middle", "abc", "abXc", `[2,"X"]`},
		{"insert end", "abc", "abcd", `[3,"d"]`},
		{"delete start", "abc", "bc", `[{"d":1}]`},
		{"replace", "abc", "aXc", `[1,{"d":1},"X"]`},
		{"two edits", "hello world", "jello worlds", `[{"d":1},"j",10,"s"]`},
		{"code points", "😭a😭", "😭b😭", `[1,{"d":1},"b"]`},
		// "é" and "ê" share their first byte: the prefix must not split it.
		{"shared lead byte", "é", "ê", `[{"d":1},"ê"]`},
		{"shared last bytes", "a😭", "b😭", `[{"d":1},"b"]`},
		{"combining mark", "e\u0301", "e\u0300", `[1,{"d":1},"̀"]`},
		{"middle edits", "the quick brown fox", "the quack brown fix", `[6,{"d":1},"a",10,{"d":1},"i"]`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Diff(tc.old, tc.new)
			if got.String() != tc.want {
				t.Errorf("Diff(%q, %q) = %v; want %s", tc.old, tc.new, got, tc.want)
			}
			checkDiff(t, tc.old, tc.new, got)
		})
	}
}

// checkDiff checks that d turns old into new and is valid and normalized.
func checkDiff(tb testing.TB, old, new string, d Op) {
	tb.Helper()
	if err := Check(d); err != nil {
		tb.Fatalf("Diff(%q, %q) = %v: %v", old, new, d, err)
	}
	if n := Normalize(d); n.String() != d.String() {
		tb.Fatalf("Diff(%q, %q) = %v; not normalized (%v)", old, new, d, n)
	}
	got, err := Apply(old, d)
	if err != nil || got != new {
		tb.Fatalf("Apply(%q, Diff) = %q, %v; want %q (diff %v)", old, got, err, new, d)
	}
}

// editCost returns the code points an op deletes plus those it inserts.
func editCost(op Op) int {
	n := 0
	for _, c := range op {
		if c.Kind() != KindSkip {
			n += c.Len()
		}
	}
	return n
}

// lcsLen returns the length of a longest common subsequence of a and b.
func lcsLen(a, b []rune) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for i := range a {
		for j := range b {
			switch {
			case a[i] == b[j]:
				cur[j+1] = prev[j] + 1
			case prev[j+1] >= cur[j]:
				cur[j+1] = prev[j+1]
			default:
				cur[j+1] = cur[j]
			}
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// randText returns n code points from a small alphabet, so that random
// texts share a lot.
func randText(r *rand.Rand, n int) string {
	alphabet := []string{"a", "b", "c", " ", "é", "e\u0301", "中", "😭", "🏼", "\u200d"}
	var b strings.Builder
	for range n {
		b.WriteString(alphabet[r.IntN(len(alphabet))])
	}
	return b.String()
}

// TestDiffRandom checks Diff on random pairs, and that the script is a
// shortest one: the edits equal len(a) + len(b) - 2 LCS(a, b).
func TestDiffRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 2000 {
		old := randText(r, r.IntN(40))
		new := old
		switch i % 3 {
		case 0:
			new = randText(r, r.IntN(40))
		default: // a few edits of old
			for range 1 + r.IntN(4) {
				rs := []rune(new)
				at := r.IntN(len(rs) + 1)
				cut := min(len(rs)-at, r.IntN(4))
				new = string(rs[:at]) + randText(r, r.IntN(4)) + string(rs[at+cut:])
			}
		}
		d := Diff(old, new)
		checkDiff(t, old, new, d)
		a, b := []rune(old), []rune(new)
		if got, want := editCost(d), len(a)+len(b)-2*lcsLen(a, b); got != want {
			t.Fatalf("Diff(%q, %q) = %v edits %d; want %d", old, new, d, got, want)
		}
	}
}

// TestDiffFallback checks a middle too different for the edit budget: the
// op replaces the whole middle and is still right.
func TestDiffFallback(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	old := "start " + strings.Repeat("ab", 2000) + " end"
	new := "start " + randText(r, 4000) + " end"
	d := Diff(old, new)
	checkDiff(t, old, new, d)
	// Only the common prefix and suffix are kept (a code point or two of
	// the random text may match them).
	if len(d) != 3 || d[0].Skip < 6 || d[1].Delete < 3990 || d[2].Kind() != KindInsert {
		t.Fatalf("Diff = %.60s...; want [skip, delete, insert]", d)
	}
}

// TestDiffInvalidUTF8 checks that Diff stays valid on invalid input: each
// bad byte of new becomes U+FFFD.
func TestDiffInvalidUTF8(t *testing.T) {
	for _, tc := range []struct{ old, new, want string }{
		{"a\xffb", "a\xfeb", "a\uFFFDb"},
		{"", "\xe2\x82", "\uFFFD\uFFFD"},
		{"\xe2\x82x", "\xe2\x82y", "\xe2\x82y"},
		{"x\xe2\x82", "é\xe2\x82", "é\xe2\x82"},
	} {
		d := Diff(tc.old, tc.new)
		if err := Check(d); err != nil {
			t.Fatalf("Diff(%q, %q) = %v: %v", tc.old, tc.new, d, err)
		}
		got, err := Apply(tc.old, d)
		if err != nil || got != tc.want {
			t.Errorf("Apply(%q, Diff(%q, %q)) = %q, %v; want %q", tc.old, tc.old, tc.new, got, err, tc.want)
		}
	}
}
