package docket_test

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	docket "github.com/docket-dev/docket"
)

var update = flag.Bool("update", false, "rewrite the golden files of testdata/minutes")

// at returns a time on the scripted days of March 2026.
func at(day, hour, min int) time.Time {
	return time.Date(2026, time.March, day, hour, min, 0, 0, time.UTC)
}

// rfcMinutes is a scripted RFC: drafted by Ada, reviewed by Bob (who
// raised a concern, resolved, then approved) and Carol, a handoff to Bob,
// a last call, and accepted.
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
		CompiledAt: at(20, 12, 0),
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
			{Name: "Bob Builder", Verdicts: []docket.MinutesVerdict{
				{Verdict: docket.VerdictConcern, At: at(4, 14, 5)},
				{Verdict: docket.VerdictApprove, At: at(8, 10, 0)},
			}},
			{Name: "Carol Shaw", Verdicts: []docket.MinutesVerdict{{Verdict: docket.VerdictApprove, At: at(5, 8, 20)}}},
			{Name: "Dan Abramov"},
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
			{Text: "update the style guide", Due: time.Date(2026, 4, 15, 0, 0, 0, 0, time.UTC)},
		},
	}
}

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

func TestMinutesGolden(t *testing.T) {
	for _, tc := range []struct {
		name string
		m    *docket.MinutesData
	}{
		{"rfc", rfcMinutes()},
		{"brainstorm", brainstormMinutes()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.m.Markdown()
			path := filepath.Join("testdata", "minutes", tc.name+".golden")
			if *update {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("Markdown() differs from %s (run with -update after checking):\n--- got\n%s\n--- want\n%s", path, got, want)
			}
		})
	}
}

func TestMinutesSections(t *testing.T) {
	brainstorm := brainstormMinutes().Markdown()
	for _, tc := range []struct {
		name   string
		md     string
		has    []string
		hasNot []string
	}{
		{
			name:   "brainstorm",
			md:     brainstorm,
			has:    []string{"# Minutes: Q3 offsite ideas\n", "## Live sessions", "now (live)", "## Open threads\n\nNone.", "## Action items\n\nNone.", "- **Decision:** none recorded yet"},
			hasNot: []string{"## Decision", "## Reviewers", "## Status timeline", "## Ownership", "## Resolved threads"},
		},
		{
			name: "empty",
			md:   (&docket.MinutesData{}).Markdown(),
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
// structure to the minutes; markdown/minutes_test.go checks the parsed
// result.
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
	md := m.Markdown()
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
	md := m.Markdown()
	i := strings.Index(md, "**A**: ")
	if i < 0 {
		t.Fatalf("no thread line in:\n%s", md)
	}
	line, _, _ := strings.Cut(md[i+len("**A**: "):], "\n")
	if !strings.HasSuffix(line, "word…") || len([]rune(line)) > 281 {
		t.Errorf("excerpt = %q (%d runes); want at most 281 runes ending in an ellipsis after a word", line, len([]rune(line)))
	}
}
