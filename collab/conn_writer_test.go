package collab_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	docket "github.com/docket-dev/docket"
	"github.com/docket-dev/docket/collab"
	"github.com/docket-dev/docket/collab/ot"
	"github.com/docket-dev/docket/internal/testenv"
)

// revocableDocs is a Documents whose read permission can be taken away;
// revoking bumps the epoch, as the server does.
type revocableDocs struct {
	collab.Documents
	revoked atomic.Bool
	epoch   atomic.Uint64
}

func (d *revocableDocs) FindDocumentMeta(ctx context.Context, id string) (*docket.Document, error) {
	if d.revoked.Load() {
		return nil, docket.Errorf(docket.ENOTFOUND, "Document not found.")
	}
	return d.Documents.FindDocumentMeta(ctx, id)
}

func (d *revocableDocs) revoke() {
	d.revoked.Store(true)
	d.epoch.Add(1)
}

// waitWritersStopped waits until no writer goroutine of live runs.
func waitWritersStopped(t *testing.T, live *collab.Live) {
	t.Helper()
	if !testenv.Eventually(5*time.Second, func() bool { return collab.LiveWriters(live) == 0 }) {
		t.Fatalf("%d writers still run", collab.LiveWriters(live))
	}
}

// waitLiveIdle waits until live has no connection, no writer and no
// ticker left: a synctest bubble ends only once every goroutine has.
func waitLiveIdle(t *testing.T, live *collab.Live) {
	t.Helper()
	waitWritersStopped(t, live)
	testenv.WaitFor(t, 5*time.Second, "the connections to end and the ticker to stop", func() bool {
		return live.Connections() == 0 && !collab.LiveTicking(live)
	})
}

// nextNonPing returns the next frame that is not a ping.
func (c *fakeConn) nextNonPing(t *testing.T) map[string]any {
	t.Helper()
	for {
		if m := c.next(t); m["a"] != "ping" {
			return m
		}
	}
}

// subscribe reads the first frame, subscribes to document id and returns
// the version of the snapshot in the reply.
func (c *fakeConn) subscribe(t *testing.T, id string) int64 {
	t.Helper()
	if m := c.nextNonPing(t); m["a"] != "init" {
		t.Fatalf("first frame %v", m)
	}
	c.in <- []byte(fmt.Sprintf(`{"a":"s","c":"docs","d":%q}`, id))
	m := c.nextNonPing(t)
	data, _ := m["data"].(map[string]any)
	if m["a"] != "s" || data == nil {
		t.Fatalf("subscribe reply %v", m)
	}
	return int64(data["v"].(float64))
}

// An idle connection has no writer goroutine; an op, a presence message,
// a ping and a revocation each start one again and reach the client in
// order. It runs in a synctest bubble: the writer's idle time, the pings
// and the rechecks follow the bubble's clock, so the ops paced around the
// idle time meet the writer running, stopping and stopped as the seed
// says, and "nothing more" is checked once everything has settled.
func TestLiveWriterOnDemand(t *testing.T) { synctest.Test(t, testLiveWriterOnDemand) }

