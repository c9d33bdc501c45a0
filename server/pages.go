package server

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"path"
	"strings"
	"sync"
	"time"

	docket "github.com/docket-dev/docket"
	"github.com/labstack/echo/v4"
)

// The web app: pages rendered on the server with html/template, usable
// without JavaScript. The page script (frontend) enhances the elements that
// ask for it. Every page POST carries a CSRF token derived from the
// session (see csrfToken) besides passing the Origin check of every unsafe
// request, and answers a success with 303 See Other.

//go:embed templates/*.html
var templateFS embed.FS

// csrfField is the name of the hidden form field holding the CSRF token.
const csrfField = "csrf"

// anonCookie holds a random secret for signed-out visitors, from which the
// CSRF token of the sign-in and sign-up forms is derived.
const anonCookie = "docket_csrf"

var (
	pagesOnce sync.Once
	pages     map[string]*template.Template
	pagesErr  error
)

// pageFuncs are the template functions that need no request.
var pageFuncs = template.FuncMap{
	"statusLabel":  statusLabel,
	"kindLabel":    kindLabel,
	"verdictLabel": verdictLabel,
	"roleLabel":    roleLabel,
	"inboxLabel":   inboxLabel,
	"inboxSummary": inboxSummary,
	"add":          func(a, b int) int { return a + b },
	"add64":        func(a, b int64) int64 { return a + b },
	"join":         strings.Join,
	"localURL":     localURL,
	"dict":         dict,
	"rendered":     rendered,
}

// rendered marks HTML made by the markdown renderer (comments, reviews),
// which sanitised it when it was written, as safe to include.
func rendered(s string) template.HTML { return template.HTML(s) }

// dict builds a map from alternating keys and values, so a template can
// pass several values to another.
func dict(kv ...any) (map[string]any, error) {
	if len(kv)%2 != 0 {
		return nil, fmt.Errorf("dict: odd number of arguments")
	}
	m := make(map[string]any, len(kv)/2)
	for i := 0; i < len(kv); i += 2 {
		k, ok := kv[i].(string)
		if !ok {
			return nil, fmt.Errorf("dict: key %v is not a string", kv[i])
		}
		m[k] = kv[i+1]
	}
	return m, nil
}

// loadPages parses the templates once: the layout and partials (files
// starting with "_") with each page.
func loadPages() (map[string]*template.Template, error) {
	pagesOnce.Do(func() {
		names, err := fs.Glob(templateFS, "templates/*.html")
		if err != nil {
			pagesErr = err
			return
		}
		base := template.New("layout").Funcs(pageFuncs)
		var partials []string
		for _, n := range names {
			if b := path.Base(n); b == "layout.html" || strings.HasPrefix(b, "_") {
				partials = append(partials, n)
			}
		}
		if base, err = base.ParseFS(templateFS, partials...); err != nil {
			pagesErr = err
			return
		}
		out := map[string]*template.Template{}
		for _, n := range names {
			b := path.Base(n)
			if b == "layout.html" || strings.HasPrefix(b, "_") {
				continue
			}
			t, err := template.Must(base.Clone()).ParseFS(templateFS, n)
			if err != nil {
				pagesErr = fmt.Errorf("%s: %w", b, err)
				return
			}
			out[strings.TrimSuffix(b, ".html")] = t
		}
		pages = out
	})
	return pages, pagesErr
}

// page is what every template gets: the layout's fields and the page's
// own Data. Its methods format times in the reader's time zone and names
// of users.
type page struct {
	// Nonce is the response's CSP nonce, for the script's style sheets.
	Nonce  string
	Title  string
	User   *docket.User
	CSRF   string
	Spaces []*docket.Space // the spaces in the header
	Unread int             // unread inbox items
	Query  string          // the header's search field
	// MainID is the id of the <main> element; DocMain, when set, gives
	// the document page's data attributes.
	MainID    string
	MainClass string
	DocMain   *docMain
	// Notice is a success message, Error a message about what failed.
	Notice string
	Error  string
	Data   any

	loc   *time.Location
	now   time.Time
	ctx   context.Context
	s     *Server
	names map[string]string
	// visits are the reader's last visits of the listed documents.
	visits map[string]*docket.Visit
}

