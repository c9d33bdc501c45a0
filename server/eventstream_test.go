package server_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	docket "github.com/docket-dev/docket"
	"github.com/docket-dev/docket/bolt"
	"github.com/docket-dev/docket/internal/membus"
	"github.com/docket-dev/docket/internal/testenv"
	"github.com/docket-dev/docket/markdown"
	"github.com/docket-dev/docket/server"
)

// sseFrame is one server-sent event.
type sseFrame struct {
	id, event string
	ev        docket.Event // the data, for message frames
}

// sseStream is an open event stream read on a goroutine.
type sseStream struct {
	t      *testing.T
	resp   *http.Response
	frames chan sseFrame
	pings  chan struct{}
	ended  chan struct{} // closed when the server ends the stream
	cancel context.CancelFunc
}

// openStream opens GET /api/docs/:doc/events/stream with the client's
// credentials and headers; lastID, if not empty, is sent as Last-Event-ID. It returns
// the stream, or the error response when the status is not 200.
func (c *client) openStream(doc, query, lastID string) (*sseStream, *response) {
	t := c.e.t.(*testing.T)
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, "GET", c.e.http.URL+"/api/docs/"+doc+"/events/stream"+query, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range c.header {
		req.Header[k] = v
	}
	req.Header.Set("Accept", "text/event-stream")
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		cancel()
		t.Fatalf("open stream: %v", err)
	}
	if resp.StatusCode != http.StatusOK {
		defer cancel()
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		r := &response{status: resp.StatusCode, header: resp.Header, raw: raw}
		json.Unmarshal(raw, &r.body)
		return nil, r
	}
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Errorf("Content-Type = %q; want text/event-stream", ct)
	}
	s := &sseStream{t: t, resp: resp, frames: make(chan sseFrame, 100), pings: make(chan struct{}, 100), ended: make(chan struct{}), cancel: cancel}
	t.Cleanup(s.close)
	go s.read()
	return s, nil
}

func (s *sseStream) read() {
	defer close(s.ended)
	sc := bufio.NewScanner(s.resp.Body)
	var f sseFrame
	var data string
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if data != "" && f.event == "" {
				if err := json.Unmarshal([]byte(data), &f.ev); err != nil {
					s.t.Errorf("bad event data %q: %v", data, err)
				}
			}
			if f.id != "" || f.event != "" {
				s.frames <- f
			}
			f, data = sseFrame{}, ""
		case strings.HasPrefix(line, ":"):
			select {
			case s.pings <- struct{}{}:
			default:
			}
		case strings.HasPrefix(line, "id: "):
			f.id = strings.TrimPrefix(line, "id: ")
		case strings.HasPrefix(line, "event: "):
			f.event = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			data += strings.TrimPrefix(line, "data: ")
		}
	}
}

func (s *sseStream) close() {
	s.cancel()
	s.resp.Body.Close()
}

// next returns the next frame within d.
func (s *sseStream) next(d time.Duration) sseFrame {
	s.t.Helper()
	select {
	case f := <-s.frames:
		return f
	case <-time.After(d):
		s.t.Fatalf("no event within %v", d)
	}
	return sseFrame{}
}

// waitEnd waits until the server ends the stream.
func (s *sseStream) waitEnd(d time.Duration) {
	s.t.Helper()
	select {
	case <-s.ended:
	case <-time.After(d):
		s.t.Fatalf("the stream is still open after %v", d)
	}
}

func eventSetup(t *testing.T, cfg ...func(*server.Config)) (e *env, ada, bob *client, space, doc string) {
	t.Helper()
	e = newEnv(t, cfg...)
	ada = e.signup("Ada")
	bob = e.signup("Bob")
	space = ada.createSpace("eng")
	ada.addMember(space, bob, docket.RoleCommenter)
	doc = ada.createDoc(space, "Storage plan", "# Plan\n\nUse a log.\n")
	return e, ada, bob, space, doc
}

