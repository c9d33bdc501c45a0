package markdown

import (
	"context"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/docket-dev/docket"
	"github.com/docket-dev/docket/internal/testenv"
	"github.com/yuin/goldmark/ast"
	extast "github.com/yuin/goldmark/extension/ast"
	"github.com/yuin/goldmark/text"
)

// at returns a time on the scripted days of March 2026.
func at(day, hour, min int) time.Time {
	return time.Date(2026, time.March, day, hour, min, 0, 0, time.UTC)
}

// rfcMinutes is a scripted RFC, frozen at its decision: drafted by Ada,
// reviewed by Bob (who raised a concern, resolved, then approved) and
// Carol (whose approval the text outgrew), a comment by Dan, a handoff
// to Bob, a last call, and accepted with one open and one outdated
// thread, an overdue action item, and a live session still running at
// the decision with a reader in it.
func rfcMinutes() *docket.MinutesData {
	return &docket.MinutesData{
		DocID:      "k3xq7mrz2a4b6c8d",
		Title:      "Adopt structured logging",
		Kind:       docket.KindRFC,
		Status:     docket.StatusAccepted,
		Owner:      "Bob Builder",
		CreatedBy:  "Ada Lovelace",
		CreatedAt:  at(2, 9, 0),
		Version:    42,
		CompiledAt: at(20, 11, 45),
		Frozen:     true,
		Timeline: []docket.MinutesTransition{
			{To: docket.StatusDraft, At: at(2, 9, 0), By: "Ada Lovelace"},
			{From: docket.StatusDraft, To: docket.StatusReview, At: at(3, 10, 0), By: "Ada Lovelace", Due: at(10, 17, 0)},
			{From: docket.StatusReview, To: docket.StatusLastCall, At: at(12, 9, 30), By: "Bob Builder", Due: at(19, 17, 0)},
			{From: docket.StatusLastCall, To: docket.StatusAccepted, At: at(20, 11, 45), By: "Bob Builder"},
		},
		Handoffs: []docket.MinutesHandoff{
			{From: "Ada Lovelace", To: "Bob Builder", By: "Ada Lovelace", At: at(11, 16, 0)},
		},
		Participants: []string{"Ada Lovelace", "Bob Builder", "Carol Shaw"},
		Reviewers: []docket.MinutesReviewer{
			{Name: "Bob Builder", Verdicts: []docket.MinutesVerdict{bobConcern, bobApproval}},
			{Name: "Carol Shaw", Verdicts: []docket.MinutesVerdict{carolApproval}},
			{Name: "Dan Abramov"},
		},
		Reviews: []docket.MinutesReview{
			{Name: "Bob Builder", MinutesVerdict: bobConcern, Body: "slog allocates on every call with attributes.\n\n- measure the hot path first"},
			{Name: "Carol Shaw", MinutesVerdict: carolApproval, Body: "LGTM now."},
			{Name: "Dan Abramov", MinutesVerdict: docket.MinutesVerdict{Verdict: docket.VerdictComment, At: at(6, 9, 0), Version: 17}, Body: "Please keep *one* logger per request."},
			{Name: "Bob Builder", MinutesVerdict: bobApproval},
		},
		Decision: &docket.MinutesDecision{
			Outcome: docket.StatusAccepted,
			Summary: "We adopt log/slog everywhere.\n\nThe concern about allocation costs was answered by the benchmark in the appendix; handlers stay swappable.",
			By:      "Bob Builder",
			At:      at(20, 11, 45),
			Version: 42,
		},
		ResolvedThreads: []docket.MinutesThread{
			{
				Status:       docket.ThreadResolved,
				Author:       "Bob Builder",
				CreatedAt:    at(4, 14, 5),
				FirstComment: "Concern: slog allocates on every call with attributes, which will hurt the hot path of the collab hub. Please measure before we commit to it.",
				Comments:     3,
				ResolvedBy:   "Ada Lovelace",
				ResolvedAt:   at(7, 18, 30),
				Resolution:   "Benchmark added to the appendix: 0 allocations with LogAttrs.",
			},
			{
				Status:       docket.ThreadResolved,
				Quote:        "Every package logs through a *slog.Logger field\ninjected by cmd/docket.",
				Author:       "Carol Shaw",
				CreatedAt:    at(5, 8, 15),
				FirstComment: "Does this include the bolt package? It has no logger today.",
				Comments:     2,
				ResolvedBy:   "Carol Shaw",
				ResolvedAt:   at(5, 12, 0),
			},
		},
		OpenThreads: []docket.MinutesThread{
			{
				Status:       docket.ThreadOpen,
				Quote:        "Log levels follow the severity of the event.",
				Author:       "Dan Abramov",
				CreatedAt:    at(13, 9, 0),
				FirstComment: "Nit: should we document which level a failed webhook delivery uses?",
				Comments:     1,
			},
		},
		OutdatedThreads: []docket.MinutesThread{
			{
				Status:       docket.ThreadOutdated,
				Quote:        "Text logs by default.",
				Author:       "Carol Shaw",
				CreatedAt:    at(6, 10, 0),
				FirstComment: "JSON might be the better default for containers.",
				Comments:     2,
			},
		},
		Actions: []docket.MinutesAction{
			{Text: "write the migration plan", Owner: "Bob Builder", Due: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)},
			{Text: "add the allocation benchmark to CI", Owner: "Ada Lovelace", Done: true},
			{Text: "announce the change", Owner: "@ghost"},
			{Text: "update the style guide", Due: time.Date(2026, 3, 15, 0, 0, 0, 0, time.UTC), Overdue: true},
		},
		Sessions: []docket.MinutesSession{
			{
				StartedAt: at(6, 14, 0), EndedAt: at(6, 15, 10), StartVersion: 12, EndVersion: 30,
				Participants: []docket.MinutesSessionParticipant{{Name: "Ada Lovelace", Ops: 96}, {Name: "Carol Shaw", Ops: 1}},
			},
			{
				StartedAt: at(20, 11, 2), StartVersion: 40, EndVersion: 42,
				Participants: []docket.MinutesSessionParticipant{
					{Name: "Ada Lovelace", Ops: 3}, {Name: "Dan Abramov"}, {Name: "Bob Builder", Ops: 1}, {Name: "Carol Shaw", Ops: 2},
				},
			},
		},
	}
}

