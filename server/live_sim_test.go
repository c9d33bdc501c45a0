package server_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/docket-dev/docket/collab/ot"
	"github.com/gorilla/websocket"
)

// simOp is an op in flight, as the stock client keeps it.
type simOp struct {
	op  ot.Op
	src string
	seq int64
}

// simClient replays the stock sharedb client's algorithm (doc.js) over a
// real socket: one op in flight, later edits composed into one pending op,
// remote ops transformed against both (the client's op as the left side),
// the in-flight op resent with its src and seq after a reconnect.
type simClient struct {
	name                           string
	user                           *client
	doc                            string
	rnd                            *rand.Rand
	conn                           *websocket.Conn
	frames                         chan []byte
	src                            string
	seq                            int64
	version                        int64
	text                           string
	inflight                       *simOp
	pending                        ot.Op // nil: none
	fetching                       bool  // waiting for a fetch after ERR_NO_OP
	offline                        bool
	ops, resends, dups, reconnects int
	world                          *simWorld
	inWorld                        bool // counted online in world
}

// simWorld is what the clients of a simulation know of each other: an
// offline client waits until the others have moved on.
type simWorld struct {
	mu      sync.Mutex
	changed sync.Cond
	acks    int // ops acknowledged to any client
	online  int // clients connected and making moves
}

func newSimWorld() *simWorld {
	w := &simWorld{}
	w.changed.L = &w.mu
	return w
}

// acked counts an op acknowledged to a client.
func (w *simWorld) acked() {
	w.mu.Lock()
	w.acks++
	w.mu.Unlock()
	w.changed.Broadcast()
}

// setOnline counts c as online or not.
func (c *simClient) setOnline(on bool) {
	if c.world == nil || c.inWorld == on {
		return
	}
	c.inWorld = on
	w := c.world
	w.mu.Lock()
	if on {
		w.online++
	} else {
		w.online--
	}
	w.mu.Unlock()
	w.changed.Broadcast()
}

// waitOthers waits, for an offline client, until another client's op is
// acknowledged or no client is online: the edits it makes offline meet
// ops it missed when it comes back.
func (w *simWorld) waitOthers() {
	w.mu.Lock()
	defer w.mu.Unlock()
	for n := w.acks; w.acks == n && w.online > 0; {
		w.changed.Wait()
	}
}

func (c *simClient) errorf(format string, args ...any) error {
	return fmt.Errorf("%s: "+format, append([]any{c.name}, args...)...)
}

// connect opens a socket, handshakes (as the same agent after a
// reconnect), resends the op in flight and subscribes.
func (c *simClient) connect() error {
	conn, _, err := c.user.dialLive(nil)
	if err != nil {
		return c.errorf("dial: %v", err)
	}
	c.conn = conn
	c.frames = make(chan []byte, 4096)
	go func(conn *websocket.Conn, frames chan []byte) {
		defer close(frames)
		for {
			_, data, err := conn.ReadMessage()
			if err != nil {
				return
			}
			frames <- data
		}
	}(conn, c.frames)
	init, err := c.read()
	if err != nil || init["a"] != "init" {
		return c.errorf("init: %v %v", init, err)
	}
	var id any
	if c.src != "" {
		id = c.src
	}
	if err := c.send(map[string]any{"a": "hs", "id": id, "protocol": 1, "protocolMinor": 2}); err != nil {
		return err
	}
	hs, err := c.read()
	if err != nil || hs["a"] != "hs" {
		return c.errorf("hs: %v %v", hs, err)
	}
	if c.src != "" && hs["id"] != c.src {
		return c.errorf("agent id %v not kept (had %s)", hs["id"], c.src)
	}
	c.src = hs["id"].(string)
	c.offline = false
	c.setOnline(true)
	if c.inflight != nil {
		// As Doc._onConnectionStateChanged: flush (resend), then resubscribe.
		c.resends++
		if err := c.sendOp(c.inflight, true); err != nil {
			return err
		}
	} else if c.version > 0 {
		// Edits made offline go out now.
		if err := c.flushOp(); err != nil {
			return err
		}
	}
	v := any(nil)
	if c.version > 0 {
		v = c.version
	}
	if err := c.send(map[string]any{"a": "s", "c": "docs", "d": c.doc, "v": v}); err != nil {
		return err
	}
	// The first time, wait for the snapshot: a stock client edits only a
	// loaded document.
	for c.version == 0 {
		f, err := c.read()
		if err != nil {
			return err
		}
		if err := c.handle(f); err != nil {
			return err
		}
	}
	return nil
}

