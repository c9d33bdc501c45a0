//go:build linux

package markdown

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"
)

// hostilePatterns are the inputs on which goldmark was, or could be,
// super-linear (after cmark's pathological tests), as a function of a
// repeat count.
var hostilePatterns = map[string]func(n int) string{
	"nested brackets":          func(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) },
	"nested brackets on lines": func(n int) string { return strings.Repeat("[\n", n) + strings.Repeat("]\n", n) },
	"backticks in html":        func(n int) string { return "<a b=\"`\">" + strings.Repeat("*a_ ", n) + "`" },
	"backticks in html lines":  func(n int) string { return "<a\nb=\"`\">" + strings.Repeat("*a_\n", n) + "`" },
	"backticks after a <":      func(n int) string { return "a < b" + codeRuns(n) },
	"backticks in destination": func(n int) string { return "[a](`x)" + strings.Repeat("*a_ ", n) + "`" },
	"labels on lines":          func(n int) string { return strings.Repeat("[a]\n", n) },
	"image openers":            func(n int) string { return strings.Repeat("![", n) },
	"link closers":             func(n int) string { return strings.Repeat("a]", n) },
	"unclosed links":           func(n int) string { return strings.Repeat("[a](", n) },
	"unclosed links <":         func(n int) string { return strings.Repeat("[a](<", n) },
	"unclosed link titles":     func(n int) string { return strings.Repeat("[a](b (", n) },
	"unclosed links per line":  func(n int) string { return strings.Repeat(strings.Repeat("[a](", 256)+"\n", n/256+1) },
	"emphasis":                 func(n int) string { return strings.Repeat("*a **a ", n) },
	"emphasis closers":         func(n int) string { return strings.Repeat("a* ", n) },
	"emphasis openers":         func(n int) string { return strings.Repeat("*a ", n) },
	"mismatched emphasis":      func(n int) string { return strings.Repeat("*a_ ", n) },
	"nested emphasis":          func(n int) string { return strings.Repeat("*a ", n) + "b" + strings.Repeat(" a*", n) },
	"strikethrough":            func(n int) string { return strings.Repeat("~~a ", n) },
	"backticks": func(n int) string {
		var b strings.Builder
		for i := 1; b.Len() < 3*n; i++ {
			b.WriteString("e" + strings.Repeat("`", i%200+1))
		}
		return b.String()
	},
	"autolink openers": func(n int) string { return strings.Repeat("<a", n) },
	"html openers":     func(n int) string { return strings.Repeat("<a href=", n) },
	"html comments":    func(n int) string { return strings.Repeat("<!--", n) },
	"entities":         func(n int) string { return strings.Repeat("&#", n) },
	"linkify":          func(n int) string { return strings.Repeat("www.a", n) },
	"footnote openers": func(n int) string { return strings.Repeat("[^a", n) },
	"reference definitions": func(n int) string {
		return strings.Repeat("[a]: b\n", n/2) + "\n" + strings.Repeat("[a] ", n/2)
	},
	"block quote":  func(n int) string { return strings.Repeat("> ", 16) + strings.Repeat("a\n", n) },
	"nested lists": func(n int) string { return strings.Repeat("- a\n  ", n) },
	"wide table": func(n int) string {
		return "|" + strings.Repeat("a|", n) + "\n|" + strings.Repeat("-|", n) + "\n" + strings.Repeat("a\n", n)
	},
}

// TestRenderNearLinear renders each hostile pattern repeated n and 4n
// times, and reads its action items, and compares the CPU time of the
// thread (the least of three runs, which other processes on the machine
// do not inflate the way they do wall time): linear parsing takes about 4
// times as long, quadratic 16 times.
func TestRenderNearLinear(t *testing.T) {
	if testing.Short() {
		t.Skip("renders about 50 MB of markdown")
	}
	render := renderUnbounded()
	actions := func(src string) error {
		if items := ActionItems("- [ ] an item\n" + src); len(items) == 0 {
			return fmt.Errorf("no action item")
		}
		return nil
	}
	const n = 4000
	for name, pattern := range hostilePatterns {
		for _, step := range []struct {
			name string
			f    func(string) error
		}{{"render", render}, {"actions", actions}} {
			t.Run(name+"/"+step.name, func(t *testing.T) {
				// Below a millisecond the clock's resolution and the fixed
				// costs dominate: nothing to compare. Under -race a small
				// input can still fall on a fixed cost (<!-- repeated:
				// 0.5, 3.0, 9.8, 31 ms for 16, 64, 256, 1024 KB), so a
				// failure is checked again at 4 times the sizes, where a
				// step worse than linear fails too.
				if msg := scales(t, step.f, pattern(n), pattern(4*n), time.Millisecond, 8); msg != "" {
					if again := scales(t, step.f, pattern(4*n), pattern(16*n), time.Millisecond, 8); again != "" {
						t.Errorf("%s; at 4 times the sizes: %s", msg, again)
					}
				}
			})
		}
	}
}

