package server

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	docket "github.com/docket-dev/docket"
	"github.com/labstack/echo/v4"
)

// handleRulesGet serves GET /api/spaces/:id/rules: the decision rules.
func (s *Server) handleRulesGet(c echo.Context) error {
	sp, err := s.svc.Spaces.FindSpace(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, sp.Rules)
}

// rulesRequest is a change of decision rules; fields left out keep their
// value. They are decoded one by one to name the field a bad value is in.
type rulesRequest struct {
	MinLastCallSeconds     json.RawMessage `json:"minLastCallSeconds"`
	RequireLastCall        json.RawMessage `json:"requireLastCall"`
	MinApprovals           json.RawMessage `json:"minApprovals"`
	OwnerMayApprove        json.RawMessage `json:"ownerMayApprove"`
	ApprovalsResetOnChange json.RawMessage `json:"approvalsResetOnChange"`
}

// apply sets on r the fields the request holds.
func (req *rulesRequest) apply(r *docket.DecisionRules) error {
	maxSeconds := int64(docket.MaxMinLastCall / time.Second)
	if err := wholeNumber(req.MinLastCallSeconds, "minLastCallSeconds", 0, maxSeconds, &r.MinLastCallSeconds); err != nil {
		return err
	}
	approvals := int64(r.MinApprovals)
	if err := wholeNumber(req.MinApprovals, "minApprovals", 0, docket.MaxMinApprovals, &approvals); err != nil {
		return err
	}
	r.MinApprovals = int(approvals)
	for _, f := range []struct {
		raw  json.RawMessage
		name string
		dst  *bool
	}{
		{req.RequireLastCall, "requireLastCall", &r.RequireLastCall},
		{req.OwnerMayApprove, "ownerMayApprove", &r.OwnerMayApprove},
		{req.ApprovalsResetOnChange, "approvalsResetOnChange", &r.ApprovalsResetOnChange},
	} {
		if f.raw != nil && json.Unmarshal(f.raw, f.dst) != nil {
			return docket.Errorf(docket.EINVALID, "Field %s must be true or false.", f.name)
		}
	}
	return nil
}

// wholeNumber decodes raw, when present, into dst: a JSON integer within
// [min, max].
func wholeNumber(raw json.RawMessage, name string, min, max int64, dst *int64) error {
	if raw == nil {
		return nil
	}
	n, err := strconv.ParseInt(string(raw), 10, 64)
	if err != nil || n < min || n > max {
		return docket.Errorf(docket.EINVALID, "Field %s must be a whole number from %d to %d.", name, min, max)
	}
	*dst = n
	return nil
}

// handleRulesPatch serves PATCH /api/spaces/:id/rules: space admins change
// the decision rules.
func (s *Server) handleRulesPatch(c echo.Context) error {
	ctx := c.Request().Context()
	var req rulesRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	sp, err := s.svc.Spaces.FindSpace(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	rules := *sp.Rules
	if err := req.apply(&rules); err != nil {
		return err
	}
	if sp, err = s.svc.Spaces.SetDecisionRules(ctx, sp.ID, rules); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, sp.Rules)
}

type spaceRequest struct {
	Slug string `json:"slug"`
	Name string `json:"name"`
}

// handleSpaceCreate serves POST /api/spaces; the caller becomes its admin.
func (s *Server) handleSpaceCreate(c echo.Context) error {
	ctx := c.Request().Context()
	var req spaceRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	sp, err := s.svc.Spaces.CreateSpace(ctx, req.Slug, req.Name)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, sp)
}

// handleSpaceList serves GET /api/spaces: the spaces the caller can read.
func (s *Server) handleSpaceList(c echo.Context) error {
	ctx := c.Request().Context()
	spaces, err := s.svc.Spaces.FindSpaces(ctx)
	return sendList(c, "spaces", spaces, err)
}

// handleSpaceGet serves GET /api/spaces/:id (id or slug).
func (s *Server) handleSpaceGet(c echo.Context) error {
	ctx := c.Request().Context()
	sp, err := s.svc.Spaces.FindSpace(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, sp)
}

// handleMemberList serves GET /api/spaces/:id/members.
func (s *Server) handleMemberList(c echo.Context) error {
	ctx := c.Request().Context()
	members, err := s.svc.Spaces.FindMembers(ctx, c.Param("id"))
	return sendList(c, "members", members, err)
}

type memberRequest struct {
	Email string           `json:"email"`
	User  string           `json:"user"`
	Role  docket.SpaceRole `json:"role"`
}

// handleMemberSet serves POST /api/spaces/:id/members {email|user, role}:
// adds a member or changes their role; space admins only.
func (s *Server) handleMemberSet(c echo.Context) error {
	ctx := c.Request().Context()
	var req memberRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	ref := req.User
	if ref == "" {
		ref = req.Email
	}
	if ref == "" {
		return docket.Errorf(docket.EINVALID, "Name the member by email or user id.")
	}
	m, err := s.svc.Spaces.SetMember(ctx, c.Param("id"), ref, req.Role)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, m)
}

// handleMemberRemove serves DELETE /api/spaces/:id/members/:user.
func (s *Server) handleMemberRemove(c echo.Context) error {
	ctx := c.Request().Context()
	if err := s.svc.Spaces.RemoveMember(ctx, c.Param("id"), c.Param("user")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
