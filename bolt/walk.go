package bolt

import (
	"bytes"
	"encoding/json"
	"fmt"
	"iter"

	"github.com/docket-dev/docket/kv"
)

// Most buckets besides the records themselves are indexes keyed
// prefix/rest: a document's threads under docID/threadID, a user's inbox
// under userID/seq. These walk them. What they yield is valid only in
// the transaction, and the bucket must not change during the walk.

// prefixed iterates over the entries of b whose keys start with prefix/,
// in key order, yielding the rest of each key after prefix/ and its value.
func prefixed(b kv.Bucket, prefix string) iter.Seq2[[]byte, []byte] {
	return func(yield func(rest, v []byte) bool) {
		p := []byte(prefix + "/")
		c := b.Cursor()
		for k, v := c.Seek(p); k != nil && bytes.HasPrefix(k, p); k, v = c.Next() {
			if !yield(k[len(p):], v) {
				return
			}
		}
	}
}

// decodePrefixed decodes the values of b under prefix/, in key order;
// what names them in errors.
func decodePrefixed[T any](b kv.Bucket, prefix, what string) ([]*T, error) {
	out := []*T{}
	for _, v := range prefixed(b, prefix) {
		x := new(T)
		if err := json.Unmarshal(v, x); err != nil {
			return nil, fmt.Errorf("decode %s of %s: %w", what, prefix, err)
		}
		out = append(out, x)
	}
	return out, nil
}

// appendJSON stores v in b under prefix/ and the bucket's next sequence
// number, after every entry stored there before.
func appendJSON(b kv.Bucket, prefix string, v any) error {
	n, err := b.NextSequence()
	if err != nil {
		return err
	}
	return putJSON(b, seqKey(prefix, n), v)
}

// deletePrefix deletes every entry of b under prefix/. each, if not nil,
// is called first for every entry with the rest of its key and its
// value, to delete what the entry points to.
func deletePrefix(b kv.Bucket, prefix string, each func(rest, v []byte) error) error {
	var rests, values [][]byte
	for rest, v := range prefixed(b, prefix) {
		rests, values = append(rests, bytes.Clone(rest)), append(values, bytes.Clone(v))
	}
	for i, rest := range rests {
		if each != nil {
			if err := each(rest, values[i]); err != nil {
				return err
			}
		}
		if err := b.Delete(pair(prefix, string(rest))); err != nil {
			return err
		}
	}
	return nil
}

// entriesAfter iterates over the entries of b whose keys sort after the
// key after ("" for all of them), in key order.
func entriesAfter(b kv.Bucket, after string) iter.Seq2[[]byte, []byte] {
	return func(yield func(k, v []byte) bool) {
		c := b.Cursor()
		k, v := c.First()
		if after != "" {
			k, v = c.Seek([]byte(after))
			if k != nil && string(k) == after {
				k, v = c.Next()
			}
		}
		for ; k != nil; k, v = c.Next() {
			if !yield(k, v) {
				return
			}
		}
	}
}
