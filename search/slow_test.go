package search

import (
	"strings"
	"testing"
	"time"
)

// TestWorstCaseQueries checks that the most expensive queries the parser
// accepts stay fast.
func TestWorstCaseQueries(t *testing.T) {
	x := smallIndex(t)
	long := strings.Repeat("abcdefghij", 19)
	tests := []string{
		long + "* " + strings.Repeat("x", 39) + "~",
		strings.TrimSpace(strings.Repeat("abcdefghijklm~ ", 32)),
		strings.TrimSpace(strings.Repeat("ab* ", 32)),
		strings.TrimSpace(strings.Repeat("a OR ", 31)) + " b",
		`"` + strings.TrimSpace(strings.Repeat("x ", 99)) + `"`,
		strings.Repeat("東", 200),
	}
	for _, s := range tests {
		start := time.Now()
		search(t, x, s, "pub")
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("Search(%.40q...) took %v", s, d)
		} else {
			t.Logf("Search(%.40q...) took %v", s, d)
		}
	}
}
