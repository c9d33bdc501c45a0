// Package kvtest is the conformance suite of the engines behind package kv:
// every engine's tests call [Run], so the store above them can rely on one
// set of semantics (the ones kv's package comment states) whichever engine
// keeps its bytes.
package kvtest

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/docket-dev/docket/kv"
)

// Run checks the engine that open returns. open must return a new, empty
// store each time it is called, and arrange for it to be closed and
// removed when the test ends.
func Run(t *testing.T, open func(t *testing.T) kv.Store) {
	for _, tc := range []struct {
		name string
		test func(t *testing.T, s kv.Store)
	}{
		{"GetPutDelete", testGetPutDelete},
		{"NilAndEmptyValues", testNilAndEmptyValues},
		{"Errors", testErrors},
		{"Order", testOrder},
		{"CursorMoves", testCursorMoves},
		{"CursorDeleteWhileWalking", testCursorDeleteWhileWalking},
		{"WriteWhileWalking", testWriteWhileWalking},
		{"ManyKeys", testManyKeys},
		{"NestedBuckets", testNestedBuckets},
		{"DeleteBucket", testDeleteBucket},
		{"IncompatibleValue", testIncompatibleValue},
		{"Sequence", testSequence},
		{"Rollback", testRollback},
		{"OnCommit", testOnCommit},
		{"ReadOnly", testReadOnly},
		{"Snapshot", testSnapshot},
		{"SerialisedWriters", testSerialisedWriters},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.test(t, open(t))
		})
	}
}

var errRollback = errors.New("kvtest: roll back")

// update runs fn in s.Update and fails the test on an error.
func update(t *testing.T, s kv.Store, fn func(tx kv.Tx) error) {
	t.Helper()
	if err := s.Update(fn); err != nil {
		t.Fatalf("Update: %v", err)
	}
}

// view runs fn in s.View and fails the test on an error.
func view(t *testing.T, s kv.Store, fn func(tx kv.Tx) error) {
	t.Helper()
	if err := s.View(fn); err != nil {
		t.Fatalf("View: %v", err)
	}
}

// create returns the top-level bucket name of tx, made if needed.
func create(tx kv.Tx, name string) (kv.Bucket, error) {
	return tx.CreateBucketIfNotExists([]byte(name))
}

// updateIn runs fn in s.Update with the top-level bucket name, made if
// needed, and fails the test on an error.
func updateIn(t *testing.T, s kv.Store, name string, fn func(tx kv.Tx, b kv.Bucket) error) {
	t.Helper()
	update(t, s, func(tx kv.Tx) error {
		b, err := create(tx, name)
		if err != nil {
			return err
		}
		return fn(tx, b)
	})
}

// pair is a key and value a cursor arrived at; bucket marks a nested
// bucket (nil value).
type pair struct {
	Key    string
	Value  string
	Bucket bool
}

func (p pair) String() string {
	if p.Bucket {
		return fmt.Sprintf("%q:bucket", p.Key)
	}
	return fmt.Sprintf("%q:%q", p.Key, p.Value)
}

func pairOf(k, v []byte) pair {
	return pair{Key: string(k), Value: string(v), Bucket: v == nil}
}

// walk returns every key of b in order, through its cursor.
func walk(b kv.Bucket) []pair {
	var got []pair
	c := b.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		got = append(got, pairOf(k, v))
	}
	return got
}

// walkBack returns every key of b in reverse order, through its cursor.
func walkBack(b kv.Bucket) []pair {
	var got []pair
	c := b.Cursor()
	for k, v := c.Last(); k != nil; k, v = c.Prev() {
		got = append(got, pairOf(k, v))
	}
	return got
}

// values returns the pairs of keys whose value is the key itself.
func values(keys ...string) []pair {
	var ps []pair
	for _, k := range keys {
		ps = append(ps, pair{Key: k, Value: k})
	}
	return ps
}

// creator makes buckets: a kv.Tx or a kv.Bucket.
type creator interface {
	CreateBucketIfNotExists(name []byte) (kv.Bucket, error)
}

// bucketWith returns the bucket name of in, made if needed, after putting
// the keys in it, each its own value.
func bucketWith(in creator, name string, keys ...string) (kv.Bucket, error) {
	b, err := in.CreateBucketIfNotExists([]byte(name))
	if err != nil {
		return nil, err
	}
	return b, putAll(b, keys...)
}

// fill makes the top-level bucket name with the keys, each its own value.
func fill(t *testing.T, s kv.Store, name string, keys ...string) {
	t.Helper()
	update(t, s, func(tx kv.Tx) error {
		_, err := bucketWith(tx, name, keys...)
		return err
	})
}

// numbered returns n keys made by format from 0, 1, ... n-1.
func numbered(n int, format string) []string {
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprintf(format, i)
	}
	return keys
}

