package webhook

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	docket "github.com/docket-dev/docket"
	"github.com/docket-dev/docket/internal/testenv"
	"github.com/google/go-cmp/cmp"
)

// fakeQueue is an in-memory docket.WebhookQueue that reports every
// finished attempt on a channel.
type fakeQueue struct {
	mu       sync.Mutex
	tasks    []*docket.WebhookTask
	leased   map[int64]time.Time
	finished chan docket.WebhookDelivery
}

func newFakeQueue(tasks ...*docket.WebhookTask) *fakeQueue {
	return &fakeQueue{tasks: tasks, leased: map[int64]time.Time{}, finished: make(chan docket.WebhookDelivery, 100)}
}

func (q *fakeQueue) add(t *docket.WebhookTask) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.tasks = append(q.tasks, t)
}

func (q *fakeQueue) DueDeliveries(_ context.Context, now time.Time, limit int, lease time.Duration) ([]*docket.WebhookTask, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	var out []*docket.WebhookTask
	for _, t := range q.tasks {
		if len(out) == limit {
			break
		}
		d := t.Delivery
		if d.Status != docket.DeliveryPending || d.NextAt.After(now) || q.leased[d.ID].After(now) {
			continue
		}
		d.Attempt++
		q.leased[d.ID] = now.Add(lease)
		c := *t
		dc := *d
		c.Delivery = &dc
		out = append(out, &c)
	}
	return out, nil
}

func (q *fakeQueue) FinishDelivery(_ context.Context, d *docket.WebhookDelivery) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, t := range q.tasks {
		if t.Delivery.ID == d.ID {
			if t.Delivery.Attempt != d.Attempt {
				return docket.Errorf(docket.ECONFLICT, "stale")
			}
			*t.Delivery = *d
			delete(q.leased, d.ID)
			q.finished <- *d
			return nil
		}
	}
	return docket.Errorf(docket.ENOTFOUND, "no such delivery")
}

func (q *fakeQueue) NextDue(context.Context) (time.Time, bool, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	var at time.Time
	for _, t := range q.tasks {
		if t.Delivery.Status != docket.DeliveryPending {
			continue
		}
		due := t.Delivery.NextAt
		if l, ok := q.leased[t.Delivery.ID]; ok {
			due = l
		}
		if at.IsZero() || due.Before(at) {
			at = due
		}
	}
	return at, !at.IsZero(), nil
}

// next waits for the next finished attempt.
func (q *fakeQueue) next(t *testing.T) docket.WebhookDelivery {
	t.Helper()
	return testenv.Receive(t, q.finished, 10*time.Second, "a delivery to finish")
}

// receiver is an HTTP server on 127.0.0.1 that records what it gets and
// answers with the statuses given, the last one repeated.
type receiver struct {
	*httptest.Server
	mu       sync.Mutex
	statuses []int
	got      []*http.Request
	bodies   [][]byte
}

func newReceiver(t *testing.T, statuses ...int) *receiver {
	r := &receiver{statuses: statuses}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.got = append(r.got, req)
		r.bodies = append(r.bodies, body)
		status := r.statuses[min(len(r.got), len(r.statuses))-1]
		r.mu.Unlock()
		w.WriteHeader(status)
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) requests() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.got)
}

func task(id int64, hookURL string, format docket.WebhookFormat, ev *docket.Event) *docket.WebhookTask {
	return &docket.WebhookTask{
		Delivery:  &docket.WebhookDelivery{ID: id, HookID: "hook1", EventSeq: ev.Seq, Status: docket.DeliveryPending},
		Hook:      &docket.Webhook{ID: "hook1", URL: hookURL, Format: format, Active: true},
		Secret:    "whsec_test",
		Event:     ev,
		ActorName: "Ada",
	}
}

var created = &docket.Event{Seq: 42, Type: docket.EventDocCreated, ActorID: "ada1", SpaceID: "sp1", DocID: "doc1", Title: "Plan <v2>",
	Time: time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)}

