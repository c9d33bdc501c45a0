package search

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/docket-dev/docket"
	"github.com/docket-dev/docket/internal/testenv"
)

// openIndex opens an empty index that reads hits through loader.
func openIndex(tb testing.TB, loader TextLoader) *Index {
	tb.Helper()
	return openIndexWith(tb, Options{Loader: loader})
}

// openIndexWith opens an empty index with opts in a temporary directory,
// closed when the test ends.
func openIndexWith(tb testing.TB, opts Options) *Index {
	tb.Helper()
	x, err := Open(filepath.Join(tb.TempDir(), "index"), opts)
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() { x.Close() })
	return x
}

// indexed opens an index over a memLoader that holds docs and comments,
// and indexes them.
func indexed(tb testing.TB, docs []Doc, comments []Comment) (*Index, *memLoader) {
	tb.Helper()
	loader := newMemLoader(docs, comments)
	x := openIndex(tb, loader)
	mustIndex(tb, x, docs, comments)
	return x, loader
}

// mustIndex indexes docs and comments in x.
func mustIndex(tb testing.TB, x *Index, docs []Doc, comments []Comment) {
	tb.Helper()
	ctx := context.Background()
	if err := x.IndexDocuments(ctx, docs); err != nil {
		tb.Fatal(err)
	}
	if err := x.IndexComments(ctx, comments); err != nil {
		tb.Fatal(err)
	}
}

var (
	corpusOnce sync.Once
	corpusDocs []Doc
	corpusErr  error
)

// loadCorpus reads the Go proposals as documents of space "s1", ids the
// file names.
func loadCorpus(tb testing.TB) []Doc {
	tb.Helper()
	corpusDir := testenv.Corpus(tb, "go-proposals")
	corpusOnce.Do(func() {
		files, err := filepath.Glob(filepath.Join(corpusDir, "*.md"))
		if err != nil || len(files) == 0 {
			corpusErr = err
			return
		}
		base := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
		for i, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				corpusErr = err
				return
			}
			name := filepath.Base(f)
			title := name
			for line := range strings.SplitSeq(string(b), "\n") {
				if t, ok := strings.CutPrefix(line, "# "); ok {
					title = strings.TrimSpace(t)
					break
				}
			}
			corpusDocs = append(corpusDocs, Doc{
				ID: name, SpaceID: "s1", Title: title, Body: string(b),
				Kind: docket.KindRFC, Status: docket.StatusAccepted, OwnerID: "u1",
				Tags: []string{"go"}, Version: int64(i + 1),
				CreatedAt: base.AddDate(0, 0, i), UpdatedAt: base.AddDate(0, 0, i),
			})
		}
	})
	if corpusErr != nil || len(corpusDocs) == 0 {
		testenv.Missing(tb, "corpus not available: %v", corpusErr)
	}
	return corpusDocs
}

var (
	corpusIndexOnce sync.Once
	corpusIndex     *Index
)

// sharedCorpusIndex returns one read-only index of the corpus for the
// whole test binary.
func sharedCorpusIndex(tb testing.TB) *Index {
	tb.Helper()
	docs := loadCorpus(tb)
	corpusIndexOnce.Do(func() {
		dir, err := os.MkdirTemp("", "docket-search-corpus")
		if err != nil {
			tb.Fatal(err)
		}
		x, err := Open(filepath.Join(dir, "index"), Options{Loader: newMemLoader(docs, nil)})
		if err != nil {
			tb.Fatal(err)
		}
		start := time.Now()
		if err := x.IndexDocuments(context.Background(), docs); err != nil {
			tb.Fatal(err)
		}
		tb.Logf("indexed %d corpus documents in %v", len(docs), time.Since(start))
		corpusIndex = x
	})
	if corpusIndex == nil {
		tb.Fatal("corpus index failed")
	}
	return corpusIndex
}

func TestMain(m *testing.M) {
	code := m.Run()
	if corpusIndex != nil {
		corpusIndex.Close()
		os.RemoveAll(filepath.Dir(corpusIndex.dir))
	}
	os.Exit(code)
}

func mustParse(tb testing.TB, s string) Query {
	tb.Helper()
	q, err := ParseQuery(s)
	if err != nil {
		tb.Fatalf("ParseQuery(%q): %v", s, err)
	}
	return q
}