// putAll puts every key with itself as its value.
func putAll(b kv.Bucket, keys ...string) error {
	for _, k := range keys {
		if err := b.Put([]byte(k), []byte(k)); err != nil {
			return fmt.Errorf("put %q: %w", k, err)
		}
	}
	return nil
}

// wantWalk checks in a View that a walk of the top-level bucket b finds
// want.
func wantWalk(t *testing.T, s kv.Store, what string, want []pair) {
	t.Helper()
	view(t, s, func(tx kv.Tx) error {
		equalPairs(t, what, walk(tx.Bucket([]byte("b"))), want)
		return nil
	})
}

func equalPairs(t *testing.T, what string, got, want []pair) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s = %v; want %v", what, got, want)
	}
}

func testGetPutDelete(t *testing.T, s kv.Store) {
	updateIn(t, s, "b", func(tx kv.Tx, b kv.Bucket) error {
		if got := b.Get([]byte("k")); got != nil {
			t.Errorf("Get of a missing key = %q; want nil", got)
		}
		if err := b.Put([]byte("k"), []byte("v1")); err != nil {
			return err
		}
		if got := b.Get([]byte("k")); string(got) != "v1" {
			t.Errorf("Get after Put in the same tx = %q; want v1", got)
		}
		if err := b.Put([]byte("k"), []byte("v2")); err != nil {
			return err
		}
		if got := b.Get([]byte("k")); string(got) != "v2" {
			t.Errorf("Get after a second Put = %q; want v2", got)
		}
		return b.Put([]byte("gone"), []byte("x"))
	})
	update(t, s, func(tx kv.Tx) error {
		b := tx.Bucket([]byte("b"))
		if b == nil {
			return errors.New("bucket b missing after commit")
		}
		if got := b.Get([]byte("k")); string(got) != "v2" {
			t.Errorf("Get in a later tx = %q; want v2", got)
		}
		if err := b.Delete([]byte("gone")); err != nil {
			return err
		}
		if got := b.Get([]byte("gone")); got != nil {
			t.Errorf("Get after Delete in the same tx = %q; want nil", got)
		}
		if err := b.Delete([]byte("never")); err != nil {
			t.Errorf("Delete of an absent key: %v; want nil", err)
		}
		return nil
	})
	view(t, s, func(tx kv.Tx) error {
		b := tx.Bucket([]byte("b"))
		if got := b.Get([]byte("gone")); got != nil {
			t.Errorf("Get of a deleted key in a later tx = %q; want nil", got)
		}
		if tx.Bucket([]byte("missing")) != nil {
			t.Error("Bucket of a missing bucket is not nil")
		}
		equalPairs(t, "walk", walk(b), []pair{{Key: "k", Value: "v2"}})
		var each []pair
		if err := b.ForEach(func(k, v []byte) error { each = append(each, pairOf(k, v)); return nil }); err != nil {
			return err
		}
		equalPairs(t, "ForEach", each, []pair{{Key: "k", Value: "v2"}})
		return nil
	})
}

func testNilAndEmptyValues(t *testing.T, s kv.Store) {
	updateIn(t, s, "b", func(tx kv.Tx, b kv.Bucket) error {
		if err := b.Put([]byte("empty"), []byte{}); err != nil {
			return err
		}
		if got := b.Get([]byte("empty")); got == nil || len(got) != 0 {
			t.Errorf("Get of an empty value in its tx = %#v; want a non-nil empty slice", got)
		}
		return nil
	})
	view(t, s, func(tx kv.Tx) error {
		b := tx.Bucket([]byte("b"))
		if got := b.Get([]byte("empty")); got == nil || len(got) != 0 {
			t.Errorf("Get of an empty value = %#v; want a non-nil empty slice", got)
		}
		if got := b.Get([]byte("absent")); got != nil {
			t.Errorf("Get of an absent key = %#v; want nil", got)
		}
		k, v := b.Cursor().First()
		if string(k) != "empty" || v == nil || len(v) != 0 {
			t.Errorf("First = %q, %#v; want \"empty\" and a non-nil empty value (nil means a bucket)", k, v)
		}
		return nil
	})
}

func testErrors(t *testing.T, s kv.Store) {
	updateIn(t, s, "b", func(tx kv.Tx, b kv.Bucket) error {
		if err := b.Put(nil, []byte("v")); !errors.Is(err, kv.ErrKeyRequired) {
			t.Errorf("Put with a nil key: %v; want %v", err, kv.ErrKeyRequired)
		}
		if err := b.Put([]byte{}, []byte("v")); !errors.Is(err, kv.ErrKeyRequired) {
			t.Errorf("Put with an empty key: %v; want %v", err, kv.ErrKeyRequired)
		}
		if err := tx.DeleteBucket([]byte("missing")); !errors.Is(err, kv.ErrBucketNotFound) {
			t.Errorf("DeleteBucket of a missing bucket: %v; want %v", err, kv.ErrBucketNotFound)
		}
		if err := b.DeleteBucket([]byte("missing")); !errors.Is(err, kv.ErrBucketNotFound) {
			t.Errorf("DeleteBucket of a missing nested bucket: %v; want %v", err, kv.ErrBucketNotFound)
		}
		// The mistakes above leave the transaction usable.
		return b.Put([]byte("k"), []byte("v"))
	})
	view(t, s, func(tx kv.Tx) error {
		if got := tx.Bucket([]byte("b")).Get([]byte("k")); string(got) != "v" {
			t.Errorf("Get after the refused writes = %q; want v", got)
		}
		return nil
	})
}

