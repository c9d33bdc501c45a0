package server

import (
	"strings"
	"testing"
	"time"
)

func TestAgo(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	p := &page{s: &Server{cfg: Config{Now: func() time.Time { return now }}}, loc: time.UTC}
	for _, tc := range []struct {
		before time.Duration
		want   string
	}{
		{0, ">just now</time>"},
		{59 * time.Second, ">just now</time>"},
		{time.Minute, ">1 minute ago</time>"},
		{12*time.Minute + 30*time.Second, ">12 minutes ago</time>"},
		{time.Hour, ">1 hour ago</time>"},
		{23 * time.Hour, ">23 hours ago</time>"},
		{25 * time.Hour, ">on 30 Apr 2026, 11:00</time>"},
	} {
		got := string(p.Ago(now.Add(-tc.before)))
		if !strings.HasSuffix(got, tc.want) || !strings.HasPrefix(got, `<time datetime="`) {
			t.Errorf("Ago(now - %v) = %s; want a <time> ending %s", tc.before, got, tc.want)
		}
	}
}

func TestEditedSinceLines(t *testing.T) {
	e := editedSince{1: 0, 2: 1, 3: 12}
	for _, tc := range []struct {
		v    int64
		want string
	}{
		{1, "no line differs"},
		{2, "1 line changed"},
		{3, "12 lines changed"},
	} {
		if got := e.Lines(tc.v); got != tc.want {
			t.Errorf("Lines(%d) = %q; want %q", tc.v, got, tc.want)
		}
	}
}
