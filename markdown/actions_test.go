package markdown

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/docket-dev/docket"
	"github.com/docket-dev/docket/internal/testenv"
	"github.com/google/go-cmp/cmp"
)

func date(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestActionItems(t *testing.T) {
	for _, tc := range []struct {
		name string
		src  string
		want []docket.ActionItem
	}{
		{
			name: "the example",
			src:  "- [ ] @alice write the migration plan due:2026-12-01\n",
			want: []docket.ActionItem{{Line: 1, Text: "write the migration plan", Assignee: "alice", Due: date("2026-12-01")}},
		},
		{
			name: "markers and done",
			src:  "# Plan\n\n* [x] send the notes\n+ [X] book a room\n1. [ ] ordered\n2) [ ] paren\n",
			want: []docket.ActionItem{
				{Line: 3, Text: "send the notes", Done: true},
				{Line: 4, Text: "book a room", Done: true},
				{Line: 5, Text: "ordered"},
				{Line: 6, Text: "paren"},
			},
		},
		{
			name: "nested lists and block quotes",
			src: "- [ ] parent @bob\n  - [x] child one\n    - [ ] grandchild\n- plain item\n\n" +
				"> - [ ] quoted @carol due:2027-01-31\n> > * [ ] twice quoted\n",
			want: []docket.ActionItem{
				{Line: 1, Text: "parent", Assignee: "bob"},
				{Line: 2, Text: "child one", Done: true},
				{Line: 3, Text: "grandchild"},
				{Line: 6, Text: "quoted", Assignee: "carol", Due: date("2027-01-31")},
				{Line: 7, Text: "twice quoted"},
			},
		},
		{
			name: "code blocks are skipped",
			src: "```\n- [ ] fenced\n```\n\n~~~md\n- [ ] tilde fenced\n~~~\n\n    - [ ] indented code\n\n" +
				"- item\n\n  ```\n  - [ ] fenced in a list\n  ```\n\n- [ ] real one\n",
			want: []docket.ActionItem{{Line: 17, Text: "real one"}},
		},
		{
			name: "not task lists",
			src:  "[ ] not in a list\n\n- text [ ] later\n- [] empty brackets\n- [y] other letter\n\n| a | b |\n|---|---|\n| [ ] | x |\n",
			want: nil,
		},
		{
			name: "continuation lines are joined and tidied",
			src:  "- [ ]   write\tthe    plan\n  and review   it @dave\n\n  second paragraph is not text\n",
			want: []docket.ActionItem{{Line: 1, Text: "write the plan and review it", Assignee: "dave"}},
		},
		{
			name: "lazy continuation in a quote",
			src:  "> - [ ] first line\n> second line\n",
			want: []docket.ActionItem{{Line: 1, Text: "first line second line"}},
		},
		{
			name: "only the first assignee and due are taken",
			src:  "- [ ] @alice, ask @bob to review due:2026-02-01 not due:2026-03-01\n",
			want: []docket.ActionItem{{Line: 1, Text: "ask @bob to review not due:2026-03-01", Assignee: "alice", Due: date("2026-02-01")}},
		},
		{
			name: "assignee anywhere, with punctuation",
			src:  "- [ ] ping @eve.smith. today\n- [ ] ask @ops-team_2: now\n- [ ] mail bob@example.com\n- [ ] @ alone\n- [ ] @-dash\n",
			want: []docket.ActionItem{
				{Line: 1, Text: "ping today", Assignee: "eve.smith"},
				{Line: 2, Text: "ask now", Assignee: "ops-team_2"},
				{Line: 3, Text: "mail bob@example.com"},
				{Line: 4, Text: "@ alone"},
				{Line: 5, Text: "@-dash"},
			},
		},
		{
			name: "email assignee",
			src:  "- [ ] @Alice.B@Example.com. review\n- [ ] @x@nodot stays a name\n",
			want: []docket.ActionItem{
				{Line: 1, Text: "review", Assignee: "Alice.B@Example.com"},
				{Line: 2, Text: "@nodot stays a name", Assignee: "x"},
			},
		},
		{
			name: "unicode names",
			src:  "- [ ] @zoë finish\n",
			want: []docket.ActionItem{{Line: 1, Text: "finish", Assignee: "zoë"}},
		},
		{
			name: "invalid dates stay in the text",
			src: "- [ ] a due:2026-02-30\n- [ ] b due:tomorrow\n- [ ] c due:26-1-1\n- [ ] d Due:2026-05-05.\n" +
				"- [ ] e due:0001-01-01\n- [ ] f due:2026-13-01 due:2026-04-01\n",
			want: []docket.ActionItem{
				{Line: 1, Text: "a due:2026-02-30"},
				{Line: 2, Text: "b due:tomorrow"},
				{Line: 3, Text: "c due:26-1-1"},
				{Line: 4, Text: "d", Due: date("2026-05-05")},
				{Line: 5, Text: "e due:0001-01-01"},
				{Line: 6, Text: "f due:2026-13-01", Due: date("2026-04-01")},
			},
		},
		{
			name: "empty items are left out",
			src:  "- [ ]\n- [x]   \n- [ ] @zed\n- [ ] due:2026-01-01\n",
			want: []docket.ActionItem{
				{Line: 3, Assignee: "zed"},
				{Line: 4, Due: date("2026-01-01")},
			},
		},
		{
			name: "markdown is kept as written",
			src:  "- [ ] read [the RFC](https://example.com/rfc) and `run it` **now**\n",
			want: []docket.ActionItem{{Line: 1, Text: "read [the RFC](https://example.com/rfc) and `run it` **now**"}},
		},
		{
			name: "front matter lines count",
			src:  "---\ntitle: Plan\ntags: [a]\n---\n\n- [ ] after front matter\n",
			want: []docket.ActionItem{{Line: 6, Text: "after front matter"}},
		},
		{
			name: "checkbox in front matter is not an item",
			src:  "---\ntodo: \"- [ ] no\"\n---\n- [ ] yes\n",
			want: []docket.ActionItem{{Line: 4, Text: "yes"}},
		},
		{
			name: "CRLF line ends",
			src:  "intro\r\n\r\n- [ ] one @amy\r\n- [x] two\r\n",
			want: []docket.ActionItem{{Line: 3, Text: "one", Assignee: "amy"}, {Line: 4, Text: "two", Done: true}},
		},
		{
			name: "item after a long multi-byte paragraph",
			src:  strings.Repeat("日本語のテキスト\n", 50) + "\n- [ ] 翻訳する @ken due:2026-06-30\n",
			want: []docket.ActionItem{{Line: 52, Text: "翻訳する", Assignee: "ken", Due: date("2026-06-30")}},
		},
		{
			name: "nesting beyond the limit has no items",
			src:  strings.Repeat("> ", MaxNesting+1) + "- [ ] deep\n",
			want: nil,
		},
		{
			name: "no checkbox at all",
			src:  "# Title\n\nJust text with [links](x) and [ref].\n",
			want: nil,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := ActionItems(tc.src)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("ActionItems(%q) mismatch (-want +got):\n%s", tc.src, diff)
			}
		})
	}
}

