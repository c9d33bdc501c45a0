// Package testenv holds what the tests of several packages share: a test
// whose prerequisite is missing skips, except under CI, where it fails;
// the shared corpus is found next to the checkout; and a test waits for a
// condition by polling it until a deadline, never by sleeping for a
// guessed while.
package testenv

import (
	"bufio"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// CI reports whether the tests run under CI ($CI is true, as CI services
// set it): a missing prerequisite is then a failure.
func CI() bool {
	ci, _ := strconv.ParseBool(os.Getenv("CI"))
	return ci
}

// Missing ends a test whose prerequisite (a browser, node, the shared
// corpus) is not there: it skips, or under CI, which must run every test,
// it fails. The message says what is missing and how to get it.
func Missing(tb testing.TB, format string, args ...any) {
	tb.Helper()
	if CI() {
		tb.Fatalf("CI=true and a prerequisite is missing: "+format, args...)
	}
	tb.Skipf(format, args...)
}

// Shared returns the path of elem in the directory of files shared by
// every checkout (the corpus, the bench peers): $DOCKET_SHARED if set,
// else "shared" beside the checkout (../shared from the module root).
// When the path does not exist the test ends through [Missing].
func Shared(tb testing.TB, elem ...string) string {
	tb.Helper()
	dir := os.Getenv("DOCKET_SHARED")
	if dir == "" {
		root, err := moduleRoot()
		if err != nil {
			tb.Fatal(err)
		}
		dir = filepath.Join(filepath.Dir(root), "shared")
	}
	p := filepath.Join(append([]string{dir}, elem...)...)
	if _, err := os.Stat(p); err != nil {
		Missing(tb, "%s not found (set DOCKET_SHARED to the shared directory): %v", filepath.Join(elem...), err)
	}
	return p
}

// Corpus returns the directory of a corpus of the shared directory, such
// as "go-proposals", through [Shared].
func Corpus(tb testing.TB, name string) string {
	tb.Helper()
	return Shared(tb, "corpus", name)
}

// LargestProposal is the text of the largest document of the Go
// proposals corpus (type parameters, about 100 KB of markdown), which the
// benchmarks of rendering, serving and replay measure on.
func LargestProposal(tb testing.TB) string {
	tb.Helper()
	data, err := os.ReadFile(filepath.Join(Corpus(tb, "go-proposals"), "43651-type-parameters.md"))
	if err != nil {
		tb.Fatal(err)
	}
	return string(data)
}

// Query is a line of a corpus's QUERIES.tsv: a phrase, and the files of
// the corpus that contain it, sorted.
type Query struct {
	Phrase string
	Files  []string
}

// Queries reads the QUERIES.tsv of the corpus in dir; lines without a tab
// or a phrase are passed over. A missing file ends the test through
// [Missing]; a file without a query fails it.
func Queries(tb testing.TB, dir string) []Query {
	tb.Helper()
	f, err := os.Open(filepath.Join(dir, "QUERIES.tsv"))
	if err != nil {
		Missing(tb, "no QUERIES.tsv: %v", err)
	}
	defer f.Close()
	var qs []Query
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		phrase, files, ok := strings.Cut(sc.Text(), "\t")
		if !ok || strings.TrimSpace(phrase) == "" {
			continue
		}
		q := Query{Phrase: phrase, Files: strings.Split(strings.TrimSpace(files), ",")}
		slices.Sort(q.Files)
		qs = append(qs, q)
	}
	if err := sc.Err(); err != nil {
		tb.Fatal(err)
	}
	if len(qs) == 0 {
		tb.Fatal("no queries read")
	}
	return qs
}

// Golden compares got with the golden file at path. With update set (a
// test's -update flag) it first writes got there, making the directory.
func Golden(tb testing.TB, path, got string, update bool) {
	tb.Helper()
	if update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		tb.Fatalf("%v (run with -update to create it)", err)
	}
	if got != string(want) {
		tb.Errorf("output differs from %s (run with -update after checking):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

// moduleRoot returns the directory holding go.mod, from the working
// directory of the test (its package's directory) up.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", os.ErrNotExist
		}
		dir = parent
	}
}

// maxPoll is the longest pause between two looks of [Eventually].
const maxPoll = 20 * time.Millisecond

// Eventually reports whether cond holds within timeout. It looks at once,
// then again after pauses that grow from a millisecond to 20 ms, and a
// last time at the deadline. Inside a synctest bubble the pauses are the
// bubble's fake time.
func Eventually(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	pause := time.Millisecond
	timer := time.NewTimer(pause)
	defer timer.Stop()
	for !cond() {
		left := time.Until(deadline)
		if left <= 0 {
			return cond()
		}
		timer.Reset(min(pause, left))
		<-timer.C
		pause = min(2*pause, maxPoll)
	}
	return true
}

// WaitFor fails the test unless cond holds within timeout; what names the
// condition in the failure.
func WaitFor(tb testing.TB, timeout time.Duration, what string, cond func() bool) {
	tb.Helper()
	if !Eventually(timeout, cond) {
		tb.Fatalf("timed out after %v waiting for %s", timeout, what)
	}
}

// Receive returns the next value from ch, or fails the test if none comes
// within timeout; what names the value in the failure.
func Receive[T any](tb testing.TB, ch <-chan T, timeout time.Duration, what string) T {
	tb.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(timeout):
		tb.Fatalf("timed out after %v waiting for %s", timeout, what)
		var zero T
		return zero
	}
}