func TestGroundTruth(t *testing.T) {
	x := sharedCorpusIndex(t)
	f, err := os.Open(filepath.Join(testenv.Corpus(t, "go-proposals"), "QUERIES.tsv"))
	if err != nil {
		testenv.Missing(t, "no QUERIES.tsv: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		phrase, files, ok := strings.Cut(sc.Text(), "\t")
		if !ok || strings.TrimSpace(phrase) == "" {
			continue
		}
		n++
		want := strings.Split(strings.TrimSpace(files), ",")
		sort.Strings(want)
		t.Run(phrase, func(t *testing.T) {
			q := mustParse(t, `"`+phrase+`"`)
			q.ReadableSpaces = []string{"s1"}
			q.Limit = MaxLimit
			res, err := x.Search(context.Background(), q)
			if err != nil {
				t.Fatalf("Search: %v", err)
			}
			var got []string
			for _, h := range res.Hits {
				got = append(got, h.DocID)
				if len(h.Fragments) == 0 {
					t.Errorf("hit %s has no fragments", h.DocID)
				}
			}
			sort.Strings(got)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("Search(%q) files (-want +got):\n%s", phrase, diff)
			}
			if res.Total != uint64(len(want)) {
				t.Errorf("Total = %d; want %d", res.Total, len(want))
			}
		})
	}
	if n == 0 {
		t.Fatal("no queries read")
	}
}

func TestPlainText(t *testing.T) {
	md := "# Title *here*\n\nSome **bold** and _emph_ and snake_case, a [link](http://x.example/secret) " +
		"and ![alt text](img.png) <b>tag</b>.\n\n```go\nfunc main() {}\n```\n\n> quoted\n- item one\n\n[ref]: http://example.com/hidden\n" +
		"\n| option | **files** |\n|:---|---:|\n| bbolt | one |\n"
	body, headings := PlainText(md)
	_, _, links := plainText(md)
	for _, want := range []string{"secret", "img png", "hidden"} {
		if !strings.Contains(links, want) {
			t.Errorf("plainText links lack %q: %q", want, links)
		}
	}
	for _, want := range []string{"Title here", "bold", " emph ", "snake_case", "link", "alt text", "func main() {}", "quoted", "item one", " option   files ", " bbolt   one "} {
		if !strings.Contains(body, want) {
			t.Errorf("PlainText body lacks %q:\n%s", want, body)
		}
	}
	for _, bad := range []string{"http", "secret", "img.png", "```", "**", "<b>", "hidden", "|", "---"} {
		if strings.Contains(body, bad) {
			t.Errorf("PlainText body contains %q:\n%s", bad, body)
		}
	}
	if diff := cmp.Diff([]string{"Title here"}, headings); diff != "" {
		t.Errorf("headings (-want +got):\n%s", diff)
	}
}

func testDocs() []Doc {
	t0 := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	return []Doc{
		{ID: "d1", SpaceID: "pub", Title: "Release planning", Body: "# Goals\n\nWe ship the **quarterly** release.\nThe café opens at nine.\n",
			Kind: docket.KindRFC, Status: docket.StatusDraft, OwnerID: "alice", Tags: []string{"Release", "plan"}, Version: 3, CreatedAt: t0, UpdatedAt: t0},
		{ID: "d2", SpaceID: "pub", Title: "Meeting notes", Body: "Notes about the release and 1 < 2 && <b>x</b> > y escaping.\n数据库迁移计划已经完成。\nПривет мир, поиск работает.\n東京タワーへ行く。🚀 launch day, 한국어 문서.\n",
			Kind: docket.KindNotes, Status: docket.StatusAccepted, OwnerID: "bob", Tags: []string{"notes"}, Version: 7, CreatedAt: t0.AddDate(0, 1, 0), UpdatedAt: t0.AddDate(0, 1, 0)},
		{ID: "d3", SpaceID: "secret", Title: "Zanzibar acquisition", Body: "The zanzibarish plan is confidential. Also release.\n",
			Kind: docket.KindRFC, Status: docket.StatusReview, OwnerID: "mallory", Tags: []string{"hushhush"}, Version: 2, CreatedAt: t0, UpdatedAt: t0},
	}
}

