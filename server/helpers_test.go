package server_test

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	docket "github.com/docket-dev/docket"
	"github.com/docket-dev/docket/bolt"
	"github.com/docket-dev/docket/collab"
	"github.com/docket-dev/docket/frontend"
	"github.com/docket-dev/docket/markdown"
	"github.com/docket-dev/docket/search"
	"github.com/docket-dev/docket/server"
	"github.com/docket-dev/docket/webhook"
	"golang.org/x/crypto/bcrypt"
)

// env is a real server over a real bbolt file in a temporary directory.
type env struct {
	t       testing.TB
	hub     *collab.Hub
	actions *bolt.ActionUpdater
	dir     string
	db      *bolt.DB
	srv     *server.Server
	http    *httptest.Server
	cfg     server.Config
	// hooks is the webhook store; tests with receivers on 127.0.0.1 set
	// its AllowPrivate.
	hooks *bolt.WebhookService

	// services, if set, changes the services before the server starts;
	// svc are those the server got.
	services func(*server.Services)
	svc      server.Services

	// The search index in dir/index, with an indexer that follows the
	// data file's changes after searchDebounce (100 ms if zero: short for
	// the search tests, long enough that the live tests' floods of ops do
	// not keep it reindexing).
	searchDebounce time.Duration
	index          *search.Index
	indexer        *search.Indexer
	stopIndexer    func()
}

// newEnv starts a server; cfg may adjust the configuration.
func newEnv(t testing.TB, cfg ...func(*server.Config)) *env {
	t.Helper()
	e := &env{t: t, dir: t.TempDir()}
	e.cfg = server.Config{Signup: server.SignupOpen}
	for _, f := range cfg {
		f(&e.cfg)
	}
	e.start()
	t.Cleanup(e.stop)
	return e
}

func openTestDB(t testing.TB, path string) *bolt.DB {
	t.Helper()
	db := bolt.NewDB(path)
	db.PasswordCost = bcrypt.MinCost
	db.SnapshotEvery = 10
	if err := db.Open(); err != nil {
		t.Fatalf("open db: %v", err)
	}
	return db
}

func (e *env) start() {
	e.t.Helper()
	e.db = openTestDB(e.t, filepath.Join(e.dir, "docket.db"))
	if e.cfg.Now != nil {
		e.db.Now = e.cfg.Now // one clock for the server and the storage
		// The client's cookie jar reads the real clock: a session that starts
		// at a fixed date in the past must outlive today, or the cookie is
		// dropped as expired (TestMinutesOfScriptedRFC started 2026-11-02 failed
		// once the 30-day session TTL ran out in real time).
		e.db.SessionTTL = 100 * 365 * 24 * time.Hour
	}
	recordings := bolt.NewRecordingService(e.db)
	e.hub = collab.New(bolt.NewLiveStore(e.db), collab.Options{Recordings: recordings, RecordingGrace: 200 * time.Millisecond})
	actions := bolt.NewActionService(e.db, markdown.ActionItems)
	e.actions = bolt.NewActionUpdater(actions, bolt.ActionUpdaterOptions{Debounce: 20 * time.Millisecond})
	e.actions.RefreshAll()
	go e.actions.Run(context.Background())
	e.hooks = bolt.NewWebhookService(e.db, webhook.CheckURL)
	users := bolt.NewUserService(e.db)
	spaces := bolt.NewSpaceService(e.db)
	renderer := markdown.New(markdown.Options{})
	minutes := bolt.NewMinutesService(e.db, actions, markdown.Minutes)
	threads := bolt.NewThreadService(e.db, renderer, markdown.Mentions)
	svc := server.Services{
		Users: users, Auth: users, Identities: users, Spaces: spaces, Documents: bolt.NewDocumentService(e.db), Renderer: renderer,
		Hub: e.hub, Recordings: recordings, Search: e.startSearch(users, spaces),
		Decisions: bolt.NewDecisionService(e.db, renderer, minutes), Actions: actions, Minutes: minutes,
		Threads: threads, Suggestions: threads,
		Events: bolt.NewEventService(e.db), Inbox: bolt.NewInboxService(e.db), Webhooks: e.hooks,
		Visits: bolt.NewVisitService(e.db), Templates: bolt.NewTemplateService(e.db), Mail: bolt.NewMailService(e.db), Signups: bolt.NewSignupService(e.db), Export: e.db, Backup: e.db.Backup, OnEvent: e.db.OnEvent,
		Assets: frontend.FS(),
	}
	if e.services != nil {
		e.services(&svc)
	}
	e.svc = svc
	var err error
	if e.srv, err = server.New(e.cfg, svc); err != nil {
		e.t.Fatalf("server.New: %v", err)
	}
	e.http = httptest.NewServer(e.srv.Handler())
}

