package server

import (
	"context"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	docket "github.com/docket-dev/docket"
	"github.com/labstack/echo/v4"
)

// docPage is the data of the document page.
type docPage struct {
	Doc *docket.Document
	// Unreached are the @names a comment just posted mentioned who cannot
	// read the space (from ?unreached=, after a form post); CanInvite
	// says whether the caller may add members.
	Unreached []string
	CanInvite bool
	Space     *docket.Space
	Lifecycle *docket.Lifecycle
	HTML      template.HTML
	// Unrendered says why the text could not be rendered; the page then
	// shows it as written.
	Unrendered string
	Threads    []*threadView
	Open       int // open and outdated threads
	Concerns   []*docket.Review
	Actions    []*docket.ActionItem
	Members    []*docket.Member
	Handoff    []*docket.Member // who the document may be handed to
	OtherDocs  []*docket.Document
	IsReviewer bool
	InReview   bool // review or last call
	CanEdit    bool
	CanComment bool
	CanManage  bool // owner (an editor) or space admin
	// Moves are the transitions the state machine allows now, apart from
	// the outcomes, which are Decide; Blocked says why the next steps of
	// the process are not open yet.
	Moves   []docket.Status
	Decide  []docket.Status
	Blocked []string
	// Amend reports that the document may be amended: a new round.
	Amend      bool
	Kinds      []docket.Kind
	DueDefault string // a week from now, for deadline inputs
	DueMin     string
	// LastCallDefault is the first evening the space's minimum last call
	// allows, for the last call's deadline.
	LastCallDefault string
	Form            *formState
	// Since is what changed since the reader's last visit, nil on the
	// first visit or when nothing did.
	Since *sinceVisit
	// Edited says how much the text changed since the versions the
	// page shows as passed (the decision's, stale approvals').
	Edited editedSince
}

// Allowed reports whether the document may move to status now.
func (d *docPage) Allowed(to docket.Status) bool {
	return slices.Contains(d.Moves, to) || slices.Contains(d.Decide, to)
}

// IsReviewerID reports whether a user is one of the document's reviewers.
func (d *docPage) IsReviewerID(id string) bool {
	return slices.ContainsFunc(d.Doc.Reviewers, func(r *docket.Reviewer) bool { return r.UserID == id })
}

// shows reports whether the page has the form id, so that the error of
// a form that is not shown goes to the top of the page instead.
func (d *docPage) shows(id string) bool {
	switch {
	case id == "edit" || id == "meta":
		return d.CanEdit
	case id == "thread":
		return d.CanComment
	case id == "review":
		return d.IsReviewer && d.InReview
	case id == "owner":
		return len(d.Handoff) > 0
	case id == "decide":
		return len(d.Decide) > 0
	case id == "amend":
		return d.Amend
	case id == "move-draft" || id == "move-withdrawn":
		return d.Allowed(docket.StatusDraft) || d.Allowed(docket.StatusWithdrawn)
	case strings.HasPrefix(id, "move-"):
		return d.Allowed(docket.Status(strings.TrimPrefix(id, "move-")))
	case strings.HasPrefix(id, "reply-"):
		th := d.thread(strings.TrimPrefix(id, "reply-"))
		return d.CanComment && th != nil && th.Status != docket.ThreadResolved
	case strings.HasPrefix(id, "resolve-"):
		th := d.thread(strings.TrimPrefix(id, "resolve-"))
		return th != nil && th.CanResolve
	}
	return false
}

func (d *docPage) thread(id string) *threadView {
	for _, th := range d.Threads {
		if th.ID == id {
			return th
		}
	}
	return nil
}

// threadView is a thread as the page shows it.
type threadView struct {
	*docket.Thread
	// Start and End are the anchor's range at the current version, ""
	// for a thread on the whole document.
	Start, End string
	CanResolve bool
	Concern    bool
}

// docHTML returns the sanitised HTML of a document's current text, from
// the cache that GET /api/docs/:id/html uses.
func (s *Server) docHTML(ctx context.Context, doc *docket.Document) (template.HTML, error) {
	r, err := s.docHTMLAt(ctx, doc.ID, doc.Version, func() (string, int64, error) {
		return doc.Body, doc.Version, nil
	})
	if err != nil {
		return "", err
	}
	return template.HTML(r.html), nil
}