// run starts a dispatcher and stops it when the test ends.
func run(t *testing.T, q docket.WebhookQueue, opts Options) *Dispatcher {
	t.Helper()
	if opts.Poll == 0 {
		opts.Poll = 20 * time.Millisecond
	}
	d := New(q, opts)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		d.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return d
}

func TestDeliverJSONSigned(t *testing.T) {
	rcv := newReceiver(t, http.StatusOK)
	q := newFakeQueue(task(7, rcv.URL+"/hook?x=1", docket.WebhookJSON, created))
	run(t, q, Options{BaseURL: "https://docs.example.com/", AllowPrivate: true})
	d := q.next(t)
	if d.Status != docket.DeliveryOK || d.StatusCode != 200 || d.Attempt != 1 || d.Error != "" || d.DeliveredAt.IsZero() {
		t.Fatalf("delivery = %+v; want ok at the first attempt", d)
	}
	req, body := rcv.got[0], rcv.bodies[0]
	for k, want := range map[string]string{
		"Content-Type":   "application/json",
		HeaderEvent:      "doc.created",
		HeaderDelivery:   "7",
		"User-Agent":     "Docket-Webhook/1",
		"Content-Length": "",
	} {
		if got := req.Header.Get(k); want != "" && got != want {
			t.Errorf("header %s = %q; want %q", k, got, want)
		}
	}
	if req.Method != http.MethodPost || req.URL.RequestURI() != "/hook?x=1" {
		t.Errorf("request %s %s", req.Method, req.URL.RequestURI())
	}
	// The receiver's check: HMAC-SHA256 of the raw body with the secret.
	mac := hmac.New(sha256.New, []byte("whsec_test"))
	mac.Write(body)
	want := "sha256=" + hex.EncodeToString(mac.Sum(nil))
	if got := req.Header.Get(HeaderSignature); !hmac.Equal([]byte(got), []byte(want)) {
		t.Errorf("signature %q; want %q", got, want)
	}
	var p struct {
		Event    docket.Event      `json:"event"`
		Document map[string]string `json:"document"`
		URL      string            `json:"url"`
		Actor    map[string]string `json:"actor"`
		Text     string            `json:"text"`
	}
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatalf("payload %s: %v", body, err)
	}
	if p.Event.Seq != 42 || p.Event.Type != docket.EventDocCreated || !p.Event.Time.Equal(created.Time) {
		t.Errorf("event = %+v", p.Event)
	}
	if diff := cmp.Diff(map[string]string{"id": "doc1", "title": "Plan <v2>", "spaceId": "sp1"}, p.Document); diff != "" {
		t.Errorf("document (-want +got):\n%s", diff)
	}
	if p.URL != "https://docs.example.com/d/doc1" || p.Text != "Ada created the document" || p.Actor["name"] != "Ada" {
		t.Errorf("url %q, text %q, actor %v", p.URL, p.Text, p.Actor)
	}
}

func TestDeliverSlack(t *testing.T) {
	rcv := newReceiver(t, http.StatusOK)
	ev := &docket.Event{Seq: 43, Type: docket.EventDocTransitioned, ActorID: "ada1", SpaceID: "sp1", DocID: "doc1", Title: "Plan <v2> | B",
		Data: json.RawMessage(`{"from":"review","to":"last-call"}`)}
	q := newFakeQueue(task(8, rcv.URL, docket.WebhookSlack, ev))
	run(t, q, Options{BaseURL: "https://docs.example.com", AllowPrivate: true})
	if d := q.next(t); d.Status != docket.DeliveryOK {
		t.Fatalf("delivery = %+v", d)
	}
	var p slackPayload
	if err := json.Unmarshal(rcv.bodies[0], &p); err != nil {
		t.Fatal(err)
	}
	want := slackPayload{Text: "<https://docs.example.com/d/doc1|Plan &lt;v2&gt; ¦ B>: Ada started the last call",
		Blocks: []slackBlock{{Type: "section", Text: &slackText{Type: "mrkdwn", Text: "Ada started the last call on <https://docs.example.com/d/doc1|Plan &lt;v2&gt; ¦ B>"}}}}
	if diff := cmp.Diff(want, p); diff != "" {
		t.Errorf("slack payload (-want +got):\n%s", diff)
	}
	if rcv.got[0].Header.Get(HeaderSignature) != Sign("whsec_test", rcv.bodies[0]) {
		t.Error("slack payload not signed")
	}
}

