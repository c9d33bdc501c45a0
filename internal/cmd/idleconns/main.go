// Command idleconns opens many idle, subscribed live co-editing
// connections to a Docket server and reports the server's memory: the
// "10,000 idle subscribed connections over 1,000 documents" benchmark.
//
//	go run ./internal/cmd/idleconns --url http://127.0.0.1:8080 --token TOKEN \
//	    --space bench --docs 1000 --conns 10000 --pid SERVER_PID
//
// It creates the documents over the REST API, connects and subscribes
// with the stock protocol (hs, s), waits until every subscription is
// answered, samples the server's RSS, and closes everything. It talks to
// the given URL only; use a server on 127.0.0.1.
package main

import (
	"flag"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/docket-dev/docket/internal/loadtool"
	"github.com/gorilla/websocket"
)

func main() {
	base := flag.String("url", "http://127.0.0.1:8080", "server URL")
	token := flag.String("token", "", "API token")
	space := flag.String("space", "bench", "space slug (created if missing)")
	ndocs := flag.Int("docs", 1000, "documents")
	nconns := flag.Int("conns", 10000, "connections")
	pid := flag.Int("pid", 0, "server process id, for its RSS")
	hold := flag.Duration("hold", 5*time.Second, "how long to hold the connections idle")
	flag.Parse()
	if err := run(*base, *token, *space, *ndocs, *nconns, *pid, *hold); err != nil {
		fmt.Fprintln(os.Stderr, "idleconns:", err)
		os.Exit(1)
	}
}

func post(base, token, path string, body any) (map[string]any, error) {
	code, out, err := loadtool.PostJSON(http.DefaultClient, base+path, http.Header{"Authorization": {"Bearer " + token}}, body)
	if err != nil {
		return nil, err
	}
	if code >= 300 && code != 409 {
		return out, fmt.Errorf("POST %s: %d %s %v", path, code, http.StatusText(code), out)
	}
	return out, nil
}

// rss returns the server's resident set size for the report.
func rss(pid int) string {
	if kb := loadtool.RSS(pid); kb > 0 {
		return fmt.Sprintf("%d kB", kb)
	}
	return "?"
}

func run(base, token, space string, ndocs, nconns, pid int, hold time.Duration) error {
	post(base, token, "/api/spaces", map[string]string{"slug": space, "name": space})
	docs := make([]string, ndocs)
	for i := range docs {
		d, err := post(base, token, "/api/docs", map[string]any{"space": space, "title": fmt.Sprint("Idle ", i), "body": "idle document"})
		if err != nil {
			return err
		}
		docs[i] = d["id"].(string)
	}
	fmt.Printf("created %d documents; server RSS %s\n", ndocs, rss(pid))
	wsURL := "ws" + strings.TrimPrefix(base, "http") + "/api/live"
	header := http.Header{"Authorization": {"Bearer " + token}}
	conns := make([]*websocket.Conn, nconns)
	var subscribed atomic.Int64
	var failed atomic.Int64
	var wg sync.WaitGroup
	sem := make(chan struct{}, 64)
	start := time.Now()
	for i := range conns {
		wg.Add(1)
		sem <- struct{}{}
		go func(i int) {
			defer wg.Done()
			defer func() { <-sem }()
			c, _, err := (&websocket.Dialer{HandshakeTimeout: 10 * time.Second}).Dial(wsURL, header)
			if err != nil {
				failed.Add(1)
				return
			}
			conns[i] = c
			c.WriteJSON(map[string]any{"a": "hs", "id": nil, "protocol": 1, "protocolMinor": 2})
			c.WriteJSON(map[string]any{"a": "s", "c": "docs", "d": docs[i%ndocs], "v": nil})
			c.SetReadDeadline(time.Now().Add(30 * time.Second))
			for {
				var m map[string]any
				if err := c.ReadJSON(&m); err != nil {
					failed.Add(1)
					return
				}
				if m["a"] == "s" {
					subscribed.Add(1)
					break
				}
			}
			c.SetReadDeadline(time.Time{})
			// Keep reading (pings, closes) in the background.
			go func() {
				for {
					if _, _, err := c.ReadMessage(); err != nil {
						return
					}
				}
			}()
		}(i)
	}
	wg.Wait()
	fmt.Printf("%d connections subscribed (%d failed) in %s; server RSS %s\n", subscribed.Load(), failed.Load(), time.Since(start).Round(time.Millisecond), rss(pid))
	time.Sleep(hold)
	fmt.Printf("after %s idle: server RSS %s\n", hold, rss(pid))
	for _, c := range conns {
		if c != nil {
			c.Close()
		}
	}
	return nil
}
