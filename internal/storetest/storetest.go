// Package storetest is the storage contract of Docket's domain services,
// as one suite every engine under package bolt must pass: accounts and
// sessions, spaces and their permissions, documents and the op log,
// threads, the decision process and its frozen minutes, events, the inbox,
// the webhook and mail queues, templates and suggestions. The services
// are package bolt's, built over a *bolt.DB; what differs between runs is
// the engine (kv.Store) the DB was opened on.
//
// bolt's own tests run it on a bbolt file (bolt/storetest_test.go). Any
// other engine runs it the same way, from its own tests, by opening a
// fresh, empty store per case; for package postgres:
//
//	func TestContract(t *testing.T) {
//		testenv.Postgres(t) // skip once without PostgreSQL (fail under CI)
//		storetest.Run(t, func(t *testing.T) *bolt.DB {
//			s, err := postgres.Open(context.Background(), testenv.Postgres(t)) // a fresh schema
//			if err != nil {
//				t.Fatal(err)
//			}
//			return storetest.OpenDB(t, s)
//		})
//	}
//
// Each case is small and independent; open is called once per case. Seed
// and SeedFile fill a store with corpus documents and what surrounds them,
// for the tests of copying one store into another (bolt.Copy, docket
// migrate).
package storetest

import (
	"context"
	"testing"

	docket "github.com/docket-dev/docket"
	"github.com/docket-dev/docket/bolt"
	"github.com/docket-dev/docket/kv"
	"github.com/docket-dev/docket/markdown"
	"golang.org/x/crypto/bcrypt"
)

// OpenDB opens the services' DB on engine s, with the cheapest password
// hashing, and closes it (and s) when the test ends.
func OpenDB(tb testing.TB, s kv.Store) *bolt.DB {
	tb.Helper()
	db := bolt.NewDB("")
	db.PasswordCost = bcrypt.MinCost
	if err := db.OpenStore(s); err != nil {
		s.Close()
		tb.Fatalf("open store: %v", err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

// Services are the domain services over one DB, built as cmd/docket
// builds them.
type Services struct {
	Users       *bolt.UserService // UserService, AuthService, IdentityService
	Spaces      docket.SpaceService
	Docs        docket.DocumentService
	Ops         docket.OpLog
	Threads     docket.ThreadService
	Decisions   docket.DecisionService
	Minutes     docket.MinutesService
	Events      docket.EventService
	Inbox       docket.InboxService
	Webhooks    *bolt.WebhookService // WebhookService, WebhookQueue
	Mail        *bolt.MailService    // MailService, MailQueue
	Templates   docket.TemplateService
	Suggestions docket.SuggestionService
}

// NewServices builds the services over db.
func NewServices(db *bolt.DB) *Services {
	renderer := markdown.New(markdown.Options{})
	actions := bolt.NewActionService(db, markdown.ActionItems)
	minutes := bolt.NewMinutesService(db, actions, markdown.Minutes)
	threads := bolt.NewThreadService(db, renderer, markdown.Mentions)
	return &Services{
		Users:       bolt.NewUserService(db),
		Spaces:      bolt.NewSpaceService(db),
		Docs:        bolt.NewDocumentService(db),
		Ops:         bolt.NewLiveStore(db),
		Threads:     threads,
		Decisions:   bolt.NewDecisionService(db, renderer, minutes),
		Minutes:     minutes,
		Events:      bolt.NewEventService(db),
		Inbox:       bolt.NewInboxService(db),
		Webhooks:    bolt.NewWebhookService(db, acceptURL),
		Mail:        bolt.NewMailService(db),
		Templates:   bolt.NewTemplateService(db),
		Suggestions: threads,
	}
}

// acceptURL takes every webhook URL as given: the receivers the cases
// name are public https URLs, and the policy (webhook.CheckURL) is
// tested where it lives.
func acceptURL(raw string, _ bool) (string, error) { return raw, nil }

// cases are the suite, in the order Run runs them.
var cases = []struct {
	name string
	fn   func(t *testing.T, w *world)
}{
	{"Accounts", testAccounts},
	{"Tokens", testTokens},
	{"ResetAndDisableRevokeEverything", testResetAndDisableRevokeEverything},
	{"LoginIdentity", testLoginIdentity},
	{"SessionsEndOnPasswordChange", testSessionsEndOnPasswordChange},
	{"SessionExpires", testSessionExpires},
	{"SpacePermissions", testSpacePermissions},
	{"Documents", testDocuments},
	{"DocumentFilters", testDocumentFilters},
	{"OpLog", testOpLog},
	{"VersionsRebuild", testVersionsRebuild},
	{"ThreadsAndAnchors", testThreadsAndAnchors},
	{"DecisionProcess", testDecisionProcess},
	{"Events", testEvents},
	{"Inbox", testInbox},
	{"DeliveryQueue", testDeliveryQueue},
	{"DeliveryClaimedOnce", testDeliveryClaimedOnce},
	{"MailQueue", testMailQueue},
	{"Templates", testTemplates},
	{"Suggestions", testSuggestions},
}

// Run runs the suite, each case on a DB from open: a new, empty store.
func Run(t *testing.T, open func(t *testing.T) *bolt.DB) {
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			db := open(t)
			c.fn(t, &world{t: t, db: db, s: NewServices(db)})
		})
	}
}

