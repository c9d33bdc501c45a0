package testenv

import (
	"os"
	"path/filepath"
	"testing"
	"testing/synctest"
	"time"
)

func TestEventually(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		ready := start.Add(30 * time.Millisecond)
		looks := 0
		if !Eventually(time.Second, func() bool { looks++; return !time.Now().Before(ready) }) {
			t.Fatal("Eventually = false; want true once the condition holds")
		}
		if got := time.Since(start); got < 30*time.Millisecond || got > 30*time.Millisecond+maxPoll {
			t.Errorf("returned after %v; want within %v of the condition holding (30ms)", got, maxPoll)
		}
		if looks > 10 {
			t.Errorf("looked %d times in 30 ms; want the pauses to grow", looks)
		}

		start = time.Now()
		if Eventually(100*time.Millisecond, func() bool { return false }) {
			t.Fatal("Eventually = true for a condition that never holds")
		}
		if got := time.Since(start); got != 100*time.Millisecond {
			t.Errorf("gave up after %v; want the timeout, 100ms", got)
		}
	})
}

func TestShared(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "corpus", "go-proposals"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("DOCKET_SHARED", dir)
	if got, want := Corpus(t, "go-proposals"), filepath.Join(dir, "corpus", "go-proposals"); got != want {
		t.Errorf("Corpus = %q; want %q", got, want)
	}
}

func TestModuleRoot(t *testing.T) {
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Errorf("moduleRoot = %q: %v", root, err)
	}
	if wd, _ := os.Getwd(); filepath.Join(root, "internal", "testenv") != wd {
		t.Errorf("moduleRoot = %q; want two levels above %q", root, wd)
	}
}