func TestRetryWithBackoff(t *testing.T) {
	rcv := newReceiver(t, 500, 503, 200)
	q := newFakeQueue(task(9, rcv.URL, docket.WebhookJSON, created))
	backoff := []time.Duration{5 * time.Millisecond, 10 * time.Millisecond, time.Hour}
	run(t, q, Options{AllowPrivate: true, Backoff: backoff, Poll: time.Hour})
	type attempt struct {
		Attempt int
		Status  docket.DeliveryStatus
		Code    int
		Wait    time.Duration
		Error   string
	}
	var got []attempt
	for range 3 {
		d := q.next(t)
		a := attempt{d.Attempt, d.Status, d.StatusCode, 0, d.Error}
		if !d.NextAt.IsZero() {
			a.Wait = d.NextAt.Sub(d.DeliveredAt)
		}
		got = append(got, a)
	}
	want := []attempt{
		{1, docket.DeliveryPending, 500, 5 * time.Millisecond, "the receiver answered 500 Internal Server Error"},
		{2, docket.DeliveryPending, 503, 10 * time.Millisecond, "the receiver answered 503 Service Unavailable"},
		{3, docket.DeliveryOK, 200, 0, ""},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("attempts (-want +got):\n%s", diff)
	}
}

func TestGiveUp(t *testing.T) {
	rcv := newReceiver(t, 500)
	q := newFakeQueue(task(10, rcv.URL, docket.WebhookJSON, created))
	d := run(t, q, Options{AllowPrivate: true, Backoff: []time.Duration{time.Millisecond, time.Millisecond}})
	if got := d.MaxAttempts(); got != 3 {
		t.Fatalf("MaxAttempts = %d; want 3", got)
	}
	var statuses []docket.DeliveryStatus
	for range 3 {
		statuses = append(statuses, q.next(t).Status)
	}
	want := []docket.DeliveryStatus{docket.DeliveryPending, docket.DeliveryPending, docket.DeliveryFailed}
	if diff := cmp.Diff(want, statuses); diff != "" {
		t.Errorf("statuses (-want +got):\n%s", diff)
	}
	if n := rcv.requests(); n != 3 {
		t.Errorf("receiver got %d requests; want 3", n)
	}
	if due, ok, _ := q.NextDue(context.Background()); ok {
		t.Errorf("a failed delivery is still due at %v", due)
	}
	if got := DefaultBackoff; len(got) != 5 || New(q, Options{}).MaxAttempts() != 6 {
		t.Errorf("default: %v backoff, %d attempts; want 5 retries, 6 attempts", got, New(q, Options{}).MaxAttempts())
	}
}

func TestRefusesPrivateReceiver(t *testing.T) {
	rcv := newReceiver(t, http.StatusOK)
	q := newFakeQueue(task(11, rcv.URL, docket.WebhookJSON, created))
	run(t, q, Options{})
	d := q.next(t)
	if d.Status != docket.DeliveryFailed || d.Attempt != 1 || !strings.Contains(d.Error, "refused") {
		t.Errorf("delivery = %+v; want failed at once, refused", d)
	}
	if n := rcv.requests(); n != 0 {
		t.Errorf("receiver on 127.0.0.1 got %d requests", n)
	}
}

