// Command liveload is a live co-editing load generator written in Go: N
// clients speaking the ShareDB wire protocol edit one document, each
// making M single-character inserts at random positions with a think
// time, exactly the workload of ../shared/bench/peers/load-sharedb.js.
// It exists because that stock Node client saturates its own core at
// 100 clients (every op is applied by 99 documents in one Node process),
// so its latencies are mostly the client's queueing; this client does the
// same protocol work (one op in flight per client, later ones composed,
// remote ops transformed against them and applied) at a fraction of the
// CPU, which shows the server's own latency.
//
//	go run ./internal/cmd/liveload --url ws://127.0.0.1:8080/api/live \
//	    --doc DOC_ID --token TOKEN --clients 100 --ops 50 --think 100ms --server-pid PID
//
// The document must exist; text already in it stays and the ops go in
// between. It prints one JSON line with the field names of
// load-sharedb.js: latency from submit until every other client has
// applied the op (p50/p95/p99), ack latency, server and load CPU over the
// edit phase, and whether every client converged to the same complete
// text. It talks only to the given URL; every loop is bounded by
// --timeout.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/gorilla/websocket"

	"github.com/docket-dev/docket/collab/ot"
	"github.com/docket-dev/docket/internal/loadtool"
)

// charBase is the first code point used for op characters: op k inserts
// rune(charBase+k), so every character says which op made it.
const charBase = 0x4E00

type config struct {
	url, doc, token, collection string
	clients, ops                int
	think, timeout              time.Duration
	seed                        uint64
	serverPID                   int
	create                      bool
	cpuProfile                  string
}

func main() {
	var c config
	flag.StringVar(&c.url, "url", "ws://127.0.0.1:8080/api/live", "WebSocket URL of the live endpoint")
	flag.StringVar(&c.doc, "doc", "", "document id (must exist)")
	flag.StringVar(&c.token, "token", "", "API token, sent as a bearer token on the upgrade")
	flag.StringVar(&c.collection, "collection", "docs", "ShareDB collection")
	flag.IntVar(&c.clients, "clients", 10, "clients")
	flag.IntVar(&c.ops, "ops", 200, "ops per client")
	flag.DurationVar(&c.think, "think", 0, "mean pause between a client's submits (uniform 0.5x..1.5x)")
	flag.DurationVar(&c.timeout, "timeout", 5*time.Minute, "give up after this long")
	flag.Uint64Var(&c.seed, "seed", 1, "random seed")
	flag.IntVar(&c.serverPID, "server-pid", 0, "server process id, for its CPU use")
	flag.BoolVar(&c.create, "create", false, "create the document over the socket if it does not exist (for the stock ShareDB server)")
	flag.StringVar(&c.cpuProfile, "cpuprofile", "", "write the load client's CPU profile to this file")
	flag.Parse()
	if c.cpuProfile != "" {
		f, err := os.Create(c.cpuProfile)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "liveload:", err)
			os.Exit(2)
		}
		defer pprof.StopCPUProfile()
	}
	if c.doc == "" || c.clients < 2 || c.ops < 1 || c.clients*c.ops > 20000 {
		fmt.Fprintln(os.Stderr, "liveload: need --doc, --clients >= 2, --ops >= 1 and clients*ops <= 20000")
		os.Exit(2)
	}
	res, err := run(c)
	out, _ := json.Marshal(res)
	fmt.Println(string(out))
	if err != nil {
		fmt.Fprintln(os.Stderr, "liveload:", err)
		os.Exit(1)
	}
}

// result is the printed line; the names follow load-sharedb.js. The
// lat_first fields are the latencies of every client's first op, which
// all are submitted at the same moment: a burst of N ops at version 0
// that sets the p99 (2 % of the ops at 100x50); lat_rest_p99 is the p99
// of the other ops, spread by the think time.
type result struct {
	System        string   `json:"system"`
	Clients       int      `json:"clients"`
	OpsPerClient  int      `json:"ops_per_client"`
	ThinkMS       float64  `json:"think_ms"`
	OpsTotal      int      `json:"ops_total"`
	OpsFullySeen  int      `json:"ops_fully_seen"`
	WallMS        float64  `json:"wall_ms"`
	OpsPerS       float64  `json:"ops_per_s"`
	LatP50        float64  `json:"lat_p50_ms"`
	LatP95        float64  `json:"lat_p95_ms"`
	LatP99        float64  `json:"lat_p99_ms"`
	LatMax        float64  `json:"lat_max_ms"`
	LatFirstP50   float64  `json:"lat_first_p50_ms"`
	LatFirstMax   float64  `json:"lat_first_max_ms"`
	LatRestP99    float64  `json:"lat_rest_p99_ms"`
	AckP50        float64  `json:"ack_p50_ms"`
	AckP99        float64  `json:"ack_p99_ms"`
	LoadCPUUtil   float64  `json:"load_cpu_util"`
	ServerCPUMS   float64  `json:"server_cpu_ms,omitempty"`
	ServerCPUUtil float64  `json:"server_cpu_util,omitempty"`
	ServerOps     int64    `json:"server_ops"`
	Errors        int      `json:"errors"`
	FirstError    string   `json:"first_error,omitempty"`
	Converged     bool     `json:"converged"`
	TextLen       int      `json:"text_len"`
	Failed        string   `json:"failed_in,omitempty"`
	Notes         []string `json:"notes,omitempty"`
}

