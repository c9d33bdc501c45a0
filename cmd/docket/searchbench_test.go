package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	docket "github.com/docket-dev/docket"
	"github.com/docket-dev/docket/bolt"
	"github.com/docket-dev/docket/internal/testenv"
)

// BenchmarkSearchCorpus imports folders of real markdown documents with
// the import command, serves them in process and runs each kind of query
// over HTTP with a token (limit=20, facets and fragments as the API
// returns them), after a warm-up pass over every query. It runs only when
// asked:
//
//	DOCKET_SEARCH_CORPUS=/work/shared/corpus/eips:/work/shared/corpus/go-proposals \
//	go test ./cmd/docket -run '^$' -bench SearchCorpus -benchtime 400x -count 3
//
// DOCKET_SEARCH_CORPUS is a list of folders (one space each, named after
// the folder); DOCKET_SEARCH_DATA keeps the data directory between runs
// (imported when empty). Each sub-benchmark reports the p50 and p99
// latency of its kind, the queries taken from the corpus (see
// corpusQueries), and the size of the index against the raw text.
func BenchmarkSearchCorpus(b *testing.B) {
	env := os.Getenv("DOCKET_SEARCH_CORPUS")
	if env == "" {
		b.Skip("set DOCKET_SEARCH_CORPUS to a list of corpus folders to run")
	}
	s := openCorpusServer(b, filepath.SplitList(env))
	client := &http.Client{Timeout: 30 * time.Second}
	for _, kind := range queryKinds {
		qs := s.queries[kind]
		if len(qs) == 0 {
			continue
		}
		b.Run(kind, func(b *testing.B) {
			lat := make([]time.Duration, 0, b.N)
			var hits int
			for i := 0; b.Loop(); i++ {
				start := time.Now()
				n := s.search(b, client, qs[i%len(qs)])
				lat = append(lat, time.Since(start))
				hits += n
			}
			slices.Sort(lat)
			pct := func(p float64) float64 {
				return float64(lat[min(int(p*float64(len(lat))), len(lat)-1)].Microseconds()) / 1000
			}
			b.ReportMetric(pct(0.50), "p50-ms")
			b.ReportMetric(pct(0.99), "p99-ms")
			b.ReportMetric(float64(hits)/float64(len(lat)), "hits/op")
			b.ReportMetric(float64(len(qs)), "queries")
			b.ReportMetric(float64(s.indexBytes)/float64(s.rawBytes), "index/raw")
		})
	}
}

// The kinds of query of BenchmarkSearchCorpus.
var queryKinds = []string{"word", "hyphenated", "words", "phrase", "excluded", "filters"}

// corpusServer is a server over an imported corpus.
type corpusServer struct {
	url, token           string
	queries              map[string][]string
	rawBytes, indexBytes int64
}

var (
	corpusOnce sync.Once
	corpusSrv  *corpusServer
	corpusErr  error
)

// openCorpusServer imports the folders once per test binary and serves
// them until it exits.
func openCorpusServer(b *testing.B, folders []string) *corpusServer {
	corpusOnce.Do(func() { corpusSrv, corpusErr = startCorpusServer(folders) })
	if corpusErr != nil {
		b.Fatal(corpusErr)
	}
	return corpusSrv
}

