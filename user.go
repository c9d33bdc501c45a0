package docket

import (
	"context"
	"time"
)

// SiteRole is a user's role on the whole server.
type SiteRole string

// Site roles. An admin manages users and acts as an admin in every space.
const (
	SiteAdmin  SiteRole = "admin"
	SiteMember SiteRole = "member"
)

// Valid reports whether r is a known site role.
func (r SiteRole) Valid() bool { return r == SiteAdmin || r == SiteMember }

// User is a person with an account.
type User struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Email     string    `json:"email"`
	Role      SiteRole  `json:"role"`
	TimeZone  string    `json:"timeZone"`
	CreatedAt time.Time `json:"createdAt"`
	// Deactivated marks an account that cannot sign in, such as one an
	// import made for an author unknown here or one an admin disabled; it
	// keeps the name.
	Deactivated bool `json:"deactivated,omitempty"`
	// Notifications are the person's email choices by inbox kind; kinds
	// not in it take [DefaultNotify].
	Notifications map[string]NotifyChoice `json:"notifications,omitempty"`
}

// IsAdmin reports whether u is a site admin. It is false for nil.
func (u *User) IsAdmin() bool { return u != nil && u.Role == SiteAdmin }

// UserCreate is the input of [UserService.CreateUser].
type UserCreate struct {
	Name     string
	Email    string
	Password string
	TimeZone string
	// Role is the site role; empty means member. The very first user is
	// always an admin.
	Role SiteRole
	// OnlyIfFirst refuses the creation with EFORBIDDEN unless no user
	// exists yet, checked atomically with the insert.
	OnlyIfFirst bool
	// Invite, when set, is an invitation secret that must be valid and
	// unused; it is consumed by the creation and may grant space roles.
	Invite string
}

// UserUpdate holds the fields a user may change about themselves. Nil
// fields are left alone.
type UserUpdate struct {
	Name     *string
	TimeZone *string
	// Notifications are merged into the stored choices (see
	// [CleanNotifications]).
	Notifications map[string]NotifyChoice
}

// UserFilter selects users in [UserService.FindUsers].
type UserFilter struct {
	Email  string
	Limit  int
	Offset int
}

// UserService manages accounts and their passwords.
type UserService interface {
	// CreateUser creates an account. The first account becomes a site admin.
	// Returns EINVALID for a bad name, email, password or time zone,
	// ECONFLICT if the email is taken, EFORBIDDEN if OnlyIfFirst is set and
	// users exist or the invitation is not valid.
	CreateUser(ctx context.Context, uc UserCreate) (*User, error)

	// FindUserByID returns a user. Returns ENOTFOUND if it does not exist.
	FindUserByID(ctx context.Context, id string) (*User, error)

	// FindUserByEmail returns a user by email, compared case-insensitively.
	// Returns ENOTFOUND if it does not exist.
	FindUserByEmail(ctx context.Context, email string) (*User, error)

	// FindUsers lists users ordered by creation, and the total count.
	FindUsers(ctx context.Context, filter UserFilter) ([]*User, int, error)

	// UpdateUser changes the caller's own profile, or any profile for a
	// site admin. Returns ENOTFOUND, EINVALID.
	UpdateUser(ctx context.Context, id string, upd UserUpdate) (*User, error)

	// SetPassword replaces a user's password and ends all of their sessions;
	// a deactivated account is active again.
	// Returns ENOTFOUND, EINVALID.
	SetPassword(ctx context.Context, id, password string) error

	// ResetPassword is an admin's reset of a password: like SetPassword,
	// and in the same transaction every API token of the user is revoked.
	// Returns ENOTFOUND, EINVALID, EFORBIDDEN for a caller who is neither
	// a site admin nor the system.
	ResetPassword(ctx context.Context, id, password string) error

	// DisableUser deactivates an account: it cannot sign in, and in the
	// same transaction every session ends and every API token is revoked.
	// ResetPassword enables it again. Returns ENOTFOUND, EFORBIDDEN.
	DisableUser(ctx context.Context, id string) error
}

