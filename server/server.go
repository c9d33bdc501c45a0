// Package server is Docket's HTTP adapter: echo routes for the JSON API
// and the web pages, middleware for authentication, CSRF, limits,
// security headers, logging and metrics, and the one place where domain
// error codes become HTTP statuses. [New] takes the settings ([Config])
// and everything the server calls ([Services]: the domain services as
// interfaces, the live hub, the web bundle as an fs.FS), all of them
// required; it never imports a storage, search or rendering package, nor
// the frontend.
package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	docket "github.com/docket-dev/docket"
	"github.com/docket-dev/docket/collab"
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

// Services are what the server serves: the domain services it calls, the
// live co-editing hub, the storage's backup and event hooks, and the web
// bundle. Every field is required; New refuses a nil one.
type Services struct {
	// Users, Auth, Spaces and Documents serve accounts, sign-in and
	// tokens, spaces and members, and documents.
	Users     docket.UserService
	Auth      docket.AuthService
	Spaces    docket.SpaceService
	Documents docket.DocumentService
	// Renderer renders and validates document bodies.
	Renderer docket.Renderer
	// Hub runs live co-editing; REST edits and /api/live go through it.
	Hub *collab.Hub
	// Recordings lists the recordings of live sessions.
	Recordings docket.RecordingService
	// Search answers GET /api/search and the search page.
	Search docket.SearchService
	// Decisions runs the decision process: lifecycle, reviews, owners.
	Decisions docket.DecisionService
	// Actions lists the action items of documents.
	Actions docket.ActionService
	// Minutes compiles and lists the minutes of documents.
	Minutes docket.MinutesService
	// Threads serves threads and comments.
	Threads docket.ThreadService
	// Suggestions records suggested changes and their decisions; the
	// change itself goes through Hub.
	Suggestions docket.SuggestionService
	// Events serves the activity feed and the document event streams.
	Events docket.EventService
	// Inbox serves what waits on the caller (/api/inbox).
	Inbox docket.InboxService
	// Webhooks manages the webhooks of spaces.
	Webhooks docket.WebhookService
	// Mail lists the outbox for admins and serves unsubscribe links.
	Mail docket.MailService
	// Signups verifies the address of an open sign-up by mail when mail
	// is on (signup.go); with mail off sign-up is immediate.
	Signups docket.SignupService
	// Visits remembers the version each reader last viewed.
	Visits docket.VisitService
	// Templates keeps the document templates of spaces.
	Templates docket.TemplateService
	// Export reads the records of a space for its export.
	Export docket.Exporter
	// Backup streams a consistent copy of the data file for
	// GET /api/admin/backup.
	Backup func(ctx context.Context, w io.Writer) (int64, error)
	// OnEvent registers a function to be called after each event commits
	// (bolt.DB.OnEvent); it wakes the document event streams.
	OnEvent func(func(docket.Event))
	// Identities signs people in with single sign-on identities.
	Identities docket.IdentityService
	// SSO, the one optional service, is the single sign-on provider; nil
	// turns single sign-on off.
	SSO SSO
	// Assets is the built web bundle (frontend.FS): manifest.json, which
	// maps each entry's name (app.js, style.css) to its content-hashed
	// file name, and those files. They are served under /assets/.
	Assets fs.FS
}

// check returns an error naming the first nil field of svc but SSO. Every field
// is an interface, a pointer, a func or an fs.FS, so each can be nil.
func (svc Services) check() error {
	v := reflect.ValueOf(svc)
	for i := range v.NumField() {
		if v.Field(i).IsNil() && v.Type().Field(i).Name != "SSO" {
			return fmt.Errorf("server: Services.%s is nil", v.Type().Field(i).Name)
		}
	}
	return nil
}

// Config holds the server's settings.
type Config struct {
	// Bus, on a node of a cluster, carries revocations to the other
	// nodes: a sign-out, a deleted token or a removed member here makes
	// their live sockets and streams check again too. Nil on one node.
	Bus docket.Bus
	// Checks are what /healthz reports besides the server itself, by
	// name (in a cluster "store" and "bus"): each is called with a short
	// deadline, and any failure answers 503 naming it.
	Checks map[string]func(context.Context) error
	// BaseURL is the public URL of the server, such as https://docs.example.com.
	// It decides the origin that unsafe cookie requests must come from and
	// whether cookies are Secure.
	BaseURL string
	// Signup is SignupFirst or SignupOpen.
	Signup string
	// SSODomains, if set, are the email domains (lower case) that may sign
	// in through Services.SSO; a first sign-in from one of them creates
	// the account even when sign-up is closed.
	SSODomains []string
	// PasswordLoginOff refuses password sign-in and sign-up (403), so
	// people sign in through Services.SSO; API tokens keep working.
	PasswordLoginOff bool
	// TrustedProxies are the networks whose X-Forwarded-For is believed for
	// the client IP. Empty means the peer address is the client.
	TrustedProxies []*net.IPNet
	// Logger receives request logs and internal errors.
	Logger *slog.Logger
	// Registry receives the HTTP metrics and is served at /metrics, to
	// site admins and to requests carrying MetricsToken.
	Registry *prometheus.Registry
	// MetricsToken, if set, lets a scraper read /metrics with
	// "Authorization: Bearer <MetricsToken>" and nothing else.
	MetricsToken string
	// Now returns the current time; tests replace it.
	Now func() time.Time
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
	// MaxEventStreams is how many document event streams one user may
	// have open at once (8; more are 429).
	MaxEventStreams int
	// Version is the Docket version, written into exports.
	Version string
	// MaxRenders is how many markdown renders may run at once (the
	// number of CPUs); more wait their turn.
	MaxRenders int
	// RenderMemory bounds the memory the renders running at once may
	// hold, estimated from the size of their text (192 MiB): one render
	// of a document at the size limit at a time.
	RenderMemory int64
}

