package main

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/docket-dev/docket/internal/testenv"
)

// ack is a write the server acknowledged.
type ack struct {
	doc     string
	version int64
	body    string
}

// TestKillNineLosesNoAcknowledgedWrite writes concurrently to a real
// server process, kills it with SIGKILL in the middle, starts it again and
// finds every write it acknowledged.
func TestKillNineLosesNoAcknowledgedWrite(t *testing.T) {
	data := t.TempDir()
	p := startServer(t, data)
	token := setupAccount(t, p.url)
	if code, _ := api(t, p.url, token, "POST", "/api/spaces", map[string]string{"slug": "eng", "name": "Eng"}); code != 201 {
		t.Fatalf("create space = %d", code)
	}
	var acks testenv.Collector[ack]
	var created testenv.Collector[string]
	stopWriters := startWriters(4, func(w int, stop <-chan struct{}) {
		code, d := api(t, p.url, token, "POST", "/api/docs", map[string]string{"space": "eng", "title": fmt.Sprintf("W%d", w), "body": "start"})
		if code != 201 {
			return
		}
		id := d["id"].(string)
		version := int64(1)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			body := fmt.Sprintf("writer %d edit %d", w, i)
			code, d := api(t, p.url, token, "POST", "/api/docs/"+id+"/edits", map[string]any{"version": version, "body": body})
			if code != 200 {
				return // the server is gone
			}
			version = int64(d["version"].(float64))
			acks.Add(ack{id, version, body})
			if i%5 == 0 {
				code, d := api(t, p.url, token, "POST", "/api/docs", map[string]string{"space": "eng", "title": body, "body": body})
				if code != 201 {
					return
				}
				created.Add(d["id"].(string))
			}
		}
	})
	killAfterAcks(t, p, data, "writes", acks.Len, stopWriters)

	p2 := startServer(t, data)
	for _, a := range acks.Got() {
		code, d := api(t, p2.url, token, "GET", fmt.Sprintf("/api/docs/%s/versions/%d", a.doc, a.version), nil)
		if code != 200 || d["body"] != a.body {
			t.Fatalf("acknowledged edit %s@%d lost: %d %v; want %q", a.doc, a.version, code, d, a.body)
		}
	}
	for _, id := range created.Got() {
		if code, _ := api(t, p2.url, token, "GET", "/api/docs/"+id, nil); code != 200 {
			t.Fatalf("acknowledged document %s lost: %d", id, code)
		}
	}
	t.Logf("%d edits and %d documents acknowledged before SIGKILL; all present after restart", len(acks.Got()), len(created.Got()))
	if strings.Contains(p2.stderr.String(), `"level":"ERROR"`) {
		t.Errorf("errors after restart:\n%s", p2.stderr)
	}
}

// startWriters runs write in n goroutines, numbered from 0, until stop is
// closed or they return. The function it returns closes stop and waits
// for them.
func startWriters(n int, write func(w int, stop <-chan struct{})) (stopWriters func()) {
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range n {
		wg.Go(func() { write(w, stop) })
	}
	return func() {
		close(stop)
		wg.Wait()
	}
}

// killAfterAcks kills the server p (data is its directory) with SIGKILL
// once count reports a random number of acknowledged writes between 50 and
// 200, with more in flight: a count, not a time, so that a slow machine
// proves as much as a fast one. Then it stops the writers with
// stopWriters, checks that enough were acknowledged to prove something,
// and removes the socket the killed server left behind; what names the
// writes in failures.
func killAfterAcks(t *testing.T, p *proc, data, what string, count func() int, stopWriters func()) {
	t.Helper()
	killAt := 50 + rand.IntN(150)
	testenv.WaitFor(t, time.Minute, fmt.Sprintf("%d acknowledged %s", killAt, what), func() bool {
		return count() >= killAt
	})
	p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
	stopWriters()
	if n := count(); n < 20 {
		t.Fatalf("only %d %s acknowledged before the kill; the test proves nothing", n, what)
	}
	os.Remove(filepath.Join(data, "docket.sock"))
}

// TestBackupWhileServingRestores takes a backup through the running
// server, restores it into a new data directory and finds the same
// accounts, documents and history there; export then writes every document.
func TestBackupWhileServingRestores(t *testing.T) {
	data := t.TempDir()
	p := startServer(t, data)
	token := setupAccount(t, p.url)
	api(t, p.url, token, "POST", "/api/spaces", map[string]string{"slug": "eng", "name": "Eng"})
	var ids []string
	for i := 0; i < 10; i++ {
		_, d := api(t, p.url, token, "POST", "/api/docs", map[string]string{"space": "eng", "title": fmt.Sprintf("Doc %d", i), "body": fmt.Sprintf("# Doc %d\n\nText ✓ %d", i, i)})
		id := d["id"].(string)
		ids = append(ids, id)
		api(t, p.url, token, "POST", "/api/docs/"+id+"/edits", map[string]any{"version": 1, "body": fmt.Sprintf("# Doc %d\n\nEdited ✓ %d", i, i)})
	}
	backup := filepath.Join(t.TempDir(), "backup.db")
	out, err := runCLI(t, "", "backup", backup, "--data", data)
	if err != nil || !strings.Contains(out, "from the running server") {
		t.Fatalf("backup: %v %s", err, out)
	}
	restored := t.TempDir()
	raw, err := os.ReadFile(backup)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(restored, "docket.db"), raw, 0o600); err != nil {
		t.Fatal(err)
	}
	p2 := startServer(t, restored)
	for _, path := range append([]string{"/api/me", "/api/spaces", "/api/docs?space=eng"}, docPaths(ids)...) {
		c1, a := api(t, p.url, token, "GET", path, nil)
		c2, b := api(t, p2.url, token, "GET", path, nil)
		if c1 != 200 || c2 != 200 || fmt.Sprint(a) != fmt.Sprint(b) {
			t.Fatalf("GET %s: original %d %v, restored %d %v", path, c1, a, c2, b)
		}
	}
	// Export from the backup file.
	exportDir := t.TempDir()
	if out, err := runCLI(t, "", "export", exportDir, "--db", backup); err != nil || !strings.Contains(out, "Exported 10 documents") {
		t.Fatalf("export: %v %s", err, out)
	}
	files, _ := filepath.Glob(filepath.Join(exportDir, "eng", "*.md"))
	if len(files) != 10 {
		t.Fatalf("exported %d files; want 10", len(files))
	}
	manifest, err := os.ReadFile(filepath.Join(exportDir, "manifest.json"))
	if err != nil || !strings.Contains(string(manifest), ids[0]) {
		t.Fatalf("manifest: %v %s", err, manifest)
	}
	body, _ := os.ReadFile(files[0])
	if !strings.Contains(string(body), "Edited ✓") {
		t.Fatalf("exported body = %q", body)
	}
}

func docPaths(ids []string) []string {
	var out []string
	for _, id := range ids {
		out = append(out, "/api/docs/"+id, "/api/docs/"+id+"/history", "/api/docs/"+id+"/versions/1")
	}
	return out
}