// pageDocID returns the :id of a page URL, or ENOTFOUND if it cannot be
// a document id.
func pageDocID(c echo.Context) (string, error) {
	id := c.Param("id")
	if !docket.ValidID(id) {
		return "", docket.Errorf(docket.ENOTFOUND, "Document not found.")
	}
	return id, nil
}

// handleDocPage serves GET /d/:id.
func (s *Server) handleDocPage(c echo.Context) error {
	return s.renderDoc(c, http.StatusOK, nil)
}

// handleDocPanels serves GET /d/:id/panels: the parts of the document
// page that others' actions change (the head with the status, the
// review panel, the threads) as an HTML fragment, for the page script
// to refresh them in place when the event stream says something
// happened. It is the page's own markup, without the text.
func (s *Server) handleDocPanels(c echo.Context) error {
	c.Set(docPanelsKey, true)
	return s.renderDoc(c, http.StatusOK, nil)
}

// docPanelsKey marks a request for the panels fragment.
const docPanelsKey = "docket.docPanels"

// renderDoc renders the document page, with a failed form if form is set.
func (s *Server) renderDoc(c echo.Context, status int, form *formState) error {
	ctx := c.Request().Context()
	id, err := pageDocID(c)
	if err != nil {
		return err
	}
	// The newest event before anything is read: the page's event stream
	// starts after it, so what changes while the page is made is sent.
	var eventSeq int64
	if evs, err := s.svc.Events.FindEvents(ctx, docket.EventFilter{DocID: id, Limit: 1}); err == nil && len(evs) > 0 {
		eventSeq = evs[0].Seq
	}
	doc, err := s.svc.Documents.FindDocumentByID(ctx, id)
	if err != nil {
		return err
	}
	p := s.newPage(c, doc.Title)
	me := p.User
	data := &docPage{
		Doc: doc, Form: form, Kinds: docKinds,
		CanEdit:    doc.Role.AtLeast(docket.RoleEditor),
		CanComment: doc.Role.AtLeast(docket.RoleCommenter),
		CanManage:  doc.Role == docket.RoleAdmin || (doc.OwnerID == me.ID && doc.Role.AtLeast(docket.RoleEditor)),
		InReview:   doc.Status == docket.StatusReview || doc.Status == docket.StatusLastCall,
	}
	if data.Space, err = s.svc.Spaces.FindSpace(ctx, doc.SpaceID); err != nil {
		return err
	}
	data.CanInvite = doc.Role == docket.RoleAdmin
	data.Unreached = unreachedNames(c.QueryParam("unreached"))
	if data.Lifecycle, err = s.svc.Decisions.FindLifecycle(ctx, doc.ID); err != nil {
		return err
	}
	// A text that cannot be rendered is shown as written: whoever may
	// read the document can still read and edit it.
	if data.HTML, err = s.docHTML(ctx, doc); unrenderable(err) {
		data.Unrendered = docket.ErrorMessage(err)
	} else if err != nil {
		return err
	}
	if data.Members, err = s.svc.Spaces.FindMembers(ctx, doc.SpaceID); err != nil {
		return err
	}
	p.noteNames(data.Members)
	data.IsReviewer = data.IsReviewerID(me.ID)
	var reviews []*docket.Review
	if reviews, err = s.svc.Decisions.FindReviews(ctx, doc.ID); err != nil {
		return err
	}
	concernThreads := map[string]bool{}
	openConcerns := 0
	for _, r := range reviews {
		if r.Verdict == docket.VerdictConcern {
			data.Concerns = append(data.Concerns, r)
			concernThreads[r.ThreadID] = true
			if !r.Resolved {
				openConcerns++
			}
		}
	}
	threads, err := s.svc.Threads.FindThreads(ctx, doc.ID, docket.ThreadFilter{})
	if err != nil {
		return err
	}
	for _, th := range threads {
		v := &threadView{Thread: th, Concern: concernThreads[th.ID],
			CanResolve: th.AuthorID == me.ID || data.CanEdit}
		if th.Anchor != nil {
			v.Start, v.End = strconv.Itoa(th.Anchor.Start), strconv.Itoa(th.Anchor.End)
		}
		if th.Status != docket.ThreadResolved {
			data.Open++
		}
		data.Threads = append(data.Threads, v)
	}
	if data.Actions, err = s.svc.Actions.FindActions(ctx, doc.ID); err != nil {
		return err
	}
	if data.CanManage {
		s.allowedMoves(data, openConcerns)
		for _, m := range data.Members {
			if m.UserID != doc.OwnerID && m.Role.AtLeast(docket.RoleEditor) {
				data.Handoff = append(data.Handoff, m)
			}
		}
		if data.Allowed(docket.StatusSuperseded) {
			others, _, err := s.svc.Documents.FindDocuments(ctx, docket.DocumentFilter{Space: doc.SpaceID, Limit: 200})
			if err != nil {
				return err
			}
			for _, o := range others {
				if o.ID != doc.ID {
					data.OtherDocs = append(data.OtherDocs, o)
				}
			}
		}
	}
	if data.Edited, err = s.editedSince(ctx, doc, data.InReview); err != nil {
		return err
	}
	if c.Request().Method == http.MethodGet {
		prev, err := s.svc.Visits.RecordVisit(ctx, doc.ID, doc.Version)
		if err != nil {
			return err
		}
		if prev != nil {
			since, err := s.changesSince(ctx, doc, prev, data.Threads, p)
			if err != nil {
				return err
			}
			if since.Any() {
				data.Since = since
			}
		}
	}
	now := s.cfg.Now()
	week := time.Date(now.Year(), now.Month(), now.Day()+7, 17, 0, 0, 0, p.loc)
	data.DueDefault, data.DueMin = p.InputTime(week), p.InputTime(now)
	data.LastCallDefault = p.InputTime(eveningAfter(now.Add(data.rules().MinLastCall()), p.loc))
	if form != nil && !data.shows(form.ID) {
		// The form that failed is not on the page (any more): say why
		// at the top.
		p.Error = form.Err
	}
	p.MainID = "doc"
	p.DocMain = &docMain{ID: doc.ID, Version: doc.Version, Role: doc.Role, UserID: me.ID, UserName: me.Name, EventSeq: eventSeq}
	p.Data = data
	if panels, _ := c.Get(docPanelsKey).(bool); panels {
		return s.renderPart(c, status, "doc", "doc-panels", p)
	}
	return s.render(c, status, "doc", p)
}