// orderedKeys are keys in bytewise order, with zero and 0xff bytes and
// keys that are prefixes of others.
var orderedKeys = []string{
	"\x00",
	"\x00\x00",
	"\x00\x01",
	"\x01",
	"a",
	"a\x00",
	"a\x00\xff",
	"a\x01",
	"ab",
	"abc",
	"b",
	"\x7f",
	"\x80",
	"\xfe\xff",
	"\xff",
	"\xff\x00",
	"\xff\xff",
	"\xff\xff\xff",
}

func testOrder(t *testing.T, s kv.Store) {
	shuffled := slices.Clone(orderedKeys)
	// A fixed permutation: reversed, then the halves swapped.
	slices.Reverse(shuffled)
	shuffled = append(shuffled[len(shuffled)/2:], shuffled[:len(shuffled)/2]...)
	fill(t, s, "b", shuffled...)
	view(t, s, func(tx kv.Tx) error {
		b := tx.Bucket([]byte("b"))
		equalPairs(t, "walk", walk(b), values(orderedKeys...))
		back := values(orderedKeys...)
		slices.Reverse(back)
		equalPairs(t, "walk backwards", walkBack(b), back)
		for _, k := range orderedKeys {
			if got := b.Get([]byte(k)); string(got) != k {
				t.Errorf("Get(%q) = %q; want %q", k, got, k)
			}
		}
		return nil
	})
}

func testCursorMoves(t *testing.T, s kv.Store) {
	update(t, s, func(tx kv.Tx) error {
		if _, err := create(tx, "empty"); err != nil {
			return err
		}
		b, err := create(tx, "b")
		if err != nil {
			return err
		}
		return putAll(b, "b", "d", "f")
	})
	view(t, s, func(tx kv.Tx) error {
		e := tx.Bucket([]byte("empty")).Cursor()
		for name, move := range map[string]func() ([]byte, []byte){
			"First": e.First, "Last": e.Last, "Seek": func() ([]byte, []byte) { return e.Seek([]byte("a")) },
		} {
			if k, v := move(); k != nil || v != nil {
				t.Errorf("%s on an empty bucket = %q, %q; want nil, nil", name, k, v)
			}
		}

		c := tx.Bucket([]byte("b")).Cursor()
		for _, step := range []struct {
			name string
			move func() ([]byte, []byte)
			want string // "" for the end
		}{
			{"First", c.First, "b"},
			{"Prev from the first", c.Prev, ""},
			{"Last", c.Last, "f"},
			{"Next from the last", c.Next, ""},
			{"Seek before every key", func() ([]byte, []byte) { return c.Seek([]byte("a")) }, "b"},
			{"Seek of a key", func() ([]byte, []byte) { return c.Seek([]byte("d")) }, "d"},
			{"Next", c.Next, "f"},
			{"Prev", c.Prev, "d"},
			{"Prev again", c.Prev, "b"},
			{"Seek between keys", func() ([]byte, []byte) { return c.Seek([]byte("c")) }, "d"},
			{"Prev after Seek", c.Prev, "b"},
			{"Seek of a longer key", func() ([]byte, []byte) { return c.Seek([]byte("d\x00")) }, "f"},
			{"Seek past every key", func() ([]byte, []byte) { return c.Seek([]byte("g")) }, ""},
			{"Seek of the empty key", func() ([]byte, []byte) { return c.Seek(nil) }, "b"},
		} {
			k, v := step.move()
			if string(k) != step.want || string(v) != step.want || (step.want == "") != (k == nil) {
				t.Errorf("%s = %q, %q; want %q", step.name, k, v, step.want)
			}
		}
		return nil
	})
}

