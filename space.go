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
	// Rules are the space's decision rules; the service fills in the
	// defaults for a space that never set them.
	Rules *DecisionRules `json:"rules,omitempty"`
}

// DecisionRules are a space's rules for the decision process of its
// documents. [DefaultDecisionRules] suit an RFC process with a final
// comment period.
type DecisionRules struct {
	// MinLastCallSeconds is the shortest a last call may run.
	MinLastCallSeconds int64 `json:"minLastCallSeconds"`
	// RequireLastCall makes acceptance need a completed last call.
	RequireLastCall bool `json:"requireLastCall"`
	// MinApprovals is how many approvals acceptance needs.
	MinApprovals int `json:"minApprovals"`
	// OwnerMayApprove lets the owner be a reviewer and approve their own
	// document.
	OwnerMayApprove bool `json:"ownerMayApprove"`
	// ApprovalsResetOnChange makes an approval stale, and not count, once
	// the text changes beyond whitespace after it.
	ApprovalsResetOnChange bool `json:"approvalsResetOnChange"`
}

// Bounds of the decision rules.
const (
	MaxMinLastCall  = MaxDeadline
	MaxMinApprovals = MaxReviewers
)

// DefaultDecisionRules returns the rules of a space that never set any:
// a last call of at least 7 days before acceptance, one approval, none
// from the owner, approvals for the version they were given at.
func DefaultDecisionRules() DecisionRules {
	return DecisionRules{
		MinLastCallSeconds: int64(7 * 24 * time.Hour / time.Second), RequireLastCall: true,
		MinApprovals: 1, ApprovalsResetOnChange: true,
	}
}

// MinLastCall is the shortest a last call may run.
func (r DecisionRules) MinLastCall() time.Duration {
	return time.Duration(r.MinLastCallSeconds) * time.Second
}

// Validate reports EINVALID for rules out of bounds.
func (r DecisionRules) Validate() error {
	if r.MinLastCallSeconds < 0 || r.MinLastCallSeconds > int64(MaxMinLastCall/time.Second) {
		return Errorf(EINVALID, "The minimum last call must be between 0 and %d seconds (%s).",
			int64(MaxMinLastCall/time.Second), FormatDuration(MaxMinLastCall))
	}
	if r.MinApprovals < 0 || r.MinApprovals > MaxMinApprovals {
		return Errorf(EINVALID, "The minimum number of approvals must be between 0 and %d.", MaxMinApprovals)
	}
	return nil
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

	// SetDecisionRules replaces a space's decision rules; space admins
	// only. Returns ENOTFOUND, EFORBIDDEN, EINVALID.
	SetDecisionRules(ctx context.Context, space string, r DecisionRules) (*Space, error)

	// RemoveMember removes a user from a space; space admins only, or the
	// member themselves. Returns ENOTFOUND, EFORBIDDEN, ECONFLICT when it
	// would leave the space without an admin.
	RemoveMember(ctx context.Context, space, user string) error
}
