package bolt

import (
	"strings"
	"testing"
	"time"
)

// TestNextDigest: the digest goes out at the next 07:00 of the person's
// time zone, UTC when they have none or an unknown one. Each case is
// "now zone want"; "-" is no zone.
func TestNextDigest(t *testing.T) {
	for _, tc := range []string{
		"2026-12-07T05:00:00Z - 2026-12-07T07:00:00Z",
		"2026-12-07T07:00:00Z - 2026-12-08T07:00:00Z",
		"2026-12-07T09:30:00Z UTC 2026-12-08T07:00:00Z",
		"2026-12-07T05:00:00Z Europe/Berlin 2026-12-07T06:00:00Z", // 06:00 there
		"2026-12-07T06:30:00Z Europe/Berlin 2026-12-08T06:00:00Z", // 07:30 there
		"2026-12-07T05:00:00Z America/New_York 2026-12-07T12:00:00Z",
		"2026-12-07T05:00:00Z Not/AZone 2026-12-07T07:00:00Z",
	} {
		f := strings.Fields(tc)
		at, _ := time.Parse(time.RFC3339, f[0])
		tz := strings.TrimPrefix(f[1], "-")
		if got := nextDigest(at, tz).Format(time.RFC3339); got != f[2] {
			t.Errorf("nextDigest(%s, %q) = %s; want %s", f[0], tz, got, f[2])
		}
	}
}
