package server

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	docket "github.com/docket-dev/docket"
	"github.com/labstack/echo/v4"
)

// contentSecurityPolicy allows nothing inline and nothing from elsewhere.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' https: data:; " +
	"connect-src 'self'; font-src 'self'; object-src 'none'; frame-src 'none'; frame-ancestors 'none'; " +
	"base-uri 'none'; form-action 'self'"

// recoverPanics turns a panic in a handler into an internal error.
func (s *Server) recoverPanics(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) (err error) {
		defer func() {
			if r := recover(); r != nil {
				if r == http.ErrAbortHandler {
					panic(r)
				}
				err = fmt.Errorf("panic: %v", r)
			}
		}()
		return next(c)
	}
}

// logRequests logs each request with slog and records its metrics.
func (s *Server) logRequests(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		if err != nil {
			c.Error(err)
		}
		elapsed := time.Since(start)
		req, res := c.Request(), c.Response()
		route := c.Path()
		if route == "" {
			route = "unmatched"
		}
		s.metrics.observe(route, req.Method, res.Status, elapsed)
		level := slog.LevelInfo
		if res.Status >= 500 {
			level = slog.LevelError
		}
		if s.log.Enabled(req.Context(), level) {
			s.log.LogAttrs(req.Context(), level, "request",
				slog.String("method", req.Method),
				slog.String("path", req.URL.Path),
				slog.String("route", route),
				slog.Int("status", res.Status),
				slog.Int64("bytes", res.Size),
				slog.Duration("duration", elapsed),
				slog.String("ip", c.RealIP()),
				slog.String("user", docket.UserIDFromContext(req.Context())),
			)
		}
		return nil
	}
}

// cspNonceKey is the echo context key of the response's CSP nonce.
const cspNonceKey = "docket.cspNonce"

// newNonce returns a random CSP nonce.
func newNonce() string {
	b := make([]byte, 16)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// securityHeaders sets a strict Content-Security-Policy and the usual
// protective headers on every response.
func (s *Server) securityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		// A fresh nonce per response lets the page script's style sheets
		// (CodeMirror's <style> elements) in; nothing else inline is.
		nonce := newNonce()
		c.Set(cspNonceKey, nonce)
		h.Set("Content-Security-Policy", strings.Replace(contentSecurityPolicy, "style-src 'self'", "style-src 'self' 'nonce-"+nonce+"'", 1))
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Cross-Origin-Resource-Policy", "same-origin")
		h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
		if s.isSecure(c.Request()) {
			h.Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
		}
		if strings.HasPrefix(c.Request().URL.Path, "/api/") {
			h.Set("Cache-Control", "no-store")
		}
		return next(c)
	}
}

// limitBody caps every request body at MaxBodyBytes; reading past it fails
// with an error that becomes 413. A lying Content-Length is refused before
// anything is read.
func (s *Server) limitBody(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		if req.ContentLength > MaxBodyBytes {
			return docket.Errorf(docket.ETOOLARGE, "Request body is larger than %d bytes.", MaxBodyBytes)
		}
		req.Body = http.MaxBytesReader(c.Response(), req.Body, MaxBodyBytes)
		return next(c)
	}
}

// isSecure reports whether the client reached us over TLS: directly, by
// the configured https base URL, or as a trusted proxy says.
func (s *Server) isSecure(r *http.Request) bool {
	if r.TLS != nil || s.secure {
		return true
	}
	return r.Header.Get("X-Forwarded-Proto") == "https" && s.fromTrustedProxy(r)
}

// fromTrustedProxy reports whether the peer is one of the trusted proxies.
func (s *Server) fromTrustedProxy(r *http.Request) bool {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	for _, n := range s.cfg.TrustedProxies {
		if ip != nil && n.Contains(ip) {
			return true
		}
	}
	return false
}

// checkOrigin refuses unsafe requests authenticated by the session cookie
// that come from another origin (CSRF), or that do not say where they
// come from. Bearer-token requests carry no ambient credentials and are
// not affected.
func (s *Server) checkOrigin(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		switch req.Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
			return next(c)
		}
		switch authMethodFromContext(c) {
		case authBearer:
			return next(c)
		case authCookie:
			// A browser says where an unsafe request comes from; a
			// request with a cookie that says nothing is not from a page
			// of this site.
			if req.Header.Get("Origin") == "" && req.Header.Get("Sec-Fetch-Site") == "" && req.Header.Get("Referer") == "" {
				return docket.Errorf(docket.EFORBIDDEN, "A request signed in with a session cookie must come from a page of this site (no Origin, Referer or Sec-Fetch-Site header); scripts use an API token.")
			}
		}
		if !s.sameOrigin(req) {
			return docket.Errorf(docket.EFORBIDDEN, "Cross-origin request refused.")
		}
		return next(c)
	}
}

// sameOriginUser returns the signed-in caller of a request that a
// long-lived connection (what: "WebSocket", "event stream") is opened by,
// refusing one from a page of another origin whatever cookie it carries.
func (s *Server) sameOriginUser(req *http.Request, what string) (*docket.User, error) {
	user, err := requireUser(req.Context())
	if err != nil {
		return nil, err
	}
	if !s.sameOrigin(req) {
		return nil, docket.Errorf(docket.EFORBIDDEN, "Cross-origin %s refused.", what)
	}
	return user, nil
}

// sameOrigin reports whether a request comes from this server's own pages.
// It checks Origin, then Sec-Fetch-Site, then Referer; a request with none
// of them does not come from a browser page and is allowed.
func (s *Server) sameOrigin(req *http.Request) bool {
	origin := req.Header.Get("Origin")
	if origin == "" {
		switch req.Header.Get("Sec-Fetch-Site") {
		case "cross-site", "same-site":
			return false
		case "same-origin", "none":
			return true
		}
		if ref := req.Header.Get("Referer"); ref != "" {
			u, err := url.Parse(ref)
			if err != nil {
				return false
			}
			origin = u.Scheme + "://" + u.Host
		}
	}
	if origin == "" {
		return true
	}
	if origin == "null" {
		return false
	}
	if s.baseOrigin != "" && strings.EqualFold(origin, s.baseOrigin) {
		return true
	}
	scheme := "http"
	if req.TLS != nil {
		scheme = "https"
	}
	return strings.EqualFold(origin, scheme+"://"+req.Host)
}

// bumpAuthEpoch marks, after any successful change that may revoke access
// (member changes, deletions, sign-out, password and token changes), that
// open live sockets must recheck their permissions.
func (s *Server) bumpAuthEpoch(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		err := next(c)
		switch c.Request().Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
			return err
		}
		switch c.Path() {
		case "/api/spaces/:id/members", "/api/spaces/:id/members/:user", "/api/docs/:id",
			"/api/tokens/:id", "/api/auth/logout", "/api/me/password":
			s.revoke()
		}
		return err
	}
}
