package bolt

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"testing"
)

// TestStoreBucketsComplete: every top-level bucket the package declares
// is one Copy and Verify walk, so a bucket added without joining
// storeBuckets is caught here, not by a refused migration.
func TestStoreBucketsComplete(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	decl := regexp.MustCompile(`(?m)^\s*bucket\w+\s*=\s*\[\]byte\("([a-z_0-9]+)"\)`)
	var declared []string
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range decl.FindAllSubmatch(src, -1) {
			declared = append(declared, string(m[1]))
		}
	}
	if len(declared) < len(storeBuckets) {
		t.Fatalf("found %d bucket declarations; want at least the %d of storeBuckets", len(declared), len(storeBuckets))
	}
	for _, name := range declared {
		if !slices.ContainsFunc(storeBuckets, func(b []byte) bool { return bytes.Equal(b, []byte(name)) }) {
			t.Errorf("bucket %q is not in storeBuckets: Copy would refuse files that have it", name)
		}
	}
}