func (e *env) stop() {
	if e.http != nil {
		e.http.CloseClientConnections()
		e.http.Close()
		e.http = nil
	}
	if e.hub != nil {
		e.hub.Close()
		e.hub = nil
	}
	if e.stopIndexer != nil {
		e.stopIndexer()
		e.stopIndexer = nil
	}
	if e.actions != nil {
		e.actions.Close()
		e.actions = nil
	}
	if e.db != nil {
		if err := e.db.Check(); err != nil {
			e.t.Errorf("consistency check: %v", err)
		}
		e.db.Close()
		e.db = nil
	}
}

// startSearch opens the search index and starts its indexer.
func (e *env) startSearch(users docket.UserService, spaces docket.SpaceService) docket.SearchService {
	e.t.Helper()
	idx, err := search.Open(filepath.Join(e.dir, "index"), search.Options{Loader: bolt.NewScanner(e.db)})
	if err != nil {
		e.t.Fatalf("open index: %v", err)
	}
	ix := &search.Indexer{
		Index: idx, Docs: bolt.NewDocumentService(e.db), Scanner: bolt.NewScanner(e.db),
		Threads:  bolt.NewThreadService(e.db, markdown.New(markdown.Options{}), markdown.Mentions),
		Debounce: cmp.Or(e.searchDebounce, 100*time.Millisecond),
	}
	e.db.OnChange(ix.Notify)
	e.db.OnEvent(ix.NotifyEvent)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); ix.Run(ctx) }()
	e.index, e.indexer = idx, ix
	e.stopIndexer = func() {
		cancel()
		<-done
		idx.Close()
	}
	return &search.Service{Index: idx, Spaces: spaces, Users: users, Indexer: ix}
}

// restart stops the server and the database and starts them again on the
// same data file, keeping the URL's clients usable with the new URL.
func (e *env) restart() {
	e.stop()
	e.start()
}

// client is a user agent: a cookie jar, optionally a bearer token.
type client struct {
	e      *env
	hc     *http.Client
	token  string
	header http.Header
	user   map[string]any
}

func (e *env) client() *client {
	jar, _ := cookiejar.New(nil)
	return &client{e: e, hc: &http.Client{Jar: jar}, header: http.Header{}}
}

// response is a decoded response.
type response struct {
	status int
	header http.Header
	raw    []byte
	body   map[string]any
}

func (r *response) errCode() string {
	if e, ok := r.body["error"].(map[string]any); ok {
		s, _ := e["code"].(string)
		return s
	}
	return ""
}

func (r *response) str(key string) string {
	s, _ := r.body[key].(string)
	return s
}

func (r *response) num(key string) int64 {
	f, _ := r.body[key].(float64)
	return int64(f)
}