func testComments() []Comment {
	t0 := time.Date(2025, 5, 1, 12, 0, 0, 0, time.UTC)
	return []Comment{
		{ID: "c1", DocID: "d1", ThreadID: "t1", SpaceID: "pub", DocTitle: "Release planning", AuthorID: "carol", Body: "Should the release wait?", CreatedAt: t0},
		{ID: "c2", DocID: "d3", ThreadID: "t2", SpaceID: "secret", DocTitle: "Zanzibar acquisition", AuthorID: "mallory", Body: "zanzibar secrets in a comment", CreatedAt: t0},
	}
}

func smallIndex(tb testing.TB) *Index {
	tb.Helper()
	x, _ := indexed(tb, testDocs(), testComments())
	return x
}

func search(tb testing.TB, x *Index, s string, spaces ...string) *Result {
	tb.Helper()
	q := mustParse(tb, s)
	q.ReadableSpaces = spaces
	res, err := x.Search(context.Background(), q)
	if err != nil {
		tb.Fatalf("Search(%q): %v", s, err)
	}
	return res
}

func ids(res *Result) []string {
	var out []string
	for _, h := range res.Hits {
		out = append(out, h.ID)
	}
	sort.Strings(out)
	return out
}

func TestSearchSyntax(t *testing.T) {
	x := smallIndex(t)
	tests := []struct {
		q    string
		want []string
	}{
		{"release", []string{"c1", "d1", "d2"}},
		{"RELEASE planning", []string{"d1"}},
		{"release -notes", []string{"c1", "d1"}},
		{"quarterly OR meeting", []string{"d1", "d2"}},
		{`"the release"`, []string{"c1", "d2"}},
		{"type:comment release", []string{"c1"}},
		{"type:document release", []string{"d1", "d2"}},
		{"status:accepted release", []string{"d2"}},
		{"kind:notes", []string{"d2"}},
		{"tag:release", []string{"d1"}},
		{"owner:bob", []string{"d2"}},
		{"author:carol", []string{"c1"}},
		{"space:pub quarterly", []string{"d1"}},
		{"in:title release", []string{"d1"}},
		{"in:title notes", []string{"d2"}},
		{"releas*", []string{"c1", "d1", "d2"}},
		{"relase~", []string{"c1", "d1", "d2"}},
		{"cafe", []string{"d1"}},
		{"café", []string{"d1"}},
		{"goals", []string{"d1"}},
		{"数据库", []string{"d2"}},
		{"迁移计划", []string{"d2"}},
		{`"поиск работает"`, []string{"d2"}},
		{"мир", []string{"d2"}},
		{"タワー", []string{"d2"}},
		{`"東京タワー"`, []string{"d2"}},
		{"🚀", []string{"d2"}},
		{`"🚀 launch"`, []string{"d2"}},
		{"한국어", []string{"d2"}},
		{"naïve OR planning", []string{"d1"}},
		{"before:2025-03-15 release", []string{"d1"}},
		{"after:2025-03-15 release", []string{"c1", "d2"}},
		{"zanzibar", nil},
	}
	for _, tc := range tests {
		t.Run(tc.q, func(t *testing.T) {
			got := ids(search(t, x, tc.q, "pub"))
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Search(%q) (-want +got):\n%s", tc.q, diff)
			}
		})
	}
}