// The verdicts of the scripted RFC, at versions of a text that changed
// after Carol approved and after Bob raised his concern.
var (
	bobConcern    = docket.MinutesVerdict{Verdict: docket.VerdictConcern, At: at(4, 14, 5), Version: 12, Resolved: true, Stale: true}
	carolApproval = docket.MinutesVerdict{Verdict: docket.VerdictApprove, At: at(5, 8, 20), Version: 15, Stale: true}
	bobApproval   = docket.MinutesVerdict{Verdict: docket.VerdictApprove, At: at(8, 10, 0), Version: 42}
)

// brainstormMinutes is a brainstorm with live sessions only.
func brainstormMinutes() *docket.MinutesData {
	return &docket.MinutesData{
		DocID:        "b7rainst0rm0000x",
		Title:        "Q3 offsite ideas",
		Kind:         docket.KindBrainstorm,
		Status:       docket.StatusDraft,
		Owner:        "Carol Shaw",
		CreatedBy:    "Carol Shaw",
		CreatedAt:    at(9, 13, 55),
		Version:      318,
		CompiledAt:   at(9, 16, 0),
		Participants: []string{"Ada Lovelace", "Bob Builder", "Carol Shaw"},
		Sessions: []docket.MinutesSession{
			{
				StartedAt: at(9, 14, 0), EndedAt: at(9, 15, 10), StartVersion: 1, EndVersion: 260,
				Participants: []docket.MinutesSessionParticipant{
					{Name: "Carol Shaw", Ops: 140}, {Name: "Ada Lovelace", Ops: 96}, {Name: "Bob Builder", Ops: 23},
				},
			},
			{
				StartedAt: at(9, 15, 40), StartVersion: 260, EndVersion: 318,
				Participants: []docket.MinutesSessionParticipant{{Name: "Carol Shaw", Ops: 57}, {Name: "Bob Builder", Ops: 1}},
			},
		},
	}
}

// compiledLater makes m minutes compiled (not frozen) a day after its
// decision.
func compiledLater(m *docket.MinutesData) *docket.MinutesData {
	m.Frozen, m.CompiledAt = false, at(21, 8, 0)
	return m
}

