package bolt_test

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	docket "github.com/docket-dev/docket"
	"github.com/docket-dev/docket/bolt"
	bbolt "go.etcd.io/bbolt"
)

// mustOpenDB opens a test data file (see OpenTestDB) that keeps a
// snapshot every 7 versions, so that tests cross snapshots soon.
func mustOpenDB(tb testing.TB) *bolt.DB {
	tb.Helper()
	db := bolt.OpenTestDB(tb)
	db.SnapshotEvery = 7
	return db
}

// needsFile skips a test of the bbolt data file itself (its lock, its
// bytes, reopening it) when DOCKET_TEST_ENGINE runs the package's tests
// on another engine (see OpenTestDB).
func needsFile(tb testing.TB, db *bolt.DB) {
	tb.Helper()
	if db.Path == "" {
		tb.Skip("a test of the bbolt data file; DOCKET_TEST_ENGINE runs the tests on another engine")
	}
}

// seed creates an admin user (ada) and a space and returns a context
// acting as that user.
func seed(tb testing.TB, db *bolt.DB) context.Context {
	tb.Helper()
	ctx := docket.NewContextWithUser(context.Background(), createAda(tb, db))
	if _, err := bolt.NewSpaceService(db).CreateSpace(ctx, "eng", "Engineering"); err != nil {
		tb.Fatal(err)
	}
	return ctx
}

// createAda creates the user Ada, who is a site admin when she is the
// first.
func createAda(tb testing.TB, db *bolt.DB) *docket.User {
	tb.Helper()
	u, err := bolt.NewUserService(db).CreateUser(context.Background(), docket.UserCreate{Name: "Ada", Email: "ada@example.com", Password: "long enough"})
	if err != nil {
		tb.Fatal(err)
	}
	return u
}

// seedDoc seeds db (see seed) and creates a document in its space "eng"
// as Ada.
func seedDoc(tb testing.TB, db *bolt.DB, title, body string) (context.Context, *docket.Document) {
	tb.Helper()
	ctx := seed(tb, db)
	d, err := bolt.NewDocumentService(db).CreateDocument(ctx, docket.DocumentCreate{Space: "eng", Title: title, Body: body})
	if err != nil {
		tb.Fatal(err)
	}
	return ctx, d
}

// newRawFile creates a data file, then changes it behind Docket's back.
func newRawFile(t *testing.T, change func(tx *bbolt.Tx) error) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "docket.db")
	db := bolt.NewDB(path)
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	db.Close()
	raw, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if err := raw.Update(change); err != nil {
		t.Fatal(err)
	}
	return path
}

// fileAtSchema creates a data file and turns it into one of an older (or
// newer) schema: it drops the buckets that schema did not have and
// stores its version.
func fileAtSchema(t *testing.T, version byte, drop ...string) string {
	t.Helper()
	return newRawFile(t, func(tx *bbolt.Tx) error {
		for _, name := range drop {
			if err := tx.DeleteBucket([]byte(name)); err != nil {
				return err
			}
		}
		return tx.Bucket([]byte("meta")).Put([]byte("schema_version"), []byte{0, 0, 0, 0, 0, 0, 0, version})
	})
}

func TestRefusesNewerSchema(t *testing.T) {
	err := bolt.NewDB(fileAtSchema(t, 99)).Open()
	if err == nil || !strings.Contains(err.Error(), "newer version") {
		t.Fatalf("Open = %v; want a newer-schema error", err)
	}
}

// TestMigrates opens files of older schemas and finds the buckets they
// lacked made and the schema version moved on.
func TestMigrates(t *testing.T) {
	for _, tc := range []struct {
		version byte
		lacks   []string
	}{
		{1, []string{"live_sessions"}},
		{3, []string{"visits"}},
		{5, []string{"templates", "template_seeds"}},
	} {
		t.Run(fmt.Sprintf("schema %d", tc.version), func(t *testing.T) {
			path := fileAtSchema(t, tc.version, tc.lacks...)
			db := bolt.NewDB(path)
			if err := db.Open(); err != nil {
				t.Fatalf("Open of schema %d = %v", tc.version, err)
			}
			err := bolt.NewRecordingService(db).SaveRecording(context.Background(), &docket.Recording{DocID: "nosuchdoc"})
			if docket.ErrorCode(err) != docket.ENOTFOUND {
				t.Errorf("SaveRecording after migration = %v; want ENOTFOUND (the bucket exists)", err)
			}
			db.Close()
			raw, err := bbolt.Open(path, 0o600, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer raw.Close()
			raw.View(func(tx *bbolt.Tx) error {
				for _, name := range tc.lacks {
					if tx.Bucket([]byte(name)) == nil {
						t.Errorf("no %s bucket after migration", name)
					}
				}
				if got := binary.BigEndian.Uint64(tx.Bucket([]byte("meta")).Get([]byte("schema_version"))); got != bolt.SchemaVersion {
					t.Errorf("schema version = %d; want %d", got, bolt.SchemaVersion)
				}
				return nil
			})
		})
	}
}

func TestCorruptFileStopsStartup(t *testing.T) {
	path := filepath.Join(t.TempDir(), "docket.db")
	if err := os.WriteFile(path, []byte(strings.Repeat("not a database ", 1000)), 0o600); err != nil {
		t.Fatal(err)
	}
	err := bolt.NewDB(path).Open()
	if err == nil || !strings.Contains(err.Error(), "corrupt") {
		t.Fatalf("Open = %v; want a clear corruption error", err)
	}
	if raw, _ := os.ReadFile(path); !strings.HasPrefix(string(raw), "not a database") {
		t.Fatal("the corrupt file was overwritten")
	}
}

func TestSecondOpenTimesOut(t *testing.T) {
	db := mustOpenDB(t)
	needsFile(t, db)
	other := bolt.NewDB(db.Path)
	other.LockTimeout = 100_000_000 // 100ms
	err := other.Open()
	if err == nil || !strings.Contains(err.Error(), "in use by another docket process") {
		t.Fatalf("second Open = %v; want in-use error", err)
	}
}

func BenchmarkEditDocument(b *testing.B) {
	db := mustOpenDB(b)
	ctx := seed(b, db)
	docs := bolt.NewDocumentService(db)
	d, _ := docs.CreateDocument(ctx, docket.DocumentCreate{Space: "eng", Title: "T", Body: strings.Repeat("x", 10_000)})
	v := d.Version
	for b.Loop() {
		if _, err := docs.EditDocument(ctx, d.ID, docket.Edit{Version: v, Op: json.RawMessage(fmt.Sprintf(`[%d, "y"]`, v))}); err != nil {
			b.Fatal(err)
		}
		v++
	}
}
