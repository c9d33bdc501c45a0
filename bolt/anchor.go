package bolt

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"sort"

	docket "github.com/docket-dev/docket"
	"github.com/docket-dev/docket/collab/ot"
	bolt "go.etcd.io/bbolt"
)

// Anchors are code-point ranges [start, end) of a document's text at a
// version. Reading a thread moves its range through every op committed
// after that version:
//
//   - text inserted exactly at either boundary stays outside the range:
//     the start moves after text inserted at it, the end stays before
//     text inserted at it (as ot.TransformPosition moves a cursor), so
//     typing right before or right after the quoted text does not grow it,
//     while text inserted strictly inside it does;
//   - deleted text leaves the range; a boundary inside deleted text moves
//     to where the deletion was;
//   - once every anchored character is gone the range is empty (start ==
//     end) and stays a single position that moves like a cursor; the
//     thread is then outdated and keeps its quote.

// movedAnchor is where an anchor was last moved to, stored with the
// thread so that later reads only move it through newer ops.
type movedAnchor struct {
	Version int64 `json:"v"`
	Start   int   `json:"s"`
	End     int   `json:"e"`
}

// moveStart returns where the start of a range at pos is after op: like
// ot.TransformPosition, except that text inserted exactly at pos goes
// before it.
func moveStart(pos int, op ot.Op) int {
	at := 0
	for i := 0; i < len(op) && pos >= at; i++ {
		c := op[i]
		switch c.Kind() {
		case ot.KindSkip:
			at += c.Skip
		case ot.KindInsert:
			n := c.Len()
			at += n
			pos += n
		case ot.KindDelete:
			pos -= min(c.Len(), pos-at)
		}
	}
	return pos
}

// moveRange returns the range [start, end) after op. An empty range moves
// as one cursor.
func moveRange(start, end int, op ot.Op) (int, int) {
	if start == end {
		p := ot.TransformPosition(start, op)
		return p, p
	}
	s, e := moveStart(start, op), ot.TransformPosition(end, op)
	return min(s, e), e
}

// opShape summarises an op for moving many positions through it: every
// position before lead is unchanged and every position after tail (both
// in the coordinates of the text before the op) moves by delta.
type opShape struct {
	lead, tail, delta int
}

func shapeOf(op ot.Op) opShape {
	var sh opShape
	in := 0 // code points of the old text consumed so far
	first := true
	for _, c := range op {
		switch c.Kind() {
		case ot.KindSkip:
			in += c.Skip
			continue
		case ot.KindInsert:
			sh.delta += c.Len()
		case ot.KindDelete:
			n := c.Len()
			sh.delta -= n
			in += n
		}
		if first {
			sh.lead, first = in, false
			if c.Kind() == ot.KindDelete {
				sh.lead -= c.Len()
			}
		}
		sh.tail = in
	}
	return sh
}

// shortcut returns the range [start, end) after an op of shape sh when
// the range is entirely before or after the text the op changes, and
// false when the op itself is needed (see moveRange).
func (sh opShape) shortcut(start, end int) (int, int, bool) {
	switch {
	case end <= sh.lead: // an insert at end stays outside; a cursor stays before it
		return start, end, true
	case start > sh.tail:
		return start + sh.delta, end + sh.delta, true
	}
	return 0, 0, false
}

// opKey is the key of the op in a stored op record, which is its last field.
var opKey = []byte(`"op":`)

// recordOpJSON returns the JSON of the op of a stored op record, found
// without decoding the rest of the record, or nil if the record does not
// end with its op.
func recordOpJSON(v []byte) []byte {
	// A JSON string escapes its quotes, so `"op":` can only be the key.
	if i := bytes.LastIndex(v, opKey); i >= 0 && v[len(v)-1] == '}' {
		return v[i+len(opKey) : len(v)-1]
	}
	return nil
}

// decodeRecordOp decodes the op of a stored op record. It parses the op in
// place; anything unexpected falls back to decoding the whole record.
func decodeRecordOp(v []byte) (ot.Op, error) {
	if raw := recordOpJSON(v); raw != nil {
		var op ot.Op
		if op.UnmarshalJSON(raw) == nil {
			return op, nil
		}
	}
	var rec docket.OpRecord
	if err := json.Unmarshal(v, &rec); err != nil {
		return nil, err
	}
	var op ot.Op
	if err := json.Unmarshal(rec.Op, &op); err != nil {
		return nil, err
	}
	return op, nil
}