// amended makes m the minutes of a second round of review: the move to
// last call reopened the document, and Carol's review was of round 1.
func amended(m *docket.MinutesData) *docket.MinutesData {
	m.Round = 2
	m.Timeline[2].Amend = true
	for i := range m.Reviews {
		m.Reviews[i].Round = 2
	}
	m.Reviews[1].Round = 1
	return m
}

func TestMinutesGolden(t *testing.T) {
	for _, tc := range []struct {
		name string
		m    *docket.MinutesData
	}{
		{"rfc", rfcMinutes()},
		{"brainstorm", brainstormMinutes()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join("testdata", "minutes", tc.name+".golden")
			testenv.Golden(t, path, Minutes(tc.m), *update)
		})
	}
}

func TestMinutesSections(t *testing.T) {
	brainstorm := Minutes(brainstormMinutes())
	for _, tc := range []struct {
		name   string
		md     string
		has    []string
		hasNot []string
	}{
		{
			name:   "brainstorm",
			md:     brainstorm,
			has:    []string{"# Minutes: Q3 offsite ideas\n", "## Editing sessions", "- In progress when compiled (started 9 Mar 2026, 15:40 UTC, 2 editors so far)", "## Open threads\n\nNone.", "## Action items\n\nNone.", "- **Decision:** none recorded yet"},
			hasNot: []string{"## Decision", "## Reviewers", "## Status timeline", "## Ownership", "## Resolved threads", "now", "live"},
		},
		{
			name:   "rfc",
			md:     Minutes(rfcMinutes()),
			has:    []string{"**Accepted with 1 open thread and 1 outdated thread** by Bob Builder", "- In progress at the decision (started 20 Mar 2026, 11:02 UTC, 3 editors so far)", "; read along: 1 person", "(owner Bob Builder, due 1 Dec 2026)", "(due 15 Mar 2026, **overdue**)"},
			hasNot: []string{"now (", "(live)", "Dan Abramov (0", "T09:00:00Z"},
		},
		{
			// Compiled after the decision: the threads may have moved on
			// since, so nothing is said of what the decision left open.
			name:   "rfc compiled later",
			md:     Minutes(compiledLater(rfcMinutes())),
			has:    []string{"**Accepted** by Bob Builder", "Still open.\n", "- **Compiled:** 21 Mar 2026, 08:00 UTC\n", "- In progress when compiled (started 20 Mar 2026, 11:02 UTC"},
			hasNot: []string{"with 1 open thread", "at the decision.", "Frozen"},
		},
		{
			name:   "amended",
			md:     Minutes(amended(rfcMinutes())),
			has:    []string{"- **Round of review:** 2, after the document was amended\n", "- **Dan Abramov**: no verdict in round 2\n", "**Carol Shaw**: approve at version 15 in round 1, ", "review → last-call (amended) by Bob Builder"},
			hasNot: []string{"in round 0"},
		},
		{
			name: "empty",
			md:   Minutes(&docket.MinutesData{}),
			has:  []string{"# Minutes: Untitled\n", "None."},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, s := range tc.has {
				if !strings.Contains(tc.md, s) {
					t.Errorf("minutes lack %q:\n%s", s, tc.md)
				}
			}
			for _, s := range tc.hasNot {
				if strings.Contains(tc.md, s) {
					t.Errorf("minutes have %q:\n%s", s, tc.md)
				}
			}
		})
	}
}

