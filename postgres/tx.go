package postgres

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/docket-dev/docket"
	"github.com/docket-dev/docket/kv"
)

// maxKey is the most bytes a key and its bucket's path may take together:
// PostgreSQL refuses an index entry over about 2.7 kB.
const maxKey = 2500

// tx is a kv.Tx on one connection inside BEGIN ... COMMIT.
type tx struct {
	ctx      context.Context
	conn     *pgx.Conn
	writable bool
	// err is the first query that failed; it poisons the transaction.
	err      error
	onCommit []func()
	// pending are writes whose outcome the transaction knows, waiting
	// to travel with its next query or its COMMIT.
	pending []write
	root    *bucket
	// buckets are the buckets looked up so far, by path, nil for one
	// known to be missing: a transaction sees no one else's writes, so
	// what it read stays true until it writes.
	buckets map[string]*bucket
}

func newTx(ctx context.Context, conn *pgx.Conn, writable bool) *tx {
	t := &tx{ctx: ctx, conn: conn, writable: writable, buckets: map[string]*bucket{}}
	t.root = &bucket{tx: t, path: []byte{}, values: map[string]cached{}} // a nil path would be NULL
	return t
}

func (t *tx) Bucket(name []byte) kv.Bucket { return asBucket(t.root.bucket(name)) }

func (t *tx) CreateBucketIfNotExists(name []byte) (kv.Bucket, error) {
	return t.root.CreateBucketIfNotExists(name)
}

func (t *tx) DeleteBucket(name []byte) error { return t.root.DeleteBucket(name) }

func (t *tx) OnCommit(fn func()) { t.onCommit = append(t.onCommit, fn) }

func (t *tx) Writable() bool { return t.writable }

// fail records err, the failure of op, as the transaction's first and
// returns what the transaction failed with.
func (t *tx) fail(op string, err error) error {
	if t.err == nil {
		t.err = translate(op, err)
	}
	return t.err
}

// write is a statement that changes exactly one row.
type write struct {
	op   string
	sql  string
	args []any
}

// maxPending is how many writes wait before they are sent on their own.
const maxPending = 256

// send sends in one round trip the waiting writes, then what queue adds
// to the batch (a query and its handling, or the COMMIT).
func (t *tx) send(op string, queue func(*pgx.Batch)) error {
	if t.err != nil {
		return t.err
	}
	var batch pgx.Batch
	for _, w := range t.pending {
		batch.Queue(w.sql, w.args...).Exec(func(tag pgconn.CommandTag) error {
			if n := tag.RowsAffected(); n != 1 {
				return fmt.Errorf("%s changed %d rows, not the one it was known to", w.op, n)
			}
			return nil
		})
	}
	t.pending = nil
	if queue != nil {
		queue(&batch)
	}
	if batch.Len() == 0 {
		return nil
	}
	if err := t.conn.SendBatch(t.ctx, &batch).Close(); err != nil {
		return t.fail(op, err)
	}
	return nil
}

// later queues a write to send with the next query.
func (t *tx) later(op, sql string, args ...any) error {
	t.pending = append(t.pending, write{op: op, sql: sql, args: args})
	if len(t.pending) >= maxPending {
		return t.send(op, nil)
	}
	return nil
}

// queryRow runs sql after the waiting writes and scans its row into
// dest; found is false if it returned none.
func (t *tx) queryRow(op, sql string, args []any, dest ...any) (found bool, err error) {
	err = t.send(op, func(batch *pgx.Batch) {
		batch.Queue(sql, args...).QueryRow(func(row pgx.Row) error {
			err := row.Scan(dest...)
			if errors.Is(err, pgx.ErrNoRows) {
				return nil
			}
			found = err == nil
			return err
		})
	})
	return found, err
}

// query runs sql after the waiting writes and hands its rows to fn.
func (t *tx) query(op, sql string, args []any, fn func(pgx.Rows) error) error {
	return t.send(op, func(batch *pgx.Batch) {
		batch.Queue(sql, args...).Query(fn)
	})
}

// commit commits with the waiting writes.
func (t *tx) commit() error {
	return t.send("commit", func(batch *pgx.Batch) { batch.Queue("COMMIT") })
}

// canWrite returns why the transaction cannot write, or nil.
func (t *tx) canWrite() error {
	if !t.writable {
		return kv.ErrTxNotWritable
	}
	return t.err
}

