package testenv

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/jackc/pgx/v5"
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

func TestReceive(t *testing.T) {
	ch := make(chan int, 1)
	ch <- 7
	if got := Receive(t, ch, time.Second, "a number"); got != 7 {
		t.Errorf("Receive = %d; want 7", got)
	}
}

func TestCollector(t *testing.T) {
	var c Collector[int]
	var wg sync.WaitGroup
	for i := range 10 {
		wg.Go(func() { c.Add(i) })
	}
	wg.Wait()
	got := c.Got()
	slices.Sort(got)
	if want := []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}; !slices.Equal(got, want) || c.Len() != len(want) {
		t.Errorf("Got = %v, Len = %d; want %v", got, c.Len(), want)
	}
}

func TestQueries(t *testing.T) {
	dir := t.TempDir()
	tsv := "red fox\tb.md,a.md\n\nno tab\n \tx.md\nlazy dog\t c.md \n"
	if err := os.WriteFile(filepath.Join(dir, "QUERIES.tsv"), []byte(tsv), 0o644); err != nil {
		t.Fatal(err)
	}
	got := Queries(t, dir)
	want := []Query{{"red fox", []string{"a.md", "b.md"}}, {"lazy dog", []string{"c.md"}}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("Queries = %v; want %v", got, want)
	}
}

func TestGolden(t *testing.T) {
	path := filepath.Join(t.TempDir(), "new", "out.golden")
	Golden(t, path, "hello\n", true)
	if raw, err := os.ReadFile(path); err != nil || string(raw) != "hello\n" {
		t.Fatalf("after update: %q, %v; want the output written", raw, err)
	}
	Golden(t, path, "hello\n", false)
}

func TestPostgres(t *testing.T) {
	var url, schema string
	t.Run("use", func(t *testing.T) {
		url = Postgres(t)
		conn, err := pgx.Connect(context.Background(), url)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(context.Background())
		if err := conn.QueryRow(context.Background(), "SELECT current_schema()").Scan(&schema); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(schema, "docket_test_") {
			t.Errorf("current_schema() = %q; want the fresh docket_test_ schema", schema)
		}
		if _, err := conn.Exec(context.Background(), "CREATE TABLE t (x int)"); err != nil {
			t.Errorf("create a table in the schema: %v", err)
		}
	})
	if schema == "" {
		return // skipped
	}
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var left bool
	if err := conn.QueryRow(context.Background(), "SELECT EXISTS (SELECT FROM pg_namespace WHERE nspname = $1)", schema).Scan(&left); err != nil {
		t.Fatal(err)
	}
	if left {
		t.Errorf("schema %s is still there after its test", schema)
	}
}
