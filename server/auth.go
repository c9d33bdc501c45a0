package server

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	docket "github.com/docket-dev/docket"
	"github.com/labstack/echo/v4"
)

// sessionCookie is the name of the browser session cookie.
const sessionCookie = "docket_session"

type authMethod int

const (
	authNone authMethod = iota
	authCookie
	authBearer
	authMetrics // the metrics token, good for GET /metrics only
)

const authMethodKey = "docket.auth"

func authMethodFromContext(c echo.Context) authMethod {
	m, _ := c.Get(authMethodKey).(authMethod)
	return m
}

// authenticate puts the caller in the request context: a bearer token if
// the Authorization header carries one (a bad token is 401), otherwise the
// session cookie (a dead session is anonymous).
func (s *Server) authenticate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		ctx := req.Context()
		if h := req.Header.Get("Authorization"); h != "" {
			scheme, secret, ok := strings.Cut(h, " ")
			if !ok || !strings.EqualFold(scheme, "Bearer") || secret == "" || len(secret) > 256 {
				return docket.Errorf(docket.EUNAUTHORIZED, "Authorization must be \"Bearer <token>\".")
			}
			if c.Path() == "/metrics" && s.isMetricsToken(strings.TrimSpace(secret)) {
				c.Set(authMethodKey, authMetrics)
				return next(c)
			}
			user, err := s.svc.Auth.FindUserByToken(ctx, strings.TrimSpace(secret))
			if err != nil {
				return err
			}
			c.Set(authMethodKey, authBearer)
			c.SetRequest(req.WithContext(docket.NewContextWithUser(ctx, user)))
			return next(c)
		}
		if ck, err := req.Cookie(sessionCookie); err == nil && ck.Value != "" && len(ck.Value) <= 256 {
			user, _, err := s.svc.Auth.FindSession(ctx, ck.Value)
			if err == nil {
				c.Set(authMethodKey, authCookie)
				c.SetRequest(req.WithContext(docket.NewContextWithUser(ctx, user)))
			} else if docket.ErrorCode(err) != docket.EUNAUTHORIZED {
				return err
			}
		}
		return next(c)
	}
}

// signedIn refuses requests without a signed-in caller with 401.
func signedIn(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if _, err := requireUser(c.Request().Context()); err != nil {
			return err
		}
		return next(c)
	}
}

// requireUser returns the caller or EUNAUTHORIZED.
func requireUser(ctx context.Context) (*docket.User, error) {
	if u := docket.UserFromContext(ctx); u != nil {
		return u, nil
	}
	return nil, docket.Errorf(docket.EUNAUTHORIZED, "Sign in first.")
}

// setSession starts a new session for user and sets its cookie, ending the
// session the request came with, so a session id is never carried across a
// login (fixation).
func (s *Server) setSession(c echo.Context, user *docket.User) error {
	ctx := c.Request().Context()
	if old, err := c.Cookie(sessionCookie); err == nil && old.Value != "" {
		if err := s.svc.Auth.DeleteSession(ctx, old.Value); err != nil {
			return err
		}
	}
	secret, sess, err := s.svc.Auth.CreateSession(ctx, user.ID)
	if err != nil {
		return err
	}
	c.SetCookie(&http.Cookie{
		Name: sessionCookie, Value: secret, Path: "/", Expires: sess.ExpiresAt,
		HttpOnly: true, Secure: s.isSecure(c.Request()), SameSite: http.SameSiteLaxMode,
	})
	return nil
}

type signupRequest struct {
	Name     string `json:"name"`
	Email    string `json:"email"`
	Password string `json:"password"`
	TimeZone string `json:"timeZone"`
	Invite   string `json:"invite"`
}

// handleSignup serves POST /api/auth/signup. The first account becomes a
// site admin; with the "first" policy later accounts need an invitation.
// An open sign-up with mail on answers 202 and mails a link (signup.go).
func (s *Server) handleSignup(c echo.Context) error {
	if s.cfg.PasswordLoginOff {
		return s.errPasswordOff()
	}
	var req signupRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	if err := s.limiter.allowIP(c.RealIP()); err != nil {
		return retryLater(c, err)
	}
	uc := docket.UserCreate{
		Name: req.Name, Email: req.Email, Password: req.Password, TimeZone: req.TimeZone,
		Invite: req.Invite, OnlyIfFirst: s.cfg.Signup != SignupOpen,
	}
	sent, err := s.signupByMail(c.Request().Context(), uc)
	if err != nil {
		return err
	}
	if sent != "" {
		return c.JSON(http.StatusAccepted, map[string]string{"status": "check_email", "message": sent})
	}
	user, err := s.svc.Users.CreateUser(c.Request().Context(), uc)
	if err != nil {
		return err
	}
	if err := s.setSession(c, user); err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, user)
}