func startCorpusServer(folders []string) (*corpusServer, error) {
	ctx := context.Background()
	dir := os.Getenv("DOCKET_SEARCH_DATA")
	if dir == "" {
		d, err := os.MkdirTemp("", "docket-corpus")
		if err != nil {
			return nil, err
		}
		dir = d
		corpusCleanup = append(corpusCleanup, func() { os.RemoveAll(d) })
	}
	texts, raw, err := readCorpus(folders)
	if err != nil {
		return nil, err
	}
	s := &corpusServer{rawBytes: raw, queries: corpusQueries(texts, folders)}
	if _, err := os.Stat(dbPath(dir)); err != nil {
		if err := createAda(dir); err != nil {
			return nil, err
		}
		for _, f := range folders {
			args := []string{"import", f, "--space", spaceSlug(f), "--data", dir}
			if err := run(ctx, args, nil, io.Discard, io.Discard); err != nil {
				return nil, fmt.Errorf("import %s: %w", f, err)
			}
		}
	}
	if s.token, err = adaToken(dir); err != nil {
		return nil, err
	}
	s.indexBytes = dirBytes(indexDir(dir))
	sctx, cancel := context.WithCancel(ctx)
	corpusCleanup = append([]func(){cancel}, corpusCleanup...)
	pr, pw := io.Pipe()
	go run(sctx, []string{"serve", "--addr", "127.0.0.1:0", "--data", dir}, nil, pw, io.Discard)
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		if m := listenLine.FindStringSubmatch(sc.Text()); m != nil {
			s.url = m[1]
			break
		}
	}
	if s.url == "" {
		return nil, fmt.Errorf("the server did not start")
	}
	go io.Copy(io.Discard, pr)
	// Warm up: every query once.
	client := &http.Client{Timeout: time.Minute}
	for _, kind := range queryKinds {
		for _, q := range s.queries[kind] {
			if _, err := s.get(client, q); err != nil {
				return nil, err
			}
		}
	}
	return s, nil
}

// corpusCleanup is run by TestMain after the tests.
var corpusCleanup []func()

// createAda creates the data file in dir with one user, Ada, who imports
// and searches.
func createAda(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	db := bolt.NewDB(dbPath(dir))
	if err := db.Open(); err != nil {
		return err
	}
	defer db.Close()
	ctx := docket.NewSystemContext(context.Background())
	_, err := bolt.NewUserService(db).CreateUser(ctx, docket.UserCreate{Name: "Ada", Email: "ada@example.com", Password: "long enough"})
	return err
}

// adaToken returns a new API token of Ada.
func adaToken(dir string) (string, error) {
	db := bolt.NewDB(dbPath(dir))
	if err := db.Open(); err != nil {
		return "", err
	}
	defer db.Close()
	users := bolt.NewUserService(db)
	ctx := context.Background()
	ada, err := users.FindUserByEmail(docket.NewSystemContext(ctx), "ada@example.com")
	if err != nil {
		return "", err
	}
	secret, _, err := users.CreateToken(docket.NewContextWithUser(ctx, ada), "bench")
	return secret, err
}

// search runs q and returns the number of hits of the page.
func (s *corpusServer) search(b *testing.B, client *http.Client, q string) int {
	n, err := s.get(client, q)
	if err != nil {
		b.Fatal(err)
	}
	return n
}

func (s *corpusServer) get(client *http.Client, q string) (int, error) {
	req, _ := http.NewRequest("GET", s.url+"/api/search?limit=20&q="+url.QueryEscape(q), nil)
	req.Header.Set("Authorization", "Bearer "+s.token)
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var res struct{ Hits []json.RawMessage }
	if err := json.NewDecoder(resp.Body).Decode(&res); err != nil || resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("search %q: status %d, %v", q, resp.StatusCode, err)
	}
	return len(res.Hits), nil
}

// spaceSlug is the slug of the space of a corpus folder.
func spaceSlug(folder string) string {
	return strings.ToLower(regexp.MustCompile(`[^A-Za-z0-9]+`).ReplaceAllString(filepath.Base(folder), "-"))
}

// readCorpus returns the text of the markdown files of the folders, and
// their size.
func readCorpus(folders []string) ([]string, int64, error) {
	var texts []string
	var size int64
	for _, f := range folders {
		files, err := filepath.Glob(filepath.Join(f, "*.md"))
		if err != nil {
			return nil, 0, err
		}
		for _, p := range files {
			data, err := os.ReadFile(p)
			if err != nil {
				return nil, 0, err
			}
			texts = append(texts, string(data))
			size += int64(len(data))
		}
	}
	if len(texts) == 0 {
		return nil, 0, fmt.Errorf("no markdown files in %v", folders)
	}
	return texts, size, nil
}