// TestActionItemsLinesPointAtCheckboxes checks on many shapes of input
// that every item's line holds its checkbox.
func TestActionItemsLinesPointAtCheckboxes(t *testing.T) {
	src := "# T\n\n> quote\n> - [ ] q1\n>   - [x] q2\n\n1. one\n   - [ ] n1\n\n```\n- [ ] code\n```\n- [ ] last\n"
	items := ActionItems(src)
	if len(items) != 4 {
		t.Fatalf("got %d items; want 4: %+v", len(items), items)
	}
	checkLines(t, "inline", src, items)
}

// checkLines fails unless every item's line of src holds a checkbox.
func checkLines(t *testing.T, name, src string, items []docket.ActionItem) {
	t.Helper()
	lines := strings.Split(src, "\n")
	for _, it := range items {
		if it.Line < 1 || it.Line > len(lines) {
			t.Errorf("%s: item %+v: line out of range 1..%d", name, it, len(lines))
			continue
		}
		if l := lines[it.Line-1]; !checkboxRE.MatchString(l) {
			t.Errorf("%s: item %+v: line %d is %q, without a checkbox", name, it, it.Line, l)
		}
	}
}

var (
	checkboxRE = regexp.MustCompile(`\[[\sxX]\]`)
	// bulletRE finds list items that are not task items yet.
	bulletRE = regexp.MustCompile(`(?m)^(\s*(?:>\s*)*(?:[-*+]|\d{1,9}[.)])[ \t]+)([^\[\s])`)
)