func TestEventStreamDeliversOthersEvents(t *testing.T) {
	_, ada, bob, _, doc := eventSetup(t)
	other := ada.createDoc(ada.must(http.StatusOK, "GET", "/api/docs/"+doc, nil).str("spaceId"), "Other", "x")
	s, r := ada.openStream(doc, "", "")
	if r != nil {
		t.Fatalf("open = %d %s", r.status, r.raw)
	}
	// What happened before the stream opened is not sent again: the
	// first event is the next one (events come in seq order).
	start := time.Now()
	thread := bob.createThread(doc, nil, "Which log?")
	f := s.next(time.Second)
	if got := time.Since(start); got > time.Second {
		t.Errorf("the event took %v", got)
	}
	if f.ev.Type != docket.EventThreadCreated || f.ev.ThreadID != thread || f.ev.ActorID != bob.id() || f.id != strconv.FormatInt(f.ev.Seq, 10) {
		t.Fatalf("got %+v; want Bob's thread.created with the seq as id", f)
	}
	// A comment, a resolution, a transition: each arrives, in order; an
	// event of another document does not.
	bob.createThread(other, nil, "Elsewhere")
	bob.must(http.StatusCreated, "POST", "/api/threads/"+thread+"/comments", map[string]any{"body": "The bbolt one."})
	ada.must(http.StatusOK, "POST", "/api/threads/"+thread+"/resolve", map[string]any{})
	ada.must(http.StatusOK, "POST", "/api/docs/"+doc+"/transition", map[string]any{
		"to": "review", "reviewers": []string{bob.id()}, "due": time.Now().Add(48 * time.Hour).UTC().Format(time.RFC3339)})
	var got []docket.EventType
	last := f.ev.Seq
	for range 3 {
		f := s.next(time.Second)
		if f.ev.Seq <= last {
			t.Errorf("seq %d after %d", f.ev.Seq, last)
		}
		last = f.ev.Seq
		got = append(got, f.ev.Type)
	}
	want := []docket.EventType{docket.EventCommentCreated, docket.EventThreadResolved, docket.EventDocTransitioned}
	if strings.Join(strs(got), ",") != strings.Join(strs(want), ",") {
		t.Errorf("events = %v; want %v", got, want)
	}
	// Nothing else came: the next event is a later one.
	bob.must(http.StatusCreated, "POST", "/api/threads/"+thread+"/comments", map[string]any{"body": "Last."})
	if f := s.next(time.Second); f.ev.Type != docket.EventCommentCreated || f.ev.Seq <= last {
		t.Errorf("after the transition: %+v; want the comment made after it", f)
	}
}

func strs[T ~string](xs []T) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = string(x)
	}
	return out
}

func TestEventStreamResumesAfterLastEventID(t *testing.T) {
	_, ada, bob, _, doc := eventSetup(t)
	s, r := ada.openStream(doc, "", "")
	if r != nil {
		t.Fatalf("open = %d", r.status)
	}
	th := bob.createThread(doc, nil, "One")
	seen := s.next(time.Second)
	s.close()

	// While the reader is away: two comments and a review request.
	bob.must(http.StatusCreated, "POST", "/api/threads/"+th+"/comments", map[string]any{"body": "Two"})
	bob.must(http.StatusCreated, "POST", "/api/threads/"+th+"/comments", map[string]any{"body": "Three"})
	ada.must(http.StatusOK, "POST", "/api/docs/"+doc+"/transition", map[string]any{
		"to": "review", "reviewers": []string{bob.id()}, "due": time.Now().Add(48 * time.Hour).UTC().Format(time.RFC3339)})
	missed := ada.must(http.StatusOK, "GET", "/api/activity?doc="+doc+"&after="+seen.id, nil).body["events"].([]any)
	if len(missed) != 3 {
		t.Fatalf("activity after %s = %d events; want 3", seen.id, len(missed))
	}

	// The browser reconnects with Last-Event-ID: exactly the missed
	// events, in order, then the live ones.
	for _, how := range []struct{ query, lastID string }{{"", seen.id}, {"?after=" + seen.id, ""}} {
		s, r := ada.openStream(doc, how.query, how.lastID)
		if r != nil {
			t.Fatalf("reopen = %d", r.status)
		}
		for i, m := range missed {
			f := s.next(time.Second)
			want := int64(m.(map[string]any)["seq"].(float64))
			if f.ev.Seq != want {
				t.Errorf("%+v: replayed event %d has seq %d; want %d", how, i, f.ev.Seq, want)
			}
		}
		// Then the live ones: the next event is one made now, which the
		// next reconnection replays as missed.
		bob.must(http.StatusCreated, "POST", "/api/threads/"+th+"/comments", map[string]any{"body": "Live " + how.lastID})
		f := s.next(time.Second)
		if last := int64(missed[len(missed)-1].(map[string]any)["seq"].(float64)); f.ev.Type != docket.EventCommentCreated || f.ev.Seq <= last {
			t.Errorf("%+v: after the replay: %+v; want the comment made after it", how, f)
		}
		missed = append(missed, map[string]any{"seq": float64(f.ev.Seq)})
		s.close()
	}
	s, _ = ada.openStream(doc, "", seen.id)
	for range missed {
		s.next(time.Second)
	}
	bob.must(http.StatusCreated, "POST", "/api/threads/"+th+"/comments", map[string]any{"body": "Four"})
	if f := s.next(time.Second); f.ev.Type != docket.EventCommentCreated {
		t.Errorf("live event after the replay = %+v", f)
	}
	// A bad cursor is 400.
	if _, r := ada.openStream(doc, "", "x1"); r == nil || r.status != http.StatusBadRequest {
		t.Errorf("Last-Event-ID x1: %+v; want 400", r)
	}
}

