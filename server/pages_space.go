package server

import (
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	docket "github.com/docket-dev/docket"
	"github.com/labstack/echo/v4"
)

// spacesPage is the data of the list of spaces.
type spacesPage struct {
	Form *formState
}

// handleSpacesPage serves GET /spaces: the reader's spaces and a form
// to create one.
func (s *Server) handleSpacesPage(c echo.Context) error {
	return s.renderSpaces(c, http.StatusOK, nil)
}

func (s *Server) renderSpaces(c echo.Context, status int, form *formState) error {
	p := s.newPage(c, "Spaces")
	p.Data = &spacesPage{Form: form}
	return s.render(c, status, "spaces", p)
}

// handleSpaceCreatePost serves POST /spaces.
func (s *Server) handleSpaceCreatePost(c echo.Context) error {
	slug := strings.ToLower(strings.TrimSpace(c.FormValue("slug")))
	sp, err := s.svc.Spaces.CreateSpace(c.Request().Context(), slug, c.FormValue("name"))
	if err != nil {
		form, status, err := failedForm(c, "space", err)
		if err != nil {
			return err
		}
		return s.renderSpaces(c, status, form)
	}
	return seeOther(c, "/s/"+sp.Slug+"?done=space")
}

// statusFilter is a link of the space page's status filter.
type statusFilter struct {
	Status  docket.Status // "" for all
	Label   string
	Count   int
	Current bool
	URL     string
}

// spacePage is the data of a space's page.
type spacePage struct {
	Space      *docket.Space
	Docs       []*docket.Document
	Total      int
	Filters    []statusFilter
	Status     docket.Status
	CanCreate  bool
	IsAdmin    bool
	Prev, Next string
	Empty      string // what the list says when it is empty
	Form       *formState
}

// spaceStatuses are the statuses the space page filters by, in order.
var spaceStatuses = []docket.Status{
	docket.StatusDraft, docket.StatusReview, docket.StatusLastCall, docket.StatusAccepted,
	docket.StatusDeclined, docket.StatusPostponed, docket.StatusWithdrawn, docket.StatusSuperseded,
}

const spacePageSize = 50

// maxScanDocs bounds the documents a page reads in one list call to count
// and group them.
const maxScanDocs = 100_000

// handleSpacePage serves GET /s/:slug?status=&offset=: the space's
// documents, filtered by status, with counts, and a form to create one
// for editors.
func (s *Server) handleSpacePage(c echo.Context) error {
	return s.renderSpace(c, http.StatusOK, nil)
}

func (s *Server) renderSpace(c echo.Context, status int, form *formState) error {
	ctx := c.Request().Context()
	sp, err := s.svc.Spaces.FindSpace(ctx, c.Param("slug"))
	if err != nil {
		return err
	}
	data := &spacePage{Space: sp, CanCreate: sp.Role.AtLeast(docket.RoleEditor), IsAdmin: sp.Role == docket.RoleAdmin, Form: form}
	if st := docket.Status(c.QueryParam("status")); st.Valid() {
		data.Status = st
	}
	offset := 0
	if n, err := strconv.Atoi(c.QueryParam("offset")); err == nil && n > 0 && n <= 1_000_000 {
		offset = n
	}
	base := "/s/" + url.PathEscape(sp.Slug)
	// One scan of the space gives the counts and the page.
	all, _, err := s.svc.Documents.FindDocuments(ctx, docket.DocumentFilter{Space: sp.ID, Limit: maxScanDocs})
	if err != nil {
		return err
	}
	counts := map[docket.Status]int{}
	var docs []*docket.Document
	for _, d := range all {
		st := d.Status
		if st == "" {
			st = docket.StatusDraft
		}
		counts[st]++
		if data.Status == "" || st == data.Status {
			docs = append(docs, d)
		}
	}
	data.Filters = append(data.Filters, statusFilter{Label: "All", Count: len(all), Current: data.Status == "", URL: base})
	for _, st := range spaceStatuses {
		if counts[st] == 0 && st != data.Status {
			continue
		}
		data.Filters = append(data.Filters, statusFilter{
			Status: st, Label: statusLabel(st), Count: counts[st], Current: st == data.Status, URL: base + "?status=" + string(st),
		})
	}
	total := len(docs)
	docs = docs[min(offset, total):min(offset+spacePageSize, total)]
	data.Docs, data.Total = docs, total
	data.Empty = "No documents here yet."
	if data.Status != "" {
		data.Empty = "No documents are " + strings.ToLower(statusLabel(data.Status)) + "."
	}
	page := base + "?"
	if data.Status != "" {
		page += "status=" + string(data.Status) + "&"
	}
	if offset > 0 {
		data.Prev = page + "offset=" + strconv.Itoa(max(offset-spacePageSize, 0))
	}
	if offset+len(docs) < total {
		data.Next = page + "offset=" + strconv.Itoa(offset+spacePageSize)
	}
	p := s.newPage(c, sp.Name)
	p.noteVisits(data.Docs)
	p.Data = data
	return s.render(c, status, "space", p)
}

