package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/docket-dev/docket/internal/testenv"
)

// binary is the docket binary built once for the tests that run it as a
// separate process.
var (
	binaryOnce sync.Once
	binaryPath string
	binaryErr  error
)

func buildBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	binaryOnce.Do(func() {
		dir, err := os.MkdirTemp("", "docket-bin")
		if err != nil {
			binaryErr = err
			return
		}
		binaryPath = filepath.Join(dir, "docket")
		out, err := exec.Command("go", "build", "-o", binaryPath, ".").CombinedOutput()
		if err != nil {
			binaryErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binaryErr != nil {
		t.Fatal(binaryErr)
	}
	return binaryPath
}

func TestMain(m *testing.M) {
	code := m.Run()
	for _, f := range corpusCleanup {
		f()
	}
	if binaryPath != "" {
		os.RemoveAll(filepath.Dir(binaryPath))
	}
	os.Exit(code)
}

// proc is a running docket server process.
type proc struct {
	t      *testing.T
	cmd    *exec.Cmd
	url    string
	stderr *testenv.Buffer
	done   chan error
}

var listenLine = regexp.MustCompile(`listening on (http://\S+)`)

// startServer runs "docket serve" on a free port with the data directory.
func startServer(t *testing.T, data string, extra ...string) *proc {
	t.Helper()
	bin := buildBinary(t)
	args := append([]string{"serve", "--addr", "127.0.0.1:0", "--data", data}, extra...)
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "DOCKET_LOG_FORMAT=json")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &proc{t: t, cmd: cmd, stderr: &testenv.Buffer{}, done: make(chan error, 1)}
	cmd.Stderr = p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	urlc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := listenLine.FindStringSubmatch(sc.Text()); m != nil {
				urlc <- m[1]
			}
		}
	}()
	go func() { p.done <- cmd.Wait() }()
	select {
	case p.url = <-urlc:
	case err := <-p.done:
		t.Fatalf("server exited: %v\n%s", err, p.stderr)
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("server did not start:\n%s", p.stderr)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

// stop stops the server with SIGTERM and fails the test unless it exits
// cleanly within 20 seconds.
func (p *proc) stop(t *testing.T) {
	t.Helper()
	p.cmd.Process.Signal(syscall.SIGTERM)
	if err := testenv.Receive(t, p.done, 20*time.Second, "the server to stop after SIGTERM"); err != nil {
		t.Fatalf("exit after SIGTERM: %v\n%s", err, p.stderr)
	}
}

// api sends a JSON request with a bearer token and decodes the answer.
func api(t testing.TB, base, token, method, path string, body any) (int, map[string]any) {
	t.Helper()
	return apiWith(base, method, path, body, func(req *http.Request) {
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
	})
}

// apiWith sends a JSON request signed in by auth and decodes the answer;
// the status is 0 when the server cannot be reached.
func apiWith(base, method, path string, body any, auth func(*http.Request)) (int, map[string]any) {
	var rd io.Reader
	if body != nil {
		data, _ := json.Marshal(body)
		rd = bytes.NewReader(data)
	}
	req, _ := http.NewRequest(method, base+path, rd)
	req.Header.Set("Content-Type", "application/json")
	auth(req)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil
	}
	defer resp.Body.Close()
	var out map[string]any
	json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// setupAccount signs up the first user and returns an API token.
func setupAccount(t *testing.T, base string) string {
	t.Helper()
	jar := &http.Client{}
	data, _ := json.Marshal(map[string]string{"name": "Ada", "email": "ada@example.com", "password": "correct horse battery"})
	resp, err := jar.Post(base+"/api/auth/signup", "application/json", bytes.NewReader(data))
	if err != nil || resp.StatusCode != 201 {
		t.Fatalf("signup: %v %v", err, resp)
	}
	var sessionCookie *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == "docket_session" {
			sessionCookie = c
		}
	}
	resp.Body.Close()
	req, _ := http.NewRequest("POST", base+"/api/tokens", strings.NewReader(`{"name":"test"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", base) // as the app's settings page sends it
	req.AddCookie(sessionCookie)
	resp, err = http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 201 {
		t.Fatalf("token: %v %v", err, resp)
	}
	defer resp.Body.Close()
	var tok map[string]any
	json.NewDecoder(resp.Body).Decode(&tok)
	return tok["token"].(string)
}

// runCLI runs a docket subcommand in process.
func runCLI(t *testing.T, stdin string, args ...string) (string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	err := run(context.Background(), args, strings.NewReader(stdin), &out, &errb)
	return out.String() + errb.String(), err
}

func TestGracefulShutdown(t *testing.T) {
	data := t.TempDir()
	p := startServer(t, data)
	if code, _ := api(t, p.url, "", "GET", "/healthz", nil); code != 200 {
		t.Fatalf("healthz = %d", code)
	}
	p.stop(t)
	if !strings.Contains(p.stderr.String(), `"msg":"stopped"`) {
		t.Errorf("no stop message in log:\n%s", p.stderr)
	}
	// The data file is closed and usable again.
	if out, err := runCLI(t, "", "user", "list", "--data", data); err != nil {
		t.Fatalf("user list after shutdown: %v\n%s", err, out)
	}
}

// TestGracefulShutdownWithOpenStream checks that an open document event
// stream does not hold up a SIGTERM: the server ends it and stops.
func TestGracefulShutdownWithOpenStream(t *testing.T) {
	data := t.TempDir()
	p := startServer(t, data)
	token := setupAccount(t, p.url)
	api(t, p.url, token, "POST", "/api/spaces", map[string]string{"slug": "eng", "name": "Eng"})
	code, doc := api(t, p.url, token, "POST", "/api/docs", map[string]any{"space": "eng", "title": "Plan", "body": "x"})
	if code != 201 {
		t.Fatalf("create document = %d %v", code, doc)
	}
	req, _ := http.NewRequest("GET", p.url+"/api/docs/"+doc["id"].(string)+"/events/stream", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("open stream: %v %v", err, resp)
	}
	defer resp.Body.Close()
	start := time.Now()
	p.stop(t)
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("stopping took %v with an open event stream", d)
	}
	io.Copy(io.Discard, resp.Body) // the stream has ended
}

func TestSecondProcessFailsFast(t *testing.T) {
	data := t.TempDir()
	startServer(t, data)
	start := time.Now()
	out, err := exec.Command(buildBinary(t), "serve", "--addr", "127.0.0.1:0", "--data", data).CombinedOutput()
	if err == nil {
		t.Fatal("second server started on the same data directory")
	}
	if elapsed := time.Since(start); elapsed > 10*time.Second {
		t.Errorf("second server took %s to fail", elapsed)
	}
	if !strings.Contains(string(out), "in use by another docket process") {
		t.Errorf("message = %q; want it to say the data is in use", out)
	}
}

func TestUserCommands(t *testing.T) {
	data := t.TempDir()
	if out, err := runCLI(t, "first password\n", "user", "add", "--data", data, "--email", "ada@example.com", "--name", "Ada"); err != nil || !strings.Contains(out, "(admin)") {
		t.Fatalf("user add: %v %s", err, out)
	}
	if out, err := runCLI(t, "\n", "user", "add", "--data", data, "--email", "bob@example.com", "--name", "Bob"); err != nil || !strings.Contains(out, "Password: ") {
		t.Fatalf("user add with generated password: %v %s", err, out)
	}
	if out, err := runCLI(t, "x\n", "user", "add", "--data", data, "--email", "ada@example.com", "--name", "Ada"); err == nil {
		t.Fatalf("duplicate user add succeeded: %s", out)
	}
	out, err := runCLI(t, "", "user", "list", "--data", data)
	if err != nil || !strings.Contains(out, "ada@example.com") || !strings.Contains(out, "bob@example.com") {
		t.Fatalf("user list: %v %s", err, out)
	}
	if out, err := runCLI(t, "another password\n", "user", "reset-password", "--data", data, "--email", "bob@example.com"); err != nil {
		t.Fatalf("reset-password: %v %s", err, out)
	}
	if out, err := runCLI(t, "", "version"); err != nil || !strings.HasPrefix(out, "docket ") {
		t.Fatalf("version: %v %s", err, out)
	}
	if _, err := runCLI(t, "", "frobnicate"); err == nil {
		t.Fatal("unknown command succeeded")
	}
}

// TestUserCommandsOnClusterStore: with --store the accounts are in the
// cluster's PostgreSQL database, not in a data file.
func TestUserCommandsOnClusterStore(t *testing.T) {
	store := testenv.Postgres(t)
	data := t.TempDir()
	if out, err := runCLI(t, "first password\n", "user", "add", "--data", data, "--store", store, "--email", "ada@example.com", "--name", "Ada"); err != nil || !strings.Contains(out, "(admin)") {
		t.Fatalf("user add: %v %s", err, out)
	}
	out, err := runCLI(t, "", "user", "list", "--store", store)
	if err != nil || !strings.Contains(out, "ada@example.com") {
		t.Fatalf("user list on the store: %v %s", err, out)
	}
	if _, err := os.Stat(dbPath(data)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("user add with --store made a data file (stat: %v)", err)
	}
	if out, err := runCLI(t, "", "user", "list", "--store", "mysql://db/docket"); err == nil || !strings.Contains(err.Error(), "postgres://") {
		t.Errorf("user list --store mysql://... = %v %s; want an error naming postgres://", err, out)
	}
}

// --metrics-addr serves /metrics to anyone on an extra address, while the
// main address keeps it for site admins and the metrics token.
func TestServeMetricsAddr(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	p := startServer(t, t.TempDir(), "--metrics-addr", addr)
	get := func(url string) (int, string) {
		t.Helper()
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	if code, _ := get(p.url + "/metrics"); code != http.StatusUnauthorized {
		t.Errorf("GET /metrics on the main address = %d; want 401", code)
	}
	var code int
	var body string
	testenv.WaitFor(t, 10*time.Second, "the metrics listener", func() bool {
		resp, err := http.Get("http://" + addr + "/metrics")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return true
	})
	if code, body = get("http://" + addr + "/metrics"); code != http.StatusOK || !strings.Contains(body, "docket_documents ") {
		t.Errorf("GET /metrics on --metrics-addr = %d %.200s; want 200 with docket_documents", code, body)
	}
	if code, _ = get("http://" + addr + "/api/me"); code != http.StatusNotFound {
		t.Errorf("GET /api/me on --metrics-addr = %d; want 404 (metrics only)", code)
	}
}
