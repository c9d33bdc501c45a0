package ot

import "bytes"

// TransformRange returns where the range [start, end) of code points is
// after op, as a thread's anchor moves with the text it quotes:
//
//   - text inserted exactly at either boundary stays outside the range:
//     the start moves after text inserted at it, the end stays before text
//     inserted at it (as [TransformPosition] moves a cursor), so typing
//     right before or right after the range does not grow it, while text
//     inserted strictly inside it does;
//   - deleted text leaves the range; a boundary inside deleted text moves
//     to where the deletion was;
//   - once every character of the range is deleted the range is empty
//     (start == end), which is how a caller tells that its text is gone; an
//     empty range stays a single position that moves like a cursor and
//     never opens again.
//
// op is not checked.
func TransformRange(start, end int, op Op) (int, int) {
	if start == end {
		p := TransformPosition(start, op)
		return p, p
	}
	s, e := transformStart(start, op), TransformPosition(end, op)
	return min(s, e), e
}

// transformStart returns where the start of a range at pos is after op:
// like [TransformPosition], except that text inserted exactly at pos goes
// before it.
func transformStart(pos int, op Op) int { return movePosition(pos, op, true) }

// Shape summarises an op for moving many ranges through it: every
// position before Lead is unchanged and every position after Tail (both in
// the code points of the text before the op) moves by Delta. Most edits
// change text far from most ranges, and [Shape.TransformRange] moves those
// ranges without the op.
type Shape struct {
	Lead, Tail, Delta int
}

// ShapeOf returns the shape of op.
func ShapeOf(op Op) Shape {
	var sh Shape
	in := 0 // code points of the old text consumed so far
	first := true
	for _, c := range op {
		switch c.Kind() {
		case KindSkip:
			in += c.Skip
			continue
		case KindInsert:
			sh.Delta += c.Len()
		case KindDelete:
			n := c.Len()
			sh.Delta -= n
			in += n
		}
		if first {
			sh.Lead, first = in, false
			if c.Kind() == KindDelete {
				sh.Lead -= c.Len()
			}
		}
		sh.Tail = in
	}
	return sh
}

// TransformRange returns the range [start, end) after an op of shape sh,
// as the package's [TransformRange] would, when the range lies entirely
// before or after the text the op changes; ok is false when the op itself
// is needed.
func (sh Shape) TransformRange(start, end int) (s, e int, ok bool) {
	switch {
	case end <= sh.Lead: // an insert at end stays outside; a cursor stays before it
		return start, end, true
	case start > sh.Tail:
		return start + sh.Delta, end + sh.Delta, true
	}
	return 0, 0, false
}

// ScanShape computes the shape of the op in JSON text (as a log of ops
// already checked stores it) without decoding it: no allocation, and
// inserted text is only counted. It reports false for anything it does not
// expect; the caller then decodes the op and uses [ShapeOf]. It is not a
// validator: JSON it accepts may still be an op [Op.UnmarshalJSON]
// refuses.
func ScanShape(data []byte) (Shape, bool) {
	var sh Shape
	in, first := 0, true
	i := 0
	ws := func() {
		for i < len(data) && (data[i] == ' ' || data[i] == '\n' || data[i] == '\t' || data[i] == '\r') {
			i++
		}
	}
	num := func() (int, bool) {
		n, start := 0, i
		for i < len(data) && data[i] >= '0' && data[i] <= '9' && i-start < 10 {
			n = n*10 + int(data[i]-'0')
			i++
		}
		return n, i > start && n > 0
	}
	// str counts the code points of a JSON string.
	str := func() (int, bool) {
		i++ // the opening quote
		n := 0
		for i < len(data) {
			switch c := data[i]; {
			case c == '"':
				i++
				return n, n > 0
			case c == '\\':
				if i+1 < len(data) && data[i+1] == 'u' {
					if i+6 > len(data) {
						return 0, false
					}
					// A high surrogate and its low surrogate are one code
					// point: count the high one only.
					if h := data[i+2] | 0x20; !(h == 'd' && (data[i+3]|0x20) >= 'c' && (data[i+3]|0x20) <= 'f') {
						n++
					}
					i += 6
				} else {
					n++
					i += 2
				}
			default:
				if c&0xC0 != 0x80 {
					n++
				}
				i++
			}
		}
		return 0, false
	}
	ws()
	if i >= len(data) || data[i] != '[' {
		return sh, false
	}
	i++
	for {
		ws()
		if i >= len(data) {
			return sh, false
		}
		var kind Kind
		var n int
		var ok bool
		switch c := data[i]; {
		case c == ']':
			i++
			ws()
			return sh, i == len(data)
		case c >= '1' && c <= '9':
			kind = KindSkip
			n, ok = num()
		case c == '"':
			kind = KindInsert
			n, ok = str()
		case c == '{':
			kind = KindDelete
			i++
			ws()
			if !bytes.HasPrefix(data[i:], []byte(`"d"`)) {
				return sh, false
			}
			i += 3
			ws()
			if i >= len(data) || data[i] != ':' {
				return sh, false
			}
			i++
			ws()
			if i < len(data) && data[i] == '"' {
				n, ok = str()
			} else {
				n, ok = num()
			}
			ws()
			if i >= len(data) || data[i] != '}' {
				return sh, false
			}
			i++
		}
		if !ok {
			return sh, false
		}
		switch kind {
		case KindSkip:
			in += n
		case KindInsert:
			if first {
				sh.Lead, first = in, false
			}
			sh.Delta += n
			sh.Tail = in
		case KindDelete:
			if first {
				sh.Lead, first = in, false
			}
			in += n
			sh.Delta -= n
			sh.Tail = in
		}
		ws()
		if i < len(data) && data[i] == ',' {
			i++
		}
	}
}