func TestEventStreamAccess(t *testing.T) {
	e, ada, bob, space, doc := eventSetup(t)
	eve := e.signup("Eve")
	anon := e.client()
	for _, tc := range []struct {
		name string
		c    *client
		doc  string
		want int
	}{
		{"not a member", eve, doc, http.StatusNotFound},
		{"signed out", anon, doc, http.StatusUnauthorized},
		{"no such document", ada, "doesnotexist0000", http.StatusNotFound},
	} {
		if _, r := tc.c.openStream(tc.doc, "", ""); r == nil || r.status != tc.want {
			t.Errorf("%s: got %+v; want %d", tc.name, r, tc.want)
		}
	}

	// A page of another origin is refused, whatever cookie it carries.
	evil := *ada
	evil.header = http.Header{"Origin": {"https://evil.example"}}
	if _, r := evil.openStream(doc, "", ""); r == nil || r.status != http.StatusForbidden {
		t.Errorf("cross-origin: got %+v; want 403", r)
	}

	// A reader removed from the space is cut off within seconds.
	s, r := bob.openStream(doc, "", "")
	if r != nil {
		t.Fatalf("open = %d", r.status)
	}
	start := time.Now()
	ada.must(http.StatusNoContent, "DELETE", "/api/spaces/"+space+"/members/"+bob.id(), nil)
	f := s.next(3 * time.Second)
	if f.event != "revoked" {
		t.Errorf("after the removal: %+v; want a revoked event", f)
	}
	s.waitEnd(time.Second)
	t.Logf("cut off after %v", time.Since(start).Round(time.Millisecond))
	if _, r := bob.openStream(doc, "", ""); r == nil || r.status != http.StatusNotFound {
		t.Errorf("reopen after removal = %+v; want 404", r)
	}

	// Signing out ends the stream too.
	s, _ = ada.openStream(doc, "", "")
	ada.must(http.StatusNoContent, "POST", "/api/auth/logout", nil)
	if f := s.next(3 * time.Second); f.event != "revoked" {
		t.Errorf("after sign-out: %+v; want a revoked event", f)
	}
	s.waitEnd(time.Second)
}

func TestEventStreamPerUserCap(t *testing.T) {
	e, ada, bob, _, doc := eventSetup(t, func(c *server.Config) { c.MaxEventStreams = 2 })
	a1, _ := ada.openStream(doc, "", "")
	ada.openStream(doc, "", "")
	_, r := ada.openStream(doc, "", "")
	if r == nil || r.status != http.StatusTooManyRequests || r.errCode() != docket.ERATELIMIT {
		t.Fatalf("third stream = %+v; want 429 rate_limited", r)
	}
	// Others are not affected, and a closed stream frees its place.
	if _, r := bob.openStream(doc, "", ""); r != nil {
		t.Errorf("Bob's stream = %d; want 200", r.status)
	}
	a1.close()
	testenv.Eventually(10*time.Second, func() bool { return e.srv.EventStreams() <= 2 })
	if _, r := ada.openStream(doc, "", ""); r != nil {
		t.Errorf("after closing one: %d; want 200", r.status)
	}
}