// frame is a ShareDB message as far as this client reads it.
type frame struct {
	A     string          `json:"a"`
	C     string          `json:"c,omitempty"`
	D     string          `json:"d,omitempty"`
	V     *int64          `json:"v,omitempty"`
	Src   string          `json:"src,omitempty"`
	Seq   int64           `json:"seq,omitempty"`
	Op    json.RawMessage `json:"op,omitempty"`
	ID    string          `json:"id,omitempty"`
	Data  json.RawMessage `json:"data,omitempty"`
	Error *struct {
		Code    any    `json:"code"`
		Message string `json:"message"`
	} `json:"error,omitempty"`
}

// tracker records when each op was submitted and how many other clients
// have applied it.
type tracker struct {
	mu        sync.Mutex
	clients   int
	ops       int
	submitAt  []time.Time
	ackAt     []time.Time
	seenBy    []int32
	latency   []time.Duration
	fullySeen int
	lastSeen  time.Time
	bad       int
	all       chan struct{}
}

func newTracker(clients, ops int) *tracker {
	n := clients * ops
	return &tracker{clients: clients, ops: ops, submitAt: make([]time.Time, n), ackAt: make([]time.Time, n),
		seenBy: make([]int32, n), latency: make([]time.Duration, n), all: make(chan struct{})}
}

// seen counts the op characters of text that client who applied from a
// remote op.
func (t *tracker) seen(who int, text string, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, r := range text {
		id := int(r - charBase)
		if id < 0 || id >= len(t.seenBy) || id/t.ops == who {
			t.bad++
			continue
		}
		t.seenBy[id]++
		if n := int(t.seenBy[id]); n == t.clients-1 {
			t.latency[id] = now.Sub(t.submitAt[id])
			t.fullySeen++
			t.lastSeen = now
			if t.fullySeen == len(t.seenBy) {
				close(t.all)
			}
		} else if n > t.clients-1 {
			t.bad++
		}
	}
}

// client is one ShareDB connection editing the document, with the state
// of the stock client's Doc: the text and version it has, one op in
// flight and the later local ops composed into one pending op.
type client struct {
	i        int
	cfg      *config
	tr       *tracker
	conn     *websocket.Conn
	src      string
	mu       sync.Mutex
	text     []rune
	version  int64
	seq      int64
	inflight *pendingOp
	pending  *pendingOp
	acked    int
	initial  int           // code points in the document before the run
	done     chan struct{} // closed when every own op is acknowledged
	errs     *errList
}

type pendingOp struct {
	op  ot.Op
	seq int64
	ids []int // the op ids it carries, for ack latency
}

type errList struct {
	mu   sync.Mutex
	errs []string
}

func (e *errList) add(format string, args ...any) {
	e.mu.Lock()
	e.errs = append(e.errs, fmt.Sprintf(format, args...))
	e.mu.Unlock()
}

