// Package frontend holds Docket's built browser bundle (dist/, committed,
// built from src/ with esbuild by `npm run build`) and serves it. Asset
// names carry a content hash, so they are served with a year-long,
// immutable cache lifetime; pages find the current names with [Path].
package frontend

import (
	"bytes"
	"compress/gzip"
	"embed"
	"encoding/json"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"sync"
	"time"
)

//go:embed dist
var dist embed.FS

// Prefix is the URL path under which assets are served.
const Prefix = "/assets/"

var (
	loadOnce sync.Once
	manifest map[string]string // logical name -> file name in dist
	files    map[string]*asset
)

// asset is a file of the bundle, kept plain and gzipped.
type asset struct {
	body, gz []byte
	ctype    string
}

func load() {
	manifest = map[string]string{}
	files = map[string]*asset{}
	if data, err := dist.ReadFile("dist/manifest.json"); err == nil {
		json.Unmarshal(data, &manifest)
	}
	fs.WalkDir(dist, "dist", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || path.Base(p) == "manifest.json" {
			return nil
		}
		body, err := dist.ReadFile(p)
		if err != nil {
			return nil
		}
		a := &asset{body: body, ctype: mime.TypeByExtension(path.Ext(p))}
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		zw.Write(body)
		zw.Close()
		if buf.Len() < len(body) {
			a.gz = buf.Bytes()
		}
		files[strings.TrimPrefix(p, "dist/")] = a
		return nil
	})
}

// Path returns the URL of a bundle entry by its logical name, such as
// "app.js" or "style.css", or "" if the bundle has no such entry.
func Path(name string) string {
	loadOnce.Do(load)
	if f, ok := manifest[name]; ok {
		return Prefix + f
	}
	return ""
}

// Size returns the size of an entry in bytes, plain and gzipped (0 if
// gzip does not make it smaller), for budgets and benchmarks.
func Size(name string) (plain, gzipped int) {
	loadOnce.Do(load)
	if a := files[manifest[name]]; a != nil {
		return len(a.body), len(a.gz)
	}
	return 0, 0
}

// Handler serves the bundle's files under Prefix.
func Handler() http.Handler {
	loadOnce.Do(load)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(r.URL.Path, Prefix)
		a := files[name]
		if a == nil || (r.Method != http.MethodGet && r.Method != http.MethodHead) {
			http.NotFound(w, r)
			return
		}
		h := w.Header()
		h.Set("Content-Type", a.ctype)
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
		h.Set("Vary", "Accept-Encoding")
		body := a.body
		if a.gz != nil && strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
			h.Set("Content-Encoding", "gzip")
			body = a.gz
		}
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
	})
}
