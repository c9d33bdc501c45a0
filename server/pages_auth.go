package server

import (
	"net/http"
	"strings"

	docket "github.com/docket-dev/docket"
	"github.com/labstack/echo/v4"
)

// authPage is the data of the sign-in and sign-up pages.
type authPage struct {
	Next   string
	Invite string
	Email  string
	Name   string
	Open   bool // anyone may sign up
	Form   *formState
	// SSO is the single sign-on provider's name, if there is one;
	// PasswordOff hides the password forms.
	SSO         string
	PasswordOff bool
	// Sent is the "check your email" message of a sign-up by mail.
	Sent string
}

// handleLoginPage serves GET /login.
func (s *Server) handleLoginPage(c echo.Context) error {
	next := safeNext(c.QueryParam("next"))
	if docket.UserFromContext(c.Request().Context()) != nil {
		return seeOther(c, next)
	}
	return s.renderLogin(c, http.StatusOK, &authPage{Next: next}, "")
}

func (s *Server) renderLogin(c echo.Context, status int, data *authPage, msg string) error {
	s.ssoPage(data)
	p := s.newPage(c, "Sign in")
	p.Error = msg
	p.Data = data
	return s.render(c, status, "login", p)
}

// handleLoginPost serves POST /login: the same checks and limits as the
// API's sign-in, then back to where the reader was going.
func (s *Server) handleLoginPost(c echo.Context) error {
	email := strings.TrimSpace(c.FormValue("email"))
	data := &authPage{Next: safeNext(c.FormValue("next")), Email: email}
	if s.cfg.PasswordLoginOff {
		return s.renderLogin(c, http.StatusForbidden, data, docket.ErrorMessage(s.errPasswordOff()))
	}
	account := strings.ToLower(email)
	if err := s.limiter.allowIP(c.RealIP()); err != nil {
		c.Response().Header().Set("Retry-After", "60")
		return s.renderLogin(c, http.StatusTooManyRequests, data, docket.ErrorMessage(err))
	}
	if err := s.limiter.allowAccount(account); err != nil {
		c.Response().Header().Set("Retry-After", "60")
		return s.renderLogin(c, http.StatusTooManyRequests, data, docket.ErrorMessage(err))
	}
	user, err := s.svc.Auth.Authenticate(c.Request().Context(), email, c.FormValue("password"))
	switch docket.ErrorCode(err) {
	case "":
	case docket.EUNAUTHORIZED:
		s.limiter.failAccount(account)
		return s.renderLogin(c, http.StatusUnauthorized, data, docket.ErrorMessage(err))
	case docket.EFORBIDDEN: // a deactivated account
		return s.renderLogin(c, http.StatusForbidden, data, docket.ErrorMessage(err))
	default:
		return err
	}
	if err := s.setSession(c, user); err != nil {
		return err
	}
	return seeOther(c, data.Next)
}

// ssoPage fills in the single sign-on parts of an auth page.
func (s *Server) ssoPage(data *authPage) {
	if s.svc.SSO != nil {
		data.SSO = s.svc.SSO.Name()
	}
	data.PasswordOff = s.cfg.PasswordLoginOff
}

// handleSignupPage serves GET /signup.
func (s *Server) handleSignupPage(c echo.Context) error {
	if docket.UserFromContext(c.Request().Context()) != nil {
		return seeOther(c, "/")
	}
	data := &authPage{Invite: c.QueryParam("invite"), Open: s.cfg.Signup == SignupOpen}
	if len(data.Invite) > 256 {
		data.Invite = ""
	}
	s.ssoPage(data)
	p := s.newPage(c, "Sign up")
	p.Data = data
	return s.render(c, http.StatusOK, "signup", p)
}

// handleSignupPost serves POST /signup: creates the account as the API
// does (the first account becomes the site admin; with the "first"
// policy later ones need an invitation) and signs it in.
func (s *Server) handleSignupPost(c echo.Context) error {
	data := &authPage{
		Invite: c.FormValue("invite"), Email: strings.TrimSpace(c.FormValue("email")),
		Name: strings.TrimSpace(c.FormValue("name")), Open: s.cfg.Signup == SignupOpen,
	}
	s.ssoPage(data)
	show := func(status int, msg string) error {
		p := s.newPage(c, "Sign up")
		p.Error = msg
		p.Data = data
		return s.render(c, status, "signup", p)
	}
	if s.cfg.PasswordLoginOff {
		return show(http.StatusForbidden, docket.ErrorMessage(s.errPasswordOff()))
	}
	if err := s.limiter.allowIP(c.RealIP()); err != nil {
		c.Response().Header().Set("Retry-After", "60")
		return show(http.StatusTooManyRequests, docket.ErrorMessage(err))
	}
	uc := docket.UserCreate{
		Name: data.Name, Email: data.Email, Password: c.FormValue("password"),
		TimeZone: c.FormValue("timeZone"), Invite: data.Invite, OnlyIfFirst: s.cfg.Signup != SignupOpen,
	}
	sent, err := s.signupByMail(c.Request().Context(), uc)
	if err == nil && sent != "" {
		data.Sent = sent
		return show(http.StatusOK, "")
	}
	var user *docket.User
	if err == nil {
		user, err = s.svc.Users.CreateUser(c.Request().Context(), uc)
	}
	if err != nil {
		e, status := translate(err)
		if status >= 500 {
			return err
		}
		msg := e.Message
		if e.Code == docket.EFORBIDDEN && data.Invite == "" {
			msg = "Sign-up on this server is by invitation. Ask an admin for an invitation link."
		}
		return show(status, msg)
	}
	if err := s.setSession(c, user); err != nil {
		return err
	}
	return seeOther(c, "/")
}

// handleLogoutPost serves POST /logout.
func (s *Server) handleLogoutPost(c echo.Context) error {
	if err := s.endSession(c); err != nil {
		return err
	}
	s.revoke()
	return seeOther(c, "/login?done=signed-out")
}
