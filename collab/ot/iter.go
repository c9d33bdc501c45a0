package ot

import "unicode/utf8"

// advance returns the byte offset n code points after byte offset pos in s,
// counting like utf8.DecodeRuneInString (each invalid byte is one code
// point). If s ends first it returns len(s) and false. pos must be a code
// point boundary.
//
// It works in blocks: the next n bytes hold at most n code points, so it
// counts the code points of a block of n bytes (cut back to the start of a
// code point) with utf8.RuneCountInString and repeats with what is left.
// Every byte that starts a code point is a boundary of decoding s, so the
// counts add up exactly, even on invalid UTF-8.
func advance(s string, pos, n int) (int, bool) {
	for n > 0 {
		if pos >= len(s) {
			return len(s), false
		}
		end := min(pos+n, len(s))
		for back := 0; back < utf8.UTFMax && end > pos && end < len(s) && !utf8.RuneStart(s[end]); back++ {
			end--
		}
		if end > pos && (end == len(s) || utf8.RuneStart(s[end])) && n >= 16 {
			n -= utf8.RuneCountInString(s[pos:end])
			pos = end
			continue
		}
		// Few code points left, or no cut found: one code point.
		if s[pos] < utf8.RuneSelf {
			pos++
		} else {
			_, w := utf8.DecodeRuneInString(s[pos:])
			pos += w
		}
		n--
	}
	return pos, true
}

// appender builds an op the way the npm type's makeAppend does: no-op
// components are dropped and a component of the same kind as the last one is
// merged into it. Merged text is gathered in a buffer, so building an op
// from many small pieces stays linear.
type appender struct {
	op Op

	has     bool   // a pending last component exists
	kind    Kind   // its kind
	n       int    // skip length, or length of a numeric delete
	text    string // insert text or deleted text, while it is one piece
	buf     []byte // the text, once it has more than one piece
	textDel bool   // the pending delete carries its text
}

// push appends c to the op being built.
func (a *appender) push(c Component) {
	k := c.Kind()
	if k == KindInvalid {
		if c == (Component{}) {
			return // 0, "", {d:0} and {d:""}: no-ops
		}
		// Malformed: keep it, unmerged, so Check still sees it.
		a.flush()
		a.op = append(a.op, c)
		return
	}
	if !a.has || a.kind != k {
		a.flush()
		a.has, a.kind = true, k
		switch k {
		case KindSkip:
			a.n = c.Skip
		case KindInsert:
			a.text = c.Insert
		case KindDelete:
			a.textDel = c.DeleteText != ""
			a.text, a.n = c.DeleteText, c.Delete
		}
		return
	}
	switch k {
	case KindSkip:
		a.n += c.Skip
	case KindInsert:
		a.addText(c.Insert)
	case KindDelete:
		switch {
		case a.textDel && c.DeleteText != "":
			a.addText(c.DeleteText) // both carry text: keep it
		case a.textDel:
			// The text is lost once a numeric delete joins in.
			a.n = utf8.RuneCountInString(a.pending()) + c.Delete
			a.textDel, a.text, a.buf = false, "", nil
		default:
			a.n += c.Len()
		}
	}
}

func (a *appender) addText(s string) {
	if a.buf == nil {
		a.buf = append(make([]byte, 0, 2*(len(a.text)+len(s))), a.text...)
	}
	a.buf = append(a.buf, s...)
}

func (a *appender) pending() string {
	if a.buf != nil {
		return string(a.buf)
	}
	return a.text
}

func (a *appender) flush() {
	if !a.has {
		return
	}
	var c Component
	switch a.kind {
	case KindSkip:
		c.Skip = a.n
	case KindInsert:
		c.Insert = a.pending()
	case KindDelete:
		if a.textDel {
			c.DeleteText = a.pending()
		} else {
			c.Delete = a.n
		}
	}
	a.op = append(a.op, c)
	*a = appender{op: a.op}
}

// done returns the op built, without its trailing skip (the npm type's
// trim).
func (a *appender) done() Op {
	a.flush()
	if n := len(a.op); n > 0 && a.op[n-1].Kind() == KindSkip {
		a.op = a.op[:n-1]
	}
	return a.op
}

// copyFrom pushes the next n code points of t's op as they are. Pieces of
// kind unseen, which the op being walked does not see, are pushed whole and
// do not count towards n.
func (a *appender) copyFrom(t *taker, n int, unseen Kind) {
	for n > 0 {
		c, _ := t.take(n, unseen)
		a.push(c)
		if c.Kind() != unseen {
			n -= c.Len()
		}
	}
}

// copyRest pushes what is left of t's op.
func (a *appender) copyRest(t *taker) {
	for {
		c, ok := t.take(-1, KindInvalid)
		if !ok {
			return
		}
		a.push(c)
	}
}

// taker reads a checked op piece by piece, like the npm type's makeTake.
// Past the end of the op it yields skips forever.
type taker struct {
	op   Op
	idx  int // the component being read
	off  int // code points of it already taken
	boff int // bytes of its text already taken
	clen int // its length in code points; -1 until needed
}

func newTaker(op Op) *taker { return &taker{op: op, clen: -1} }

func (t *taker) next() {
	t.idx++
	t.off, t.boff, t.clen = 0, 0, -1
}

// length returns the length in code points of s, the text of the component
// being read, counted once per component.
func (t *taker) length(s string) int {
	if t.clen < 0 {
		t.clen = utf8.RuneCountInString(s)
	}
	return t.clen
}

// peek returns the kind of the component being read, or KindInvalid at the
// end of the op.
func (t *taker) peek() Kind {
	if t.idx == len(t.op) {
		return KindInvalid
	}
	return t.op[t.idx].Kind()
}

// take returns up to n code points from the front of the op, or the whole
// rest of the current component if n < 0. A component of kind indivisible is
// never split. At the end of the op it returns a skip of n, or false if
// n < 0.
func (t *taker) take(n int, indivisible Kind) (Component, bool) {
	if t.idx == len(t.op) {
		if n < 0 {
			return Component{}, false
		}
		return Component{Skip: n}, true
	}
	c := t.op[t.idx]
	switch c.Kind() {
	case KindSkip:
		return Component{Skip: t.count(c.Skip, n, n < 0)}, true
	case KindInsert:
		return Component{Insert: t.text(c.Insert, n, n < 0 || indivisible == KindInsert)}, true
	default: // KindDelete: the op was checked
		whole := n < 0 || indivisible == KindDelete
		if c.DeleteText == "" {
			return Component{Delete: t.count(c.Delete, n, whole)}, true
		}
		return Component{DeleteText: t.text(c.DeleteText, n, whole)}, true
	}
}

// count takes n code points of the numeric component being read, whose
// length is total, or the rest of it if whole is set or fewer are left.
func (t *taker) count(total, n int, whole bool) int {
	if whole || total-t.off <= n {
		part := total - t.off
		t.next()
		return part
	}
	t.off += n
	return n
}

// text takes n code points of s, the text of the component being read, or
// the rest of it if whole is set or fewer are left.
func (t *taker) text(s string, n int, whole bool) string {
	if whole || t.length(s)-t.off <= n {
		part := s[t.boff:]
		t.next()
		return part
	}
	end, _ := advance(s, t.boff, n)
	part := s[t.boff:end]
	t.off, t.boff = t.off+n, end
	return part
}
