package docket_test

import (
	"testing"

	docket "github.com/docket-dev/docket"
)

func TestChangedBeyondWhitespace(t *testing.T) {
	tests := []struct {
		before, after string
		want          bool
	}{
		{"", "", false},
		{"a b", "a b", false},
		{"a b", "a b\n", false},
		{"one\ntwo words", "one two\n\n  words", false},
		{"teh cat", "the cat", true},
		{"a b", "a b c", true},
		{"", "x", true},
	}
	for _, tt := range tests {
		if got := docket.ChangedBeyondWhitespace(tt.before, tt.after); got != tt.want {
			t.Errorf("ChangedBeyondWhitespace(%q, %q) = %v, want %v", tt.before, tt.after, got, tt.want)
		}
	}
}