func run(cfg config) (*result, error) {
	res := &result{System: "docket-go-client", Clients: cfg.clients, OpsPerClient: cfg.ops,
		ThinkMS: float64(cfg.think) / float64(time.Millisecond), OpsTotal: cfg.clients * cfg.ops}
	deadline := time.Now().Add(cfg.timeout)
	tr := newTracker(cfg.clients, cfg.ops)
	errs := &errList{}
	clients := make([]*client, cfg.clients)
	header := http.Header{}
	if cfg.token != "" {
		header.Set("Authorization", "Bearer "+cfg.token)
	}
	dialer := websocket.Dialer{HandshakeTimeout: 10 * time.Second, ReadBufferSize: 4096, WriteBufferSize: 4096}
	res.Failed = "connect"
	for i := range clients {
		conn, resp, err := dialer.Dial(cfg.url, header)
		if err != nil {
			if resp != nil {
				err = fmt.Errorf("%w (%s)", err, resp.Status)
			}
			return res, fmt.Errorf("client %d: %w", i, err)
		}
		defer conn.Close()
		clients[i] = &client{i: i, cfg: &cfg, tr: tr, conn: conn, done: make(chan struct{}), errs: errs}
	}
	res.Failed = "subscribe"
	for _, c := range clients {
		if err := c.handshake(deadline, cfg.create && c.i == 0); err != nil {
			return res, fmt.Errorf("client %d: %w", c.i, err)
		}
	}
	for _, c := range clients {
		go c.readLoop()
	}

	res.Failed = "edit"
	cpu0 := loadtool.CPU(cfg.serverPID)
	self0 := selfCPU()
	start := time.Now()
	var wg sync.WaitGroup
	for _, c := range clients {
		wg.Add(1)
		go func() { defer wg.Done(); c.edit() }()
	}
	wg.Wait()
	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()
	select {
	case <-tr.all:
	case <-timer.C:
		return finish(res, tr, clients, errs, start, cpu0, self0, cfg), errors.New("timeout before every op was seen")
	}
	for _, c := range clients {
		select {
		case <-c.done:
		case <-timer.C:
			return finish(res, tr, clients, errs, start, cpu0, self0, cfg), errors.New("timeout before every op was acknowledged")
		}
	}
	res.Failed = ""
	finish(res, tr, clients, errs, start, cpu0, self0, cfg)
	if !res.Converged {
		return res, errors.New("clients did not converge")
	}
	return res, nil
}

func finish(res *result, tr *tracker, clients []*client, errs *errList, start time.Time, cpu0, self0 time.Duration, cfg config) *result {
	end := time.Now()
	wall := end.Sub(start)
	if cfg.serverPID > 0 {
		d := loadtool.CPU(cfg.serverPID) - cpu0
		res.ServerCPUMS = ms(d)
		res.ServerCPUUtil = round(float64(d) / float64(wall))
	}
	res.LoadCPUUtil = round(float64(selfCPU()-self0) / float64(wall))
	tr.mu.Lock()
	res.OpsFullySeen = tr.fullySeen
	if !tr.lastSeen.IsZero() {
		wall = tr.lastSeen.Sub(start)
	}
	var lat, burst, rest, acks []time.Duration
	for i, l := range tr.latency {
		if l > 0 {
			lat = append(lat, l)
			if i%cfg.ops == 0 {
				burst = append(burst, l)
			} else {
				rest = append(rest, l)
			}
		}
		if !tr.ackAt[i].IsZero() {
			acks = append(acks, tr.ackAt[i].Sub(tr.submitAt[i]))
		}
	}
	bad := tr.bad
	tr.mu.Unlock()
	slices.Sort(lat)
	slices.Sort(burst)
	slices.Sort(rest)
	slices.Sort(acks)
	res.WallMS = round(ms(wall))
	res.OpsPerS = round(float64(res.OpsFullySeen) / wall.Seconds())
	res.LatP50, res.LatP95, res.LatP99 = pct(lat, 50), pct(lat, 95), pct(lat, 99)
	if len(lat) > 0 {
		res.LatMax = round(ms(lat[len(lat)-1]))
	}
	res.LatFirstP50, res.LatRestP99 = pct(burst, 50), pct(rest, 99)
	if len(burst) > 0 {
		res.LatFirstMax = round(ms(burst[len(burst)-1]))
	}
	res.AckP50, res.AckP99 = pct(acks, 50), pct(acks, 99)
	if bad > 0 {
		res.Notes = append(res.Notes, fmt.Sprintf("%d duplicate, echoed or unknown characters", bad))
	}
	errs.mu.Lock()
	res.Errors = len(errs.errs)
	if len(errs.errs) > 0 {
		res.FirstError = errs.errs[0]
	}
	errs.mu.Unlock()
	var first string
	res.Converged = bad == 0 && res.Errors == 0
	for i, c := range clients {
		c.mu.Lock()
		text, v := string(c.text), c.version
		c.mu.Unlock()
		if i == 0 {
			first = text
			res.ServerOps = v - 1 // the version counts the creation op
			res.TextLen = len(c.text)
		}
		if text != first || v != res.ServerOps+1 {
			res.Converged = false
		}
	}
	if len(clients) > 0 && res.TextLen != res.OpsTotal+clients[0].initial {
		res.Converged = false
	}
	return res
}

