package postgres

import (
	"bytes"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"
)

// A cursor reads its bucket's keys a page at a time. The page a First,
// Last or Seek reads is small, since most walks stop early (a Seek to a
// prefix, a look at the last key), and each page a walk reads on from
// there doubles, up to maxBatch, so a long walk takes few round trips.
const (
	firstBatch = 32
	maxBatch   = 512
)

// entry is a key and its value (nil for a nested bucket).
type entry struct {
	key, value []byte
}

// cursor is a kv.Cursor. rows is a page of the bucket's keys in order,
// read when the bucket's write count was gen; pos is the cursor's place
// in it. A write to the bucket makes the page stale, and the next move
// reads again from the cursor's key, except for a write of the key the
// cursor stands on (rewriting or deleting keys as a walk meets them),
// which it applies to the page.
type cursor struct {
	b     *bucket
	rows  []entry
	pos   int
	gen   uint64
	batch int
	// key is the key the cursor stands on, nil when it is past either
	// end; removed reports that it was deleted, so the cursor stands
	// between rows[pos-1] and rows[pos].
	key     []byte
	removed bool
	// first and last report that rows begins at the bucket's first key
	// and ends at its last.
	first, last bool
}

// direction of a read.
const (
	fromFirst = iota // every key, ascending
	fromLast         // every key, descending
	atOrAfter        // key >= from, ascending
	after            // key > from, ascending
	before           // key < from, descending
)

var pageSQL = [...]string{
	fromFirst: "SELECT key, value FROM docket_kv WHERE bucket = $1 ORDER BY key LIMIT $2",
	fromLast:  "SELECT key, value FROM docket_kv WHERE bucket = $1 ORDER BY key DESC LIMIT $2",
	atOrAfter: "SELECT key, value FROM docket_kv WHERE bucket = $1 AND key >= $3 ORDER BY key LIMIT $2",
	after:     "SELECT key, value FROM docket_kv WHERE bucket = $1 AND key > $3 ORDER BY key LIMIT $2",
	before:    "SELECT key, value FROM docket_kv WHERE bucket = $1 AND key < $3 ORDER BY key DESC LIMIT $2",
}

// read replaces the page with the keys dir of from, and places the
// cursor at the first of them in that direction.
func (c *cursor) read(dir int, from []byte) (key, value []byte) {
	c.rows, c.removed, c.key = c.rows[:0], false, nil
	c.gen = c.b.gen
	if dir != after && dir != before {
		c.batch = firstBatch // a new walk
	}
	if c.b.tx.err != nil {
		return nil, nil
	}
	args := []any{c.b.path, c.batch}
	if dir != fromFirst && dir != fromLast {
		args = append(args, from)
	}
	err := c.b.tx.query("walk", pageSQL[dir], args, func(rows pgx.Rows) error {
		var e entry
		_, err := pgx.ForEachRow(rows, []any{&e.key, &e.value}, func() error {
			if e.value == nil && rows.RawValues()[1] != nil {
				e.value = []byte{} // empty, not NULL: NULL marks a bucket
			}
			c.rows = append(c.rows, e)
			e = entry{}
			return nil
		})
		return err
	})
	if err != nil {
		c.rows = c.rows[:0]
		return nil, nil
	}
	full := len(c.rows) == c.batch
	c.batch = min(2*c.batch, maxBatch)
	descending := dir == fromLast || dir == before
	if descending {
		slices.Reverse(c.rows)
		c.first, c.last = !full, dir == fromLast
		c.pos = len(c.rows) - 1
	} else {
		c.first, c.last = dir == fromFirst, !full
		c.pos = 0
	}
	return c.at()
}

// at returns the key and value at pos, or nils past either end.
func (c *cursor) at() (key, value []byte) {
	if c.pos < 0 || c.pos >= len(c.rows) {
		c.key = nil
		return nil, nil
	}
	e := c.rows[c.pos]
	c.key = e.key
	b := c.b
	b.seenKey, b.seenGen, b.seen = e.key, b.gen, cached{value: e.value, isBucket: e.value == nil}
	return e.key, e.value
}

// fresh reports whether the page still shows the bucket, after applying
// a write of the cursor's own key to it.
func (c *cursor) fresh() bool {
	if c.gen == c.b.gen {
		return true
	}
	if c.gen+1 != c.b.gen || c.removed || c.pos < 0 || c.pos >= len(c.rows) || !bytes.Equal(c.b.lastKey, c.key) {
		return false
	}
	c.gen = c.b.gen
	if c.b.lastValue == nil {
		c.rows = slices.Delete(c.rows, c.pos, c.pos+1)
		c.removed = true
	} else {
		c.rows[c.pos].value = c.b.lastValue
	}
	return true
}

func (c *cursor) First() (key, value []byte) { return c.read(fromFirst, nil) }

func (c *cursor) Last() (key, value []byte) { return c.read(fromLast, nil) }

func (c *cursor) Seek(seek []byte) (key, value []byte) {
	if len(seek) == 0 {
		return c.First()
	}
	return c.read(atOrAfter, seek)
}

func (c *cursor) Next() (key, value []byte) {
	if c.key == nil {
		return nil, nil
	}
	if c.fresh() {
		if c.removed {
			c.removed = false // rows[pos] is already the next key
		} else {
			c.pos++
		}
		if c.pos < len(c.rows) || c.last {
			return c.at()
		}
	}
	return c.read(after, c.key)
}

func (c *cursor) Prev() (key, value []byte) {
	if c.key == nil {
		return nil, nil
	}
	if c.fresh() {
		c.removed = false
		c.pos--
		if c.pos >= 0 || c.first {
			return c.at()
		}
	}
	return c.read(before, c.key)
}

func (c *cursor) Delete() error {
	if err := c.b.tx.canWrite(); err != nil {
		return err
	}
	if c.key == nil || c.removed {
		return fmt.Errorf("postgres: cursor Delete with the cursor on no key")
	}
	return c.b.Delete(c.key)
}
