package frontend

import (
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestBundleServed(t *testing.T) {
	for _, name := range []string{"app.js", "doc.js", "style.css"} {
		p := Path(name)
		if !strings.HasPrefix(p, Prefix) {
			t.Fatalf("Path(%q) = %q", name, p)
		}
		req := httptest.NewRequest("GET", p, nil)
		req.Header.Set("Accept-Encoding", "gzip")
		rec := httptest.NewRecorder()
		Handler().ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			t.Fatalf("GET %s = %d", p, rec.Code)
		}
		if got := rec.Header().Get("Cache-Control"); got != "public, max-age=31536000, immutable" {
			t.Errorf("Cache-Control = %q", got)
		}
		body := rec.Body.Bytes()
		if rec.Header().Get("Content-Encoding") == "gzip" {
			zr, err := gzip.NewReader(rec.Body)
			if err != nil {
				t.Fatal(err)
			}
			body, _ = io.ReadAll(zr)
		}
		if plain, _ := Size(name); len(body) != plain || plain == 0 {
			t.Errorf("%s: served %d bytes, size %d", name, len(body), plain)
		}
	}
	for _, bad := range []string{"/assets/manifest.json", "/assets/../frontend.go", "/assets/nope.js"} {
		rec := httptest.NewRecorder()
		Handler().ServeHTTP(rec, httptest.NewRequest("GET", bad, nil))
		if rec.Code != http.StatusNotFound {
			t.Errorf("GET %s = %d; want 404", bad, rec.Code)
		}
	}
}