// newDocPage is the data of the new document form.
type newDocPage struct {
	Space     *docket.Space
	Kinds     []docket.Kind
	Templates []*docket.Template
	Form      *formState
}

var docKinds = docket.Kinds

// handleNewDocPage serves GET /s/:slug/new.
func (s *Server) handleNewDocPage(c echo.Context) error {
	return s.renderNewDoc(c, http.StatusOK, nil)
}

func (s *Server) renderNewDoc(c echo.Context, status int, form *formState) error {
	sp, err := s.svc.Spaces.FindSpace(c.Request().Context(), c.Param("slug"))
	if err != nil {
		return err
	}
	if !sp.Role.AtLeast(docket.RoleEditor) {
		return docket.Errorf(docket.EFORBIDDEN, "You need the editor role in %s to write documents.", sp.Name)
	}
	templates, err := s.svc.Templates.FindTemplates(c.Request().Context(), sp.ID)
	if err != nil {
		return err
	}
	p := s.newPage(c, "New document")
	p.Data = &newDocPage{Space: sp, Kinds: docKinds, Templates: templates, Form: form}
	return s.render(c, status, "newdoc", p)
}

// handleNewDocPost serves POST /s/:slug/new {title, kind, tags, body,
// template}: creates the document as the API does and opens it. Blank
// (no template) with no kind chosen makes an RFC, as the form always did.
func (s *Server) handleNewDocPost(c echo.Context) error {
	body := formText(c, "body")
	req := docCreateRequest{Space: c.Param("slug"), Title: strings.TrimSpace(c.FormValue("title")), Body: body,
		Tags: splitTags(c.FormValue("tags")), Kind: docket.Kind(c.FormValue("kind")), Template: c.FormValue("template")}
	if req.Kind == "" && req.Template == "" {
		req.Kind = docket.KindRFC
	}
	var err error
	next := ""
	if req.Template != "" && strings.TrimSpace(body) != "" {
		err = docket.Errorf(docket.EINVALID, "Choose Blank to write your own text, or empty the text to start from a template.")
	} else if doc, cerr := s.createDocument(c.Request().Context(), req); cerr != nil {
		err = cerr
	} else {
		next = "/d/" + doc.ID
	}
	return afterForm(c, "newdoc", err, next, func(status int, form *formState) error {
		return s.renderNewDoc(c, status, form)
	})
}

// splitTags splits a comma- or space-separated tag field.
func splitTags(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\r' || r == '\t' })
}

// spaceSettingsPage is the data of a space's settings.
type spaceSettingsPage struct {
	Space   *docket.Space
	Members []*docket.Member
	Roles   []docket.SpaceRole
	Hooks   []*docket.Webhook
	Events  []docket.EventType
	Secret  string          // a new webhook's secret, shown once
	NewHook *docket.Webhook // the webhook the secret belongs to
	Form    *formState
}

var spaceRoles = []docket.SpaceRole{docket.RoleViewer, docket.RoleCommenter, docket.RoleEditor, docket.RoleAdmin}

