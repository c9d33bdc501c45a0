package bolt

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	docket "github.com/docket-dev/docket"
	"github.com/docket-dev/docket/kv"
)

// Interface guard.
var _ docket.SpaceService = (*SpaceService)(nil)

// SpaceService implements [docket.SpaceService].
type SpaceService struct{ db *DB }

// NewSpaceService returns the space service over db.
func NewSpaceService(db *DB) *SpaceService { return &SpaceService{db: db} }

type memberRecord struct {
	Role    docket.SpaceRole `json:"role"`
	AddedAt time.Time        `json:"addedAt"`
}

func findSpace(tx kv.Tx, idOrSlug string) (*docket.Space, error) {
	id := idOrSlug
	if ref := tx.Bucket(bucketSpaceSlugs).Get([]byte(idOrSlug)); ref != nil {
		id = string(ref)
	}
	sp, err := findByID[docket.Space](tx, bucketSpaces, id, "Space not found.")
	if err == nil && sp.Rules == nil {
		r := docket.DefaultDecisionRules()
		sp.Rules = &r
	}
	return sp, err
}

// spaceRules returns the decision rules of a space, the defaults if it
// never set any or cannot be read.
func spaceRules(tx kv.Tx, spaceID string) docket.DecisionRules {
	if sp, err := findSpace(tx, spaceID); err == nil {
		return *sp.Rules
	}
	return docket.DefaultDecisionRules()
}

// roleIn returns the caller's role in a space: admin for the system and
// site admins, the membership role otherwise, "" for none.
func roleIn(ctx context.Context, tx kv.Tx, spaceID string) docket.SpaceRole {
	if docket.IsSystemContext(ctx) {
		return docket.RoleAdmin
	}
	caller := docket.UserFromContext(ctx)
	if caller == nil {
		return ""
	}
	if caller.IsAdmin() {
		return docket.RoleAdmin
	}
	return docket.SpaceRole(tx.Bucket(bucketUserSpaces).Get(pair(caller.ID, spaceID)))
}

// readableSpace finds a space the caller may read and the caller's role.
// A space the caller may not read is ENOTFOUND.
func readableSpace(ctx context.Context, tx kv.Tx, idOrSlug string) (*docket.Space, docket.SpaceRole, error) {
	sp, err := findSpace(tx, idOrSlug)
	if err != nil {
		return nil, "", err
	}
	role := roleIn(ctx, tx, sp.ID)
	if !role.AtLeast(docket.RoleViewer) {
		return nil, "", docket.Errorf(docket.ENOTFOUND, "Space not found.")
	}
	sp.Role = role
	return sp, role, nil
}

// spaceWithRole finds a space where the caller's role is at least min.
// A space the caller may not read is ENOTFOUND; one where the role is
// lower is EFORBIDDEN with the message forbidden.
func spaceWithRole(ctx context.Context, tx kv.Tx, idOrSlug string, min docket.SpaceRole, forbidden string) (*docket.Space, error) {
	sp, role, err := readableSpace(ctx, tx, idOrSlug)
	if err != nil {
		return nil, err
	}
	if !role.AtLeast(min) {
		return nil, docket.Errorf(docket.EFORBIDDEN, "%s", forbidden)
	}
	return sp, nil
}

func putMember(tx kv.Tx, spaceID, userID string, role docket.SpaceRole, at time.Time) error {
	if err := putJSON(tx.Bucket(bucketMembers), pair(spaceID, userID), memberRecord{Role: role, AddedAt: at}); err != nil {
		return err
	}
	return tx.Bucket(bucketUserSpaces).Put(pair(userID, spaceID), []byte(role))
}

func deleteMember(tx kv.Tx, spaceID, userID string) error {
	if err := tx.Bucket(bucketMembers).Delete(pair(spaceID, userID)); err != nil {
		return err
	}
	return tx.Bucket(bucketUserSpaces).Delete(pair(userID, spaceID))
}

// countAdmins counts the members of a space with the admin role.
func countAdmins(tx kv.Tx, spaceID string) int {
	n := 0
	for userID := range prefixed(tx.Bucket(bucketMembers), spaceID) {
		if docket.SpaceRole(tx.Bucket(bucketUserSpaces).Get(pair(string(userID), spaceID))) == docket.RoleAdmin {
			n++
		}
	}
	return n
}