func TestHitsAndHighlights(t *testing.T) {
	x := smallIndex(t)
	res := search(t, x, "escaping", "pub")
	if len(res.Hits) != 1 {
		t.Fatalf("hits = %v", res.Hits)
	}
	h := res.Hits[0]
	if h.Type != TypeDocument || h.DocID != "d2" || h.Title != "Meeting notes" || h.Score <= 0 {
		t.Errorf("hit = %+v", h)
	}
	frag := strings.Join(h.Fragments, " ")
	if !strings.Contains(frag, "<mark>escaping</mark>") || strings.Contains(frag, "<b>") || !strings.Contains(frag, "1 &lt; 2 &amp;&amp;") {
		t.Errorf("fragments = %q; want escaped HTML with <mark>", h.Fragments)
	}
	res = search(t, x, "wait", "pub")
	if len(res.Hits) != 1 || res.Hits[0].Type != TypeComment || res.Hits[0].ThreadID != "t1" || res.Hits[0].DocID != "d1" || res.Hits[0].Title != "Release planning" {
		t.Errorf("comment hit = %+v", res.Hits)
	}
	res = search(t, x, "release", "pub")
	want := map[string][]FacetCount{
		FacetType:   {{TypeDocument, 2}, {TypeComment, 1}},
		FacetStatus: {{"accepted", 1}, {"draft", 1}},
		FacetSpace:  {{"pub", 3}},
		FacetTag:    {{"notes", 1}, {"plan", 1}, {"release", 1}},
		FacetAuthor: {{"alice", 1}, {"bob", 1}, {"carol", 1}},
	}
	for _, v := range res.Facets {
		sort.Slice(v, func(i, j int) bool {
			if v[i].Count != v[j].Count {
				return v[i].Count > v[j].Count
			}
			return v[i].Value < v[j].Value
		})
	}
	if diff := cmp.Diff(want, res.Facets); diff != "" {
		t.Errorf("facets (-want +got):\n%s", diff)
	}
	// Sorting by date: newest first.
	q := mustParse(t, "release")
	q.ReadableSpaces, q.Sort = []string{"pub"}, SortDate
	r, err := x.Search(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, h := range r.Hits {
		got = append(got, h.ID)
	}
	if diff := cmp.Diff([]string{"c1", "d2", "d1"}, got); diff != "" {
		t.Errorf("date order (-want +got):\n%s", diff)
	}
	// Paging.
	q.Limit, q.Offset = 1, 1
	r, err = x.Search(context.Background(), q)
	if err != nil || len(r.Hits) != 1 || r.Hits[0].ID != "d2" || r.Total != 3 {
		t.Errorf("page 2 = %+v, %v", r, err)
	}
	q.Limit, q.Offset = 1000, 1_000_000
	if r, err = x.Search(context.Background(), q); err != nil || len(r.Hits) != 0 {
		t.Errorf("deep page = %+v, %v", r, err)
	}
}

func TestPermissions(t *testing.T) {
	x := smallIndex(t)
	for _, s := range []string{"zanzibar", "zanzib*", "zanzibat~", "hushhush", "tag:hushhush", "author:mallory", "space:secret", "confidential OR release", "type:comment secrets"} {
		res := search(t, x, s, "pub", "other")
		if res.Total != 0 && s != "confidential OR release" {
			t.Errorf("Search(%q) Total = %d; want 0", s, res.Total)
		}
		for _, h := range res.Hits {
			if h.DocID == "d3" || h.ID == "c2" {
				t.Errorf("Search(%q) leaked hit %+v", s, h)
			}
			for _, f := range h.Fragments {
				if strings.Contains(strings.ToLower(f), "zanzibar") || strings.Contains(f, "confidential") {
					t.Errorf("Search(%q) leaked fragment %q", s, f)
				}
			}
		}
		for name, fcs := range res.Facets {
			for _, fc := range fcs {
				if fc.Value == "secret" || fc.Value == "hushhush" || fc.Value == "mallory" || fc.Value == "review" {
					t.Errorf("Search(%q) facet %s leaked %+v", s, name, fc)
				}
			}
		}
	}
	// No readable space: nothing at all.
	res := search(t, x, "release")
	if res.Total != 0 || len(res.Hits) != 0 || len(res.Facets) != 0 {
		t.Errorf("Search without spaces = %+v", res)
	}
	// Readable: found.
	if res := search(t, x, "zanzibar", "secret"); res.Total != 2 {
		t.Errorf("Search(zanzibar) in secret: Total = %d; want 2", res.Total)
	}
	// Suggestions.
	ctx := context.Background()
	for _, p := range []string{"zan", "Zanzibar", "zanzibar acq"} {
		got, err := x.Suggest(ctx, p, []string{"pub"}, 10)
		if err != nil || len(got) != 0 {
			t.Errorf("Suggest(%q) = %v, %v; want none", p, got, err)
		}
		got, err = x.Suggest(ctx, p, []string{"secret"}, 10)
		if err != nil || len(got) != 1 || got[0].DocID != "d3" {
			t.Errorf("Suggest(%q) in secret = %v, %v", p, got, err)
		}
	}
	got, err := x.Suggest(ctx, "release pl", []string{"pub"}, 10)
	if diff := cmp.Diff([]Suggestion{{"d1", "Release planning"}}, got); diff != "" || err != nil {
		t.Errorf("Suggest(release pl) (-want +got):\n%s %v", diff, err)
	}
	// Moving a document out of a readable space hides it at once.
	docs := testDocs()
	docs[0].SpaceID = "secret"
	if err := x.IndexDocuments(ctx, docs[:1]); err != nil {
		t.Fatal(err)
	}
	if got := ids(search(t, x, "quarterly", "pub")); len(got) != 0 {
		t.Errorf("moved document still found: %v", got)
	}
}

func TestDeleteAndWatermark(t *testing.T) {
	x := smallIndex(t)
	ctx := context.Background()
	if v, ok := x.IndexedVersion("d2"); !ok || v != 7 {
		t.Errorf("IndexedVersion(d2) = %d, %v; want 7, true", v, ok)
	}
	if _, ok := x.IndexedVersion("nope"); ok {
		t.Errorf("IndexedVersion(nope) found")
	}
	if err := x.DeleteDocument(ctx, "d1"); err != nil {
		t.Fatal(err)
	}
	if got := ids(search(t, x, "release", "pub")); !slices.Equal(got, []string{"d2"}) {
		t.Errorf("after delete: %v; want [d2] (comment c1 deleted with d1)", got)
	}
	if _, ok := x.IndexedVersion("d1"); ok {
		t.Errorf("IndexedVersion(d1) found after delete")
	}
	if err := x.DeleteComment(ctx, "c2"); err != nil {
		t.Fatal(err)
	}
	if got := ids(search(t, x, "secrets", "secret")); len(got) != 0 {
		t.Errorf("deleted comment found: %v", got)
	}
}

func TestRebuild(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "index")
	x, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !x.NeedsRebuild() {
		t.Error("new index: NeedsRebuild = false")
	}
	if err := x.IndexDocuments(ctx, testDocs()); err != nil {
		t.Fatal(err)
	}
	if err := x.MarkRebuilt(ctx); err != nil {
		t.Fatal(err)
	}
	x.Close()
	if _, err := x.Search(ctx, Query{}); docket.ErrorCode(err) != docket.EUNAVAILABLE {
		t.Errorf("Search after Close: %v", err)
	}

	reopen := func(name string, wantRebuild bool, wantHits int) {
		t.Helper()
		x, err := Open(dir, Options{})
		if err != nil {
			t.Fatalf("%s: Open: %v", name, err)
		}
		defer x.Close()
		if x.NeedsRebuild() != wantRebuild {
			t.Errorf("%s: NeedsRebuild = %v; want %v", name, x.NeedsRebuild(), wantRebuild)
		}
		if got := len(search(t, x, "release", "pub").Hits); got != wantHits {
			t.Errorf("%s: hits = %d; want %d", name, got, wantHits)
		}
		if err := x.IndexDocuments(ctx, testDocs()); err != nil {
			t.Errorf("%s: IndexDocuments: %v", name, err)
		}
		if err := x.MarkRebuilt(ctx); err != nil {
			t.Errorf("%s: MarkRebuilt: %v", name, err)
		}
	}
	reopen("intact", false, 2)

	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	reopen("deleted", true, 0)

	if err := os.WriteFile(filepath.Join(dir, "index_meta.json"), []byte("{garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	reopen("corrupt meta", true, 0)

	// Corrupt every file of the store.
	filepath.WalkDir(filepath.Join(dir, "store"), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			os.WriteFile(p, []byte("not a segment"), 0o600)
		}
		return nil
	})
	reopen("corrupt store", true, 0)

	// Another mapping version.
	y, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	y.idx.SetInternal(keyMappingVersion, []byte("0"))
	y.Close()
	reopen("old mapping", true, 0)

	aside, _ := filepath.Glob(dir + ".broken-*")
	if len(aside) < 3 {
		t.Errorf("moved aside: %v; want at least 3", aside)
	}
}

