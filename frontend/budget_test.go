package frontend

import (
	"bytes"
	"compress/gzip"
	"io/fs"
	"strings"
	"testing"
)

// jsBudget is the most JavaScript, gzipped, that the document page (the
// heaviest page) may transfer.
const jsBudget = 300 << 10

// gzipSize is the size of b gzipped as the server sends it (best
// compression), or of b itself if gzip does not make it smaller.
func gzipSize(b []byte) int {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	zw.Write(b)
	zw.Close()
	return min(buf.Len(), len(b))
}

// TestBundleBudget fails when the JavaScript a document page can load
// (app.js, doc.js and every shared chunk) is over 300 KB gzipped.
func TestBundleBudget(t *testing.T) {
	bundle := FS()
	names, err := fs.Glob(bundle, "*.js")
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, name := range names {
		body, err := fs.ReadFile(bundle, name)
		if err != nil {
			t.Fatal(err)
		}
		gz := gzipSize(body)
		t.Logf("%s: %d bytes, %d gzipped", name, len(body), gz)
		total += gz
	}
	m := manifest(t)
	for _, entry := range []string{"app.js", "doc.js"} {
		if !strings.HasSuffix(m[entry], ".js") {
			t.Errorf("manifest[%q] = %q; the bundle has no such entry", entry, m[entry])
		}
	}
	t.Logf("document page JavaScript: %d bytes gzipped (budget %d)", total, jsBudget)
	if total > jsBudget {
		t.Errorf("document page JavaScript = %d bytes gzipped; want at most %d", total, jsBudget)
	}
}
