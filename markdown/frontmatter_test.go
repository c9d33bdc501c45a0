package markdown

import (
	"strings"
	"testing"
	"time"

	"github.com/docket-dev/docket"
	"github.com/google/go-cmp/cmp"
)

// aliasBomb is the "billion laughs" document: nine levels of nine aliases,
// about 10^9 strings once expanded.
var aliasBomb = `---
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
---
# Boom
`

func TestSplitFrontMatter(t *testing.T) {
	for _, tc := range []struct {
		name     string
		src      string
		wantFM   FrontMatter
		wantBody string
		wantCode string
	}{
		{
			name:     "valid",
			src:      "---\ntitle: Type parameters\ntags: [generics, language]\nstatus: draft\nrfc: 43651\nempty:\nlist: [1, 2]\n---\n# Body\n",
			wantFM:   FrontMatter{Title: "Type parameters", Tags: []string{"generics", "language"}, Extra: map[string]string{"status": "draft", "rfc": "43651", "empty": ""}},
			wantBody: "# Body\n",
		},
		{
			name:     "CRLF",
			src:      "---\r\ntitle: Windows\r\ntags:\r\n  - a\r\n  - b\r\n---\r\nbody\r\n",
			wantFM:   FrontMatter{Title: "Windows", Tags: []string{"a", "b"}},
			wantBody: "body\r\n",
		},
		{
			name:     "BOM",
			src:      "\uFEFF---\ntitle: With BOM\n---\nbody",
			wantFM:   FrontMatter{Title: "With BOM"},
			wantBody: "body",
		},
		{
			name:     "comma separated tags",
			src:      "---\ntags: a, b ,, c\n---\n",
			wantFM:   FrontMatter{Tags: []string{"a", "b", "c"}},
			wantBody: "",
		},
		{
			name:     "empty block",
			src:      "---\n---\nbody",
			wantBody: "body",
		},
		{
			name:     "comments only, closing line at the end without newline",
			src:      "---\n# just a comment\n---",
			wantBody: "",
		},
		{
			name:     "none",
			src:      "# Title\n\n---\n\ntext\n",
			wantBody: "# Title\n\n---\n\ntext\n",
		},
		{
			name:     "leading thematic break without a closing line",
			src:      "---\n\ntext\n",
			wantBody: "---\n\ntext\n",
		},
		{
			name:     "delimiter must be the first line",
			src:      "\n---\ntitle: x\n---\n",
			wantBody: "\n---\ntitle: x\n---\n",
		},
		{
			name:     "invalid YAML",
			src:      "---\ntitle: [unclosed\n---\nbody",
			wantCode: docket.EINVALID,
		},
		{
			name:     "not a mapping",
			src:      "---\n- a\n- b\n---\n",
			wantCode: docket.EINVALID,
		},
		{
			name:     "title not a string",
			src:      "---\ntitle: {a: b}\n---\n",
			wantCode: docket.EINVALID,
		},
		{
			name:     "tags not strings",
			src:      "---\ntags: [[a]]\n---\n",
			wantCode: docket.EINVALID,
		},
		{
			name:     "duplicate key",
			src:      "---\ntitle: a\ntitle: b\n---\n",
			wantCode: docket.EINVALID,
		},
		{
			name:     "anchor without alias",
			src:      "---\ntitle: &t x\n---\n",
			wantCode: docket.EINVALID,
		},
		{
			name:     "merge key",
			src:      "---\nbase: &b {x: 1}\nother:\n  <<: *b\n---\n",
			wantCode: docket.EINVALID,
		},
		{
			name:     "alias bomb",
			src:      aliasBomb,
			wantCode: docket.EINVALID,
		},
		{
			name:     "too large",
			src:      "---\nx: " + strings.Repeat("a", MaxFrontMatterBytes) + "\n---\nbody",
			wantCode: docket.ETOOLARGE,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fm, body, err := SplitFrontMatter(tc.src)
			if got := docket.ErrorCode(err); got != tc.wantCode {
				t.Fatalf("SplitFrontMatter(%q) error = %v; want code %q", tc.src, err, tc.wantCode)
			}
			if err != nil {
				return
			}
			if diff := cmp.Diff(tc.wantFM, fm); diff != "" {
				t.Errorf("SplitFrontMatter(%q) front matter mismatch (-want +got):\n%s", tc.src, diff)
			}
			if body != tc.wantBody {
				t.Errorf("SplitFrontMatter(%q) body = %q; want %q", tc.src, body, tc.wantBody)
			}
			if err := CheckFrontMatter(tc.src); err != nil {
				t.Errorf("CheckFrontMatter(%q) = %v; want nil", tc.src, err)
			}
		})
	}
}

