package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	_ "net/http/pprof" // served only on --pprof's address
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	docket "github.com/docket-dev/docket"
	"github.com/docket-dev/docket/bolt"
	"github.com/docket-dev/docket/collab"
	"github.com/docket-dev/docket/frontend"
	"github.com/docket-dev/docket/markdown"
	"github.com/docket-dev/docket/oidc"
	"github.com/docket-dev/docket/search"
	"github.com/docket-dev/docket/server"
	"github.com/docket-dev/docket/webhook"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// serveConfig is the configuration of docket serve.
type serveConfig struct {
	Addr           string
	Data           string
	BaseURL        string
	Signup         string
	LogFormat      string
	TrustedProxies string
	Pprof          string
	// MetricsAddr, if set, serves /metrics to anyone on an extra address;
	// MetricsToken lets a scraper read /metrics on the main address.
	MetricsAddr  string
	MetricsToken string
	// WebhookAllowPrivate lets webhooks reach loopback, private and
	// link-local addresses.
	WebhookAllowPrivate bool
	// MemoryLimit is a soft limit on the Go runtime's memory in bytes
	// (debug.SetMemoryLimit); 0 leaves the runtime's own setting.
	MemoryLimit int64
	// LiveConnsPerUser caps one user's open live co-editing sockets.
	LiveConnsPerUser int
	// LiveWritePace is the shortest time between two writes to one live
	// socket; 0 keeps the default.
	LiveWritePace time.Duration
	// Mail configures email (mail.go).
	Mail mailConfig
	// OIDC is single sign-on through an OpenID provider, off without an
	// issuer; PasswordLogin false turns password sign-in off.
	OIDC          oidcFlags
	PasswordLogin bool
	// Cluster, when set, makes this process a node of a cluster
	// (cluster.go).
	Cluster clusterFlags
}

// oidcFlags are the single sign-on flags of docket serve.
type oidcFlags struct {
	Issuer, ClientID, ClientSecret, Name string
	// AllowedDomains are lower-case email domains; empty allows all.
	AllowedDomains []string
}