// allowedMoves fills in the transitions that docket.CheckTransition
// allows the document now, with stand-ins for what the forms ask for (a
// deadline tomorrow, a reviewer, a summary), and why the next steps of
// the process are blocked. The service checks again when a form is sent.
func (s *Server) allowedMoves(data *docPage, openConcerns int) {
	doc := data.Doc
	now := s.cfg.Now()
	from := doc.Status
	if from == "" {
		from = docket.StatusDraft
	}
	st := docket.TransitionState{
		From: from, Due: doc.Due, Now: now, OpenConcerns: openConcerns, Reviewers: len(doc.Reviewers),
		Owner: doc.OwnerID, Rules: data.rules(),
	}
	if data.Lifecycle != nil {
		st.EnteredAt = data.Lifecycle.EnteredAt
	}
	st.Approved, st.Stale = docket.CountApprovals(doc.Reviewers, doc.OwnerID, st.Rules)
	standIns := make([]string, max(1, st.Rules.MinApprovals))
	for i := range standIns {
		standIns[i] = "reviewer " + strconv.Itoa(i)
	}
	data.Amend = docket.CheckTransition(st, docket.Transition{To: docket.StatusReview, Amend: true, Due: now.Add(24 * time.Hour), Reviewers: standIns}) == nil
	targets := []docket.Status{
		docket.StatusReview, docket.StatusLastCall, docket.StatusAccepted, docket.StatusDeclined,
		docket.StatusPostponed, docket.StatusDraft, docket.StatusWithdrawn, docket.StatusSuperseded,
	}
	for _, to := range targets {
		if to == from {
			continue
		}
		t := docket.Transition{To: to}
		switch to {
		case docket.StatusReview:
			t.Due, t.Reviewers = now.Add(24*time.Hour), standIns
		case docket.StatusLastCall:
			t.Due = now.Add(max(24*time.Hour, st.Rules.MinLastCall()))
		case docket.StatusAccepted, docket.StatusDeclined, docket.StatusPostponed:
			t.Summary = "why"
		case docket.StatusSuperseded:
			t.SupersededBy = "another"
		}
		err := docket.CheckTransition(st, t)
		switch {
		case err == nil && to.Outcome() && to != docket.StatusWithdrawn && to != docket.StatusSuperseded:
			data.Decide = append(data.Decide, to)
		case err == nil:
			data.Moves = append(data.Moves, to)
		case docket.ErrorCode(err) == docket.ECONFLICT && (to == docket.StatusLastCall || to == docket.StatusAccepted) &&
			(from == docket.StatusReview || from == docket.StatusLastCall):
			data.Blocked = append(data.Blocked, statusLabel(to)+": "+docket.ErrorMessage(err))
		}
	}
}

