package frontend

import (
	"encoding/json"
	"io/fs"
	"path"
	"strings"
	"testing"
)

// manifest reads the bundle's manifest.json.
func manifest(t *testing.T) map[string]string {
	t.Helper()
	data, err := fs.ReadFile(FS(), "manifest.json")
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatalf("manifest.json: %v", err)
	}
	return m
}

// TestBundleEntries checks that each entry a page loads is in the
// manifest under a content-hashed name, and that the file is in the
// bundle.
func TestBundleEntries(t *testing.T) {
	m := manifest(t)
	for _, name := range []string{"app.js", "doc.js", "style.css", "favicon.svg"} {
		file := m[name]
		ext := path.Ext(name)
		if !strings.HasPrefix(file, strings.TrimSuffix(name, ext)+"-") || path.Ext(file) != ext {
			t.Errorf("manifest[%q] = %q; want a hashed name like %s-HASH%s", name, file, strings.TrimSuffix(name, ext), ext)
			continue
		}
		body, err := fs.ReadFile(FS(), file)
		if err != nil {
			t.Errorf("%s: %v", name, err)
		} else if len(body) == 0 {
			t.Errorf("%s: %s is empty", name, file)
		}
	}
}