// TestFrontMatterAliasBomb checks that the alias bomb is refused at once,
// with the documented message, and without growing memory.
func TestFrontMatterAliasBomb(t *testing.T) {
	allocs := testing.AllocsPerRun(5, func() {
		start := time.Now()
		err := CheckFrontMatter(aliasBomb)
		if d := time.Since(start); d > time.Second {
			t.Errorf("CheckFrontMatter(alias bomb) took %v", d)
		}
		if got, want := docket.ErrorMessage(err), "Front matter: aliases are not allowed."; got != want {
			t.Errorf("CheckFrontMatter(alias bomb) = %v; want message %q", err, want)
		}
	})
	// Parsing the 600-byte block takes some hundreds of allocations;
	// expanding it would take a billion.
	if allocs > 5000 {
		t.Errorf("CheckFrontMatter(alias bomb) made %v allocations", allocs)
	}
}

// TestTitleBudget checks that Title of a document goldmark parsed in
// super-linear time (the 120 KB of "[a](", which took over 2 s
// and gave up at titleBudget) is found now that defuse keeps the parse
// near-linear: 15 ms, well inside the budget even under the race
// detector on a loaded machine.
func TestTitleBudget(t *testing.T) {
	src := "# Title\n\n" + strings.Repeat("[a](", 30_000)
	start := time.Now()
	got := Title(src)
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("Title(slow input) took %v", d)
	}
	if got != "Title" {
		t.Errorf("Title(slow input) = %q; want \"Title\"", got)
	}
}

func TestTitle(t *testing.T) {
	for _, tc := range []struct {
		name, src, want string
	}{
		{"simple", "# Type parameters\n\ntext", "Type parameters"},
		{"not first line", "intro\n\n# The title\n\n# Second", "The title"},
		{"closing hashes", "# Title ##  \n", "Title"},
		{"inline markup", "# The **`go`** _tool_ [docs](https://go.dev) ![logo](x.png) <b>raw</b>\n", "The go tool docs logo raw"},
		{"escapes and entities", "# A \\*b\\* &amp; &copy; &#65;\n", "A *b* & © A"},
		{"code span keeps backslashes", "# `a\\b` x\n", "a\\b x"},
		{"indented up to three spaces", "   # Indented\n", "Indented"},
		{"level one wins over an earlier level two", "## Two\n\n# One\n", "One"},
		{"without level one, the first heading", "intro\n\n## Proposal: `go install`\n\n### Sub\n", "Proposal: go install"},
		{"setext is not ATX", "Setext\n======\n\n# ATX\n", "ATX"},
		{"setext starting with a hash", "#tag\n===\n", ""},
		{"no space after hash", "#NoSpace\n", ""},
		{"in a code fence", "```\n# not a title\n```\n# Real\n", "Real"},
		{"in a tilde fence", "~~~md\n# not\n~~~\n", ""},
		{"indented code", "    # code\n", ""},
		{"in a list or quote", "- # item\n\n> # quote\n", ""},
		{"empty heading skipped", "#\n\n# Later\n", "Later"},
		{"front matter ignored", "---\ntitle: FM\n---\n# Body title\n", "Body title"},
		{"heading in front matter ignored", "---\n# comment: not a title\n---\ntext\n", ""},
		{"invalid front matter still skipped", "---\na: &x 1\n---\n# After\n", "After"},
		{"whitespace collapsed", "# a\t b   c\n", "a b c"},
		{"GFM in the heading", "# ~~old~~ new www.example.com[^1]\n\n[^1]: x\n", "old new www.example.com"},
		{"deep nesting has no title", "# T\n\n" + strings.Repeat("> ", MaxNesting+1) + "x\n", ""},
		{"none", "just text\n", ""},
		{"empty", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Title(tc.src); got != tc.want {
				t.Errorf("Title(%q) = %q; want %q", tc.src, got, tc.want)
			}
		})
	}
}
