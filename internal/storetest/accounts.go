package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	docket "github.com/docket-dev/docket"
)

// testAccounts: accounts are created once per email, the first is a site
// admin, login checks the password, and sessions live until deleted.
func testAccounts(t *testing.T, w *world) {
	ctx := context.Background()
	_, ada := w.user("ada")
	_, bob := w.user("bob")
	if !ada.IsAdmin() || bob.IsAdmin() {
		t.Errorf("site admins: ada %v, bob %v; want the first user only", ada.IsAdmin(), bob.IsAdmin())
	}
	_, err := w.s.Users.CreateUser(ctx, docket.UserCreate{Name: "Other", Email: " ADA@Example.com ", Password: "long enough"})
	wantCode(t, "duplicate email", err, docket.ECONFLICT)

	got, err := w.s.Users.FindUserByEmail(docket.NewSystemContext(ctx), "Bob@example.com")
	if err != nil || got.ID != bob.ID {
		t.Errorf("FindUserByEmail = %+v, %v; want bob", got, err)
	}
	for _, tc := range []struct {
		email, password string
		want            string // user id, "" for a refusal
	}{
		{"ada@example.com", "long enough", ada.ID},
		{"ADA@example.com", "long enough", ada.ID},
		{"ada@example.com", "wrong password", ""},
		{"nobody@example.com", "long enough", ""},
	} {
		u, err := w.s.Users.Authenticate(ctx, tc.email, tc.password)
		if tc.want == "" {
			wantCode(t, "Authenticate("+tc.email+", "+tc.password+")", err, docket.EUNAUTHORIZED)
		} else if err != nil || u.ID != tc.want {
			t.Errorf("Authenticate(%s) = %v, %v; want %s", tc.email, u, err, tc.want)
		}
	}

	secret, sess, err := w.s.Users.CreateSession(ctx, bob.ID)
	must(t, err)
	if sess.UserID != bob.ID || !sess.ExpiresAt.After(sess.CreatedAt) {
		t.Errorf("session = %+v", sess)
	}
	u, found, err := w.s.Users.FindSession(ctx, secret)
	if err != nil || u.ID != bob.ID || found.UserID != bob.ID {
		t.Fatalf("FindSession = %v, %v, %v; want bob's", u, found, err)
	}
	must(t, w.s.Users.DeleteSession(ctx, secret))
	_, _, err = w.s.Users.FindSession(ctx, secret)
	wantCode(t, "deleted session", err, docket.EUNAUTHORIZED)
	_, _, err = w.s.Users.FindSession(ctx, "not-a-session")
	wantCode(t, "unknown session", err, docket.EUNAUTHORIZED)
}

// testTokens: API tokens identify their owner until revoked, by their
// owner only.
func testTokens(t *testing.T, w *world) {
	ada, _ := w.user("ada")
	bob, bobUser := w.user("bob")
	secret, tok, err := w.s.Users.CreateToken(bob, "ci")
	must(t, err)
	if tok.Name != "ci" || tok.UserID != bobUser.ID {
		t.Errorf("token = %+v", tok)
	}
	u, err := w.s.Users.FindUserByToken(context.Background(), secret)
	if err != nil || u.ID != bobUser.ID {
		t.Fatalf("FindUserByToken = %v, %v; want bob", u, err)
	}
	list, err := w.s.Users.FindTokens(bob)
	if err != nil || len(list) != 1 || list[0].ID != tok.ID {
		t.Errorf("FindTokens = %v, %v; want the one token", list, err)
	}
	_, _, err = w.s.Users.CreateToken(context.Background(), "anonymous")
	wantCode(t, "token without a user", err, docket.EUNAUTHORIZED)

	wantCode(t, "revoking another's token", w.s.Users.DeleteToken(ada, tok.ID), docket.ENOTFOUND)
	must(t, w.s.Users.DeleteToken(bob, tok.ID))
	_, err = w.s.Users.FindUserByToken(context.Background(), secret)
	wantCode(t, "revoked token", err, docket.EUNAUTHORIZED)
}

// testSessionsEndOnPasswordChange: a new password ends every session.
func testSessionsEndOnPasswordChange(t *testing.T, w *world) {
	ctx := context.Background()
	as, u := w.user("ada")
	var secrets []string
	for range 3 {
		s, _, err := w.s.Users.CreateSession(ctx, u.ID)
		must(t, err)
		secrets = append(secrets, s)
	}
	must(t, w.s.Users.SetPassword(as, u.ID, "another long one"))
	for i, s := range secrets {
		_, _, err := w.s.Users.FindSession(ctx, s)
		wantCode(t, fmt.Sprintf("session %d after a password change", i), err, docket.EUNAUTHORIZED)
	}
	if _, err := w.s.Users.Authenticate(ctx, "ADA@example.com", "another long one"); err != nil {
		t.Errorf("Authenticate with the new password: %v", err)
	}
}

// testSessionExpires: an expired session is dead, judged by the server's
// clock only.
func testSessionExpires(t *testing.T, w *world) {
	ctx := context.Background()
	_, u := w.user("ada")
	secret, sess, err := w.s.Users.CreateSession(ctx, u.ID)
	must(t, err)
	if _, _, err := w.s.Users.FindSession(ctx, secret); err != nil {
		t.Fatalf("fresh session: %v", err)
	}
	w.db.Now = func() time.Time { return sess.ExpiresAt.Add(time.Second) }
	defer func() { w.db.Now = time.Now }()
	_, _, err = w.s.Users.FindSession(ctx, secret)
	wantCode(t, "expired session", err, docket.EUNAUTHORIZED)
}

// testResetAndDisableRevokeEverything: a reset and a disable end every session and revoke every token of the
// user in one step, and only an admin (or the system) may do either; the
// other users keep theirs.
func testResetAndDisableRevokeEverything(t *testing.T, w *world) {
	ctx := context.Background()
	users := w.s.Users
	_, ada := w.user("ada")
	_, bob := w.user("bob")
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

// testLoginIdentity: the first identity makes the first account (an admin),
// later ones go by the link, the same verified email links, an
// unverified one neither links nor creates, creation needs create, and
// bad identities are refused.
func testLoginIdentity(t *testing.T, w *world) {
	ctx := context.Background()
	users := w.s.Users
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
