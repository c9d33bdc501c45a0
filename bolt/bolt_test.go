package bolt_test

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

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

// TestVersionsRebuild edits a document many times at random and checks
// that every version's text is rebuilt exactly, across snapshots.
func TestVersionsRebuild(t *testing.T) {
	db := mustOpenDB(t)
	ctx, d := seedDoc(t, db, "T", "héllo 🌍")
	docs := bolt.NewDocumentService(db)
	texts := []string{"", "héllo 🌍"}
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []rune("ab 😀中\n")
	for i := 0; i < 60; i++ {
		cur := []rune(texts[len(texts)-1])
		pos := rng.IntN(len(cur) + 1)
		del := rng.IntN(min(3, len(cur)-pos) + 1)
		ins := string(alphabet[rng.IntN(len(alphabet))]) + string(alphabet[rng.IntN(len(alphabet))])
		next := string(cur[:pos]) + ins + string(cur[pos+del:])
		var op []any
		if pos > 0 {
			op = append(op, pos)
		}
		op = append(op, ins)
		if del > 0 {
			op = append(op, map[string]int{"d": del})
		}
		raw, _ := json.Marshal(op)
		got, err := docs.EditDocument(ctx, d.ID, docket.Edit{Version: int64(len(texts) - 1), Op: raw})
		if err != nil {
			t.Fatalf("edit %d %s: %v", i, raw, err)
		}
		if got.Body != next {
			t.Fatalf("edit %d: body = %q; want %q", i, got.Body, next)
		}
		texts = append(texts, next)
	}
	for v, want := range texts {
		got, err := docs.DocumentAt(ctx, d.ID, int64(v))
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Fatalf("DocumentAt(%d) = %q; want %q", v, got, want)
		}
	}
	ops, err := docs.FindOps(ctx, d.ID, 5, 10, 0)
	if err != nil || len(ops) != 5 || ops[0].Version != 5 {
		t.Fatalf("FindOps(5,10) = %d ops, %v", len(ops), err)
	}
	for _, tc := range []struct{ from, to int64 }{{-1, 3}, {999, 1000}, {5, 2}} {
		if _, err := docs.FindOps(ctx, d.ID, tc.from, tc.to, 0); docket.ErrorCode(err) != docket.EINVALID {
			t.Errorf("FindOps(%d,%d) err = %v; want EINVALID", tc.from, tc.to, err)
		}
	}
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
	other := bolt.NewDB(db.Path)
	other.LockTimeout = 100_000_000 // 100ms
	err := other.Open()
	if err == nil || !strings.Contains(err.Error(), "in use by another docket process") {
		t.Fatalf("second Open = %v; want in-use error", err)
	}
}

func TestSessionsEndOnPasswordChange(t *testing.T) {
	db := mustOpenDB(t)
	ctx := context.Background()
	users := bolt.NewUserService(db)
	u := createAda(t, db)
	var secrets []string
	for i := 0; i < 3; i++ {
		s, _, err := users.CreateSession(ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		secrets = append(secrets, s)
	}
	if err := users.SetPassword(docket.NewContextWithUser(ctx, u), u.ID, "another long one"); err != nil {
		t.Fatal(err)
	}
	for i, s := range secrets {
		if _, _, err := users.FindSession(ctx, s); docket.ErrorCode(err) != docket.EUNAUTHORIZED {
			t.Errorf("session %d after password change: %v", i, err)
		}
	}
	if _, err := users.Authenticate(ctx, "ADA@example.com", "another long one"); err != nil {
		t.Errorf("Authenticate with new password: %v", err)
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

// Row 15: an expired session is dead, judged by the server's clock only.
func TestSessionExpires(t *testing.T) {
	db := mustOpenDB(t)
	ctx := context.Background()
	users := bolt.NewUserService(db)
	u := createAda(t, db)
	secret, sess, err := users.CreateSession(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := users.FindSession(ctx, secret); err != nil {
		t.Fatalf("fresh session: %v", err)
	}
	db.Now = func() time.Time { return sess.ExpiresAt.Add(time.Second) }
	defer func() { db.Now = time.Now }()
	if _, _, err := users.FindSession(ctx, secret); docket.ErrorCode(err) != docket.EUNAUTHORIZED {
		t.Fatalf("expired session: err = %v; want EUNAUTHORIZED", err)
	}
	if _, _, err := users.FindSession(ctx, "not-a-session"); docket.ErrorCode(err) != docket.EUNAUTHORIZED {
		t.Fatalf("unknown session: err = %v; want EUNAUTHORIZED", err)
	}
}
