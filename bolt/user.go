package bolt

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	docket "github.com/docket-dev/docket"
	"github.com/docket-dev/docket/kv"
	"golang.org/x/crypto/bcrypt"
)

// Interface guards.
var (
	_ docket.UserService = (*UserService)(nil)
	_ docket.AuthService = (*UserService)(nil)
)

// UserService implements [docket.UserService] and [docket.AuthService].
type UserService struct{ db *DB }

// NewUserService returns the user and auth service over db.
func NewUserService(db *DB) *UserService { return &UserService{db: db} }

type userRecord struct {
	docket.User
	PasswordHash []byte `json:"passwordHash"`
	// Identities are the single sign-on identities linked to the account.
	Identities []identityLink `json:"identities,omitempty"`
}

type sessionRecord struct {
	docket.Session
}

type tokenRecord struct {
	docket.Token
	Hash []byte `json:"hash"`
}

type inviteRecord struct {
	docket.Invite
	UsedAt time.Time `json:"usedAt,omitzero"`
}

func hashSecret(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

func findUser(tx kv.Tx, id string) (*userRecord, error) {
	return findByID[userRecord](tx, bucketUsers, id, "User not found.")
}

func findUserIDByEmail(tx kv.Tx, email string) string {
	return string(tx.Bucket(bucketUserEmails).Get([]byte(lowerTrim(email))))
}

// findUserRef resolves a user id or email.
func findUserRef(tx kv.Tx, ref string) (*userRecord, error) {
	if docket.ValidID(ref) {
		if u, err := findUser(tx, ref); err == nil {
			return u, nil
		}
	}
	if id := findUserIDByEmail(tx, ref); id != "" {
		return findUser(tx, id)
	}
	return nil, docket.Errorf(docket.ENOTFOUND, "User not found.")
}

// CreateUser implements [docket.UserService].
func (s *UserService) CreateUser(ctx context.Context, uc docket.UserCreate) (*docket.User, error) {
	name, err := docket.CleanName(uc.Name)
	if err != nil {
		return nil, err
	}
	email, err := docket.CleanEmail(uc.Email)
	if err != nil {
		return nil, err
	}
	if err := docket.CheckPassword(uc.Password); err != nil {
		return nil, err
	}
	tz, err := docket.CleanTimeZone(uc.TimeZone)
	if err != nil {
		return nil, err
	}
	role := uc.Role
	if role == "" {
		role = docket.SiteMember
	} else if !role.Valid() {
		return nil, docket.Errorf(docket.EINVALID, "Role %q is not a site role.", role)
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(uc.Password), s.db.PasswordCost)
	if err != nil {
		return nil, err
	}
	u := &userRecord{
		User: docket.User{
			ID: newID(), Name: name, Email: email, Role: role, TimeZone: tz,
			CreatedAt: s.db.Now().UTC().Truncate(time.Millisecond),
		},
		PasswordHash: hash,
	}
	err = s.db.update(ctx, func(tx kv.Tx) error {
		users := tx.Bucket(bucketUsers)
		k, _ := users.Cursor().First()
		first := k == nil
		var inv *inviteRecord
		if uc.Invite != "" {
			inv = &inviteRecord{}
			key := hashSecret(uc.Invite)
			ok, err := getJSON(tx.Bucket(bucketInvites), key, inv)
			if err != nil {
				return err
			}
			if !ok || !inv.UsedAt.IsZero() || s.db.Now().After(inv.ExpiresAt) || inv.Email != email {
				return docket.Errorf(docket.EFORBIDDEN, "The invitation is not valid for this email, or it was used or expired.")
			}
			inv.UsedAt = s.db.Now().UTC()
			if err := putJSON(tx.Bucket(bucketInvites), key, inv); err != nil {
				return err
			}
		} else if uc.OnlyIfFirst && !first {
			return docket.Errorf(docket.EFORBIDDEN, "Sign-up is closed; ask an admin for an invitation.")
		}
		if err := insertUser(tx, u, first); err != nil {
			return err
		}
		if inv != nil && inv.SpaceID != "" {
			if _, err := findSpace(tx, inv.SpaceID); err == nil {
				return putMember(tx, inv.SpaceID, u.ID, inv.Role, u.CreatedAt)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := u.User
	return &out, nil
}

// insertUser stores a new account and its email, which must be free; the
// first account of the site becomes an admin.
func insertUser(tx kv.Tx, u *userRecord, first bool) error {
	if first {
		u.Role = docket.SiteAdmin
	}
	if findUserIDByEmail(tx, u.Email) != "" {
		return docket.Errorf(docket.ECONFLICT, "An account with this email already exists.")
	}
	if err := putJSON(tx.Bucket(bucketUsers), []byte(u.ID), u); err != nil {
		return err
	}
	return tx.Bucket(bucketUserEmails).Put([]byte(u.Email), []byte(u.ID))
}

// FindUserByID implements [docket.UserService].
func (s *UserService) FindUserByID(ctx context.Context, id string) (*docket.User, error) {
	return inTx(ctx, s.db.view, func(tx kv.Tx) (*docket.User, error) {
		u, err := findUser(tx, id)
		if err != nil {
			return nil, err
		}
		return &u.User, nil
	})
}

// FindUserByEmail implements [docket.UserService].
func (s *UserService) FindUserByEmail(ctx context.Context, email string) (*docket.User, error) {
	return inTx(ctx, s.db.view, func(tx kv.Tx) (*docket.User, error) {
		u, err := findUser(tx, findUserIDByEmail(tx, email))
		if err != nil {
			return nil, err
		}
		return &u.User, nil
	})
}

// FindUsers implements [docket.UserService].
func (s *UserService) FindUsers(ctx context.Context, f docket.UserFilter) ([]*docket.User, int, error) {
	var all []*docket.User
	err := s.db.view(ctx, func(tx kv.Tx) error {
		return tx.Bucket(bucketUsers).ForEach(func(k, v []byte) error {
			var u userRecord
			if err := json.Unmarshal(v, &u); err != nil {
				return fmt.Errorf("decode user %s: %w", k, err)
			}
			if f.Email != "" && u.Email != lowerTrim(f.Email) {
				return nil
			}
			all = append(all, &u.User)
			return nil
		})
	})
	if err != nil {
		return nil, 0, err
	}
	slices.SortFunc(all, func(a, b *docket.User) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.ID, b.ID)) // oldest first
	})
	return page(all, f.Offset, f.Limit), len(all), nil
}

// page returns the window [offset, offset+limit) of items; limit 0 means all.
func page[T any](items []T, offset, limit int) []T {
	if offset >= len(items) {
		return []T{}
	}
	items = items[offset:]
	if limit > 0 && limit < len(items) {
		items = items[:limit]
	}
	return items
}

// UpdateUser implements [docket.UserService].
func (s *UserService) UpdateUser(ctx context.Context, id string, upd docket.UserUpdate) (*docket.User, error) {
	caller := docket.UserFromContext(ctx)
	if !docket.IsSystemContext(ctx) && (caller == nil || (caller.ID != id && !caller.IsAdmin())) {
		return nil, docket.Errorf(docket.ENOTFOUND, "User not found.")
	}
	return inTx(ctx, s.db.update, func(tx kv.Tx) (*docket.User, error) {
		u, err := findUser(tx, id)
		if err != nil {
			return nil, err
		}
		if upd.Name != nil {
			if u.Name, err = docket.CleanName(*upd.Name); err != nil {
				return nil, err
			}
		}
		if upd.TimeZone != nil {
			if u.TimeZone, err = docket.CleanTimeZone(*upd.TimeZone); err != nil {
				return nil, err
			}
		}
		if upd.Notifications != nil {
			if err := setNotifications(&u.User, upd.Notifications); err != nil {
				return nil, err
			}
		}
		return &u.User, putJSON(tx.Bucket(bucketUsers), []byte(id), u)
	})
}

// SetPassword implements [docket.UserService]. Every session of the user
// ends, so a stolen cookie dies with the old password. A deactivated
// account is active again.
func (s *UserService) SetPassword(ctx context.Context, id, password string) error {
	if err := docket.CheckPassword(password); err != nil {
		return err
	}
	caller := docket.UserFromContext(ctx)
	if !docket.IsSystemContext(ctx) && (caller == nil || (caller.ID != id && !caller.IsAdmin())) {
		return docket.Errorf(docket.ENOTFOUND, "User not found.")
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), s.db.PasswordCost)
	if err != nil {
		return err
	}
	return s.db.update(ctx, func(tx kv.Tx) error {
		u, err := findUser(tx, id)
		if err != nil {
			return err
		}
		u.PasswordHash = hash
		u.Deactivated = false // an imported author's account, brought back
		if err := putJSON(tx.Bucket(bucketUsers), []byte(id), u); err != nil {
			return err
		}
		return deleteUserSessions(tx, id)
	})
}

// ResetPassword implements [docket.UserService].
func (s *UserService) ResetPassword(ctx context.Context, id, password string) error {
	if err := docket.CheckPassword(password); err != nil {
		return err
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), s.db.PasswordCost)
	if err != nil {
		return err
	}
	return s.revoke(ctx, id, func(u *userRecord) {
		u.PasswordHash = hash
		u.Deactivated = false
	})
}