func testCursorDeleteWhileWalking(t *testing.T, s kv.Store) {
	keys := numbered(40, "k%03d")
	fill(t, s, "b", keys...)
	// Delete every other key at the cursor, in a separate transaction
	// from the one that put them.
	var kept []string
	update(t, s, func(tx kv.Tx) error {
		c := tx.Bucket([]byte("b")).Cursor()
		var seen []string
		for k, _ := c.First(); k != nil; k, _ = c.Next() {
			seen = append(seen, string(k))
			if len(seen)%2 == 0 {
				if err := c.Delete(); err != nil {
					return err
				}
			} else {
				kept = append(kept, string(k))
			}
		}
		if !slices.Equal(seen, keys) {
			t.Errorf("walk while deleting every other key saw %q; want %q", seen, keys)
		}
		return nil
	})
	wantWalk(t, s, "walk after deleting", values(kept...))
	// Delete what is left by seeking to the first key each time.
	update(t, s, func(tx kv.Tx) error {
		c := tx.Bucket([]byte("b")).Cursor()
		n := 0
		for k, _ := c.First(); k != nil; k, _ = c.First() {
			if err := c.Delete(); err != nil {
				return err
			}
			if n++; n > len(kept) {
				return fmt.Errorf("deleted %d keys of %d and First still finds %q", n, len(kept), k)
			}
		}
		if n != len(kept) {
			t.Errorf("deleted %d keys; want %d", n, len(kept))
		}
		return nil
	})
	wantWalk(t, s, "walk after deleting all", nil)
}

// testWriteWhileWalking checks what a walk guarantees when the bucket
// changes under it: rewriting the key the cursor is at, and writing keys
// ahead of it, never makes the walk skip or repeat a key it has not
// reached and nobody touched. Whether it sees the changed keys ahead is
// the engine's affair (bbolt's cursor does not), so the store never
// relies on it.
func testWriteWhileWalking(t *testing.T, s kv.Store) {
	keys := numbered(30, "k%02d")
	fill(t, s, "b", keys...)
	update(t, s, func(tx kv.Tx) error {
		b := tx.Bucket([]byte("b"))
		c := b.Cursor()
		var seen []string
		for k, _ := c.First(); k != nil; k, _ = c.Next() {
			seen = append(seen, string(k))
			if err := b.Put(k, []byte("new "+string(k))); err != nil {
				return err
			}
		}
		if !slices.Equal(seen, keys) {
			t.Errorf("walk rewriting each key = %q; want %q", seen, keys)
		}
		return nil
	})
	update(t, s, func(tx kv.Tx) error {
		b := tx.Bucket([]byte("b"))
		c := b.Cursor()
		var seen []string
		for k, _ := c.First(); k != nil; k, _ = c.Next() {
			seen = append(seen, string(k))
			if string(k) == "k05" {
				// Ahead: one key replaced, one removed, one added.
				if err := b.Put([]byte("k10"), []byte("changed")); err != nil {
					return err
				}
				if err := b.Delete([]byte("k20")); err != nil {
					return err
				}
				if err := b.Put([]byte("k25a"), []byte("added")); err != nil {
					return err
				}
			}
		}
		var untouched []string
		for _, k := range seen {
			if k != "k10" && k != "k20" && k != "k25a" {
				untouched = append(untouched, k)
			}
		}
		want := slices.DeleteFunc(slices.Clone(keys), func(k string) bool { return k == "k10" || k == "k20" })
		if !slices.Equal(untouched, want) {
			t.Errorf("walk writing ahead saw the untouched keys %q; want %q", untouched, want)
		}
		return nil
	})
	view(t, s, func(tx kv.Tx) error {
		b := tx.Bucket([]byte("b"))
		for k, want := range map[string]string{"k00": "new k00", "k10": "changed", "k20": "", "k25a": "added", "k29": "new k29"} {
			if got := b.Get([]byte(k)); string(got) != want || (want == "") != (got == nil) {
				t.Errorf("Get(%q) after the walks = %q; want %q", k, got, want)
			}
		}
		return nil
	})
}