// Identity is a person as a single sign-on provider vouches for them: the
// provider (Issuer) and its stable id of the person (Subject), with the
// email and name it gives.
type Identity struct {
	Issuer        string
	Subject       string
	Email         string
	EmailVerified bool
	Name          string
}

// IdentityService signs people in with identities from a single sign-on
// provider.
type IdentityService interface {
	// LoginIdentity returns the account linked to (Issuer, Subject). If
	// none is, the account with the identity's email is linked, which
	// needs a verified email; if there is none, an account is created
	// from the identity when create is true or no account exists yet
	// (the first becomes a site admin). Returns EFORBIDDEN for a
	// deactivated account, an unverified email, or no account and no
	// creation; EINVALID for an identity without subject or usable email.
	LoginIdentity(ctx context.Context, id Identity, create bool) (*User, error)
}

// Session is a signed-in browser. Its secret is only known to the browser;
// the server keeps a hash.
type Session struct {
	UserID    string    `json:"userId"`
	CreatedAt time.Time `json:"createdAt"`
	ExpiresAt time.Time `json:"expiresAt"`
}

// Token is an API token for scripts, sent as "Authorization: Bearer".
// The secret is shown once at creation; only its hash is stored.
type Token struct {
	ID         string    `json:"id"`
	UserID     string    `json:"userId"`
	Name       string    `json:"name"`
	CreatedAt  time.Time `json:"createdAt"`
	LastUsedAt time.Time `json:"lastUsedAt,omitzero"`
}

// Invite lets a person sign up when sign-up is closed, optionally joining a
// space with a role.
type Invite struct {
	ID        string    `json:"id"`
	Email     string    `json:"email"`
	SpaceID   string    `json:"spaceId,omitempty"`
	Role      SpaceRole `json:"role,omitempty"`
	CreatedBy string    `json:"createdBy"`
	CreatedAt time.Time `json:"createdAt"`
	ExpiresAt time.Time `json:"expiresAt"`
}

// AuthService checks credentials and manages sessions, API tokens and
// invitations.
type AuthService interface {
	// Authenticate checks an email and password and returns the user.
	// Returns EUNAUTHORIZED with the same message whether the email is
	// unknown or the password wrong, taking about the same time.
	Authenticate(ctx context.Context, email, password string) (*User, error)

	// CreateSession starts a session for a user and returns its secret.
	CreateSession(ctx context.Context, userID string) (secret string, s *Session, err error)

	// FindSession returns the user of a live session. Returns EUNAUTHORIZED
	// if the secret is unknown or expired.
	FindSession(ctx context.Context, secret string) (*User, *Session, error)

	// DeleteSession ends a session. Ending an unknown session is no error.
	DeleteSession(ctx context.Context, secret string) error

	// CreateToken creates an API token for the caller and returns its
	// secret, which is never shown again. Returns EUNAUTHORIZED, EINVALID.
	CreateToken(ctx context.Context, name string) (secret string, t *Token, err error)

	// FindTokens lists the caller's tokens (without secrets).
	FindTokens(ctx context.Context) ([]*Token, error)

	// DeleteToken revokes one of the caller's tokens. Returns ENOTFOUND.
	DeleteToken(ctx context.Context, id string) error

	// FindUserByToken returns the owner of an API token. Returns
	// EUNAUTHORIZED if the secret is unknown.
	FindUserByToken(ctx context.Context, secret string) (*User, error)

	// CreateInvite invites an email address. Site admins may invite anyone;
	// a space admin may invite into their space. Returns the secret once.
	// Returns EFORBIDDEN, EINVALID, ENOTFOUND for an unreadable space.
	CreateInvite(ctx context.Context, inv Invite) (secret string, out *Invite, err error)
}