func parseServeFlags(args []string, stderr io.Writer) (serveConfig, error) {
	var cfg serveConfig
	fs := newFlagSet("serve", stderr)
	fs.StringVar(&cfg.Addr, "addr", envDefault("DOCKET_ADDR", "127.0.0.1:8080"), "listen address (env DOCKET_ADDR)")
	fs.StringVar(&cfg.Data, "data", envDefault("DOCKET_DATA", "./docket-data"), "data directory (env DOCKET_DATA)")
	fs.StringVar(&cfg.BaseURL, "base-url", envDefault("DOCKET_BASE_URL", ""), "public URL, e.g. https://docs.example.com (env DOCKET_BASE_URL)")
	fs.StringVar(&cfg.Signup, "signup", envDefault("DOCKET_SIGNUP", server.SignupFirst), "who may sign up: first (the first account only; others by invitation or 'docket user add') or open (env DOCKET_SIGNUP)")
	fs.StringVar(&cfg.LogFormat, "log-format", envDefault("DOCKET_LOG_FORMAT", "text"), "log format: text or json (env DOCKET_LOG_FORMAT)")
	fs.StringVar(&cfg.TrustedProxies, "trusted-proxies", envDefault("DOCKET_TRUSTED_PROXIES", ""), "comma-separated proxy CIDRs whose X-Forwarded-For is trusted (env DOCKET_TRUSTED_PROXIES)")
	fs.StringVar(&cfg.Pprof, "pprof", envDefault("DOCKET_PPROF", ""), "serve Go profiles on this extra address, e.g. 127.0.0.1:6060 (env DOCKET_PPROF)")
	fs.StringVar(&cfg.Cluster.Store, "store", envDefault("DOCKET_STORE", ""), "cluster mode: keep the data in this PostgreSQL database, postgres://USER@HOST:5432/DB, shared by every node; needs --bus (env DOCKET_STORE)")
	fs.StringVar(&cfg.Cluster.Bus, "bus", envDefault("DOCKET_BUS", ""), "cluster mode: hear the other nodes over this NATS server, nats://HOST:4222; needs --store (env DOCKET_BUS)")
	fs.StringVar(&cfg.Cluster.BusPrefix, "bus-prefix", envDefault("DOCKET_BUS_PREFIX", ""), "cluster mode: a name that keeps this cluster's NATS subjects apart from another cluster's on the same NATS server (letters, digits, '-' and '_', tokens separated by dots); the nodes of one cluster must agree (env DOCKET_BUS_PREFIX)")
	fs.StringVar(&cfg.MetricsAddr, "metrics-addr", envDefault("DOCKET_METRICS_ADDR", ""), "serve /metrics without sign-in on this extra address, e.g. 127.0.0.1:9100 (env DOCKET_METRICS_ADDR)")
	fs.StringVar(&cfg.MetricsToken, "metrics-token", envDefault("DOCKET_METRICS_TOKEN", ""), "a secret that lets a scraper read /metrics on the main address as \"Authorization: Bearer <token>\" (env DOCKET_METRICS_TOKEN); site admins may read it too")
	allowPrivate, err := strconv.ParseBool(envDefault("DOCKET_WEBHOOK_ALLOW_PRIVATE", "false"))
	if err != nil {
		return cfg, fmt.Errorf("DOCKET_WEBHOOK_ALLOW_PRIVATE must be true or false")
	}
	fs.BoolVar(&cfg.WebhookAllowPrivate, "webhook-allow-private", allowPrivate, "let webhooks post to loopback, private and link-local addresses; off by default so that webhooks cannot reach internal services (env DOCKET_WEBHOOK_ALLOW_PRIVATE)")
	memLimit := fs.String("memory-limit", envDefault("DOCKET_MEMORY_LIMIT", ""), "soft memory limit of the Go runtime, e.g. 350MiB or 1GiB: the garbage collector works harder near it instead of letting the heap grow; off by default (env DOCKET_MEMORY_LIMIT)")
	perUser, err := strconv.Atoi(envDefault("DOCKET_LIVE_CONNS_PER_USER", strconv.Itoa(server.DefaultLiveConnsPerUser)))
	if err != nil || perUser < 1 {
		return cfg, fmt.Errorf("DOCKET_LIVE_CONNS_PER_USER must be a positive number")
	}
	fs.IntVar(&cfg.LiveConnsPerUser, "live-conns-per-user", perUser, "most live co-editing connections one account may hold open at once (env DOCKET_LIVE_CONNS_PER_USER)")
	pace, err := time.ParseDuration(envDefault("DOCKET_LIVE_WRITE_PACE", "5ms"))
	if err != nil || pace < 0 || pace > time.Second {
		return cfg, fmt.Errorf("DOCKET_LIVE_WRITE_PACE must be a duration from 0 to 1s, e.g. 5ms")
	}
	fs.DurationVar(&cfg.LiveWritePace, "live-write-pace", pace, "shortest time between two writes to one live co-editing socket: frames that arrive meanwhile go out in one write; longer saves CPU under heavy co-editing and delays frames up to this much, 0 writes at once (env DOCKET_LIVE_WRITE_PACE)")
	fs.StringVar(&cfg.OIDC.Issuer, "oidc-issuer", envDefault("DOCKET_OIDC_ISSUER", ""), "single sign-on: the OpenID Connect issuer URL, e.g. https://accounts.google.com; off when empty (env DOCKET_OIDC_ISSUER)")
	fs.StringVar(&cfg.OIDC.ClientID, "oidc-client-id", envDefault("DOCKET_OIDC_CLIENT_ID", ""), "single sign-on: Docket's client id at the provider (env DOCKET_OIDC_CLIENT_ID)")
	fs.StringVar(&cfg.OIDC.ClientSecret, "oidc-client-secret", envDefault("DOCKET_OIDC_CLIENT_SECRET", ""), "single sign-on: Docket's client secret; prefer the env variable, which ps does not show (env DOCKET_OIDC_CLIENT_SECRET)")
	fs.StringVar(&cfg.OIDC.Name, "oidc-name", envDefault("DOCKET_OIDC_NAME", ""), "single sign-on: the provider's name on the sign-in button; the issuer's host by default (env DOCKET_OIDC_NAME)")
	domains := fs.String("oidc-allowed-domains", envDefault("DOCKET_OIDC_ALLOWED_DOMAINS", ""), "single sign-on: comma-separated email domains that may sign in with it; a first sign-in from one of them creates the account even with --signup first (env DOCKET_OIDC_ALLOWED_DOMAINS)")
	passwordLogin, err := strconv.ParseBool(envDefault("DOCKET_PASSWORD_LOGIN", "true"))
	if err != nil {
		return cfg, fmt.Errorf("DOCKET_PASSWORD_LOGIN must be true or false")
	}
	fs.BoolVar(&cfg.PasswordLogin, "password-login", passwordLogin, "allow sign-in and sign-up with a password; --password-login=false leaves single sign-on (API tokens keep working) (env DOCKET_PASSWORD_LOGIN)")
	fs.StringVar(&cfg.Mail.SMTPURL, "smtp-url", envDefault("DOCKET_SMTP_URL", ""), "send email through this SMTP server: smtp://user:pass@host:587 (STARTTLS), smtps://user:pass@host:465 (TLS) or smtp://host:25 (a relay without password); email is off when unset (env DOCKET_SMTP_URL)")
	fs.StringVar(&cfg.Mail.MailFrom, "mail-from", envDefault("DOCKET_MAIL_FROM", ""), "the sender of mails, e.g. \"Docket <docket@example.com>\" (env DOCKET_MAIL_FROM)")
	fs.StringVar(&cfg.Mail.SMTPCAFile, "smtp-ca-file", envDefault("DOCKET_SMTP_CA_FILE", ""), "a PEM file of CA certificates to trust for the SMTP server, besides the system's (env DOCKET_SMTP_CA_FILE)")
	smtpInsecure, err := strconv.ParseBool(envDefault("DOCKET_SMTP_INSECURE_SKIP_VERIFY", "false"))
	if err != nil {
		return cfg, fmt.Errorf("DOCKET_SMTP_INSECURE_SKIP_VERIFY must be true or false")
	}
	fs.BoolVar(&cfg.Mail.SMTPInsecure, "smtp-insecure-skip-verify", smtpInsecure, "accept any certificate of the SMTP server; for tests only (env DOCKET_SMTP_INSECURE_SKIP_VERIFY)")
	if _, err := parseArgs(fs, args); err != nil {
		return cfg, err
	}
	for d := range strings.SplitSeq(*domains, ",") {
		if d = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(d), "@"))); d != "" {
			cfg.OIDC.AllowedDomains = append(cfg.OIDC.AllowedDomains, d)
		}
	}
	if cfg.OIDC.Issuer == "" && (cfg.OIDC.ClientID != "" || len(cfg.OIDC.AllowedDomains) > 0) {
		return cfg, fmt.Errorf("--oidc-client-id and --oidc-allowed-domains need --oidc-issuer")
	}
	if cfg.OIDC.Issuer != "" && cfg.OIDC.ClientID == "" {
		return cfg, fmt.Errorf("--oidc-issuer needs --oidc-client-id")
	}
	if !cfg.PasswordLogin && cfg.OIDC.Issuer == "" {
		return cfg, fmt.Errorf("--password-login=false needs --oidc-issuer, or nobody could sign in")
	}
	if cfg.Mail.SMTPURL != "" && cfg.Mail.MailFrom == "" {
		return cfg, fmt.Errorf("--smtp-url needs --mail-from, the sender of mails")
	}
	if cfg.LiveWritePace < 0 || cfg.LiveWritePace > time.Second {
		return cfg, fmt.Errorf("--live-write-pace must be from 0 to 1s")
	}
	if cfg.LiveConnsPerUser < 1 {
		return cfg, fmt.Errorf("--live-conns-per-user must be at least 1")
	}
	if cfg.MemoryLimit, err = parseByteSize(*memLimit); err != nil {
		return cfg, fmt.Errorf("--memory-limit: %w", err)
	}
	if err := cfg.Cluster.check(); err != nil {
		return cfg, err
	}
	if cfg.Signup != server.SignupFirst && cfg.Signup != server.SignupOpen {
		return cfg, fmt.Errorf("--signup must be first or open, not %q", cfg.Signup)
	}
	if cfg.BaseURL == "" {
		cfg.BaseURL = "http://" + cfg.Addr
	}
	return cfg, nil
}