type loginRequest struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

// handleLogin serves POST /api/auth/login. Attempts are limited per client
// IP and failures per account; both answer 429 with Retry-After.
func (s *Server) handleLogin(c echo.Context) error {
	if s.cfg.PasswordLoginOff {
		return s.errPasswordOff()
	}
	var req loginRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	account := strings.ToLower(strings.TrimSpace(req.Email))
	if err := s.limiter.allowIP(c.RealIP()); err != nil {
		return retryLater(c, err)
	}
	if err := s.limiter.allowAccount(account); err != nil {
		return retryLater(c, err)
	}
	user, err := s.svc.Auth.Authenticate(c.Request().Context(), req.Email, req.Password)
	if err != nil {
		if docket.ErrorCode(err) == docket.EUNAUTHORIZED {
			s.limiter.failAccount(account)
		}
		return err
	}
	if err := s.setSession(c, user); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, user)
}

func retryLater(c echo.Context, err error) error {
	c.Response().Header().Set("Retry-After", "60")
	return err
}

// handleLogout serves POST /api/auth/logout. The session is deleted on the
// server, so the cookie is dead even if a copy was kept.
func (s *Server) handleLogout(c echo.Context) error {
	if err := s.endSession(c); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// endSession deletes the caller's login session, if any, on the server
// and clears its cookie.
func (s *Server) endSession(c echo.Context) error {
	if ck, err := c.Cookie(sessionCookie); err == nil && ck.Value != "" {
		if err := s.svc.Auth.DeleteSession(c.Request().Context(), ck.Value); err != nil {
			return err
		}
	}
	c.SetCookie(&http.Cookie{
		Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, Expires: time.Unix(0, 0),
		HttpOnly: true, Secure: s.isSecure(c.Request()), SameSite: http.SameSiteLaxMode,
	})
	return nil
}

// handleMe serves GET /api/me.
func (s *Server) handleMe(c echo.Context) error {
	user, err := requireUser(c.Request().Context())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, meView(user))
}

// meView is the caller as GET and PATCH /api/me show them: with their
// email choice for every kind, defaults included.
func meView(u *docket.User) *docket.User {
	out := *u
	out.Notifications = u.NotifyPrefs()
	return &out
}

type meUpdateRequest struct {
	Name          *string                        `json:"name"`
	TimeZone      *string                        `json:"timeZone"`
	Notifications map[string]docket.NotifyChoice `json:"notifications"`
}

// handleMeUpdate serves PATCH /api/me.
func (s *Server) handleMeUpdate(c echo.Context) error {
	ctx := c.Request().Context()
	user, err := requireUser(ctx)
	if err != nil {
		return err
	}
	var req meUpdateRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	out, err := s.svc.Users.UpdateUser(ctx, user.ID, docket.UserUpdate{Name: req.Name, TimeZone: req.TimeZone, Notifications: req.Notifications})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, meView(out))
}

type passwordRequest struct {
	Current string `json:"current"`
	New     string `json:"new"`
}

// handlePasswordChange serves POST /api/me/password. It needs the current
// password, ends every session and signs this browser in again.
func (s *Server) handlePasswordChange(c echo.Context) error {
	ctx := c.Request().Context()
	user, err := requireUser(ctx)
	if err != nil {
		return err
	}
	var req passwordRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	if err := s.limiter.allowAccount(user.Email); err != nil {
		return retryLater(c, err)
	}
	if _, err := s.svc.Auth.Authenticate(ctx, user.Email, req.Current); err != nil {
		s.limiter.failAccount(user.Email)
		return docket.Errorf(docket.EFORBIDDEN, "The current password is wrong.")
	}
	if err := s.svc.Users.SetPassword(ctx, user.ID, req.New); err != nil {
		return err
	}
	if authMethodFromContext(c) == authCookie {
		if err := s.setSession(c, user); err != nil {
			return err
		}
	}
	return c.NoContent(http.StatusNoContent)
}

