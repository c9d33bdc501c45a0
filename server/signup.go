package server

import (
	"context"
	"errors"
	"net/http"
	"strings"

	docket "github.com/docket-dev/docket"
	"github.com/labstack/echo/v4"
)

// signupByMail handles an open sign-up without an invitation when the
// store verifies addresses by mail: it queues the mail (a link for a
// new address, a note for a taken one) and returns the message the
// caller sees, the same in both cases. It returns "" when the sign-up is
// to be made at once, as without mail: by invitation, the first account,
// closed sign-up, or mail off.
func (s *Server) signupByMail(ctx context.Context, uc docket.UserCreate) (string, error) {
	if s.svc.Signups == nil || s.cfg.Signup != SignupOpen || uc.Invite != "" {
		return "", nil
	}
	if on, err := s.svc.Signups.SignupByMail(ctx); err != nil || !on {
		return "", err
	}
	if err := s.svc.Signups.RequestSignup(ctx, uc); err != nil {
		return "", err
	}
	return "We sent a link to " + strings.TrimSpace(uc.Email) + ". Open it to finish signing up; if the address already has an account here, the mail says so instead. It may take a minute to arrive.", nil
}

var errNoSignupLinks = docket.Errorf(docket.ENOTFOUND, "This server does not confirm sign-ups by mail.")

// signupConfirmPage is the data of the page a sign-up link opens.
type signupConfirmPage struct {
	Token, Name, Email string
}

// handleSignupConfirmPage serves GET /signup/confirm?t=: a button that
// creates the account (a GET changes nothing, for link scanners).
func (s *Server) handleSignupConfirmPage(c echo.Context) error {
	if s.svc.Signups == nil {
		return errNoSignupLinks
	}
	token := c.QueryParam("t")
	ps, err := s.svc.Signups.CheckSignup(c.Request().Context(), token)
	if err != nil {
		return err
	}
	p := s.newPage(c, "Confirm sign-up")
	p.Data = &signupConfirmPage{Token: token, Name: ps.Name, Email: ps.Email}
	return s.render(c, http.StatusOK, "signupconfirm", p)
}

// handleSignupConfirmPost serves POST /signup/confirm {t}: creates the
// account of the link, signs it in and goes home. An address that got
// an account meanwhile is said so on the page.
func (s *Server) handleSignupConfirmPost(c echo.Context) error {
	if s.svc.Signups == nil {
		return errNoSignupLinks
	}
	user, err := s.svc.Signups.ConfirmSignup(c.Request().Context(), c.FormValue("t"))
	var e *docket.Error
	if errors.As(err, &e) && e.Code == docket.ECONFLICT {
		p := s.newPage(c, "Confirm sign-up")
		p.Error = e.Message
		p.Data = &signupConfirmPage{}
		return s.render(c, http.StatusConflict, "signupconfirm", p)
	}
	if err != nil {
		return err
	}
	if err := s.setSession(c, user); err != nil {
		return err
	}
	return seeOther(c, "/")
}
