package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"

	docket "github.com/docket-dev/docket"
	"github.com/docket-dev/docket/bolt"
	"github.com/docket-dev/docket/internal/testenv"
	"github.com/docket-dev/docket/markdown"
	"golang.org/x/crypto/bcrypt"
)

func openTestData(t testing.TB) *bolt.DB {
	t.Helper()
	return openTestDataAt(t, filepath.Join(t.TempDir(), "docket.db"))
}

// openTestDataAt opens a data file at path with one user, Ada.
func openTestDataAt(t testing.TB, path string) *bolt.DB {
	t.Helper()
	db := bolt.NewDB(path)
	db.PasswordCost = bcrypt.MinCost
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ctx := docket.NewSystemContext(context.Background())
	if _, err := bolt.NewUserService(db).CreateUser(ctx, docket.UserCreate{Name: "Ada", Email: "ada@example.com", Password: "long enough"}); err != nil {
		t.Fatal(err)
	}
	return db
}

func quiet(int) func(string) { return func(string) {} }

// expectedTitle reads the title of a file the simple way: the first
// level-1 heading outside code fences, else the first heading of any level,
// with links and emphasis reduced to their text.
func expectedTitle(t *testing.T, path string) string {
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var first string
	fenced := false
	for _, line := range strings.Split(normalizeText(raw), "\n") {
		if strings.HasPrefix(line, "```") || strings.HasPrefix(line, "~~~") {
			fenced = !fenced
			continue
		}
		if fenced || !strings.HasPrefix(line, "#") {
			continue
		}
		level := len(line) - len(strings.TrimLeft(line, "#"))
		text := strings.TrimSpace(line[level:])
		if level > 6 || text == line[level:] && text != "" {
			continue // "#hashtag" is not a heading
		}
		text = link.ReplaceAllString(text, "$1")
		text = strings.NewReplacer("`", "", "**", "").Replace(text)
		if level == 1 {
			return text
		}
		if first == "" {
			first = text
		}
	}
	return first
}

var link = regexp.MustCompile(`\[([^\]]*)\]\([^)]*\)`)

