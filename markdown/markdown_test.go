package markdown

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docket-dev/docket"
	"github.com/docket-dev/docket/internal/testenv"
)

func TestRenderLimits(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name     string
		opts     Options
		src      string
		wantCode string
	}{
		{"input at the cap", Options{MaxInputBytes: 10}, "0123456789", ""},
		{"input over the cap", Options{MaxInputBytes: 10}, "0123456789a", docket.ETOOLARGE},
		{"default input cap", Options{}, strings.Repeat("a", docket.MaxDocumentBytes+1), docket.ETOOLARGE},
		{"output over the cap", Options{MaxOutputBytes: 100}, strings.Repeat("word ", 100), docket.ETOOLARGE},
		{"output cap counts markup", Options{MaxOutputBytes: 1000}, strings.Repeat("*a* ", 100), docket.ETOOLARGE},
		{"output under the cap", Options{MaxOutputBytes: 1000}, strings.Repeat("*a* ", 10), ""},
		{"front matter error", Options{}, "---\na: &x 1\nb: *x\n---\n# T\n", docket.EINVALID},
		{"front matter too large", Options{}, "---\nx: " + strings.Repeat("a", MaxFrontMatterBytes) + "\n---\n", docket.ETOOLARGE},
		{"deep nesting", Options{}, strings.Repeat("> ", MaxNesting+1) + "x\n", docket.EINVALID},
		{"nesting at the limit", Options{}, strings.Repeat("> ", MaxNesting) + "x\n", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.opts).Render(ctx, tc.src)
			if got := docket.ErrorCode(err); got != tc.wantCode {
				t.Errorf("Render() error = %v; want code %q", err, tc.wantCode)
			}
		})
	}
}

// TestRenderBudget feeds inputs on which goldmark is super-linear and
// checks that the time budget stops them. Unbounded, each took from
// seconds to minutes; defuse now keeps them near-linear (see
// TestRenderNearLinear), so the budget here is a millisecond, less than
// any of them takes.
func TestRenderBudget(t *testing.T) {
	const size = docket.MaxDocumentBytes - 64
	r := New(Options{MaxRenderTime: time.Millisecond})
	fill := func(unit string) string { return strings.Repeat(unit, size/len(unit)) }
	for _, tc := range []struct {
		name     string
		src      string
		wantCode string
		within   time.Duration
	}{
		{"link destinations", fill("[a]("), docket.ETOOLARGE, 10 * time.Second},
		{"pointy link destinations", fill("[a](<b"), docket.ETOOLARGE, 10 * time.Second},
		{"mixed emphasis", fill("*a_b*c_d**e_f*g**h*i_j**"), docket.ETOOLARGE, 10 * time.Second},
		{"many link reference definitions", strings.Repeat("[a]: /x\n", 60000) + strings.Repeat("[a]", 60000), docket.ETOOLARGE, 10 * time.Second},
		{"deep nesting is refused before parsing", fill("> - "), docket.EINVALID, time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			_, err := r.Render(context.Background(), tc.src)
			if got := docket.ErrorCode(err); got != tc.wantCode {
				t.Errorf("Render() error = %v; want code %q", err, tc.wantCode)
			}
			if d := time.Since(start); d > tc.within {
				t.Errorf("Render() took %v; want it stopped within %v", d, tc.within)
			}
		})
	}
}

// TestRenderCodeBlockLimits checks that many code blocks cannot make
// highlighting expensive: fences in unknown languages are not looked up
// among chroma's file name patterns, and highlighting stops after
// maxHighlightBlocks blocks.
func TestRenderCodeBlockLimits(t *testing.T) {
	// What is checked is the structure of the output; the time budget
	// is raised so that a loaded machine (-race, parallel builds) does
	// not trip it.
	r := New(Options{MaxRenderTime: 5 * time.Minute})
	for _, unit := range []string{"```nosuchlang\nx\n```\n", "```go\nx\n```\n"} {
		src := strings.Repeat(unit, (docket.MaxDocumentBytes-64)/len(unit))
		start := time.Now()
		got, err := r.Render(context.Background(), src)
		if err != nil {
			t.Fatalf("Render(%d x %q) error = %v", len(src)/len(unit), unit, err)
		}
		t.Logf("Render(%d x %q) took %v", len(src)/len(unit), unit, time.Since(start))
		if n := strings.Count(got, `<pre class="chroma">`); n > maxHighlightBlocks {
			t.Errorf("Render(%d x %q) highlighted %d blocks; want at most %d", len(src)/len(unit), unit, n, maxHighlightBlocks)
		}
	}
}

