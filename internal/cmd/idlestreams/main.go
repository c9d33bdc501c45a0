// Command idlestreams opens many idle document event streams
// (GET /api/docs/:id/events/stream) on a Docket server and reports the
// server's memory and idle CPU: the cost of open document pages'
// pushed updates.
//
//	docket serve --addr 127.0.0.1:18466 --data /tmp/streams --signup open --trusted-proxies 127.0.0.0/8 &
//	go run ./internal/cmd/idlestreams --url http://127.0.0.1:18466 --pid $! --users 125
//
// It signs up --users accounts (each from its own 127.x address, which
// the server must trust as a proxy, so the sign-up limit per address is
// not hit), makes them members of one space with one document, opens 8
// streams per user (the per-user cap), samples the server's RSS, and
// measures its CPU while the streams are idle. It talks to the given URL
// only; use a server on 127.0.0.1 with a fresh data directory.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"os"
	"time"

	"github.com/docket-dev/docket/internal/loadtool"
)

func main() {
	base := flag.String("url", "http://127.0.0.1:18466", "server URL")
	pid := flag.Int("pid", 0, "server process id, for its RSS and CPU")
	users := flag.Int("users", 125, "accounts; each opens 8 streams")
	idle := flag.Duration("idle", 20*time.Second, "how long to measure idle CPU")
	flag.Parse()
	if err := run(*base, *pid, *users, *idle); err != nil {
		fmt.Fprintln(os.Stderr, "idlestreams:", err)
		os.Exit(1)
	}
}

func run(base string, pid, users int, idle time.Duration) error {
	if pid == 0 {
		return fmt.Errorf("--pid is needed")
	}
	tr := &http.Transport{MaxIdleConnsPerHost: 8 * users}
	var clients []*http.Client
	for i := range users {
		jar, _ := cookiejar.New(nil)
		c := &http.Client{Jar: jar, Transport: tr, Timeout: 0}
		ip := fmt.Sprintf("127.1.%d.%d", i/200, i%200+1)
		if code, _, err := post(c, base+"/api/auth/signup", ip, map[string]string{
			"name": fmt.Sprint("User ", i), "email": fmt.Sprintf("u%d@example.com", i), "password": "correct horse battery"}); err != nil || code != 201 {
			return fmt.Errorf("sign-up %d: %d %v", i, code, err)
		}
		clients = append(clients, c)
	}
	owner := clients[0]
	code, sp, err := post(owner, base+"/api/spaces", "127.0.0.1", map[string]string{"slug": "streams", "name": "Streams"})
	if err != nil || code != 201 {
		return fmt.Errorf("space: %d %v", code, err)
	}
	for i := 1; i < users; i++ {
		if code, _, err := post(owner, base+"/api/spaces/"+sp["id"].(string)+"/members", "127.0.0.1",
			map[string]string{"email": fmt.Sprintf("u%d@example.com", i), "role": "viewer"}); err != nil || code != 200 {
			return fmt.Errorf("member %d: %d %v", i, code, err)
		}
	}
	code, doc, err := post(owner, base+"/api/docs", "127.0.0.1", map[string]any{"space": "streams", "title": "Plan", "body": "x", "kind": "rfc"})
	if err != nil || code != 201 {
		return fmt.Errorf("document: %d %v", code, err)
	}
	time.Sleep(2 * time.Second)
	before := loadtool.RSS(pid)
	n := 0
	for _, c := range clients {
		for range 8 {
			resp, err := c.Get(base + "/api/docs/" + doc["id"].(string) + "/events/stream")
			if err != nil || resp.StatusCode != 200 {
				return fmt.Errorf("stream %d: %v %v", n, err, resp)
			}
			defer resp.Body.Close()
			if _, err := bufio.NewReader(resp.Body).ReadString('\n'); err != nil {
				return fmt.Errorf("stream %d: %v", n, err)
			}
			n++
		}
	}
	time.Sleep(5 * time.Second)
	after := loadtool.RSS(pid)
	fmt.Printf("%d idle streams: server RSS %d KB -> %d KB, %.1f KB per stream\n", n, before, after, float64(after-before)/float64(n))
	cpu0 := loadtool.CPU(pid)
	time.Sleep(idle)
	cpu := loadtool.CPU(pid) - cpu0
	fmt.Printf("server CPU while idle: %.3f core\n", float64(cpu)/float64(idle))
	return nil
}

func post(c *http.Client, url, ip string, body any) (int, map[string]any, error) {
	return loadtool.PostJSON(c, url, http.Header{"X-Forwarded-For": {ip}}, body)
}
