package markdown

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/docket-dev/docket/internal/testenv"
)

func TestImportTitle(t *testing.T) {
	rust := "- Feature Name: `foo_bar`\n- Start Date: 2026-01-01\n\n# Summary\n\nOne paragraph.\n\n# Motivation\n\nWhy.\n"
	tests := []struct {
		name, file, src, want string
	}{
		{"Rust template with a feature name", "text/0000-template.md", rust, "Foo bar"},
		{"Rust template, placeholder name", "text/0042-my-great-idea.md",
			"- Feature Name: (fill me in with a unique ident, `my_awesome_feature`)\n\n# Summary\n\nText.\n", "My great idea"},
		{"EIP front matter", "EIPS/eip-1559.md",
			"---\neip: 1559\ntitle: Fee market change for ETH 1.0 chain\nauthor: Vitalik\nstatus: Final\n---\n\n## Simple Summary\n\nA transaction pricing mechanism.\n", "Fee market change for ETH 1.0 chain"},
		{"file name made readable", "0042-my-great-idea.md", "Just text.\n", "My great idea"},
		{"only generic headings", "design/2026-cache_plan.md", "# Summary\n\n## Motivation\n\nText.\n", "Cache plan"},
		{"first level-1 heading", "x.md", "# Summary\n\n# Shared **cache**\n", "Shared cache"},
		{"numbered generic heading", "42-eviction.md", "# 1. Overview:\n\nText.\n", "Eviction"},
		{"title line", "notes.md", "**Title:** Shared cache for builds\n\n## Context\n", "Shared cache for builds"},
		{"name line in code is not one", "adr-7.md", "```\nTitle: not this\n```\n\n## Decision\n", "ADR-7"},
		{"other heading after the name lines", "p.md", "## Proposal: Generic methods\n\n## Background\n", "Proposal: Generic methods"},
		{"title line wins over a generic level-1", "p.md", "# Abstract\n\nTitle: Better titles\n", "Better titles"},
		{"number only", "1234.md", "\n", "1234"},
		{"series code", "EIPS/eip-1046.md", "---\neip: 1046\nstatus: Moved\n---\n\nMoved.\n", "EIP-1046"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ImportTitle(tt.src, tt.file); got != tt.want {
				t.Errorf("ImportTitle(%q) = %q; want %q", tt.file, got, tt.want)
			}
		})
	}
}

func TestIsGenericHeading(t *testing.T) {
	for h, want := range map[string]bool{
		"Summary": true, "2. Motivation:": true, "Guide-level explanation": true, "Shared cache": false, "Summary of fees": false,
	} {
		if got := IsGenericHeading(h); got != want {
			t.Errorf("IsGenericHeading(%q) = %v; want %v", h, got, want)
		}
	}
}

// TestImportTitleCorpora imports the titles of the real corpora: no title
// is empty or a template's section heading, and an EIP's is its front
// matter title.
func TestImportTitleCorpora(t *testing.T) {
	for _, name := range []string{"go-proposals", "eips"} {
		files, err := filepath.Glob(filepath.Join(testenv.Corpus(t, name), "*.md"))
		if err != nil || len(files) == 0 {
			t.Fatalf("corpus %s: %d files, %v", name, len(files), err)
		}
		for _, path := range files {
			raw, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			got := ImportTitle(string(raw), filepath.Base(path))
			if got == "" || IsGenericHeading(got) {
				t.Errorf("%s/%s: title %q", name, filepath.Base(path), got)
			}
			if fm, _, err := SplitFrontMatter(string(raw)); err == nil && fm.Title != "" && got != collapseSpace(fm.Title) {
				t.Errorf("%s/%s: title %q; want the front matter's %q", name, filepath.Base(path), got, fm.Title)
			}
		}
	}
}