// TestRenderSparseTable checks that a table header followed by many short
// lines is not padded into a huge table.
func TestRenderSparseTable(t *testing.T) {
	cols := 50000
	src := "|" + strings.Repeat("a|", cols) + "\n|" + strings.Repeat("-|", cols) + "\n" + strings.Repeat("a\n", 200000)
	got, err := New(Options{MaxRenderTime: 5 * time.Minute}).Render(context.Background(), src)
	if err != nil {
		t.Fatalf("Render() error = %v", err)
	}
	if strings.Contains(got, "<table>") {
		t.Errorf("Render() built a table of %d x 200000 cells", cols)
	}
	// A normal table is still a table.
	got, err = New(Options{}).Render(context.Background(), "a|b\n-|-\n1|2\n3\n")
	if err != nil || !strings.Contains(got, "<td>3</td>\n<td></td>") {
		t.Errorf("Render(small table) = %q, %v; want a padded table", got, err)
	}
}

func TestRenderContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := New(Options{}).Render(ctx, "# x"); !errors.Is(err, context.Canceled) {
		t.Errorf("Render(canceled) error = %v; want context.Canceled", err)
	}

	// A deadline that passes during parsing stops the parse.
	ctx, cancel = context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	src := strings.Repeat("[a](", docket.MaxDocumentBytes/4-16)
	if _, err := New(Options{MaxRenderTime: time.Minute}).Render(ctx, src); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Render(slow input, deadline) error = %v; want context.DeadlineExceeded", err)
	}
}

func TestRenderFrontMatterIsNotContent(t *testing.T) {
	src := "\uFEFF---\r\ntitle: Secret title\r\ntags: [a]\r\n---\r\n# Body\r\n"
	got, err := New(Options{}).Render(context.Background(), src)
	if err != nil {
		t.Fatal(err)
	}
	if want := "<h1 id=\"body\">Body</h1>\n"; got != want {
		t.Errorf("Render(%q) = %q; want %q", src, got, want)
	}
}

func TestRenderConcurrent(t *testing.T) {
	r := New(Options{})
	var inputs, want []string
	for _, path := range goldenFiles(t) {
		for _, c := range readGolden(t, path) {
			out, err := r.Render(context.Background(), c.input)
			if err != nil {
				t.Fatal(err)
			}
			inputs, want = append(inputs, c.input), append(want, out)
		}
	}
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range inputs {
				j := (i + g) % len(inputs)
				got, err := r.Render(context.Background(), inputs[j])
				if err != nil || got != want[j] {
					t.Errorf("concurrent Render(%q) = %q, %v; want %q", inputs[j], got, err, want[j])
				}
			}
		}()
	}
	wg.Wait()
}

func TestRendererValidate(t *testing.T) {
	r := New(Options{MaxInputBytes: 1000})
	for _, tc := range []struct {
		name     string
		src      string
		wantCode string
	}{
		{"plain", "# Title\n\ntext", ""},
		{"good front matter", "---\ntitle: x\n---\nbody", ""},
		{"alias", "---\na: &a [1]\nb: *a\n---\n", docket.EINVALID},
		{"too large", strings.Repeat("a", 1001), docket.ETOOLARGE},
		{"deep nesting", strings.Repeat("- ", 40) + "x", docket.EINVALID},
		{"long thematic break", strings.Repeat("- ", 40), ""},
		{"long star break in a quote", "> " + strings.Repeat("* ", 40), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := r.Validate(tc.src)
			if got := docket.ErrorCode(err); got != tc.wantCode {
				t.Errorf("Validate(%q) = %v; want code %q", tc.src, err, tc.wantCode)
			}
		})
	}
}

func TestRendererTitle(t *testing.T) {
	r := New(Options{})
	for _, tc := range []struct {
		src, want string
	}{
		{"---\ntitle: From  front matter\n---\n# Heading\n", "From front matter"},
		{"---\ntags: [a]\n---\n# Heading\n", "Heading"},
		{"---\na: &x 1\n---\n# Heading\n", "Heading"},
		{"no title", ""},
	} {
		if got := r.Title(tc.src); got != tc.want {
			t.Errorf("Title(%q) = %q; want %q", tc.src, got, tc.want)
		}
	}
}

// BenchmarkRender renders the largest document of the shared corpus.
func BenchmarkRender(b *testing.B) {
	src := testenv.LargestProposal(b)
	r := New(Options{})
	ctx := context.Background()
	if _, err := r.Render(ctx, src); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Render(ctx, src); err != nil {
			b.Fatal(err)
		}
	}
}
