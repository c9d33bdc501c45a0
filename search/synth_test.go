package search

import (
	"context"
	"encoding/base32"
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	docket "github.com/docket-dev/docket"
	"github.com/docket-dev/docket/internal/synth"
	"golang.org/x/sys/unix"
)

// The synthetic corpus benchmarks run only when asked, with sizes from the
// environment:
//
//	DOCKET_SYNTH_DOCS=100000 DOCKET_SYNTH_COMMENTS=1000000 \
//	DOCKET_SYNTH_DIR=/tmp/synth-index go test ./search -run '^$' -bench Synthetic -benchtime 2000x -timeout 60m
//
// DOCKET_SYNTH_DIR keeps the index between runs (it is built when empty,
// with the same sizes); DOCKET_SYNTH_LENGTHS, a list of folders of
// markdown files such as the real corpora, makes the documents as long as
// files drawn from them (see synth.Corpus.DrawLengths) instead of 2.3 KB
// on average; DOCKET_SYNTH_PHRASE_CHECKS sets
// Options.MaxPhraseChecks. The searcher reads 10 of the 20 spaces, or the
// first DOCKET_SYNTH_READABLE. Hits are read back through a TextLoader that
// generates the text of an item again, as storage would read it.
func synthSize(b *testing.B) (docs, comments int) {
	docs, _ = strconv.Atoi(os.Getenv("DOCKET_SYNTH_DOCS"))
	comments, _ = strconv.Atoi(os.Getenv("DOCKET_SYNTH_COMMENTS"))
	if docs == 0 {
		b.Skip("set DOCKET_SYNTH_DOCS (and DOCKET_SYNTH_COMMENTS) to run")
	}
	return docs, comments
}

const (
	synthSpaces = 20
	synthVocab  = 50000
)

var (
	synthIndex  *Index
	synthCorpus = synth.New(1, synthVocab)
)

var synthBase = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// Ids look like Docket's: 16 random-looking characters of base32 (bolt's
// newID), so that the index pays for them what it pays in real life. The
// first four bytes are the item's number times an odd constant, which
// can be undone; the rest a hash of the number and kind.
var synthIDs = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

const idMul = 0x9E3779B1

var idMulInverse = func() uint32 {
	inv := uint32(idMul)
	for range 5 {
		inv *= 2 - idMul*inv
	}
	return inv
}()

func synthID(kind byte, i int) string {
	var b [10]byte
	binary.BigEndian.PutUint32(b[:4], uint32(i)*idMul)
	h := fnv.New64a()
	h.Write([]byte{kind})
	h.Write(b[:4])
	copy(b[4:], h.Sum(nil))
	return synthIDs.EncodeToString(b[:])
}

// synthNumber returns the number of an id made by synthID, and false if
// it is not one.
func synthNumber(kind byte, id string) (int, bool) {
	b, err := synthIDs.DecodeString(id)
	if err != nil || len(b) != 10 {
		return 0, false
	}
	i := int(binary.BigEndian.Uint32(b[:4]) * idMulInverse)
	return i, synthID(kind, i) == id
}

func synthDoc(i int) Doc {
	title, body := synthCorpus.Doc(i)
	at := synthBase.Add(time.Duration(i) * time.Minute)
	return Doc{
		ID: synthID('d', i), SpaceID: synthID('s', i%synthSpaces), Title: title, Body: body,
		Kind: docket.KindRFC, Status: []docket.Status{docket.StatusDraft, docket.StatusReview, docket.StatusAccepted}[i%3],
		OwnerID: synthID('u', i%200), Tags: []string{fmt.Sprintf("tag%d", i%50)},
		Version: 1, CreatedAt: at, UpdatedAt: at,
	}
}

func synthComment(i, docs int) Comment {
	d, body := synthCorpus.Comment(i, docs)
	return Comment{
		ID: synthID('c', i), DocID: synthID('d', d), ThreadID: synthID('t', i/4),
		SpaceID: synthID('s', d%synthSpaces), AuthorID: synthID('u', i%200),
		Body: body, CreatedAt: synthBase.Add(time.Duration(i) * time.Second),
	}
}

