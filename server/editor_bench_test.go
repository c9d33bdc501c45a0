package server_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	docket "github.com/docket-dev/docket"
	"github.com/docket-dev/docket/internal/testenv"
	"github.com/gorilla/websocket"
)

// TestWebAppPerformance measures the document page with the largest
// corpus document in headless Chromium: the time from navigation to an
// editable editor, the JavaScript transferred, and the typing latency
// (keypress in one window to the character in the other window's DOM)
// with 20 people in the document: 2 browser windows and 18 protocol-level
// clients that type and move their cursors once a second each.
//
//	DOCKET_WEBAPP_BENCH=1 go test ./server -run TestWebAppPerformance -v -timeout 10m
//
// It is skipped without DOCKET_WEBAPP_BENCH; DOCKET_CORPUS names another
// corpus directory; DOCKET_WEBAPP_PREVIEW=off types with both windows in
// the editor-only mode (no preview refreshes).
func TestWebAppPerformance(t *testing.T) {
	if os.Getenv("DOCKET_WEBAPP_BENCH") == "" {
		t.Skip("set DOCKET_WEBAPP_BENCH=1 to run the web app benchmark")
	}
	dir := os.Getenv("DOCKET_CORPUS")
	if dir == "" {
		dir = testenv.Corpus(t, "go-proposals")
	}
	path, body := largestMarkdown(t, dir)
	t.Logf("document: %s (%d bytes)", filepath.Base(path), len(body))

	s := newEdServer(t)
	alice := s.e.signup("Alice")
	bob := s.e.signup("Bob")
	space := alice.createSpace("eng")
	alice.addMember(space, bob, docket.RoleEditor)
	// The first line stays empty: Alice types there, Bob's window watches it.
	doc := alice.createDoc(space, "Type parameters", "\n"+body)

	// Navigation to editable, cold (a new browser profile each time: no
	// cached assets) and warm (a reload: assets from the cache).
	var cold, warm []float64
	var jsBytes float64
	for i := range 5 {
		p := s.window("Alice")
		p.openDoc(doc)
		cold = append(cold, evalT[float64](p, `performance.getEntriesByName("docket-editable")[0].startTime`))
		t.Logf("cold run %d: %s", i, evalT[string](p, perfBreakdownJS))
		if i == 0 {
			jsBytes = evalT[float64](p, `performance.getEntriesByType("resource").filter(r => r.name.endsWith(".js")).reduce((n, r) => n + r.transferSize, 0)`)
		}
		for range 2 {
			p.do(chromedp.Reload())
			p.waitJS(`document.getElementById("doc")?.dataset.live === "ready"`, 10*time.Second)
			warm = append(warm, evalT[float64](p, `performance.getEntriesByName("docket-editable")[0].startTime`))
		}
		p.close()
	}
	t.Logf("navigation to editable, cold: median %.0f ms, max %.0f ms (%d runs)", median(cold), slices.Max(cold), len(cold))
	t.Logf("navigation to editable, warm: median %.0f ms, max %.0f ms (%d runs)", median(warm), slices.Max(warm), len(warm))
	t.Logf("JavaScript transferred (cold): %.1f KB", jsBytes/1024)

	// Typing latency with 20 people in the document.
	a, b := s.bothOn(doc)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var botOps atomic.Int64
	for i := range 18 {
		bot := signupFrom(s.e, fmt.Sprintf("Bot%02d", i), fmt.Sprintf("192.0.2.%d", i+1))
		alice.addMember(space, bot, docket.RoleEditor)
		wg.Add(1)
		go func() {
			defer wg.Done()
			runBot(t, bot, doc, i, stop, &botOps)
		}()
	}
	defer func() {
		close(stop)
		wg.Wait()
	}()
	if os.Getenv("DOCKET_WEBAPP_PREVIEW") == "off" {
		a.do(chromedp.Click(chromedp.CSS(`.dk-modes [data-mode="edit"]`)))
		b.do(chromedp.Click(chromedp.CSS(`.dk-modes [data-mode="edit"]`)))
	}
	a.waitJS(`document.querySelectorAll(".dk-people li").length === 20`, 20*time.Second)
	b.waitJS(`document.querySelectorAll(".dk-people li").length === 20`, 20*time.Second)

	evalT[chromedp.Void](b, `(() => {
		const content = document.querySelector(".cm-content");
		const lineLen = () => {
			const l = content.querySelector(".cm-line");
			let n = 0;
			const w = document.createTreeWalker(l, NodeFilter.SHOW_TEXT);
			for (let t = w.nextNode(); t; t = w.nextNode()) if (!t.parentElement.closest(".dk-cursor")) n += t.data.length;
			return n;
		};
		window.__seen = [];
		let last = lineLen();
		new MutationObserver(() => {
			const n = lineLen();
			const now = performance.timeOrigin + performance.now();
			for (let k = last + 1; k <= n; k++) window.__seen[k] = now;
			if (n > last) last = n;
		}).observe(content, {subtree: true, childList: true, characterData: true});
	})()`)
	evalT[chromedp.Void](a, `window.__keys = []; document.addEventListener("keydown", e => {
		if (e.key === "x") window.__keys.push(performance.timeOrigin + e.timeStamp);
	}, true)`)
	a.focusEditor(kb.Home)
	const n = 200
	opsBefore := botOps.Load()
	start := time.Now()
	for range n {
		a.do(chromedp.KeyEvent("x"))
		time.Sleep(time.Duration(40+rand.IntN(40)) * time.Millisecond)
	}
	elapsed := time.Since(start)
	b.waitJS(fmt.Sprintf(`window.__seen.length > %d`, n), 20*time.Second)
	keys := evalT[[]float64](a, `window.__keys`)
	seen := evalT[[]float64](b, `window.__seen.slice(1)`)
	if len(keys) != n || len(seen) < n {
		t.Fatalf("recorded %d keys and %d arrivals; want %d", len(keys), len(seen), n)
	}
	lat := make([]float64, n)
	for i := range n {
		lat[i] = seen[i] - keys[i]
	}
	slices.Sort(lat)
	t.Logf("typing latency, %d keys over %v with 20 people (bots sent %d ops meanwhile): p50 %.1f ms, p95 %.1f ms, p99 %.1f ms, max %.1f ms",
		n, elapsed.Round(time.Millisecond), botOps.Load()-opsBefore, pct(lat, 50), pct(lat, 95), pct(lat, 99), lat[n-1])
	a.screenshot("20-people")
	b.screenshot("20-people")
}

