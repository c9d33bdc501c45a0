// Package server is Docket's HTTP adapter: echo routes for the JSON API,
// middleware for authentication, CSRF, limits, security headers, logging
// and metrics, and the one place where domain error codes become HTTP
// statuses. It takes the domain services as interfaces and never imports
// a storage, search or rendering package.
package server

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	docket "github.com/docket-dev/docket"
	"github.com/docket-dev/docket/collab"
	"github.com/docket-dev/docket/frontend"
	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Sign-up policies.
const (
	SignupFirst = "first" // only the first account signs up; others are invited
	SignupOpen  = "open"  // anyone may sign up
)

// MaxBodyBytes is the largest request body. A document of
// docket.MaxDocumentBytes fits with room for JSON escaping.
const MaxBodyBytes = 4 << 20

// Config holds the server's settings.
type Config struct {
	// BaseURL is the public URL of the server, such as https://docs.example.com.
	// It decides the origin that unsafe cookie requests must come from and
	// whether cookies are Secure.
	BaseURL string
	// Signup is SignupFirst or SignupOpen.
	Signup string
	// TrustedProxies are the networks whose X-Forwarded-For is believed for
	// the client IP. Empty means the peer address is the client.
	TrustedProxies []*net.IPNet
	// Logger receives request logs and internal errors.
	Logger *slog.Logger
	// Registry receives the HTTP metrics and is served at /metrics.
	Registry *prometheus.Registry
	// Backup, if set, streams a consistent copy of the data file for
	// GET /api/admin/backup.
	Backup func(ctx context.Context, w io.Writer) (int64, error)
	// Now returns the current time; tests replace it.
	Now func() time.Time
	// Hub runs live co-editing; REST edits and /api/live go through it.
	Hub *collab.Hub
	// Recordings lists the recordings of live sessions.
	Recordings docket.RecordingService
	// Search answers GET /api/search; nil turns search off.
	Search docket.SearchService
	// Decisions runs the decision process: lifecycle, reviews, owners.
	// Without it those routes answer 501.
	Decisions docket.DecisionService
	// Actions lists the action items of documents.
	Actions docket.ActionService
	// Minutes compiles and lists the minutes of documents.
	Minutes docket.MinutesService
	// Threads serves threads and comments; without it their routes answer
	// 501.
	Threads docket.ThreadService
	// Events serves the activity feed (GET /api/activity).
	Events docket.EventService
	// Inbox serves what waits on the caller (/api/inbox).
	Inbox docket.InboxService
	// Webhooks manages the webhooks of spaces.
	Webhooks docket.WebhookService
	// Visits remembers the version each reader last viewed; without it
	// the document page says nothing about changes since.
	Visits docket.VisitService
	// LiveConnsPerUser caps the live co-editing sockets one user holds
	// open at once (DefaultLiveConnsPerUser); one more is refused with 429.
	LiveConnsPerUser int
	// LiveWritePace is the shortest time between two writes to one live
	// socket (collab.LiveOptions.WritePace: 0 takes its default, negative
	// writes every frame at once). Longer pacing batches more frames per
	// write, saving CPU, at the cost of up to that much delay.
	LiveWritePace time.Duration
	// LiveObserveAck, if set, is called with the time from reading each
	// live op to writing its ack (collab.LiveOptions.ObserveAck).
	LiveObserveAck func(time.Duration)
	// OnEvent, if set, registers a function to be called after each event
	// commits (bolt.DB.OnEvent); it wakes the document event streams.
	// Without it the streams poll the event log every second.
	OnEvent func(func(docket.Event))
	// MaxEventStreams is how many document event streams one user may
	// have open at once (8; more are 429).
	MaxEventStreams int
}

// DefaultLiveConnsPerUser is the default of Config.LiveConnsPerUser: far
// more tabs than a person opens, yet a bound on what one account can hold.
const DefaultLiveConnsPerUser = 256

// Server serves the HTTP API.
type Server struct {
	echo *echo.Echo
	cfg  Config
	log  *slog.Logger

	Users     docket.UserService
	Auth      docket.AuthService
	Spaces    docket.SpaceService
	Documents docket.DocumentService
	Renderer  docket.Renderer
	Hub       *collab.Hub

	baseOrigin string
	secure     bool
	limiter    *loginLimiter
	html       *htmlCache
	metrics    *httpMetrics
	liveSrv    *collab.Live // nil without a hub
	liveConns  *userLimit
	streams    *streamHub
	// authEpoch changes whenever access may have been revoked; open live
	// sockets recheck their permissions when it does.
	authEpoch atomic.Uint64
}

