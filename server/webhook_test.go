package server_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	docket "github.com/docket-dev/docket"
	"github.com/docket-dev/docket/internal/testenv"
	"github.com/docket-dev/docket/webhook"
)

// hookReceiver is a webhook receiver on 127.0.0.1 that answers with the
// statuses given (the last one repeated) and passes on what it got.
type hookReceiver struct {
	*httptest.Server
	mu       sync.Mutex
	statuses []int
	n        int
	got      chan hookRequest
}

type hookRequest struct {
	header http.Header
	body   []byte
}

func newHookReceiver(t *testing.T, statuses ...int) *hookReceiver {
	r := &hookReceiver{statuses: statuses, got: make(chan hookRequest, 100)}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.n++
		status := r.statuses[min(r.n, len(r.statuses))-1]
		r.mu.Unlock()
		r.got <- hookRequest{req.Header.Clone(), body}
		w.WriteHeader(status)
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *hookReceiver) next(t *testing.T) hookRequest {
	t.Helper()
	select {
	case req := <-r.got:
		return req
	case <-time.After(10 * time.Second):
		t.Fatal("no webhook delivery within 10 s")
		return hookRequest{}
	}
}

// startDispatcher runs a webhook dispatcher over the env's data file
// until the test ends.
func (e *env) startDispatcher(opts webhook.Options) {
	e.t.Helper()
	opts.BaseURL = e.http.URL
	d := webhook.New(e.hooks, opts)
	e.db.OnDeliveryQueued(d.Wake)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		d.Run(ctx)
	}()
	e.t.Cleanup(func() {
		cancel()
		<-done
	})
}

// waitDeliveries polls the delivery log until check accepts it.
func waitDeliveries(t *testing.T, c *client, hookID string, check func([]map[string]any) bool) []map[string]any {
	t.Helper()
	var r *response
	var list []map[string]any
	if !testenv.Eventually(10*time.Second, func() bool {
		r = c.must(http.StatusOK, "GET", "/api/webhooks/"+hookID+"/deliveries", nil)
		list = nil
		for _, d := range r.body["deliveries"].([]any) {
			list = append(list, d.(map[string]any))
		}
		return check(list)
	}) {
		t.Fatalf("delivery log never satisfied the check: %s", r.raw)
	}
	return list
}

func TestWebhookPermissionsAPI(t *testing.T) {
	e := newEnv(t)
	ada, bob, cy := e.signup("Ada"), e.signup("Bob"), e.signup("Cy")
	eng := ada.createSpace("eng")
	ada.addMember(eng, bob, docket.RoleEditor)
	rcv := newHookReceiver(t, http.StatusOK)

	// Receivers on loopback are refused unless the server allows them.
	r := ada.do("POST", "/api/spaces/eng/webhooks", map[string]any{"url": rcv.URL})
	if r.status != http.StatusBadRequest || !strings.Contains(r.raw2(), "loopback") {
		t.Fatalf("loopback webhook = %d %s; want 400", r.status, r.raw)
	}
	e.hooks.AllowPrivate = true
	hook := ada.must(http.StatusCreated, "POST", "/api/spaces/eng/webhooks", map[string]any{"url": rcv.URL, "format": "json"})
	id := hook.str("id")
	if !strings.HasPrefix(hook.str("secret"), "whsec_") || hook.str("spaceId") != eng || hook.body["active"] != true {
		t.Fatalf("created webhook = %s", hook.raw)
	}
	for _, tc := range []struct {
		who          *client
		method, path string
		body         any
		want         int
	}{
		{bob, "POST", "/api/spaces/eng/webhooks", map[string]any{"url": rcv.URL}, http.StatusForbidden},
		{cy, "POST", "/api/spaces/eng/webhooks", map[string]any{"url": rcv.URL}, http.StatusNotFound},
		{bob, "GET", "/api/spaces/eng/webhooks", nil, http.StatusForbidden},
		{cy, "GET", "/api/spaces/eng/webhooks", nil, http.StatusNotFound},
		{bob, "DELETE", "/api/webhooks/" + id, nil, http.StatusForbidden},
		{cy, "DELETE", "/api/webhooks/" + id, nil, http.StatusNotFound},
		{bob, "GET", "/api/webhooks/" + id + "/deliveries", nil, http.StatusForbidden},
		{cy, "GET", "/api/webhooks/" + id + "/deliveries", nil, http.StatusNotFound},
		{ada, "POST", "/api/spaces/eng/webhooks", map[string]any{"url": rcv.URL, "secret": "mine"}, http.StatusBadRequest},
		{ada, "POST", "/api/spaces/eng/webhooks", map[string]any{"url": "file:///etc/passwd"}, http.StatusBadRequest},
		{ada, "POST", "/api/spaces/eng/webhooks", map[string]any{"url": rcv.URL, "format": "xml"}, http.StatusBadRequest},
		{ada, "POST", "/api/spaces/eng/webhooks", map[string]any{"url": rcv.URL, "events": []string{"doc.nope"}}, http.StatusBadRequest},
		{ada, "GET", "/api/webhooks/" + id + "/deliveries?limit=0", nil, http.StatusBadRequest},
		{ada, "DELETE", "/api/webhooks/..%2F" + id, nil, http.StatusNotFound},
		{e.client(), "GET", "/api/spaces/eng/webhooks", nil, http.StatusUnauthorized},
	} {
		if r := tc.who.do(tc.method, tc.path, tc.body); r.status != tc.want || r.errCode() == "" {
			t.Errorf("%s %s %v = %d %s; want %d", tc.method, tc.path, tc.body, r.status, r.raw, tc.want)
		}
	}
	r = ada.must(http.StatusOK, "GET", "/api/spaces/eng/webhooks", nil)
	if r.num("total") != 1 || strings.Contains(r.raw2(), "secret") {
		t.Errorf("webhook list = %s; want one, without its secret", r.raw)
	}
	ada.must(http.StatusNoContent, "DELETE", "/api/webhooks/"+id, nil)
	ada.must(http.StatusNotFound, "GET", "/api/webhooks/"+id+"/deliveries", nil)
	if r := ada.must(http.StatusOK, "GET", "/api/spaces/eng/webhooks", nil); r.num("total") != 0 {
		t.Errorf("after delete: %s", r.raw)
	}
}

