package frontend

import (
	"strings"
	"testing"
)

// jsBudget is the most JavaScript, gzipped, that the document page (the
// heaviest page) may transfer.
const jsBudget = 300 << 10

// TestBundleBudget fails when the JavaScript a document page can load
// (app.js, doc.js and every shared chunk) is over 300 KB gzipped.
func TestBundleBudget(t *testing.T) {
	loadOnce.Do(load)
	total := 0
	for name, a := range files {
		if !strings.HasSuffix(name, ".js") {
			continue
		}
		gz := len(a.gz)
		if gz == 0 {
			gz = len(a.body)
		}
		t.Logf("%s: %d bytes, %d gzipped", name, len(a.body), gz)
		total += gz
	}
	for _, entry := range []string{"app.js", "doc.js"} {
		if plain, _ := Size(entry); plain == 0 {
			t.Errorf("Size(%q) = 0; the bundle has no such entry", entry)
		}
	}
	t.Logf("document page JavaScript: %d bytes gzipped (budget %d)", total, jsBudget)
	if total > jsBudget {
		t.Errorf("document page JavaScript = %d bytes gzipped; want at most %d", total, jsBudget)
	}
}