// parseByteSize parses a size in bytes with an optional unit, as
// GOMEMLIMIT spells it: B, KiB, MiB, GiB or TiB (powers of 1024). An empty
// string, "off" and 0 are 0.
func parseByteSize(s string) (int64, error) {
	orig := s
	s = strings.TrimSpace(s)
	if s == "" || s == "off" {
		return 0, nil
	}
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40}, {"B", 1}} {
		if n, ok := strings.CutSuffix(s, u.suffix); ok {
			s, mult = strings.TrimSpace(n), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 || n > (1<<62)/mult {
		return 0, fmt.Errorf("%q is not a size like 400MiB", orig)
	}
	return n * mult, nil
}

// runServe runs the server until ctx is cancelled (SIGINT or SIGTERM), then
// stops accepting, lets requests finish and closes the data file.
func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parseServeFlags(args, stderr)
	if err != nil {
		return err
	}
	log, err := newLogger(cfg.LogFormat, stderr)
	if err != nil {
		return err
	}
	ensureProcs(log)
	if cfg.MemoryLimit > 0 {
		debug.SetMemoryLimit(cfg.MemoryLimit)
		log.Info("memory limit set", slog.Int64("bytes", cfg.MemoryLimit))
	}
	proxies, err := server.ParseTrustedProxies(cfg.TrustedProxies)
	if err != nil {
		return err
	}
	db := bolt.NewDB(dbPath(cfg.Data))
	var cluster *node // nil on one node
	if cfg.Cluster.on() {
		if err := os.MkdirAll(cfg.Data, 0o700); err != nil {
			return err
		}
		if cluster, err = openNode(ctx, cfg.Cluster, db, log); err != nil {
			return err
		}
		defer cluster.close()
	} else if err := db.Open(); err != nil {
		return err
	}
	defer db.Close()

	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "docket_db_size_bytes", Help: "Size of the data file, or of the store's tables in cluster mode."},
			func() float64 { return float64(db.Size()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "docket_documents", Help: "Number of documents."},
			func() float64 { return float64(db.DocumentCount()) }),
	)
	users := bolt.NewUserService(db)
	recordings := bolt.NewRecordingService(db)
	live := newLiveMetrics(reg)
	hub := collab.New(bolt.NewLiveStore(db), collab.Options{Logger: log, Recordings: recordings, ObserveCommit: live.commit, Bus: cluster.docketBus()})
	cluster.registerMetrics(reg, hub)
	if cluster != nil {
		// A document deleted on another node lets its subscribers here go.
		db.OnChange(func(ch docket.Change) {
			if ch.Kind == docket.ChangeDeleted {
				go hub.Forget(ch.DocID)
			}
		})
	}
	spaces := bolt.NewSpaceService(db)
	renderer := markdown.New(markdown.Options{})

	// Search: the index is derived data. If it cannot be opened it is
	// moved aside and rebuilt in the background while the server runs.
	idx, err := search.Open(indexDir(cfg.Data), search.Options{Logger: log, Loader: bolt.NewScanner(db)})
	if err != nil {
		return fmt.Errorf("search index: %w", err)
	}
	defer idx.Close()
	indexer := newIndexer(db, idx, log)
	if cluster != nil {
		indexer.Poll = time.Second // finds what a lost bus message did not tell
	}
	db.OnChange(indexer.Notify)
	db.OnEvent(indexer.NotifyEvent)
	indexCtx, stopIndexer := context.WithCancel(context.WithoutCancel(ctx))
	defer stopIndexer()
	indexerDone := make(chan struct{})
	go func() { defer close(indexerDone); indexer.Run(indexCtx) }()
	reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "docket_search_pending_docs", Help: "Documents waiting to be indexed."},
			func() float64 { return float64(indexer.Pending()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "docket_search_lag_seconds", Help: "Longest wait of a change in the last indexing flush."},
			func() float64 { return indexer.MaxLag().Seconds() }),
	)

	// Action items follow the text a second after it changes; at startup
	// the updater first catches up on changes it missed.
	actions := bolt.NewActionService(db, markdown.ActionItems)
	actionUpdater := bolt.NewActionUpdater(actions, bolt.ActionUpdaterOptions{Logger: log})
	defer actionUpdater.Close()
	actionUpdater.RefreshAll()
	go actionUpdater.Run(ctx)
	minutes := bolt.NewMinutesService(db, actions, markdown.Minutes)
	decisions := bolt.NewDecisionService(db, renderer, minutes)
	threads := bolt.NewThreadService(db, renderer, markdown.Mentions)

	stopMail, err := startMail(cfg, db, log, reg)
	if err != nil {
		return err
	}
	defer stopMail()

	hooks := bolt.NewWebhookService(db, webhook.CheckURL)
	hooks.AllowPrivate = cfg.WebhookAllowPrivate
	var sso server.SSO
	if cfg.OIDC.Issuer != "" {
		p, err := oidc.New(oidc.Config{
			Issuer: cfg.OIDC.Issuer, ClientID: cfg.OIDC.ClientID, ClientSecret: cfg.OIDC.ClientSecret,
			Name: cfg.OIDC.Name, RedirectURL: strings.TrimRight(cfg.BaseURL, "/") + "/auth/oidc/callback", Logger: log,
		})
		if err != nil {
			return err
		}
		sso = p
		log.Info("single sign-on", slog.String("issuer", cfg.OIDC.Issuer), slog.String("name", p.Name()),
			slog.Any("domains", cfg.OIDC.AllowedDomains), slog.Bool("password_login", cfg.PasswordLogin))
	}
	srv, err := server.New(server.Config{
		BaseURL: cfg.BaseURL, Signup: cfg.Signup, TrustedProxies: proxies,
		SSODomains: cfg.OIDC.AllowedDomains, PasswordLoginOff: !cfg.PasswordLogin,
		Logger: log, Registry: reg, MetricsToken: cfg.MetricsToken,
		LiveConnsPerUser: cfg.LiveConnsPerUser,
		LiveWritePace:    livePace(cfg.LiveWritePace),
		LiveObserveAck:   live.acked,
		Version:          Version(),
		RenderMemory:     renderBudget(cfg.MemoryLimit),
		Bus:              cluster.docketBus(),
		Checks:           cluster.healthChecks(),
	}, server.Services{
		Users: users, Auth: users, Identities: users, Spaces: spaces, Documents: bolt.NewDocumentService(db), Renderer: renderer,
		Hub: hub, Recordings: recordings,
		Search:      &search.Service{Index: idx, Spaces: spaces, Users: users, Indexer: indexer},
		Decisions:   decisions,
		Actions:     actions,
		Minutes:     minutes,
		Threads:     threads,
		Suggestions: threads,
		Events:      bolt.NewEventService(db),
		Inbox:       bolt.NewInboxService(db),
		Webhooks:    hooks,
		Visits:      bolt.NewVisitService(db),
		Templates:   bolt.NewTemplateService(db),
		Mail:        bolt.NewMailService(db),
		Signups:     bolt.NewSignupService(db),
		Export:      db,
		Backup:      db.Backup,
		OnEvent:     db.OnEvent,
		Assets:      frontend.FS(),
		SSO:         sso,
	})
	if err != nil {
		return err
	}
	reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "docket_live_connections", Help: "Open live co-editing sockets."},
			func() float64 { return float64(srv.LiveConnections()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "docket_live_documents", Help: "Documents open in the live co-editing hub."},
			func() float64 { return float64(hub.OpenDocuments()) }),
	)

	// Webhooks go out from one dispatcher, woken by every commit that
	// queues a delivery; requests only store the pending delivery.
	dispatcher := webhook.New(hooks, webhook.Options{BaseURL: cfg.BaseURL, AllowPrivate: cfg.WebhookAllowPrivate, Logger: log})
	db.OnDeliveryQueued(dispatcher.Wake)
	stopDispatch := background(func(ctx context.Context) { dispatcher.Run(ctx) })
	defer stopDispatch()

	// Reminders of deadlines: a pass every minute, the first at once to
	// catch up on what came due while the server was down.
	stopReminders := background(cluster.lead("reminders", bolt.NewReminders(db, bolt.RemindersOptions{Logger: log}).Run))
	defer stopReminders()

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	httpServer := srv.HTTPServer(cfg.Addr)
	admin := startAdminSocket(cfg.Data, db, localAccounts{users: users, revoke: srv.RevokeAccess}, log)
	if cfg.Pprof != "" {
		go serveExtra(log, "profiles", cfg.Pprof, http.DefaultServeMux)
	}
	if cfg.MetricsAddr != "" {
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
		go serveExtra(log, "metrics", cfg.MetricsAddr, mux)
	}

	errc := make(chan error, 1)
	go func() { errc <- httpServer.Serve(ln) }()
	log.Info("docket serving", slog.String("url", cfg.BaseURL), slog.String("addr", ln.Addr().String()),
		slog.String("data", cfg.Data), slog.String("signup", cfg.Signup), slog.String("version", Version()))
	fmt.Fprintf(stdout, "Docket %s is listening on http://%s (data in %s)\n", Version(), ln.Addr(), cfg.Data)

	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down: finishing requests")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err = httpServer.Shutdown(shutdownCtx)
	srv.CloseLive() // hijacked WebSockets: close with 1001 so clients reconnect
	if admin != nil {
		admin.Shutdown(shutdownCtx)
	}
	hub.Close()
	// Index what is still queued so the index is current at the next
	// start; whatever is left is caught up then.
	stopIndexer()
	<-indexerDone
	flushCtx, cancelFlush := context.WithTimeout(context.Background(), 10*time.Second)
	indexer.Flush(flushCtx)
	cancelFlush()
	if cerr := idx.Close(); cerr != nil {
		log.Warn("closing the search index", slog.Any("err", cerr))
	}
	actionUpdater.Close()
	stopDispatch()  // attempts in flight are cancelled and retried after a restart
	stopReminders() // waits for a pass in flight to commit
	if cerr := db.Close(); cerr != nil && err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	log.Info("stopped")
	return nil
}