// handleSpaceSettingsPage serves GET /s/:slug/settings: members and
// roles, webhooks; space admins only.
func (s *Server) handleSpaceSettingsPage(c echo.Context) error {
	return s.renderSpaceSettings(c, http.StatusOK, nil, nil, "")
}

func (s *Server) renderSpaceSettings(c echo.Context, status int, form *formState, hook *docket.Webhook, secret string) error {
	ctx := c.Request().Context()
	sp, err := s.adminSpace(c)
	if err != nil {
		return err
	}
	members, err := s.svc.Spaces.FindMembers(ctx, sp.ID)
	if err != nil {
		return err
	}
	data := &spaceSettingsPage{Space: sp, Members: members, Roles: spaceRoles, Events: docket.EventTypes,
		Form: form, NewHook: hook, Secret: secret}
	if data.Hooks, err = s.svc.Webhooks.FindWebhooks(ctx, sp.ID); err != nil {
		return err
	}
	p := s.newPage(c, sp.Name+" settings")
	p.noteNames(members)
	p.Data = data
	return s.render(c, status, "spacesettings", p)
}

// adminSpace returns the space of the URL if the caller administers it:
// 404 if they cannot read it, 403 if they can but are not its admin.
func (s *Server) adminSpace(c echo.Context) (*docket.Space, error) {
	sp, err := s.svc.Spaces.FindSpace(c.Request().Context(), c.Param("slug"))
	if err != nil {
		return nil, err
	}
	if sp.Role != docket.RoleAdmin {
		return nil, docket.Errorf(docket.EFORBIDDEN, "Only the admins of %s manage its members, rules, webhooks and templates.", sp.Name)
	}
	return sp, nil
}

// handleMemberPost serves POST /s/:slug/settings/members {email or user,
// role}: adds a member or changes a role.
func (s *Server) handleMemberPost(c echo.Context) error {
	sp, err := s.adminSpace(c)
	if err != nil {
		return err
	}
	ref := strings.TrimSpace(c.FormValue("user"))
	formID := "member-" + ref
	if ref == "" {
		ref, formID = strings.TrimSpace(c.FormValue("email")), "member-add"
	}
	if ref == "" {
		err = docket.Errorf(docket.EINVALID, "Email required.")
	} else {
		_, err = s.svc.Spaces.SetMember(c.Request().Context(), sp.ID, ref, docket.SpaceRole(c.FormValue("role")))
	}
	if err != nil {
		form, status, err := failedForm(c, formID, err)
		if err != nil {
			return err
		}
		return s.renderSpaceSettings(c, status, form, nil, "")
	}
	s.revoke()
	return seeOther(c, "/s/"+url.PathEscape(sp.Slug)+"/settings?done=member")
}

// spaceRulesForm is the rules of a space as its settings form shows them.
type spaceRulesForm struct {
	MinLastCallDays string
	docket.DecisionRules
}

// RulesForm returns the space's rules for the settings form.
func (d *spaceSettingsPage) RulesForm() spaceRulesForm {
	r := docket.DefaultDecisionRules()
	if d.Space.Rules != nil {
		r = *d.Space.Rules
	}
	days := strconv.FormatFloat(float64(r.MinLastCallSeconds)/86400, 'f', -1, 64)
	return spaceRulesForm{MinLastCallDays: days, DecisionRules: r}
}

// handleRulesPost serves POST /s/:slug/settings/rules {minLastCallDays,
// requireLastCall, minApprovals, ownerMayApprove, approvalsResetOnChange}:
// the space's decision rules; unchecked boxes are false.
func (s *Server) handleRulesPost(c echo.Context) error {
	sp, err := s.adminSpace(c)
	if err != nil {
		return err
	}
	r, err := rulesFromForm(c)
	if err == nil {
		_, err = s.svc.Spaces.SetDecisionRules(c.Request().Context(), sp.ID, r)
	}
	if err != nil {
		form, status, err := failedForm(c, "rules", err)
		if err != nil {
			return err
		}
		return s.renderSpaceSettings(c, status, form, nil, "")
	}
	return seeOther(c, "/s/"+url.PathEscape(sp.Slug)+"/settings?done=rules")
}