// DisableUser implements [docket.UserService].
func (s *UserService) DisableUser(ctx context.Context, id string) error {
	return s.revoke(ctx, id, func(u *userRecord) { u.Deactivated = true })
}

// revoke changes a user as a site admin or the system may, and in the
// same transaction ends every session and revokes every API token of the
// user. Cached token owners go stale with the commit.
func (s *UserService) revoke(ctx context.Context, id string, change func(*userRecord)) error {
	if !docket.IsSystemContext(ctx) && !docket.UserFromContext(ctx).IsAdmin() {
		return docket.Errorf(docket.EFORBIDDEN, "Only site admins may reset passwords and disable accounts.")
	}
	return s.db.update(ctx, func(tx kv.Tx) error {
		u, err := findUser(tx, id)
		if err != nil {
			return err
		}
		change(u)
		if err := putJSON(tx.Bucket(bucketUsers), []byte(id), u); err != nil {
			return err
		}
		if err := deleteUserSessions(tx, id); err != nil {
			return err
		}
		return deletePrefix(tx.Bucket(bucketTokens), id, func(_, v []byte) error {
			var rec tokenRecord
			if err := json.Unmarshal(v, &rec); err != nil {
				return fmt.Errorf("decode token of %s: %w", id, err)
			}
			return tx.Bucket(bucketTokenHashes).Delete(rec.Hash)
		})
	})
}