// background runs fn in a goroutine and returns a function that cancels
// fn's context and waits for fn to return; calling it again returns at
// once.
func background(fn func(ctx context.Context)) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn(ctx)
	}()
	return func() { cancel(); <-done }
}

// startAdminSocket serves maintenance requests from the same machine on a
// Unix socket in the data directory, readable by the data's owner only:
// GET /backup, so that 'docket backup' works while the server holds the
// data file's lock, and the account operations of 'docket user'.
func startAdminSocket(dataDir string, db *bolt.DB, accts accounts, log *slog.Logger) *http.Server {
	path := socketPath(dataDir)
	os.Remove(path)
	ln, err := net.Listen("unix", path)
	if err != nil {
		log.Warn("admin socket unavailable; 'docket backup' needs the API while serving", slog.Any("err", err))
		return nil
	}
	os.Chmod(path, 0o600)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /backup", func(w http.ResponseWriter, r *http.Request) {
		started, err := server.StreamBackup(r.Context(), w, db.Backup)
		switch {
		case err != nil && !started: // in cluster mode: no data file
			http.Error(w, docket.ErrorMessage(err), server.ErrorStatus(docket.ErrorCode(err)))
		case err != nil:
			log.Error("backup failed", slog.Any("err", err))
		}
	})
	serveAccounts(mux, accts, log)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Warn("admin socket stopped", slog.Any("err", err))
		}
	}()
	return srv
}