// rulesFromForm reads the decision rules of the space settings form.
func rulesFromForm(c echo.Context) (docket.DecisionRules, error) {
	maxDays := float64(docket.MaxMinLastCall / (24 * time.Hour))
	days, err := strconv.ParseFloat(strings.TrimSpace(c.FormValue("minLastCallDays")), 64)
	if err != nil || !(days >= 0 && days <= maxDays) {
		return docket.DecisionRules{}, docket.Errorf(docket.EINVALID, "The minimum last call must be a number of days from 0 to %g.", maxDays)
	}
	approvals, err := strconv.Atoi(strings.TrimSpace(c.FormValue("minApprovals")))
	if err != nil || approvals < 0 || approvals > docket.MaxMinApprovals {
		return docket.DecisionRules{}, docket.Errorf(docket.EINVALID, "The minimum number of approvals must be a whole number from 0 to %d.", docket.MaxMinApprovals)
	}
	checked := func(name string) bool { return c.FormValue(name) != "" }
	r := docket.DecisionRules{
		MinLastCallSeconds: int64(math.Round(days * 86400)), MinApprovals: approvals,
		RequireLastCall: checked("requireLastCall"), OwnerMayApprove: checked("ownerMayApprove"),
		ApprovalsResetOnChange: checked("approvalsResetOnChange"),
	}
	return r, r.Validate()
}

// handleMemberRemovePost serves POST /s/:slug/settings/members/:user/remove.
func (s *Server) handleMemberRemovePost(c echo.Context) error {
	sp, err := s.adminSpace(c)
	if err != nil {
		return err
	}
	if err := s.svc.Spaces.RemoveMember(c.Request().Context(), sp.ID, c.Param("user")); err != nil {
		form, status, err := failedForm(c, "member-"+c.Param("user"), err)
		if err != nil {
			return err
		}
		return s.renderSpaceSettings(c, status, form, nil, "")
	}
	s.revoke()
	return seeOther(c, "/s/"+url.PathEscape(sp.Slug)+"/settings?done=member-gone")
}

// handleWebhookCreatePost serves POST /s/:slug/settings/webhooks {url,
// format, events}: the page shows the new webhook's secret once.
func (s *Server) handleWebhookCreatePost(c echo.Context) error {
	sp, err := s.adminSpace(c)
	if err != nil {
		return err
	}
	form, _ := c.FormParams()
	var events []docket.EventType
	for _, e := range form["events"] {
		events = append(events, docket.EventType(e))
	}
	h, secret, err := s.svc.Webhooks.CreateWebhook(c.Request().Context(), docket.WebhookCreate{
		Space: sp.ID, URL: strings.TrimSpace(c.FormValue("url")), Format: docket.WebhookFormat(c.FormValue("format")), Events: events,
	})
	if err != nil {
		form, status, err := failedForm(c, "hook", err)
		if err != nil {
			return err
		}
		return s.renderSpaceSettings(c, status, form, nil, "")
	}
	return s.renderSpaceSettings(c, http.StatusCreated, nil, h, secret)
}

// handleWebhookDeletePost serves POST /s/:slug/settings/webhooks/:hook/delete.
func (s *Server) handleWebhookDeletePost(c echo.Context) error {
	sp, err := s.adminSpace(c)
	if err != nil {
		return err
	}
	list, err := s.svc.Webhooks.FindWebhooks(c.Request().Context(), sp.ID)
	if err != nil {
		return err
	}
	if !slices.ContainsFunc(list, func(h *docket.Webhook) bool { return h.ID == c.Param("hook") }) {
		return docket.Errorf(docket.ENOTFOUND, "Webhook not found.")
	}
	if err := s.svc.Webhooks.DeleteWebhook(c.Request().Context(), c.Param("hook")); err != nil {
		return err
	}
	return seeOther(c, "/s/"+url.PathEscape(sp.Slug)+"/settings?done=hook-deleted")
}
