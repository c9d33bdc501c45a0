package bolt

import (
	"errors"

	"github.com/docket-dev/docket/kv"
	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// This file is the bbolt engine: bbolt behind the kv contract the rest of
// the package is written against. A bbolt file already has kv's
// semantics (one writer, snapshot readers, ordered keys, nested buckets);
// the wrapper only turns absent buckets into nil interfaces and bbolt's
// errors into kv's.

// Engine is a bbolt file as a kv.Store.
type Engine struct{ db *bolt.DB }

// NewEngine wraps an open bbolt database.
func NewEngine(db *bolt.DB) *Engine { return &Engine{db} }

// View implements kv.Store.
func (e *Engine) View(fn func(kv.Tx) error) error {
	return e.db.View(func(tx *bolt.Tx) error { return fn(boltTx{tx}) })
}

// Update implements kv.Store.
func (e *Engine) Update(fn func(kv.Tx) error) error {
	return e.db.Update(func(tx *bolt.Tx) error { return fn(boltTx{tx}) })
}

// Close implements kv.Store.
func (e *Engine) Close() error { return e.db.Close() }

type boltTx struct{ tx *bolt.Tx }

func (t boltTx) Bucket(name []byte) kv.Bucket { return wrapBucket(t.tx.Bucket(name)) }

func (t boltTx) CreateBucketIfNotExists(name []byte) (kv.Bucket, error) {
	b, err := t.tx.CreateBucketIfNotExists(name)
	if err != nil {
		return nil, kvError(err)
	}
	return boltBucket{b}, nil
}

func (t boltTx) DeleteBucket(name []byte) error { return kvError(t.tx.DeleteBucket(name)) }
func (t boltTx) OnCommit(fn func())             { t.tx.OnCommit(fn) }
func (t boltTx) Writable() bool                 { return t.tx.Writable() }

type boltBucket struct{ b *bolt.Bucket }

// wrapBucket returns b as a kv.Bucket, nil (not a typed nil) when absent.
func wrapBucket(b *bolt.Bucket) kv.Bucket {
	if b == nil {
		return nil
	}
	return boltBucket{b}
}

func (b boltBucket) Get(key []byte) []byte        { return b.b.Get(key) }
func (b boltBucket) Put(key, value []byte) error  { return kvError(b.b.Put(key, value)) }
func (b boltBucket) Delete(key []byte) error      { return kvError(b.b.Delete(key)) }
func (b boltBucket) Cursor() kv.Cursor            { return boltCursor{b.b.Cursor()} }
func (b boltBucket) Sequence() uint64             { return b.b.Sequence() }
func (b boltBucket) Bucket(name []byte) kv.Bucket { return wrapBucket(b.b.Bucket(name)) }
func (b boltBucket) DeleteBucket(name []byte) error {
	return kvError(b.b.DeleteBucket(name))
}

func (b boltBucket) ForEach(fn func(k, v []byte) error) error { return b.b.ForEach(fn) }

func (b boltBucket) NextSequence() (uint64, error) {
	n, err := b.b.NextSequence()
	return n, kvError(err)
}

func (b boltBucket) CreateBucketIfNotExists(name []byte) (kv.Bucket, error) {
	nb, err := b.b.CreateBucketIfNotExists(name)
	if err != nil {
		return nil, kvError(err)
	}
	return boltBucket{nb}, nil
}

type boltCursor struct{ c *bolt.Cursor }

func (c boltCursor) First() ([]byte, []byte)           { return c.c.First() }
func (c boltCursor) Last() ([]byte, []byte)            { return c.c.Last() }
func (c boltCursor) Next() ([]byte, []byte)            { return c.c.Next() }
func (c boltCursor) Prev() ([]byte, []byte)            { return c.c.Prev() }
func (c boltCursor) Seek(seek []byte) ([]byte, []byte) { return c.c.Seek(seek) }
func (c boltCursor) Delete() error                     { return kvError(c.c.Delete()) }

// kvError translates bbolt's errors into kv's.
func kvError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, berrors.ErrTxNotWritable):
		return kv.ErrTxNotWritable
	case errors.Is(err, berrors.ErrBucketNotFound):
		return kv.ErrBucketNotFound
	case errors.Is(err, berrors.ErrIncompatibleValue):
		return kv.ErrIncompatibleValue
	case errors.Is(err, berrors.ErrKeyRequired), errors.Is(err, berrors.ErrBucketNameRequired):
		return kv.ErrKeyRequired
	}
	return err
}