// do sends a request; body may be nil, a string (sent raw as JSON) or a
// value to marshal.
func (c *client) do(method, path string, body any) *response {
	c.e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			c.e.t.Fatal(err)
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(context.Background(), method, c.e.http.URL+path, rd)
	if err != nil {
		c.e.t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if method != http.MethodGet && method != http.MethodHead {
		req.Header.Set("Origin", c.e.http.URL) // as the app's pages send it
	}
	for k, v := range c.header {
		if k == "Referer" || k == "Sec-Fetch-Site" {
			req.Header.Del("Origin") // the test says where the request comes from
		}
		req.Header[k] = v
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		c.e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	r := &response{status: resp.StatusCode, header: resp.Header, raw: raw}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		json.Unmarshal(raw, &r.body)
	}
	return r
}

// must sends a request and fails the test unless the status is want.
func (c *client) must(want int, method, path string, body any) *response {
	c.e.t.Helper()
	r := c.do(method, path, body)
	if r.status != want {
		c.e.t.Fatalf("%s %s = %d %s; want %d", method, path, r.status, r.raw, want)
	}
	return r
}

// signup creates an account and returns a signed-in client.
func (e *env) signup(name string) *client {
	e.t.Helper()
	c := e.client()
	r := c.must(http.StatusCreated, "POST", "/api/auth/signup", map[string]string{
		"name": name, "email": strings.ToLower(name) + "@example.com", "password": "correct horse " + name,
	})
	c.user = r.body
	return c
}

func (c *client) id() string { return c.user["id"].(string) }

func (c *client) email() string { return c.user["email"].(string) }

// createSpace creates a space and returns its id.
func (c *client) createSpace(slug string) string {
	c.e.t.Helper()
	return c.must(http.StatusCreated, "POST", "/api/spaces", map[string]string{"slug": slug, "name": slug}).str("id")
}

// addMember gives another client a role in a space.
func (c *client) addMember(space string, other *client, role docket.SpaceRole) {
	c.e.t.Helper()
	c.must(http.StatusOK, "POST", "/api/spaces/"+space+"/members", map[string]string{"email": other.email(), "role": string(role)})
}

// createDoc creates a document and returns its id.
func (c *client) createDoc(space, title, body string) string {
	c.e.t.Helper()
	return c.must(http.StatusCreated, "POST", "/api/docs", map[string]any{"space": space, "title": title, "body": body, "kind": "rfc"}).str("id")
}

func mustURL(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}

// roleCallers signs up a member of space for each role (viewer,
// commenter, editor, admin), an outsider and an anonymous client, keyed by
// those names, with site (the site admin who made space) as "siteadmin".
func roleCallers(e *env, site *client, space string) map[string]*client {
	callers := map[string]*client{
		"anonymous": e.client(),
		"outsider":  e.signup("Outsider"),
		"siteadmin": site,
	}
	for _, m := range []struct {
		name string
		role docket.SpaceRole
	}{{"Viewer", "viewer"}, {"Commenter", "commenter"}, {"Editor", "editor"}, {"Admin", "admin"}} {
		callers[string(m.role)] = e.signup(m.name)
		site.addMember(space, callers[string(m.role)], m.role)
	}
	return callers
}

// adaSpace starts a server (cfg may adjust it) with its first user, Ada
// (the site admin), and her space "eng"; it returns the space's id.
func adaSpace(t testing.TB, cfg ...func(*server.Config)) (*env, *client, string) {
	t.Helper()
	e := newEnv(t, cfg...)
	ada := e.signup("Ada")
	return e, ada, ada.createSpace("eng")
}

// withMember starts a server with its first user (owner, the site admin),
// her space "eng" and a second user (member) with role in it; it returns
// them and the space's id.
func withMember(t testing.TB, owner, member string, role docket.SpaceRole) (e *env, o *client, space string, m *client) {
	t.Helper()
	e = newEnv(t)
	o, m = e.signup(owner), e.signup(member)
	space = o.createSpace("eng")
	o.addMember(space, m, role)
	return e, o, space, m
}

// stoppedAs stops the server and opens its data file directly, to change
// it while no server or indexer follows it, with a context of c's user.
// Close the DB and start the server again.
func (e *env) stoppedAs(c *client) (*bolt.DB, context.Context) {
	e.t.Helper()
	e.stop()
	db := openTestDB(e.t, filepath.Join(e.dir, "docket.db"))
	sys := docket.NewSystemContext(context.Background())
	user, err := bolt.NewUserService(db).FindUserByID(sys, c.id())
	if err != nil {
		e.t.Fatal(err)
	}
	return db, docket.NewContextWithUser(sys, user)
}