// cached is what a bucket knows of one of its keys.
type cached struct {
	value    []byte // nil when absent or a bucket
	isBucket bool
}

// bucket is a kv.Bucket: the keys whose bucket column is path.
type bucket struct {
	tx     *tx
	parent *bucket // nil for the root
	name   []byte
	path   []byte
	seq    uint64
	// values caches Get's answers, kept up to date by this
	// transaction's writes; complete reports that it holds every key
	// of the bucket, so a key it lacks is absent.
	values   map[string]cached
	complete bool
	// gen counts the writes to the bucket's keys; last is the key of
	// the latest and its new value (nil for a deletion), so a cursor
	// standing on that key carries on without reading again.
	gen       uint64
	lastKey   []byte
	lastValue []byte
	// seen is the last key a cursor arrived at, when gen was seenGen,
	// and what it holds: what a walk that rewrites or deletes keys as
	// it meets them writes is known without asking.
	seen    cached
	seenKey []byte
	seenGen uint64
}

// known returns what b holds at key if the transaction knows it without
// asking the database.
func (b *bucket) known(key []byte) (cached, bool) {
	if c, ok := b.values[string(key)]; ok || b.complete {
		return c, true
	}
	if b.seenKey != nil && b.seenGen == b.gen && bytes.Equal(b.seenKey, key) {
		return b.seen, true
	}
	return cached{}, false
}

// asBucket returns b as a kv.Bucket, keeping a nil *bucket a nil interface.
func asBucket(b *bucket) kv.Bucket {
	if b == nil {
		return nil
	}
	return b
}

// childPath returns the path of b's nested bucket name: b's path, then
// name preceded by its length.
func (b *bucket) childPath(name []byte) []byte {
	p := binary.AppendUvarint(bytes.Clone(b.path), uint64(len(name)))
	return append(p, name...)
}

// wrote records a write of key in b (value nil for a deletion).
func (b *bucket) wrote(key, value []byte, isBucket bool) {
	b.gen++
	b.lastKey, b.lastValue = key, value
	b.cache(key, cached{value: value, isBucket: isBucket})
}

// The cache of a bucket's values is bounded, so that a transaction that
// writes or reads a great deal (a migration) does not hold it all twice.
const (
	maxCached      = 4096     // keys of a bucket
	maxCachedValue = 16 << 10 // bytes of a value
)

// cache records what b holds at key, or forgets it when the cache is
// full or the value large.
func (b *bucket) cache(key []byte, c cached) {
	if b.parent != nil && (len(c.value) > maxCachedValue || len(b.values) >= maxCached) {
		// The root is exempt: it holds only the top-level buckets.
		delete(b.values, string(key))
		b.complete = false
		return
	}
	b.values[string(key)] = c
}

// lookup returns what b holds at key, from its cache or the database.
func (b *bucket) lookup(key []byte) (cached, bool) {
	if c, ok := b.values[string(key)]; ok || b.complete {
		return c, true
	}
	if b.tx.err != nil {
		return cached{}, false
	}
	var value []byte
	var isBucket bool
	var seq int64
	found, err := b.tx.queryRow("get", "SELECT value, value IS NULL, seq FROM docket_kv WHERE bucket = $1 AND key = $2",
		[]any{b.path, key}, &value, &isBucket, &seq)
	switch {
	case err != nil:
		return cached{}, false
	case !found:
		value = nil
	case !isBucket && value == nil:
		value = []byte{}
	}
	c := cached{value: value, isBucket: isBucket}
	b.cache(key, c)
	if isBucket {
		b.remember(key, uint64(seq))
	}
	return c, true
}

// remember records that b has the nested bucket name with sequence seq
// and returns it.
func (b *bucket) remember(name []byte, seq uint64) *bucket {
	p := b.childPath(name)
	if nb := b.tx.buckets[string(p)]; nb != nil {
		return nb
	}
	nb := &bucket{tx: b.tx, parent: b, name: bytes.Clone(name), path: p, seq: seq, values: map[string]cached{}}
	b.tx.buckets[string(p)] = nb
	return nb
}

func (b *bucket) Get(key []byte) []byte {
	c, _ := b.lookup(key)
	return c.value
}

