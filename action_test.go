package docket_test

import (
	"testing"
	"time"

	docket "github.com/docket-dev/docket"
)

func TestActionItemOverdueAt(t *testing.T) {
	due := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name string
		item docket.ActionItem
		now  time.Time
		want bool
	}{
		{"before the day", docket.ActionItem{Due: due}, due.Add(-time.Second), false},
		{"during the day", docket.ActionItem{Due: due}, due.Add(23*time.Hour + 59*time.Minute), false},
		{"the day after", docket.ActionItem{Due: due}, due.AddDate(0, 0, 1), true},
		{"done", docket.ActionItem{Due: due, Done: true}, due.AddDate(1, 0, 0), false},
		{"no due date", docket.ActionItem{}, due, false},
		{"other time zone", docket.ActionItem{Due: due}, time.Date(2026, 12, 1, 20, 0, 0, 0, time.FixedZone("X", -5*3600)), true},
	} {
		if got := tc.item.OverdueAt(tc.now); got != tc.want {
			t.Errorf("%s: OverdueAt(%v) = %v; want %v", tc.name, tc.now, got, tc.want)
		}
	}
}
