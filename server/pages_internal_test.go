package server

import (
	"html/template"
	"strings"
	"testing"
	"time"

	docket "github.com/docket-dev/docket"
)

func TestSafeNext(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"/d/abc", "/d/abc"},
		{"/search?q=a%20b&type=comment", "/search?q=a%20b&type=comment"},
		{"/d/abc#t-x", "/d/abc#t-x"},
		{"", "/"},
		{"d/abc", "/"},
		{"//evil.example/x", "/"},
		{"/\\evil.example", "/"},
		{"https://evil.example/", "/"},
		{"javascript:alert(1)", "/"},
		{"/ok\r\nSet-Cookie: x=y", "/"},
		{"/\tx", "/"},
	} {
		if got := safeNext(tc.in); got != tc.want {
			t.Errorf("safeNext(%q) = %q; want %q", tc.in, got, tc.want)
		}
	}
}

func TestSafeFragment(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want template.HTML
	}{
		{"a <mark>write</mark>-ahead log", "a <mark>write</mark>-ahead log"},
		{"&lt;script&gt; &amp; &#34;q&#34; &#39;s&#39;", "&lt;script&gt; &amp; &#34;q&#34; &#39;s&#39;"},
		{"<mark>a</mark> and <mark>b</mark>", "<mark>a</mark> and <mark>b</mark>"},
		// Anything else is shown as text, never as markup.
		{"<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;"},
		{"<mark onclick=x>a</mark>", "&lt;mark onclick=x&gt;a&lt;/mark&gt;"},
		{"<mark><mark>a</mark></mark>", "&lt;mark&gt;&lt;mark&gt;a&lt;/mark&gt;&lt;/mark&gt;"},
		{"<mark>open", "&lt;mark&gt;open"},
		{"close</mark>", "close&lt;/mark&gt;"},
		{"a & b", "a &amp; b"},
		{"&#x3c;script", "&amp;#x3c;script"},
		{"a > b", "a &gt; b"},
		{`say "hi"`, "say &#34;hi&#34;"},
	} {
		if got := safeFragment(tc.in); got != tc.want {
			t.Errorf("safeFragment(%q) = %q; want %q", tc.in, got, tc.want)
		}
	}
}

func TestParseDue(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		in   string
		loc  *time.Location
		want time.Time
		err  bool
	}{
		{"", berlin, time.Time{}, false},
		{"2026-12-01T17:00", berlin, time.Date(2026, 12, 1, 16, 0, 0, 0, time.UTC), false},
		{"2026-07-01T17:00", berlin, time.Date(2026, 7, 1, 15, 0, 0, 0, time.UTC), false},
		{"2026-12-01T17:00", time.UTC, time.Date(2026, 12, 1, 17, 0, 0, 0, time.UTC), false},
		{"2026-12-01 09:30", time.UTC, time.Date(2026, 12, 1, 9, 30, 0, 0, time.UTC), false},
		{"2026-12-01", berlin, time.Date(2026, 12, 1, 22, 59, 0, 0, time.UTC), false},
		{"2026-12-01T17:00:00Z", berlin, time.Date(2026, 12, 1, 17, 0, 0, 0, time.UTC), false},
		{"tomorrow", berlin, time.Time{}, true},
		{"2026-13-01", berlin, time.Time{}, true},
	} {
		got, err := parseDue(tc.in, tc.loc)
		if (err != nil) != tc.err || !got.Equal(tc.want) {
			t.Errorf("parseDue(%q, %s) = %v, %v; want %v (error %v)", tc.in, tc.loc, got, err, tc.want, tc.err)
		}
		if err != nil && docket.ErrorCode(err) != docket.EINVALID {
			t.Errorf("parseDue(%q) error code = %s; want invalid", tc.in, docket.ErrorCode(err))
		}
	}
}

func TestCSRFToken(t *testing.T) {
	a, b := csrfToken("session one"), csrfToken("session two")
	if a == b || a != csrfToken("session one") {
		t.Errorf("tokens: %q, %q; want stable per secret and different between them", a, b)
	}
	if len(a) != 43 {
		t.Errorf("token length = %d; want 43 (256 bits, base64url)", len(a))
	}
}