func testManyKeys(t *testing.T, s kv.Store) {
	const n = 3000
	key := func(i int) []byte { return binary.BigEndian.AppendUint32([]byte("k"), uint32(i)) }
	updateIn(t, s, "b", func(tx kv.Tx, b kv.Bucket) error {
		// Put in an order unlike the keys' so the engine must sort.
		for i := range n {
			j := (i * 7919) % n
			if err := b.Put(key(j), fmt.Appendf(nil, "%d", j)); err != nil {
				return err
			}
		}
		return nil
	})
	view(t, s, func(tx kv.Tx) error {
		b := tx.Bucket([]byte("b"))
		c := b.Cursor()
		i := 0
		for k, v := c.First(); k != nil; k, v = c.Next() {
			if !bytes.Equal(k, key(i)) || string(v) != fmt.Sprint(i) {
				t.Fatalf("key %d of the walk = %x, %q; want %x, %q", i, k, v, key(i), fmt.Sprint(i))
			}
			i++
		}
		if i != n {
			t.Errorf("walked %d keys; want %d", i, n)
		}
		i = n - 1
		for k, _ := c.Last(); k != nil; k, _ = c.Prev() {
			if !bytes.Equal(k, key(i)) {
				t.Fatalf("key %d of the walk backwards = %x; want %x", i, k, key(i))
			}
			i--
		}
		if i != -1 {
			t.Errorf("walked back to %d; want -1", i)
		}
		// Change direction in the middle of a long walk.
		k, _ := c.Seek(key(1000))
		for range 600 {
			k, _ = c.Next()
		}
		for range 1100 {
			k, _ = c.Prev()
		}
		if !bytes.Equal(k, key(500)) {
			t.Errorf("Seek 1000, 600 Next, 1100 Prev = %x; want %x", k, key(500))
		}
		count := 0
		if err := b.ForEach(func(k, v []byte) error { count++; return nil }); err != nil {
			return err
		}
		if count != n {
			t.Errorf("ForEach saw %d keys; want %d", count, n)
		}
		stop := errors.New("stop")
		count = 0
		err := b.ForEach(func(k, v []byte) error {
			if count++; count == 10 {
				return stop
			}
			return nil
		})
		if !errors.Is(err, stop) || count != 10 {
			t.Errorf("ForEach stopping at the 10th key: %v after %d keys; want %v after 10", err, count, stop)
		}
		return nil
	})
	// Delete them all with a walk of one cursor.
	update(t, s, func(tx kv.Tx) error {
		c := tx.Bucket([]byte("b")).Cursor()
		deleted := 0
		for k, _ := c.First(); k != nil; k, _ = c.Next() {
			if err := c.Delete(); err != nil {
				return err
			}
			deleted++
		}
		if deleted != n {
			t.Errorf("deleted %d keys walking; want %d", deleted, n)
		}
		return nil
	})
	view(t, s, func(tx kv.Tx) error {
		if k, _ := tx.Bucket([]byte("b")).Cursor().First(); k != nil {
			t.Errorf("First after deleting every key = %x; want nil", k)
		}
		return nil
	})
}

func testNestedBuckets(t *testing.T, s kv.Store) {
	update(t, s, func(tx kv.Tx) error {
		b, err := bucketWith(tx, "b", "a", "z")
		if err != nil {
			return err
		}
		n, err := bucketWith(b, "m", "inner")
		if err != nil {
			return err
		}
		again, err := b.CreateBucketIfNotExists([]byte("m"))
		if err != nil {
			return err
		}
		if got := again.Get([]byte("inner")); string(got) != "inner" {
			t.Errorf("CreateBucketIfNotExists of an existing bucket lost its key: Get = %q", got)
		}
		deep, err := n.CreateBucketIfNotExists([]byte("deep"))
		if err != nil {
			return err
		}
		// Names that could be confused with paths if they were joined.
		if _, err := b.CreateBucketIfNotExists([]byte("m\x00deep")); err != nil {
			return err
		}
		if _, err := tx.CreateBucketIfNotExists([]byte("bm")); err != nil {
			return err
		}
		return putAll(deep, "x")
	})
	view(t, s, func(tx kv.Tx) error {
		b := tx.Bucket([]byte("b"))
		equalPairs(t, "walk with nested buckets", walk(b), []pair{
			{Key: "a", Value: "a"}, {Key: "m", Bucket: true}, {Key: "m\x00deep", Bucket: true}, {Key: "z", Value: "z"},
		})
		if got := b.Get([]byte("m")); got != nil {
			t.Errorf("Get of a nested bucket's name = %q; want nil", got)
		}
		if b.Bucket([]byte("missing")) != nil {
			t.Error("Bucket of a missing nested bucket is not nil")
		}
		if b.Bucket([]byte("a")) != nil {
			t.Error("Bucket of a key's name is not nil")
		}
		m := b.Bucket([]byte("m"))
		if m == nil {
			return errors.New("nested bucket m missing")
		}
		equalPairs(t, "walk of m", walk(m), []pair{{Key: "deep", Bucket: true}, {Key: "inner", Value: "inner"}})
		equalPairs(t, "walk of m/deep", walk(m.Bucket([]byte("deep"))), values("x"))
		equalPairs(t, "walk of m\\x00deep", walk(b.Bucket([]byte("m\x00deep"))), nil)
		equalPairs(t, "walk of bm", walk(tx.Bucket([]byte("bm"))), nil)
		return nil
	})
}

