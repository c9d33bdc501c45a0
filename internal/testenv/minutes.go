package testenv

import (
	"regexp"
	"strings"
	"testing"
)

// nowOrLive is what frozen minutes never say: they tell how things stood
// at the decision, not when they are read.
var nowOrLive = regexp.MustCompile(`(?i)\b(now|live)\b`)

// FrozenMinutes checks the markdown of frozen minutes: it contains every
// want, none of the bads, and never the words "now" or "live". On a
// failure it logs the minutes.
func FrozenMinutes(tb testing.TB, md string, wants, bads []string) {
	tb.Helper()
	failed := false
	for _, want := range wants {
		if !strings.Contains(md, want) {
			tb.Errorf("frozen minutes lack %q", want)
			failed = true
		}
	}
	for _, bad := range bads {
		if strings.Contains(md, bad) {
			tb.Errorf("frozen minutes have %q", bad)
			failed = true
		}
	}
	if w := nowOrLive.FindString(md); w != "" {
		tb.Errorf("frozen minutes say %q", w)
		failed = true
	}
	if failed {
		tb.Logf("minutes:\n%s", md)
	}
}