func testLiveWriterOnDemand(t *testing.T) {
	f := newMemFixture()
	id := f.newDoc("abc")
	h := f.hub(t, collab.Options{RecentOps: 20})
	docs := &revocableDocs{Documents: f.docs}
	live := collab.NewLive(h, docs, collab.LiveOptions{
		WriterIdle:      20 * time.Millisecond,
		PingInterval:    300 * time.Millisecond,
		RecheckInterval: 40 * time.Millisecond,
		Epoch:           docs.epoch.Load,
	})
	conn := newFakeConn()
	conn.pings = true
	served := make(chan error, 1)
	go func() { served <- live.Serve(f.ctx, conn) }()
	v := conn.subscribe(t, id)
	conn.in <- []byte(fmt.Sprintf(`{"a":"ps","ch":"docs.%s","seq":1}`, id))
	if m := conn.nextNonPing(t); m["a"] != "ps" {
		t.Fatalf("presence subscribe reply %v", m)
	}

	waitWritersStopped(t, live)
	if live.Connections() != 1 {
		t.Fatalf("Connections = %d", live.Connections())
	}
	// An op by someone else.
	if _, err := h.Submit(f.ctx, id, collab.Submission{Version: -1, Op: ot.InsertAt(0, "x"), Src: "other", Seq: 1, Author: "u"}); err != nil {
		t.Fatal(err)
	}
	if m := conn.nextNonPing(t); m["a"] != "op" || int64(m["v"].(float64)) != v {
		t.Fatalf("op frame %v; want v %d", m, v)
	}
	v++

	waitWritersStopped(t, live)
	// Someone else's cursor.
	if _, err := h.SubmitPresence(f.ctx, id, collab.Presence{Src: "other", ID: "p1", Version: -1, Value: json.RawMessage(`{"index":1}`), Seq: 1}); err != nil {
		t.Fatal(err)
	}
	if m := conn.nextNonPing(t); m["a"] != "p" || m["id"] != "p1" {
		t.Fatalf("presence frame %v", m)
	}

	waitWritersStopped(t, live)
	// The next ping, from the shared ticker.
	if m := conn.next(t); m["a"] != "ping" {
		t.Fatalf("frame %v; want a ping", m)
	}

	// Ops racing the writer's stop: each arrives once and in order,
	// whether the writer runs, has stopped, or is in the window between
	// deciding to stop and marking itself stopped (held there by the hook
	// until the op is committed).
	var inWindow atomic.Bool
	stopping := make(chan chan struct{})
	t.Cleanup(collab.SetWriterStopping(func() {
		if inWindow.CompareAndSwap(true, false) {
			resume := make(chan struct{})
			stopping <- resume
			<-resume
		}
	}))
	waitWritersStopped(t, live)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 60 {
		var resume chan struct{}
		switch rng.IntN(3) {
		case 1:
			waitWritersStopped(t, live)
		case 2:
			inWindow.Store(true)
			resume = <-stopping
		}
		if _, err := h.Submit(f.ctx, id, collab.Submission{Version: -1, Op: ot.InsertAt(0, "y"), Src: "other", Seq: int64(i + 2), Author: "u"}); err != nil {
			t.Fatal(err)
		}
		if resume != nil {
			close(resume)
		}
		if m := conn.nextNonPing(t); m["a"] != "op" || int64(m["v"].(float64)) != v {
			t.Fatalf("op frame %v; want v %d", m, v)
		}
		v++
	}

	waitWritersStopped(t, live)
	// Access revoked: the client is told, and gets nothing more.
	docs.revoke()
	m := conn.nextNonPing(t)
	if e, _ := m["error"].(map[string]any); m["a"] != "op" || m["d"] != id || e["code"] != "ERR_DOC_DOES_NOT_EXIST" {
		t.Fatalf("revocation frame %v", m)
	}
	if _, err := h.Submit(f.ctx, id, collab.Submission{Version: -1, Op: ot.InsertAt(0, "z"), Src: "other", Seq: 100, Author: "u"}); err != nil {
		t.Fatal(err)
	}
	waitWritersStopped(t, live)
	synctest.Wait()
	for {
		select {
		case data := <-conn.out:
			if string(data) != `{"a":"ping"}` {
				t.Fatalf("frame after revocation: %s", data)
			}
			continue
		default:
		}
		break
	}

	conn.Close()
	select {
	case <-served:
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return")
	}
	waitLiveIdle(t, live)
}

// Many connections whose writers stop after a millisecond of quiet, under
// ops committed at an uneven pace: every client sees every version once
// and in order, and its own ops acknowledged once, in turn. It runs in a
// synctest bubble: a writer pausing in its stop window holds the clock
// until every other goroutine waits, so whatever they send lands in the
// window; a lost wake-up stalls every goroutine and shows at once as a
// connection stuck for the bubble's second.
func TestLiveWriterStartStopRace(t *testing.T) { synctest.Test(t, testLiveWriterStartStopRace) }