func testDeleteBucket(t *testing.T, s kv.Store) {
	update(t, s, func(tx kv.Tx) error {
		for _, name := range []string{"a", "b", "c"} {
			b, err := bucketWith(tx, name, "k")
			if err != nil {
				return err
			}
			n, err := bucketWith(b, "n", "k")
			if err != nil {
				return err
			}
			if _, err := bucketWith(n, "d", "k"); err != nil {
				return err
			}
		}
		return nil
	})
	update(t, s, func(tx kv.Tx) error {
		if err := tx.DeleteBucket([]byte("b")); err != nil {
			return err
		}
		if tx.Bucket([]byte("b")) != nil {
			t.Error("Bucket after DeleteBucket in the same tx is not nil")
		}
		if err := tx.Bucket([]byte("c")).DeleteBucket([]byte("n")); err != nil {
			return err
		}
		return nil
	})
	update(t, s, func(tx kv.Tx) error {
		if tx.Bucket([]byte("b")) != nil {
			t.Error("Bucket of a deleted bucket is not nil")
		}
		c := tx.Bucket([]byte("c"))
		equalPairs(t, "walk of c after deleting c/n", walk(c), values("k"))
		if c.Bucket([]byte("n")) != nil {
			t.Error("c/n is still there")
		}
		a := tx.Bucket([]byte("a"))
		equalPairs(t, "walk of a/n/d, untouched", walk(a.Bucket([]byte("n")).Bucket([]byte("d"))), values("k"))
		// Made again, a deleted bucket is empty: nothing below it survived.
		b, err := create(tx, "b")
		if err != nil {
			return err
		}
		equalPairs(t, "walk of b made again", walk(b), nil)
		n, err := c.CreateBucketIfNotExists([]byte("n"))
		if err != nil {
			return err
		}
		equalPairs(t, "walk of c/n made again", walk(n), nil)
		d, err := n.CreateBucketIfNotExists([]byte("d"))
		if err != nil {
			return err
		}
		equalPairs(t, "walk of c/n/d made again", walk(d), nil)
		return nil
	})
}

func testIncompatibleValue(t *testing.T, s kv.Store) {
	updateIn(t, s, "b", func(tx kv.Tx, b kv.Bucket) error {
		if err := putAll(b, "key"); err != nil {
			return err
		}
		if _, err := b.CreateBucketIfNotExists([]byte("bucket")); err != nil {
			return err
		}
		return nil
	})
	update(t, s, func(tx kv.Tx) error {
		b := tx.Bucket([]byte("b"))
		if _, err := b.CreateBucketIfNotExists([]byte("key")); !errors.Is(err, kv.ErrIncompatibleValue) {
			t.Errorf("CreateBucketIfNotExists over a key: %v; want %v", err, kv.ErrIncompatibleValue)
		}
		if err := b.Put([]byte("bucket"), []byte("v")); !errors.Is(err, kv.ErrIncompatibleValue) {
			t.Errorf("Put over a bucket: %v; want %v", err, kv.ErrIncompatibleValue)
		}
		if err := b.Delete([]byte("bucket")); !errors.Is(err, kv.ErrIncompatibleValue) {
			t.Errorf("Delete of a bucket: %v; want %v", err, kv.ErrIncompatibleValue)
		}
		if err := b.DeleteBucket([]byte("key")); !errors.Is(err, kv.ErrIncompatibleValue) {
			t.Errorf("DeleteBucket of a key: %v; want %v", err, kv.ErrIncompatibleValue)
		}
		c := b.Cursor()
		if k, _ := c.Seek([]byte("bucket")); string(k) == "bucket" {
			if err := c.Delete(); !errors.Is(err, kv.ErrIncompatibleValue) {
				t.Errorf("Cursor.Delete at a bucket: %v; want %v", err, kv.ErrIncompatibleValue)
			}
		} else {
			t.Errorf("Seek(bucket) = %q; want bucket", k)
		}
		return nil
	})
	view(t, s, func(tx kv.Tx) error {
		b := tx.Bucket([]byte("b"))
		equalPairs(t, "walk after the refused writes", walk(b), []pair{{Key: "bucket", Bucket: true}, {Key: "key", Value: "key"}})
		return nil
	})
}