// docMain holds the data attributes of <main id="doc"> that the editor
// script reads.
type docMain struct {
	ID       string
	Version  int64
	Role     docket.SpaceRole
	UserID   string
	UserName string
	// EventSeq is the document's newest event when the page was made;
	// the page's event stream starts after it.
	EventSeq int64
}

// newPage starts a page for the request: the caller, the CSRF token, the
// header's spaces and unread count.
func (s *Server) newPage(c echo.Context, title string) *page {
	ctx := c.Request().Context()
	p := &page{Title: title, MainID: "main", loc: time.UTC, now: s.cfg.Now(), ctx: ctx, s: s, names: map[string]string{}}
	p.User = docket.UserFromContext(ctx)
	p.CSRF = s.csrfFor(c, true)
	p.Nonce, _ = c.Get(cspNonceKey).(string)
	if p.User != nil {
		p.names[p.User.ID] = p.User.Name
		p.loc = userLocation(p.User)
		if spaces, err := s.svc.Spaces.FindSpaces(ctx); err == nil {
			p.Spaces = spaces
		}
		if _, _, unread, err := s.svc.Inbox.FindInbox(ctx, docket.InboxFilter{Unread: true, Limit: 1}); err == nil {
			p.Unread = unread
		}
	}
	if msg, ok := notices[c.QueryParam("done")]; ok {
		p.Notice = msg
	}
	return p
}

// notices are the success messages shown after a redirect, by the
// redirect's ?done= value; nothing else from the URL is ever shown.
var notices = map[string]string{
	"account":       "Your account is saved.",
	"email":         "Your email settings are saved.",
	"password":      "Your password is changed.",
	"token-deleted": "The token is deleted; scripts using it are signed out.",
	"member":        "The member is saved.",
	"member-gone":   "The member is removed.",
	"rules":         "The decision rules are saved.",
	"hook-deleted":  "The webhook is deleted.",
	"read":          "Marked as read.",
	"inbox-done":    "Marked as done; see them under Done.",
	"saved":         "Saved.",
	"space":         "The space is created.",
	"template":      "The template is saved.",
	"template-gone": "The template is deleted; documents made from it stay.",
	"signed-out":    "You are signed out.",
}

// When formats t as a <time> element in the reader's time zone: the UTC
// instant in datetime, day and time as text.
func (p *page) When(t time.Time) template.HTML {
	return p.timeTag(t, "2 Jan 2006, 15:04", "")
}

// Date formats t as a <time> element with the day only.
func (p *page) Date(t time.Time) template.HTML {
	return p.timeTag(t, "2 Jan 2006", "")
}

// Day formats a date without a time of day (a due date of an action
// item, midnight UTC) as a <time> element, in UTC so the day stays the
// one written.
func (p *page) Day(t time.Time) template.HTML {
	if t.IsZero() {
		return ""
	}
	return template.HTML(fmt.Sprintf(`<time datetime="%s">%s</time>`, t.UTC().Format(time.DateOnly), t.UTC().Format("2 Jan 2006")))
}

// Deadline formats a deadline as a <time> element the page script counts
// down to.
func (p *page) Deadline(t time.Time) template.HTML {
	return p.timeTag(t, "2 Jan 2006, 15:04", " data-countdown")
}

func (p *page) timeTag(t time.Time, layout, attrs string) template.HTML {
	if t.IsZero() {
		return ""
	}
	return p.timeText(t, t.In(p.loc).Format(layout), attrs)
}

