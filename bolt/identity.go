package bolt

import (
	"context"
	"strings"
	"time"

	docket "github.com/docket-dev/docket"
	"github.com/docket-dev/docket/kv"
)

var _ docket.IdentityService = (*UserService)(nil)

// errDeactivated is the answer to signing in to a deactivated account.
var errDeactivated = docket.Errorf(docket.EFORBIDDEN, "This account is deactivated and cannot sign in; ask a site admin.")

// identityLink is a single sign-on identity linked to an account, kept on
// the user's record; the identities bucket indexes it.
type identityLink struct {
	Issuer  string `json:"issuer"`
	Subject string `json:"subject"`
}

// identityKey is the key of an identity link: issuer and subject joined by
// a NUL, which neither contains.
func identityKey(id docket.Identity) []byte {
	return []byte(id.Issuer + "\x00" + id.Subject)
}

// LoginIdentity implements [docket.IdentityService]. Finding the link,
// linking by email and creating the account happen in one transaction, so
// two first logins at once make one account.
func (s *UserService) LoginIdentity(ctx context.Context, id docket.Identity, create bool) (*docket.User, error) {
	if id.Issuer == "" || id.Subject == "" || len(id.Issuer)+len(id.Subject) > 1024 {
		return nil, docket.Errorf(docket.EINVALID, "The sign-on provider sent no usable subject.")
	}
	email, err := docket.CleanEmail(id.Email)
	if err != nil {
		return nil, docket.Errorf(docket.EINVALID, "The sign-on provider sent no usable email address.")
	}
	name, err := docket.CleanName(id.Name)
	if err != nil {
		name, _, _ = strings.Cut(email, "@")
	}
	key := identityKey(id)
	return inTx(ctx, s.db.update, func(tx kv.Tx) (*docket.User, error) {
		links, err := tx.CreateBucketIfNotExists(bucketIdentities)
		if err != nil {
			return nil, err
		}
		if uid := links.Get(key); uid != nil {
			u, err := findUser(tx, string(uid))
			if err != nil {
				return nil, err
			}
			if u.Deactivated {
				return nil, errDeactivated
			}
			return &u.User, nil
		}
		if !id.EmailVerified {
			return nil, docket.Errorf(docket.EFORBIDDEN, "The sign-on provider has not verified the email address %s, so it cannot sign in to Docket.", email)
		}
		var u *userRecord
		if uid := findUserIDByEmail(tx, email); uid != "" {
			if u, err = findUser(tx, uid); err != nil {
				return nil, err
			}
			if u.Deactivated {
				return nil, errDeactivated
			}
		} else {
			k, _ := tx.Bucket(bucketUsers).Cursor().First()
			first := k == nil
			if !create && !first {
				return nil, docket.Errorf(docket.EFORBIDDEN, "There is no Docket account for %s, and sign-up is by invitation; ask a site admin.", email)
			}
			u = &userRecord{User: docket.User{
				ID: newID(), Name: name, Email: email, Role: docket.SiteMember, TimeZone: "UTC",
				CreatedAt: s.db.Now().UTC().Truncate(time.Millisecond),
			}}
			if err := insertUser(tx, u, first); err != nil {
				return nil, err
			}
		}
		u.Identities = append(u.Identities, identityLink{Issuer: id.Issuer, Subject: id.Subject})
		if err := putJSON(tx.Bucket(bucketUsers), []byte(u.ID), u); err != nil {
			return nil, err
		}
		return &u.User, links.Put(key, []byte(u.ID))
	})
}
