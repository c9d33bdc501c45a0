// Package ot is the text operational transform type of Docket. It is a Go
// port of the npm package ot-text-unicode@4.0.0 (the ShareDB type
// "text-unicode", URI [TypeURI]), so the stock JavaScript type can be the
// client-side half and the oracle in tests.
//
// An [Op] is a list of [Component]s that walks a document from its start:
// skip N code points, insert a string, or delete N code points (optionally
// carrying the deleted text). All positions and lengths count Unicode code
// points, neither bytes nor UTF-16 units:
//
//	[3, "hi", {"d": 2}]   keep 3, insert "hi", delete 2
//	[{"d": "ab"}]         delete "ab" (2 code points) at the start
//
// [Apply], [Transform], [Compose], [TransformPosition], [Normalize] and
// [Check] follow the npm type exactly; testdata/vectors.json holds thousands
// of cases computed by the npm package and the tests replay every one. The
// deliberate differences, all stricter than the npm type, are:
//
//   - [Apply] returns [ErrDeleteMismatch] when a delete carries text that is
//     not the text of the document at that place (npm ignores the text).
//   - [Op.UnmarshalJSON] rejects what the npm type would let through or read
//     differently: components that are not a number, a string or {"d": ...},
//     numbers that are not positive integers, numbers over [MaxLength],
//     invalid UTF-8 and lone surrogate escapes such as "\ud800" (npm counts a
//     lone surrogate together with the next character; Go would turn it into
//     U+FFFD, so the counts would differ).
//   - [Check] also rejects lengths over [MaxLength] and invalid UTF-8, which
//     JavaScript strings cannot express anyway.
//   - [MakeInvertible] and [Invert] check the op first; npm does not.
//
// Like the npm type, [Apply] cuts a numeric delete short at the end of the
// document without an error, while a skip past the end is an error
// ([ErrOpTooLong]).
//
// [Transform] and [Compose] never look at a document, so they work on ops of
// any size in time linear in the size of the two ops. [Apply] walks the
// document once, in bytes, without converting it to runes. [Diff] turns a
// pair of texts into a small op, for edits that arrive as a whole new text.
// [TransformRange] moves a range of text (a thread's anchor) through an
// op, and a [Shape], which [ScanShape] reads straight from an op's JSON,
// moves the ranges far from what an op changes without decoding the op.
//
// Two rules for a server, both inherited from the npm type:
//
//   - Normalize an op as it arrives, before transforming it. [Check] (like
//     checkOp) accepts adjacent inserts such as ["x","y"], but [Transform]
//     puts only the first of them ahead of a concurrent insert at the same
//     place, so the unnormalized op does not converge with the client's view
//     while the normalized one does. The stock ShareDB client normalizes
//     before sending, so this only matters for other clients.
//   - Transform against committed ops one at a time: compose is not closed
//     under transform for this type (see the upstream NOTES.md), so
//     transforming against a composed history can give a different result.
//
// The package imports the standard library only.
package ot
