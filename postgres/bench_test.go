package postgres

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/docket-dev/docket/internal/testenv"
	"github.com/docket-dev/docket/kv"
)

// benchStore opens a store on a fresh schema with a bucket of 100 keys
// (k000..k099, 100-byte values) for the benchmarks.
func benchStore(b *testing.B, rt *roundTrips) *Store {
	b.Helper()
	s, err := Open(context.Background(), testenv.Postgres(b), withTracer(rt))
	if err != nil {
		b.Fatalf("Open: %v", err)
	}
	b.Cleanup(func() { s.Close() })
	value := make([]byte, 100)
	if err := s.Update(func(tx kv.Tx) error {
		bk, err := tx.CreateBucketIfNotExists([]byte("docs"))
		if err != nil {
			return err
		}
		for i := range 100 {
			if err := bk.Put(fmt.Appendf(nil, "k%03d", i), value); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	rt.n.Store(0)
	return s
}

// BenchmarkUpdate is a small write transaction: three keys put in one
// bucket, committed durably.
func BenchmarkUpdate(b *testing.B) {
	var rt roundTrips
	s := benchStore(b, &rt)
	value := make([]byte, 100)
	i := 0
	for b.Loop() {
		err := s.Update(func(tx kv.Tx) error {
			bk := tx.Bucket([]byte("docs"))
			for j := range 3 {
				if err := bk.Put(fmt.Appendf(nil, "w%d-%d", i, j), value); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		i++
	}
	b.ReportMetric(float64(rt.n.Load())/float64(b.N), "roundtrips/op")
}

// BenchmarkUpdateReadModifyWrite reads three keys and writes them back,
// the store's usual write: the Puts wait for the COMMIT.
func BenchmarkUpdateReadModifyWrite(b *testing.B) {
	var rt roundTrips
	s := benchStore(b, &rt)
	for b.Loop() {
		err := s.Update(func(tx kv.Tx) error {
			bk := tx.Bucket([]byte("docs"))
			for j := range 3 {
				k := fmt.Appendf(nil, "k%03d", j*31)
				v := bk.Get(k)
				if v == nil {
					return fmt.Errorf("%s missing", k)
				}
				if err := bk.Put(k, append([]byte{v[0] + 1}, v[1:]...)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(rt.n.Load())/float64(b.N), "roundtrips/op")
}

// BenchmarkView is a typical read transaction: five keys read and a walk
// of twenty.
func BenchmarkView(b *testing.B) {
	var rt roundTrips
	s := benchStore(b, &rt)
	for b.Loop() {
		err := s.View(func(tx kv.Tx) error {
			bk := tx.Bucket([]byte("docs"))
			for j := range 5 {
				if bk.Get(fmt.Appendf(nil, "k%03d", j*17)) == nil {
					return fmt.Errorf("k%03d missing", j*17)
				}
			}
			c := bk.Cursor()
			n := 0
			for k, _ := c.Seek([]byte("k040")); k != nil && n < 20; k, _ = c.Next() {
				n++
			}
			if n != 20 {
				return fmt.Errorf("walked %d keys; want 20", n)
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(rt.n.Load())/float64(b.N), "roundtrips/op")
}

// BenchmarkRoundTrip is one query on a pooled connection, the unit the
// other benchmarks count in roundtrips/op.
func BenchmarkRoundTrip(b *testing.B) {
	var rt roundTrips
	s := benchStore(b, &rt)
	ctx := context.Background()
	for b.Loop() {
		if _, err := s.pool.Exec(ctx, "SELECT 1"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkUpdateNodes is the cluster's write ceiling: three stores on one
// schema, as three nodes, each with several goroutines running small
// write transactions (three keys, each writer its own) at once. Every
// write transaction of the cluster takes the one advisory writer lock, so
// the rate (tx/s) is what the whole cluster commits, however many nodes.
func BenchmarkUpdateNodes(b *testing.B) {
	stores := openNodes(b, 3, "docs")
	value := make([]byte, 100)
	var next atomic.Int64
	b.SetParallelism(4) // 4 x GOMAXPROCS writers, spread over the stores
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		w := next.Add(1)
		s := stores[w%int64(len(stores))]
		for i := 0; pb.Next(); i++ {
			err := s.Update(func(tx kv.Tx) error {
				bk := tx.Bucket([]byte("docs"))
				for j := range 3 {
					if err := bk.Put(fmt.Appendf(nil, "w%d-%d-%d", w, i, j), value); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tx/s")
}
