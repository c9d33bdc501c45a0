package server_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"io/fs"
	"net/http"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/docket-dev/docket/frontend"
	"github.com/docket-dev/docket/server"
)

// assetPath is the URL of a bundle entry of frontend.FS, read from its
// manifest as the server reads it.
func assetPath(name string) string {
	data, err := fs.ReadFile(frontend.FS(), "manifest.json")
	if err != nil {
		panic(err)
	}
	var m map[string]string
	if err := json.Unmarshal(data, &m); err != nil {
		panic(err)
	}
	return "/assets/" + m[name]
}

// getAsset fetches path asking for gzip, and returns the status, the
// headers and the body as sent.
func getAsset(t *testing.T, e *env, path string) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest("GET", e.http.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept-Encoding", "gzip") // set by hand: the client leaves the body gzipped
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, body
}

// TestBundleServed checks that the entries of the bundle are served
// under their hashed names for a year, gzipped, and that nothing else
// is.
func TestBundleServed(t *testing.T) {
	e := newEnv(t)
	for _, name := range []string{"app.js", "doc.js", "style.css", "favicon.svg"} {
		p := assetPath(name)
		if !strings.HasPrefix(p, "/assets/") || p == "/assets/" {
			t.Fatalf("assetPath(%q) = %q", name, p)
		}
		status, h, body := getAsset(t, e, p)
		if status != http.StatusOK {
			t.Fatalf("GET %s = %d", p, status)
		}
		if got := h.Get("Cache-Control"); got != "public, max-age=31536000, immutable" {
			t.Errorf("Cache-Control = %q", got)
		}
		if h.Get("Content-Encoding") == "gzip" {
			zr, err := gzip.NewReader(bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			body, _ = io.ReadAll(zr)
		}
		want, err := fs.ReadFile(frontend.FS(), strings.TrimPrefix(p, "/assets/"))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(body, want) || len(want) == 0 {
			t.Errorf("%s: served %d bytes; want the file's %d", name, len(body), len(want))
		}
	}
	for _, bad := range []string{"/assets/manifest.json", "/assets/../frontend.go", "/assets/nope.js"} {
		if status, _, _ := getAsset(t, e, bad); status != http.StatusNotFound {
			t.Errorf("GET %s = %d; want 404", bad, status)
		}
	}
}

// TestFavicon checks that pages link the bundle's icon and that
// /favicon.ico, which browsers ask for by themselves, leads to it.
func TestFavicon(t *testing.T) {
	e := newEnv(t)
	icon := assetPath("favicon.svg")
	login := e.client().must(http.StatusOK, "GET", "/login", nil)
	if want := `<link rel="icon" type="image/svg+xml" href="` + icon + `">`; !strings.Contains(string(login.raw), want) {
		t.Errorf("GET /login: no %s", want)
	}
	status, h, _ := getAsset(t, e, icon)
	if got := h.Get("Content-Type"); status != http.StatusOK || got != "image/svg+xml" {
		t.Errorf("GET %s = %d, Content-Type %q; want 200 image/svg+xml", icon, status, got)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Get(e.http.URL + "/favicon.ico")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := resp.Header.Get("Location"); resp.StatusCode != http.StatusMovedPermanently || got != icon {
		t.Errorf("GET /favicon.ico = %d to %q; want 301 to %s", resp.StatusCode, got, icon)
	}
}

// TestBundleOfServices checks that pages name the assets of the bundle
// the server was given, and that the server serves that bundle's files.
func TestBundleOfServices(t *testing.T) {
	bundle := fstest.MapFS{
		"manifest.json":  {Data: []byte(`{"app.js": "app-AAAA.js", "style.css": "style-BBBB.css", "doc.js": "doc-CCCC.js"}`)},
		"app-AAAA.js":    {Data: []byte("console.log('app')\n")},
		"style-BBBB.css": {Data: []byte("body { margin: 0 }\n")},
		"doc-CCCC.js":    {Data: []byte("export {}\n")},
	}
	e := &env{t: t, dir: t.TempDir(), cfg: server.Config{Signup: server.SignupOpen},
		services: func(svc *server.Services) { svc.Assets = bundle }}
	e.start()
	t.Cleanup(e.stop)
	login := e.client().must(http.StatusOK, "GET", "/login", nil)
	for _, want := range []string{`href="/assets/style-BBBB.css"`, `src="/assets/app-AAAA.js"`} {
		if !strings.Contains(string(login.raw), want) {
			t.Errorf("GET /login: no %s", want)
		}
	}
	status, h, body := getAsset(t, e, "/assets/style-BBBB.css")
	if status != http.StatusOK || string(body) != "body { margin: 0 }\n" {
		t.Errorf("GET /assets/style-BBBB.css = %d %q", status, body)
	}
	if got := h.Get("Content-Type"); !strings.HasPrefix(got, "text/css") {
		t.Errorf("Content-Type = %q; want text/css", got)
	}
	if status, _, _ := getAsset(t, e, assetPath("app.js")); status != http.StatusNotFound {
		t.Errorf("GET %s (a file of another bundle) = %d; want 404", assetPath("app.js"), status)
	}
}

// TestNewRequiresServices checks that New names a missing service and
// refuses a bundle without a manifest.
func TestNewRequiresServices(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*server.Services)
		want string
	}{
		{"no search", func(s *server.Services) { s.Search = nil }, "Services.Search is nil"},
		{"no hub", func(s *server.Services) { s.Hub = nil }, "Services.Hub is nil"},
		{"no backup", func(s *server.Services) { s.Backup = nil }, "Services.Backup is nil"},
		{"no assets", func(s *server.Services) { s.Assets = nil }, "Services.Assets is nil"},
		{"no manifest", func(s *server.Services) { s.Assets = fstest.MapFS{"app.js": {}} }, "manifest.json"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			svc := e.svc // the env's services, all set
			tc.edit(&svc)
			_, err := server.New(server.Config{}, svc)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("New = %v; want an error saying %q", err, tc.want)
			}
		})
	}
}
