package main

import (
	"context"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	docket "github.com/docket-dev/docket"
	"github.com/docket-dev/docket/bolt"
	"github.com/docket-dev/docket/internal/testenv"
	"github.com/docket-dev/docket/search"
)

// TestImportSearchGroundTruth imports the corpus with the import command,
// which indexes it, and checks that every phrase of QUERIES.tsv finds
// exactly the files listed, through the search service a request uses.
func TestImportSearchGroundTruth(t *testing.T) {
	corpusDir := testenv.Corpus(t, "go-proposals")
	dir := t.TempDir()
	db := openTestDataAt(t, filepath.Join(dir, "docket.db"))
	db.Close()
	ctx := context.Background()
	start := time.Now()
	if err := run(ctx, []string{"import", corpusDir, "--space", "go", "--data", dir}, nil, io.Discard, io.Discard); err != nil {
		t.Fatalf("import: %v", err)
	}
	t.Logf("import + index of the corpus: %s", time.Since(start))

	db = bolt.NewDB(dbPath(dir))
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	idx, err := search.Open(indexDir(dir), search.Options{Loader: bolt.NewScanner(db)})
	if err != nil {
		t.Fatal(err)
	}
	defer idx.Close()
	if idx.NeedsRebuild() {
		t.Fatal("index needs a rebuild right after import")
	}
	users := bolt.NewUserService(db)
	sys := docket.NewSystemContext(ctx)
	ada, err := users.FindUserByEmail(sys, "ada@example.com")
	if err != nil {
		t.Fatal(err)
	}
	docs := bolt.NewDocumentService(db)
	svc := &search.Service{Index: idx, Spaces: bolt.NewSpaceService(db), Users: users}
	userCtx := docket.NewContextWithUser(ctx, ada)

	for _, q := range testenv.Queries(t, corpusDir) {
		phrase, want := q.Phrase, q.Files
		res, err := svc.Search(userCtx, docket.SearchQuery{Q: `"` + phrase + `"`, Limit: 100})
		if err != nil {
			t.Fatalf("Search(%q): %v", phrase, err)
		}
		var got []string
		for _, h := range res.Hits {
			d, err := docs.FindDocumentMeta(sys, h.DocID)
			if err != nil {
				t.Fatalf("hit %s: %v", h.DocID, err)
			}
			got = append(got, strings.TrimPrefix(d.Source, "import:"))
			// gcshape is found in link URLs only: no highlight then, but
			// still a fragment of text.
			if len(h.Fragments) == 0 || phrase != "gcshape" && !strings.Contains(strings.Join(h.Fragments, " "), "<mark>") {
				t.Errorf("Search(%q): hit %s has no highlighted fragment: %q", phrase, d.Source, h.Fragments)
			}
		}
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("Search(%q) = %v; want %v", phrase, got, want)
		}
	}
}
