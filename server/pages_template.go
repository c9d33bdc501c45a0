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

// handleTemplatesPage serves GET /s/:slug/templates, the space's
// templates and a form to add one, and GET /s/:slug/templates/:tid, the
// form that edits one (space admins).
func (s *Server) handleTemplatesPage(c echo.Context) error {
	return s.renderTemplates(c, http.StatusOK, nil)
}

// renderTemplates renders the space's templates page or, with :tid in
// the URL, the page that edits that template.
func (s *Server) renderTemplates(c echo.Context, status int, form *formState) error {
	sp, err := s.adminSpace(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	data := &templatesPage{Space: sp, Kinds: docKinds, Form: form}
	name := "spacetemplates"
	if tid := c.Param("tid"); tid != "" {
		name = "templateedit"
		data.Template, err = s.svc.Templates.FindTemplate(ctx, sp.ID, tid)
	} else {
		data.Templates, err = s.svc.Templates.FindTemplates(ctx, sp.ID)
	}
	if err != nil {
		return err
	}
	title := "Templates of " + sp.Name
	if data.Template != nil {
		title = "Template " + data.Template.Name
	}
	p := s.newPage(c, title)
	p.Data = data
	return s.render(c, status, name, p)
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
	_, err = s.svc.Templates.CreateTemplate(c.Request().Context(), sp.ID, templateForm(c))
	return afterForm(c, "template-new", err, "/s/"+url.PathEscape(sp.Slug)+"/templates?done=template", func(status int, form *formState) error {
		return s.renderTemplates(c, status, form)
	})
}

// handleTemplateUpdatePost serves POST /s/:slug/templates/:tid {name,
// description, kind, body}.
func (s *Server) handleTemplateUpdatePost(c echo.Context) error {
	sp, err := s.adminSpace(c)
	if err != nil {
		return err
	}
	_, err = s.svc.Templates.UpdateTemplate(c.Request().Context(), sp.ID, c.Param("tid"), templateForm(c))
	return afterForm(c, "template", err, "/s/"+url.PathEscape(sp.Slug)+"/templates?done=template", func(status int, form *formState) error {
		return s.renderTemplates(c, status, form)
	})
}

// afterForm answers a form post whose action ended with err: without
// one, a redirect to next; with one about the input, the page again
// (again) with the form id showing it; a missing record or an internal
// error as it is.
func afterForm(c echo.Context, id string, err error, next string, again func(status int, form *formState) error) error {
	if err == nil {
		return seeOther(c, next)
	}
	if docket.ErrorCode(err) == docket.ENOTFOUND {
		return err
	}
	form, status, err := failedForm(c, id, err)
	if err != nil {
		return err
	}
	return again(status, form)
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
	return seeOther(c, "/s/"+url.PathEscape(sp.Slug)+"/templates?done=template-gone")
}
