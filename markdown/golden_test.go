package markdown

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the expected HTML of testdata/*.txt golden files and the minutes of testdata/minutes")

// Golden files hold numbered cases in the format of goldmark's
// _test/extra.txt:
//
//	1: a short description
//	//- - - - - - - - -//
//	markdown input
//	//- - - - - - - - -//
//	expected HTML
//	//= = = = = = = = = = = = = = = = = = = = = = = =//
const (
	goldenSeparator = "//- - - - - - - - -//"
	goldenEnd       = "//= = = = = = = = = = = = = = = = = = = = = = = =//"
)

// goldenCase is one case of a golden file.
type goldenCase struct {
	name     string // the header line, "1: description"
	line     int    // line number of the header
	input    string
	expected string
}

// readGolden parses a golden file.
func readGolden(tb testing.TB, path string) []goldenCase {
	tb.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	var (
		cases []goldenCase
		c     *goldenCase
		part  int // 0 header, 1 input, 2 expected
		lines []string
	)
	text := func() string {
		if len(lines) == 0 {
			return ""
		}
		return strings.Join(lines, "\n") + "\n"
	}
	sc := bufio.NewScanner(strings.NewReader(string(data)))
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		switch {
		case c == nil:
			if strings.TrimSpace(line) == "" {
				continue
			}
			c = &goldenCase{name: line, line: n}
			part, lines = 0, nil
		case line == goldenSeparator:
			switch part {
			case 0:
				part = 1
			case 1:
				c.input = text()
				part = 2
			default:
				tb.Fatalf("%s:%d: unexpected separator", path, n)
			}
			lines = nil
		case line == goldenEnd:
			if part != 2 {
				tb.Fatalf("%s:%d: case %q ends early", path, n, c.name)
			}
			c.expected = text()
			cases = append(cases, *c)
			c = nil
		case part == 0:
			tb.Fatalf("%s:%d: want a separator after the header %q", path, n, c.name)
		default:
			lines = append(lines, line)
		}
	}
	if err := sc.Err(); err != nil {
		tb.Fatal(err)
	}
	if c != nil {
		tb.Fatalf("%s: case %q has no end line", path, c.name)
	}
	return cases
}

// writeGolden writes cases back to path.
func writeGolden(tb testing.TB, path string, cases []goldenCase) {
	tb.Helper()
	var b strings.Builder
	for i, c := range cases {
		if i > 0 {
			b.WriteString("\n\n\n")
		}
		fmt.Fprintf(&b, "%s\n%s\n%s%s\n%s%s\n", c.name, goldenSeparator, c.input, goldenSeparator,
			withNewline(c.expected), goldenEnd)
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		tb.Fatal(err)
	}
}

// withNewline returns s ending in a newline, unless it is empty.
func withNewline(s string) string {
	if s != "" && !strings.HasSuffix(s, "\n") {
		return s + "\n"
	}
	return s
}

// goldenFiles returns the golden files of testdata.
func goldenFiles(tb testing.TB) []string {
	tb.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "*.txt"))
	if err != nil || len(files) == 0 {
		tb.Fatalf("no golden files in testdata: %v", err)
	}
	return files
}

// TestGolden renders every case of testdata/*.txt and compares the HTML
// with the expected one; run with -update to rewrite the expectations.
// Every output must also pass the safety oracle of FuzzRender.
func TestGolden(t *testing.T) {
	r := New(Options{})
	for _, path := range goldenFiles(t) {
		cases := readGolden(t, path)
		for i, c := range cases {
			t.Run(filepath.Base(path)+"/"+c.name, func(t *testing.T) {
				got, err := r.Render(context.Background(), c.input)
				if err != nil {
					t.Fatalf("%s:%d: Render() error = %v", path, c.line, err)
				}
				if msg := unsafeHTML(got); msg != "" {
					t.Errorf("%s:%d: output is unsafe: %s\n%s", path, c.line, msg, got)
				}
				if *update {
					cases[i].expected = got
					return
				}
				if want := c.expected; withNewline(got) != want {
					t.Errorf("%s:%d: Render(%q)\ngot:\n%s\nwant:\n%s", path, c.line, c.input, got, want)
				}
			})
		}
		if *update {
			writeGolden(t, path, cases)
		}
	}
}