func TestAllowedMoves(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	s := &Server{cfg: Config{Now: func() time.Time { return now }}}
	approved := []*docket.Reviewer{{UserID: "a", Verdict: docket.VerdictApprove}}
	waiting := []*docket.Reviewer{{UserID: "a"}}
	for _, tc := range []struct {
		name     string
		doc      docket.Document
		concerns int
		moves    []docket.Status
		decide   []docket.Status
		blocked  int
	}{
		{"draft", docket.Document{Status: docket.StatusDraft}, 0,
			[]docket.Status{docket.StatusReview, docket.StatusWithdrawn}, nil, 0},
		{"new", docket.Document{}, 0,
			[]docket.Status{docket.StatusReview, docket.StatusWithdrawn}, nil, 0},
		{"review waiting", docket.Document{Status: docket.StatusReview, Due: now.Add(time.Hour), Reviewers: waiting}, 0,
			[]docket.Status{docket.StatusLastCall, docket.StatusDraft, docket.StatusWithdrawn},
			[]docket.Status{docket.StatusDeclined, docket.StatusPostponed}, 1},
		{"review with a concern", docket.Document{Status: docket.StatusReview, Due: now.Add(time.Hour), Reviewers: waiting}, 1,
			[]docket.Status{docket.StatusDraft, docket.StatusWithdrawn},
			[]docket.Status{docket.StatusDeclined, docket.StatusPostponed}, 2},
		{"review approved", docket.Document{Status: docket.StatusReview, Due: now.Add(time.Hour), Reviewers: approved}, 0,
			[]docket.Status{docket.StatusLastCall, docket.StatusDraft, docket.StatusWithdrawn},
			[]docket.Status{docket.StatusAccepted, docket.StatusDeclined, docket.StatusPostponed}, 0},
		{"last call running", docket.Document{Status: docket.StatusLastCall, Due: now.Add(time.Hour), Reviewers: waiting}, 0,
			[]docket.Status{docket.StatusReview, docket.StatusWithdrawn},
			[]docket.Status{docket.StatusDeclined, docket.StatusPostponed}, 1},
		{"last call over", docket.Document{Status: docket.StatusLastCall, Due: now.Add(-time.Hour), Reviewers: waiting}, 0,
			[]docket.Status{docket.StatusReview, docket.StatusWithdrawn},
			[]docket.Status{docket.StatusAccepted, docket.StatusDeclined, docket.StatusPostponed}, 0},
		{"accepted", docket.Document{Status: docket.StatusAccepted}, 0,
			[]docket.Status{docket.StatusSuperseded}, nil, 0},
		{"withdrawn", docket.Document{Status: docket.StatusWithdrawn}, 0, nil, nil, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := &docPage{Doc: &tc.doc}
			s.allowedMoves(d, tc.concerns)
			if !equalStatuses(d.Moves, tc.moves) || !equalStatuses(d.Decide, tc.decide) || len(d.Blocked) != tc.blocked {
				t.Errorf("moves %v, decide %v, blocked %q; want %v, %v and %d reasons", d.Moves, d.Decide, d.Blocked, tc.moves, tc.decide, tc.blocked)
			}
		})
	}
}

// TestAllowedMovesUnderRules checks the moves the page offers under a
// space's default rules: the last call cannot be skipped, a last call
// must run its minimum, and a decided document may be amended.
func TestAllowedMovesUnderRules(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	s := &Server{cfg: Config{Now: func() time.Time { return now }}}
	rules := docket.DefaultDecisionRules()
	space := &docket.Space{Rules: &rules}
	approved := []*docket.Reviewer{{UserID: "a", Verdict: docket.VerdictApprove}}
	for _, tc := range []struct {
		name      string
		doc       docket.Document
		enteredAt time.Time
		decide    []docket.Status
		blocked   string
		amend     bool
	}{
		{"review approved", docket.Document{Status: docket.StatusReview, Due: now.Add(time.Hour), Reviewers: approved}, now,
			[]docket.Status{docket.StatusDeclined, docket.StatusPostponed}, "Accepted: Acceptance needs a completed last call; this document is in review.", false},
		{"last call of a day", docket.Document{Status: docket.StatusLastCall, Due: now.Add(6 * 24 * time.Hour), Reviewers: approved}, now.Add(-24 * time.Hour),
			[]docket.Status{docket.StatusDeclined, docket.StatusPostponed}, "Accepted: Acceptance needs a last call of at least 7 days; this one started 1 day ago.", false},
		{"last call of a week", docket.Document{Status: docket.StatusLastCall, Due: now, Reviewers: approved}, now.Add(-7 * 24 * time.Hour),
			[]docket.Status{docket.StatusAccepted, docket.StatusDeclined, docket.StatusPostponed}, "", false},
		{"accepted", docket.Document{Status: docket.StatusAccepted, Reviewers: approved}, now, nil, "", true},
		{"declined", docket.Document{Status: docket.StatusDeclined, Reviewers: approved}, now, nil, "", true},
		{"withdrawn", docket.Document{Status: docket.StatusWithdrawn, Reviewers: approved}, now, nil, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := &docPage{Doc: &tc.doc, Space: space, Lifecycle: &docket.Lifecycle{EnteredAt: tc.enteredAt, Round: 1}}
			s.allowedMoves(d, 0)
			if !equalStatuses(d.Decide, tc.decide) || strings.Join(d.Blocked, "|") != tc.blocked || d.Amend != tc.amend {
				t.Errorf("decide %v, blocked %q, amend %v; want %v, %q, %v", d.Decide, d.Blocked, d.Amend, tc.decide, tc.blocked, tc.amend)
			}
		})
	}
}

func equalStatuses(a, b []docket.Status) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