// rules are the decision rules of the document's space; none when the
// space is not known.
func (d *docPage) rules() docket.DecisionRules {
	if d.Space == nil || d.Space.Rules == nil {
		return docket.DecisionRules{}
	}
	return *d.Space.Rules
}

// OwnerMayReview reports whether the space lets the owner be a reviewer.
func (d *docPage) OwnerMayReview() bool { return d.rules().OwnerMayApprove }

// MinLastCall is the shortest last call of the space in words, "" if
// there is no minimum.
func (d *docPage) MinLastCall() string {
	if min := d.rules().MinLastCall(); min > 0 {
		return docket.FormatDuration(min)
	}
	return ""
}

// eveningAfter is 17:00 in loc on the day of t, or on the next day if t
// is later than that.
func eveningAfter(t time.Time, loc *time.Location) time.Time {
	t = t.In(loc)
	evening := time.Date(t.Year(), t.Month(), t.Day(), 17, 0, 0, 0, loc)
	if evening.Before(t) {
		evening = evening.AddDate(0, 0, 1)
	}
	return evening
}

// docFormError renders the document page again with a failed form, or
// returns err when it is not about the form (the document is gone, or
// the server failed).
func (s *Server) docFormError(c echo.Context, formID string, err error) error {
	if docket.ErrorCode(err) == docket.ENOTFOUND && formID != "owner" {
		return err
	}
	form, status, err := failedForm(c, formID, err)
	if err != nil {
		return err
	}
	return s.renderDoc(c, status, form)
}

// docURL is the path of a document page, with an optional fragment.
func docURL(id, fragment string) string {
	if fragment == "" {
		return "/d/" + id
	}
	return "/d/" + id + "#" + fragment
}

// warnedDocURL is the page of a thread after a comment was posted to it,
// naming the mentioned people who cannot read the space (?unreached=).
func warnedDocURL(docID, threadID string, warnings []docket.Warning) string {
	var names []string
	for _, w := range warnings {
		if w.Code == docket.WarnMentionNotMember {
			names = append(names, w.User)
		}
	}
	if len(names) == 0 {
		return docURL(docID, "t-"+threadID)
	}
	return "/d/" + docID + "?unreached=" + url.QueryEscape(strings.Join(names, ",")) + "#t-" + threadID
}

// maxUnreached is the most names ?unreached= shows.
const maxUnreached = 10

// unreachedNames reads ?unreached=: names as mentions write them (the
// characters of an email address), at most maxUnreached; anything else
// is dropped, so the URL cannot put arbitrary text on the page.
func unreachedNames(v string) []string {
	var out []string
	for name := range strings.SplitSeq(v, ",") {
		if name == "" || len(name) > 128 || len(out) == maxUnreached || strings.IndexFunc(name, func(r rune) bool {
			return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || strings.ContainsRune("._+-@", r))
		}) >= 0 {
			continue
		}
		out = append(out, name)
	}
	return out
}