func testSequence(t *testing.T, s kv.Store) {
	update(t, s, func(tx kv.Tx) error {
		a, err := create(tx, "a")
		if err != nil {
			return err
		}
		b, err := create(tx, "b")
		if err != nil {
			return err
		}
		n, err := a.CreateBucketIfNotExists([]byte("n"))
		if err != nil {
			return err
		}
		if got := a.Sequence(); got != 0 {
			t.Errorf("Sequence of a new bucket = %d; want 0", got)
		}
		for want := uint64(1); want <= 3; want++ {
			got, err := a.NextSequence()
			if err != nil {
				return err
			}
			if got != want {
				t.Errorf("NextSequence #%d of a = %d; want %d", want, got, want)
			}
		}
		if got, err := b.NextSequence(); err != nil || got != 1 {
			t.Errorf("NextSequence of b = %d, %v; want 1, nil: each bucket has its own", got, err)
		}
		if got, err := n.NextSequence(); err != nil || got != 1 {
			t.Errorf("NextSequence of a/n = %d, %v; want 1, nil", got, err)
		}
		if got := a.Sequence(); got != 3 {
			t.Errorf("Sequence of a = %d; want 3", got)
		}
		return nil
	})
	err := s.Update(func(tx kv.Tx) error {
		if _, err := tx.Bucket([]byte("a")).NextSequence(); err != nil {
			return err
		}
		return errRollback
	})
	if !errors.Is(err, errRollback) {
		t.Fatalf("Update = %v; want %v", err, errRollback)
	}
	update(t, s, func(tx kv.Tx) error {
		a := tx.Bucket([]byte("a"))
		if got := a.Sequence(); got != 3 {
			t.Errorf("Sequence of a after a rolled back NextSequence = %d; want 3", got)
		}
		if got := a.Bucket([]byte("n")).Sequence(); got != 1 {
			t.Errorf("Sequence of a/n = %d; want 1", got)
		}
		if got, err := a.NextSequence(); err != nil || got != 4 {
			t.Errorf("NextSequence of a in a later tx = %d, %v; want 4, nil", got, err)
		}
		if err := a.DeleteBucket([]byte("n")); err != nil {
			return err
		}
		n, err := a.CreateBucketIfNotExists([]byte("n"))
		if err != nil {
			return err
		}
		if got := n.Sequence(); got != 0 {
			t.Errorf("Sequence of a/n made again = %d; want 0", got)
		}
		return nil
	})
}

func testRollback(t *testing.T, s kv.Store) {
	fill(t, s, "b", "kept")
	ran := false
	err := s.Update(func(tx kv.Tx) error {
		tx.OnCommit(func() { ran = true })
		b := tx.Bucket([]byte("b"))
		if err := putAll(b, "new"); err != nil {
			return err
		}
		if err := b.Delete([]byte("kept")); err != nil {
			return err
		}
		if _, err := b.CreateBucketIfNotExists([]byte("n")); err != nil {
			return err
		}
		if _, err := create(tx, "other"); err != nil {
			return err
		}
		return fmt.Errorf("wrapped: %w", errRollback)
	})
	if !errors.Is(err, errRollback) {
		t.Fatalf("Update = %v; want the error fn returned", err)
	}
	if ran {
		t.Error("OnCommit ran for a transaction that rolled back")
	}
	view(t, s, func(tx kv.Tx) error {
		equalPairs(t, "walk after a rollback", walk(tx.Bucket([]byte("b"))), values("kept"))
		if tx.Bucket([]byte("other")) != nil {
			t.Error("a bucket made in a rolled back tx exists")
		}
		return nil
	})

	// A panic in fn rolls back too, and the store stays usable.
	func() {
		defer func() {
			if recover() == nil {
				t.Error("Update swallowed the panic of fn")
			}
		}()
		_ = s.Update(func(tx kv.Tx) error {
			if err := putAll(tx.Bucket([]byte("b")), "panicked"); err != nil {
				return err
			}
			panic("kvtest: panic in fn")
		})
	}()
	update(t, s, func(tx kv.Tx) error {
		equalPairs(t, "walk after a panic", walk(tx.Bucket([]byte("b"))), values("kept"))
		return nil
	})
}

func testOnCommit(t *testing.T, s kv.Store) {
	var order []int
	update(t, s, func(tx kv.Tx) error {
		for i := range 3 {
			tx.OnCommit(func() { order = append(order, i) })
		}
		if len(order) != 0 {
			t.Error("OnCommit ran before the commit")
		}
		_, err := create(tx, "b")
		return err
	})
	if !slices.Equal(order, []int{0, 1, 2}) {
		t.Errorf("OnCommit ran %v; want [0 1 2]", order)
	}
	// What an OnCommit function reads was committed, and it may write:
	// the next writer may begin.
	update(t, s, func(tx kv.Tx) error {
		tx.OnCommit(func() {
			if err := s.View(func(tx kv.Tx) error {
				if got := tx.Bucket([]byte("b")).Get([]byte("k")); string(got) != "k" {
					t.Errorf("Get in OnCommit = %q; want the committed k", got)
				}
				return nil
			}); err != nil {
				t.Errorf("View in OnCommit: %v", err)
			}
			if err := s.Update(func(tx kv.Tx) error { return putAll(tx.Bucket([]byte("b")), "after") }); err != nil {
				t.Errorf("Update in OnCommit: %v", err)
			}
		})
		return putAll(tx.Bucket([]byte("b")), "k")
	})
	wantWalk(t, s, "walk after OnCommit wrote", values("after", "k"))
}