// TestEventStreamShutdown checks that an open stream does not hold up a
// graceful shutdown of the production http.Server.
func TestEventStreamShutdown(t *testing.T) {
	e, ada, _, _, doc := eventSetup(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := e.srv.HTTPServer(ln.Addr().String())
	go hs.Serve(ln)
	req, _ := http.NewRequest("GET", "http://"+ln.Addr().String()+"/api/docs/"+doc+"/events/stream", nil)
	for _, ck := range ada.hc.Jar.Cookies(mustURL(e.http.URL)) {
		req.AddCookie(ck)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("open = %d", resp.StatusCode)
	}
	// The CSP lets the page connect to it.
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "connect-src 'self'") {
		t.Errorf("CSP %q does not allow same-origin connections", csp)
	}
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := hs.Shutdown(ctx); err != nil {
		t.Fatalf("shutdown with an open stream: %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("shutdown took %v", d)
	}
	if _, err := io.ReadAll(resp.Body); err != nil {
		t.Logf("stream ended with %v", err)
	}
}

// TestDocPanels checks the fragment the page script refreshes its panels
// from: the head, the review panel and the threads, at the current
// version, without the text; 404 for those who cannot read it.
func TestDocPanels(t *testing.T) {
	e, ada, bob, _, doc := eventSetup(t)
	bob.createThread(doc, nil, "Which log?")
	page := ada.pageOK("/d/" + doc)
	page.has(t, `data-panels="/d/`+doc+`/panels"`, `data-event-seq="`)
	p := ada.pageOK("/d/" + doc + "/panels")
	p.has(t, `<div id="doc-panels" data-version="1">`, `id="doc-head"`, `id="review"`, `id="threads"`, "Which log?", `name="csrf"`)
	p.hasNot(t, "<html", `id="doc-source"`, `id="doc-html"`)
	if ct := p.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Errorf("Content-Type = %q", ct)
	}
	if p := e.signup("Eve").page("/d/" + doc + "/panels"); p.status != http.StatusNotFound {
		t.Errorf("a stranger's panels = %d; want 404", p.status)
	}
}

// TestEventStreamMembers: a change of the space's members is told to the
// streams of its documents, which list them (the reviewers to choose).
func TestEventStreamMembers(t *testing.T) {
	e, ada, _, space, doc := eventSetup(t)
	s, r := ada.openStream(doc, "", "")
	if r != nil {
		t.Fatalf("open = %d", r.status)
	}
	ada.addMember(space, e.signup("Cy"), docket.RoleEditor)
	if f := s.next(3 * time.Second); f.event != "members" {
		t.Errorf("after a member was added: %+v; want a members event", f)
	}
}

// TestEventStreamClusterReadsWithoutNote: on a node of a cluster a stream
// finds another node's event in the log even when no bus note woke it.
func TestEventStreamClusterReadsWithoutNote(t *testing.T) {
	e, ada, bob, _, doc := eventSetup(t, func(c *server.Config) { c.Bus = membus.New().Node() })
	// Another node: the same store, no bus between them (every note lost).
	other := bolt.NewDB("")
	if err := other.OpenStore(e.db.Store()); err != nil {
		t.Fatal(err)
	}
	s, r := ada.openStream(doc, "", "")
	if r != nil {
		t.Fatalf("open = %d %s", r.status, r.raw)
	}
	asBob := docket.NewContextWithUser(context.Background(), &docket.User{ID: bob.id(), Name: "Bob"})
	threads := bolt.NewThreadService(other, markdown.New(markdown.Options{}), markdown.Mentions)
	th, err := threads.CreateThread(asBob, docket.ThreadCreate{DocID: doc, Body: "From node 2."})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	f := s.next(4 * time.Second)
	if f.ev.Type != docket.EventThreadCreated || f.ev.ThreadID != th.ID {
		t.Fatalf("got %+v; want the thread made on the other node", f)
	}
	t.Logf("found after %v", time.Since(start))
}