func dirBytes(dir string) int64 {
	var n int64
	filepath.Walk(dir, func(_ string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			n += fi.Size()
		}
		return nil
	})
	return n
}

var (
	corpusWord   = regexp.MustCompile(`[A-Za-z]+(?:-[A-Za-z]+)*`)
	corpusPhrase = regexp.MustCompile(`[a-z]{3,} [a-z]{3,} [a-z]{3,}`)
)

// corpusQueries picks the queries of each kind from the texts: words
// spread over the 300 in the most documents (the most frequent first),
// hyphenated words in the most documents, pairs and triples of those
// words, phrases of QUERIES.tsv and three-word phrases taken from the
// middle of documents, a frequent word without a phrase, and words and
// phrases with filters.
func corpusQueries(texts []string, folders []string) map[string][]string {
	df := map[string]int{}
	for _, t := range texts {
		seen := map[string]bool{}
		for _, w := range corpusWord.FindAllString(strings.ToLower(t), -1) {
			if len(w) >= 3 && !seen[w] {
				seen[w] = true
				df[w]++
			}
		}
	}
	var words, hyphenated []string
	for w := range df {
		if strings.Contains(w, "-") {
			hyphenated = append(hyphenated, w)
		} else {
			words = append(words, w)
		}
	}
	byDF := func(ws []string) {
		sort.Slice(ws, func(i, j int) bool {
			if df[ws[i]] != df[ws[j]] {
				return df[ws[i]] > df[ws[j]]
			}
			return ws[i] < ws[j]
		})
	}
	byDF(words)
	byDF(hyphenated)
	var word []string
	for i := 0; i < min(300, len(words)); i += 10 {
		word = append(word, words[i], words[i+1])
	}
	var pairs []string
	for i := 0; i+2 < len(word); i += 3 {
		pairs = append(pairs, word[i]+" "+word[len(word)-1-i], word[i]+" "+word[i+1]+" "+word[i+2])
	}
	var phrases []string
	for _, f := range folders {
		if _, err := os.Stat(filepath.Join(f, "QUERIES.tsv")); err == nil {
			for _, q := range testenv.Queries(nopTB{}, f) {
				phrases = append(phrases, `"`+q.Phrase+`"`)
			}
		}
	}
	for i := 0; i < len(texts) && len(phrases) < 60; i += max(len(texts)/50, 1) {
		t := texts[i]
		if m := corpusPhrase.FindString(t[len(t)/2:]); m != "" {
			phrases = append(phrases, `"`+m+`"`)
		}
	}
	out := map[string][]string{
		"word":       word,
		"hyphenated": hyphenated[:min(30, len(hyphenated))],
		"words":      pairs,
		"phrase":     phrases,
	}
	slug := spaceSlug(folders[0])
	for i := 0; i < 30 && i < len(word) && i < len(phrases); i++ {
		out["excluded"] = append(out["excluded"], word[i]+" -"+phrases[len(phrases)-1-i])
		switch i % 4 {
		case 0:
			out["filters"] = append(out["filters"], "status:draft "+word[i])
		case 1:
			out["filters"] = append(out["filters"], "kind:rfc "+phrases[i])
		case 2:
			out["filters"] = append(out["filters"], "space:"+slug+" "+word[i])
		default:
			out["filters"] = append(out["filters"], "type:document "+hyphenated[i%len(hyphenated)])
		}
	}
	return out
}

// nopTB lets testenv.Queries read a file outside a test.
type nopTB struct{ testing.TB }

func (nopTB) Helper()                   {}
func (nopTB) Fatal(args ...any)         { panic(fmt.Sprint(args...)) }
func (nopTB) Skipf(string, ...any)      {}
func (nopTB) Fatalf(f string, a ...any) { panic(fmt.Sprintf(f, a...)) }