// timeText is a <time> element of t showing text, with the full day and
// time in the reader's zone as its title.
func (p *page) timeText(t time.Time, text, attrs string) template.HTML {
	return template.HTML(fmt.Sprintf(`<time datetime="%s" title="%s"%s>%s</time>`,
		t.UTC().Format(time.RFC3339), template.HTMLEscapeString(t.In(p.loc).Format("Monday 2 January 2006, 15:04 MST")),
		attrs, template.HTMLEscapeString(text)))
}

// Name returns the display name of a user id, "someone" if unknown.
func (p *page) Name(id string) string {
	if id == "" {
		return "someone"
	}
	if n, ok := p.names[id]; ok {
		return n
	}
	name := "someone"
	if u, err := p.s.svc.Users.FindUserByID(p.ctx, id); err == nil {
		name = u.Name
	}
	p.names[id] = name
	return name
}

// noteNames remembers the names of members, so Name needs no lookup.
func (p *page) noteNames(members []*docket.Member) {
	for _, m := range members {
		p.names[m.UserID] = m.Name
	}
}

// InputTime formats t for a datetime-local input in the reader's zone.
func (p *page) InputTime(t time.Time) string {
	return t.In(p.loc).Format("2006-01-02T15:04")
}

// noteVisits looks up the reader's last visits of documents listed on
// the page, so ChangedSinceVisit can mark those that changed since.
func (p *page) noteVisits(docs ...[]*docket.Document) {
	if p.User == nil {
		return
	}
	var ids []string
	for _, list := range docs {
		for _, d := range list {
			ids = append(ids, d.ID)
		}
	}
	if visits, err := p.s.svc.Visits.FindVisits(p.ctx, ids); err == nil {
		p.visits = visits
	}
}

// ChangedSinceVisit reports whether d has changed since the reader last
// viewed it; documents never viewed are not marked.
func (p *page) ChangedSinceVisit(d *docket.Document) bool {
	v := p.visits[d.ID]
	return v != nil && v.Version < d.Version
}

// NamesJSON is the names known to the page (user id -> name) as JSON,
// for the page script.
func (p *page) NamesJSON() string {
	b, _ := json.Marshal(p.names)
	return string(b)
}

// Asset is the URL of a web bundle entry by its name, such as "app.js",
// under its content-hashed file name.
func (p *page) Asset(name string) string { return p.s.assets.path(name) }

// Zone is the reader's time zone name.
func (p *page) Zone() string { return p.loc.String() }

// render writes a page with the given status.
func (s *Server) render(c echo.Context, status int, name string, p *page) error {
	return s.renderPart(c, status, name, "layout", p)
}

// renderPart renders one template of a page: "layout" for the whole
// page, another name for a fragment without the layout.
func (s *Server) renderPart(c echo.Context, status int, name, part string, p *page) error {
	ts, err := loadPages()
	if err != nil {
		return fmt.Errorf("templates: %w", err)
	}
	t := ts[name]
	if t == nil {
		return fmt.Errorf("no template %q", name)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, part, p); err != nil {
		return fmt.Errorf("render %s/%s: %w", name, part, err)
	}
	h := c.Response().Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Vary", "Cookie")
	return c.HTMLBlob(status, buf.Bytes())
}

// isPageRequest reports whether a request is for a page of the web app
// rather than the API, the assets or the operational endpoints.
func isPageRequest(r *http.Request) bool {
	p := r.URL.Path
	return !strings.HasPrefix(p, "/api/") && p != "/api" && !strings.HasPrefix(p, assetPrefix) &&
		p != "/healthz" && p != "/metrics" && p != "/favicon.ico"
}

// errorPage is the data of the error page.
type errorPage struct {
	Status  int
	Heading string
	Message string
}

