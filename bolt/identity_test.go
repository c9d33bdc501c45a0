package bolt_test

import (
	"context"
	"sync"
	"testing"

	docket "github.com/docket-dev/docket"
	"github.com/docket-dev/docket/bolt"
)

// A reset and a disable end every session and revoke every token of the
// user in one step, and only an admin (or the system) may do either; the
// other users keep theirs.
func TestResetAndDisableRevokeEverything(t *testing.T) {
	db := mustOpenDB(t)
	ctx := context.Background()
	users := bolt.NewUserService(db)
	ada := createAda(t, db)
	bob, err := users.CreateUser(ctx, docket.UserCreate{Name: "Bob", Email: "bob@example.com", Password: "long enough"})
	if err != nil {
		t.Fatal(err)
	}
	credentials := func(u *docket.User) (session, token string) {
		t.Helper()
		session, _, err := users.CreateSession(ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		token, _, err = users.CreateToken(docket.NewContextWithUser(ctx, u), "script")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := users.FindUserByToken(ctx, token); err != nil { // cached now
			t.Fatal(err)
		}
		return session, token
	}
	for _, tc := range []struct {
		name     string
		change   func(context.Context, string) error
		disabled bool
	}{
		{"reset", func(c context.Context, id string) error { return users.ResetPassword(c, id, "a new long one") }, false},
		{"disable", func(c context.Context, id string) error { return users.DisableUser(c, id) }, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bs, bt := credentials(bob)
			as, at := credentials(ada)
			if err := tc.change(docket.NewContextWithUser(ctx, bob), ada.ID); docket.ErrorCode(err) != docket.EFORBIDDEN {
				t.Errorf("a member's %s of another account: %v; want %s", tc.name, err, docket.EFORBIDDEN)
			}
			if err := tc.change(docket.NewContextWithUser(ctx, ada), bob.ID); err != nil {
				t.Fatalf("%s by the admin: %v", tc.name, err)
			}
			if _, _, err := users.FindSession(ctx, bs); docket.ErrorCode(err) != docket.EUNAUTHORIZED {
				t.Errorf("Bob's session after the %s: %v; want %s", tc.name, err, docket.EUNAUTHORIZED)
			}
			if _, err := users.FindUserByToken(ctx, bt); docket.ErrorCode(err) != docket.EUNAUTHORIZED {
				t.Errorf("Bob's token after the %s: %v; want %s", tc.name, err, docket.EUNAUTHORIZED)
			}
			if toks, err := users.FindTokens(docket.NewContextWithUser(ctx, bob)); err != nil || len(toks) != 0 {
				t.Errorf("Bob's tokens after the %s: %v, %v; want none", tc.name, toks, err)
			}
			if _, _, err := users.FindSession(ctx, as); err != nil {
				t.Errorf("Ada's session after Bob's %s: %v", tc.name, err)
			}
			if _, err := users.FindUserByToken(ctx, at); err != nil {
				t.Errorf("Ada's token after Bob's %s: %v", tc.name, err)
			}
			got, _ := users.FindUserByID(ctx, bob.ID)
			if got.Deactivated != tc.disabled {
				t.Errorf("Bob deactivated = %v after the %s; want %v", got.Deactivated, tc.name, tc.disabled)
			}
		})
	}
	if _, err := users.Authenticate(ctx, "bob@example.com", "a new long one"); docket.ErrorCode(err) != docket.EFORBIDDEN {
		t.Errorf("a disabled account signing in: %v; want %s", err, docket.EFORBIDDEN)
	}
}

// LoginIdentity: the first identity makes the first account (an admin),
// later ones go by the link, the same verified email links, an
// unverified one neither links nor creates, creation needs create, and
// bad identities are refused.
func TestLoginIdentity(t *testing.T) {
	db := mustOpenDB(t)
	ctx := context.Background()
	users := bolt.NewUserService(db)
	iss := "https://id.example.com"
	first, err := users.LoginIdentity(ctx, docket.Identity{Issuer: iss, Subject: "1", Email: "Ada@Example.com", EmailVerified: true}, false)
	if err != nil || first.Role != docket.SiteAdmin || first.Email != "ada@example.com" || first.Name != "ada" {
		t.Fatalf("first identity: %+v, %v; want an admin named ada (from the email) with a lower-case email", first, err)
	}
	tests := []struct {
		name     string
		id       docket.Identity
		create   bool
		wantID   string // "" for a new account
		wantCode string
	}{
		{"by link, email changed", docket.Identity{Issuer: iss, Subject: "1", Email: "other@example.com"}, false, first.ID, ""},
		{"same subject, other issuer, unverified", docket.Identity{Issuer: "https://other.example", Subject: "1", Email: "ada@example.com"}, true, "", docket.EFORBIDDEN},
		{"same email, verified, other issuer", docket.Identity{Issuer: "https://other.example", Subject: "1", Email: "ada@example.com", EmailVerified: true}, false, first.ID, ""},
		{"new person, sign-up closed", docket.Identity{Issuer: iss, Subject: "2", Email: "bob@example.com", EmailVerified: true}, false, "", docket.EFORBIDDEN},
		{"new person, unverified", docket.Identity{Issuer: iss, Subject: "2", Email: "bob@example.com"}, true, "", docket.EFORBIDDEN},
		{"no subject", docket.Identity{Issuer: iss, Email: "bob@example.com", EmailVerified: true}, true, "", docket.EINVALID},
		{"no email", docket.Identity{Issuer: iss, Subject: "3", EmailVerified: true}, true, "", docket.EINVALID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := users.LoginIdentity(ctx, tt.id, tt.create)
			if code := docket.ErrorCode(err); code != tt.wantCode {
				t.Fatalf("LoginIdentity = %v; want code %q", err, tt.wantCode)
			}
			if err == nil && tt.wantID != "" && got.ID != tt.wantID {
				t.Errorf("signed in as %s; want %s", got.ID, tt.wantID)
			}
		})
	}

	// Two first sign-ins of one new person at once make one account.
	bob := docket.Identity{Issuer: iss, Subject: "2", Email: "bob@example.com", EmailVerified: true, Name: "Bob"}
	var wg sync.WaitGroup
	ids := make([]string, 4)
	for i := range ids {
		wg.Go(func() {
			if u, err := users.LoginIdentity(ctx, bob, true); err == nil {
				ids[i] = u.ID
			}
		})
	}
	wg.Wait()
	for _, id := range ids {
		if id == "" || id != ids[0] {
			t.Fatalf("concurrent first sign-ins gave accounts %v; want one", ids)
		}
	}
	if u, _ := users.FindUserByID(ctx, ids[0]); u.Name != "Bob" || u.Role != docket.SiteMember {
		t.Errorf("Bob = %+v; want a member named Bob", u)
	}
	sys := docket.NewSystemContext(ctx)
	if err := users.DisableUser(sys, ids[0]); err != nil {
		t.Fatal(err)
	}
	if _, err := users.LoginIdentity(ctx, bob, true); docket.ErrorCode(err) != docket.EFORBIDDEN {
		t.Errorf("a disabled account signing in by its link: %v; want %s", err, docket.EFORBIDDEN)
	}
}
