package server

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/docket-dev/docket"
	"github.com/labstack/echo/v4"
)

// handleTemplateList serves GET /api/spaces/:id/templates: the space's
// document templates, with their bodies, oldest first.
func (s *Server) handleTemplateList(c echo.Context) error {
	list, err := s.svc.Templates.FindTemplates(c.Request().Context(), c.Param("id"))
	return sendList(c, "templates", list, err)
}

// handleTemplateGet serves GET /api/spaces/:id/templates/:tid.
func (s *Server) handleTemplateGet(c echo.Context) error {
	t, err := s.svc.Templates.FindTemplate(c.Request().Context(), c.Param("id"), c.Param("tid"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, t)
}

// handleTemplateCreate serves POST /api/spaces/:id/templates {name,
// description?, kind?, body} (space admins): 201 and the template.
func (s *Server) handleTemplateCreate(c echo.Context) error {
	return saveTemplate(c, http.StatusCreated, func(ctx context.Context, in docket.TemplateInput) (*docket.Template, error) {
		return s.svc.Templates.CreateTemplate(ctx, c.Param("id"), in)
	})
}

// handleTemplateUpdate serves PATCH /api/spaces/:id/templates/:tid with
// any of {name, description, kind, body} (space admins).
func (s *Server) handleTemplateUpdate(c echo.Context) error {
	return saveTemplate(c, http.StatusOK, func(ctx context.Context, in docket.TemplateInput) (*docket.Template, error) {
		return s.svc.Templates.UpdateTemplate(ctx, c.Param("id"), c.Param("tid"), in)
	})
}

// saveTemplate decodes the fields of a template from the request and
// answers status with the template save makes of them.
func saveTemplate(c echo.Context, status int, save func(context.Context, docket.TemplateInput) (*docket.Template, error)) error {
	var in docket.TemplateInput
	if err := decode(c, &in); err != nil {
		return err
	}
	t, err := save(c.Request().Context(), in)
	if err != nil {
		return err
	}
	return c.JSON(status, t)
}

// handleTemplateDelete serves DELETE /api/spaces/:id/templates/:tid
// (space admins): 204.
func (s *Server) handleTemplateDelete(c echo.Context) error {
	if err := s.svc.Templates.DeleteTemplate(c.Request().Context(), c.Param("id"), c.Param("tid")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// fromTemplate returns the title, body and kind of a new document of
// space made from the template tid: its body with the title (by default
// the template's name) and today's date in place, and its kind unless
// kind is set. Without tid it returns its arguments as they are.
func (s *Server) fromTemplate(ctx context.Context, space, tid, title, body string, kind docket.Kind) (string, string, docket.Kind, error) {
	if tid == "" || space == "" {
		return title, body, kind, nil
	}
	if strings.TrimSpace(body) != "" {
		return "", "", "", docket.Errorf(docket.EINVALID, "Send either a body or a template, not both.")
	}
	t, err := s.svc.Templates.FindTemplate(ctx, space, tid)
	if docket.ErrorCode(err) == docket.ENOTFOUND {
		if _, serr := s.svc.Spaces.FindSpace(ctx, space); serr != nil {
			return "", "", "", serr
		}
		return "", "", "", docket.Errorf(docket.EINVALID, "Template %q is not one of the space's templates.", tid)
	} else if err != nil {
		return "", "", "", err
	}
	if title = strings.TrimSpace(title); title == "" {
		title = t.Name
	}
	if kind == "" {
		kind = t.Kind
	}
	return title, t.Apply(title, time.Now().UTC()), kind, nil
}
