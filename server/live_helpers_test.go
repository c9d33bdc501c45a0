package server_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// frame is a decoded server message.
type frame map[string]any

func (f frame) str(k string) string { s, _ := f[k].(string); return s }

func (f frame) num(k string) int64 { n, _ := f[k].(float64); return int64(n) }

func (f frame) has(k string) bool { _, ok := f[k]; return ok }

func (f frame) errCode() string {
	if e, ok := f["error"].(map[string]any); ok {
		s, _ := e["code"].(string)
		return s
	}
	return ""
}

func (f frame) String() string { b, _ := json.Marshal(map[string]any(f)); return string(b) }

// wsClientBuffer is how many frames a wsClient holds unread.
var wsClientBuffer = 1 << 14

// wsClient is a raw protocol client: it reads every frame into a queue.
type wsClient struct {
	t      testing.TB
	conn   *websocket.Conn
	frames chan []byte
	mu     sync.Mutex
	err    error // why reading stopped
	done   chan struct{}
	src    string // the agent id from the handshake
	wmu    sync.Mutex
}

// liveURL is the WebSocket URL of the env's server.
func (e *env) liveURL() string {
	return "ws" + strings.TrimPrefix(e.http.URL, "http") + "/api/live"
}

// dialLive opens a socket as c (its cookies and token) with extra headers.
func (c *client) dialLive(header http.Header) (*websocket.Conn, *http.Response, error) {
	d := websocket.Dialer{Jar: c.hc.Jar, HandshakeTimeout: 5 * time.Second}
	h := http.Header{}
	for k, v := range header {
		h[k] = v
	}
	if c.token != "" {
		h.Set("Authorization", "Bearer "+c.token)
	}
	return d.Dial(c.e.liveURL(), h)
}

// live opens a socket and reads the init frame.
func (c *client) live() *wsClient {
	c.e.t.Helper()
	conn, resp, err := c.dialLive(nil)
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		c.e.t.Fatalf("dial live: %v (status %d)", err, status)
	}
	w := newWSClient(c.e.t, conn)
	init := w.next()
	if init.str("a") != "init" {
		c.e.t.Fatalf("first frame = %v; want init", init)
	}
	w.src = init.str("id")
	return w
}

func newWSClient(t testing.TB, conn *websocket.Conn) *wsClient {
	w := &wsClient{t: t, conn: conn, frames: make(chan []byte, wsClientBuffer), done: make(chan struct{})}
	go func() {
		defer close(w.done)
		defer close(w.frames)
		for {
			_, data, err := conn.ReadMessage()
			if err != nil {
				w.mu.Lock()
				w.err = err
				w.mu.Unlock()
				return
			}
			w.frames <- data
		}
	}()
	t.Cleanup(func() { conn.Close() })
	return w
}

// handshake sends hs with id (nil for a new agent) and returns the reply.
func (w *wsClient) handshake(id any) frame {
	w.t.Helper()
	w.send(map[string]any{"a": "hs", "id": id, "protocol": 1, "protocolMinor": 2})
	f := w.next()
	if f.str("a") != "hs" {
		w.t.Fatalf("hs reply = %v", f)
	}
	w.src = f.str("id")
	return f
}

// send writes a message: a string is sent raw, anything else as JSON.
func (w *wsClient) send(v any) {
	w.t.Helper()
	var data []byte
	switch m := v.(type) {
	case string:
		data = []byte(m)
	case []byte:
		data = m
	default:
		var err error
		if data, err = json.Marshal(v); err != nil {
			w.t.Fatal(err)
		}
	}
	w.wmu.Lock()
	defer w.wmu.Unlock()
	w.conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if err := w.conn.WriteMessage(websocket.TextMessage, data); err != nil {
		w.t.Fatalf("send %s: %v", data, err)
	}
}

// nextRaw returns the next frame as sent.
func (w *wsClient) nextRaw() []byte {
	w.t.Helper()
	select {
	case data, ok := <-w.frames:
		if !ok {
			w.t.Fatalf("connection ended: %v", w.readErr())
		}
		return data
	case <-time.After(10 * time.Second):
		w.t.Fatal("no frame within 10s")
	}
	return nil
}

