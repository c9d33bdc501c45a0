package server

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"sync"
	"time"
)

// assetPrefix is the URL path under which the web bundle is served.
const assetPrefix = "/assets/"

// manifestName is the bundle's file that maps entry names to file names.
const manifestName = "manifest.json"

// assets serves the web bundle of Services.Assets under assetPrefix. The
// file names carry a hash of their content, so they are served with a
// year-long, immutable cache lifetime; pages find the current names with
// path.
type assets struct {
	fsys     fs.FS
	manifest map[string]string // entry name -> file name
	files    map[string]*asset // file name -> file
}

// asset is a file of the bundle, read and gzipped on its first request.
type asset struct {
	once     sync.Once
	ok       bool // read without error
	body, gz []byte
	ctype    string
}

// loadAssets reads the bundle's manifest and lists its files.
func loadAssets(fsys fs.FS) (*assets, error) {
	data, err := fs.ReadFile(fsys, manifestName)
	if err != nil {
		return nil, fmt.Errorf("server: web bundle: %w", err)
	}
	a := &assets{fsys: fsys, files: map[string]*asset{}}
	if err := json.Unmarshal(data, &a.manifest); err != nil {
		return nil, fmt.Errorf("server: web bundle: %s: %w", manifestName, err)
	}
	err = fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && p != manifestName {
			a.files[p] = &asset{ctype: mime.TypeByExtension(path.Ext(p))}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("server: web bundle: %w", err)
	}
	return a, nil
}

// path returns the URL of a bundle entry by its name, such as "app.js" or
// "style.css", or "" if the bundle has no such entry.
func (a *assets) path(name string) string {
	if f, ok := a.manifest[name]; ok {
		return assetPrefix + f
	}
	return ""
}

// load reads the file of f and keeps a gzipped copy if it is smaller.
func (a *assets) load(name string, f *asset) {
	f.once.Do(func() {
		body, err := fs.ReadFile(a.fsys, name)
		if err != nil {
			return // served as not found
		}
		f.body, f.ok = body, true
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		zw.Write(body)
		zw.Close()
		if buf.Len() < len(body) {
			f.gz = buf.Bytes()
		}
	})
}

// ServeHTTP serves a file of the bundle, gzipped if the client accepts it.
func (a *assets) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(r.URL.Path, assetPrefix)
	f := a.files[name]
	if f != nil {
		a.load(name, f)
	}
	if f == nil || !f.ok || (r.Method != http.MethodGet && r.Method != http.MethodHead) {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Type", f.ctype)
	h.Set("Cache-Control", "public, max-age=31536000, immutable")
	h.Set("Vary", "Accept-Encoding")
	body := f.body
	if f.gz != nil && strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
		h.Set("Content-Encoding", "gzip")
		body = f.gz
	}
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
}