// handshake sends hs and subscribes, reading until both are answered;
// with create, a document that does not exist is created empty first.
func (c *client) handshake(deadline time.Time, create bool) error {
	c.conn.SetReadDeadline(deadline)
	defer c.conn.SetReadDeadline(time.Time{})
	if err := c.conn.WriteJSON(map[string]any{"a": "hs", "id": nil, "protocol": 1, "protocolMinor": 1}); err != nil {
		return err
	}
	if err := c.conn.WriteJSON(map[string]any{"a": "s", "c": c.cfg.collection, "d": c.cfg.doc}); err != nil {
		return err
	}
	for {
		f, err := c.readFrame()
		if err != nil {
			return err
		}
		switch f.A {
		case "hs":
			c.src = f.ID
		case "s":
			var snap struct {
				V    int64   `json:"v"`
				Type *string `json:"type"`
				Data string  `json:"data"`
			}
			if err := json.Unmarshal(f.Data, &snap); err != nil {
				return fmt.Errorf("subscribe reply: %w", err)
			}
			if c.src == "" {
				return errors.New("no handshake reply before the subscription")
			}
			c.version = snap.V
			if snap.Type == nil {
				if !create {
					return fmt.Errorf("document %s does not exist", c.cfg.doc)
				}
				return c.createDoc()
			}
			// Text already there stays; the ops go in between.
			c.text = []rune(snap.Data)
			c.initial = len(c.text)
			return nil
		}
	}
}

// readFrame reads the next frame; an error frame is returned as an error
// that names its action.
func (c *client) readFrame() (*frame, error) {
	var f frame
	if err := c.conn.ReadJSON(&f); err != nil {
		return nil, err
	}
	if f.Error != nil {
		return nil, fmt.Errorf("%s: %s", f.A, f.Error.Message)
	}
	return &f, nil
}

// createDoc creates the subscribed document with empty text, as the stock
// client's doc.create does, and waits for the ack.
func (c *client) createDoc() error {
	c.seq++
	if err := c.conn.WriteJSON(map[string]any{"a": "op", "c": c.cfg.collection, "d": c.cfg.doc, "v": c.version,
		"src": c.src, "seq": c.seq, "create": map[string]any{"type": "http://sharejs.org/types/text-unicode", "data": ""}}); err != nil {
		return err
	}
	for {
		f, err := c.readFrame()
		if err != nil {
			return fmt.Errorf("create: %w", err)
		}
		if f.A == "op" && f.Src == c.src && f.Seq == c.seq && f.V != nil {
			c.version = *f.V + 1
			return nil
		}
	}
}

// edit submits the client's ops with the think time between them.
func (c *client) edit() {
	rnd := rand.New(rand.NewPCG(c.cfg.seed, uint64(c.i)))
	for k := 0; k < c.cfg.ops; k++ {
		id := c.i*c.cfg.ops + k
		c.mu.Lock()
		pos := rnd.IntN(len(c.text) + 1)
		ch := string(rune(charBase + id))
		op := ot.InsertAt(pos, ch)
		c.text = slices.Insert(c.text, pos, rune(charBase+id))
		c.tr.mu.Lock()
		c.tr.submitAt[id] = time.Now()
		c.tr.mu.Unlock()
		if c.pending == nil {
			c.pending = &pendingOp{op: op, ids: []int{id}}
		} else {
			composed, err := ot.Compose(c.pending.op, op)
			if err != nil {
				c.errs.add("compose: %v", err)
			}
			c.pending.op = composed
			c.pending.ids = append(c.pending.ids, id)
		}
		c.flush()
		c.mu.Unlock()
		if c.cfg.think > 0 {
			time.Sleep(time.Duration(float64(c.cfg.think) * (0.5 + rnd.Float64())))
		} else {
			time.Sleep(0)
		}
	}
}

