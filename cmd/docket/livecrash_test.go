package main

import (
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/docket-dev/docket/internal/testenv"
	"github.com/gorilla/websocket"
)

// liveAck is an op the server acknowledged over /api/live.
type liveAck struct {
	src     string
	seq     int64
	version int64
}

// liveWriter is a raw ShareDB client that submits one op at a time and
// records each acknowledgement.
func liveWriter(t *testing.T, url, token, doc string, seed uint64, stop <-chan struct{}, record func(liveAck)) {
	h := http.Header{"Authorization": {"Bearer " + token}}
	conn, _, err := (&websocket.Dialer{HandshakeTimeout: 5 * time.Second}).Dial(url, h)
	if err != nil {
		return
	}
	defer conn.Close()
	send := func(m map[string]any) error { return conn.WriteJSON(m) }
	read := func() (map[string]any, error) {
		conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		var m map[string]any
		return m, conn.ReadJSON(&m)
	}
	if send(map[string]any{"a": "hs", "id": nil, "protocol": 1, "protocolMinor": 2}) != nil {
		return
	}
	var src string
	var version int64
	for src == "" || version == 0 {
		m, err := read()
		if err != nil {
			return
		}
		switch m["a"] {
		case "hs":
			src, _ = m["id"].(string)
			if send(map[string]any{"a": "s", "c": "docs", "d": doc, "v": nil}) != nil {
				return
			}
		case "s":
			if data, ok := m["data"].(map[string]any); ok {
				version = int64(data["v"].(float64))
			}
		}
	}
	rng := rand.New(rand.NewPCG(seed, 1))
	for seq := int64(1); ; seq++ {
		select {
		case <-stop:
			return
		default:
		}
		// Insert at the start: valid at any version.
		op := []any{fmt.Sprintf("%c", 'a'+rng.IntN(26))}
		if send(map[string]any{"a": "op", "c": "docs", "d": doc, "v": version, "seq": seq, "op": op}) != nil {
			return
		}
		for {
			m, err := read()
			if err != nil {
				return
			}
			if m["a"] != "op" {
				continue
			}
			v := int64(m["v"].(float64))
			if m["src"] == src && int64(m["seq"].(float64)) == seq && m["op"] == nil {
				if m["error"] != nil {
					return
				}
				record(liveAck{src, seq, v})
				version = v + 1
				break
			}
			version = v + 1 // someone else's op
		}
	}
}

// liveDoc sets up an account with a space and an empty document on the
// server and returns its token, the document and the live endpoint.
func liveDoc(t *testing.T, p *proc) (token, doc, url string) {
	t.Helper()
	token = setupAccount(t, p.url)
	api(t, p.url, token, "POST", "/api/spaces", map[string]string{"slug": "eng", "name": "Eng"})
	_, d := api(t, p.url, token, "POST", "/api/docs", map[string]string{"space": "eng", "title": "Live", "body": ""})
	return token, d["id"].(string), "ws" + strings.TrimPrefix(p.url, "http") + "/api/live"
}

