package kvtest

import (
	"path/filepath"
	"testing"

	bolt "go.etcd.io/bbolt"

	dbolt "github.com/docket-dev/docket/bolt"
	"github.com/docket-dev/docket/kv"
)

// TestBBolt holds the suite to the engine whose semantics it states:
// bbolt, through the store's wrapper.
func TestBBolt(t *testing.T) {
	Run(t, func(t *testing.T) kv.Store {
		// Without room to grow its mapping, bbolt makes a writer that
		// extends the file wait for every open reader, which kv forbids
		// (the Snapshot case fails after 10 s).
		db, err := bolt.Open(filepath.Join(t.TempDir(), "kv.db"), 0o600, &bolt.Options{InitialMmapSize: 1 << 26})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return dbolt.NewEngine(db)
	})
}