func deleteUserSessions(tx kv.Tx, userID string) error {
	return deletePrefix(tx.Bucket(bucketUserSess), userID, func(key, _ []byte) error {
		return tx.Bucket(bucketSessions).Delete(key)
	})
}

// Authenticate implements [docket.AuthService]. An unknown email costs a
// bcrypt comparison too, so timing does not tell which accounts exist.
func (s *UserService) Authenticate(ctx context.Context, email, password string) (*docket.User, error) {
	var u *userRecord
	err := s.db.view(ctx, func(tx kv.Tx) error {
		if id := findUserIDByEmail(tx, email); id != "" {
			var err error
			u, err = findUser(tx, id)
			return err
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	hash := s.db.dummyHash
	if u != nil && len(u.PasswordHash) > 0 { // an account made by single sign-on has none
		hash = u.PasswordHash
	}
	if len(password) > 1024 {
		password = password[:1024]
	}
	if u != nil && u.Deactivated {
		// Compare anyway, so that the answer takes as long as for others.
		_ = bcrypt.CompareHashAndPassword(s.db.dummyHash, []byte(password))
		return nil, errDeactivated
	}
	if bcrypt.CompareHashAndPassword(hash, []byte(password)) != nil || u == nil || len(u.PasswordHash) == 0 {
		return nil, docket.Errorf(docket.EUNAUTHORIZED, "Wrong email or password.")
	}
	return &u.User, nil
}

// CreateSession implements [docket.AuthService].
func (s *UserService) CreateSession(ctx context.Context, userID string) (string, *docket.Session, error) {
	secret := newSecret("")
	now := s.db.Now().UTC()
	rec := &sessionRecord{Session: docket.Session{UserID: userID, CreatedAt: now, ExpiresAt: now.Add(s.db.SessionTTL)}}
	key := hashSecret(secret)
	err := s.db.update(ctx, func(tx kv.Tx) error {
		if _, err := findUser(tx, userID); err != nil {
			return err
		}
		if err := putJSON(tx.Bucket(bucketSessions), key, rec); err != nil {
			return err
		}
		return tx.Bucket(bucketUserSess).Put(append([]byte(userID+"/"), key...), nil)
	})
	if err != nil {
		return "", nil, err
	}
	return secret, &rec.Session, nil
}

// FindSession implements [docket.AuthService].
func (s *UserService) FindSession(ctx context.Context, secret string) (*docket.User, *docket.Session, error) {
	var user *docket.User
	var sess *docket.Session
	err := s.db.view(ctx, func(tx kv.Tx) error {
		var rec sessionRecord
		ok, err := getJSON(tx.Bucket(bucketSessions), hashSecret(secret), &rec)
		if err != nil {
			return err
		} else if !ok || !s.db.Now().Before(rec.ExpiresAt) {
			return docket.Errorf(docket.EUNAUTHORIZED, "Session expired; sign in again.")
		}
		u, err := findUser(tx, rec.UserID)
		if err != nil {
			return docket.Errorf(docket.EUNAUTHORIZED, "Session expired; sign in again.")
		}
		user, sess = &u.User, &rec.Session
		return nil
	})
	return user, sess, err
}

// DeleteSession implements [docket.AuthService].
func (s *UserService) DeleteSession(ctx context.Context, secret string) error {
	key := hashSecret(secret)
	return s.db.update(ctx, func(tx kv.Tx) error {
		var rec sessionRecord
		if ok, err := getJSON(tx.Bucket(bucketSessions), key, &rec); err != nil || !ok {
			return err
		}
		if err := tx.Bucket(bucketUserSess).Delete(append([]byte(rec.UserID+"/"), key...)); err != nil {
			return err
		}
		return tx.Bucket(bucketSessions).Delete(key)
	})
}

// CreateToken implements [docket.AuthService].
func (s *UserService) CreateToken(ctx context.Context, name string) (string, *docket.Token, error) {
	caller := docket.UserFromContext(ctx)
	if caller == nil {
		return "", nil, docket.Errorf(docket.EUNAUTHORIZED, "Sign in first.")
	}
	name, err := docket.CleanName(name)
	if err != nil {
		return "", nil, err
	}
	secret := newSecret("dkt_")
	rec := &tokenRecord{
		Token: docket.Token{ID: newID(), UserID: caller.ID, Name: name, CreatedAt: s.db.Now().UTC()},
		Hash:  hashSecret(secret),
	}
	err = s.db.update(ctx, func(tx kv.Tx) error {
		n := 0
		for range prefixed(tx.Bucket(bucketTokens), caller.ID) {
			n++
		}
		if n >= 100 {
			return docket.Errorf(docket.ECONFLICT, "At most 100 API tokens per user; revoke one first.")
		}
		if err := putJSON(tx.Bucket(bucketTokens), pair(caller.ID, rec.ID), rec); err != nil {
			return err
		}
		return tx.Bucket(bucketTokenHashes).Put(rec.Hash, pair(caller.ID, rec.ID))
	})
	if err != nil {
		return "", nil, err
	}
	return secret, &rec.Token, nil
}

// FindTokens implements [docket.AuthService].
func (s *UserService) FindTokens(ctx context.Context) ([]*docket.Token, error) {
	caller := docket.UserFromContext(ctx)
	if caller == nil {
		return nil, docket.Errorf(docket.EUNAUTHORIZED, "Sign in first.")
	}
	return inTx(ctx, s.db.view, func(tx kv.Tx) ([]*docket.Token, error) {
		recs, err := decodePrefixed[tokenRecord](tx.Bucket(bucketTokens), caller.ID, "token")
		out := make([]*docket.Token, len(recs))
		for i, rec := range recs {
			out[i] = &rec.Token
		}
		return out, err
	})
}

// DeleteToken implements [docket.AuthService].
func (s *UserService) DeleteToken(ctx context.Context, id string) error {
	caller := docket.UserFromContext(ctx)
	if caller == nil {
		return docket.Errorf(docket.EUNAUTHORIZED, "Sign in first.")
	}
	if !docket.ValidID(id) {
		return docket.Errorf(docket.ENOTFOUND, "Token not found.")
	}
	return s.db.update(ctx, func(tx kv.Tx) error {
		key := pair(caller.ID, id)
		var rec tokenRecord
		if ok, err := getJSON(tx.Bucket(bucketTokens), key, &rec); err != nil {
			return err
		} else if !ok {
			return docket.Errorf(docket.ENOTFOUND, "Token not found.")
		}
		if err := tx.Bucket(bucketTokenHashes).Delete(rec.Hash); err != nil {
			return err
		}
		return tx.Bucket(bucketTokens).Delete(key)
	})
}

// FindUserByToken implements [docket.AuthService].
func (s *UserService) FindUserByToken(ctx context.Context, secret string) (*docket.User, error) {
	hash := hashSecret(secret)
	gen := s.db.gen.Load()
	if u, ok := s.db.tokens.get(string(hash), gen); ok {
		return &u, nil
	}
	u, err := inTx(ctx, s.db.view, func(tx kv.Tx) (*docket.User, error) {
		// The key is the secret's hash, so finding it is the check; the
		// value names the owner and the token.
		ref := tx.Bucket(bucketTokenHashes).Get(hash)
		userID, _, ok := bytes.Cut(ref, []byte("/"))
		if ref == nil || !ok {
			return nil, docket.Errorf(docket.EUNAUTHORIZED, "Invalid API token.")
		}
		u, err := findUser(tx, string(userID))
		if err != nil {
			return nil, docket.Errorf(docket.EUNAUTHORIZED, "Invalid API token.")
		}
		return &u.User, nil
	})
	if err == nil {
		s.db.tokens.put(string(hash), gen, *u)
	}
	return u, err
}

// CreateInvite implements [docket.AuthService].
func (s *UserService) CreateInvite(ctx context.Context, inv docket.Invite) (string, *docket.Invite, error) {
	caller := docket.UserFromContext(ctx)
	if caller == nil && !docket.IsSystemContext(ctx) {
		return "", nil, docket.Errorf(docket.EUNAUTHORIZED, "Sign in first.")
	}
	email, err := docket.CleanEmail(inv.Email)
	if err != nil {
		return "", nil, err
	}
	if inv.SpaceID != "" && inv.Role == "" {
		inv.Role = docket.RoleViewer
	}
	if inv.Role != "" && !inv.Role.Valid() {
		return "", nil, docket.Errorf(docket.EINVALID, "Role %q is not one of viewer, commenter, editor, admin.", inv.Role)
	}
	secret := newSecret("inv_")
	now := s.db.Now().UTC()
	rec := &inviteRecord{Invite: docket.Invite{
		ID: newID(), Email: email, Role: inv.Role, CreatedAt: now, ExpiresAt: now.Add(7 * 24 * time.Hour),
	}}
	if caller != nil {
		rec.CreatedBy = caller.ID
	}
	err = s.db.update(ctx, func(tx kv.Tx) error {
		if inv.SpaceID == "" {
			if !caller.IsAdmin() && !docket.IsSystemContext(ctx) {
				return docket.Errorf(docket.EFORBIDDEN, "Only site admins may invite without a space.")
			}
		} else {
			sp, err := spaceWithRole(ctx, tx, inv.SpaceID, docket.RoleAdmin, "Only space admins may invite into a space.")
			if err != nil {
				return err
			}
			rec.SpaceID = sp.ID
		}
		if findUserIDByEmail(tx, email) != "" {
			return docket.Errorf(docket.ECONFLICT, "An account with this email already exists; add it as a member instead.")
		}
		return putJSON(tx.Bucket(bucketInvites), hashSecret(secret), rec)
	})
	if err != nil {
		return "", nil, err
	}
	return secret, &rec.Invite, nil
}