// TestKillNineUnderLiveLoad edits one document from several live sockets,
// kills the server with SIGKILL in the middle, restarts it and finds every
// acknowledged op in the history at the version it was acknowledged with.
func TestKillNineUnderLiveLoad(t *testing.T) {
	data := t.TempDir()
	p := startServer(t, data)
	token, doc, url := liveDoc(t, p)

	var acks testenv.Collector[liveAck]
	stopWriters := startWriters(6, func(w int, stop <-chan struct{}) {
		liveWriter(t, url, token, doc, uint64(w), stop, acks.Add)
	})
	killAfterAcks(t, p, data, "live ops", acks.Len, stopWriters)

	p2 := startServer(t, data)
	stored := map[string]int64{} // src/seq -> version
	for from := int64(0); ; {
		code, h := api(t, p2.url, token, "GET", fmt.Sprintf("/api/docs/%s/history?from=%d&limit=1000", doc, from), nil)
		if code != 200 {
			t.Fatalf("history = %d", code)
		}
		for _, o := range h["ops"].([]any) {
			op := o.(map[string]any)
			if src, ok := op["src"].(string); ok {
				key := fmt.Sprintf("%s/%v", src, op["seq"])
				if _, dup := stored[key]; dup {
					t.Fatalf("op %s stored twice", key)
				}
				stored[key] = int64(op["v"].(float64))
			}
		}
		next, ok := h["next"].(float64)
		if !ok {
			break
		}
		from = int64(next)
	}
	for _, a := range acks.Got() {
		v, ok := stored[fmt.Sprintf("%s/%d", a.src, a.seq)]
		if !ok || v != a.version {
			t.Fatalf("acknowledged op %s/%d at v%d: stored %v at v%d", a.src, a.seq, a.version, ok, v)
		}
	}
	// The text is the replay of the log and the server still takes ops.
	_, doc2 := api(t, p2.url, token, "GET", "/api/docs/"+doc, nil)
	version := int64(doc2["version"].(float64))
	if version < int64(len(acks.Got()))+1 {
		t.Fatalf("version after restart %d < %d acknowledged ops + creation", version, len(acks.Got()))
	}
	if code, _ := api(t, p2.url, token, "POST", "/api/docs/"+doc+"/edits", map[string]any{"version": version, "op": []any{"!"}}); code != 200 {
		t.Fatalf("edit after restart = %d", code)
	}
	t.Logf("%d live ops acknowledged before SIGKILL; all stored once at their versions", len(acks.Got()))
}

// The live metrics count what the hub committed and acknowledged.
func TestLiveMetrics(t *testing.T) {
	p := startServer(t, t.TempDir(), "--metrics-token", "scrape-secret")
	token, doc, url := liveDoc(t, p)
	var acks testenv.Collector[liveAck]
	stopWriter := startWriters(1, func(_ int, stop <-chan struct{}) {
		liveWriter(t, url, token, doc, 1, stop, acks.Add)
	})
	testenv.WaitFor(t, time.Minute, "20 acknowledged ops", func() bool { return acks.Len() >= 20 })
	stopWriter()
	n := acks.Len()
	if n == 0 {
		t.Fatal("no live op acknowledged")
	}
	var raw []byte
	scrape := func() {
		t.Helper()
		req, _ := http.NewRequest("GET", p.url+"/metrics", nil)
		req.Header.Set("Authorization", "Bearer scrape-secret")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET /metrics with the metrics token: %s", resp.Status)
		}
		defer resp.Body.Close()
		raw, _ = io.ReadAll(resp.Body)
	}
	metric := func(name string) float64 {
		t.Helper()
		for line := range strings.Lines(string(raw)) {
			if v, ok := strings.CutPrefix(line, name+" "); ok {
				f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
				if err != nil {
					t.Fatalf("%s: %v", line, err)
				}
				return f
			}
		}
		t.Fatalf("no %s in /metrics", name)
		return 0
	}
	// A writer counts an ack once its write returned, which can be after
	// the client read it: look again for a little while.
	testenv.Eventually(5*time.Second, func() bool {
		scrape()
		return metric("docket_live_ack_seconds_count") >= float64(n)
	})
	if got := metric("docket_live_ack_seconds_count"); got < float64(n) {
		t.Errorf("acks observed %v; want at least the %d the client got", got, n)
	}
	if got := metric("docket_live_ops_total"); got < float64(n) {
		t.Errorf("ops committed %v; want at least %d", got, n)
	}
	if got := metric("docket_live_commit_seconds_count"); got < 1 || got > float64(n) {
		t.Errorf("commits %v; want between 1 and %d", got, n)
	}
	if got := metric("docket_live_documents"); got != 1 {
		t.Errorf("open documents %v; want 1", got)
	}
	metric("docket_live_connections")
}