type tokenRequest struct {
	Name string `json:"name"`
}

type tokenResponse struct {
	*docket.Token
	Secret string `json:"token"`
}

// handleTokenCreate serves POST /api/tokens. The secret is in this
// response only.
func (s *Server) handleTokenCreate(c echo.Context) error {
	var req tokenRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	secret, tok, err := s.svc.Auth.CreateToken(c.Request().Context(), req.Name)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, tokenResponse{Token: tok, Secret: secret})
}

// handleTokenList serves GET /api/tokens.
func (s *Server) handleTokenList(c echo.Context) error {
	tokens, err := s.svc.Auth.FindTokens(c.Request().Context())
	return sendList(c, "tokens", tokens, err)
}

// handleTokenDelete serves DELETE /api/tokens/:id.
func (s *Server) handleTokenDelete(c echo.Context) error {
	if err := s.svc.Auth.DeleteToken(c.Request().Context(), c.Param("id")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

type inviteRequest struct {
	Email string           `json:"email"`
	Space string           `json:"space"`
	Role  docket.SpaceRole `json:"role"`
}

// handleInviteCreate serves POST /api/invites: a site admin invites anyone,
// a space admin invites into their space. The response carries the secret
// and a sign-up URL once.
func (s *Server) handleInviteCreate(c echo.Context) error {
	ctx := c.Request().Context()
	if _, err := requireUser(ctx); err != nil {
		return err
	}
	var req inviteRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	secret, inv, err := s.svc.Auth.CreateInvite(ctx, docket.Invite{Email: req.Email, SpaceID: req.Space, Role: req.Role})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, map[string]any{
		"invite": inv, "token": secret, "url": s.cfg.BaseURL + "/signup?invite=" + secret,
	})
}

// handleUserList serves GET /api/users for site admins.
func (s *Server) handleUserList(c echo.Context) error {
	ctx := c.Request().Context()
	user, err := requireUser(ctx)
	if err != nil {
		return err
	}
	if !user.IsAdmin() {
		return docket.Errorf(docket.EFORBIDDEN, "Only site admins may list users.")
	}
	limit, offset, err := paging(c, 100, 1000)
	if err != nil {
		return err
	}
	users, total, err := s.svc.Users.FindUsers(ctx, docket.UserFilter{Limit: limit, Offset: offset})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"users": users, "total": total, "limit": limit, "offset": offset})
}

// handleBackup serves GET /api/admin/backup: a consistent copy of the
// data file, taken while the server keeps serving; site admins only.
func (s *Server) handleBackup(c echo.Context) error {
	ctx := c.Request().Context()
	user, err := requireUser(ctx)
	if err != nil {
		return err
	}
	if !user.IsAdmin() {
		return docket.Errorf(docket.EFORBIDDEN, "Only site admins may download backups.")
	}
	if started, err := StreamBackup(ctx, c.Response(), s.svc.Backup); err != nil && !started {
		return err
	} else if err != nil {
		s.log.Error("backup failed after it started", slog.Any("err", err))
	}
	return nil
}

// StreamBackup answers an HTTP request with what backup writes, sending
// the status and headers with its first byte: a backup that fails before
// it starts (such as in cluster mode, where there is no data file) leaves
// the response to the caller, to answer with the error instead of an
// empty 200. started reports whether the response was begun.
func StreamBackup(ctx context.Context, w http.ResponseWriter, backup func(context.Context, io.Writer) (int64, error)) (started bool, err error) {
	bw := &backupWriter{w: w}
	_, err = backup(ctx, bw)
	return bw.started, err
}

// backupWriter begins the response of a backup at its first byte.
type backupWriter struct {
	w       http.ResponseWriter
	started bool
}

func (b *backupWriter) Write(p []byte) (int, error) {
	if !b.started {
		b.started = true
		h := b.w.Header()
		h.Set("Content-Type", "application/octet-stream")
		h.Set("Content-Disposition", `attachment; filename="docket-backup.db"`)
		b.w.WriteHeader(http.StatusOK)
	}
	return b.w.Write(p)
}