// TestMinutesEscaping checks, line by line, that user text cannot add
// structure to the minutes; TestMinutesCannotBeInjected checks the
// parsed result.
func TestMinutesEscaping(t *testing.T) {
	m := &docket.MinutesData{
		Title: "Evil # title *bold* [link](javascript:x) <b>\n## injected heading",
		Owner: "*Mallory* [x](y) <script>",
		OpenThreads: []docket.MinutesThread{{
			Status:       docket.ThreadOpen,
			Quote:        "line one\n# heading\n- list\n1. ordered\n    indented code\n```\n> nested\n===\n---\n<div>",
			Author:       "_Eve_",
			FirstComment: "see `code` & &amp; ~~strike~~ | pipe\n\n## not a heading",
		}},
		Decision: &docket.MinutesDecision{Outcome: docket.StatusDeclined, Summary: "| a | b |\n|---|---|\n| 1 | 2 |"},
	}
	md := Minutes(m)
	for _, tc := range []struct{ want, notWant string }{
		{want: "# Minutes: Evil \\# title \\*bold\\* \\[link\\](javascript:x) \\<b> \\#\\# injected heading\n"},
		{want: "- **Owner:** \\*Mallory\\* \\[x\\](y) \\<script>\n"},
		{want: "> line one\n> \\# heading\n> \\- list\n> 1\\. ordered\n> indented code\n> \\`\\`\\`\n> \\> nested\n> \\===\n> \\---\n> \\<div>\n"},
		{want: "**\\_Eve\\_**: see \\`code\\` \\& \\&amp; \\~\\~strike\\~\\~ \\| pipe \\#\\# not a heading\n"},
		{want: "> \\| a \\| b \\|\n> \\|---\\|---\\|\n"},
		{notWant: "\n## injected"},
		{notWant: "\n# heading"},
	} {
		if tc.want != "" && !strings.Contains(md, tc.want) {
			t.Errorf("minutes lack %q:\n%s", tc.want, md)
		}
		if tc.notWant != "" && strings.Contains(md, tc.notWant) {
			t.Errorf("minutes have %q:\n%s", tc.notWant, md)
		}
	}
}

func TestMinutesExcerpt(t *testing.T) {
	long := strings.Repeat("word ", 100)
	m := &docket.MinutesData{OpenThreads: []docket.MinutesThread{{Status: docket.ThreadOpen, Author: "A", FirstComment: long}}}
	md := Minutes(m)
	i := strings.Index(md, "**A**: ")
	if i < 0 {
		t.Fatalf("no thread line in:\n%s", md)
	}
	line, _, _ := strings.Cut(md[i+len("**A**: "):], "\n")
	if !strings.HasSuffix(line, "word…") || len([]rune(line)) > 281 {
		t.Errorf("excerpt = %q (%d runes); want at most 281 runes ending in an ellipsis after a word", line, len([]rune(line)))
	}
}