// world is one case's store and the helpers that fill it.
type world struct {
	t  *testing.T
	db *bolt.DB
	s  *Services
}

// user creates a user named name (email name@example.com) and returns a
// context acting as them. The first user of a store is a site admin.
func (w *world) user(name string) (context.Context, *docket.User) {
	w.t.Helper()
	u, err := w.s.Users.CreateUser(context.Background(), docket.UserCreate{Name: name, Email: name + "@example.com", Password: "long enough"})
	if err != nil {
		w.t.Fatalf("create user %s: %v", name, err)
	}
	return docket.NewContextWithUser(context.Background(), u), u
}

// team creates Ada (the site admin), Bob and the space "eng", where Bob
// has role, and returns contexts acting as them and Bob's account.
func (w *world) team(role docket.SpaceRole) (ada, bob context.Context, bobUser *docket.User) {
	w.t.Helper()
	ada, _ = w.user("ada")
	bob, bobUser = w.user("bob")
	w.space(ada, "eng")
	w.member(ada, "eng", bobUser, role)
	return ada, bob, bobUser
}

// space creates a space whose slug and name are slug.
func (w *world) space(ctx context.Context, slug string) *docket.Space {
	w.t.Helper()
	sp, err := w.s.Spaces.CreateSpace(ctx, slug, slug)
	if err != nil {
		w.t.Fatalf("create space %s: %v", slug, err)
	}
	return sp
}

func (w *world) member(ctx context.Context, space string, u *docket.User, role docket.SpaceRole) {
	w.t.Helper()
	if _, err := w.s.Spaces.SetMember(ctx, space, u.ID, role); err != nil {
		w.t.Fatalf("set member %s: %v", u.Name, err)
	}
}

func (w *world) doc(ctx context.Context, space, title, body string) *docket.Document {
	w.t.Helper()
	d, err := w.s.Docs.CreateDocument(ctx, docket.DocumentCreate{Space: space, Title: title, Body: body})
	if err != nil {
		w.t.Fatalf("create document %s: %v", title, err)
	}
	return d
}

// edit replaces a document's text at its current version.
func (w *world) edit(ctx context.Context, id, text string) *docket.Document {
	w.t.Helper()
	cur, err := w.s.Docs.FindDocumentMeta(ctx, id)
	if err != nil {
		w.t.Fatal(err)
	}
	d, err := w.s.Docs.EditDocument(ctx, id, docket.Edit{Version: cur.Version, Body: &text})
	if err != nil {
		w.t.Fatalf("edit %s: %v", id, err)
	}
	return d
}

func wantCode(t testing.TB, what string, err error, code string) {
	t.Helper()
	if got := docket.ErrorCode(err); got != code {
		t.Errorf("%s: error %v (code %q); want %q", what, err, got, code)
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func second[T any](_ T, err error) error { return err }

func third[T, U any](_ T, _ U, err error) error { return err }
