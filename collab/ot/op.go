package ot

import (
	"errors"
	"fmt"
	"unicode/utf8"
)

// Names of the type in the ShareDB protocol. Snapshots and replies carry the
// URI; a create may use either.
const (
	// TypeName is the registered name of the type.
	TypeName = "text-unicode"
	// TypeURI is the URI of the type, used in snapshots and create ops.
	TypeURI = "http://sharejs.org/types/text-unicode"
)

// MaxLength is the largest skip or delete length [Check] accepts, in code
// points. It keeps every sum of lengths far from integer overflow; no real
// document comes close to it.
const MaxLength = 1<<31 - 1

// Errors returned by this package. Errors from [Check] and
// [Op.UnmarshalJSON] wrap [ErrInvalidOp] and say what is wrong; test them
// with errors.Is.
var (
	// ErrInvalidOp means the op is malformed: see [Check].
	ErrInvalidOp = errors.New("ot: invalid op")
	// ErrOpTooLong means a skip of the op runs past the end of the document.
	// The npm type says "The op is too long for this document".
	ErrOpTooLong = errors.New("ot: the op is too long for this document")
	// ErrDeleteMismatch means a delete carries text that is not the text of
	// the document at that place.
	ErrDeleteMismatch = errors.New("ot: deleted text does not match the document")
	// ErrNotInvertible means the op has a delete without its text, so it
	// cannot be inverted. [MakeInvertible] adds the text.
	ErrNotInvertible = errors.New("ot: op cannot be inverted: a delete has no text")
	// ErrInvalidSide means a [Side] other than [Left] or [Right].
	ErrInvalidSide = errors.New("ot: side must be Left or Right")
)

// Kind says what a [Component] does.
type Kind uint8

// Kinds of components. KindInvalid is a component with no field set, or
// with fields of more than one kind set.
const (
	KindInvalid Kind = iota
	KindSkip
	KindInsert
	KindDelete
)

// String returns the name of the kind.
func (k Kind) String() string {
	switch k {
	case KindSkip:
		return "skip"
	case KindInsert:
		return "insert"
	case KindDelete:
		return "delete"
	}
	return "invalid"
}

// Component is one step of an [Op]. Exactly one field is set:
//
//   - Skip > 0 keeps Skip code points of the document (JSON: a number),
//   - Insert != "" inserts the text (JSON: a string),
//   - Delete > 0 deletes Delete code points (JSON: {"d": N}),
//   - DeleteText != "" deletes as many code points as DeleteText has and
//     records the deleted text, so the op can be inverted (JSON: {"d": "s"}).
//
// A Component with no field set is a no-op that [Normalize] drops and
// [Check] rejects, like 0 or "" in the npm type.
type Component struct {
	Skip       int
	Insert     string
	Delete     int
	DeleteText string
}

// Kind returns what c does, or KindInvalid if c sets no field or more than
// one. A negative Skip or Delete still has its kind; [Check] rejects it.
func (c Component) Kind() Kind {
	k, n := KindInvalid, 0
	if c.Skip != 0 {
		k, n = KindSkip, n+1
	}
	if c.Insert != "" {
		k, n = KindInsert, n+1
	}
	if c.Delete != 0 {
		k, n = KindDelete, n+1
	}
	if c.DeleteText != "" {
		k, n = KindDelete, n+1
	}
	if n != 1 {
		return KindInvalid
	}
	return k
}

// Len returns the length of c in code points: the skip or delete length, or
// the number of code points of the inserted or deleted text. It is 0 for an
// invalid component.
func (c Component) Len() int {
	switch c.Kind() {
	case KindSkip:
		return c.Skip
	case KindInsert:
		return utf8.RuneCountInString(c.Insert)
	case KindDelete:
		if c.DeleteText != "" {
			return utf8.RuneCountInString(c.DeleteText)
		}
		return c.Delete
	}
	return 0
}

// Op is a text operation: a list of components that walks the document from
// its start. Whatever the op does not reach is kept. The empty op is a
// no-op; it may be nil.
type Op []Component

// IsNoop reports whether op does nothing, which for a valid op means it has
// no components (the npm type's isNoop).
func (op Op) IsNoop() bool { return len(op) == 0 }

// BaseLen returns the number of code points of the original document that
// op walks over: its skips and deletes. [Apply] needs a document at least
// this long, apart from numeric deletes, which it cuts short.
func (op Op) BaseLen() int { return op.lenWith(KindDelete) }

// TargetLen returns the number of code points that the part of the document
// op walks over has afterwards: its skips and inserts. A document of length L
// >= BaseLen has length L - BaseLen + TargetLen after the op.
func (op Op) TargetLen() int { return op.lenWith(KindInsert) }

// lenWith returns the length of op's skips and of its components of kind k.
func (op Op) lenWith(k Kind) int {
	n := 0
	for _, c := range op {
		if ck := c.Kind(); ck == KindSkip || ck == k {
			n += c.Len()
		}
	}
	return n
}

// String returns op in its JSON form, for messages and tests.
func (op Op) String() string {
	b, err := op.MarshalJSON()
	if err != nil {
		return fmt.Sprintf("%#v", []Component(op))
	}
	return string(b)
}

// Length returns the length of s in code points, the unit of every position
// and length in this package. Each byte of invalid UTF-8 counts as one.
func Length(s string) int { return utf8.RuneCountInString(s) }

