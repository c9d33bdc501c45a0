package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// signedIn is a person signed in to a running server: a session cookie,
// an API token, and a live socket and an event stream opened with them.
type signedIn struct {
	cookie *http.Cookie
	token  string
	live   *websocket.Conn
	stream *bufio.Reader
}

// signIn signs email in with password on the server at base, makes an API
// token, and opens a live socket (with the cookie) on doc and its event
// stream (with the token).
func signIn(t *testing.T, base, email, password, doc string) *signedIn {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"email": email, "password": password})
	resp, err := http.Post(base+"/api/auth/login", "application/json", bytes.NewReader(body))
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("sign in %s: %v %v", email, err, resp)
	}
	resp.Body.Close()
	s := &signedIn{}
	for _, c := range resp.Cookies() {
		if c.Name == "docket_session" {
			s.cookie = c
		}
	}
	req, _ := http.NewRequest("POST", base+"/api/tokens", strings.NewReader(`{"name":"script"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", base)
	req.AddCookie(s.cookie)
	resp, err = http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("token for %s: %v %v", email, err, resp)
	}
	var tok map[string]any
	json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()
	s.token = tok["token"].(string)

	h := http.Header{"Cookie": {s.cookie.String()}, "Origin": {base}}
	s.live, _, err = (&websocket.Dialer{HandshakeTimeout: 5 * time.Second}).Dial("ws"+strings.TrimPrefix(base, "http")+"/api/live", h)
	if err != nil {
		t.Fatalf("live socket of %s: %v", email, err)
	}
	t.Cleanup(func() { s.live.Close() })
	s.live.WriteJSON(map[string]any{"a": "hs", "id": nil, "protocol": 1, "protocolMinor": 2})
	s.live.WriteJSON(map[string]any{"a": "s", "c": "docs", "d": doc, "v": nil})

	req, _ = http.NewRequest("GET", base+"/api/docs/"+doc+"/events/stream", nil)
	req.Header.Set("Authorization", "Bearer "+s.token)
	resp, err = http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("event stream of %s: %v %v", email, err, resp)
	}
	t.Cleanup(func() { resp.Body.Close() })
	s.stream = bufio.NewReader(resp.Body)
	return s
}

// status returns the status of GET /api/me with the cookie and with the
// token.
func (s *signedIn) status(t *testing.T, base string) (cookie, token int) {
	t.Helper()
	req, _ := http.NewRequest("GET", base+"/api/me", nil)
	req.AddCookie(s.cookie)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	code, _ := api(t, base, s.token, "GET", "/api/me", nil)
	return resp.StatusCode, code
}

// cutOff waits until the live socket is closed with 1008 and the event
// stream says "revoked" and ends; the server rechecks at once when told
// of a revocation, and at the latest every few seconds.
func (s *signedIn) cutOff(t *testing.T) {
	t.Helper()
	s.live.SetReadDeadline(time.Now().Add(30 * time.Second))
	var err error
	for range 10_000 {
		if _, _, err = s.live.ReadMessage(); err != nil {
			break
		}
	}
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != websocket.ClosePolicyViolation {
		t.Errorf("live socket ended with %v; want a close with 1008", err)
	}
	revoked := false
	for range 10_000 {
		line, err := s.stream.ReadString('\n')
		if strings.HasPrefix(line, "event: revoked") {
			revoked = true
		}
		if err != nil {
			break
		}
	}
	if !revoked {
		t.Error("the event stream ended without \"event: revoked\"")
	}
}

// cutOffByCLI signs email in (cookie, token, live socket, event stream),
// runs 'docket user ARGS... --email EMAIL' with stdin, checks that it says
// want, and that everything the person had open is cut off.
func cutOffByCLI(t *testing.T, base, doc, email, password, stdin, want string, args ...string) {
	t.Helper()
	s := signIn(t, base, email, password, doc)
	out, err := runCLI(t, stdin, append(append([]string{"user"}, args...), "--email", email)...)
	if err != nil || !strings.Contains(out, want) {
		t.Fatalf("docket user %s: %v\n%s", args[0], err, out)
	}
	if c, tk := s.status(t, base); c != http.StatusUnauthorized || tk != http.StatusUnauthorized {
		t.Errorf("after docket user %s, GET /api/me = %d with the old cookie, %d with the old token; want 401, 401", args[0], c, tk)
	}
	s.cutOff(t)
}

// While the server runs, docket user add, list, reset-password and
// disable work through its admin socket, and a reset or a disable ends
// the user's sessions, tokens, live sockets and event streams at once.
func TestUserCommandsWhileServing(t *testing.T) {
	data := t.TempDir()
	p := startServer(t, data)
	root, doc, _ := liveDoc(t, p)

	out, err := runCLI(t, "bob's first password\n", "user", "add", "--data", data, "--email", "bob@example.com", "--name", "Bob")
	if err != nil || !strings.Contains(out, "Created Bob <bob@example.com> (member)") {
		t.Fatalf("user add while serving: %v\n%s", err, out)
	}
	if out, err := runCLI(t, "x\n", "user", "add", "--data", data, "--email", "bob@example.com", "--name", "Bob"); err == nil || !strings.Contains(out+err.Error(), "at least") {
		t.Errorf("user add with a short password while serving: %v\n%s", err, out)
	}
	if out, err := runCLI(t, "another password\n", "user", "add", "--data", data, "--email", "bob@example.com", "--name", "Bob"); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("duplicate user add while serving: %v\n%s", err, out)
	}
	out, err = runCLI(t, "", "user", "list", "--data", data)
	if err != nil || !regexp.MustCompile(`Bob +bob@example.com +member`).MatchString(out) || !strings.Contains(out, "ada@example.com") {
		t.Fatalf("user list while serving: %v\n%s", err, out)
	}
	api(t, p.url, root, "POST", "/api/spaces/eng/members", map[string]string{"user": "bob@example.com", "role": "editor"})

	t.Run("reset-password", func(t *testing.T) {
		cutOffByCLI(t, p.url, doc, "ada@example.com", "correct horse battery",
			"a brand new password\n", "signed out everywhere and their API tokens are revoked", "reset-password", "--data", data)
		if c, _ := api(t, p.url, root, "GET", "/api/me", nil); c != http.StatusUnauthorized {
			t.Errorf("Ada's first token after the reset: %d; want 401", c)
		}
		signIn(t, p.url, "ada@example.com", "a brand new password", doc)
	})

	t.Run("disable", func(t *testing.T) {
		cutOffByCLI(t, p.url, doc, "bob@example.com", "bob's first password", "", "Disabled bob@example.com", "disable", "--data", data)
		code, body := api(t, p.url, "", "POST", "/api/auth/login", map[string]string{"email": "bob@example.com", "password": "bob's first password"})
		if msg, _ := body["error"].(map[string]any)["message"].(string); code != http.StatusForbidden || !strings.Contains(msg, "deactivated") {
			t.Errorf("a disabled account signing in: %d %v; want 403 saying it is deactivated", code, body)
		}
		out, _ = runCLI(t, "", "user", "list", "--data", data)
		if !regexp.MustCompile(`bob@example.com +member \(deactivated\)`).MatchString(out) {
			t.Errorf("user list does not show Bob disabled:\n%s", out)
		}
		if out, err := runCLI(t, "", "user", "disable", "--data", data, "--email", "nobody@example.com"); err == nil || !strings.Contains(err.Error(), "User not found") {
			t.Errorf("disable of an unknown email: %v\n%s", err, out)
		}
	})
	p.stop(t)

	// With the server stopped the commands open the data file.
	if out, err := runCLI(t, "bob's second password\n", "user", "reset-password", "--data", data, "--email", "bob@example.com"); err != nil {
		t.Fatalf("reset-password on the data file: %v\n%s", err, out)
	}
	if out, err := runCLI(t, "", "user", "list", "--data", data); err != nil || regexp.MustCompile(`\(deactivated\)`).MatchString(out) {
		t.Errorf("after the reset Bob should be enabled again: %v\n%s", err, out)
	}
	if out, err := runCLI(t, "", "user", "disable", "--data", data, "--email", "ada@example.com"); err != nil || !strings.Contains(out, "Disabled ada@example.com") {
		t.Errorf("disable on the data file: %v\n%s", err, out)
	}
}