func (c *simClient) send(m any) error {
	data, _ := json.Marshal(m)
	c.conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if err := c.conn.WriteMessage(websocket.TextMessage, data); err != nil {
		return c.errorf("send: %v", err)
	}
	return nil
}

func (c *simClient) sendOp(op *simOp, withSrc bool) error {
	m := map[string]any{"a": "op", "c": "docs", "d": c.doc, "v": c.version, "seq": op.seq, "x": map[string]any{}, "op": op.op}
	if withSrc {
		m["src"] = op.src
	}
	return c.send(m)
}

// read waits for the next frame.
func (c *simClient) read() (frame, error) {
	select {
	case data, ok := <-c.frames:
		if !ok {
			return nil, c.errorf("connection closed")
		}
		var f frame
		if err := json.Unmarshal(data, &f); err != nil {
			return nil, c.errorf("frame %s: %v", data, err)
		}
		return f, nil
	case <-time.After(10 * time.Second):
		return nil, c.errorf("no frame in 10s (version %d, inflight %v)", c.version, c.inflight != nil)
	}
}

// drain handles the frames that have arrived, waiting at most wait for
// the first. Offline, it waits for the other clients instead.
func (c *simClient) drain(wait time.Duration) error {
	if c.offline {
		if c.world != nil {
			c.world.waitOthers()
		}
		return nil
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	for {
		select {
		case data, ok := <-c.frames:
			if !ok {
				return c.errorf("connection closed by the server")
			}
			var f frame
			if err := json.Unmarshal(data, &f); err != nil {
				return c.errorf("frame %s: %v", data, err)
			}
			if err := c.handle(f); err != nil {
				return err
			}
		case <-timer.C:
			return nil
		}
	}
}

// flushOp sends the pending op when nothing is in flight.
func (c *simClient) flushOp() error {
	if c.inflight != nil || c.pending == nil || c.offline || c.fetching {
		return nil
	}
	c.seq++
	c.inflight = &simOp{op: c.pending, src: c.src, seq: c.seq}
	c.pending = nil
	return c.sendOp(c.inflight, false)
}

func (c *simClient) handle(f frame) error {
	switch f.str("a") {
	case "s":
		if f.errCode() != "" {
			return c.errorf("subscribe failed: %v", f)
		}
		if data, ok := f["data"].(map[string]any); ok && c.version == 0 {
			c.version, c.text = int64(data["v"].(float64)), data["data"].(string)
		}
		return nil
	case "pp":
		return nil
	case "f":
		if f.errCode() != "" {
			return c.errorf("fetch failed: %v", f)
		}
		if c.fetching {
			// ERR_NO_OP: caught up, the in-flight op is dropped.
			c.fetching = false
			c.inflight = nil
			return c.flushOp()
		}
		return nil
	case "op":
	default:
		return c.errorf("unexpected frame %v", f)
	}
	if code := f.errCode(); code != "" {
		if code == "ERR_NO_OP" && c.inflight != nil && f.num("seq") == c.inflight.seq {
			c.fetching = true
			return c.send(map[string]any{"a": "f", "c": "docs", "d": c.doc, "v": c.version})
		}
		if code == "ERR_NO_OP" && f.num("seq") <= c.seq && (c.inflight == nil || f.num("seq") != c.inflight.seq) {
			// The answer to a duplicate send of an op that was refused
			// as a no-op: nothing was stored, so nothing de-duplicates
			// it. (A stock client never sends duplicates.)
			return nil
		}
		return c.errorf("error %v", f)
	}
	v := f.num("v")
	if c.inflight != nil && f.str("src") == c.inflight.src && f.num("seq") == c.inflight.seq {
		if v != c.version {
			return c.errorf("ack at v%d while at v%d: %v", v, c.version, f)
		}
		c.version++
		c.inflight = nil
		if c.world != nil {
			c.world.acked()
		}
		return c.flushOp()
	}
	if !f.has("op") {
		return c.errorf("stray ack %v (inflight %+v)", f, c.inflight)
	}
	if v > c.version {
		return c.errorf("gap: op v%d while at v%d", v, c.version)
	}
	if v < c.version {
		return nil // a duplicate, as after a catch-up
	}
	raw, _ := json.Marshal(f["op"])
	var server ot.Op
	if err := server.UnmarshalJSON(raw); err != nil {
		return c.errorf("op %s: %v", raw, err)
	}
	var err error
	if c.inflight != nil {
		if c.inflight.op, server, err = transformX(c.inflight.op, server); err != nil {
			return c.errorf("transform: %v", err)
		}
	}
	if c.pending != nil {
		if c.pending, server, err = transformX(c.pending, server); err != nil {
			return c.errorf("transform: %v", err)
		}
	}
	if c.text, err = ot.Apply(c.text, server); err != nil {
		return c.errorf("apply remote %v to %q: %v", server, c.text, err)
	}
	c.version++
	return nil
}

// transformX is the client's transform of its own op (left) and a server
// op (right) against each other.
func transformX(client, server ot.Op) (ot.Op, ot.Op, error) {
	c2, err := ot.Transform(client, server, ot.Left)
	if err != nil {
		return nil, nil, err
	}
	s2, err := ot.Transform(server, client, ot.Right)
	return c2, s2, err
}

var simAlphabet = []string{"a", "b", "c", "é", "中", "😭", "\n", " "}

// edit makes a random local edit and queues it.
func (c *simClient) edit() error {
	n := ot.Length(c.text)
	var op ot.Op
	if n > 0 && c.rnd.IntN(3) == 0 {
		pos := c.rnd.IntN(n)
		op = ot.DeleteAt(pos, 1+c.rnd.IntN(min(3, n-pos)))
	} else {
		s := ""
		for range 1 + c.rnd.IntN(3) {
			s += simAlphabet[c.rnd.IntN(len(simAlphabet))]
		}
		op = ot.InsertAt(c.rnd.IntN(n+1), s)
	}
	text, err := ot.Apply(c.text, op)
	if err != nil {
		return c.errorf("local apply: %v", err)
	}
	c.text = text
	c.ops++
	if c.pending == nil {
		c.pending = op
	} else if c.pending, err = ot.Compose(c.pending, op); err != nil {
		return c.errorf("compose: %v", err)
	}
	return c.flushOp()
}

// run makes steps random moves.
func (c *simClient) run(steps int) error {
	defer c.setOnline(false)
	if err := c.connect(); err != nil {
		return err
	}
	for range steps {
		switch r := c.rnd.IntN(100); {
		case r < 55:
			if err := c.edit(); err != nil {
				return err
			}
		case r < 62 && c.inflight != nil && !c.offline:
			// A duplicate send of the op in flight.
			c.dups++
			if err := c.sendOp(c.inflight, true); err != nil {
				return err
			}
		case r < 66 && !c.offline:
			// The socket dies, often with an op in flight.
			c.reconnects++
			c.conn.Close()
			c.offline = true
			c.setOnline(false)
		case r < 72 && c.offline:
			if err := c.connect(); err != nil {
				return err
			}
		}
		if err := c.drain(time.Duration(c.rnd.IntN(4)) * time.Millisecond); err != nil {
			return err
		}
	}
	if c.offline {
		if err := c.connect(); err != nil {
			return err
		}
	}
	// Settle: until nothing is in flight or pending.
	deadline := time.Now().Add(15 * time.Second)
	for c.inflight != nil || c.pending != nil || c.fetching {
		if time.Now().After(deadline) {
			return c.errorf("ops still pending: v%d inflight %+v pending %v fetching %v offline %v", c.version, c.inflight, c.pending, c.fetching, c.offline)
		}
		if err := c.drain(10 * time.Millisecond); err != nil {
			return err
		}
	}
	return nil
}

// catchUp reads until the client is at version v.
func (c *simClient) catchUp(v int64) error {
	deadline := time.Now().Add(10 * time.Second)
	for c.version < v {
		if time.Now().After(deadline) {
			return c.errorf("stuck at v%d; want v%d", c.version, v)
		}
		if err := c.drain(10 * time.Millisecond); err != nil {
			return err
		}
	}
	return nil
}

// A seeded simulation of clients editing one document over real sockets,
// with random delays, disconnects with ops in flight, reconnects that
// resend them, offline edits and duplicate sends. Every client ends with
// the server's text, which is also the replay of the stored op log, and
// no (src, seq) is stored twice.
func TestLiveSimulation(t *testing.T) {
	for _, seed := range []uint64{1, 2, 3} {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) { simulate(t, seed, 12, 150) })
	}
}