// bucket returns b's nested bucket name, or nil.
func (b *bucket) bucket(name []byte) *bucket {
	if len(name) == 0 {
		return nil
	}
	if nb, ok := b.tx.buckets[string(b.childPath(name))]; ok {
		return nb
	}
	c, ok := b.lookup(name)
	if !ok || !c.isBucket {
		return nil
	}
	return b.tx.buckets[string(b.childPath(name))]
}

func (b *bucket) Bucket(name []byte) kv.Bucket { return asBucket(b.bucket(name)) }

// checkKey returns why key cannot be written in b, or nil.
func (b *bucket) checkKey(key []byte) error {
	if len(key) == 0 {
		return kv.ErrKeyRequired
	}
	if n := len(b.path) + len(key); n > maxKey {
		return fmt.Errorf("postgres: %w", docket.Errorf(docket.ETOOLARGE,
			"A key of %d bytes with its bucket's path is too long for the store: at most %d fit.", n, maxKey))
	}
	return nil
}

func (b *bucket) Put(key, value []byte) error {
	if err := b.tx.canWrite(); err != nil {
		return err
	}
	if err := b.checkKey(key); err != nil {
		return err
	}
	if value == nil {
		value = []byte{} // NULL would mark a bucket
	}
	key, value = bytes.Clone(key), bytes.Clone(value)
	c, ok := b.known(key)
	switch {
	case ok && c.isBucket:
		return kv.ErrIncompatibleValue
	case ok:
		if err := b.tx.later("put", putSQL, b.path, key, value); err != nil {
			return err
		}
	default:
		var changed int64
		err := b.tx.send("put", func(batch *pgx.Batch) {
			batch.Queue(putSQL, b.path, key, value).Exec(func(tag pgconn.CommandTag) error {
				changed = tag.RowsAffected()
				return nil
			})
		})
		if err != nil {
			return err
		}
		if changed == 0 {
			return kv.ErrIncompatibleValue
		}
	}
	b.wrote(key, value, false)
	return nil
}

// putSQL sets a key's value. Its update skips a bucket's marker: no row
// changed means the key is a bucket.
const putSQL = `INSERT INTO docket_kv (bucket, key, value) VALUES ($1, $2, $3)
	ON CONFLICT (bucket, key) DO UPDATE SET value = excluded.value WHERE docket_kv.value IS NOT NULL`

func (b *bucket) Delete(key []byte) error {
	if err := b.tx.canWrite(); err != nil {
		return err
	}
	key = bytes.Clone(key)
	if c, ok := b.known(key); ok {
		switch {
		case c.isBucket:
			return kv.ErrIncompatibleValue
		case c.value == nil:
			return nil // known absent
		}
		if err := b.tx.later("delete", "DELETE FROM docket_kv WHERE bucket = $1 AND key = $2", b.path, key); err != nil {
			return err
		}
		b.wrote(key, nil, false)
		return nil
	}
	var isBucket bool
	_, err := b.tx.queryRow("delete", `WITH d AS (
			DELETE FROM docket_kv WHERE bucket = $1 AND key = $2 AND value IS NOT NULL
		) SELECT EXISTS (SELECT FROM docket_kv WHERE bucket = $1 AND key = $2 AND value IS NULL)`,
		[]any{b.path, key}, &isBucket)
	if err != nil {
		return err
	}
	if isBucket {
		return kv.ErrIncompatibleValue
	}
	b.wrote(key, nil, false)
	return nil
}

func (b *bucket) Cursor() kv.Cursor { return &cursor{b: b} }

func (b *bucket) ForEach(fn func(k, v []byte) error) error {
	c := b.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if err := fn(k, v); err != nil {
			return err
		}
	}
	return b.tx.err
}

func (b *bucket) NextSequence() (uint64, error) {
	if err := b.tx.canWrite(); err != nil {
		return 0, err
	}
	var seq int64
	found, err := b.tx.queryRow("next sequence",
		"UPDATE docket_kv SET seq = seq + 1 WHERE bucket = $1 AND key = $2 AND value IS NULL RETURNING seq",
		[]any{b.parent.path, b.name}, &seq)
	if err != nil {
		return 0, err
	}
	if !found {
		return 0, kv.ErrBucketNotFound
	}
	b.seq = uint64(seq)
	return b.seq, nil
}

func (b *bucket) Sequence() uint64 { return b.seq }

