// Package kv is the contract between Docket's store (package bolt, which
// implements the domain's services) and the engine that keeps its bytes:
// an ordered key-value store with nested buckets, one writer at a time
// and snapshot reads. It is the subset of bbolt's API the store uses, so
// bbolt satisfies it through a thin wrapper (bolt/engine.go), and
// package postgres implements it on PostgreSQL for cluster mode.
//
// The semantics every engine keeps (kvtest checks them):
//
//   - Update runs fn in a write transaction. Write transactions are
//     serialised across every process that shares the store: fn sees every
//     transaction that committed before it began, and none commits while
//     it runs. If fn returns nil the transaction commits durably before
//     Update returns; otherwise nothing it wrote is kept.
//   - View runs fn in a read transaction that sees one consistent
//     snapshot, taken when it began, and never blocks writers.
//   - Keys are ordered bytewise; a cursor walks a bucket's keys in order.
//     A nested bucket appears to Get as nil and to a cursor as a key with
//     a nil value.
//   - Bucket returns nil for a bucket that does not exist; Put, Delete
//     and NextSequence in a read transaction fail.
//   - Byte slices returned by Get and cursors are valid only inside their
//     transaction and must not be modified.
//   - An engine that fails mid-transaction (a lost connection) makes the
//     rest of the transaction read nothing and View or Update return the
//     error, so a failure is never taken for missing data.
package kv

import "errors"

// Store is an engine: a place for buckets of ordered keys.
type Store interface {
	// View runs fn in a read transaction.
	View(fn func(Tx) error) error
	// Update runs fn in a write transaction, committed durably when fn
	// returns nil.
	Update(fn func(Tx) error) error
	// Close releases the store.
	Close() error
}

// Tx is a transaction.
type Tx interface {
	// Bucket returns the top-level bucket name, or nil.
	Bucket(name []byte) Bucket
	// CreateBucketIfNotExists returns the top-level bucket name, making it
	// first if needed.
	CreateBucketIfNotExists(name []byte) (Bucket, error)
	// DeleteBucket deletes the top-level bucket name and everything in it.
	DeleteBucket(name []byte) error
	// OnCommit registers fn to run after the transaction commits, in
	// the order registered; it never runs for a transaction that rolls
	// back.
	OnCommit(fn func())
	// Writable reports whether this is a write transaction.
	Writable() bool
}

// Bucket is a set of ordered keys, some of which may be nested buckets.
type Bucket interface {
	// Get returns the value of key, or nil if it is absent or a bucket.
	Get(key []byte) []byte
	// Put sets the value of key; value must not be nil.
	Put(key, value []byte) error
	// Delete removes key; deleting an absent key is not an error.
	Delete(key []byte) error
	// Cursor returns a cursor over the bucket's keys.
	Cursor() Cursor
	// ForEach calls fn for every key in order, stopping at its first error.
	ForEach(fn func(k, v []byte) error) error
	// NextSequence increments the bucket's sequence and returns it; the
	// first call returns 1.
	NextSequence() (uint64, error)
	// Sequence returns the bucket's sequence without changing it.
	Sequence() uint64
	// Bucket returns the nested bucket name, or nil.
	Bucket(name []byte) Bucket
	// CreateBucketIfNotExists returns the nested bucket name, making it
	// first if needed.
	CreateBucketIfNotExists(name []byte) (Bucket, error)
	// DeleteBucket deletes the nested bucket name and everything in it.
	DeleteBucket(name []byte) error
}

// Cursor walks a bucket's keys in order. Every move returns the key and
// value it arrived at, or a nil key past either end.
type Cursor interface {
	First() (key, value []byte)
	Last() (key, value []byte)
	Next() (key, value []byte)
	Prev() (key, value []byte)
	// Seek moves to the first key >= seek.
	Seek(seek []byte) (key, value []byte)
	// Delete removes the key the cursor is at.
	Delete() error
}

// Errors every engine returns for the same mistakes.
var (
	ErrTxNotWritable     = errors.New("kv: transaction not writable")
	ErrBucketNotFound    = errors.New("kv: bucket not found")
	ErrIncompatibleValue = errors.New("kv: key is a bucket, or a bucket name is a key")
	ErrKeyRequired       = errors.New("kv: key required")
)
