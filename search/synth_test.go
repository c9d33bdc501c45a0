package search

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	docket "github.com/docket-dev/docket"
	"github.com/docket-dev/docket/internal/synth"
)

// The synthetic corpus benchmarks run only when asked, with sizes from the
// environment:
//
//	DOCKET_SYNTH_DOCS=100000 DOCKET_SYNTH_COMMENTS=1000000 \
//	DOCKET_SYNTH_DIR=/tmp/synth-index go test ./search -run '^$' -bench Synthetic -benchtime 2000x -timeout 60m
//
// DOCKET_SYNTH_DIR keeps the index between runs (it is built when empty).
func synthSize(b *testing.B) (docs, comments int) {
	docs, _ = strconv.Atoi(os.Getenv("DOCKET_SYNTH_DOCS"))
	comments, _ = strconv.Atoi(os.Getenv("DOCKET_SYNTH_COMMENTS"))
	if docs == 0 {
		b.Skip("set DOCKET_SYNTH_DOCS (and DOCKET_SYNTH_COMMENTS) to run")
	}
	return docs, comments
}

const synthSpaces = 20

var synthIndex *Index

// openSynth builds (or reopens) the synthetic index.
func openSynth(b *testing.B) *Index {
	if synthIndex != nil {
		return synthIndex
	}
	nDocs, nComments := synthSize(b)
	dir := os.Getenv("DOCKET_SYNTH_DIR")
	if dir == "" {
		dir = filepath.Join(b.TempDir(), "index")
	}
	x, err := Open(dir, Options{BatchSize: 1000})
	if err != nil {
		b.Fatal(err)
	}
	if !x.NeedsRebuild() {
		synthIndex = x
		return x
	}
	ctx := context.Background()
	g := synth.New(1, 50000)
	start := time.Now()
	var raw int64
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	titles := make([]string, nDocs)
	const page = 2000
	for i := 0; i < nDocs; i += page {
		batch := make([]Doc, 0, page)
		for j := i; j < min(i+page, nDocs); j++ {
			title := g.Title()
			titles[j] = title
			body := g.Doc(title, 150+g.IntN(300))
			raw += int64(len(title) + len(body))
			at := base.Add(time.Duration(j) * time.Minute)
			batch = append(batch, Doc{
				ID: fmt.Sprintf("d%07d", j), SpaceID: fmt.Sprintf("s%02d", j%synthSpaces), Title: title, Body: body,
				Kind: docket.KindRFC, Status: []docket.Status{docket.StatusDraft, docket.StatusReview, docket.StatusAccepted}[j%3],
				OwnerID: fmt.Sprintf("u%03d", j%200), Tags: []string{fmt.Sprintf("tag%d", j%50)},
				Version: 1, CreatedAt: at, UpdatedAt: at,
			})
		}
		if err := x.IndexDocuments(ctx, batch); err != nil {
			b.Fatal(err)
		}
	}
	docsDone := time.Since(start)
	for i := 0; i < nComments; i += page * 4 {
		batch := make([]Comment, 0, page*4)
		for j := i; j < min(i+page*4, nComments); j++ {
			d := g.IntN(nDocs)
			body := g.Comment()
			raw += int64(len(body))
			batch = append(batch, Comment{
				ID: fmt.Sprintf("c%08d", j), DocID: fmt.Sprintf("d%07d", d), ThreadID: fmt.Sprintf("t%07d", j/4),
				SpaceID: fmt.Sprintf("s%02d", d%synthSpaces), DocTitle: titles[d], AuthorID: fmt.Sprintf("u%03d", j%200),
				Body: body, CreatedAt: base.Add(time.Duration(j) * time.Second),
			})
		}
		if err := x.IndexComments(ctx, batch); err != nil {
			b.Fatal(err)
		}
	}
	if err := x.MarkRebuilt(ctx); err != nil {
		b.Fatal(err)
	}
	took := time.Since(start)
	// Let scorch persist and merge, as a long-running server would.
	if err := x.Close(); err != nil {
		b.Fatal(err)
	}
	if x, err = Open(dir, Options{BatchSize: 1000}); err != nil {
		b.Fatal(err)
	}
	var size int64
	filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if info, err := d.Info(); err == nil {
				size += info.Size()
			}
		}
		return nil
	})
	b.Logf("indexed %d documents in %s and %d comments in %s (total %s); raw text %.1f MB, index %.1f MB (%.2fx)",
		nDocs, docsDone.Round(time.Second), nComments, (took - docsDone).Round(time.Second), took.Round(time.Second),
		float64(raw)/1e6, float64(size)/1e6, float64(size)/float64(raw))
	synthIndex = x
	return x
}

// synthQueries are two-word queries over the middle of the vocabulary.
func synthQueries(n int) []string {
	g := synth.New(2, 50000)
	v := g.Vocabulary()
	out := make([]string, n)
	for i := range out {
		out[i] = v[50+g.IntN(2000)] + " " + v[50+g.IntN(5000)]
	}
	return out
}

func readable() []string {
	var out []string
	for i := 0; i < synthSpaces; i += 2 {
		out = append(out, fmt.Sprintf("s%02d", i))
	}
	return out
}

func reportPercentiles(b *testing.B, lat []time.Duration) {
	slices.Sort(lat)
	if len(lat) == 0 {
		return
	}
	p := func(q float64) float64 { return float64(lat[int(q*float64(len(lat)-1))].Microseconds()) / 1000 }
	b.ReportMetric(p(0.50), "p50-ms")
	b.ReportMetric(p(0.99), "p99-ms")
}

func BenchmarkSyntheticSearch(b *testing.B) {
	x := openSynth(b)
	queries := synthQueries(1000)
	spaces := readable()
	ctx := context.Background()
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		q := mustParse(b, queries[i%len(queries)])
		q.ReadableSpaces = spaces
		start := time.Now()
		res, err := x.Search(ctx, q)
		if err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
		if i == 0 {
			b.Logf("%q: %d hits", queries[0], res.Total)
		}
	}
	reportPercentiles(b, lat)
}

func BenchmarkSyntheticSuggest(b *testing.B) {
	x := openSynth(b)
	queries := synthQueries(1000)
	spaces := readable()
	ctx := context.Background()
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		w := queries[i%len(queries)]
		prefix := w[:min(len(w), 3)]
		start := time.Now()
		if _, err := x.Suggest(ctx, prefix, spaces, 8); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
	}
	reportPercentiles(b, lat)
}
