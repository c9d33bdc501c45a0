package postgres

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/docket-dev/docket"

	"github.com/docket-dev/docket/internal/testenv"
	"github.com/docket-dev/docket/kv"
	"github.com/docket-dev/docket/kv/kvtest"
)

// openTest opens a store on a fresh schema, closed when the test ends.
func openTest(t testing.TB) *Store {
	t.Helper()
	s, err := Open(context.Background(), testenv.Postgres(t))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestKV(t *testing.T) {
	testenv.Postgres(t) // skip once, not in every case, without PostgreSQL
	kvtest.Run(t, func(t *testing.T) kv.Store { return openTest(t) })
}

// openNodes opens n stores on one fresh schema, as the nodes of a
// cluster, with a bucket made.
func openNodes(tb testing.TB, n int, bucket string, opts ...Option) []*Store {
	tb.Helper()
	url := testenv.Postgres(tb)
	var nodes []*Store
	for range n {
		s, err := Open(context.Background(), url, opts...)
		if err != nil {
			tb.Fatalf("Open: %v", err)
		}
		tb.Cleanup(func() { s.Close() })
		nodes = append(nodes, s)
	}
	if err := nodes[0].Update(func(tx kv.Tx) error {
		_, err := tx.CreateBucketIfNotExists([]byte(bucket))
		return err
	}); err != nil {
		tb.Fatal(err)
	}
	return nodes
}

// TestNodes runs the writers of two stores on one schema, as two nodes
// of a cluster: the advisory lock serialises them, so no
// read-increment-write is lost.
func TestNodes(t *testing.T) {
	nodes := openNodes(t, 2, "b")
	const perNode = 3 * 10
	var wg sync.WaitGroup
	for _, s := range nodes {
		for range 3 {
			wg.Go(func() {
				for range perNode / 3 {
					err := s.Update(func(tx kv.Tx) error {
						b := tx.Bucket([]byte("b"))
						n, _ := strconv.Atoi(string(b.Get([]byte("n"))))
						return b.Put([]byte("n"), []byte(strconv.Itoa(n+1)))
					})
					if err != nil {
						t.Errorf("Update: %v", err)
						return
					}
				}
			})
		}
	}
	wg.Wait()
	if err := nodes[1].View(func(tx kv.Tx) error {
		if got, want := string(tx.Bucket([]byte("b")).Get([]byte("n"))), strconv.Itoa(2*perNode); got != want {
			t.Errorf("counter = %s after the writes of two nodes; want %s", got, want)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// TestLostConnection kills the connection of a transaction in its middle:
// reads then return nothing, writes fail, and Update and View return the
// failure, as unavailable, instead of committing what they saw as missing.
func TestLostConnection(t *testing.T) {
	s := openTest(t)
	if err := s.Update(func(tx kv.Tx) error {
		b, err := tx.CreateBucketIfNotExists([]byte("b"))
		if err != nil {
			return err
		}
		return b.Put([]byte("k"), []byte("v"))
	}); err != nil {
		t.Fatal(err)
	}
	kill := func(ktx kv.Tx) {
		t.Helper()
		pid := ktx.(*tx).conn.PgConn().PID()
		if _, err := s.pool.Exec(context.Background(), "SELECT pg_terminate_backend($1)", pid); err != nil {
			t.Fatalf("terminate backend %d: %v", pid, err)
		}
	}
	err := s.Update(func(tx kv.Tx) error {
		kill(tx)
		b := tx.Bucket([]byte("b")) // known from the transaction's start
		if got := b.Get([]byte("k")); got != nil {
			t.Errorf("Get on a lost connection = %q; want nil", got)
		}
		if b.Bucket([]byte("n")) != nil {
			t.Error("Bucket on a lost connection is not nil")
		}
		// Code that takes the missing value for absent data and writes.
		if err := b.Put([]byte("k"), []byte("default")); err == nil {
			t.Error("Put on a lost connection: nil error")
		}
		if nb, err := b.CreateBucketIfNotExists([]byte("n")); err == nil || nb != nil {
			t.Errorf("CreateBucketIfNotExists on a lost connection = %v, %v; want an error", nb, err)
		}
		return nil // fn saw no error it kept
	})
	if code := docket.ErrorCode(err); code != docket.EUNAVAILABLE {
		t.Errorf("Update on a lost connection = %v (code %q); want %s", err, code, docket.EUNAVAILABLE)
	}
	err = s.View(func(tx kv.Tx) error {
		b := tx.Bucket([]byte("b"))
		kill(tx)
		if got := b.Get([]byte("k")); got != nil {
			t.Errorf("Get on a lost connection = %q; want nil", got)
		}
		if k, _ := b.Cursor().First(); k != nil {
			t.Errorf("First on a lost connection = %q; want nil", k)
		}
		return nil
	})
	if code := docket.ErrorCode(err); code != docket.EUNAVAILABLE {
		t.Errorf("View on a lost connection = %v (code %q); want %s", err, code, docket.EUNAVAILABLE)
	}
	// Writes that waited for the COMMIT are lost with the connection,
	// and Update says so.
	err = s.Update(func(tx kv.Tx) error {
		b := tx.Bucket([]byte("b"))
		if got := b.Get([]byte("k")); string(got) != "v" {
			t.Errorf("Get = %q; want v", got)
		}
		if err := b.Put([]byte("k"), []byte("lost")); err != nil { // known: it waits
			return err
		}
		kill(tx)
		return nil
	})
	if code := docket.ErrorCode(err); code != docket.EUNAVAILABLE {
		t.Errorf("Update whose COMMIT was lost = %v (code %q); want %s", err, code, docket.EUNAVAILABLE)
	}

	// The pool dropped the dead connections: the store works on.
	if err := s.View(func(tx kv.Tx) error {
		if got := tx.Bucket([]byte("b")).Get([]byte("k")); string(got) != "v" {
			t.Errorf("Get after the lost connections = %q; want v", got)
		}
		return nil
	}); err != nil {
		t.Errorf("View after the lost connections: %v", err)
	}
}

// TestRefusals checks the mistakes the engine refuses without spoiling
// the transaction.
func TestRefusals(t *testing.T) {
	s := openTest(t)
	err := s.Update(func(tx kv.Tx) error {
		b, err := tx.CreateBucketIfNotExists([]byte("b"))
		if err != nil {
			return err
		}
		if err := b.Put(bytes.Repeat([]byte("k"), maxKey), []byte("v")); docket.ErrorCode(err) != docket.ETOOLARGE {
			t.Errorf("Put of a %d-byte key = %v; want an %s error", maxKey, err, docket.ETOOLARGE)
		}
		if _, err := tx.CreateBucketIfNotExists(nil); !errors.Is(err, kv.ErrKeyRequired) {
			t.Errorf("CreateBucketIfNotExists(nil) = %v; want %v", err, kv.ErrKeyRequired)
		}
		if tx.Bucket(nil) != nil {
			t.Error("Bucket(nil) is not nil")
		}
		return b.Put([]byte("k"), []byte("v"))
	})
	if err != nil {
		t.Fatalf("Update after refused writes: %v", err)
	}
}

func TestOpen(t *testing.T) {
	ctx := context.Background()
	url := testenv.Postgres(t)
	s := openTest(t) // another schema: its lock keys differ
	for range 2 {    // the second Open finds the schema up to date
		s2, err := Open(ctx, url)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		if s2.writerKey == s.writerKey {
			t.Error("two schemas share a writer lock")
		}
		if err := s2.Ping(ctx); err != nil {
			t.Errorf("Ping: %v", err)
		}
		size, err := s2.Size(ctx)
		if err != nil || size <= 0 {
			t.Errorf("Size = %d, %v; want a positive size", size, err)
		}
		s2.Close()
	}

	// A schema a newer Docket migrated is refused.
	if _, err := s.pool.Exec(ctx, "UPDATE docket_schema SET version = version + 1"); err != nil {
		t.Fatal(err)
	}
	_, err := Open(ctx, s.pool.Config().ConnString())
	if code := docket.ErrorCode(err); code != docket.EINVALID || !strings.Contains(docket.ErrorMessage(err), "newer") {
		t.Errorf("Open of a newer schema = %v; want an %s error that says it is newer", err, docket.EINVALID)
	}

	for _, tc := range []struct {
		url  string
		code string
	}{
		{"", docket.EINVALID},
		{"postgres://%zz", docket.EINVALID},
		{strings.Replace(url, "search_path=", "search_path=no_such_schema_", 1), docket.EINVALID},
		{"postgres://nobody@127.0.0.1:1/test?connect_timeout=2", docket.EUNAVAILABLE},
	} {
		_, err := Open(ctx, tc.url)
		if got := docket.ErrorCode(err); got != tc.code {
			t.Errorf("Open(%q) = %v; want code %s", tc.url, err, tc.code)
		}
	}
}

func TestMigrations(t *testing.T) {
	ms, err := migrations(migrationFiles)
	if err != nil || len(ms) == 0 {
		t.Fatalf("migrations = %d, %v; want some and no error", len(ms), err)
	}
	for i, m := range ms {
		if m.version != i+1 || m.sql == "" {
			t.Errorf("migration %d = version %d of %s; want version %d with SQL", i, m.version, m.name, i+1)
		}
	}
	for name, fsys := range map[string]fstest.MapFS{
		"a gap":      {"migrations/0001_a.sql": {}, "migrations/0003_c.sql": {}},
		"no number":  {"migrations/first.sql": {}},
		"a doubling": {"migrations/0001_a.sql": {}, "migrations/0001_b.sql": {}},
	} {
		if _, err := migrations(fsys); err == nil {
			t.Errorf("migrations with %s: nil error", name)
		}
	}
}

func TestTranslate(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{&pgconn.PgError{Code: "57P01"}, docket.EUNAVAILABLE},                    // admin shutdown
		{&pgconn.PgError{Code: "08006"}, docket.EUNAVAILABLE},                    // connection failure
		{&pgconn.PgError{Code: "54000"}, docket.ETOOLARGE},                       // index row too large
		{&pgconn.PgError{Code: "25P03", Severity: "FATAL"}, docket.EUNAVAILABLE}, // idle in transaction
		{&pgconn.PgError{Code: "23505"}, docket.EINTERNAL},                       // a unique violation is a bug here
		{context.DeadlineExceeded, docket.EUNAVAILABLE},
		{io.ErrUnexpectedEOF, docket.EUNAVAILABLE},
		{errors.New("other"), docket.EINTERNAL},
	} {
		err := translate("op", tc.err)
		if got := docket.ErrorCode(err); got != tc.want || !errors.Is(err, tc.err) {
			t.Errorf("translate(%v) = %v (code %s); want code %s wrapping the cause", tc.err, err, got, tc.want)
		}
	}
}

// TestCacheBounds writes more keys, and a larger value, than a bucket
// caches, in a bucket made by the same transaction (whose cache starts
// complete): every Get still answers what was put.
func TestCacheBounds(t *testing.T) {
	s := openTest(t)
	big := bytes.Repeat([]byte("v"), maxCachedValue+1)
	err := s.Update(func(tx kv.Tx) error {
		b, err := tx.CreateBucketIfNotExists([]byte("b"))
		if err != nil {
			return err
		}
		if err := b.Put([]byte("big"), big); err != nil {
			return err
		}
		if got := b.Get([]byte("big")); !bytes.Equal(got, big) {
			t.Errorf("Get(big) = %d bytes; want the %d put", len(got), len(big))
		}
		for i := range maxCached + 10 {
			if err := b.Put([]byte(strconv.Itoa(i)), []byte(strconv.Itoa(i))); err != nil {
				return err
			}
		}
		for i := range maxCached + 10 {
			if got := string(b.Get([]byte(strconv.Itoa(i)))); got != strconv.Itoa(i) {
				t.Fatalf("Get(%d) = %q; want %d", i, got, i)
			}
		}
		if got := b.Get([]byte("absent")); got != nil {
			t.Errorf("Get(absent) = %q; want nil", got)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestRoundTrips counts the queries of the patterns the cursor is built
// for: a long walk reads growing pages, and a walk that rewrites or
// deletes each key as it meets it neither reads a page again nor waits
// for each write.
func TestRoundTrips(t *testing.T) {
	var rt roundTrips
	s, err := Open(context.Background(), testenv.Postgres(t), withTracer(&rt))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const n = 3000
	if err := s.Update(func(tx kv.Tx) error {
		b, err := tx.CreateBucketIfNotExists([]byte("b"))
		if err != nil {
			return err
		}
		for i := range n {
			if err := b.Put(fmt.Appendf(nil, "k%04d", i), []byte("v")); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		fn   func(b kv.Bucket, c kv.Cursor, k []byte) error
		max  int64 // round trips, with the transaction's begin and commit
	}{
		{"walk", func(kv.Bucket, kv.Cursor, []byte) error { return nil }, 2 + 10},
		// The writes wait and go maxPending at a time.
		{"rewrite", func(b kv.Bucket, _ kv.Cursor, k []byte) error { return b.Put(k, []byte("w")) }, 2 + 10 + n/maxPending},
		{"delete", func(_ kv.Bucket, c kv.Cursor, _ []byte) error { return c.Delete() }, 2 + 10 + n/maxPending},
	} {
		rt.n.Store(0)
		seen := 0
		err := s.Update(func(tx kv.Tx) error {
			b := tx.Bucket([]byte("b"))
			c := b.Cursor()
			for k, _ := c.First(); k != nil; k, _ = c.Next() {
				seen++
				if err := tc.fn(b, c, k); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if seen != n {
			t.Errorf("%s saw %d keys; want %d", tc.name, seen, n)
		}
		if got := rt.n.Load(); got > tc.max {
			t.Errorf("%s of %d keys took %d round trips; want at most %d", tc.name, n, got, tc.max)
		}
	}
}

// TestWriterGone checks that a writer that stops talking in the middle of
// its transaction loses it, and the writer lock, after writerIdle, so the
// other nodes can write again.
func TestWriterGone(t *testing.T) {
	url := testenv.Postgres(t)
	other, err := Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	gone, err := Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer gone.Close()
	gone.writerIdle = 500 * time.Millisecond

	stalled := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- gone.Update(func(tx kv.Tx) error {
			if _, err := tx.CreateBucketIfNotExists([]byte("b")); err != nil {
				return err
			}
			close(stalled)
			time.Sleep(2 * time.Second) // the node hangs, holding the lock
			_, err := tx.CreateBucketIfNotExists([]byte("c"))
			return err
		})
	}()
	<-stalled
	start := time.Now()
	if err := other.Update(func(tx kv.Tx) error {
		_, err := tx.CreateBucketIfNotExists([]byte("d"))
		return err
	}); err != nil {
		t.Fatalf("Update of the other node: %v", err)
	}
	if waited := time.Since(start); waited > 1500*time.Millisecond {
		t.Errorf("the other node waited %v for the writer lock; want about writerIdle (500ms)", waited)
	}
	if err := <-done; docket.ErrorCode(err) != docket.EUNAVAILABLE {
		t.Errorf("Update of the hung writer = %v; want an %s error", err, docket.EUNAVAILABLE)
	}
}

// TestOpenTogether starts three nodes at once on an empty schema: the
// migration lock has one of them make the tables and the others find them.
func TestOpenTogether(t *testing.T) {
	url := testenv.Postgres(t)
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() {
			s, err := Open(context.Background(), url)
			if err != nil {
				t.Errorf("Open: %v", err)
				return
			}
			s.Close()
		})
	}
	wg.Wait()
}

// TestLead runs a job on two nodes: one leads at a time, and when the
// leader's lock connection is lost a node leads again. (The old leader
// may run on for up to one check interval after its connection died:
// what a lead runs must stay correct then, as Docket's jobs are, since
// each records its work in the same serialised transaction.)
func TestLead(t *testing.T) {
	url := testenv.Postgres(t)
	var nodes []*Store
	for range 2 {
		s, err := Open(context.Background(), url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		nodes = append(nodes, s)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var leading sync.Map
	led := make(chan int, 4)
	var wg sync.WaitGroup
	for i, s := range nodes {
		wg.Go(func() {
			s.Lead(ctx, "job", 100*time.Millisecond, func(ctx context.Context) {
				leading.Store(i, true)
				led <- i
				<-ctx.Done()
				leading.Delete(i)
			})
		})
	}
	first := <-led
	time.Sleep(300 * time.Millisecond) // the other node tries meanwhile
	n := 0
	leading.Range(func(any, any) bool { n++; return true })
	if n != 1 {
		t.Fatalf("%d nodes lead at once; want 1", n)
	}
	// Cut the leader's lock connection off, as a restart of its backend
	// would.
	if _, err := nodes[1-first].pool.Exec(context.Background(),
		`SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND granted AND pid <> pg_backend_pid()
		 AND objid = ($1::bigint & x'ffffffff'::bigint)`, lockKey("lead job", nodes[0].schema)); err != nil {
		t.Fatal(err)
	}
	select {
	case <-led:
	case <-time.After(5 * time.Second):
		t.Fatal("no node led again within 5 s of losing the leader's connection")
	}
	cancel()
	wg.Wait()
}

// TestSetSequence: a sequence set in one step (as bolt.Copy does) holds in
// the next transaction and goes on from there.
func TestSetSequence(t *testing.T) {
	s := openTest(t)
	if err := s.Update(func(tx kv.Tx) error {
		b, err := tx.CreateBucketIfNotExists([]byte("events"))
		if err != nil {
			return err
		}
		return b.(interface{ SetSequence(uint64) error }).SetSequence(1_000_000)
	}); err != nil {
		t.Fatal(err)
	}
	var got, next uint64
	if err := s.Update(func(tx kv.Tx) error {
		b := tx.Bucket([]byte("events"))
		got = b.Sequence()
		var err error
		next, err = b.NextSequence()
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if got != 1_000_000 || next != 1_000_001 {
		t.Errorf("after SetSequence(1000000): Sequence %d, NextSequence %d; want 1000000, 1000001", got, next)
	}
}

// TestKeyCount counts a bucket's keys and nested buckets in one query,
// its own writes of the transaction included.
func TestKeyCount(t *testing.T) {
	s := openTest(t)
	var got []int
	if err := s.Update(func(tx kv.Tx) error {
		b, err := tx.CreateBucketIfNotExists([]byte("docs"))
		if err != nil {
			return err
		}
		got = append(got, b.(interface{ KeyCount() int }).KeyCount())
		for i := range 5 {
			if err := b.Put([]byte{byte('a' + i)}, []byte("v")); err != nil {
				return err
			}
		}
		if _, err := b.CreateBucketIfNotExists([]byte("nested")); err != nil {
			return err
		}
		if err := b.Delete([]byte("a")); err != nil {
			return err
		}
		got = append(got, b.(interface{ KeyCount() int }).KeyCount())
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.View(func(tx kv.Tx) error {
		got = append(got, tx.Bucket([]byte("docs")).(interface{ KeyCount() int }).KeyCount())
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if want := []int{0, 5, 5}; !slices.Equal(got, want) {
		t.Errorf("KeyCount = %v; want %v (4 keys and a nested bucket)", got, want)
	}
}
