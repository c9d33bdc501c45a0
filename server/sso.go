package server

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	docket "github.com/docket-dev/docket"
	"github.com/labstack/echo/v4"
)

// SSO is a single sign-on provider (oidc.Provider): it sends the browser
// to the provider and trades the code that comes back for a verified
// identity. The server keeps each sign-in's state, nonce and PKCE
// verifier, and decides who may sign in.
type SSO interface {
	// Name is the provider's name for people: "Sign in with <Name>".
	Name() string
	// AuthURL returns the provider's URL that starts a sign-in.
	AuthURL(ctx context.Context, state, nonce, verifier string) (string, error)
	// Exchange redeems a code with the PKCE verifier and returns the
	// identity of a verified ID token that carries nonce.
	Exchange(ctx context.Context, code, verifier, nonce string) (docket.Identity, error)
}

// ssoCookie binds a sign-in under way to the browser that started it: it
// holds the state, which the callback must bring back.
const ssoCookie = "docket_oidc"

// ssoStateTTL is how long a person has to sign in at the provider.
const ssoStateTTL = 10 * time.Minute

// maxSSOStates bounds the sign-ins under way, kept in memory.
const maxSSOStates = 10_000

// ssoState is what the server keeps of one sign-in under way.
type ssoState struct {
	nonce    string
	verifier string
	next     string
	expires  time.Time
}

// ssoStates are the sign-ins under way, by state; each is taken once.
type ssoStates struct {
	mu sync.Mutex
	m  map[string]ssoState
}

func (s *ssoStates) put(now time.Time, state string, st ssoState) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[string]ssoState{}
	}
	if len(s.m) >= maxSSOStates {
		for k, old := range s.m {
			if now.After(old.expires) {
				delete(s.m, k)
			}
		}
		if len(s.m) >= maxSSOStates {
			return docket.Errorf(docket.ERATELIMIT, "Too many sign-ins are under way; try again in a minute.")
		}
	}
	s.m[state] = st
	return nil
}

// take removes and returns the sign-in of state if it has not expired.
func (s *ssoStates) take(now time.Time, state string) (ssoState, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.m[state]
	delete(s.m, state)
	return st, ok && now.Before(st.expires)
}

// randomString returns 32 random bytes in URL-safe base64 (43 characters,
// a valid PKCE verifier).
func randomString() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// handleSSOLogin serves GET /auth/oidc/login: it starts a sign-in and
// sends the browser to the provider.
func (s *Server) handleSSOLogin(c echo.Context) error {
	if s.svc.SSO == nil {
		return docket.Errorf(docket.ENOTFOUND, "Single sign-on is not set up on this server.")
	}
	next := safeNext(c.QueryParam("next"))
	data := &authPage{Next: next}
	if err := s.limiter.allowIP(c.RealIP()); err != nil {
		c.Response().Header().Set("Retry-After", "60")
		return s.renderLogin(c, http.StatusTooManyRequests, data, docket.ErrorMessage(err))
	}
	state, st := randomString(), ssoState{nonce: randomString(), verifier: randomString(), next: next, expires: s.cfg.Now().Add(ssoStateTTL)}
	to, err := s.svc.SSO.AuthURL(c.Request().Context(), state, st.nonce, st.verifier)
	if err == nil {
		err = s.ssoStates.put(s.cfg.Now(), state, st)
	}
	if err != nil {
		return s.ssoFail(c, data, err)
	}
	c.SetCookie(&http.Cookie{
		Name: ssoCookie, Value: state, Path: "/auth/oidc/", MaxAge: int(ssoStateTTL.Seconds()),
		HttpOnly: true, Secure: s.isSecure(c.Request()), SameSite: http.SameSiteLaxMode,
	})
	return c.Redirect(http.StatusFound, to)
}

// handleSSOCallback serves GET /auth/oidc/callback: the provider sends the
// browser back with a code (or an error). The state must match the
// browser's cookie and a sign-in under way, which it ends; then the code
// is redeemed, and the identity signs in to its linked account, is linked
// to the account with its verified email, or makes a new account.
func (s *Server) handleSSOCallback(c echo.Context) error {
	if s.svc.SSO == nil {
		return docket.Errorf(docket.ENOTFOUND, "Single sign-on is not set up on this server.")
	}
	q := c.Request().URL.Query()
	state := q.Get("state")
	ck, _ := c.Cookie(ssoCookie)
	c.SetCookie(&http.Cookie{
		Name: ssoCookie, Value: "", Path: "/auth/oidc/", MaxAge: -1, Expires: time.Unix(0, 0),
		HttpOnly: true, Secure: s.isSecure(c.Request()), SameSite: http.SameSiteLaxMode,
	})
	name := s.svc.SSO.Name()
	if state == "" || ck == nil || subtle.ConstantTimeCompare([]byte(ck.Value), []byte(state)) != 1 {
		return s.renderLogin(c, http.StatusBadRequest, &authPage{Next: "/"},
			"This sign-in with "+name+" did not start in this browser, or it was already used. Start again.")
	}
	st, ok := s.ssoStates.take(s.cfg.Now(), state)
	if !ok {
		return s.renderLogin(c, http.StatusBadRequest, &authPage{Next: "/"},
			"This sign-in with "+name+" took too long or was already used. Start again.")
	}
	data := &authPage{Next: st.next}
	if e := q.Get("error"); e != "" {
		msg := "Sign-in with " + name + " was not completed"
		if e == "access_denied" {
			msg = "Sign-in with " + name + " was cancelled or refused"
		}
		if len(e) > 64 {
			e = e[:64]
		}
		return s.renderLogin(c, http.StatusForbidden, data, msg+" ("+e+").")
	}
	code := q.Get("code")
	if code == "" || len(code) > 2048 {
		return s.renderLogin(c, http.StatusBadRequest, data, name+" sent no sign-in code. Start again.")
	}
	ctx := c.Request().Context()
	id, err := s.svc.SSO.Exchange(ctx, code, st.verifier, st.nonce)
	if err != nil {
		return s.ssoFail(c, data, err)
	}
	listed := false
	if len(s.cfg.SSODomains) > 0 {
		_, domain, _ := strings.Cut(strings.ToLower(id.Email), "@")
		if listed = slices.Contains(s.cfg.SSODomains, domain); !listed {
			return s.renderLogin(c, http.StatusForbidden, data, "Sign-in with "+name+" is open to addresses at "+
				strings.Join(s.cfg.SSODomains, ", ")+" only; "+id.Email+" is not one of them.")
		}
	}
	user, err := s.svc.Identities.LoginIdentity(ctx, id, listed || s.cfg.Signup == SignupOpen)
	if err != nil {
		return s.ssoFail(c, data, err)
	}
	if err := s.setSession(c, user); err != nil {
		return err
	}
	return seeOther(c, st.next)
}

// ssoFail shows a failed single sign-on on the login page with the
// error's message; only an internal error is passed on.
func (s *Server) ssoFail(c echo.Context, data *authPage, err error) error {
	e, status := translate(err)
	if e.Code == docket.EINTERNAL {
		return err
	}
	if e.Code == docket.ERATELIMIT {
		c.Response().Header().Set("Retry-After", "60")
	}
	return s.renderLogin(c, status, data, e.Message)
}

// errPasswordOff answers password sign-in and sign-up when the server
// signs people in through its single sign-on only.
func (s *Server) errPasswordOff() error {
	name := "single sign-on"
	if s.svc.SSO != nil {
		name = s.svc.SSO.Name()
	}
	return docket.Errorf(docket.EFORBIDDEN, "Password sign-in is turned off on this server; sign in with %s. API tokens keep working.", name)
}
