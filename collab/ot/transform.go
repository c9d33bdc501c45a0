package ot

import (
	"fmt"
	"strings"
)

// Apply returns doc with op applied. It checks op first ([Check]). It
// returns an error wrapping [ErrOpTooLong] if a skip runs past the end of
// doc, and one wrapping [ErrDeleteMismatch] if a delete carries text that
// differs from doc at that place; the npm type does not check that text, so
// this is stricter. A numeric delete past the end of doc is cut short without
// an error, as in the npm type.
//
// Apply walks doc once, in bytes: it takes time linear in len(doc) plus the
// size of op.
func Apply(doc string, op Op) (string, error) {
	if err := Check(op); err != nil {
		return "", err
	}
	size := len(doc)
	for _, c := range op {
		size += len(c.Insert)
	}
	var b strings.Builder
	b.Grow(size)
	at := 0 // byte offset in doc
	for i, c := range op {
		switch c.Kind() {
		case KindSkip:
			end, ok := advance(doc, at, c.Skip)
			if !ok {
				return "", fmt.Errorf("%w (component %d)", ErrOpTooLong, i)
			}
			b.WriteString(doc[at:end])
			at = end
		case KindInsert:
			b.WriteString(c.Insert)
		case KindDelete:
			if c.DeleteText == "" {
				at, _ = advance(doc, at, c.Delete)
			} else if strings.HasPrefix(doc[at:], c.DeleteText) {
				at += len(c.DeleteText)
			} else {
				return "", fmt.Errorf("%w (component %d)", ErrDeleteMismatch, i)
			}
		}
	}
	b.WriteString(doc[at:])
	return b.String(), nil
}

// Side breaks ties in [Transform] when both ops insert at the same place:
// the insert of the Left op goes first.
type Side uint8

// Sides for [Transform]. The zero Side is invalid. A ShareDB server
// transforms the incoming op as Left against each committed op.
const (
	Left Side = iota + 1
	Right
)

// String returns "left" or "right", the names the npm type uses.
func (s Side) String() string {
	switch s {
	case Left:
		return "left"
	case Right:
		return "right"
	}
	return fmt.Sprintf("Side(%d)", uint8(s))
}

// Transform returns op changed so that it applies after other, where both
// applied to the same document, as the npm type's transform(op, other,
// side) does. With side Left the insert of op goes first when both insert at
// the same place. Inserts are never split; an insert inside a range other
// deleted moves to the start of that range; a delete goes around text other
// inserted; text other already deleted is not deleted again. Both ops are
// checked. The result is normalized.
//
// For any document d the ops apply to, and a′ = Transform(a, b, Left),
// b′ = Transform(b, a, Right): Apply(Apply(d, b), a′) == Apply(Apply(d, a), b′).
func Transform(op, other Op, side Side) (Op, error) {
	if side != Left && side != Right {
		return nil, ErrInvalidSide
	}
	if err := Check(op); err != nil {
		return nil, err
	}
	if err := Check(other); err != nil {
		return nil, err
	}
	var out appender
	t := newTaker(op)
	for _, c2 := range other {
		switch c2.Kind() {
		case KindSkip:
			// Inserts of op come through without using up the skip.
			out.copyFrom(t, c2.Skip, KindInsert)
		case KindInsert:
			if side == Left && t.peek() == KindInsert {
				// The left insert goes first.
				c1, _ := t.take(-1, KindInvalid)
				out.push(c1)
			}
			// Skip the text other inserted.
			out.push(Component{Skip: c2.Len()})
		case KindDelete:
			for length := c2.Len(); length > 0; {
				c1, _ := t.take(length, KindInsert)
				switch c1.Kind() {
				case KindSkip:
					length -= c1.Skip
				case KindInsert:
					out.push(c1)
				case KindDelete:
					// Already deleted by other.
					length -= c1.Len()
				}
			}
		}
	}
	out.copyRest(t)
	return out.done(), nil
}

// Compose returns one op that has the effect of a followed by b, as the npm
// type's compose does: b applies to the document a produces. Text that a
// inserts and b deletes vanishes; deletes of both are merged (a text delete
// keeps its text only while every part of it has text). Both ops are
// checked. The result is normalized.
//
// For any document d that a applies to: Apply(d, Compose(a, b)) ==
// Apply(Apply(d, a), b).
func Compose(a, b Op) (Op, error) {
	if err := Check(a); err != nil {
		return nil, err
	}
	if err := Check(b); err != nil {
		return nil, err
	}
	var out appender
	t := newTaker(a)
	for _, c := range b {
		switch c.Kind() {
		case KindSkip:
			// Text a deleted is not in b's document: it does not use up
			// the skip.
			out.copyFrom(t, c.Skip, KindDelete)
		case KindInsert:
			out.push(c)
		case KindDelete:
			length := c.Len()
			boff := 0 // byte offset in c.DeleteText matching offset
			for offset := 0; offset < length; {
				chunk, _ := t.take(length-offset, KindDelete)
				switch chunk.Kind() {
				case KindSkip:
					// b deletes text that a kept.
					if c.DeleteText == "" {
						out.push(Component{Delete: chunk.Skip})
					} else {
						end, _ := advance(c.DeleteText, boff, chunk.Skip)
						out.push(Component{DeleteText: c.DeleteText[boff:end]})
						boff = end
					}
					offset += chunk.Skip
				case KindInsert:
					// b deletes text that a inserted: both vanish.
					n := chunk.Len()
					if c.DeleteText != "" {
						boff, _ = advance(c.DeleteText, boff, n)
					}
					offset += n
				case KindDelete:
					out.push(chunk)
				}
			}
		}
	}
	out.copyRest(t)
	return out.done(), nil
}

// TransformPosition returns where a cursor at code point pos is after op,
// as the npm type's transformPosition (and transformSelection, for each end
// of a selection) does. There is no side: an insert exactly at the cursor
// leaves the cursor before the new text. A cursor inside a deleted range
// moves to the start of the range. op is not checked.
func TransformPosition(pos int, op Op) int { return movePosition(pos, op, false) }

// movePosition moves the position pos through op. Text inserted exactly
// at pos ends up after it, or, if insertsBefore is set, before it.
func movePosition(pos int, op Op, insertsBefore bool) int {
	at := 0
	for i := 0; i < len(op) && (pos > at || insertsBefore && pos == at); i++ {
		c := op[i]
		switch c.Kind() {
		case KindSkip:
			at += c.Skip
		case KindInsert:
			n := c.Len()
			at += n
			pos += n
		case KindDelete:
			pos -= min(c.Len(), pos-at)
		}
	}
	return pos
}
