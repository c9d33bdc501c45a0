package ot

import (
	"unicode/utf8"
)

// Limits of the Myers search in [Diff]. Past either, Diff replaces the whole
// changed middle instead: the op is still correct, just larger.
const (
	// diffMaxEdits is the most code points inserted plus deleted that the
	// search looks for. Memory grows with its square (4 bytes each).
	diffMaxEdits = 1000
	// diffMaxWork bounds the steps of the search (about 6 ns each), so a
	// large text with many changes costs tens of milliseconds at most.
	diffMaxWork = 1 << 24
)

// Diff returns an op that turns old into new: Apply(old, Diff(old, new)) ==
// new. It keeps the common prefix and suffix, then finds a shortest edit
// script of the middle, in code points, with the Myers algorithm, so
// concurrent edits elsewhere in the text transform cleanly against it. If
// the middle needs more than about a thousand code points of edits, or the
// search would take too long, Diff deletes the whole middle and inserts the
// new one. Deletes are numeric; use [MakeInvertible] with old to add their
// text. The result is normalized.
//
// old and new should be valid UTF-8. Otherwise the op is still valid and
// each invalid byte counts as one code point, but an invalid byte of new
// that Diff has to insert is inserted as U+FFFD, so Apply gives new with
// those bytes replaced.
func Diff(old, new string) Op {
	// Common prefix and suffix, in bytes, then moved back to a code point
	// boundary of both strings.
	p := 0
	for p < len(old) && p < len(new) && old[p] == new[p] {
		p++
	}
	for p > 0 && (!boundary(old, p) || !boundary(new, p)) {
		p--
	}
	s := 0
	for s < len(old)-p && s < len(new)-p && old[len(old)-1-s] == new[len(new)-1-s] {
		s++
	}
	for s > 0 && (!boundary(old, len(old)-s) || !boundary(new, len(new)-s)) {
		s--
	}
	a, b := old[p:len(old)-s], new[p:len(new)-s]

	var out appender
	out.push(Component{Skip: utf8.RuneCountInString(old[:p])})
	if a != "" && b != "" {
		ra, rb := runes(a), runes(b)
		if edits, ok := myers(ra, rb); ok {
			x, y := 0, 0 // positions in ra and rb
			for _, e := range edits {
				out.push(Component{Skip: e.x - x})
				x, y = e.x, e.x-x+y
				if e.del > 0 {
					out.push(Component{Delete: e.del})
				}
				if e.ins > 0 {
					out.push(Component{Insert: string(rb[y : y+e.ins])})
				}
				x, y = x+e.del, y+e.ins
			}
			return out.done()
		}
	}
	if a != "" {
		out.push(Component{Delete: utf8.RuneCountInString(a)})
	}
	if b != "" {
		out.push(Component{Insert: string(runes(b))})
	}
	return out.done()
}

// runes decodes s into code points. Each invalid byte b becomes the
// negative rune -1-b, so that it matches only the same invalid byte, and
// string() turns it into U+FFFD.
func runes(s string) []rune {
	rs := make([]rune, 0, len(s))
	for i := 0; i < len(s); {
		r, w := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && w == 1 {
			r = -1 - rune(s[i])
		}
		rs = append(rs, r)
		i += w
	}
	return rs
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// boundary reports whether byte offset i of s starts a code point (or is the
// end of s). Since every byte that starts a code point is a boundary of
// decoding s from its start, cutting there never splits one.
func boundary(s string, i int) bool {
	return i >= len(s) || utf8.RuneStart(s[i])
}

// edit is one run of changes in a Myers edit script: at position x of a,
// delete del code points and insert ins code points.
type edit struct {
	x, del, ins int
}

// myers returns a shortest edit script from a to b, as runs of changes in
// order, or false if it needs more than diffMaxEdits edits or diffMaxWork
// steps. It is the greedy forward algorithm of Myers (1986), keeping the
// frontier of every round for the walk back.
func myers(a, b []rune) ([]edit, bool) {
	n, m := len(a), len(b)
	maxD := min(n+m, diffMaxEdits)
	if abs(n-m) > maxD || n+m > 1<<30 {
		return nil, false // needs at least |n-m| edits
	}
	off := maxD + 1
	v := make([]int32, 2*maxD+3)
	// trace holds the frontier after each round d, diagonals -d..d, at
	// offset d*d: round d takes 2d+1 entries.
	var trace []int32
	work := 0
	found := -1
	for d := 0; d <= maxD && found < 0; d++ {
		for k := -d; k <= d; k += 2 {
			var x int
			if k == -d || (k != d && v[off+k-1] < v[off+k+1]) {
				x = int(v[off+k+1]) // down: insert b[y-1]
			} else {
				x = int(v[off+k-1]) + 1 // right: delete a[x-1]
			}
			y := x - k
			work++
			for x < n && y < m && a[x] == b[y] {
				x++
				y++
				work++
			}
			v[off+k] = int32(x)
			if x >= n && y >= m {
				found = d
				break
			}
		}
		if work > diffMaxWork {
			return nil, false
		}
		trace = append(trace, v[off-d:off+d+1]...)
	}
	if found < 0 {
		return nil, false
	}

	// Walk back from (n, m), collecting single edits in reverse.
	var rev []edit
	x, y := n, m
	for d := found; d > 0; d-- {
		prev := trace[(d-1)*(d-1) : d*d] // prev[k+d-1] is the frontier of diagonal k
		k := x - y
		var px, py int
		if k == -d || (k != d && prev[k-1+d-1] < prev[k+1+d-1]) {
			px = int(prev[k+1+d-1]) // came down from diagonal k+1
			py = px - (k + 1)
			rev = append(rev, edit{x: px, ins: 1})
		} else {
			px = int(prev[k-1+d-1]) // came right from diagonal k-1
			py = px - (k - 1)
			rev = append(rev, edit{x: px, del: 1})
		}
		x, y = px, py
	}

	// Merge neighbouring single edits into runs, in order.
	var edits []edit
	for i := len(rev) - 1; i >= 0; i-- {
		e := rev[i]
		if l := len(edits) - 1; l >= 0 && edits[l].x+edits[l].del == e.x {
			edits[l].del += e.del
			edits[l].ins += e.ins
			continue
		}
		edits = append(edits, e)
	}
	return edits, true
}