// renderUnbounded returns a function that renders with a time budget of
// a minute, so that a slow render is measured rather than stopped.
func renderUnbounded() func(string) error {
	r := New(Options{MaxRenderTime: time.Minute})
	return func(src string) error {
		_, err := r.Render(context.Background(), src)
		return err
	}
}

// scales compares the CPU f takes on small and on large, and says what
// went wrong if large took more than limit times as much, or "". A large
// input done in less than floor says nothing and passes. A loaded machine
// (caches, GC assists) can blur one measurement, so it measures up to
// three times: a step worse than linear fails every round, a linear one
// passes at least one.
func scales(t *testing.T, f func(string) error, small, large string, floor time.Duration, limit float64) string {
	t.Helper()
	var msg string
	for range 3 {
		a, b := cpuOf(t, f, small), cpuOf(t, f, large)
		if b < floor {
			return ""
		}
		got := float64(b) / float64(max(a, time.Microsecond))
		if got <= limit {
			return ""
		}
		msg = fmt.Sprintf("%d times the input took %.1f times the CPU (%v, then %v), want < %v", len(large)/len(small), got, a, b, limit)
	}
	return msg
}

// cpuOf returns the least thread CPU time of three runs of f on src.
func cpuOf(t *testing.T, f func(string) error, src string) time.Duration {
	t.Helper()
	best := time.Duration(1<<63 - 1)
	for range 3 {
		var err error
		d := threadCPU(func() { err = f(src) })
		if err != nil {
			t.Fatalf("%d bytes: %v", len(src), err)
		}
		best = min(best, d)
	}
	return best
}

// threadCPU returns the CPU time the calling thread spends running f.
func threadCPU(f func()) time.Duration {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	const clockThreadCPUTime = 3 // CLOCK_THREAD_CPUTIME_ID
	var a, b syscall.Timespec
	syscall.Syscall(syscall.SYS_CLOCK_GETTIME, clockThreadCPUTime, uintptr(unsafe.Pointer(&a)), 0)
	f()
	syscall.Syscall(syscall.SYS_CLOCK_GETTIME, clockThreadCPUTime, uintptr(unsafe.Pointer(&b)), 0)
	return time.Duration(b.Nano() - a.Nano())
}

// TestRenderHostileMemory renders the largest hostile documents and
// bounds the bytes allocated: before defuse, a megabyte of brackets
// allocated 1.3 GB.
func TestRenderHostileMemory(t *testing.T) {
	r := New(Options{MaxRenderTime: time.Minute})
	const half = 1 << 19
	for name, src := range map[string]string{
		"brackets":       strings.Repeat("[", half) + strings.Repeat("]", half),
		"unclosed links": strings.Repeat("[a](", 2*half/4),
	} {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		if _, err := r.Render(context.Background(), src); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		runtime.ReadMemStats(&after)
		if got := after.TotalAlloc - before.TotalAlloc; got > 256<<20 {
			t.Errorf("%s: rendering %d bytes allocated %d MiB, want < 256", name, len(src), got>>20)
		}
	}
}