// TestMinutesCannotBeInjected writes minutes full of hostile user text
// and checks the parsed structure: only the headings, lists and quotes
// the minutes make themselves, and no markup from users.
func TestMinutesCannotBeInjected(t *testing.T) {
	hostile := []string{
		"# heading", "## Decision", "- item", "* item", "+ item", "1. item", "2) item", "> quote",
		"```", "~~~", "    code", "\tcode", "<script>alert(1)</script>", "<b>bold</b>", "[link](javascript:alert(1))",
		"![img](x.png)", "*em* _em_ **strong** __strong__", "~~strike~~", "`code`", "| a | b |\n|---|---|\n| 1 | 2 |",
		"===", "---", "***", "&lt;entity&gt; &#x3C;", "[ref]: https://evil.example", "[ref]", "line\\", "trailing  ",
		"https://example.com", "<https://example.com>", "a\r\nb\rc", "\x00\x1b[31m", "[^1]\n\n[^1]: note",
	}
	join := strings.Join(hostile, "\n")
	m := &docket.MinutesData{
		DocID: "<id>", Title: join, Owner: join, CreatedBy: join,
		Timeline:     []docket.MinutesTransition{{From: docket.StatusDraft, To: docket.StatusReview, By: join}},
		Handoffs:     []docket.MinutesHandoff{{From: join, To: join, By: join}},
		Participants: hostile,
		Reviewers:    []docket.MinutesReviewer{{Name: join, Verdicts: []docket.MinutesVerdict{{Verdict: docket.VerdictConcern}}}},
		Decision:     &docket.MinutesDecision{Outcome: docket.StatusAccepted, Summary: join, By: join, SupersededBy: join},
		ResolvedThreads: []docket.MinutesThread{{Status: docket.ThreadResolved, Quote: join, Author: join,
			FirstComment: join, ResolvedBy: join, Resolution: join}},
		OpenThreads:     []docket.MinutesThread{{Status: docket.ThreadOpen, Quote: join, Author: join, FirstComment: join}},
		OutdatedThreads: []docket.MinutesThread{{Status: docket.ThreadOutdated, Quote: join, Author: join, FirstComment: join}},
		Reviews:         []docket.MinutesReview{{Name: join, MinutesVerdict: docket.MinutesVerdict{Verdict: docket.VerdictComment}, Body: join}},
		Actions:         []docket.MinutesAction{{Text: join, Owner: join}},
		Sessions:        []docket.MinutesSession{{Participants: []docket.MinutesSessionParticipant{{Name: join, Ops: 1}}}},
	}
	src := []byte(Minutes(m))
	doc := newGoldmark().Parser().Parse(text.NewReader(src))

	var h1, h2, h3, quotes, lists, items int
	var problems []string
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch n := n.(type) {
		case *ast.Heading:
			switch n.Level {
			case 1:
				h1++
			case 2:
				h2++
			case 3:
				h3++
			default:
				problems = append(problems, "heading level")
			}
		case *ast.Blockquote:
			quotes++
			if _, ok := n.Parent().(*ast.Document); !ok {
				problems = append(problems, "nested quote")
			}
		case *ast.List:
			lists++
		case *ast.ListItem:
			items++
		case *ast.Emphasis:
			if n.Level != 2 {
				problems = append(problems, "emphasis")
			}
		case *ast.Link, *ast.Image, *ast.RawHTML, *ast.HTMLBlock, *ast.CodeSpan, *ast.CodeBlock,
			*ast.FencedCodeBlock, *ast.ThematicBreak, *extast.Strikethrough, *extast.Table, *extast.FootnoteLink:
			problems = append(problems, n.Kind().String())
		}
		return ast.WalkContinue, nil
	})
	for _, p := range problems {
		t.Errorf("user text made a %s", p)
	}
	// The title; Decision, Status timeline, Ownership, Participants,
	// Reviewers, Reviews, Resolved, Outdated and Open threads, Action
	// items, Editing sessions; one heading per thread; the summary, the
	// review body and three quotes.
	if h1 != 1 || h2 != 11 || h3 != 3 || quotes != 5 {
		t.Errorf("headings %d/%d/%d and %d quotes; want 1/11/3 and 5", h1, h2, h3, quotes)
	}
	// Summary (status, owner, decision, threads, document), timeline,
	// ownership, reviewers, actions, sessions.
	if lists != 6 || items != 10 {
		t.Errorf("%d lists of %d items; want 6 of 10", lists, items)
	}

	html, err := New(Options{}).Render(context.Background(), string(src))
	if err != nil {
		t.Fatal(err)
	}
	// Bare http(s) URLs become links (linkify), as in documents; nothing
	// else does.
	links := regexp.MustCompile(`<a [^>]*href="([^"]*)"[^>]*>([^<]*)</a>`).FindAllStringSubmatch(html, -1)
	if len(links) == 0 || strings.Count(html, "<a ") != len(links) {
		t.Errorf("%d links of %d; want the bare URLs linked", len(links), strings.Count(html, "<a "))
	}
	for _, m := range links {
		if !strings.HasPrefix(m[1], "https://e") || m[1] != m[2] {
			t.Errorf("rendered minutes link %q to %q", m[2], m[1])
		}
	}
	for _, bad := range []string{"<script", "<b>", `href="javascript`, "<img", "<code", "<em>", "<del>", "<table", "<pre", "<hr", "<sup"} {
		if strings.Contains(html, bad) {
			t.Errorf("rendered minutes contain %s", bad)
		}
	}
	if t.Failed() {
		t.Logf("minutes:\n%s", src)
	}
}

func TestMinutesSuggestionLine(t *testing.T) {
	for _, tc := range []struct {
		name                      string
		applied, rejected, isOpen int
		want                      string // "" for no line
	}{
		{"none", 0, 0, 0, ""},
		{"applied and rejected", 3, 1, 0, "- **Suggested changes:** 3 suggestions applied, 1 rejected\n"},
		{"one applied", 1, 0, 0, "- **Suggested changes:** 1 suggestion applied\n"},
		{"rejected and open", 0, 1, 2, "- **Suggested changes:** 1 suggestion rejected, 2 open\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			md := Minutes(&docket.MinutesData{SuggestionsApplied: tc.applied, SuggestionsRejected: tc.rejected, SuggestionsOpen: tc.isOpen})
			if tc.want == "" {
				if strings.Contains(md, "Suggested changes") {
					t.Errorf("minutes have a suggestion line:\n%s", md)
				}
				return
			}
			if !strings.Contains(md, tc.want) {
				t.Errorf("minutes lack %q:\n%s", tc.want, md)
			}
		})
	}
}