// CreateSpace implements [docket.SpaceService].
func (s *SpaceService) CreateSpace(ctx context.Context, slug, name string) (*docket.Space, error) {
	caller := docket.UserFromContext(ctx)
	if caller == nil {
		return nil, docket.Errorf(docket.EUNAUTHORIZED, "Sign in first.")
	}
	if !docket.ValidSlug(slug) {
		return nil, docket.Errorf(docket.EINVALID, "Slug must be 1-63 lower-case letters, digits or dashes, starting with a letter or digit.")
	}
	if docket.ValidID(slug) && len(slug) == 16 {
		return nil, docket.Errorf(docket.EINVALID, "Slug may not look like a space id; add a dash.")
	}
	name, err := docket.CleanName(name)
	if err != nil {
		return nil, err
	}
	now := s.db.Now().UTC()
	sp := &docket.Space{ID: newID(), Slug: slug, Name: name, CreatedBy: caller.ID, CreatedAt: now}
	err = s.db.update(ctx, func(tx kv.Tx) error {
		if tx.Bucket(bucketSpaceSlugs).Get([]byte(slug)) != nil {
			return docket.Errorf(docket.ECONFLICT, "A space with slug %q already exists.", slug)
		}
		if _, err := findUser(tx, caller.ID); err != nil {
			return docket.Errorf(docket.EUNAUTHORIZED, "Sign in first.")
		}
		if err := putJSON(tx.Bucket(bucketSpaces), []byte(sp.ID), sp); err != nil {
			return err
		}
		if err := tx.Bucket(bucketSpaceSlugs).Put([]byte(slug), []byte(sp.ID)); err != nil {
			return err
		}
		if _, err := seedTemplates(tx, sp.ID, now); err != nil {
			return err
		}
		return putMember(tx, sp.ID, caller.ID, docket.RoleAdmin, now)
	})
	if err != nil {
		return nil, err
	}
	sp.Role = docket.RoleAdmin
	return sp, nil
}

// FindSpace implements [docket.SpaceService].
func (s *SpaceService) FindSpace(ctx context.Context, idOrSlug string) (*docket.Space, error) {
	return inTx(ctx, s.db.view, func(tx kv.Tx) (*docket.Space, error) {
		sp, _, err := readableSpace(ctx, tx, idOrSlug)
		return sp, err
	})
}

// FindSpaces implements [docket.SpaceService].
func (s *SpaceService) FindSpaces(ctx context.Context) ([]*docket.Space, error) {
	out, err := inTx(ctx, s.db.view, func(tx kv.Tx) ([]*docket.Space, error) {
		ids, err := readableSpaceIDs(ctx, tx)
		if err != nil {
			return nil, err
		}
		out := []*docket.Space{}
		for _, id := range ids {
			sp, err := findSpace(tx, id)
			if err != nil {
				return nil, err
			}
			sp.Role = roleIn(ctx, tx, id)
			out = append(out, sp)
		}
		return out, nil
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Slug < out[j].Slug })
	return out, err
}

// readableSpaceIDs lists the ids of every space the caller may read.
func readableSpaceIDs(ctx context.Context, tx kv.Tx) ([]string, error) {
	var ids []string
	caller := docket.UserFromContext(ctx)
	if docket.IsSystemContext(ctx) || caller.IsAdmin() {
		err := tx.Bucket(bucketSpaces).ForEach(func(k, _ []byte) error {
			ids = append(ids, string(k))
			return nil
		})
		return ids, err
	}
	if caller == nil {
		return nil, nil
	}
	for spaceID, role := range prefixed(tx.Bucket(bucketUserSpaces), caller.ID) {
		if docket.SpaceRole(role).AtLeast(docket.RoleViewer) {
			ids = append(ids, string(spaceID))
		}
	}
	return ids, nil
}