func TestSearchCancelled(t *testing.T) {
	x := smallIndex(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	q := mustParse(t, "release")
	q.ReadableSpaces = []string{"pub"}
	if _, err := x.Search(ctx, q); docket.ErrorCode(err) != docket.EUNAVAILABLE {
		t.Errorf("Search(cancelled) = %v; want EUNAVAILABLE", err)
	}
}

func BenchmarkSearchTwoWords(b *testing.B) {
	x := sharedCorpusIndex(b)
	queries := []string{"garbage collector", "module proxy", "type parameters", "loop variable", "memory limit", "go command"}
	ctx := context.Background()
	b.ResetTimer()
	i := 0
	for b.Loop() {
		q, _ := ParseQuery(queries[i%len(queries)])
		q.ReadableSpaces = []string{"s1", "s2"}
		if _, err := x.Search(ctx, q); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

func BenchmarkSuggest(b *testing.B) {
	x := sharedCorpusIndex(b)
	ctx := context.Background()
	for b.Loop() {
		if _, err := x.Suggest(ctx, "gen", []string{"s1"}, 10); err != nil {
			b.Fatal(err)
		}
	}
}

func TestRestartCatchUp(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "index")
	x, err := Open(dir, Options{BatchSize: 2})
	if err != nil {
		t.Fatal(err)
	}
	docs := testDocs()
	if err := x.IndexDocuments(ctx, docs); err != nil {
		t.Fatal(err)
	}
	if err := x.MarkRebuilt(ctx); err != nil {
		t.Fatal(err)
	}
	if err := x.Close(); err != nil {
		t.Fatal(err)
	}
	// Meanwhile storage moved on: d2 is at version 9, d4 is new.
	stored := map[string]int64{"d1": 3, "d2": 9, "d3": 2, "d4": 1}
	y, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer y.Close()
	if y.NeedsRebuild() {
		t.Error("NeedsRebuild after a clean restart")
	}
	var stale []string
	for _, id := range []string{"d1", "d2", "d3", "d4"} {
		if v, ok := y.IndexedVersion(id); !ok || v < stored[id] {
			stale = append(stale, id)
		}
	}
	if diff := cmp.Diff([]string{"d2", "d4"}, stale); diff != "" {
		t.Errorf("stale documents (-want +got):\n%s", diff)
	}
	all, err := y.IndexedVersions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]int64{"d1": 3, "d2": 7, "d3": 2}, all); diff != "" {
		t.Errorf("IndexedVersions (-want +got):\n%s", diff)
	}
}