func TestImportCorpus(t *testing.T) {
	corpusDir := testenv.Corpus(t, "go-proposals")
	db := openTestData(t)
	ctx := context.Background()
	res, err := importDir(ctx, db, corpusDir, "go", "", docket.KindRFC, quiet, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(corpusDir, "*.md"))
	if got, want := res, (importResult{Created: len(files)}); got != want || len(files) != 126 {
		t.Fatalf("first import = %+v of %d files; want %+v of 126", got, len(files), want)
	}
	sys := docket.NewSystemContext(ctx)
	docs := bolt.NewDocumentService(db)
	for _, path := range files {
		name := filepath.Base(path)
		d, err := docs.FindDocumentBySource(sys, "go", "import:"+name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		raw, _ := os.ReadFile(path)
		if got, want := d.Body, normalizeText(raw); got != want {
			t.Errorf("%s: body differs from the file", name)
		}
		want := expectedTitle(t, path)
		if want == "" {
			want = markdown.ReadableName(name)
		}
		if d.Title != want {
			t.Errorf("%s: title = %q; want %q", name, d.Title, want)
		}
		if strings.HasPrefix(d.Body, "\ufeff") || strings.HasPrefix(d.Title, "\ufeff") {
			t.Errorf("%s: byte order mark kept", name)
		}
	}
	// Non-ASCII text survives byte for byte.
	d, err := docs.FindDocumentBySource(sys, "go", "import:12914-monotonic.md")
	if err != nil {
		t.Fatal(err)
	}
	if raw, _ := os.ReadFile(filepath.Join(corpusDir, "12914-monotonic.md")); !strings.Contains(string(raw), "搜索") || !strings.Contains(d.Body, "搜索") {
		t.Errorf("CJK text lost in 12914-monotonic.md")
	}
	// Importing again adds nothing.
	res, err = importDir(ctx, db, corpusDir, "go", "", docket.KindRFC, quiet, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := res, (importResult{Unchanged: len(files)}); got != want {
		t.Fatalf("second import = %+v; want %+v", got, want)
	}
	if _, total, _ := docs.FindDocuments(sys, docket.DocumentFilter{Space: "go"}); total != len(files) {
		t.Fatalf("%d documents after two imports; want %d", total, len(files))
	}
}

func TestImportFormats(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) {
		os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755)
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("bom.md", "\ufeff# Über BOM\r\n\r\nText with CRLF.\r\n")
	write("front.md", "---\ntitle: From Front Matter\ntags: [Storage, db]\n---\n# Heading\n\nBody.\n")
	write("noheading.md", "Just text, no heading.\n")
	write("sub/nested.markdown", "# Nested\n")
	write(".hidden/skip.md", "# Hidden\n")
	write("notes.txt", "# Not markdown\n")
	write("bomb.md", "---\na: &a [x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a]\n---\n# Bomb\n")
	db := openTestData(t)
	ctx := context.Background()
	res, err := importDir(ctx, db, dir, "notes", "ada@example.com", docket.KindNotes, quiet, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if want := (importResult{Created: 4, Skipped: 1}); res != want {
		t.Fatalf("import = %+v; want %+v", res, want)
	}
	sys := docket.NewSystemContext(ctx)
	docs := bolt.NewDocumentService(db)
	for _, tc := range []struct{ source, title, body string }{
		{"import:bom.md", "Über BOM", "# Über BOM\n\nText with CRLF.\n"},
		{"import:front.md", "From Front Matter", "---\ntitle: From Front Matter\ntags: [Storage, db]\n---\n# Heading\n\nBody.\n"},
		{"import:noheading.md", "Noheading", "Just text, no heading.\n"},
		{"import:sub/nested.markdown", "Nested", "# Nested\n"},
	} {
		d, err := docs.FindDocumentBySource(sys, "notes", tc.source)
		if err != nil {
			t.Fatalf("%s: %v", tc.source, err)
		}
		if d.Title != tc.title || d.Body != tc.body || d.Kind != docket.KindNotes {
			t.Errorf("%s = %q %q %s; want %q %q", tc.source, d.Title, d.Body, d.Kind, tc.title, tc.body)
		}
	}
	front, _ := docs.FindDocumentBySource(sys, "notes", "import:front.md")
	if got := strings.Join(front.Tags, ","); got != "storage,db" {
		t.Errorf("tags = %q; want storage,db", got)
	}
	// A changed file updates its document on the next import.
	write("noheading.md", "# Now with a heading\n")
	res, err = importDir(ctx, db, dir, "notes", "", docket.KindNotes, quiet, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if want := (importResult{Updated: 1, Unchanged: 3, Skipped: 1}); res != want {
		t.Fatalf("re-import = %+v; want %+v", res, want)
	}
	d, _ := docs.FindDocumentBySource(sys, "notes", "import:noheading.md")
	if d.Title != "Now with a heading" || d.Version != 2 {
		t.Errorf("updated doc = %q v%d", d.Title, d.Version)
	}
}

// TestImportRefusesLargeFilesAndLinks: a file over the document limit is
// skipped with a reason and without being read into memory; a symbolic
// link, which may lead out of the folder, is skipped with a word rather
// than silently; the rest imports.
func TestImportRefusesLargeFilesAndLinks(t *testing.T) {
	dir, outside := t.TempDir(), t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "ok.md"), []byte("# Fine\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	big, err := os.Create(filepath.Join(dir, "big.md"))
	if err != nil {
		t.Fatal(err)
	}
	if err := big.Truncate(50 << 20); err != nil { // 50 MB of zeros, sparse
		t.Fatal(err)
	}
	big.Close()
	secret := filepath.Join(outside, "secret.md")
	if err := os.WriteFile(secret, []byte("# Outside\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(secret, filepath.Join(dir, "link.md")); err != nil {
		t.Fatal(err)
	}
	db := openTestData(t)
	var warn bytes.Buffer
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	res, err := importDir(context.Background(), db, dir, "notes", "", docket.KindNotes, quiet, &warn)
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	if want := (importResult{Created: 1, Skipped: 2}); res != want {
		t.Fatalf("import = %+v; want %+v\n%s", res, want, warn.String())
	}
	for _, want := range []string{"skipped big.md: The file is 52428800 bytes; a document is at most", "skipped link.md: a symbolic link"} {
		if !strings.Contains(warn.String(), want) {
			t.Errorf("warnings lack %q:\n%s", want, warn.String())
		}
	}
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 20<<20 {
		t.Errorf("import allocated %d MB for a 50 MB file it refuses", grew>>20)
	}
}

func BenchmarkImportCorpus(b *testing.B) {
	corpusDir := testenv.Corpus(b, "go-proposals")
	for b.Loop() {
		b.StopTimer()
		db := openTestData(b)
		b.StartTimer()
		if _, err := importDir(context.Background(), db, corpusDir, "go", "", docket.KindRFC, quiet, io.Discard); err != nil {
			b.Fatal(err)
		}
	}
}

// TestImportTemplateTitles imports a folder of documents written from
// proposal templates: none is titled by a section heading.
func TestImportTemplateTitles(t *testing.T) {
	dir := t.TempDir()
	tests := []struct{ file, content, title string }{
		{"text/0000-shared-cache.md", "- Feature Name: `foo_bar`\n- Start Date: 2026-01-01\n\n# Summary\n\nOne paragraph.\n\n# Motivation\n", "Foo bar"},
		{"EIPS/eip-1559.md", "---\neip: 1559\ntitle: Fee market change\nstatus: Final\n---\n\n## Abstract\n\nText.\n", "Fee market change"},
		{"0042-my-great-idea.md", "# Summary\n\nNo name anywhere.\n", "My great idea"},
		{"adr/0007-use-bolt.md", "# 7. Use bolt\n\n## Context\n", "7. Use bolt"},
	}
	for _, tc := range tests {
		p := filepath.Join(dir, filepath.FromSlash(tc.file))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(tc.content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	db := openTestData(t)
	ctx := context.Background()
	if _, err := importDir(ctx, db, dir, "rfcs", "", docket.KindRFC, quiet, io.Discard); err != nil {
		t.Fatal(err)
	}
	docs := bolt.NewDocumentService(db)
	for _, tc := range tests {
		d, err := docs.FindDocumentBySource(docket.NewSystemContext(ctx), "rfcs", "import:"+tc.file)
		if err != nil {
			t.Fatalf("%s: %v", tc.file, err)
		}
		if d.Title != tc.title {
			t.Errorf("%s: title = %q; want %q", tc.file, d.Title, tc.title)
		}
	}
}