func testReadOnly(t *testing.T, s kv.Store) {
	update(t, s, func(tx kv.Tx) error {
		if !tx.Writable() {
			t.Error("Writable() = false in Update")
		}
		b, err := create(tx, "b")
		if err != nil {
			return err
		}
		if _, err := b.CreateBucketIfNotExists([]byte("n")); err != nil {
			return err
		}
		return putAll(b, "k")
	})
	view(t, s, func(tx kv.Tx) error {
		if tx.Writable() {
			t.Error("Writable() = true in View")
		}
		b := tx.Bucket([]byte("b"))
		for name, err := range map[string]error{
			"Put":                         b.Put([]byte("k"), []byte("v")),
			"Delete":                      b.Delete([]byte("k")),
			"DeleteBucket":                b.DeleteBucket([]byte("n")),
			"Tx.DeleteBucket":             tx.DeleteBucket([]byte("b")),
			"CreateBucketIfNotExists":     second(b.CreateBucketIfNotExists([]byte("new"))),
			"Tx.CreateBucketIfNotExists":  second(tx.CreateBucketIfNotExists([]byte("new"))),
			"NextSequence":                second(b.NextSequence()),
			"Cursor.Delete":               cursorDelete(b),
			"CreateBucketIfNotExists old": second(b.CreateBucketIfNotExists([]byte("n"))),
		} {
			if !errors.Is(err, kv.ErrTxNotWritable) {
				t.Errorf("%s in View: %v; want %v", name, err, kv.ErrTxNotWritable)
			}
		}
		return nil
	})
	view(t, s, func(tx kv.Tx) error {
		b := tx.Bucket([]byte("b"))
		equalPairs(t, "walk after the refused writes", walk(b), []pair{{Key: "k", Value: "k"}, {Key: "n", Bucket: true}})
		if b.Sequence() != 0 {
			t.Errorf("Sequence = %d; want 0", b.Sequence())
		}
		return nil
	})
}

func second[T any](_ T, err error) error { return err }

func cursorDelete(b kv.Bucket) error {
	c := b.Cursor()
	if k, _ := c.First(); k == nil {
		return errors.New("no key to delete")
	}
	return c.Delete()
}

func testSnapshot(t *testing.T, s kv.Store) {
	fill(t, s, "b", "old")
	started := make(chan struct{})
	committed := make(chan error, 1)
	blocked := false
	view(t, s, func(tx kv.Tx) error {
		// A writer commits while this reader is open, before it has
		// read anything: it must not wait for the reader, and the
		// reader must not see it.
		go func() {
			close(started)
			committed <- s.Update(func(tx kv.Tx) error {
				b := tx.Bucket([]byte("b"))
				if err := b.Delete([]byte("old")); err != nil {
					return err
				}
				if _, err := tx.CreateBucketIfNotExists([]byte("new")); err != nil {
					return err
				}
				return putAll(b, "new")
			})
		}()
		<-started
		select {
		case err := <-committed:
			if err != nil {
				t.Errorf("Update while a View is open: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("an Update waited 10 s for an open View: readers must never block writers")
			blocked = true
			return nil // and let it finish once this View ends
		}
		b := tx.Bucket([]byte("b"))
		if b == nil {
			return errors.New("bucket b missing")
		}
		if got := b.Get([]byte("new")); got != nil {
			t.Errorf("View sees a key committed after it began: %q", got)
		}
		if got := b.Get([]byte("old")); string(got) != "old" {
			t.Errorf("View lost a key deleted after it began: Get = %q", got)
		}
		equalPairs(t, "walk in the old snapshot", walk(b), values("old"))
		if tx.Bucket([]byte("new")) != nil {
			t.Error("View sees a bucket made after it began")
		}
		return nil
	})
	if blocked {
		if err := <-committed; err != nil {
			t.Errorf("Update that waited for a View: %v", err)
		}
	}
	wantWalk(t, s, "walk in a new View", values("new"))
}

func testSerialisedWriters(t *testing.T, s kv.Store) {
	const writers, rounds = 8, 10
	update(t, s, func(tx kv.Tx) error {
		_, err := create(tx, "b")
		return err
	})
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for range writers {
		wg.Go(func() {
			for range rounds {
				err := s.Update(func(tx kv.Tx) error {
					b := tx.Bucket([]byte("b"))
					var n uint64
					if v := b.Get([]byte("counter")); v != nil {
						n = binary.BigEndian.Uint64(v)
					}
					if _, err := b.NextSequence(); err != nil {
						return err
					}
					return b.Put([]byte("counter"), binary.BigEndian.AppendUint64(nil, n+1))
				})
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("Update of a concurrent writer: %v", err)
	}
	view(t, s, func(tx kv.Tx) error {
		b := tx.Bucket([]byte("b"))
		v := b.Get([]byte("counter"))
		if len(v) != 8 {
			return fmt.Errorf("counter = %x; want 8 bytes", v)
		}
		if got := binary.BigEndian.Uint64(v); got != writers*rounds {
			t.Errorf("counter = %d after %d read-increment-writes; want %d (a lost update)", got, writers*rounds, writers*rounds)
		}
		if got := b.Sequence(); got != writers*rounds {
			t.Errorf("Sequence = %d; want %d", got, writers*rounds)
		}
		return nil
	})
}