// handleDocEditPost serves POST /d/:id/edit {version, body}: the whole
// text, written at version, goes through the same path as the edits API
// (diffed against that version and merged with what others wrote since).
func (s *Server) handleDocEditPost(c echo.Context) error {
	id, err := pageDocID(c)
	if err != nil {
		return err
	}
	version, perr := strconv.ParseInt(c.FormValue("version"), 10, 64)
	if perr != nil || version < 0 {
		return s.docFormError(c, "edit", docket.Errorf(docket.EINVALID, "The form lost the version it was written at; copy your text, reload the page and try again."))
	}
	body := formText(c, "body")
	if _, err := s.editDocument(c.Request().Context(), id, version, nil, &body); err != nil {
		return s.docFormError(c, "edit", err)
	}
	return seeOther(c, "/d/"+id+"?done=saved")
}

// handleDocMetaPost serves POST /d/:id/meta {title, kind, tags}.
func (s *Server) handleDocMetaPost(c echo.Context) error {
	id, err := pageDocID(c)
	if err != nil {
		return err
	}
	title := c.FormValue("title")
	kind := docket.Kind(c.FormValue("kind"))
	tags := splitTags(c.FormValue("tags"))
	if _, err := s.svc.Documents.UpdateDocument(c.Request().Context(), id, docket.DocumentUpdate{Title: &title, Kind: &kind, Tags: &tags}); err != nil {
		return s.docFormError(c, "meta", err)
	}
	return seeOther(c, "/d/"+id+"?done=saved")
}

// handleThreadPost serves POST /d/:id/threads {body}: a thread on the
// whole document (the page script starts anchored ones).
func (s *Server) handleThreadPost(c echo.Context) error {
	id, err := pageDocID(c)
	if err != nil {
		return err
	}
	th, err := s.svc.Threads.CreateThread(c.Request().Context(), docket.ThreadCreate{DocID: id, Body: formText(c, "body")})
	if err != nil {
		return s.docFormError(c, "thread", err)
	}
	return seeOther(c, warnedDocURL(id, th.ID, th.Warnings))
}

// pageThread returns the thread of the URL if it belongs to the URL's
// document.
func (s *Server) pageThread(c echo.Context) (string, *docket.Thread, error) {
	id, err := pageDocID(c)
	if err != nil {
		return "", nil, err
	}
	tid := c.Param("thread")
	if !docket.ValidID(tid) {
		return "", nil, docket.Errorf(docket.ENOTFOUND, "Thread not found.")
	}
	th, err := s.svc.Threads.FindThread(c.Request().Context(), tid)
	if err != nil {
		return "", nil, err
	}
	if th.DocID != id {
		return "", nil, docket.Errorf(docket.ENOTFOUND, "Thread not found.")
	}
	return id, th, nil
}

// handleReplyPost serves POST /d/:id/threads/:thread/comments {body}.
func (s *Server) handleReplyPost(c echo.Context) error {
	id, th, err := s.pageThread(c)
	if err != nil {
		return err
	}
	cm, err := s.svc.Threads.AddComment(c.Request().Context(), th.ID, formText(c, "body"))
	if err != nil {
		return s.docFormError(c, "reply-"+th.ID, err)
	}
	return seeOther(c, warnedDocURL(id, th.ID, cm.Warnings))
}

// handleResolvePost serves POST /d/:id/threads/:thread/resolve {note}.
func (s *Server) handleResolvePost(c echo.Context) error {
	id, th, err := s.pageThread(c)
	if err != nil {
		return err
	}
	if _, err := s.svc.Threads.ResolveThread(c.Request().Context(), th.ID, strings.TrimSpace(formText(c, "note"))); err != nil {
		return s.docFormError(c, "resolve-"+th.ID, err)
	}
	return seeOther(c, docURL(id, "t-"+th.ID))
}

// handleReopenPost serves POST /d/:id/threads/:thread/reopen.
func (s *Server) handleReopenPost(c echo.Context) error {
	id, th, err := s.pageThread(c)
	if err != nil {
		return err
	}
	if _, err := s.svc.Threads.ReopenThread(c.Request().Context(), th.ID); err != nil {
		return s.docFormError(c, "resolve-"+th.ID, err)
	}
	return seeOther(c, docURL(id, "t-"+th.ID))
}

