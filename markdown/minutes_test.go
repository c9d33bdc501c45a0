package markdown

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/docket-dev/docket"
	"github.com/yuin/goldmark/ast"
	extast "github.com/yuin/goldmark/extension/ast"
	"github.com/yuin/goldmark/text"
)

// TestMinutesCannotBeInjected writes minutes full of hostile user text
// (docket.MinutesData.Markdown lives in the root package, which cannot
// parse markdown) and checks the parsed structure: only the headings,
// lists and quotes the minutes make themselves, and no markup from users.
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
		OpenThreads: []docket.MinutesThread{{Status: docket.ThreadOpen, Quote: join, Author: join, FirstComment: join}},
		Actions:     []docket.MinutesAction{{Text: join, Owner: join}},
		Sessions:    []docket.MinutesSession{{Participants: []docket.MinutesSessionParticipant{{Name: join, Ops: 1}}}},
	}
	src := []byte(m.Markdown())
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
	// Reviewers, Resolved threads, Open threads, Action items, Live
	// sessions; one heading per thread; the summary and two quotes.
	if h1 != 1 || h2 != 9 || h3 != 2 || quotes != 3 {
		t.Errorf("headings %d/%d/%d and %d quotes; want 1/9/2 and 3", h1, h2, h3, quotes)
	}
	// Summary (status, owner, decision, document), timeline, ownership,
	// reviewers, actions, sessions.
	if lists != 6 || items != 9 {
		t.Errorf("%d lists of %d items; want 6 of 9", lists, items)
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
