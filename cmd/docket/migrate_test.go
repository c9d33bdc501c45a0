package main

import (
	"context"
	"errors"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	docket "github.com/docket-dev/docket"
	"github.com/docket-dev/docket/bolt"
	"github.com/docket-dev/docket/internal/storetest"
	"github.com/docket-dev/docket/internal/testenv"
	"github.com/docket-dev/docket/kv"
	"github.com/docket-dev/docket/postgres"
	bbolt "go.etcd.io/bbolt"
)

// migrateTo points openStore, for the test, at bbolt files in a temporary
// directory named by the URL's host (bbolt://NAME), wrapped by wrap if
// not nil.
func migrateTo(t *testing.T, wrap func(kv.Store) kv.Store) string {
	t.Helper()
	dir := t.TempDir()
	old := openStore
	openStore = func(_ context.Context, rawURL string) (kv.Store, error) {
		name, ok := strings.CutPrefix(rawURL, "bbolt://")
		if !ok {
			return nil, errors.New("not a bbolt:// URL")
		}
		raw, err := bbolt.Open(filepath.Join(dir, name+".db"), 0o600, nil)
		if err != nil {
			return nil, err
		}
		var s kv.Store = bolt.NewEngine(raw)
		if wrap != nil {
			s = wrap(s)
		}
		return s, nil
	}
	t.Cleanup(func() { openStore = old })
	return dir
}

// seededDataDir returns a data directory filled by storetest.Seed with n
// corpus documents.
func seededDataDir(t *testing.T, n int) string {
	t.Helper()
	data := t.TempDir()
	storetest.SeedFile(t, dbPath(data), n)
	return data
}

func TestMigrate(t *testing.T) {
	data := seededDataDir(t, 12)
	dir := migrateTo(t, nil)
	out, err := runCLI(t, "", "migrate", "--from", data, "--to", "bbolt://cluster")
	if err != nil {
		t.Fatalf("migrate: %v\n%s", err, out)
	}
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`\[\d+/\d+\] keys copied`),
		regexp.MustCompile(`copied \d+ keys from .*docket.db to bbolt://cluster in `),
		regexp.MustCompile(`verified: 12 documents, 1 frozen minutes, \d+ keys: the copy matches`),
	} {
		if !want.MatchString(out) {
			t.Errorf("output lacks %s:\n%s", want, out)
		}
	}

	// The copy opens as a store and holds the documents.
	raw, err := bbolt.Open(filepath.Join(dir, "cluster.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	db := bolt.NewDB("")
	if err := db.OpenStore(bolt.NewEngine(raw)); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	ada, err := bolt.NewUserService(db).Authenticate(ctx, "ada@example.com", "long enough")
	if err != nil {
		t.Fatal(err)
	}
	_, n, err := bolt.NewDocumentService(db).FindDocuments(docket.NewContextWithUser(ctx, ada), docket.DocumentFilter{Space: "eng"})
	if err != nil || n != 12 {
		t.Errorf("documents in the copy = %d, %v; want 12", n, err)
	}
	db.Close()

	// A second run into the same database is refused.
	out, err = runCLI(t, "", "migrate", "--from", data, "--to", "bbolt://cluster")
	if !errors.Is(err, bolt.ErrNotEmpty) || !strings.Contains(err.Error(), "bbolt://cluster") {
		t.Errorf("migrate into a database with data = %v\n%s; want a refusal", err, out)
	}
}

// TestMigrateToPostgres moves a data file into a fresh PostgreSQL schema,
// with openStore pointed at postgres.Open as cluster mode's wiring does.
func TestMigrateToPostgres(t *testing.T) {
	url := testenv.Postgres(t)
	data := seededDataDir(t, 12)
	old := openStore
	openStore = func(ctx context.Context, url string) (kv.Store, error) { return postgres.Open(ctx, url) }
	t.Cleanup(func() { openStore = old })
	out, err := runCLI(t, "", "migrate", "--from", data, "--to", url)
	if err != nil || !regexp.MustCompile(`verified: 12 documents, 1 frozen minutes, \d+ keys: the copy matches`).MatchString(out) {
		t.Fatalf("migrate = %v\n%s", err, out)
	}
	s, err := postgres.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	db := bolt.NewDB("")
	if err := db.OpenStore(s); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if n := db.DocumentCount(); n != 12 {
		t.Errorf("documents in PostgreSQL = %d; want 12", n)
	}
	if _, err := runCLI(t, "", "migrate", "--from", data, "--to", url); !errors.Is(err, bolt.ErrNotEmpty) {
		t.Errorf("second migrate = %v; want a refusal", err)
	}
}

// hideMinutes is a store whose reads do not see the frozen minutes: a
// copy that lost them.
type hideMinutes struct{ kv.Store }

func (s hideMinutes) View(fn func(kv.Tx) error) error {
	return s.Store.View(func(tx kv.Tx) error { return fn(hideMinutesTx{tx}) })
}

type hideMinutesTx struct{ kv.Tx }

func (tx hideMinutesTx) Bucket(name []byte) kv.Bucket {
	if string(name) == "minutes" {
		return nil
	}
	return tx.Tx.Bucket(name)
}

func TestMigrateMismatchFails(t *testing.T) {
	data := seededDataDir(t, 3)
	migrateTo(t, func(s kv.Store) kv.Store { return hideMinutes{s} })
	out, err := runCLI(t, "", "migrate", "--from", data, "--to", "bbolt://lossy")
	if err == nil || !strings.Contains(err.Error(), "the copy differs from the source") {
		t.Fatalf("migrate to a lossy store = %v; want the copy refused", err)
	}
	if !strings.Contains(out, "bucket minutes is missing from the copy") || !strings.Contains(out, "are missing from the copy") {
		t.Errorf("output does not name the differences:\n%s", out)
	}
}

func TestMigrateRefuses(t *testing.T) {
	data := seededDataDir(t, 1)
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no destination", []string{"--from", data}, "--from and --to are required"},
		{"not a URL", []string{"--from", data, "--to", "cluster"}, "is not a database URL"},
		{"no data file", []string{"--from", t.TempDir(), "--to", "postgres://docket@db/docket"}, "no data file to migrate"},
		{"a stray argument", []string{"--from", data, "--to", "postgres://docket@db/docket", "now"}, `unexpected "now"`},
		{"database unreachable, password hidden", []string{"--from", data, "--to", "postgres://docket:secret@db.invalid/docket"}, "open postgres://docket:xxxxx@db.invalid/docket: postgres: connect: docket error: code=unavailable"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("DOCKET_DATA", "")
			t.Setenv("DOCKET_STORE", "")
			out, err := runCLI(t, "", append([]string{"migrate"}, tc.args...)...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("migrate %q = %v\n%s; want an error with %q", tc.args, err, out, tc.want)
			}
			if strings.Contains(err.Error()+out, "secret") {
				t.Errorf("the password shows: %v\n%s", err, out)
			}
		})
	}
}

// TestMigrateRefusesOpenFile: a data file a server holds is refused
// rather than copied while it changes.
func TestMigrateRefusesOpenFile(t *testing.T) {
	data := seededDataDir(t, 1)
	migrateTo(t, nil)
	db := bolt.NewDB(dbPath(data))
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	out, err := runCLI(t, "", "migrate", "--from", data, "--to", "bbolt://cluster")
	if err == nil || !strings.Contains(err.Error(), "in use by another docket process") {
		t.Fatalf("migrate of a file in use = %v\n%s; want a refusal", err, out)
	}
}