// synthLoader reads synthetic items back by generating them again. It
// keeps what it generated, as the page cache keeps the pages of bbolt
// that were read: generating a document takes longer than reading it
// from bbolt (see BenchmarkLoadDocuments in bolt).
type synthLoader struct {
	docs  int
	cache *sync.Map // id -> Doc or Comment
}

func newSynthLoader(docs int) synthLoader { return synthLoader{docs: docs, cache: &sync.Map{}} }

func (l synthLoader) doc(i int) Doc {
	id := synthID('d', i)
	if d, ok := l.cache.Load(id); ok {
		return d.(Doc)
	}
	d := synthDoc(i)
	l.cache.Store(id, d)
	return d
}

func (l synthLoader) LoadDocuments(ctx context.Context, ids []string, withBody bool) ([]*docket.Document, error) {
	var out []*docket.Document
	for _, id := range ids {
		i, ok := synthNumber('d', id)
		if !ok || i >= l.docs {
			continue
		}
		d := l.doc(i)
		doc := &docket.Document{ID: d.ID, SpaceID: d.SpaceID, Title: d.Title}
		if withBody {
			doc.Body = d.Body
		}
		out = append(out, doc)
	}
	return out, nil
}

func (l synthLoader) LoadComments(ctx context.Context, ids []string) ([]*docket.Comment, error) {
	var out []*docket.Comment
	for _, id := range ids {
		i, ok := synthNumber('c', id)
		if !ok {
			continue
		}
		var c Comment
		if v, ok := l.cache.Load(id); ok {
			c = v.(Comment)
		} else {
			c = synthComment(i, l.docs)
			l.cache.Store(id, c)
		}
		out = append(out, &docket.Comment{ID: c.ID, DocID: c.DocID, ThreadID: c.ThreadID, Body: c.Body})
	}
	return out, nil
}

// The synthetic corpus has no decisions or minutes.
func (synthLoader) LoadDecisions(context.Context, []string) ([]*docket.Document, error) {
	return nil, nil
}

func (synthLoader) LoadMinutes(context.Context, []string) ([]*docket.MinutesRecord, error) {
	return nil, nil
}

func (synthLoader) LoadUserNames(context.Context, []string) (map[string]string, error) {
	return nil, nil
}

func dirSize(dir string) int64 {
	var size int64
	filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if info, err := d.Info(); err == nil {
				size += info.Size()
			}
		}
		return nil
	})
	return size
}

// rootSize returns the bytes of the segments that the index uses, leaving
// out files that scorch has yet to remove.
func rootSize(x *Index) int64 {
	st, _ := x.idx.StatsMap()["index"].(map[string]any)
	n, _ := st["num_bytes_used_disk_by_root"].(uint64)
	return int64(n)
}

// openSynth builds (or reopens) the synthetic index.
func openSynth(b *testing.B) *Index {
	if synthIndex != nil {
		return synthIndex
	}
	nDocs, nComments := synthSize(b)
	if env := os.Getenv("DOCKET_SYNTH_LENGTHS"); env != "" {
		synthCorpus.DrawLengths(fileSizes(b, filepath.SplitList(env)))
	}
	dir := os.Getenv("DOCKET_SYNTH_DIR")
	if dir == "" {
		dir = filepath.Join(b.TempDir(), "index")
	}
	opts := Options{Loader: newSynthLoader(nDocs)}
	opts.MaxPhraseChecks, _ = strconv.Atoi(os.Getenv("DOCKET_SYNTH_PHRASE_CHECKS"))
	x, err := Open(dir, opts)
	if err != nil {
		b.Fatal(err)
	}
	if !x.NeedsRebuild() {
		synthIndex = x
		return x
	}
	ctx := context.Background()
	start := time.Now()
	var raw int64
	// Pages as Indexer.Rebuild writes them.
	for i := 0; i < nDocs; i += docPage {
		batch := make([]Doc, 0, docPage)
		for j := i; j < min(i+docPage, nDocs); j++ {
			d := synthDoc(j)
			raw += int64(len(d.Title) + len(d.Body))
			batch = append(batch, d)
		}
		if err := x.IndexDocuments(ctx, batch); err != nil {
			b.Fatal(err)
		}
	}
	docsDone := time.Since(start)
	for i := 0; i < nComments; i += commentPage {
		batch := make([]Comment, 0, commentPage)
		for j := i; j < min(i+commentPage, nComments); j++ {
			c := synthComment(j, nDocs)
			raw += int64(len(c.Body))
			batch = append(batch, c)
		}
		if err := x.IndexComments(ctx, batch); err != nil {
			b.Fatal(err)
		}
	}
	took := time.Since(start)
	if err := x.Compact(ctx); err != nil {
		b.Fatal(err)
	}
	compacted := time.Since(start)
	if err := x.MarkRebuilt(ctx); err != nil {
		b.Fatal(err)
	}
	before := dirSize(dir)
	// Let scorch persist and merge, as a long-running server would.
	if err := x.Close(); err != nil {
		b.Fatal(err)
	}
	closed := time.Since(start)
	if x, err = Open(dir, opts); err != nil {
		b.Fatal(err)
	}
	size := rootSize(x)
	b.Logf("indexed %d documents in %s and %d comments in %s (total %s, %s compacted, %s closed); "+
		"raw text %.1f MB, index %.1f MB (%.2fx; %.1f MB before closing)",
		nDocs, docsDone.Round(time.Second), nComments, (took - docsDone).Round(time.Second), took.Round(time.Second),
		compacted.Round(time.Second), closed.Round(time.Second), float64(raw)/1e6, float64(size)/1e6, float64(size)/float64(raw), float64(before)/1e6)
	synthIndex = x
	return x
}