// renderErrorPage answers a page request that failed with an HTML page.
// A signed-out reader of a page that needs sign-in is sent to /login.
func (s *Server) renderErrorPage(c echo.Context, e *docket.Error, status int) {
	req := c.Request()
	if status == http.StatusUnauthorized && docket.UserFromContext(req.Context()) == nil {
		c.Redirect(http.StatusSeeOther, loginURL(req))
		return
	}
	ep := errorPage{Status: status, Message: e.Message}
	switch status {
	case http.StatusNotFound:
		ep.Heading = "Not found"
		if e.Message == "" || strings.HasPrefix(e.Message, "Not Found") {
			ep.Message = "There is nothing here, or it is not yours to see."
		}
	case http.StatusForbidden:
		ep.Heading = "Not allowed"
	case http.StatusInternalServerError:
		ep.Heading = "Something went wrong"
		ep.Message = "The server could not answer. Try again in a moment."
	case http.StatusMethodNotAllowed:
		ep.Heading = "Not here"
		ep.Message = "This page does not take that kind of request."
	default:
		ep.Heading = http.StatusText(status)
	}
	p := s.newPage(c, ep.Heading)
	p.Data = ep
	if err := s.render(c, status, "error", p); err != nil {
		s.log.Error("render error page", slog.Any("err", err))
		c.String(status, ep.Heading+": "+ep.Message)
	}
}

// loginURL is the sign-in page that brings the reader back to the page
// they asked for.
func loginURL(r *http.Request) string {
	if r.Method != http.MethodGet || r.URL.Path == "/" {
		return "/login"
	}
	return "/login?next=" + url.QueryEscape(r.URL.RequestURI())
}

// safeNext returns next if it is a path of this site, "/" otherwise, so
// that a sign-in link cannot send anyone elsewhere.
func safeNext(next string) string {
	if next == "" || len(next) > 2048 || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") ||
		strings.ContainsAny(next, "\\\r\n\t") {
		return "/"
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || !strings.HasPrefix(u.Path, "/") {
		return "/"
	}
	return next
}

// localURL returns u if it is a path of this site (links from the inbox
// and search), "/" otherwise.
func localURL(u string) string { return safeNext(u) }

// pageSignedIn sends signed-out readers to the sign-in page.
func (s *Server) pageSignedIn(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if docket.UserFromContext(c.Request().Context()) == nil {
			return c.Redirect(http.StatusSeeOther, loginURL(c.Request()))
		}
		return next(c)
	}
}

// csrfToken derives the CSRF token of a session (or of a signed-out
// visitor's anonymous cookie) from its secret: an HMAC keyed with the
// secret, so it cannot be computed without the HttpOnly cookie and does
// not reveal it.
func csrfToken(secret string) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte("docket csrf v1"))
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// csrfFor returns the CSRF token of the request: derived from the session
// cookie when the caller is signed in with one, else from the anonymous
// cookie, which is set first if create is true and it is missing.
func (s *Server) csrfFor(c echo.Context, create bool) string {
	req := c.Request()
	if authMethodFromContext(c) == authCookie {
		if ck, err := req.Cookie(sessionCookie); err == nil && ck.Value != "" {
			return csrfToken(ck.Value)
		}
	}
	if ck, err := req.Cookie(anonCookie); err == nil && len(ck.Value) >= 32 && len(ck.Value) <= 64 {
		return csrfToken(ck.Value)
	}
	if !create {
		return ""
	}
	var b [32]byte
	rand.Read(b[:])
	secret := base64.RawURLEncoding.EncodeToString(b[:])
	c.SetCookie(&http.Cookie{
		Name: anonCookie, Value: secret, Path: "/", HttpOnly: true,
		Secure: s.isSecure(req), SameSite: http.SameSiteLaxMode,
	})
	// Later reads in this request see the new cookie.
	req.AddCookie(&http.Cookie{Name: anonCookie, Value: secret})
	return csrfToken(secret)
}

// checkCSRF refuses a page POST whose csrf field does not match the
// token of its session. Bearer-token requests carry no ambient authority
// and need none.
func (s *Server) checkCSRF(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if authMethodFromContext(c) == authBearer {
			return next(c)
		}
		want := s.csrfFor(c, false)
		got := c.FormValue(csrfField)
		if want == "" || !hmac.Equal([]byte(got), []byte(want)) {
			return docket.Errorf(docket.EFORBIDDEN, "This form has expired or did not come from this site. Go back, reload the page and try again.")
		}
		return next(c)
	}
}