// liveMetrics are the live co-editing hub's histograms and counters.
type liveMetrics struct {
	commitSeconds prometheus.Histogram
	ops           prometheus.Counter
	ack           prometheus.Histogram
}

// liveBuckets are the latency buckets of the live metrics, in seconds.
var liveBuckets = []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5}

func newLiveMetrics(reg prometheus.Registerer) *liveMetrics {
	m := &liveMetrics{
		commitSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "docket_live_commit_seconds",
			Help: "Duration of the hub's group commits (one transaction with its fsync, for the ops of every document waiting).", Buckets: liveBuckets}),
		ops: prometheus.NewCounter(prometheus.CounterOpts{Name: "docket_live_ops_total", Help: "Ops committed through the hub (live and REST edits)."}),
		ack: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "docket_live_ack_seconds",
			Help: "Time from reading a live op to writing its ack, after the op is durable.", Buckets: liveBuckets}),
	}
	reg.MustRegister(m.commitSeconds, m.ops, m.ack)
	return m
}

func (m *liveMetrics) acked(d time.Duration) { m.ack.Observe(d.Seconds()) }

func (m *liveMetrics) commit(ops int, took time.Duration) {
	m.commitSeconds.Observe(took.Seconds())
	m.ops.Add(float64(ops))
}

// minProcs is the fewest Ps (threads running Go code at once) the server
// runs with. Every group commit ends in fdatasync, and a goroutine in a
// system call keeps its P until the runtime's monitor takes it back,
// which it does only at its next check, up to 10 ms later when it has
// been quiet. With a single P (one CPU, or a one-CPU cgroup limit)
// nothing else runs meanwhile: no socket reader or writer, no HTTP
// handler. A second P lets them run while the commit waits for the disk.
const minProcs = 2