// fileSizes returns the sizes of the markdown files of the folders.
func fileSizes(b *testing.B, folders []string) []int {
	var out []int
	for _, f := range folders {
		files, err := filepath.Glob(filepath.Join(f, "*.md"))
		if err != nil {
			b.Fatal(err)
		}
		for _, p := range files {
			fi, err := os.Stat(p)
			if err != nil {
				b.Fatal(err)
			}
			out = append(out, int(fi.Size()))
		}
	}
	if len(out) == 0 {
		b.Fatalf("no markdown files in %v", folders)
	}
	return out
}

// readable returns the spaces the searcher may read: every other one, or
// the first DOCKET_SYNTH_READABLE of them.
func readable() []string {
	var out []string
	if n, err := strconv.Atoi(os.Getenv("DOCKET_SYNTH_READABLE")); err == nil {
		for i := range min(n, synthSpaces) {
			out = append(out, synthID('s', i))
		}
		return out
	}
	for i := 0; i < synthSpaces; i += 2 {
		out = append(out, synthID('s', i))
	}
	return out
}

// reportPercentiles reports percentiles of the times of the operations:
// wall-clock time, and the CPU time of the thread that ran them, which
// the other work on this shared machine does not inflate.
func reportPercentiles(b *testing.B, lat, cpu []time.Duration) {
	for _, m := range []struct {
		name string
		d    []time.Duration
	}{{"", lat}, {"cpu-", cpu}} {
		slices.Sort(m.d)
		if len(m.d) == 0 {
			continue
		}
		p := func(q float64) float64 { return float64(m.d[int(q*float64(len(m.d)-1))].Microseconds()) / 1000 }
		b.ReportMetric(p(0.50), m.name+"p50-ms")
		b.ReportMetric(p(0.99), m.name+"p99-ms")
	}
}

// threadCPU returns the CPU time used by the calling thread, which must
// be locked to it.
func threadCPU() time.Duration {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts); err != nil {
		return 0
	}
	return time.Duration(ts.Nano())
}