// TestClientChecksDialedAddress checks the address the client connects to,
// after name resolution, not the URL's host.
func TestClientChecksDialedAddress(t *testing.T) {
	rcv := newReceiver(t, http.StatusOK)
	port := rcv.Listener.Addr().(interface{ String() string }).String()
	_, port, _ = strings.Cut(port, ":")
	for _, host := range []string{"localhost", "127.0.0.1", "[::ffff:127.0.0.1]", "0.0.0.0", "[::1]"} {
		resp, err := NewClient(2*time.Second, false).Get("http://" + host + ":" + port + "/")
		if err == nil {
			resp.Body.Close()
			t.Errorf("GET via %s reached the receiver", host)
		} else if !errors.Is(err, ErrNotPublic) {
			t.Errorf("GET via %s: %v; want ErrNotPublic", host, err)
		}
	}
	if n := rcv.requests(); n != 0 {
		t.Errorf("receiver got %d requests", n)
	}
	resp, err := NewClient(2*time.Second, true).Get(rcv.URL)
	if err != nil {
		t.Fatalf("with private addresses allowed: %v", err)
	}
	resp.Body.Close()
}

func TestNoRedirects(t *testing.T) {
	target := newReceiver(t, http.StatusOK)
	redirect := httptest.NewServer(http.RedirectHandler(target.URL, http.StatusFound))
	t.Cleanup(redirect.Close)
	q := newFakeQueue(task(12, redirect.URL, docket.WebhookJSON, created))
	run(t, q, Options{AllowPrivate: true, Backoff: []time.Duration{time.Hour}})
	d := q.next(t)
	if d.Status != docket.DeliveryPending || d.StatusCode != http.StatusFound {
		t.Errorf("delivery = %+v; want a failed attempt with 302", d)
	}
	if n := target.requests(); n != 0 {
		t.Errorf("redirect followed: target got %d requests", n)
	}
}

func TestTimeout(t *testing.T) {
	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.ReadAll(r.Body)
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(slow.Close)
	t.Cleanup(func() { close(release) })
	q := newFakeQueue(task(13, slow.URL, docket.WebhookJSON, created))
	run(t, q, Options{AllowPrivate: true, Timeout: 50 * time.Millisecond, Backoff: []time.Duration{time.Hour}})
	d := q.next(t)
	if d.Status != docket.DeliveryPending || d.StatusCode != 0 || d.Error == "" {
		t.Errorf("delivery = %+v; want a timed-out attempt to retry", d)
	}
}

func TestWakeAndConcurrency(t *testing.T) {
	var inflight, most atomic.Int32
	arrived := make(chan struct{}, 10)
	release := make(chan struct{})
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := inflight.Add(1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		arrived <- struct{}{}
		// A receiver that takes its time: until the test lets it answer.
		select {
		case <-release:
		case <-r.Context().Done():
		}
		inflight.Add(-1)
	}))
	t.Cleanup(rcv.Close)
	q := newFakeQueue()
	// Polls once an hour: only Wake gets the queue looked at.
	d := run(t, q, Options{AllowPrivate: true, Concurrency: 2, Poll: time.Hour})
	for i := range 10 {
		q.add(task(int64(100+i), rcv.URL, docket.WebhookJSON, created))
	}
	d.Wake()
	// Two deliveries are held at the receiver at every moment: each is let
	// go once another has arrived, so a third in flight would be seen.
	for i := range 10 {
		select {
		case <-arrived:
		case <-time.After(10 * time.Second):
			t.Fatalf("%d deliveries arrived; want 10", i)
		}
		if i > 0 {
			release <- struct{}{}
		}
	}
	release <- struct{}{}
	for range 10 {
		if got := q.next(t); got.Status != docket.DeliveryOK {
			t.Errorf("delivery = %+v", got)
		}
	}
	if m := most.Load(); m > 2 || m < 1 {
		t.Errorf("%d deliveries in flight at once; want at most 2", m)
	}
}

