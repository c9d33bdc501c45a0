package bolt

import (
	"context"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	docket "github.com/docket-dev/docket"
	"github.com/docket-dev/docket/internal/pgstore"
	"github.com/docket-dev/docket/kv"
	bolt "go.etcd.io/bbolt"
	"golang.org/x/crypto/bcrypt"
)

// fixture is a data file with a site admin (root) for tests inside the
// package, which may write buckets directly.
type fixture struct {
	tb     testing.TB
	db     *DB
	root   context.Context
	users  *UserService
	spaces *SpaceService
	docs   *DocumentService
}

func newFixture(tb testing.TB) *fixture {
	tb.Helper()
	db := OpenTestDB(tb)
	f := &fixture{tb: tb, db: db, users: NewUserService(db), spaces: NewSpaceService(db), docs: NewDocumentService(db)}
	f.root = f.user("Root") // the first user is a site admin
	return f
}

// OpenTestDB opens a new, empty store with the cheapest password hashing:
// a data file in a temporary directory, checked for consistency when the
// test ends, or the engine DOCKET_TEST_ENGINE names (testEngines). The
// tests inside and outside the package use it.
func OpenTestDB(tb testing.TB) *DB {
	tb.Helper()
	if name := os.Getenv("DOCKET_TEST_ENGINE"); name != "" {
		open, ok := testEngines[name]
		if !ok {
			tb.Fatalf("DOCKET_TEST_ENGINE=%q: no such test engine (known: %s)", name, strings.Join(slices.Sorted(maps.Keys(testEngines)), ", "))
		}
		return openTestStore(tb, open(tb))
	}
	db := NewDB(filepath.Join(tb.TempDir(), "docket.db"))
	db.PasswordCost = bcrypt.MinCost
	if err := db.Open(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := db.Check(); err != nil {
			tb.Errorf("check: %v", err)
		}
		db.Close()
	})
	return db
}

// testEngines open the engines, other than a bbolt file opened by Open,
// that the package's tests can run on: DOCKET_TEST_ENGINE=NAME go test
// ./bolt runs every test that opens its store with OpenTestDB (or
// newFixture) on engine NAME. Each function returns a new, empty store
// for one test and removes it when the test ends. PostgreSQL's goes
// through internal/pgstore, since the package's tests may import
// internal/ but not another adapter; .ci/run runs the suite on it.
var testEngines = map[string]func(tb testing.TB) kv.Store{
	"postgres": pgstore.Open,
	// A bbolt file opened through OpenStore, as every other engine is:
	// what the package does without its bbolt file at hand.
	"bbolt-store": func(tb testing.TB) kv.Store {
		bdb, err := bolt.Open(filepath.Join(tb.TempDir(), "store.db"), 0o600, nil)
		if err != nil {
			tb.Fatal(err)
		}
		return NewEngine(bdb)
	},
}

// openTestStore opens a DB on engine s with the cheapest password
// hashing and closes it when the test ends.
func openTestStore(tb testing.TB, s kv.Store) *DB {
	tb.Helper()
	db := NewDB("")
	db.PasswordCost = bcrypt.MinCost
	if err := db.OpenStore(s); err != nil {
		s.Close()
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

// user creates a user and returns a context acting as them.
func (f *fixture) user(name string) context.Context {
	f.tb.Helper()
	u, err := f.users.CreateUser(context.Background(), docket.UserCreate{Name: name, Email: name + "@example.com", Password: "long enough"})
	if err != nil {
		f.tb.Fatal(err)
	}
	return docket.NewContextWithUser(context.Background(), u)
}

func (f *fixture) space(ctx context.Context, slug string) string {
	f.tb.Helper()
	sp, err := f.spaces.CreateSpace(ctx, slug, slug)
	if err != nil {
		f.tb.Fatal(err)
	}
	return sp.ID
}

func (f *fixture) member(ctx context.Context, space string, who context.Context, role docket.SpaceRole) {
	f.tb.Helper()
	if _, err := f.spaces.SetMember(ctx, space, docket.UserIDFromContext(who), role); err != nil {
		f.tb.Fatal(err)
	}
}

func (f *fixture) doc(ctx context.Context, space, title string) *docket.Document {
	f.tb.Helper()
	d, err := f.docs.CreateDocument(ctx, docket.DocumentCreate{Space: space, Title: title, Body: "hello " + title})
	if err != nil {
		f.tb.Fatal(err)
	}
	return d
}

// write runs fn in a write transaction, for data that other services
// keep (lifecycles, action items, inbox items).
func (f *fixture) write(fn func(tx kv.Tx) error) {
	f.tb.Helper()
	if err := f.db.update(context.Background(), fn); err != nil {
		f.tb.Fatal(err)
	}
}

func wantCode(tb testing.TB, what string, err error, code string) {
	tb.Helper()
	if got := docket.ErrorCode(err); got != code {
		tb.Fatalf("%s: error %v (code %q); want %q", what, err, got, code)
	}
}