// ensureProcs raises GOMAXPROCS to minProcs unless the GOMAXPROCS
// environment variable sets it.
func ensureProcs(log *slog.Logger) {
	if os.Getenv("GOMAXPROCS") != "" {
		return
	}
	if n := runtime.GOMAXPROCS(0); n < minProcs {
		runtime.GOMAXPROCS(minProcs)
		log.Info("GOMAXPROCS raised so that a commit waiting for the disk does not stop the server", slog.Int("from", n), slog.Int("to", minProcs))
	}
}

// livePace maps the flag's 0 ("write at once") to the option's negative.
func livePace(d time.Duration) time.Duration {
	if d == 0 {
		return -1
	}
	return d
}

// serveExtra serves what (profiles, metrics) with h on an extra address
// until the process ends; it is meant for localhost or a private network.
func serveExtra(log *slog.Logger, what, addr string, h http.Handler) {
	log.Info(what+" served", slog.String("addr", addr))
	srv := &http.Server{Addr: addr, Handler: h, ReadHeaderTimeout: 10 * time.Second}
	if err := srv.ListenAndServe(); err != nil {
		log.Warn(what+" listener stopped", slog.Any("err", err))
	}
}

// renderBudget is the memory the markdown renders running at once may
// hold under a --memory-limit of limit bytes: three eighths of it, at
// most the server's default of 192 MiB and at least 32 MiB (a larger
// render then runs alone). Without a limit, 0 keeps the default.
func renderBudget(limit int64) int64 {
	if limit <= 0 {
		return 0
	}
	return min(max(limit*3/8, 32<<20), 192<<20)
}
