package server

import (
	_ "embed"
	"net/http"
	"strings"
	"sync"

	docket "github.com/docket-dev/docket"
	"github.com/labstack/echo/v4"
)

// zoneList holds the IANA time zone names offered in the settings, one a
// line (the region zones of tzdata 2025b and their links, and UTC).
//
//go:embed zones.txt
var zoneList string

// zoneGroup is the zones of one region, for an <optgroup>.
type zoneGroup struct {
	Region string
	Zones  []string
}

var (
	zonesOnce   sync.Once
	zoneGroups  []zoneGroup
	zoneDefined map[string]bool
)

// timeZones returns the zones by region.
func timeZones() []zoneGroup {
	zonesOnce.Do(func() {
		zoneDefined = map[string]bool{}
		byRegion := map[string]int{}
		for _, z := range strings.Fields(zoneList) {
			zoneDefined[z] = true
			region, _, ok := strings.Cut(z, "/")
			if !ok {
				region = "Other"
			}
			i, ok := byRegion[region]
			if !ok {
				i = len(zoneGroups)
				byRegion[region] = i
				zoneGroups = append(zoneGroups, zoneGroup{Region: region})
			}
			zoneGroups[i].Zones = append(zoneGroups[i].Zones, z)
		}
	})
	return zoneGroups
}

// settingsPage is the data of the account settings.
type settingsPage struct {
	Zones    []zoneGroup
	Zone     string
	Listed   bool // Zone is one of Zones
	Tokens   []*docket.Token
	NewToken string        // a new token's secret, shown once
	Created  *docket.Token // the token it belongs to
	Form     *formState
	Email    []notifyRow
	Outbox   *outboxLine // for site admins
}

// outboxLine is the state of the mail outbox on the settings page.
type outboxLine struct {
	Enabled                        bool
	Pending, Sent, Failed, Skipped int
}

// handleSettingsPage serves GET /settings: name, time zone, password and
// API tokens.
func (s *Server) handleSettingsPage(c echo.Context) error {
	return s.renderSettings(c, http.StatusOK, nil, nil, "")
}

func (s *Server) renderSettings(c echo.Context, status int, form *formState, tok *docket.Token, secret string) error {
	p := s.newPage(c, "Settings")
	tokens, err := s.svc.Auth.FindTokens(c.Request().Context())
	if err != nil {
		return err
	}
	zone := p.User.TimeZone
	if zone == "" {
		zone = "UTC"
	}
	groups := timeZones()
	var outbox *outboxLine
	if p.User.IsAdmin() {
		r, err := s.svc.Mail.FindMails(c.Request().Context(), 1)
		if err != nil {
			return err
		}
		n := r.Counts
		outbox = &outboxLine{r.Enabled, n[docket.MailPending], n[docket.MailSent], n[docket.MailFailed], n[docket.MailSkipped]}
	}
	p.Data = &settingsPage{Outbox: outbox, Zones: groups, Zone: zone, Listed: zoneDefined[zone], Tokens: tokens, NewToken: secret, Created: tok, Form: form, Email: notifyRows(p.User)}
	return s.render(c, status, "settings", p)
}

// handleAccountPost serves POST /settings/account {name, timeZone}.
func (s *Server) handleAccountPost(c echo.Context) error {
	ctx := c.Request().Context()
	user := docket.UserFromContext(ctx)
	name, tz := c.FormValue("name"), c.FormValue("timeZone")
	if _, err := s.svc.Users.UpdateUser(ctx, user.ID, docket.UserUpdate{Name: &name, TimeZone: &tz}); err != nil {
		form, status, err := failedForm(c, "account", err)
		if err != nil {
			return err
		}
		return s.renderSettings(c, status, form, nil, "")
	}
	return seeOther(c, "/settings?done=account")
}

// handlePasswordPost serves POST /settings/password {current, new}: as
// the API, every other session ends and this browser stays signed in.
func (s *Server) handlePasswordPost(c echo.Context) error {
	ctx := c.Request().Context()
	user := docket.UserFromContext(ctx)
	fail := func(err error) error {
		form, status, err := failedForm(c, "password", err)
		if err != nil {
			return err
		}
		return s.renderSettings(c, status, form, nil, "")
	}
	if err := s.limiter.allowAccount(user.Email); err != nil {
		return fail(err)
	}
	if _, err := s.svc.Auth.Authenticate(ctx, user.Email, c.FormValue("current")); err != nil {
		s.limiter.failAccount(user.Email)
		return fail(docket.Errorf(docket.EFORBIDDEN, "The current password is wrong."))
	}
	if err := s.svc.Users.SetPassword(ctx, user.ID, c.FormValue("new")); err != nil {
		return fail(err)
	}
	s.revoke()
	if err := s.setSession(c, user); err != nil {
		return err
	}
	return seeOther(c, "/settings?done=password")
}

// handleTokenCreatePost serves POST /settings/tokens {name}: the page
// shows the new token's secret once; it is not kept anywhere.
func (s *Server) handleTokenCreatePost(c echo.Context) error {
	secret, tok, err := s.svc.Auth.CreateToken(c.Request().Context(), c.FormValue("name"))
	if err != nil {
		form, status, err := failedForm(c, "token", err)
		if err != nil {
			return err
		}
		return s.renderSettings(c, status, form, nil, "")
	}
	return s.renderSettings(c, http.StatusCreated, nil, tok, secret)
}

// handleTokenDeletePost serves POST /settings/tokens/:id/delete.
func (s *Server) handleTokenDeletePost(c echo.Context) error {
	if err := s.svc.Auth.DeleteToken(c.Request().Context(), c.Param("id")); err != nil {
		return err
	}
	s.revoke()
	return seeOther(c, "/settings?done=token-deleted")
}