func TestPagingCaps(t *testing.T) {
	x := sharedCorpusIndex(t)
	q := mustParse(t, "the")
	q.ReadableSpaces, q.Limit = []string{"s1"}, 1000
	res, err := x.Search(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Hits) != MaxLimit || res.Total <= MaxLimit {
		t.Errorf("Limit 1000: %d hits of %d; want %d of more", len(res.Hits), res.Total, MaxLimit)
	}
	q = mustParse(t, "type:document")
	q.ReadableSpaces, q.Limit, q.Sort = []string{"s1"}, 5, SortDate
	res, err = x.Search(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	docs := loadCorpus(t)
	for i, h := range res.Hits {
		if want := docs[len(docs)-1-i].ID; h.DocID != want {
			t.Errorf("date order hit %d = %s; want %s", i, h.DocID, want)
		}
	}
	q.Sort = "random"
	if _, err := x.Search(context.Background(), q); docket.ErrorCode(err) != docket.EINVALID {
		t.Errorf("Sort random: %v; want EINVALID", err)
	}
}

func TestConcurrentIndexAndSearch(t *testing.T) {
	x := smallIndex(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 10 {
				if g%2 == 0 {
					docs := testDocs()
					docs[1].Version = int64(100 + i)
					if err := x.IndexDocuments(ctx, docs[1:2]); err != nil {
						t.Error(err)
					}
				} else {
					q, _ := ParseQuery("release")
					q.ReadableSpaces = []string{"pub"}
					if res, err := x.Search(ctx, q); err != nil || res.Total != 3 {
						t.Errorf("Search = %v, %v", res, err)
					}
				}
			}
		}()
	}
	wg.Wait()
	if v, ok := x.IndexedVersion("d2"); !ok || v != 109 {
		t.Errorf("IndexedVersion(d2) = %d, %v; want 109", v, ok)
	}
}

