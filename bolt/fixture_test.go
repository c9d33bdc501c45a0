package bolt

import (
	"context"
	"path/filepath"
	"testing"

	docket "github.com/docket-dev/docket"
	"github.com/docket-dev/docket/kv"
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

// OpenTestDB opens a new data file in a temporary directory, with the
// cheapest password hashing, and checks its consistency when the test
// ends. The tests inside and outside the package use it.
func OpenTestDB(tb testing.TB) *DB {
	tb.Helper()
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