// TestActionItemsCorpus parses every document of the corpus, as written
// and with every list item turned into a task, and checks that nothing
// panics, that it is fast, and that every item found sits on a line with a
// checkbox.
func TestActionItemsCorpus(t *testing.T) {
	corpusDir := testenv.Corpus(t, "go-proposals")
	files, err := filepath.Glob(filepath.Join(corpusDir, "*.md"))
	if err != nil || len(files) == 0 {
		testenv.Missing(t, "no corpus in %s", corpusDir)
	}
	var asWritten, converted, withDue int
	start := time.Now()
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		src := string(data)
		items := ActionItems(src)
		asWritten += len(items)
		checkLines(t, filepath.Base(f), src, items)

		// Make every list item a task, half of them assigned and dated.
		n := 0
		tasks := bulletRE.ReplaceAllStringFunc(src, func(m string) string {
			sub := bulletRE.FindStringSubmatch(m)
			n++
			if n%2 == 0 {
				return sub[1] + "[ ] @gopher due:2027-03-04 " + sub[2]
			}
			return sub[1] + "[x] " + sub[2]
		})
		items = ActionItems(tasks)
		converted += len(items)
		checkLines(t, filepath.Base(f)+" (tasks)", tasks, items)
		for _, it := range items {
			if it.Assignee == "gopher" {
				withDue++
				if !it.Due.Equal(date("2027-03-04")) || it.Done || strings.Contains(it.Text, "@gopher") {
					t.Errorf("%s: line %d: %+v; want assigned, dated, open", f, it.Line, it)
				}
			}
		}
	}
	t.Logf("%d files in %v: %d task items as written, %d after turning list items into tasks (%d assigned)",
		len(files), time.Since(start), asWritten, converted, withDue)
	// The corpus has no task lists of its own; if a new copy does, check
	// its items by hand and update this test.
	if asWritten != 0 {
		t.Errorf("found %d task items in the corpus as written; want 0", asWritten)
	}
	if converted < 1000 || withDue < 500 {
		t.Errorf("found %d items (%d assigned) after conversion; want many", converted, withDue)
	}
}

// TestActionItemsCorpusReal checks items found in a real corpus document
// once its list items are tasks.
func TestActionItemsCorpusReal(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(testenv.Corpus(t, "go-proposals"), "12914-monotonic.md"))
	if err != nil {
		t.Fatal(err)
	}
	src := string(data)
	tasks := bulletRE.ReplaceAllString(src, "$1[ ] $2")
	items := ActionItems(tasks)
	if len(items) == 0 {
		t.Fatal("no items")
	}
	lines := strings.Split(tasks, "\n")
	for _, it := range items {
		line := lines[it.Line-1]
		// The first word of the item's text is on its line.
		first, _, _ := strings.Cut(it.Text, " ")
		if !strings.Contains(line, first) {
			t.Errorf("item %+v: line %d %q does not hold %q", it, it.Line, line, first)
		}
	}
}

// TestActionItemsHostile checks that inputs on which goldmark is slow or
// that are huge come back quickly. "many items" stays well inside the
// render budget even under -race on a busy 2-core machine (10,000 items
// took 1.9 s of the 3 s alone and ran out of it once in CI).
func TestActionItemsHostile(t *testing.T) {
	for _, tc := range []struct {
		name string
		src  string
		want int // items, or -1 for any number
	}{
		{"nested quotes", strings.Repeat(">", 100000) + " - [ ] x", -1},
		{"many items", strings.Repeat("- [ ] @a item due:2026-01-01\n", 2500), 2500},
		{"deep lists", strings.Repeat("- ", 30) + "[ ] x\n" + strings.Repeat("  ", 1000) + "- [ ] y\n", -1},
		{"link runs", "- [ ] " + strings.Repeat("[a](", 50000), -1},
		{"emphasis runs", "- [ ] " + strings.Repeat("*a _", 50000), -1},
		{"too large", strings.Repeat("- [ ] x\n", docket.MaxDocumentBytes/8+1), 0},
		{"brackets", strings.Repeat("[ ]", 300000), -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			items := ActionItems(tc.src)
			if d := time.Since(start); d > DefaultMaxRenderTime+2*time.Second {
				t.Errorf("took %v (%d items)", d, len(items))
			}
			if tc.want >= 0 && len(items) != tc.want {
				t.Errorf("got %d items; want %d", len(items), tc.want)
			}
		})
	}
}