func TestHeadingMatchesRegexp(t *testing.T) {
	for _, line := range []string{"# a", "#a", "   ## b ##", "    # c", "####### d", "# C#", "#\tx  #  ", "# ", "#", "## a # b", " # x ## #", "###### six", "# ünï ", "#  "} {
		m := mdHeading.FindStringSubmatch(line)
		text, ok := heading(line)
		if (m != nil) != ok || ok && m[2] != text {
			t.Errorf("heading(%q) = %q, %v; regexp finds %q", line, text, ok, m)
		}
	}
}

func TestDayRangeTerms(t *testing.T) {
	d := func(s string) time.Time {
		t, err := time.Parse(time.DateOnly, s)
		if err != nil {
			panic(err)
		}
		return t
	}
	tests := []struct {
		from, to string
		want     []string
	}{
		{"2025-03-01", "2025-03-01", []string{"d:20250301"}},
		{"2025-03-30", "2025-04-02", []string{"d:20250330", "d:20250331", "d:20250401", "d:20250402"}},
		{"2025-03-01", "2025-04-30", []string{"m:202503", "m:202504"}},
		{"2024-12-31", "2026-01-01", []string{"d:20241231", "y:2025", "d:20260101"}},
		{"2010-01-01", "2021-02-01", []string{"x:201", "y:2020", "m:202101", "d:20210201"}},
		{"1800-01-01", "1901-12-31", []string{"y:1900", "y:1901"}},
		{"2025-03-02", "2025-03-01", nil},
	}
	for _, tc := range tests {
		if diff := cmp.Diff(tc.want, dayRangeTerms(d(tc.from), d(tc.to))); diff != "" {
			t.Errorf("dayRangeTerms(%s, %s) (-want +got):\n%s", tc.from, tc.to, diff)
		}
	}
	// Every day of a range matches one of its terms, and no other day.
	from, to := d("2019-11-17"), d("2022-02-03")
	terms := map[string]bool{}
	for _, tm := range dayRangeTerms(from, to) {
		terms[tm] = true
	}
	for day := d("2019-01-01"); day.Before(d("2023-01-01")); day = day.AddDate(0, 0, 1) {
		in := false
		for _, tm := range dateTerms(day) {
			in = in || terms[tm]
		}
		if want := !day.Before(from) && !day.After(to); in != want {
			t.Fatalf("day %s in range: %v; want %v", day.Format(time.DateOnly), in, want)
		}
	}
	if n := len(dayRangeTerms(minDay, d("2025-06-15"))); n > 80 {
		t.Errorf("before:2025-06-15 takes %d terms", n)
	}
}

// TestPhrasesStayInSections checks that a phrase does not match across
// the title and the body, which are indexed in one field.
func TestPhrasesStayInSections(t *testing.T) {
	docs := []Doc{{ID: "d1", SpaceID: "pub", Title: "Alpha beta", Body: "gamma delta [see](http://x.example/epsilon-zeta)", CreatedAt: time.Now()}}
	x, _ := indexed(t, docs, nil)
	for q, want := range map[string]int{`"alpha beta"`: 1, `"gamma delta"`: 1, `"beta gamma"`: 0, `"delta see"`: 1, `"see epsilon"`: 0, "epsilon": 1, "in:title beta": 1, "in:title gamma": 0} {
		if got := len(search(t, x, q, "pub").Hits); got != want {
			t.Errorf("Search(%s) = %d hits; want %d", q, got, want)
		}
	}
}

// TestStaleSpace checks that a hit whose document storage has in another
// space than the index says (the index lags storage by a moment) is left
// out when that space is not readable.
func TestStaleSpace(t *testing.T) {
	docs := testDocs()
	loader := newMemLoader(docs, testComments())
	x := openIndex(t, loader)
	mustIndex(t, x, docs, nil)
	moved := docs[0]
	moved.SpaceID = "secret"
	loader.put([]Doc{moved}, nil)
	res := search(t, x, "release", "pub")
	if got := ids(res); !slices.Equal(got, []string{"d2"}) || res.Total != 1 {
		t.Errorf("Search(release) = %v (total %d); want [d2] (d1 moved out of pub)", got, res.Total)
	}
}