func simulate(t *testing.T, seed uint64, nclients, steps int) {
	e, ada, doc := liveEnv(t, "start")
	users := []*client{ada, e.signup("Bob"), e.signup("Cy")}
	for _, u := range users[1:] {
		ada.addMember("eng", u, "editor")
	}
	clients := make([]*simClient, nclients)
	world := newSimWorld()
	for i := range clients {
		clients[i] = &simClient{
			name: fmt.Sprintf("client%d", i), user: users[i%len(users)], doc: doc,
			rnd: rand.New(rand.NewPCG(seed, uint64(i))), world: world,
		}
	}
	errs := make([]error, nclients)
	var wg sync.WaitGroup
	for i, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = c.run(steps)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	text, version := ada.docText(doc)
	for _, c := range clients {
		if err := c.catchUp(version); err != nil {
			t.Fatal(err)
		}
		if c.text != text || c.version != version {
			t.Fatalf("%s ends at v%d %q; server v%d %q", c.name, c.version, c.text, version, text)
		}
	}
	// Replay the log.
	replay := ""
	seen := map[string]bool{}
	hist := ada.history(doc)
	if int64(len(hist)) != version {
		t.Fatalf("history has %d ops; version %d", len(hist), version)
	}
	for i, rec := range hist {
		raw, _ := json.Marshal(rec["op"])
		var op ot.Op
		if err := op.UnmarshalJSON(raw); err != nil {
			t.Fatalf("op %d %s: %v", i, raw, err)
		}
		var err error
		if replay, err = ot.Apply(replay, op); err != nil {
			t.Fatalf("replay op %d: %v", i, err)
		}
		if src, _ := rec["src"].(string); src != "" {
			key := fmt.Sprint(src, "/", rec["seq"])
			if seen[key] {
				t.Fatalf("op %s stored twice", key)
			}
			seen[key] = true
		}
	}
	if replay != text {
		t.Fatalf("replay = %q; text %q", replay, text)
	}
	var ops, resends, dups, reconnects int
	for _, c := range clients {
		ops, resends, dups, reconnects = ops+c.ops, resends+c.resends, dups+c.dups, reconnects+c.reconnects
	}
	t.Logf("seed %d: %d local edits -> %d versions; %d reconnects, %d resends, %d duplicate sends; %d chars",
		seed, ops, version, reconnects, resends, dups, ot.Length(text))
}