func TestShutdownCancelsInFlight(t *testing.T) {
	started := make(chan struct{}, 1)
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.ReadAll(r.Body) // the server notices a closed connection only after the body
		started <- struct{}{}
		<-r.Context().Done()
	}))
	t.Cleanup(rcv.Close)
	q := newFakeQueue(task(14, rcv.URL, docket.WebhookJSON, created))
	d := New(q, Options{AllowPrivate: true, Timeout: time.Minute})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		d.Run(ctx)
	}()
	<-started
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	select {
	case d := <-q.finished:
		t.Errorf("a cancelled attempt was recorded: %+v", d)
	default:
	}
}

func TestDescribe(t *testing.T) {
	for _, tc := range []struct {
		ev    docket.Event
		actor string
		want  string
	}{
		{docket.Event{Type: docket.EventDocUpdated, ActorID: "a", Data: json.RawMessage(`{"title":"x","kind":"rfc"}`)}, "Ada", "Ada changed the kind and title"},
		{docket.Event{Type: docket.EventDocEdited, ActorID: "a", Data: json.RawMessage(`{"version":7}`)}, "Ada", "Ada edited the text (version 7)"},
		{docket.Event{Type: docket.EventReviewCreated, ActorID: "a", Data: json.RawMessage(`{"verdict":"concern"}`)}, "Bo", "Bo raised a concern"},
		{docket.Event{Type: docket.EventReviewCreated, ActorID: "a", Data: json.RawMessage(`{"verdict":"approve"}`)}, "Bo", "Bo approved it"},
		{docket.Event{Type: docket.EventCommentCreated, ActorID: "a"}, "", "Someone commented"},
		{docket.Event{Type: docket.EventSessionEnded, Data: json.RawMessage(`{"startVersion":3,"endVersion":9,"participants":["a","b"]}`)}, "", "A live session ended (versions 3 to 9, 2 people)"},
		{docket.Event{Type: "x.future"}, "", "Docket: x.future"},
		{docket.Event{Type: docket.EventDocTransitioned, ActorID: "a", Data: json.RawMessage(`{"from":"review","to":"draft"}`)}, "Ada", "Ada moved it from review to draft"},
		{docket.Event{Type: docket.EventDocTransitioned, ActorID: "a", Data: json.RawMessage(`{"from":"last-call","to":"withdrawn"}`)}, "Ada", "Ada withdrew it"},
		{docket.Event{Type: docket.EventDocOverdue, Data: json.RawMessage(`{"status":"review"}`)}, "", "The review is overdue"},
		{docket.Event{Type: docket.EventDocDueSoon, Data: json.RawMessage(`{"status":"last-call"}`)}, "", "The last call ends within a day"},
		{docket.Event{Type: docket.EventActionOverdue, Data: json.RawMessage(`{"userId":"b"}`)}, "", "An action item is overdue"},
	} {
		if got := Describe(&tc.ev, tc.actor); got != tc.want {
			t.Errorf("Describe(%s) = %q; want %q", tc.ev.Type, got, tc.want)
		}
	}
	// A deleted document is named, not linked.
	p, _ := Payload(task(1, "https://x", docket.WebhookSlack, &docket.Event{Type: docket.EventDocDeleted, ActorID: "a", DocID: "d", Title: "Old"}), "https://b")
	if want := `{"text":"*Old*: Ada deleted the document","blocks":[{"type":"section","text":{"type":"mrkdwn","text":"Ada deleted *Old*"}}]}`; string(p) != want {
		t.Errorf("payload %s; want %s", p, want)
	}
	// Thread events link to the thread.
	p, _ = Payload(task(1, "https://x", docket.WebhookJSON, &docket.Event{Type: docket.EventThreadCreated, DocID: "d", ThreadID: "t"}), "https://b")
	var j struct{ URL string }
	json.Unmarshal(p, &j)
	if j.URL != "https://b/d/d#t-t" {
		t.Errorf("thread url %q", j.URL)
	}
}
