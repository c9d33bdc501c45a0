package server

import (
	"net/http"
	"strconv"

	docket "github.com/docket-dev/docket"
	"github.com/labstack/echo/v4"
)

// handleAdminMail serves GET /api/admin/mail?limit=: the newest outbox
// entries with their status, attempts and errors, and counts by status.
func (s *Server) handleAdminMail(c echo.Context) error {
	limit := 0
	if v := c.QueryParam("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return docket.Errorf(docket.EINVALID, "Limit must be a positive number.")
		}
		limit = n
	}
	r, err := s.svc.Mail.FindMails(c.Request().Context(), limit)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, r)
}

// notifyRow is one kind on the email settings form.
type notifyRow struct {
	Kind, Label string
	Choice      docket.NotifyChoice
}

// notifyRows lists the user's choice for every kind.
func notifyRows(u *docket.User) []notifyRow {
	rows := make([]notifyRow, len(docket.NotifyKinds))
	for i, k := range docket.NotifyKinds {
		rows[i] = notifyRow{Kind: string(k), Label: notifyLabel(k), Choice: u.Notify(k)}
	}
	return rows
}

// notifyLabel names a kind on the settings form and unsubscribe page.
func notifyLabel(k docket.InboxKind) string {
	if k == docket.MailDigest {
		return "the daily digest"
	}
	return label(string(k), string(k), map[string]string{
		string(docket.InboxMention):       "Mentions of you",
		string(docket.InboxReviewRequest): "Review requests",
		string(docket.InboxDecision):      "Decisions on documents you own or reviewed",
		string(docket.InboxDueSoon):       "Deadlines ending within a day",
		string(docket.InboxOverdue):       "Deadlines that passed",
		string(docket.InboxSuggestion):    "Changes suggested on your documents",
		string(docket.InboxReply):         "Replies in your threads",
		string(docket.InboxConcern):       "Concerns on your documents",
		string(docket.InboxHandoff):       "Documents handed over to you",
		string(docket.InboxAction):        "Action items",
	})
}

// handleEmailPost serves POST /settings/email {<kind>: now|digest|off}.
func (s *Server) handleEmailPost(c echo.Context) error {
	ctx := c.Request().Context()
	user := docket.UserFromContext(ctx)
	prefs := map[string]docket.NotifyChoice{}
	for _, k := range docket.NotifyKinds {
		if v := c.FormValue(string(k)); v != "" {
			prefs[string(k)] = docket.NotifyChoice(v)
		}
	}
	if _, err := s.svc.Users.UpdateUser(ctx, user.ID, docket.UserUpdate{Notifications: prefs}); err != nil {
		form, status, err := failedForm(c, "email", err)
		if err != nil {
			return err
		}
		return s.renderSettings(c, status, form, nil, "")
	}
	return seeOther(c, "/settings?done=email#email-h")
}

// unsubscribePage is the data of the unsubscribe page.
type unsubscribePage struct {
	Token string
	Name  string
	What  string // the kind, for people
	Done  bool
}

// handleUnsubscribePage serves GET /unsubscribe?t=: a page that asks to
// confirm with a button, without signing in. A bad token is a 400 page.
func (s *Server) handleUnsubscribePage(c echo.Context) error {
	token := c.QueryParam("t")
	u, kind, err := s.svc.Mail.CheckUnsubscribe(c.Request().Context(), token)
	if err != nil {
		return err
	}
	p := s.newPage(c, "Unsubscribe")
	p.Data = &unsubscribePage{Token: token, Name: u.Name, What: notifyLabel(kind)}
	return s.render(c, http.StatusOK, "unsubscribe", p)
}

// handleUnsubscribePost serves POST /unsubscribe?t= (RFC 8058 one-click,
// from a mail client) and POST /unsubscribe {t} (the page's button): it
// turns the token's kind off. The signed token is the authority, so it
// needs neither a session nor a CSRF token.
func (s *Server) handleUnsubscribePost(c echo.Context) error {
	token := c.QueryParam("t")
	if token == "" {
		token = c.FormValue("t")
	}
	u, kind, err := s.svc.Mail.Unsubscribe(c.Request().Context(), token)
	if err != nil {
		return err
	}
	p := s.newPage(c, "Unsubscribed")
	p.Data = &unsubscribePage{Name: u.Name, What: notifyLabel(kind), Done: true}
	return s.render(c, http.StatusOK, "unsubscribe", p)
}