// perfBreakdownJS describes where a page load spent its time.
const perfBreakdownJS = `(() => {
	const n = performance.getEntriesByType("navigation")[0];
	const r = (s) => performance.getEntriesByType("resource").find(e => e.name.includes(s));
	const m = (s) => performance.getEntriesByName(s)[0]?.startTime;
	const f = (x) => x === undefined ? "-" : Math.round(x);
	return "html " + f(n.responseStart) + "-" + f(n.responseEnd) + " dcl " + f(n.domContentLoadedEventEnd) +
		" doc.js " + f(r("/doc-")?.startTime) + "-" + f(r("/doc-")?.responseEnd) +
		" interactive " + f(n.domInteractive) + " dclStart " + f(n.domContentLoadedEventStart) + " app.js " + f(r("/app-")?.responseEnd) + " appEval " + f(m("t-app-eval")) + " ready " + f(m("t-ready")) + " imported " + f(m("t-imported")) + " ui " + f(m("t-ui")) + " beforeView " + f(m("t-before-view")) +
		" editor " + f(m("docket-editor")) + " editable " + f(m("docket-editable"));
})()`

// signupFrom signs up an account from another client address.
func signupFrom(e *env, name, addr string) *client {
	e.t.Helper()
	c := e.client()
	c.header.Set("X-Forwarded-For", addr)
	r := c.must(201, "POST", "/api/auth/signup", map[string]string{
		"name": name, "email": strings.ToLower(name) + "@example.com", "password": "correct horse " + name,
	})
	c.user = r.body
	return c
}

// largestMarkdown returns the path and text of the largest .md file in dir.
func largestMarkdown(t *testing.T, dir string) (string, string) {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "*.md"))
	var best string
	var size int64
	for _, f := range files {
		if fi, err := os.Stat(f); err == nil && fi.Size() > size {
			best, size = f, fi.Size()
		}
	}
	if best == "" {
		testenv.Missing(t, "no corpus in %s", dir)
	}
	data, err := os.ReadFile(best)
	if err != nil {
		t.Fatal(err)
	}
	return best, string(data)
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}

// pct returns the p-th percentile of sorted values (nearest rank).
func pct(sorted []float64, p float64) float64 {
	i := int(float64(len(sorted))*p/100+0.5) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// runBot is a protocol-level participant: it subscribes to the document
// and its presence channel and, about once a second, inserts a character
// somewhere after the first thousand and moves its cursor there, until
// stop closes.
func runBot(t *testing.T, c *client, doc string, i int, stop <-chan struct{}, ops *atomic.Int64) {
	conn, _, err := c.dialLive(nil)
	if err != nil {
		t.Errorf("bot %d: dial: %v", i, err)
		return
	}
	defer conn.Close()
	var wmu sync.Mutex
	send := func(v any) {
		data, _ := json.Marshal(v)
		wmu.Lock()
		defer wmu.Unlock()
		conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
		conn.WriteMessage(websocket.TextMessage, data)
	}
	var mu sync.Mutex
	version := int64(-1)
	inflight := false
	src := ""
	go func() {
		for {
			_, data, err := conn.ReadMessage()
			if err != nil {
				return
			}
			var f frame
			if json.Unmarshal(data, &f) != nil {
				continue
			}
			mu.Lock()
			switch f.str("a") {
			case "hs":
				src = f.str("id")
			case "s":
				if d, ok := f["data"].(map[string]any); ok {
					version = int64(d["v"].(float64))
				}
			case "op":
				if f.has("op") && f.num("v") >= version {
					version = f.num("v") + 1
				} else if !f.has("op") && f.str("src") == src {
					version = max(version, f.num("v")+1)
					inflight = false
				}
			}
			mu.Unlock()
		}
	}()
	send(map[string]any{"a": "hs", "id": nil, "protocol": 1, "protocolMinor": 2})
	send(map[string]any{"a": "s", "c": "docs", "d": doc, "v": nil})
	send(map[string]any{"a": "ps", "ch": "docs." + doc})
	name := c.user["name"].(string)
	seq, pv := int64(0), int64(0)
	tick := time.NewTicker(time.Duration(900+rand.IntN(200)) * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
		}
		mu.Lock()
		v, busy := version, inflight
		if v >= 0 && !busy {
			inflight = true
		}
		mu.Unlock()
		if v < 0 || busy {
			continue
		}
		pos := 1000 + rand.IntN(2000)
		seq++
		send(map[string]any{"a": "op", "c": "docs", "d": doc, "v": v, "seq": seq, "x": map[string]any{}, "op": []any{pos, "z"}})
		ops.Add(1)
		pv++
		send(map[string]any{"a": "p", "ch": "docs." + doc, "id": "bot" + fmt.Sprint(i), "pv": pv,
			"p": map[string]any{"anchor": pos, "head": pos, "v": v, "name": name, "user": c.id()}})
	}
}