// registerPageRoutes adds the web app's pages.
func (s *Server) registerPageRoutes() {
	e := s.echo
	in := []echo.MiddlewareFunc{s.pageSignedIn}
	post := []echo.MiddlewareFunc{s.pageSignedIn, s.checkCSRF}

	e.GET("/", s.handleHomePage)
	e.GET("/login", s.handleLoginPage)
	e.POST("/login", s.handleLoginPost, s.checkCSRF)
	e.GET("/signup", s.handleSignupPage)
	e.POST("/signup", s.handleSignupPost, s.checkCSRF)
	e.GET("/signup/confirm", s.handleSignupConfirmPage)
	e.POST("/signup/confirm", s.handleSignupConfirmPost, s.checkCSRF)
	e.POST("/logout", s.handleLogoutPost, s.checkCSRF)
	e.GET("/auth/oidc/login", s.handleSSOLogin)
	e.GET("/auth/oidc/callback", s.handleSSOCallback)

	e.GET("/inbox", s.handleInboxPage, in...)
	e.POST("/inbox/read", s.handleInboxReadPost, post...)
	e.POST("/inbox/done", s.handleInboxDonePost, post...)
	e.GET("/search", s.handleSearchPage, in...)
	e.GET("/settings", s.handleSettingsPage, in...)
	e.POST("/settings/account", s.handleAccountPost, post...)
	e.POST("/settings/password", s.handlePasswordPost, post...)
	e.POST("/settings/tokens", s.handleTokenCreatePost, post...)
	e.POST("/settings/tokens/:id/delete", s.handleTokenDeletePost, post...)
	e.POST("/settings/email", s.handleEmailPost, post...)
	e.GET("/unsubscribe", s.handleUnsubscribePage)
	e.POST("/unsubscribe", s.handleUnsubscribePost)

	e.GET("/spaces", s.handleSpacesPage, in...)
	e.POST("/spaces", s.handleSpaceCreatePost, post...)
	e.GET("/s/:slug", s.handleSpacePage, in...)
	e.GET("/s/:slug/new", s.handleNewDocPage, in...)
	e.POST("/s/:slug/new", s.handleNewDocPost, post...)
	e.GET("/s/:slug/settings", s.handleSpaceSettingsPage, in...)
	e.GET("/s/:slug/export.tar.gz", s.handleSpaceExport, in...)
	e.POST("/s/:slug/settings/members", s.handleMemberPost, post...)
	e.POST("/s/:slug/settings/rules", s.handleRulesPost, post...)
	e.POST("/s/:slug/settings/members/:user/remove", s.handleMemberRemovePost, post...)
	e.POST("/s/:slug/settings/webhooks", s.handleWebhookCreatePost, post...)
	e.POST("/s/:slug/settings/webhooks/:hook/delete", s.handleWebhookDeletePost, post...)
	e.GET("/s/:slug/templates", s.handleTemplatesPage, in...)
	e.POST("/s/:slug/templates", s.handleTemplateCreatePost, post...)
	e.GET("/s/:slug/templates/:tid", s.handleTemplatesPage, in...)
	e.POST("/s/:slug/templates/:tid", s.handleTemplateUpdatePost, post...)
	e.POST("/s/:slug/templates/:tid/delete", s.handleTemplateDeletePost, post...)

	e.GET("/d/:id", s.handleDocPage, in...)
	e.GET("/d/:id/panels", s.handleDocPanels, in...)
	e.POST("/d/:id/edit", s.handleDocEditPost, post...)
	e.POST("/d/:id/meta", s.handleDocMetaPost, post...)
	e.POST("/d/:id/threads", s.handleThreadPost, post...)
	e.POST("/d/:id/threads/:thread/comments", s.handleReplyPost, post...)
	e.POST("/d/:id/threads/:thread/resolve", s.handleResolvePost, post...)
	e.POST("/d/:id/threads/:thread/reopen", s.handleReopenPost, post...)
	e.POST("/d/:id/threads/:thread/accept", s.handleAcceptPost, post...)
	e.POST("/d/:id/threads/:thread/reject", s.handleRejectPost, post...)
	e.POST("/d/:id/reviews", s.handleReviewPost, post...)
	e.POST("/d/:id/transition", s.handleTransitionPost, post...)
	e.POST("/d/:id/owner", s.handleOwnerPost, post...)
	e.GET("/d/:id/history", s.handleHistoryPage, in...)
	e.GET("/d/:id/minutes", s.handleMinutesPage, in...)
}