// TestDefuseLeavesDocumentsAlone checks that defuse escapes only past its
// limits.
func TestDefuseLeavesDocumentsAlone(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"links", "[a](b) [c](d \"t\")\n", "[a](b) [c](d \"t\")\n"},
		{"32 brackets", strings.Repeat("[", 32) + "x", strings.Repeat("[", 32) + "x"},
		{"33 brackets", strings.Repeat("[", 33) + "x", strings.Repeat("[", 32) + `\[x`},
		{"brackets per paragraph", strings.Repeat("[", 32) + "\n\n[x", strings.Repeat("[", 32) + "\n\n[x"},
		{"fenced code", "```\n" + strings.Repeat("[", 40) + "\n```\n", "```\n" + strings.Repeat("[", 40) + "\n```\n"},
		{"delimiter runs", strings.Repeat("*a* ", 129), strings.Repeat("*a* ", 128) + `\*a\* `},
		{"list markers", strings.Repeat("* a\n", 300), strings.Repeat("* a\n", 300)},
		{"many lines of links", strings.Repeat("[a](b) [c](d)\n", 50000), strings.Repeat("[a](b) [c](d)\n", 50000)},
		{"code spans", strings.Repeat("`a` ", 1000), strings.Repeat("`a` ", 1000)},
		{"one unclosed code span", "`a " + strings.Repeat("b", 100000), "`a " + strings.Repeat("b", 100000)},
		// 600 runs in 4,200 bytes: delimiterRuns allows 518.
		{"block quote lines are one paragraph", strings.Repeat("a\n> *b\n", 600), strings.Repeat("a\n> *b\n", 518) + strings.Repeat("a\n> \\*b\n", 82)},
		{"code spans hold no delimiters", strings.Repeat("`a_b` ", 600), strings.Repeat("`a_b` ", 600)},
	} {
		if got := defuse(tc.in); got != tc.want {
			t.Errorf("%s: defuse(%.40q…) = %.80q…, want %.80q…", tc.name, tc.in, got[min(len(got), firstDiff(got, tc.want)):], tc.want[min(len(tc.want), firstDiff(got, tc.want)):])
		}
	}
	// Code span openers of lengths 1 to 400, none closed: goldmark looks
	// for each closer to the end of the paragraph (80 KB), so the first
	// four fit the budget (4 times the paragraph and 64 KiB) and the
	// backticks of the others become character references.
	in := codeRuns(80000)
	got := defuse(in)
	if n := strings.Count(got, "&#96;"); n == 0 || strings.ReplaceAll(got, "&#96;", "`") != in || !strings.HasPrefix(got, in[:14]+"x&#96;") {
		t.Errorf("unclosed code spans: %d backticks neutralised, the rest changed or the first ones not kept", n)
	}
}

// firstDiff returns the first offset where a and b differ.
func firstDiff(a, b string) int {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	return i
}

// TestChunkedRefs checks that link reference definitions in a paragraph
// longer than refChunk lines are all taken, one spanning two chunks
// included, and that the text after them stays a paragraph.
func TestChunkedRefs(t *testing.T) {
	var src strings.Builder
	for i := range refChunk - 1 {
		fmt.Fprintf(&src, "[d%d]: /u%d\n", i, i)
	}
	src.WriteString("[span]:\n/spanned\n") // lines refChunk and refChunk+1
	for i := range 2 * refChunk {
		fmt.Fprintf(&src, "[e%d]: /v%d\n", i, i)
	}
	src.WriteString("text after [d0] [span] [e127]\n")
	got, err := New(Options{}).Render(context.Background(), src.String())
	if err != nil {
		t.Fatal(err)
	}
	want := `<p>text after <a href="/u0" rel="nofollow noopener noreferrer">d0</a> <a href="/spanned" rel="nofollow noopener noreferrer">span</a> <a href="/v127" rel="nofollow noopener noreferrer">e127</a></p>` + "\n"
	if got != want {
		t.Errorf("Render = %q, want %q", got, want)
	}
}

// randomUnitAlphabet is what TestRenderNearLinearRandom builds its
// repeated units from: markdown's syntax characters, container markers,
// indentation and a few letters.
var randomUnitAlphabet = []string{
	"[", "]", "(", ")", "<", ">", "*", "_", "~", "!", "`", "\\", "\n", "\"", "'", "#", "-",
	" ", "a", "|", ":", "&", "^", "w", "@", "1.", "> ", "- ", "    ", "\t", "=", "h", "x",
}

// TestRenderNearLinearRandom renders units of up to six pieces of
// randomUnitAlphabet (seeded, so the same ones every run) repeated to 4 KB
// and to 64 KB: linear parsing takes about 16 times the CPU, quadratic
// 256 times. It found the code span, label line and block quote cases.
func TestRenderNearLinearRandom(t *testing.T) {
	if testing.Short() {
		t.Skip("renders about 40 MB of markdown")
	}
	render := renderUnbounded()
	rng := rand.New(rand.NewPCG(17, 17))
	for range 200 {
		var u strings.Builder
		for k := rng.IntN(6) + 1; k > 0; k-- {
			u.WriteString(randomUnitAlphabet[rng.IntN(len(randomUnitAlphabet))])
		}
		unit := u.String()
		n := 4000 / len(unit)
		if checkNesting(strings.Repeat(unit, 16*n)) != nil {
			continue // refused before parsing
		}
		if msg := scales(t, render, strings.Repeat(unit, n), strings.Repeat(unit, 16*n), 4*time.Millisecond, 64); msg != "" {
			t.Errorf("%q: %s", unit, msg)
		}
	}
}

// codeRuns returns runs of 1, 2, 3… backticks between letters, about n
// bytes: no run has a closer.
func codeRuns(n int) string {
	var b strings.Builder
	for k := 1; b.Len() < n; k++ {
		b.WriteString("x" + strings.Repeat("`", k))
	}
	return b.String()
}
