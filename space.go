package docket

import (
	"context"
	"regexp"
	"time"
)

// SpaceRole is a member's role in a space. Roles are ordered:
// viewer < commenter < editor < admin.
type SpaceRole string

// Space roles.
const (
	RoleViewer    SpaceRole = "viewer"
	RoleCommenter SpaceRole = "commenter"
	RoleEditor    SpaceRole = "editor"
	RoleAdmin     SpaceRole = "admin"
)

var roleRank = map[SpaceRole]int{RoleViewer: 1, RoleCommenter: 2, RoleEditor: 3, RoleAdmin: 4}

// Valid reports whether r is a known space role.
func (r SpaceRole) Valid() bool { return roleRank[r] > 0 }

// AtLeast reports whether r grants everything that min grants. The empty
// role (not a member) grants nothing.
func (r SpaceRole) AtLeast(min SpaceRole) bool {
	return roleRank[r] > 0 && roleRank[r] >= roleRank[min]
}

// Space groups documents and the people who may read and change them.
type Space struct {
	ID        string    `json:"id"`
	Slug      string    `json:"slug"`
	Name      string    `json:"name"`
	CreatedBy string    `json:"createdBy"`
	CreatedAt time.Time `json:"createdAt"`
	// Role is the caller's role in the space, filled in by the service.
	Role SpaceRole `json:"role,omitempty"`
}

// Member is a user's membership of a space.
type Member struct {
	SpaceID string    `json:"spaceId"`
	UserID  string    `json:"userId"`
	Name    string    `json:"name"`
	Email   string    `json:"email"`
	Role    SpaceRole `json:"role"`
	AddedAt time.Time `json:"addedAt"`
}

var slugRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

// ValidSlug reports whether s can name a space in URLs: lower-case letters,
// digits and dashes, starting with a letter or digit, at most 63 long.
func ValidSlug(s string) bool { return slugRE.MatchString(s) }

// SpaceService manages spaces and their members. Every method checks the
// caller's role; a space the caller may not read is ENOTFOUND.
type SpaceService interface {
	// CreateSpace creates a space; the caller becomes its admin.
	// Returns EUNAUTHORIZED, EINVALID, ECONFLICT if the slug is taken.
	CreateSpace(ctx context.Context, slug, name string) (*Space, error)

	// FindSpace returns a space by id or slug. Returns ENOTFOUND.
	FindSpace(ctx context.Context, idOrSlug string) (*Space, error)

	// FindSpaces lists the spaces the caller can read.
	FindSpaces(ctx context.Context) ([]*Space, error)

	// FindMembers lists a space's members. Returns ENOTFOUND.
	FindMembers(ctx context.Context, space string) ([]*Member, error)

	// SetMember adds a user (by id or email) to a space or changes their
	// role; space admins only. Returns ENOTFOUND, EFORBIDDEN, EINVALID,
	// ECONFLICT when it would leave the space without an admin.
	SetMember(ctx context.Context, space, user string, role SpaceRole) (*Member, error)

	// RemoveMember removes a user from a space; space admins only, or the
	// member themselves. Returns ENOTFOUND, EFORBIDDEN, ECONFLICT when it
	// would leave the space without an admin.
	RemoveMember(ctx context.Context, space, user string) error
}