// New returns a server with the given services. Call Handler to serve.
func New(cfg Config, users docket.UserService, auth docket.AuthService, spaces docket.SpaceService, docs docket.DocumentService, renderer docket.Renderer) *Server {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.Signup == "" {
		cfg.Signup = SignupFirst
	}
	if cfg.Registry == nil {
		cfg.Registry = prometheus.NewRegistry()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.LiveConnsPerUser <= 0 {
		cfg.LiveConnsPerUser = DefaultLiveConnsPerUser
	}
	s := &Server{
		echo: echo.New(), cfg: cfg, log: cfg.Logger,
		Users: users, Auth: auth, Spaces: spaces, Documents: docs, Renderer: renderer, Hub: cfg.Hub,
		limiter:   newLoginLimiter(cfg.Now),
		html:      newHTMLCache(64 << 20),
		metrics:   newHTTPMetrics(cfg.Registry),
		liveConns: newUserLimit(cfg.LiveConnsPerUser),
		streams:   newStreamHub(cfg.MaxEventStreams),
	}
	if cfg.OnEvent != nil {
		cfg.OnEvent(s.streams.notify)
	}
	if cfg.Hub != nil {
		s.liveSrv = collab.NewLive(cfg.Hub, docs, collab.LiveOptions{Logger: cfg.Logger, Epoch: s.authEpoch.Load, WritePace: cfg.LiveWritePace, ObserveAck: cfg.LiveObserveAck})
	}
	if u, err := url.Parse(cfg.BaseURL); err == nil && u.Scheme != "" && u.Host != "" {
		s.baseOrigin = u.Scheme + "://" + u.Host
		s.secure = u.Scheme == "https"
	}
	e := s.echo
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = s.handleError
	e.IPExtractor = ipExtractor(cfg.TrustedProxies)
	e.Use(s.logRequests, s.recoverPanics, s.securityHeaders, s.limitBody, s.authenticate, s.checkOrigin, s.bumpAuthEpoch)

	e.GET("/healthz", s.handleHealth)
	e.GET("/metrics", echo.WrapHandler(promhttp.HandlerFor(cfg.Registry, promhttp.HandlerOpts{})))
	e.GET("/api/live", s.handleLive)
	e.GET(frontend.Prefix+"*", echo.WrapHandler(frontend.Handler()))
	api := e.Group("/api")
	s.registerAuthRoutes(api)
	s.registerSpaceRoutes(api)
	s.registerDocRoutes(api)
	s.registerSearchRoutes(api)
	s.registerDecisionRoutes(api)
	s.registerActionRoutes(api)
	s.registerMinutesRoutes(api)
	s.registerThreadRoutes(api)
	s.registerActivityRoutes(api)
	s.registerWebhookRoutes(api)
	s.registerPageRoutes()
	api.Any("/*", func(c echo.Context) error {
		return docket.Errorf(docket.ENOTFOUND, "No such API endpoint: %s %s.", c.Request().Method, c.Request().URL.Path)
	})
	return s
}

// Handler returns the HTTP handler of the server.
func (s *Server) Handler() http.Handler { return s.echo }

// HTTPServer returns an http.Server for addr with production timeouts.
func (s *Server) HTTPServer(addr string) *http.Server {
	hs := &http.Server{
		Addr:              addr,
		Handler:           s.echo,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       2 * time.Minute,
		WriteTimeout:      2 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	// Event streams never go idle: end them when Shutdown starts, or it
	// would wait for its timeout.
	hs.RegisterOnShutdown(s.CloseStreams)
	return hs
}

// handleHealth serves GET /healthz.
func (s *Server) handleHealth(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

func ipExtractor(trusted []*net.IPNet) echo.IPExtractor {
	if len(trusted) == 0 {
		return echo.ExtractIPDirect()
	}
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, n := range trusted {
		opts = append(opts, echo.TrustIPRange(n))
	}
	return echo.ExtractIPFromXFFHeader(opts...)
}

// ParseTrustedProxies parses a comma-separated list of CIDRs or addresses.
func ParseTrustedProxies(s string) ([]*net.IPNet, error) {
	var out []*net.IPNet
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		if !strings.Contains(part, "/") {
			if ip := net.ParseIP(part); ip != nil && ip.To4() != nil {
				part += "/32"
			} else {
				part += "/128"
			}
		}
		_, n, err := net.ParseCIDR(part)
		if err != nil {
			return nil, errors.New("trusted proxy " + part + " is not an address or CIDR")
		}
		out = append(out, n)
	}
	return out, nil
}