// formState is a form that failed: which one, why, and what was typed,
// so the page can show it again with the message.
type formState struct {
	ID     string
	Err    string
	Values url.Values
}

// Is reports whether the failed form is id.
func (f *formState) Is(id string) bool { return f != nil && f.ID == id }

// Value returns what was typed into a field of the failed form id.
func (f *formState) Value(id, field string) string {
	if f == nil || f.ID != id {
		return ""
	}
	return f.Values.Get(field)
}

// Message returns the error of form id, if it is the one that failed.
func (f *formState) Message(id string) string {
	if f == nil || f.ID != id {
		return ""
	}
	return f.Err
}

// failedForm turns the error of a form post into the state to render it
// again with, and the status to answer with. Errors that are not about
// the input (internal ones) come back as err.
func failedForm(c echo.Context, id string, err error) (*formState, int, error) {
	e, status := translate(err)
	if status >= 500 {
		return nil, 0, err
	}
	vals, _ := c.FormParams()
	clean := url.Values{}
	for k, v := range vals {
		if k != csrfField && k != "password" && k != "current" && k != "new" {
			clean[k] = v
		}
	}
	return &formState{ID: id, Err: e.Message, Values: clean}, status, nil
}

// formText returns a form field with the browser's CRLF line ends made LF.
func formText(c echo.Context, name string) string {
	return strings.ReplaceAll(c.FormValue(name), "\r\n", "\n")
}

// seeOther redirects after a successful form post.
func seeOther(c echo.Context, to string) error {
	return c.Redirect(http.StatusSeeOther, to)
}

// Labels of statuses, kinds, verdicts, roles and inbox kinds.

func statusLabel(s docket.Status) string {
	return label(string(s), "Draft", map[string]string{string(docket.StatusLastCall): "Last call"})
}

func kindLabel(k docket.Kind) string {
	return label(string(k), "Page", map[string]string{string(docket.KindRFC): "RFC"})
}

// label is the name a person reads for a value: the one named, the empty
// one's, or the value capitalised with its underscores as spaces.
func label(v, empty string, named map[string]string) string {
	if l, ok := named[v]; ok {
		return l
	}
	if v == "" {
		return empty
	}
	return capitalize(strings.ReplaceAll(v, "_", " "))
}

func verdictLabel(v docket.Verdict) string {
	return label(string(v), "Waiting", map[string]string{
		string(docket.VerdictApprove): "Approved",
		string(docket.VerdictConcern): "Concern",
		string(docket.VerdictComment): "Commented",
	})
}

func roleLabel(r docket.SpaceRole) string { return capitalize(string(r)) }

func inboxLabel(k docket.InboxKind) string {
	return label(string(k), "", map[string]string{
		string(docket.InboxReviewRequest): "Review requested",
		string(docket.InboxConcern):       "Concern",
		string(docket.InboxMention):       "Mention",
		string(docket.InboxReply):         "Reply",
		string(docket.InboxDecision):      "Decision",
		string(docket.InboxAction):        "Action item",
		string(docket.InboxOverdue):       "Overdue",
		string(docket.InboxHandoff):       "Handed to you",
		string(docket.InboxSuggestion):    "Suggested change",
		string(docket.InboxDueSoon):       "Due soon",
	})
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