func FuzzActionItems(f *testing.F) {
	for _, s := range []string{
		"- [ ] @alice write the migration plan due:2026-12-01\n",
		"* [x] done\n  - [ ] nested @bob@example.com\n",
		"> 1. [ ] quoted due:2026-02-29\n",
		"```\n- [ ] code\n```\n",
		"---\ntitle: x\n---\n- [X] a\n",
		"- [ ]\r\n- [\t] tab\r\n",
		"    - [ ] indented\n- [ ] @ @@ @. due: due:9999-12-31",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		items := ActionItems(src)
		lines := strings.Count(src, "\n") + 1
		prev := 0
		for _, it := range items {
			if it.Line < 1 || it.Line > lines {
				t.Fatalf("item %+v: line out of 1..%d", it, lines)
			}
			if it.Line < prev {
				t.Fatalf("items out of order: line %d after %d", it.Line, prev)
			}
			prev = it.Line
			if strings.Contains(it.Text, "  ") || strings.TrimSpace(it.Text) != it.Text {
				t.Fatalf("item %+v: text not tidied", it)
			}
			if it.Text == "" && it.Assignee == "" && it.Due.IsZero() {
				t.Fatalf("empty item %+v", it)
			}
			if !it.Due.IsZero() && (it.Due.Location() != time.UTC || it.Due.Hour() != 0) {
				t.Fatalf("item %+v: due not midnight UTC", it)
			}
		}
	})
}

// TestRenderedTaskLines: the source lines the renderer puts on task items
// (data-task-line) are the lines of the action items, in order, and each
// is a line docket.TaskMark finds the checkbox of, so that a click on a
// rendered box ticks its own line.
func TestRenderedTaskLines(t *testing.T) {
	docs := map[string]string{
		"nested":       "# T\n\n> quote\n> - [ ] q1\n>   - [x] q2\n\n1. one\n   - [ ] n1\n\n```\n- [ ] code\n```\n- [ ] last\n",
		"front matter": "---\ntitle: Plan\ntags: [a]\n---\n# Plan\n\n* [X] shipped\n2) [ ] numbered\n\n- [ ] loose\n\n- [ ] list\n",
		"defused":      strings.Repeat("[", 40) + "\n\n- [ ] after " + strings.Repeat("*a ", 300) + "\n- [x] done\n",
	}
	// Corpus documents with their list items made tasks.
	files, _ := filepath.Glob(filepath.Join(testenv.Corpus(t, "go-proposals"), "*.md"))
	for _, f := range files[:min(len(files), 60)] {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		docs[filepath.Base(f)] = bulletRE.ReplaceAllString(string(data), "$1[ ] $2")
	}
	r := New(Options{})
	lineRE := regexp.MustCompile(`data-task-line="(\d+)"`)
	total := 0
	defer func() { t.Logf("%d documents, %d task items", len(docs), total) }()
	for name, src := range docs {
		html, err := r.Render(t.Context(), src)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var rendered []string
		for _, m := range lineRE.FindAllStringSubmatch(html, -1) {
			rendered = append(rendered, m[1])
		}
		var items []string
		for _, it := range ActionItems(src) {
			items = append(items, strconv.Itoa(it.Line))
		}
		total += len(rendered)
		if diff := cmp.Diff(items, rendered); diff != "" {
			t.Errorf("%s: rendered task lines differ from the action items' (-items +rendered):\n%s", name, diff)
		}
		lines := strings.Split(src, "\n")
		for _, l := range rendered {
			n, _ := strconv.Atoi(l)
			if _, _, ok := docket.TaskMark(lines[n-1]); !ok {
				t.Errorf("%s: rendered task line %d is %q, where TaskMark finds no box", name, n, lines[n-1])
			}
		}
	}
}