// processCPU returns the CPU time used by the process: phrase queries
// check their candidates on every core.
func processCPU() time.Duration {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkSyntheticSearch runs two-word queries with facets and
// fragments, as a reader of half the spaces.
func BenchmarkSyntheticSearch(b *testing.B) {
	x := openSynth(b)
	nDocs, _ := synthSize(b)
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	runSynthQueries(b, x, synthCorpus.Queries(1000, nDocs), threadCPU, func(q string, res *Result) {
		if res.Total > 0 && (len(res.Hits) == 0 || len(res.Hits[0].Fragments) == 0) {
			b.Fatalf("%q: %d hits, first without fragments: %+v", q, res.Total, res.Hits)
		}
	})
}

// runSynthQueries runs each query once untimed (a server that has been
// running for a while has the index pages and the texts that hits read
// in memory), then b.N timed, as a reader of half the spaces; it reports
// latency and CPU (from clock) percentiles and the hits of each query,
// which check sees once.
func runSynthQueries(b *testing.B, x *Index, queries []string, clock func() time.Duration, check func(q string, res *Result)) {
	b.Helper()
	spaces := readable()
	ctx := context.Background()
	for _, s := range queries {
		q := mustParse(b, s)
		q.ReadableSpaces = spaces
		if _, err := x.Search(ctx, q); err != nil {
			b.Fatal(err)
		}
	}
	lat := make([]time.Duration, 0, b.N)
	cpu := make([]time.Duration, 0, b.N)
	var hits []int
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		q := mustParse(b, queries[i%len(queries)])
		q.ReadableSpaces = spaces
		start, startCPU := time.Now(), clock()
		res, err := x.Search(ctx, q)
		if err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
		cpu = append(cpu, clock()-startCPU)
		if i < len(queries) {
			hits = append(hits, int(res.Total))
			check(queries[i], res)
		}
	}
	b.StopTimer()
	reportPercentiles(b, lat, cpu)
	slices.Sort(hits)
	if len(hits) > 0 {
		b.ReportMetric(float64(hits[len(hits)/2]), "hits-p50")
		b.ReportMetric(float64(hits[len(hits)*99/100]), "hits-p99")
	}
}

// BenchmarkSyntheticSuggest completes title prefixes as one types them.
func BenchmarkSyntheticSuggest(b *testing.B) {
	x := openSynth(b)
	nDocs, _ := synthSize(b)
	prefixes := synthCorpus.Prefixes(1000, nDocs)
	spaces := readable()
	ctx := context.Background()
	for _, p := range prefixes { // warm up
		if _, err := x.Suggest(ctx, p, spaces, 8); err != nil {
			b.Fatal(err)
		}
	}
	lat := make([]time.Duration, 0, b.N)
	cpu := make([]time.Duration, 0, b.N)
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start, startCPU := time.Now(), threadCPU()
		if _, err := x.Suggest(ctx, prefixes[i%len(prefixes)], spaces, 8); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
		cpu = append(cpu, threadCPU()-startCPU)
	}
	b.StopTimer()
	reportPercentiles(b, lat, cpu)
}

// synthPhrases returns n phrases of two words that follow each other in
// a document, both among the 1,000 most frequent words and neither a
// function word: broad phrases, whose words are in many items together
// but rarely next to each other.
func synthPhrases(n, docs int) []string {
	rank := map[string]int{}
	for i, w := range synthCorpus.Vocabulary() {
		rank[w] = i
	}
	broad := func(w string) bool { r, ok := rank[w]; return ok && r >= synth.Stopwords && r < 1000 }
	var out []string
	for i := 0; len(out) < n; i++ {
		_, body := synthCorpus.Doc(int(uint32(i)*idMul) % docs)
		plain, _ := PlainText(body)
		words := strings.FieldsFunc(strings.ToLower(plain), func(r rune) bool { return !('a' <= r && r <= 'z') })
		for j := (i * 7) % max(len(words)-1, 1); j+1 < len(words); j++ {
			if broad(words[j]) && broad(words[j+1]) && words[j] != words[j+1] {
				out = append(out, `"`+words[j]+" "+words[j+1]+`"`)
				break
			}
		}
	}
	return out
}

// BenchmarkSyntheticPhrase runs broad two-word phrase queries (see
// synthPhrases) with facets and fragments, as a reader of half the
// spaces: the index finds the items that hold both words, and the
// phrase is checked against their text. cpu- is the CPU time of the
// whole process (the checks run on every core, and the GC is counted).
func BenchmarkSyntheticPhrase(b *testing.B) {
	x := openSynth(b)
	nDocs, _ := synthSize(b)
	queries := synthPhrases(1000, nDocs)
	approx := 0
	runSynthQueries(b, x, queries, processCPU, func(q string, res *Result) {
		if res.Approximate {
			approx++
		}
		if res.Total > 0 && (len(res.Hits) == 0 || !strings.Contains(strings.Join(res.Hits[0].Fragments, " "), "<mark>")) {
			b.Fatalf("%s: %d hits, first without a match: %+v", q, res.Total, res.Hits)
		}
	})
	b.ReportMetric(float64(approx)/float64(min(b.N, len(queries))), "approximate")
}