// flush sends the pending op when nothing is in flight. c.mu is held.
func (c *client) flush() {
	if c.inflight != nil || c.pending == nil {
		return
	}
	c.inflight, c.pending = c.pending, nil
	c.seq++
	c.inflight.seq = c.seq
	opJSON, err := json.Marshal(c.inflight.op)
	if err != nil {
		c.errs.add("marshal: %v", err)
		return
	}
	msg := []byte(`{"a":"op","c":` + strconv.Quote(c.cfg.collection) + `,"d":` + strconv.Quote(c.cfg.doc) +
		`,"v":` + strconv.FormatInt(c.version, 10) + `,"src":` + strconv.Quote(c.src) +
		`,"seq":` + strconv.FormatInt(c.seq, 10) + `,"op":` + string(opJSON) + `}`)
	c.conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if err := c.conn.WriteMessage(websocket.TextMessage, msg); err != nil {
		c.errs.add("client %d write: %v", c.i, err)
	}
}

// readLoop handles the server's frames until the connection closes.
func (c *client) readLoop() {
	for {
		_, data, err := c.conn.ReadMessage()
		if err != nil {
			return
		}
		var f frame
		if err := json.Unmarshal(data, &f); err != nil {
			c.errs.add("client %d: bad frame %q: %v", c.i, data, err)
			continue
		}
		if f.Error != nil {
			c.errs.add("client %d: %s error: %s", c.i, f.A, f.Error.Message)
			continue
		}
		if f.A != "op" || f.V == nil {
			continue // pings, presence
		}
		c.mu.Lock()
		c.onOp(&f)
		c.mu.Unlock()
	}
}

// onOp applies a remote op or takes an ack, like the stock client's Doc.
// c.mu is held.
func (c *client) onOp(f *frame) {
	now := time.Now()
	v := *f.V
	if c.inflight != nil && f.Src == c.src && f.Seq == c.inflight.seq {
		if v != c.version {
			c.errs.add("client %d: ack at version %d, expected %d", c.i, v, c.version)
		}
		c.version = v + 1
		c.tr.mu.Lock()
		for _, id := range c.inflight.ids {
			c.tr.ackAt[id] = now
		}
		c.tr.mu.Unlock()
		c.acked += len(c.inflight.ids)
		c.inflight = nil
		c.flush()
		if c.acked == c.cfg.ops && c.pending == nil {
			close(c.done)
		}
		return
	}
	if v < c.version {
		// An op sent again (the stock ShareDB server sends the ops a
		// submission missed before its ack, and then again from its
		// stream); the stock client ignores these too.
		return
	}
	if v > c.version {
		c.errs.add("client %d: op at version %d, expected %d", c.i, v, c.version)
		return
	}
	var op ot.Op
	if err := json.Unmarshal(f.Op, &op); err != nil {
		c.errs.add("client %d: op: %v", c.i, err)
		return
	}
	var err error
	for _, p := range []*pendingOp{c.inflight, c.pending} {
		if p == nil {
			continue
		}
		// transformX: ours goes left of theirs, theirs right of ours.
		mine, err1 := ot.Transform(p.op, op, ot.Left)
		theirs, err2 := ot.Transform(op, p.op, ot.Right)
		if err = errors.Join(err1, err2); err != nil {
			c.errs.add("client %d: transform: %v", c.i, err)
			return
		}
		p.op, op = mine, theirs
	}
	inserted, err := applyRunes(&c.text, op)
	if err != nil {
		c.errs.add("client %d: apply: %v", c.i, err)
		return
	}
	c.version++
	c.tr.seen(c.i, inserted, now)
}

// applyRunes applies op to text in place and returns the inserted text.
func applyRunes(text *[]rune, op ot.Op) (string, error) {
	var ins strings.Builder
	pos := 0
	for _, comp := range op {
		switch comp.Kind() {
		case ot.KindSkip:
			pos += comp.Skip
		case ot.KindInsert:
			r := []rune(comp.Insert)
			if pos > len(*text) {
				return "", fmt.Errorf("insert at %d past the end %d", pos, len(*text))
			}
			*text = slices.Insert(*text, pos, r...)
			pos += len(r)
			ins.WriteString(comp.Insert)
		case ot.KindDelete:
			n := comp.Len()
			if pos+n > len(*text) {
				return "", fmt.Errorf("delete past the end")
			}
			*text = slices.Delete(*text, pos, pos+n)
		default:
			return "", errors.New("invalid component")
		}
		if pos > len(*text) {
			return "", fmt.Errorf("skip to %d past the end %d", pos, len(*text))
		}
	}
	return ins.String(), nil
}

func selfCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func round(x float64) float64 { return float64(int64(x*100+0.5)) / 100 }

func pct(sorted []time.Duration, p int) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := (p*len(sorted)+99)/100 - 1
	i = max(0, min(i, len(sorted)-1))
	return round(ms(sorted[i]))
}