func (w *wsClient) next() frame {
	w.t.Helper()
	data := w.nextRaw()
	var f frame
	if err := json.Unmarshal(data, &f); err != nil {
		w.t.Fatalf("frame %s: %v", data, err)
	}
	return f
}

// expectRaw fails unless the next frame is exactly want.
func (w *wsClient) expectRaw(want string) {
	w.t.Helper()
	if got := string(w.nextRaw()); got != want {
		w.t.Fatalf("frame = %s\n want %s", got, want)
	}
}

// quiet fails if a frame arrives within d.
func (w *wsClient) quiet(d time.Duration) {
	w.t.Helper()
	select {
	case data, ok := <-w.frames:
		if ok {
			w.t.Fatalf("unexpected frame %s", data)
		}
	case <-time.After(d):
	}
}

// ping checks the connection still answers.
func (w *wsClient) ping() {
	w.t.Helper()
	w.send(`{"a":"pp"}`)
	w.expectRaw(`{"a":"pp"}`)
}

func (w *wsClient) readErr() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

// closed waits for the server to close the connection and returns the
// close code (0 when it ended without a close frame).
func (w *wsClient) closed(d time.Duration) int {
	w.t.Helper()
	deadline := time.After(d)
	for {
		select {
		case _, ok := <-w.frames:
			if ok {
				continue
			}
			var ce *websocket.CloseError
			if errors.As(w.readErr(), &ce) {
				return ce.Code
			}
			return 0
		case <-deadline:
			w.t.Fatalf("connection still open after %v", d)
			return 0
		}
	}
}

// subscribe subscribes to a document and returns the snapshot.
func (w *wsClient) subscribe(doc string) (int64, string) {
	w.t.Helper()
	w.send(map[string]any{"a": "s", "c": "docs", "d": doc, "v": nil})
	f := w.next()
	data, _ := f["data"].(map[string]any)
	if f.str("a") != "s" || data == nil {
		w.t.Fatalf("subscribe reply = %v", f)
	}
	text, _ := data["data"].(string)
	return int64(data["v"].(float64)), text
}

// op sends an op message.
func (w *wsClient) op(doc string, v int64, seq int64, op any) {
	w.t.Helper()
	w.send(map[string]any{"a": "op", "c": "docs", "d": doc, "v": v, "seq": seq, "x": map[string]any{}, "op": op})
}

// ack reads the next frame and fails unless it is the ack of seq at v.
func (w *wsClient) ack(doc string, seq, v int64) {
	w.t.Helper()
	w.expectRaw(fmt.Sprintf(`{"a":"op","c":"docs","d":%q,"src":%q,"seq":%d,"v":%d}`, doc, w.src, seq, v))
}

// docText returns a document's text and version over the REST API.
func (c *client) docText(id string) (string, int64) {
	c.e.t.Helper()
	r := c.must(200, "GET", "/api/docs/"+id, nil)
	return r.str("body"), r.num("version")
}

// token creates an API token for the client and uses it from now on.
func (c *client) useToken() string {
	c.e.t.Helper()
	c.token = c.must(201, "POST", "/api/tokens", map[string]string{"name": "live"}).str("token")
	return c.token
}

// history returns every op of a document's log.
func (c *client) history(id string) []map[string]any {
	c.e.t.Helper()
	var out []map[string]any
	from := int64(0)
	for {
		r := c.must(200, "GET", fmt.Sprintf("/api/docs/%s/history?from=%d&limit=1000", id, from), nil)
		ops, _ := r.body["ops"].([]any)
		for _, o := range ops {
			out = append(out, o.(map[string]any))
		}
		next, ok := r.body["next"].(float64)
		if !ok {
			return out
		}
		from = int64(next)
	}
}

// typeAB sends two ops on doc at versions 1 and 2 ("A", then "B" before
// it) and waits for their acks.
func (w *wsClient) typeAB(doc string) {
	w.t.Helper()
	w.op(doc, 1, 1, []any{"A"})
	w.ack(doc, 1, 1)
	w.op(doc, 2, 2, []any{"B"})
	w.ack(doc, 2, 2)
}

// liveOn opens a live socket of c, handshaken and subscribed to doc.
func (c *client) liveOn(doc string) *wsClient {
	c.e.t.Helper()
	w := c.live()
	w.handshake(nil)
	w.subscribe(doc)
	return w
}