// scanShape computes the shape of the op in JSON text (as the op log
// stores it, already checked) without decoding it: no allocation, and
// inserted text is only counted. It reports false for anything it does
// not expect; the caller then decodes the op.
func scanShape(data []byte) (opShape, bool) {
	var sh opShape
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
		var kind ot.Kind
		var n int
		var ok bool
		switch c := data[i]; {
		case c == ']':
			i++
			ws()
			return sh, i == len(data)
		case c >= '1' && c <= '9':
			kind = ot.KindSkip
			n, ok = num()
		case c == '"':
			kind = ot.KindInsert
			n, ok = str()
		case c == '{':
			kind = ot.KindDelete
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
		case ot.KindSkip:
			in += n
		case ot.KindInsert:
			if first {
				sh.lead, first = in, false
			}
			sh.delta += n
			sh.tail = in
		case ot.KindDelete:
			if first {
				sh.lead, first = in, false
			}
			in += n
			sh.delta -= n
			sh.tail = in
		}
		ws()
		if i < len(data) && data[i] == ',' {
			i++
		}
	}
}

// anchorState is one anchor being moved.
type anchorState struct {
	from       int64 // the version the range refers to
	start, end int
	rec        *threadRecord
}

// moveAnchors moves the anchors of recs (threads of document d) to d's
// current version in one pass over the op log: each op is read once and
// moves every anchor made at or before its version. Most ops change text
// far from most anchors, so an op is only fully decoded when it touches
// an anchor; otherwise its shape, scanned from the JSON, is enough. It
// sets each record's current range and returns the records whose anchors
// moved through more than cacheAfter versions, with Moved updated, for the
// caller to store.
func moveAnchors(tx *bolt.Tx, d *docket.Document, recs []*threadRecord, cacheAfter int64) ([]*threadRecord, error) {
	var states []anchorState
	for _, rec := range recs {
		if rec.Anchor == nil {
			continue
		}
		st := anchorState{rec: rec, from: rec.Anchor.Version, start: rec.Anchor.Start, end: rec.Anchor.End}
		if m := rec.Moved; m != nil && m.Version > st.from && m.Version <= d.Version {
			st.from, st.start, st.end = m.Version, m.Start, m.End
		}
		if st.from < d.Version {
			states = append(states, st)
		}
		rec.cur = [2]int{st.start, st.end}
	}
	if len(states) == 0 {
		return nil, nil
	}
	sort.Slice(states, func(i, j int) bool { return states[i].from < states[j].from })
	ops := tx.Bucket(bucketOps).Bucket([]byte(d.ID))
	if ops == nil {
		return nil, fmt.Errorf("move anchors: document %s has no op log", d.ID)
	}
	active := 0
	c := ops.Cursor()
	for k, v := c.Seek(u64(uint64(states[0].from))); k != nil; k, v = c.Next() {
		ver := int64(binary.BigEndian.Uint64(k))
		if ver >= d.Version {
			break
		}
		for active < len(states) && states[active].from <= ver {
			active++
		}
		var op ot.Op
		sh, ok := scanShape(recordOpJSON(v))
		if !ok {
			var err error
			if op, err = decodeRecordOp(v); err != nil {
				return nil, fmt.Errorf("decode op %s@%d: %w", d.ID, ver, err)
			}
			sh = shapeOf(op)
		}
		for i := range states[:active] {
			st := &states[i]
			if s, e, ok := sh.shortcut(st.start, st.end); ok {
				st.start, st.end = s, e
			} else {
				if op == nil {
					var err error
					if op, err = decodeRecordOp(v); err != nil {
						return nil, fmt.Errorf("decode op %s@%d: %w", d.ID, ver, err)
					}
				}
				st.start, st.end = moveRange(st.start, st.end, op)
			}
		}
	}
	var dirty []*threadRecord
	for _, st := range states {
		st.rec.cur = [2]int{st.start, st.end}
		if cacheAfter >= 0 && d.Version-st.from > cacheAfter {
			st.rec.Moved = &movedAnchor{Version: d.Version, Start: st.start, End: st.end}
			dirty = append(dirty, st.rec)
		}
	}
	return dirty, nil
}