// InsertAt returns the op that inserts text at code point pos, like the npm
// module's insert helper.
func InsertAt(pos int, text string) Op {
	switch {
	case text == "":
		return Op{}
	case pos == 0:
		return Op{{Insert: text}}
	}
	return Op{{Skip: pos}, {Insert: text}}
}

// DeleteAt returns the op that deletes n code points at code point pos, like
// the npm module's remove helper.
func DeleteAt(pos, n int) Op {
	switch {
	case n == 0:
		return Op{}
	case pos == 0:
		return Op{{Delete: n}}
	}
	return Op{{Skip: pos}, {Delete: n}}
}

// Check reports whether op is well formed, as the npm type's checkOp does,
// and returns an error wrapping [ErrInvalidOp] if not. It rejects:
//
//   - a component that sets no field or more than one (0, "", {d:0}, {d:""}
//     in JSON),
//   - a skip or delete length <= 0 or > [MaxLength],
//   - two adjacent skips, which should have been combined,
//   - a trailing skip,
//   - text that is not valid UTF-8.
//
// Like checkOp it accepts adjacent inserts and adjacent deletes; [Normalize]
// merges them. Check does not look at any document.
func Check(op Op) error {
	last := KindInvalid
	for i, c := range op {
		k := c.Kind()
		switch k {
		case KindInvalid:
			if c == (Component{}) {
				return invalidf("component %d is empty", i)
			}
			return invalidf("component %d sets more than one field", i)
		case KindSkip:
			if c.Skip <= 0 {
				return invalidf("component %d: skip must be > 0", i)
			}
			if c.Skip > MaxLength {
				return invalidf("component %d: skip is longer than %d", i, MaxLength)
			}
			if last == KindSkip {
				return invalidf("component %d: adjacent skips should be combined", i)
			}
		case KindInsert:
			if !utf8.ValidString(c.Insert) {
				return invalidf("component %d: insert is not valid UTF-8", i)
			}
		case KindDelete:
			if c.DeleteText != "" {
				if !utf8.ValidString(c.DeleteText) {
					return invalidf("component %d: deleted text is not valid UTF-8", i)
				}
			} else if c.Delete <= 0 {
				return invalidf("component %d: delete must be > 0", i)
			} else if c.Delete > MaxLength {
				return invalidf("component %d: delete is longer than %d", i, MaxLength)
			}
		}
		last = k
	}
	if last == KindSkip {
		return invalidf("op has a trailing skip")
	}
	return nil
}

func invalidf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidOp, fmt.Sprintf(format, args...))
}

// Normalize returns op in its shortest form, as the npm type's normalize
// does: empty components are dropped, neighbours of the same kind are merged
// (two text deletes stay a text delete; a numeric delete next to a text
// delete becomes numeric and the text is lost) and a trailing skip is
// removed. It does not check op and never changes it; components that set
// more than one field are kept as they are, so [Check] still rejects them.
func Normalize(op Op) Op {
	var a appender
	for _, c := range op {
		a.push(c)
	}
	return a.done()
}

// IsInvertible reports whether every delete of op carries its text, so that
// [Invert] works.
func IsInvertible(op Op) bool {
	for _, c := range op {
		if c.Kind() == KindDelete && c.DeleteText == "" {
			return false
		}
	}
	return true
}

// StripInvertible returns op with the text of its deletes dropped, keeping
// their lengths. The result is normalized.
func StripInvertible(op Op) Op {
	var a appender
	for _, c := range op {
		if c.Kind() == KindDelete && c.DeleteText != "" {
			c = Component{Delete: utf8.RuneCountInString(c.DeleteText)}
		}
		a.push(c)
	}
	return a.done()
}

// Invert returns the op that undoes op: inserts become text deletes and text
// deletes become inserts. It returns [ErrNotInvertible] if a delete has no
// text; use [MakeInvertible] or [InvertWithDoc] first. The result is
// normalized.
func Invert(op Op) (Op, error) {
	if err := Check(op); err != nil {
		return nil, err
	}
	var a appender
	for _, c := range op {
		switch c.Kind() {
		case KindInsert:
			c = Component{DeleteText: c.Insert}
		case KindDelete:
			if c.DeleteText == "" {
				return nil, ErrNotInvertible
			}
			c = Component{Insert: c.DeleteText}
		}
		a.push(c)
	}
	return a.done(), nil
}

// MakeInvertible returns op with the text of every numeric delete filled in
// from doc, the document op applies to. Like the npm type it does not check
// that op fits doc: a delete past the end gets the text that is there,
// possibly none. The result is normalized.
func MakeInvertible(op Op, doc string) (Op, error) {
	if err := Check(op); err != nil {
		return nil, err
	}
	var a appender
	at := 0 // byte offset in doc of the walk, stopped at the end of doc
	for _, c := range op {
		switch c.Kind() {
		case KindSkip:
			at, _ = advance(doc, at, c.Skip)
		case KindDelete:
			n := c.Len()
			end, _ := advance(doc, at, n)
			if c.DeleteText == "" {
				c = Component{DeleteText: doc[at:end]}
			}
			at = end
		}
		a.push(c)
	}
	return a.done(), nil
}

// InvertWithDoc returns the op that undoes op, which applies to doc: the
// same as [Invert] of [MakeInvertible].
func InvertWithDoc(op Op, doc string) (Op, error) {
	inv, err := MakeInvertible(op, doc)
	if err != nil {
		return nil, err
	}
	return Invert(inv)
}
