package server

import (
	"net/http"

	docket "github.com/docket-dev/docket"
	"github.com/labstack/echo/v4"
)

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