// handleReviewPost serves POST /d/:id/reviews {verdict, body}.
func (s *Server) handleReviewPost(c echo.Context) error {
	id, err := pageDocID(c)
	if err != nil {
		return err
	}
	r, err := s.svc.Decisions.AddReview(c.Request().Context(), docket.ReviewCreate{
		DocID: id, Verdict: docket.Verdict(c.FormValue("verdict")), Body: formText(c, "body"),
	})
	if err != nil {
		return s.docFormError(c, "review", err)
	}
	if r.ThreadID != "" {
		return seeOther(c, docURL(id, "t-"+r.ThreadID))
	}
	return seeOther(c, docURL(id, "review"))
}

// handleTransitionPost serves POST /d/:id/transition {to, due,
// reviewers, summary, supersededBy}. A deadline is a date and time in
// the reader's time zone (a datetime-local field), a date (the end of
// that day) or an RFC 3339 time.
func (s *Server) handleTransitionPost(c echo.Context) error {
	id, err := pageDocID(c)
	if err != nil {
		return err
	}
	to := docket.Status(c.FormValue("to"))
	formID := "move-" + string(to)
	if to == docket.StatusAccepted || to == docket.StatusDeclined || to == docket.StatusPostponed {
		formID = "decide"
	}
	form, _ := c.FormParams()
	t := docket.Transition{
		To: to, Summary: formText(c, "summary"), SupersededBy: strings.TrimSpace(c.FormValue("supersededBy")),
		Amend: c.FormValue("amend") == "true",
	}
	if t.Amend {
		formID = "amend"
	}
	for _, r := range form["reviewers"] {
		t.Reviewers = append(t.Reviewers, strings.FieldsFunc(r, func(r rune) bool { return r == ',' || r == ';' || r == ' ' || r == '\n' || r == '\r' })...)
	}
	user := docket.UserFromContext(c.Request().Context())
	if t.Due, err = parseDue(c.FormValue("due"), userLocation(user)); err != nil {
		return s.docFormError(c, formID, err)
	}
	if _, err := s.svc.Decisions.Transition(c.Request().Context(), id, t); err != nil {
		return s.docFormError(c, formID, err)
	}
	return seeOther(c, docURL(id, "review"))
}

// handleOwnerPost serves POST /d/:id/owner {user}: hands the document over.
func (s *Server) handleOwnerPost(c echo.Context) error {
	id, err := pageDocID(c)
	if err != nil {
		return err
	}
	if _, err := s.svc.Decisions.SetOwner(c.Request().Context(), id, strings.TrimSpace(c.FormValue("user"))); err != nil {
		return s.docFormError(c, "owner", err)
	}
	return seeOther(c, docURL(id, "review"))
}

// zones caches loaded time zones by name: time.LoadLocation reads the
// zone database on every call.
var zones sync.Map // string -> *time.Location

// userLocation is a user's time zone, UTC if unset or unknown.
func userLocation(u *docket.User) *time.Location {
	if u == nil || u.TimeZone == "" || u.TimeZone == "UTC" {
		return time.UTC
	}
	if loc, ok := zones.Load(u.TimeZone); ok {
		return loc.(*time.Location)
	}
	loc, err := time.LoadLocation(u.TimeZone)
	if err != nil {
		return time.UTC
	}
	zones.Store(u.TimeZone, loc)
	return loc
}

// parseDue reads a deadline: an RFC 3339 time, a datetime-local value in
// loc, or a date in loc, meaning the end of that day. Empty is zero.
func parseDue(v string, loc *time.Location) (time.Time, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05", "2006-01-02 15:04"} {
		if t, err := time.ParseInLocation(layout, v, loc); err == nil {
			return t, nil
		}
	}
	if t, err := time.ParseInLocation(time.DateOnly, v, loc); err == nil {
		return t.Add(24*time.Hour - time.Minute), nil
	}
	return time.Time{}, docket.Errorf(docket.EINVALID, "The deadline must be a date and time, such as 2026-12-01 17:00.")
}