// KeyCount returns the number of keys in the bucket, nested buckets
// included, in one query (bolt counts documents for /metrics with it),
// or 0 when the transaction failed.
func (b *bucket) KeyCount() int {
	var n int64
	if _, err := b.tx.queryRow("count", "SELECT count(*) FROM docket_kv WHERE bucket = $1", []any{b.path}, &n); err != nil {
		return 0
	}
	return int(n)
}

// SetSequence sets the bucket's sequence (bolt.Copy uses it to carry a
// sequence over in one step).
func (b *bucket) SetSequence(seq uint64) error {
	if err := b.tx.canWrite(); err != nil {
		return err
	}
	found, err := b.tx.queryRow("set sequence",
		"UPDATE docket_kv SET seq = $3 WHERE bucket = $1 AND key = $2 AND value IS NULL RETURNING seq",
		[]any{b.parent.path, b.name, int64(seq)}, new(int64))
	if err != nil {
		return err
	}
	if !found {
		return kv.ErrBucketNotFound
	}
	b.seq = seq
	return nil
}

func (b *bucket) CreateBucketIfNotExists(name []byte) (kv.Bucket, error) {
	if err := b.tx.canWrite(); err != nil {
		return nil, err
	}
	if len(name) == 0 {
		return nil, fmt.Errorf("%w: a bucket needs a name", kv.ErrKeyRequired)
	}
	if err := b.checkKey(name); err != nil {
		return nil, err
	}
	if nb := b.bucketKnown(name); nb != nil {
		return nb, nil
	}
	// The INSERT makes the bucket unless the name is taken; the SELECT
	// sees the table as it was before, so exactly one row answers.
	var isBucket, made bool
	var seq int64
	_, err := b.tx.queryRow("create bucket", `WITH ins AS (
			INSERT INTO docket_kv (bucket, key, value) VALUES ($1, $2, NULL)
			ON CONFLICT (bucket, key) DO NOTHING RETURNING seq
		) SELECT true, seq, true FROM ins
		UNION ALL SELECT value IS NULL, seq, false FROM docket_kv WHERE bucket = $1 AND key = $2`,
		[]any{b.path, name}, &isBucket, &seq, &made)
	if err != nil {
		return nil, err
	}
	if !isBucket {
		return nil, kv.ErrIncompatibleValue
	}
	nb := b.remember(name, uint64(seq))
	if made {
		// A new bucket is empty: its Gets need not ask.
		nb.complete = true
		b.wrote(bytes.Clone(name), nil, true)
	}
	return nb, nil
}

// bucketKnown returns b's nested bucket name if this transaction already
// found it.
func (b *bucket) bucketKnown(name []byte) *bucket {
	return b.tx.buckets[string(b.childPath(name))]
}

func (b *bucket) DeleteBucket(name []byte) error {
	if err := b.tx.canWrite(); err != nil {
		return err
	}
	if len(name) == 0 {
		return kv.ErrBucketNotFound
	}
	p := b.childPath(name)
	end := successor(p)
	// Everything below the bucket has a path that starts with p, and
	// those paths are the range [p, end). A data-modifying WITH runs
	// whether or not the SELECT reads it.
	var deleted, isKey bool
	_, err := b.tx.queryRow("delete bucket", `WITH m AS (
			DELETE FROM docket_kv WHERE bucket = $1 AND key = $2 AND value IS NULL RETURNING 1
		), d AS (
			DELETE FROM docket_kv WHERE bucket >= $3 AND bucket < $4
		) SELECT EXISTS (SELECT FROM m),
			EXISTS (SELECT FROM docket_kv WHERE bucket = $1 AND key = $2 AND value IS NOT NULL)`,
		[]any{b.path, name, p, end}, &deleted, &isKey)
	if err != nil {
		return err
	}
	switch {
	case isKey:
		return kv.ErrIncompatibleValue
	case !deleted:
		return kv.ErrBucketNotFound
	}
	for k := range b.tx.buckets {
		if strings.HasPrefix(k, string(p)) {
			delete(b.tx.buckets, k)
		}
	}
	b.tx.buckets[string(p)] = nil
	b.wrote(bytes.Clone(name), nil, false)
	return nil
}

// successor returns the least byte string greater than every string that
// starts with p. A path always has a byte below 0xff (the last byte of a
// uvarint), so there is one.
func successor(p []byte) []byte {
	s := bytes.Clone(p)
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] < 0xff {
			s[i]++
			return s[:i+1]
		}
	}
	panic("postgres: a bucket path of 0xff bytes only")
}
