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

func TestTaskMark(t *testing.T) {
	for _, tc := range []struct {
		line     string
		at       int
		done, ok bool
	}{
		{"- [ ] write the plan", 3, false, true},
		{"* [x] send the notes", 3, true, true},
		{"+ [X] done", 3, true, true},
		{"  - [ ] nested", 5, false, true},
		{"1. [ ] book a room", 4, false, true},
		{"12) [x] numbered", 5, true, true},
		{"> - [ ] quoted", 5, false, true},
		{">> 3. [x] twice quoted", 7, true, true},
		{"-\t[ ] tab", 3, false, true},
		{"- [ ]", 3, false, true},
		{"- [ ]\r", 3, false, true},
		{"- [y] not a box", 0, false, false},
		{"- [ ]x glued", 0, false, false},
		{"-[ ] no space", 0, false, false},
		{"- text [ ] later", 0, false, false},
		{"[ ] no marker", 0, false, false},
		{"1234567890. [ ] too long a number", 0, false, false},
		{"a. [ ] letter", 0, false, false},
		{"", 0, false, false},
		{"-", 0, false, false},
	} {
		at, done, ok := docket.TaskMark(tc.line)
		if at != tc.at || done != tc.done || ok != tc.ok {
			t.Errorf("TaskMark(%q) = %d, %v, %v; want %d, %v, %v", tc.line, at, done, ok, tc.at, tc.done, tc.ok)
		}
	}
}

func TestLineAt(t *testing.T) {
	const text = "one\ntwo\n\nfour"
	for _, tc := range []struct {
		n     int
		line  string
		start int
		ok    bool
	}{
		{1, "one", 0, true},
		{2, "two", 4, true},
		{3, "", 8, true},
		{4, "four", 9, true},
		{5, "", 0, false},
		{0, "", 0, false},
	} {
		line, start, ok := docket.LineAt(text, tc.n)
		if line != tc.line || start != tc.start || ok != tc.ok {
			t.Errorf("LineAt(%d) = %q, %d, %v; want %q, %d, %v", tc.n, line, start, ok, tc.line, tc.start, tc.ok)
		}
	}
}
