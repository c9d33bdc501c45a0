package bolt

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"sort"

	docket "github.com/docket-dev/docket"
	"github.com/docket-dev/docket/collab/ot"
	"github.com/docket-dev/docket/kv"
)

// Anchors are code-point ranges [start, end) of a document's text at a
// version. Reading a thread moves its range through every op committed
// after that version with ot.TransformRange, which keeps text typed at a
// boundary outside the range and empties the range once every anchored
// character is gone; the thread is then outdated and keeps its quote.

// movedAnchor is where an anchor was last moved to, stored with the
// thread so that later reads only move it through newer ops.
type movedAnchor struct {
	Version int64 `json:"v"`
	Start   int   `json:"s"`
	End     int   `json:"e"`
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
func moveAnchors(tx kv.Tx, d *docket.Document, recs []*threadRecord, cacheAfter int64) ([]*threadRecord, error) {
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
		sh, ok := ot.ScanShape(recordOpJSON(v))
		if !ok {
			var err error
			if op, err = decodeRecordOp(v); err != nil {
				return nil, fmt.Errorf("decode op %s@%d: %w", d.ID, ver, err)
			}
			sh = ot.ShapeOf(op)
		}
		for i := range states[:active] {
			st := &states[i]
			if s, e, ok := sh.TransformRange(st.start, st.end); ok {
				st.start, st.end = s, e
			} else {
				if op == nil {
					var err error
					if op, err = decodeRecordOp(v); err != nil {
						return nil, fmt.Errorf("decode op %s@%d: %w", d.ID, ver, err)
					}
				}
				st.start, st.end = ot.TransformRange(st.start, st.end, op)
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

// checkAnchor checks the shape of an anchor; nil is a document-level
// thread.
func checkAnchor(a *docket.Anchor) error {
	switch {
	case a == nil:
		return nil
	case a.Version < 1:
		return docket.Errorf(docket.EINVALID, "Anchor version must be 1 or more.")
	case a.Start < 0 || a.End < 0:
		return docket.Errorf(docket.EINVALID, "Anchor start and end must not be negative.")
	case a.Start >= a.End:
		return docket.Errorf(docket.EINVALID, "Anchor start must be before its end; leave the anchor out for a thread on the whole document.")
	}
	return nil
}

// quote returns the code points [start, end) of text, at most
// MaxQuoteRunes of them.
func quote(text string, start, end int) string {
	end = min(end, start+docket.MaxQuoteRunes)
	i, from := 0, len(text)
	for pos := range text {
		if i == start {
			from = pos
		}
		if i == end {
			return text[from:pos]
		}
		i++
	}
	return text[from:]
}