func testLiveWriterStartStopRace(t *testing.T) {
	f := newMemFixture()
	id := f.newDoc("abc")
	h := f.hub(t, collab.Options{RecentOps: 20})
	// No rechecks after the first (a constant epoch), so that nothing but
	// the output itself starts a writer: a lost wake-up shows as a stall.
	live := collab.NewLive(h, f.docs, collab.LiveOptions{WriterIdle: time.Millisecond, Epoch: func() uint64 { return 1 }})
	// A writer that has decided to stop waits, before it marks itself
	// stopped, until the hub's next op is committed: output that arrives
	// in that window must not be lost. The ops run out with a closed
	// channel, which lets every writer through.
	var nextOp atomic.Pointer[chan struct{}]
	first := make(chan struct{})
	nextOp.Store(&first)
	committed := func(last bool) {
		c := make(chan struct{})
		if last {
			close(c)
		}
		close(*nextOp.Swap(&c))
	}
	t.Cleanup(collab.SetWriterStopping(func() { <-*nextOp.Load() }))
	const nconns, nops = 8, 150
	conns := make([]*fakeConn, nconns)
	start := make([]int64, nconns)
	for i := range conns {
		c := newFakeConn()
		conns[i] = c
		go live.Serve(f.ctx, c)
		start[i] = c.subscribe(t, id)
	}
	// Half of the ops come from connection 0 over the socket, so acks
	// interleave with the others' ops.
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer committed(true)
		rng := rand.New(rand.NewPCG(3, 4))
		for i := range nops {
			if _, err := h.Submit(f.ctx, id, collab.Submission{Version: -1, Op: ot.InsertAt(0, "h"), Src: "hub", Seq: int64(i + 1), Author: "u"}); err != nil {
				t.Error(err)
				return
			}
			committed(false)
			if rng.IntN(4) == 0 {
				// A pause on the bubble's clock, long enough for every
				// writer to go idle: the next op meets them all in
				// their stop window.
				time.Sleep(10 * time.Millisecond)
			}
		}
	}()
	total := int64(2 * nops)
	results := make(chan error, nconns)
	for i, c := range conns {
		go func() {
			want := start[i]
			seq := int64(0)
			for want < start[i]+total {
				var m map[string]any
				select {
				case data := <-c.out:
					json.Unmarshal(data, &m)
				case <-time.After(time.Second):
					results <- fmt.Errorf("conn %d: stuck at v %d", i, want)
					return
				}
				if i == 0 && m["a"] == "op" && m["op"] == nil && m["error"] == nil {
					// The ack of our own op.
					if int64(m["v"].(float64)) != want {
						results <- fmt.Errorf("conn 0: ack %v; want v %d", m, want)
						return
					}
					want++
					if seq < nops {
						seq++
						c.in <- []byte(fmt.Sprintf(`{"a":"op","c":"docs","d":%q,"v":%d,"seq":%d,"op":["s"]}`, id, want, seq))
					}
					continue
				}
				if m["a"] != "op" || int64(m["v"].(float64)) != want {
					results <- fmt.Errorf("conn %d: frame %v; want op v %d", i, m, want)
					return
				}
				want++
				if i == 0 && seq == 0 {
					seq++
					c.in <- []byte(fmt.Sprintf(`{"a":"op","c":"docs","d":%q,"v":%d,"seq":%d,"op":["s"]}`, id, want, seq))
				}
			}
			results <- nil
		}()
	}
	for range conns {
		if err := <-results; err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	synctest.Wait()
	for _, c := range conns {
		select {
		case data := <-c.out:
			t.Fatalf("extra frame %s", data)
		default:
		}
		c.Close()
	}
	waitLiveIdle(t, live)
}
