package bolt_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	docket "github.com/docket-dev/docket"
	"github.com/docket-dev/docket/bolt"
	"github.com/docket-dev/docket/internal/storetest"
	"github.com/docket-dev/docket/kv"
	bbolt "go.etcd.io/bbolt"
)

// seedDocs is the number of corpus documents the copy tests seed: with
// their ops, more keys than one copy transaction holds.
const seedDocs = 36

// seededFile writes a data file filled by storetest.Seed and returns it,
// closed, with the ids of its documents.
func seededFile(t *testing.T) (string, []string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "docket.db")
	return path, storetest.SeedFile(t, path, seedDocs)
}

// openSource opens a data file read-only, as docket migrate does.
func openSource(t *testing.T, path string) *bolt.DB {
	t.Helper()
	db := bolt.NewDB(path)
	db.ReadOnly = true
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// emptyEngine opens a new bbolt file with nothing in it.
func emptyEngine(t *testing.T, path string) *bolt.Engine {
	t.Helper()
	raw, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	e := bolt.NewEngine(raw)
	t.Cleanup(func() { e.Close() })
	return e
}

func TestCopy(t *testing.T) {
	path, ids := seededFile(t)
	src := openSource(t, path)
	dst := emptyEngine(t, filepath.Join(t.TempDir(), "copy.db"))
	ctx := context.Background()
	var calls [][2]int
	if err := bolt.Copy(ctx, dst, src.Store(), func(done, total int) { calls = append(calls, [2]int{done, total}) }); err != nil {
		t.Fatal(err)
	}
	// Transactions of at most 2,000 keys, progress up to the total.
	total := calls[len(calls)-1][1]
	if len(calls) < 2 || calls[len(calls)-1][0] != total || total < seedDocs*storetest.SeedEdits {
		t.Fatalf("progress calls %v; want several, ending at a total above %d", calls, seedDocs*storetest.SeedEdits)
	}
	for i, c := range calls {
		prev := 0
		if i > 0 {
			prev = calls[i-1][0]
		}
		if step := c[0] - prev; step <= 0 || step > 2000 || c[1] != total {
			t.Errorf("progress call %d = %v after %d; want a step of 1 to 2000 keys of %d", i, c, prev, total)
		}
	}

	report, err := bolt.Verify(ctx, dst, src.Store())
	if err != nil {
		t.Fatal(err)
	}
	if !report.OK() || report.Documents != seedDocs || report.Minutes != 1 || report.Keys != total {
		t.Fatalf("Verify = %s; want %d documents, 1 minutes, %d keys, no differences", report, seedDocs, total)
	}

	// The copy opens as a store and answers as the source does.
	cp := bolt.NewDB("")
	if err := cp.OpenStore(dst); err != nil {
		t.Fatal(err)
	}
	want, got := storetest.NewServices(src), storetest.NewServices(cp)
	ada, err := got.Users.Authenticate(ctx, "ada@example.com", "long enough")
	if err != nil {
		t.Fatalf("sign in on the copy: %v", err)
	}
	as := docket.NewContextWithUser(ctx, ada)
	for _, id := range []string{ids[0], ids[seedDocs-1]} {
		for _, v := range []int64{1, 30, 1 + storetest.SeedEdits} {
			w, err1 := want.Docs.DocumentAt(as, id, v)
			g, err2 := got.Docs.DocumentAt(as, id, v)
			if err1 != nil || err2 != nil || g != w {
				t.Errorf("DocumentAt(%s, %d) on the copy: %d bytes, %v; source %d bytes, %v", id, v, len(g), err2, len(w), err1)
			}
		}
	}
	wantMinutes, err := want.Minutes.FindMinutesRecords(as, ids[0])
	if err != nil || len(wantMinutes) != 1 {
		t.Fatalf("source minutes = %v, %v", wantMinutes, err)
	}
	m, err := got.Minutes.FindMinutesRecord(as, ids[0], wantMinutes[0].ID)
	if w, _ := want.Minutes.FindMinutesRecord(as, ids[0], wantMinutes[0].ID); err != nil || m.Markdown != w.Markdown {
		t.Errorf("frozen minutes on the copy differ (%v)", err)
	}
	// Sequences were copied: the next event follows the source's last.
	last, err := want.Events.FindEvents(as, docket.EventFilter{Limit: 1})
	if err != nil || len(last) != 1 {
		t.Fatal(last, err)
	}
	if _, err := got.Docs.CreateDocument(as, docket.DocumentCreate{Space: "eng", Title: "After the move"}); err != nil {
		t.Fatal(err)
	}
	next, err := got.Events.FindEvents(as, docket.EventFilter{Limit: 1})
	if err != nil || len(next) != 1 || next[0].Seq != last[0].Seq+1 {
		t.Errorf("first event on the copy = %+v, %v; want seq %d", next, err, last[0].Seq+1)
	}
}

func TestCopyRefusesData(t *testing.T) {
	path, _ := seededFile(t)
	src := openSource(t, path)
	dst := emptyEngine(t, filepath.Join(t.TempDir(), "copy.db"))
	if err := dst.Update(func(tx kv.Tx) error {
		_, err := tx.CreateBucketIfNotExists([]byte("users"))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	err := bolt.Copy(context.Background(), dst, src.Store(), nil)
	if !errors.Is(err, bolt.ErrNotEmpty) || !strings.Contains(err.Error(), `"users"`) {
		t.Fatalf("Copy into a store with data = %v; want ErrNotEmpty naming the bucket", err)
	}
}

// TestCopyTwiceAtOnce starts two copies into one store together: one
// copies, the other is refused.
func TestCopyTwiceAtOnce(t *testing.T) {
	path, _ := seededFile(t)
	src := openSource(t, path)
	dst := emptyEngine(t, filepath.Join(t.TempDir(), "copy.db"))
	errs := make(chan error, 2)
	for range 2 {
		go func() { errs <- bolt.Copy(context.Background(), dst, src.Store(), nil) }()
	}
	got := []error{<-errs, <-errs}
	if (got[0] == nil) == (got[1] == nil) || !errors.Is(errors.Join(got...), bolt.ErrNotEmpty) {
		t.Fatalf("two copies at once = %v; want one done and one refused as not empty", got)
	}
	if r, err := bolt.Verify(context.Background(), dst, src.Store()); err != nil || !r.OK() {
		t.Errorf("Verify = %v, %v", r, err)
	}
}

func TestCopyRefusesUnknownBucket(t *testing.T) {
	path, _ := seededFile(t)
	raw, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := raw.Update(func(tx *bbolt.Tx) error {
		_, err := tx.CreateBucket([]byte("from_the_future"))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	src := openSource(t, path)
	err = bolt.Copy(context.Background(), emptyEngine(t, filepath.Join(t.TempDir(), "copy.db")), src.Store(), nil)
	if err == nil || !strings.Contains(err.Error(), `unknown bucket "from_the_future"`) {
		t.Fatalf("Copy of a file with an unknown bucket = %v; want a refusal naming it", err)
	}
}

// TestVerifyFindsDifferences changes a copy behind Docket's back and
// checks that Verify reports each change.
func TestVerifyFindsDifferences(t *testing.T) {
	path, ids := seededFile(t)
	for _, tc := range []struct {
		name   string
		change func(tx *bbolt.Tx) error
		want   []string // substrings of the differences, in order
	}{
		{"none", func(*bbolt.Tx) error { return nil }, nil},
		{"a text", func(tx *bbolt.Tx) error {
			b := tx.Bucket([]byte("bodies"))
			text := slices.Clone(b.Get([]byte(ids[2])))
			text[0] = 'X'
			return b.Put([]byte(ids[2]), text)
		}, []string{"document " + ids[2], "text differs at byte 0"}},
		{"a document gone", func(tx *bbolt.Tx) error {
			return tx.Bucket([]byte("docs")).Delete([]byte(ids[3]))
		}, []string{"bucket docs: 36 keys in the source, 35 in the copy", "36 documents in the source, 35 in the copy", "document " + ids[3] + " ", "missing"}},
		{"a version", func(tx *bbolt.Tx) error {
			b := tx.Bucket([]byte("docs"))
			var d map[string]any
			if err := json.Unmarshal(b.Get([]byte(ids[4])), &d); err != nil {
				return err
			}
			d["version"] = 3
			data, _ := json.Marshal(d)
			return b.Put([]byte(ids[4]), data)
		}, []string{"document " + ids[4], "version 61 in the source, 3 in the copy"}},
		{"the minutes", func(tx *bbolt.Tx) error {
			b := tx.Bucket([]byte("minutes"))
			k, v := b.Cursor().First()
			var m map[string]any
			if err := json.Unmarshal(v, &m); err != nil {
				return err
			}
			m["markdown"] = m["markdown"].(string) + " "
			data, _ := json.Marshal(m)
			return b.Put(k, data)
		}, []string{"minutes ", "markdown differs at byte"}},
		{"a sequence", func(tx *bbolt.Tx) error {
			return tx.Bucket([]byte("events")).SetSequence(1)
		}, []string{"bucket events: sequence"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := openSource(t, path)
			cpPath := filepath.Join(t.TempDir(), "copy.db")
			dst := emptyEngine(t, cpPath)
			if err := bolt.Copy(context.Background(), dst, src.Store(), nil); err != nil {
				t.Fatal(err)
			}
			dst.Close()
			raw, err := bbolt.Open(cpPath, 0o600, nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := raw.Update(tc.change); err != nil {
				t.Fatal(err)
			}
			report, err := bolt.Verify(context.Background(), bolt.NewEngine(raw), src.Store())
			raw.Close()
			if err != nil {
				t.Fatal(err)
			}
			got := strings.Join(report.Differences, "\n")
			if report.OK() != (len(tc.want) == 0) {
				t.Fatalf("report OK = %v:\n%s", report.OK(), report)
			}
			rest := got
			for _, w := range tc.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Fatalf("differences:\n%s\nwant, in order: %q (missing %q)", got, tc.want, w)
				}
				rest = rest[i+len(w):]
			}
		})
	}
}

// BenchmarkCopy copies a file of 120 corpus documents, with their ops,
// threads and events, into an empty bbolt file, and verifies the copy.
func BenchmarkCopy(b *testing.B) {
	path := filepath.Join(b.TempDir(), "docket.db")
	storetest.SeedFile(b, path, 120)
	src := bolt.NewDB(path)
	src.ReadOnly = true
	if err := src.Open(); err != nil {
		b.Fatal(err)
	}
	defer src.Close()
	ctx := context.Background()
	keys := 0
	for i := 0; b.Loop(); i++ {
		raw, err := bbolt.Open(filepath.Join(b.TempDir(), fmt.Sprintf("copy%d.db", i)), 0o600, nil)
		if err != nil {
			b.Fatal(err)
		}
		dst := bolt.NewEngine(raw)
		if err := bolt.Copy(ctx, dst, src.Store(), func(done, _ int) { keys = done }); err != nil {
			b.Fatal(err)
		}
		if r, err := bolt.Verify(ctx, dst, src.Store()); err != nil || !r.OK() {
			b.Fatalf("Verify = %v, %v", r, err)
		}
		dst.Close()
	}
	b.ReportMetric(float64(keys), "keys/op")
}
