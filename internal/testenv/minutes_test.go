package testenv

import (
	"fmt"
	"testing"
)

// errorsTB records the errors of a check instead of failing the test.
type errorsTB struct {
	testing.TB
	errors []string
}

func (e *errorsTB) Helper()             {}
func (e *errorsTB) Logf(string, ...any) {}
func (e *errorsTB) Errorf(format string, args ...any) {
	e.errors = append(e.errors, fmt.Sprintf(format, args...))
}

func TestFrozenMinutes(t *testing.T) {
	for _, tc := range []struct {
		md   string
		want int // errors
	}{
		{"In progress at the decision, known and lively.", 0},
		{"From 14:02 to now.", 1},
		{"A Live session.", 2}, // says "Live" and has the bad "session"
		{"No full stop", 1},    // lacks the want "."
	} {
		tb := &errorsTB{TB: t}
		FrozenMinutes(tb, tc.md, []string{"."}, []string{"session"})
		if got := len(tb.errors); got != tc.want {
			t.Errorf("FrozenMinutes(%q): %d errors %q; want %d", tc.md, got, tb.errors, tc.want)
		}
	}
}