// FindMembers implements [docket.SpaceService].
func (s *SpaceService) FindMembers(ctx context.Context, space string) ([]*docket.Member, error) {
	out, err := inTx(ctx, s.db.view, func(tx kv.Tx) ([]*docket.Member, error) {
		sp, _, err := readableSpace(ctx, tx, space)
		if err != nil {
			return nil, err
		}
		out := []*docket.Member{}
		for userID, v := range prefixed(tx.Bucket(bucketMembers), sp.ID) {
			var m memberRecord
			if err := json.Unmarshal(v, &m); err != nil {
				return nil, fmt.Errorf("decode member %s/%s: %w", sp.ID, userID, err)
			}
			uid := string(userID)
			u, err := findUser(tx, uid)
			if err != nil {
				continue
			}
			out = append(out, &docket.Member{SpaceID: sp.ID, UserID: uid, Name: u.Name, Email: u.Email, Role: m.Role, AddedAt: m.AddedAt})
		}
		return out, nil
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, err
}

// SetMember implements [docket.SpaceService].
func (s *SpaceService) SetMember(ctx context.Context, space, user string, role docket.SpaceRole) (*docket.Member, error) {
	if !role.Valid() {
		return nil, docket.Errorf(docket.EINVALID, "Role %q is not one of viewer, commenter, editor, admin.", role)
	}
	return inTx(ctx, s.db.update, func(tx kv.Tx) (*docket.Member, error) {
		sp, err := spaceWithRole(ctx, tx, space, docket.RoleAdmin, "Only space admins may change members.")
		if err != nil {
			return nil, err
		}
		u, err := findUserRef(tx, user)
		if err != nil {
			return nil, err
		}
		var old memberRecord
		exists, err := getJSON(tx.Bucket(bucketMembers), pair(sp.ID, u.ID), &old)
		if err != nil {
			return nil, err
		}
		if exists && old.Role == docket.RoleAdmin && role != docket.RoleAdmin && countAdmins(tx, sp.ID) <= 1 {
			return nil, docket.Errorf(docket.ECONFLICT, "A space needs at least one admin.")
		}
		at := s.db.Now().UTC()
		if exists {
			at = old.AddedAt
		}
		m := &docket.Member{SpaceID: sp.ID, UserID: u.ID, Name: u.Name, Email: u.Email, Role: role, AddedAt: at}
		return m, putMember(tx, sp.ID, u.ID, role, at)
	})
}

// SetDecisionRules implements [docket.SpaceService].
func (s *SpaceService) SetDecisionRules(ctx context.Context, space string, r docket.DecisionRules) (*docket.Space, error) {
	if err := r.Validate(); err != nil {
		return nil, err
	}
	return inTx(ctx, s.db.update, func(tx kv.Tx) (*docket.Space, error) {
		sp, err := spaceWithRole(ctx, tx, space, docket.RoleAdmin, "Only space admins may change the decision rules.")
		if err != nil {
			return nil, err
		}
		role := sp.Role
		sp.Role, sp.Rules = "", &r
		if err := putJSON(tx.Bucket(bucketSpaces), []byte(sp.ID), sp); err != nil {
			return nil, err
		}
		sp.Role = role
		return sp, nil
	})
}

// RemoveMember implements [docket.SpaceService].
func (s *SpaceService) RemoveMember(ctx context.Context, space, user string) error {
	return s.db.update(ctx, func(tx kv.Tx) error {
		sp, callerRole, err := readableSpace(ctx, tx, space)
		if err != nil {
			return err
		}
		u, err := findUserRef(tx, user)
		if err != nil {
			return err
		}
		if !callerRole.AtLeast(docket.RoleAdmin) && docket.UserIDFromContext(ctx) != u.ID {
			return docket.Errorf(docket.EFORBIDDEN, "Only space admins may remove members.")
		}
		var m memberRecord
		if ok, err := getJSON(tx.Bucket(bucketMembers), pair(sp.ID, u.ID), &m); err != nil {
			return err
		} else if !ok {
			return docket.Errorf(docket.ENOTFOUND, "Not a member of this space.")
		}
		if m.Role == docket.RoleAdmin && countAdmins(tx, sp.ID) <= 1 {
			return docket.Errorf(docket.ECONFLICT, "A space needs at least one admin.")
		}
		return deleteMember(tx, sp.ID, u.ID)
	})
}
