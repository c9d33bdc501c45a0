package kvtest

import (
	"errors"
	"path/filepath"
	"testing"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/docket-dev/docket/kv"
)

// TestBBolt holds the suite to the engine whose semantics it states:
// bbolt, through the least wrapper that makes it a kv.Store. The store's
// own wrapper (bolt/engine.go) runs the suite in bolt's tests.
func TestBBolt(t *testing.T) {
	Run(t, func(t *testing.T) kv.Store {
		// Without room to grow the mapping, a writer that extends the
		// file waits for every open reader.
		db, err := bolt.Open(filepath.Join(t.TempDir(), "kv.db"), 0o600, &bolt.Options{InitialMmapSize: 1 << 26})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return boltStore{db}
	})
}

type (
	boltStore  struct{ db *bolt.DB }
	boltTx     struct{ tx *bolt.Tx }
	boltBucket struct{ b *bolt.Bucket }
	boltCursor struct{ *bolt.Cursor }
)

// boltErr returns kv's error for one of bbolt's.
func boltErr(err error) error {
	for _, e := range [][2]error{
		{bolterrors.ErrTxNotWritable, kv.ErrTxNotWritable},
		{bolterrors.ErrBucketNotFound, kv.ErrBucketNotFound},
		{bolterrors.ErrIncompatibleValue, kv.ErrIncompatibleValue},
		{bolterrors.ErrKeyRequired, kv.ErrKeyRequired},
	} {
		if errors.Is(err, e[0]) {
			return e[1]
		}
	}
	return err
}

func boltBucketOf(b *bolt.Bucket, err error) (kv.Bucket, error) {
	if b == nil {
		return nil, boltErr(err)
	}
	return boltBucket{b}, boltErr(err)
}

func (s boltStore) View(fn func(kv.Tx) error) error {
	return s.db.View(func(tx *bolt.Tx) error { return fn(boltTx{tx}) })
}

func (s boltStore) Update(fn func(kv.Tx) error) error {
	return s.db.Update(func(tx *bolt.Tx) error { return fn(boltTx{tx}) })
}

func (s boltStore) Close() error { return s.db.Close() }

func (t boltTx) Bucket(name []byte) kv.Bucket {
	b, _ := boltBucketOf(t.tx.Bucket(name), nil)
	return b
}

func (t boltTx) CreateBucketIfNotExists(name []byte) (kv.Bucket, error) {
	return boltBucketOf(t.tx.CreateBucketIfNotExists(name))
}

func (t boltTx) DeleteBucket(name []byte) error { return boltErr(t.tx.DeleteBucket(name)) }
func (t boltTx) OnCommit(fn func())             { t.tx.OnCommit(fn) }
func (t boltTx) Writable() bool                 { return t.tx.Writable() }

func (b boltBucket) Get(key []byte) []byte          { return b.b.Get(key) }
func (b boltBucket) Put(key, value []byte) error    { return boltErr(b.b.Put(key, value)) }
func (b boltBucket) Delete(key []byte) error        { return boltErr(b.b.Delete(key)) }
func (b boltBucket) Cursor() kv.Cursor              { return boltCursor{b.b.Cursor()} }
func (b boltBucket) Sequence() uint64               { return b.b.Sequence() }
func (b boltBucket) DeleteBucket(name []byte) error { return boltErr(b.b.DeleteBucket(name)) }

func (b boltBucket) ForEach(fn func(k, v []byte) error) error { return b.b.ForEach(fn) }

func (b boltBucket) NextSequence() (uint64, error) {
	n, err := b.b.NextSequence()
	return n, boltErr(err)
}

func (b boltBucket) Bucket(name []byte) kv.Bucket {
	nb, _ := boltBucketOf(b.b.Bucket(name), nil)
	return nb
}

func (b boltBucket) CreateBucketIfNotExists(name []byte) (kv.Bucket, error) {
	return boltBucketOf(b.b.CreateBucketIfNotExists(name))
}

func (c boltCursor) Delete() error { return boltErr(c.Cursor.Delete()) }
