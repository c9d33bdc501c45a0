package server

import (
	"net/http"
	"net/url"

	"github.com/docket-dev/docket"
	"github.com/labstack/echo/v4"
)

// templatesPage is the data of a space's templates page and of the page
// that edits one template (Template set).
type templatesPage struct {
	Space     *docket.Space
	Templates []*docket.Template
	Template  *docket.Template
	Kinds     []docket.Kind
	Form      *formState
}

// handleTemplatesPage serves GET /s/:slug/templates: the space's
// templates and a form to add one (space admins).
func (s *Server) handleTemplatesPage(c echo.Context) error {
	return s.renderTemplates(c, http.StatusOK, nil)
}

func (s *Server) renderTemplates(c echo.Context, status int, form *formState) error {
	sp, err := s.adminSpace(c)
	if err != nil {
		return err
	}
	list, err := s.svc.Templates.FindTemplates(c.Request().Context(), sp.ID)
	if err != nil {
		return err
	}
	p := s.newPage(c, "Templates of "+sp.Name)
	p.Data = &templatesPage{Space: sp, Templates: list, Kinds: docKinds, Form: form}
	return s.render(c, status, "spacetemplates", p)
}

// templateForm reads the fields of a template form.
func templateForm(c echo.Context) docket.TemplateInput {
	name, desc, body := c.FormValue("name"), c.FormValue("description"), formText(c, "body")
	kind := docket.Kind(c.FormValue("kind"))
	return docket.TemplateInput{Name: &name, Description: &desc, Kind: &kind, Body: &body}
}

// handleTemplateCreatePost serves POST /s/:slug/templates {name,
// description, kind, body}.
func (s *Server) handleTemplateCreatePost(c echo.Context) error {
	sp, err := s.adminSpace(c)
	if err != nil {
		return err
	}
	if _, err := s.svc.Templates.CreateTemplate(c.Request().Context(), sp.ID, templateForm(c)); err != nil {
		form, status, err := failedForm(c, "template-new", err)
		if err != nil {
			return err
		}
		return s.renderTemplates(c, status, form)
	}
	return seeOther(c, "/s/"+url.PathEscape(sp.Slug)+"/templates?done=template")
}

// handleTemplatePage serves GET /s/:slug/templates/:tid: the form that
// edits a template.
func (s *Server) handleTemplatePage(c echo.Context) error {
	return s.renderTemplate(c, http.StatusOK, nil)
}

func (s *Server) renderTemplate(c echo.Context, status int, form *formState) error {
	sp, err := s.adminSpace(c)
	if err != nil {
		return err
	}
	t, err := s.svc.Templates.FindTemplate(c.Request().Context(), sp.ID, c.Param("tid"))
	if err != nil {
		return err
	}
	p := s.newPage(c, "Template "+t.Name)
	p.Data = &templatesPage{Space: sp, Template: t, Kinds: docKinds, Form: form}
	return s.render(c, status, "templateedit", p)
}

// handleTemplateUpdatePost serves POST /s/:slug/templates/:tid {name,
// description, kind, body}.
func (s *Server) handleTemplateUpdatePost(c echo.Context) error {
	sp, err := s.adminSpace(c)
	if err != nil {
		return err
	}
	if _, err := s.svc.Templates.UpdateTemplate(c.Request().Context(), sp.ID, c.Param("tid"), templateForm(c)); err != nil {
		if docket.ErrorCode(err) == docket.ENOTFOUND {
			return err
		}
		form, status, err := failedForm(c, "template", err)
		if err != nil {
			return err
		}
		return s.renderTemplate(c, status, form)
	}
	return seeOther(c, "/s/"+url.PathEscape(sp.Slug)+"/templates?done=template")
}

// handleTemplateDeletePost serves POST /s/:slug/templates/:tid/delete.
func (s *Server) handleTemplateDeletePost(c echo.Context) error {
	sp, err := s.adminSpace(c)
	if err != nil {
		return err
	}
	if err := s.svc.Templates.DeleteTemplate(c.Request().Context(), sp.ID, c.Param("tid")); err != nil {
		return err
	}
	return seeOther(c, "/s/"+url.PathEscape(sp.Slug)+"/templates?done=template-deleted")
}
