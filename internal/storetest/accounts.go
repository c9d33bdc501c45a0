package storetest

import (
	"context"
	"fmt"
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

// testTokens: API tokens identify their owner until revoked, and a
// disabled account's tokens and sessions stop working.
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

	must(t, w.s.Users.DeleteToken(bob, tok.ID))
	_, err = w.s.Users.FindUserByToken(context.Background(), secret)
	wantCode(t, "revoked token", err, docket.EUNAUTHORIZED)

	// Disabling an account revokes what it signed in with.
	secret, _, err = w.s.Users.CreateToken(bob, "second")
	must(t, err)
	session, _, err := w.s.Users.CreateSession(context.Background(), bobUser.ID)
	must(t, err)
	must(t, w.s.Users.DisableUser(ada, bobUser.ID))
	_, err = w.s.Users.FindUserByToken(context.Background(), secret)
	wantCode(t, "token of a disabled user", err, docket.EUNAUTHORIZED)
	_, _, err = w.s.Users.FindSession(context.Background(), session)
	wantCode(t, "session of a disabled user", err, docket.EUNAUTHORIZED)
	_, err = w.s.Users.Authenticate(context.Background(), "bob@example.com", "long enough")
	wantCode(t, "login of a disabled user", err, docket.EFORBIDDEN)
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