// DefaultLiveConnsPerUser is the default of Config.LiveConnsPerUser: far
// more tabs than a person opens, yet a bound on what one account can hold.
const DefaultLiveConnsPerUser = 256

// Server serves the HTTP API.
type Server struct {
	echo *echo.Echo
	cfg  Config
	svc  Services
	log  *slog.Logger

	baseOrigin string
	secure     bool
	limiter    *loginLimiter
	html       *htmlCache
	renders    *renderGate
	flightMu   sync.Mutex
	flights    map[flightKey]*renderFlight
	metrics    *httpMetrics
	assets     *assets
	liveSrv    *collab.Live
	liveConns  *userLimit
	streams    *streamHub
	ssoStates  ssoStates
	// accepting serialises accepting suggestions, so that one is never
	// applied twice by two requests at once.
	accepting sync.Mutex
	// authEpoch changes whenever access may have been revoked; open live
	// sockets recheck their permissions when it does.
	authEpoch atomic.Uint64
}

// New returns a server of svc with the settings of cfg. Call Handler to
// serve. It fails if a service is missing or the bundle has no manifest.
func New(cfg Config, svc Services) (*Server, error) {
	if err := svc.check(); err != nil {
		return nil, err
	}
	assets, err := loadAssets(svc.Assets)
	if err != nil {
		return nil, err
	}
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
	if cfg.MaxRenders <= 0 {
		cfg.MaxRenders = runtime.NumCPU()
	}
	if cfg.RenderMemory <= 0 {
		cfg.RenderMemory = defaultRenderMemory
	}
	if cfg.LiveConnsPerUser <= 0 {
		cfg.LiveConnsPerUser = DefaultLiveConnsPerUser
	}
	s := &Server{
		echo: echo.New(), cfg: cfg, svc: svc, log: cfg.Logger,
		assets:    assets,
		limiter:   newLoginLimiter(cfg.Now),
		html:      newHTMLCache(64 << 20),
		renders:   newRenderGate(cfg.MaxRenders, cfg.RenderMemory),
		flights:   map[flightKey]*renderFlight{},
		metrics:   newHTTPMetrics(cfg.Registry),
		liveConns: newUserLimit(cfg.LiveConnsPerUser),
		streams:   newStreamHub(cfg.MaxEventStreams),
	}
	svc.OnEvent(s.streams.notify)
	if cfg.Bus != nil {
		// A revocation from another node moves the epoch at once and
		// again once the store's caches here have surely expired (its
		// commit note may arrive after this message, and a recheck in
		// between could read a cached credential).
		if _, err := cfg.Bus.Subscribe(subjectRevoked, func([]byte) {
			s.authEpoch.Add(1)
			time.AfterFunc(remoteRevokeAgain, func() { s.authEpoch.Add(1) })
		}); err != nil {
			return nil, fmt.Errorf("cluster: %w", err)
		}
	}
	s.liveSrv = collab.NewLive(svc.Hub, svc.Documents, collab.LiveOptions{Logger: cfg.Logger, Epoch: s.authEpoch.Load, WritePace: cfg.LiveWritePace, ObserveAck: cfg.LiveObserveAck})
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
	e.GET("/metrics", s.handleMetrics(promhttp.HandlerFor(cfg.Registry, promhttp.HandlerOpts{})))
	e.GET("/api/live", s.handleLive)
	e.GET(assetPrefix+"*", echo.WrapHandler(assets))
	e.GET("/favicon.ico", s.handleFavicon)
	api := e.Group("/api")
	s.registerAPIRoutes(api)
	s.registerPageRoutes()
	api.Any("/*", func(c echo.Context) error {
		return docket.Errorf(docket.ENOTFOUND, "No such API endpoint: %s %s.", c.Request().Method, c.Request().URL.Path)
	})
	return s, nil
}

// RevokeAccess tells open live sockets and event streams to check their
// credentials and permissions again at once, after a change made outside
// of a request, such as a password reset or a disabled account from the
// admin socket.
func (s *Server) RevokeAccess() { s.revoke() }

// remoteRevokeAgain is when a revocation from another node moves the
// epoch a second time: after bolt's cache lifetime in a cluster (1 s).
const remoteRevokeAgain = 1200 * time.Millisecond

// subjectRevoked is the bus subject that moves every node's auth epoch.
const subjectRevoked = "auth.revoked"

// revoke moves the auth epoch here and, in a cluster, on every node.
func (s *Server) revoke() {
	s.authEpoch.Add(1)
	if s.cfg.Bus != nil {
		if err := s.cfg.Bus.Publish(subjectRevoked, nil); err != nil {
			s.log.Warn("cluster: revocation not published", "err", err)
		}
	}
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
	out := map[string]string{"status": "ok"}
	code := http.StatusOK
	for name, check := range s.cfg.Checks {
		ctx, cancel := context.WithTimeout(c.Request().Context(), healthTimeout)
		err := check(ctx)
		cancel()
		out[name] = "ok"
		if err != nil {
			out[name], out["status"], code = err.Error(), "unavailable", http.StatusServiceUnavailable
		}
	}
	return c.JSON(code, out)
}

// healthTimeout bounds each check of /healthz.
const healthTimeout = 2 * time.Second

// handleFavicon serves GET /favicon.ico, which browsers ask for where a
// response has no page linking the icon: a redirect to the bundle's.
func (s *Server) handleFavicon(c echo.Context) error {
	u := s.assets.path("favicon.svg")
	if u == "" {
		return docket.Errorf(docket.ENOTFOUND, "No favicon in the web bundle.")
	}
	return c.Redirect(http.StatusMovedPermanently, u)
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