func (r *response) raw2() string { return string(r.raw) }

func TestWebhookDelivery(t *testing.T) {
	e := newEnv(t)
	e.hooks.AllowPrivate = true
	ada := e.signup("Ada")
	eng := ada.createSpace("eng")
	// The JSON receiver fails once: the delivery is retried.
	jsonRcv := newHookReceiver(t, http.StatusInternalServerError, http.StatusOK)
	slackRcv := newHookReceiver(t, http.StatusOK)
	jsonHook := ada.must(http.StatusCreated, "POST", "/api/spaces/eng/webhooks", map[string]any{
		"url": jsonRcv.URL + "/in", "events": []string{"doc.created", "doc.deleted"},
	})
	ada.must(http.StatusCreated, "POST", "/api/spaces/eng/webhooks", map[string]any{
		"url": slackRcv.URL, "format": "slack", "events": []string{"doc.updated"},
	})
	e.startDispatcher(webhook.Options{AllowPrivate: true, Backoff: []time.Duration{10 * time.Millisecond, time.Hour}})

	doc := ada.createDoc(eng, "Plan", "hello")
	ada.must(http.StatusOK, "PATCH", "/api/docs/"+doc, map[string]any{"title": "Plan <B>"})

	first, retry := jsonRcv.next(t), jsonRcv.next(t)
	if string(first.body) != string(retry.body) || first.header.Get(webhook.HeaderDelivery) != retry.header.Get(webhook.HeaderDelivery) {
		t.Errorf("the retry differs from the first attempt")
	}
	mac := hmac.New(sha256.New, []byte(jsonHook.str("secret")))
	mac.Write(retry.body)
	if got, want := retry.header.Get(webhook.HeaderSignature), "sha256="+hex.EncodeToString(mac.Sum(nil)); got != want {
		t.Errorf("signature %q; want %q", got, want)
	}
	var p struct {
		Event    docket.Event
		Document struct{ ID, Title string }
		URL      string
		Text     string
	}
	if err := json.Unmarshal(retry.body, &p); err != nil {
		t.Fatal(err)
	}
	if p.Event.Type != docket.EventDocCreated || retry.header.Get(webhook.HeaderEvent) != "doc.created" ||
		p.Document.ID != doc || p.Document.Title != "Plan" || p.URL != e.http.URL+"/d/"+doc || p.Text != "Ada created the document" {
		t.Errorf("payload %s", retry.body)
	}

	slack := slackRcv.next(t)
	var sp struct{ Text string }
	json.Unmarshal(slack.body, &sp)
	if want := "<" + e.http.URL + "/d/" + doc + "|Plan &lt;B&gt;>: Ada changed the title"; sp.Text != want {
		t.Errorf("slack text %q; want %q", sp.Text, want)
	}

	// The delivery log: the creation went through at its second attempt.
	log := waitDeliveries(t, ada, jsonHook.str("id"), func(l []map[string]any) bool {
		return len(l) == 1 && l[0]["status"] == "ok"
	})
	type row struct {
		Attempt, Code float64
		Error         any
	}
	if got := (row{log[0]["attempt"].(float64), log[0]["statusCode"].(float64), log[0]["error"]}); got != (row{2, 200, nil}) || log[0]["deliveredAt"] == nil {
		t.Errorf("creation's delivery = %v", log[0])
	}

	// A deleted document is named in the payload, not linked.
	ada.must(http.StatusNoContent, "DELETE", "/api/docs/"+doc, nil)
	deleted := jsonRcv.next(t)
	p.URL = ""
	if err := json.Unmarshal(deleted.body, &p); err != nil {
		t.Fatal(err)
	}
	if p.Event.Type != docket.EventDocDeleted || p.Document.Title != "Plan <B>" || p.URL != "" {
		t.Errorf("deletion payload %s", deleted.body)
	}
}

// TestWebhookNeverBlocksRequests: a receiver that does not answer holds
// up no request; the change is committed and answered at once.
func TestWebhookNeverBlocksRequests(t *testing.T) {
	e := newEnv(t)
	e.hooks.AllowPrivate = true
	ada := e.signup("Ada")
	eng := ada.createSpace("eng")
	release := make(chan struct{})
	hung := make(chan struct{}, 10)
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.ReadAll(r.Body)
		hung <- struct{}{}
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(rcv.Close)
	t.Cleanup(func() { close(release) })
	ada.must(http.StatusCreated, "POST", "/api/spaces/eng/webhooks", map[string]any{"url": rcv.URL})
	e.startDispatcher(webhook.Options{AllowPrivate: true, Timeout: time.Minute})
	ada.createDoc(eng, "One", "x")
	<-hung // the receiver holds the first delivery
	start := time.Now()
	ada.createDoc(eng, "Two", "x")
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("a request took %v while a receiver hung", d)
	}
}
