package collab_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	docket "github.com/docket-dev/docket"
	"github.com/docket-dev/docket/collab"
	"github.com/docket-dev/docket/collab/ot"
)

// fakeConn is an in-memory WebSocket. Once stalled, its writes block
// until their deadline, like a client that stopped reading.
type fakeConn struct {
	in      chan []byte
	out     chan []byte
	closed  chan struct{}
	once    sync.Once
	stalled atomic.Bool
	pings   bool // pings arrive in out as {"a":"ping"}
	mu      sync.Mutex
	wdl     time.Time
	codes   []int
}

func newFakeConn() *fakeConn {
	return &fakeConn{in: make(chan []byte, 16), out: make(chan []byte, 1024), closed: make(chan struct{})}
}

var errFakeClosed = errors.New("closed")

func (c *fakeConn) ReadMessage() (int, []byte, error) {
	select {
	case m := <-c.in:
		return 1, m, nil
	case <-c.closed:
		return 0, nil, errFakeClosed
	}
}

func (c *fakeConn) WriteMessage(_ int, data []byte) error {
	if c.stalled.Load() {
		c.mu.Lock()
		wait := time.Until(c.wdl)
		c.mu.Unlock()
		select {
		case <-time.After(wait):
			return errors.New("i/o timeout")
		case <-c.closed:
			return errFakeClosed
		}
	}
	select {
	case c.out <- data:
		return nil
	case <-c.closed:
		return errFakeClosed
	}
}

func (c *fakeConn) WriteControl(typ int, data []byte, _ time.Time) error {
	if typ == 9 && c.pings {
		select {
		case c.out <- []byte(`{"a":"ping"}`):
		case <-c.closed:
			return errFakeClosed
		}
	}
	if typ == 8 && len(data) >= 2 {
		c.mu.Lock()
		c.codes = append(c.codes, int(data[0])<<8|int(data[1]))
		c.mu.Unlock()
	}
	return nil
}

func (c *fakeConn) SetReadLimit(int64)                {}
func (c *fakeConn) SetReadDeadline(time.Time) error   { return nil }
func (c *fakeConn) SetPongHandler(func(string) error) {}
func (c *fakeConn) Close() error                      { c.once.Do(func() { close(c.closed) }); return nil }
func (c *fakeConn) SetWriteDeadline(t time.Time) error {
	c.mu.Lock()
	c.wdl = t
	c.mu.Unlock()
	return nil
}

func (c *fakeConn) next(t *testing.T) map[string]any {
	t.Helper()
	select {
	case data := <-c.out:
		var m map[string]any
		if err := json.Unmarshal(data, &m); err != nil {
			t.Fatalf("frame %s: %v", data, err)
		}
		return m
	case <-time.After(5 * time.Second):
		t.Fatal("no frame")
	}
	return nil
}

func (c *fakeConn) closeCodes() []int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]int(nil), c.codes...)
}

// A client that stops reading is dropped without slowing the document:
// ops keep committing at their usual pace, and the stalled connection is
// closed within about its write timeout.
func TestLiveSlowReaderDropped(t *testing.T) {
	f := newFixture(t)
	h, id := f.hubWithDoc(t, "abc")
	live := collab.NewLive(h, f.docs, collab.LiveOptions{WriteTimeout: 300 * time.Millisecond, EventQueue: 32, SendQueue: 32})
	conn := newFakeConn()
	served := make(chan error, 1)
	go func() { served <- live.Serve(f.ctx, conn) }()
	conn.subscribe(t, id)
	conn.stalled.Store(true)

	var worst time.Duration
	for i := range 300 {
		start := time.Now()
		if _, err := h.Submit(f.ctx, id, collab.Submission{Version: -1, Op: ot.InsertAt(0, "x"), Src: "writer", Seq: int64(i + 1), Author: "u"}); err != nil {
			t.Fatal(err)
		}
		worst = max(worst, time.Since(start))
	}
	if worst > 500*time.Millisecond {
		t.Fatalf("an op took %v while a reader was stalled", worst)
	}
	select {
	case err := <-served:
		if err != nil {
			t.Fatalf("Serve = %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the stalled connection was not closed")
	}
	if live.Connections() != 0 {
		t.Fatalf("Connections = %d", live.Connections())
	}
	t.Logf("worst op %v; close codes %v", worst, conn.closeCodes())
}

// Serve refuses a context without a user, and closes the socket.
func TestLiveServeNeedsUser(t *testing.T) {
	f := newFixture(t)
	live := collab.NewLive(f.hub(t), f.docs, collab.LiveOptions{})
	conn := newFakeConn()
	err := live.Serve(context.Background(), conn)
	if docket.ErrorCode(err) != docket.EUNAUTHORIZED {
		t.Fatalf("Serve = %v", err)
	}
	select {
	case <-conn.closed:
	default:
		t.Fatal("conn not closed")
	}
}

// Shutdown closes connections with 1001 and refuses new ones.
func TestLiveShutdown(t *testing.T) {
	f := newFixture(t)
	id := f.newDoc(t, "abc")
	live := collab.NewLive(f.hub(t), f.docs, collab.LiveOptions{})
	conn := newFakeConn()
	served := make(chan error, 1)
	go func() { served <- live.Serve(f.ctx, conn) }()
	conn.subscribe(t, id)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := live.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	<-served
	if codes := conn.closeCodes(); len(codes) == 0 || codes[0] != collab.CloseGoingAway {
		t.Fatalf("close codes %v; want 1001", codes)
	}
	late := newFakeConn()
	if err := live.Serve(f.ctx, late); docket.ErrorCode(err) != docket.EUNAVAILABLE {
		t.Fatalf("Serve after Shutdown = %v", err)
	}
	if codes := late.closeCodes(); len(codes) != 1 || codes[0] != collab.CloseGoingAway {
		t.Fatalf("late close codes %v", codes)
	}
}

// Messages from a client are answered in order, and a ping is a pong.
func TestLiveFramesOverFakeConn(t *testing.T) {
	f := newFixture(t)
	id := f.newDoc(t, "héllo 😭")
	live := collab.NewLive(f.hub(t), f.docs, collab.LiveOptions{})
	conn := newFakeConn()
	go live.Serve(f.ctx, conn)
	init := conn.next(t)
	src, _ := init["id"].(string)
	if !strings.HasPrefix(src, docket.UserIDFromContext(f.ctx)+".") {
		t.Fatalf("agent id %q", src)
	}
	conn.in <- []byte(`{"a":"pp"}`)
	if m := conn.next(t); m["a"] != "pp" {
		t.Fatalf("pp = %v", m)
	}
	conn.in <- []byte(fmt.Sprintf(`{"a":"f","c":"docs","d":%q,"v":0}`, id))
	// Version 0 is the creation, sent as a create.
	m := conn.next(t)
	create, _ := m["create"].(map[string]any)
	if m["v"] != 0.0 || create["data"] != "héllo 😭" || create["type"] != ot.TypeURI {
		t.Fatalf("creation op = %v", m)
	}
	if m := conn.next(t); m["a"] != "f" || m["data"] != nil {
		t.Fatalf("fetch reply = %v", m)
	}
	conn.in <- []byte(fmt.Sprintf(`{"a":"op","c":"docs","d":%q,"v":1,"seq":1,"op":[7,"!"]}`, id))
	if m := conn.next(t); m["v"] != 1.0 || m["seq"] != 1.0 || m["src"] != src || m["op"] != nil {
		t.Fatalf("ack = %v", m)
	}
	conn.Close()
}