func TestSuggestOrder(t *testing.T) {
	docs := []Doc{
		{ID: "d1", SpaceID: "pub", Title: "Release process"},
		{ID: "d2", SpaceID: "pub", Title: "Planning the release"},
		{ID: "d3", SpaceID: "pub", Title: "Relational storage"},
		{ID: "d4", SpaceID: "pub", Title: "Garbage collector pacing for zanfrolo"},
		{ID: "d5", SpaceID: "pub", Title: "Supercalifragilisticexpialidocious review"},
	}
	x := openIndex(t, nil)
	mustIndex(t, x, docs, nil)
	tests := []struct {
		prefix string
		want   []string
	}{
		{"rel", []string{"d3", "d1", "d2"}}, // first words first, each group by title
		{"release", []string{"d1", "d2"}},
		{"release pro", []string{"d1"}},
		{"the rel", []string{"d2"}},
		{"garbage collector pac", []string{"d4"}},
		{"zanf", []string{"d4"}},
		{"supercalifragilistic", []string{"d5"}}, // longer than the indexed prefixes
		{"rev", []string{"d5"}},
		{"xyz", nil},
	}
	for _, tc := range tests {
		got, err := x.Suggest(context.Background(), tc.prefix, []string{"pub"}, 10)
		if err != nil {
			t.Fatal(err)
		}
		var gotIDs []string
		for _, s := range got {
			gotIDs = append(gotIDs, s.DocID)
		}
		if diff := cmp.Diff(tc.want, gotIDs); diff != "" {
			t.Errorf("Suggest(%q) (-want +got):\n%s", tc.prefix, diff)
		}
	}
	if got, _ := x.Suggest(context.Background(), "rel", []string{"pub"}, 2); len(got) != 2 {
		t.Errorf("Suggest(rel, limit 2) = %v", got)
	}
}

// TestManySegments checks facets, filters and date order over an index
// of many segments, whose doc values are read in turn for several
// fields.
func TestManySegments(t *testing.T) {
	ctx := context.Background()
	x := openIndexWith(t, Options{BatchSize: 3})
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	var docs []Doc
	for i := range 40 {
		docs = append(docs, Doc{
			ID: fmt.Sprintf("d%02d", i), SpaceID: []string{"a", "b"}[i%2], Title: fmt.Sprintf("Doc %d", i),
			Body: "common words", Status: []docket.Status{docket.StatusDraft, docket.StatusAccepted}[i%4/2],
			OwnerID: fmt.Sprintf("u%d", i%5), Tags: []string{fmt.Sprintf("t%d", i%3)}, CreatedAt: t0.AddDate(0, 0, i),
		})
	}
	if err := x.IndexDocuments(ctx, docs); err != nil {
		t.Fatal(err)
	}
	for range 5 {
		res := search(t, x, "common", "a")
		want := map[string][]FacetCount{
			FacetType:   {{TypeDocument, 20}},
			FacetStatus: {{"accepted", 10}, {"draft", 10}},
			FacetSpace:  {{"a", 20}},
			FacetTag:    {{"t0", 7}, {"t2", 7}, {"t1", 6}},
			FacetAuthor: {{"u0", 4}, {"u1", 4}, {"u2", 4}, {"u3", 4}, {"u4", 4}},
		}
		if diff := cmp.Diff(want, res.Facets); diff != "" || res.Total != 20 {
			t.Fatalf("total %d, facets (-want +got):\n%s", res.Total, diff)
		}
		q := mustParse(t, "after:2025-01-10 status:draft")
		q.ReadableSpaces, q.Sort, q.Limit = []string{"a", "b"}, SortDate, 100
		r, err := x.Search(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, h := range r.Hits {
			got = append(got, h.ID)
		}
		want2 := []string{"d37", "d36", "d33", "d32", "d29", "d28", "d25", "d24", "d21", "d20", "d17", "d16", "d13", "d12"}
		if diff := cmp.Diff(want2, got); diff != "" {
			t.Fatalf("date order (-want +got):\n%s", diff)
		}
	}
}
