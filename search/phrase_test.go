package search

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/google/go-cmp/cmp"

	"github.com/docket-dev/docket"
)

func phraseDocs() ([]Doc, []Comment) {
	at := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	docs := []Doc{
		{ID: "d1", SpaceID: "pub", Title: "Storage engine", Status: docket.StatusAccepted, OwnerID: "alice",
			Body:      "We chose a write-ahead\nlog for durability: the **log** is\nwritten ahead of time.\n",
			CreatedAt: at, UpdatedAt: at},
		{ID: "d2", SpaceID: "pub", Title: "Plans", Status: docket.StatusDraft, OwnerID: "bob",
			Body:      "The log ahead of us is long. Ahead, a log.\n",
			CreatedAt: at.AddDate(0, 0, 1), UpdatedAt: at.AddDate(0, 0, 1)},
		{ID: "d3", SpaceID: "pub", Title: "旅行", Status: docket.StatusDraft, OwnerID: "bob",
			Body:      "東京タワーは高い。\n京都も好き。\n",
			CreatedAt: at.AddDate(0, 0, 2), UpdatedAt: at.AddDate(0, 0, 2)},
		{ID: "d4", SpaceID: "secret", Title: "Hidden", Status: docket.StatusDraft, OwnerID: "bob",
			Body:      "A redo log, secretly.\n",
			CreatedAt: at.AddDate(0, 0, 3), UpdatedAt: at.AddDate(0, 0, 3)},
	}
	comments := []Comment{
		{ID: "c1", DocID: "d1", ThreadID: "t1", SpaceID: "pub", AuthorID: "carol",
			Body: "I would rather keep a redo\nlog than an undo log.", CreatedAt: at.AddDate(0, 0, 4)},
		{ID: "c2", DocID: "d2", ThreadID: "t2", SpaceID: "pub", AuthorID: "carol",
			Body: "Redo what? The log says nothing.", CreatedAt: at.AddDate(0, 0, 5)},
	}
	return docs, comments
}

// TestPhraseChecks checks phrases, those the index matches and the
// prefix phrases that Search checks against the text.
func TestPhraseChecks(t *testing.T) {
	docs, comments := phraseDocs()
	x, _ := indexed(t, docs, comments)
	tests := []struct {
		name, q string
		want    []string
	}{
		{"across a line break", `"ahead log"`, []string{"d1"}},
		{"across a line break, three words", `"write-ahead log for"`, []string{"d1"}},
		{"across emphasis and a line break", `"the log is written"`, []string{"d1"}},
		{"words present, not adjacent", `"durability written"`, nil},
		{"words in the other order", `"log ahead"`, []string{"d2"}},
		{"a word that analyses to several", "write-ahead", []string{"d1"}},
		{"in a comment", `"redo log"`, []string{"c1"}},
		{"comment words not adjacent", `"redo nothing"`, nil},
		{"not in an unreadable space", `"redo log" type:document`, nil},
		{"CJK", `"東京タワー"`, []string{"d3"}},
		{"CJK word", "京都", []string{"d3"}},
		{"CJK characters present, not adjacent", `"東京都"`, nil},
		{"with a filter", `"log ahead" status:draft`, []string{"d2"}},
		{"with a filter that excludes it", `"log ahead" status:accepted`, nil},
		{"with a word", `"ahead log" durability`, []string{"d1"}},
		{"or a word", `"ahead log" OR nothing`, []string{"c2", "d1"}},
		{"or a filter", `"ahead log" OR author:carol`, []string{"c1", "c2", "d1"}},
		{"two phrases", `"ahead log" "log for"`, []string{"d1"}},
		{"prefix", "write-ahea*", []string{"d1"}},
		{"prefix, words not adjacent", "durability-writ*", nil},
		{"negated prefix", `log -write-ahea*`, []string{"c1", "c2", "d2"}},
		{"negated", `log -"ahead log"`, []string{"c1", "c2", "d2"}},
		{"negated, words not adjacent", `log -"durability written"`, []string{"c1", "c2", "d1", "d2"}},
		{"negated in a comment", `log -"redo log"`, []string{"c2", "d1", "d2"}},
		{"negated CJK", `京都 -"東京タワー"`, nil},
		{"negated and positive", `"redo log" -"undo log"`, nil},
		{"title phrase in the body field", `"storage engine"`, []string{"d1"}},
		{"not across title and body", `"engine we"`, nil},
		{"in:title", `in:title "storage engine"`, []string{"d1"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := search(t, x, tc.q, "pub")
			if diff := cmp.Diff(tc.want, ids(res)); diff != "" {
				t.Errorf("Search(%s) (-want +got):\n%s", tc.q, diff)
			}
			if res.Total != uint64(len(tc.want)) || res.Approximate {
				t.Errorf("Search(%s): total %d, approximate %v; want %d, false", tc.q, res.Total, res.Approximate, len(tc.want))
			}
			for _, h := range res.Hits {
				// JSON has no NaN: a score of NaN fails the request.
				if math.IsNaN(h.Score) || math.IsInf(h.Score, 0) {
					t.Errorf("Search(%s): hit %s scores %v", tc.q, h.ID, h.Score)
				}
			}
		})
	}
}

// TestPhraseOrUncheckedFilter checks that a prefix phrase in OR with a
// filter that candidates cannot be checked against says the result is
// approximate, and that a phrase, which the index matches, does not.
func TestPhraseOrUncheckedFilter(t *testing.T) {
	docs, comments := phraseDocs()
	docs[1].Kind = docket.KindRFC
	x := openIndex(t, newMemLoader(docs, comments))
	mustIndex(t, x, docs, nil)
	for q, approximate := range map[string]bool{`ahead-lo* OR kind:rfc`: true, `"ahead log" OR kind:rfc`: false} {
		res := search(t, x, q, "pub")
		if got := ids(res); !slices.Equal(got, []string{"d1", "d2"}) || res.Approximate != approximate {
			t.Errorf("Search(%s): hits %v, approximate %v; want [d1 d2], %v", q, got, res.Approximate, approximate)
		}
	}
}

// TestPhraseTotalsFacetsPaging checks that the total, facets, order and
// pages of a phrase query count only the items that hold the phrase.
func TestPhraseTotalsFacetsPaging(t *testing.T) {
	docs := dailyDocs(30, func(i int, d *Doc) {
		d.Body = "cache latency matters here.\n"
		if i%3 == 0 {
			d.Body = "latency of the cache matters.\n" // both words, not the phrase
		}
		d.Status, d.OwnerID = []docket.Status{docket.StatusDraft, docket.StatusReview}[i%2], "alice"
	})
	x, _ := indexed(t, docs, nil)
	ctx := context.Background()
	var want []string // newest first
	for i := 29; i >= 0; i-- {
		if i%3 != 0 {
			want = append(want, fmt.Sprintf("d%02d", i))
		}
	}
	q := mustParse(t, `"cache latency"`)
	q.ReadableSpaces, q.Sort, q.Limit = []string{"pub"}, SortDate, 7
	var got []string
	for q.Offset = 0; q.Offset < 30; q.Offset += q.Limit {
		res, err := x.Search(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		if res.Total != 20 || res.Approximate {
			t.Fatalf("offset %d: total %d, approximate %v; want 20, false", q.Offset, res.Total, res.Approximate)
		}
		if q.Offset == 0 {
			wantFacets := []FacetCount{{"draft", 10}, {"review", 10}}
			if diff := cmp.Diff(wantFacets, res.Facets[FacetStatus]); diff != "" {
				t.Errorf("status facet (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff([]FacetCount{{TypeDocument, 20}}, res.Facets[FacetType]); diff != "" {
				t.Errorf("type facet (-want +got):\n%s", diff)
			}
		}
		for _, h := range res.Hits {
			got = append(got, h.ID)
			if !strings.Contains(strings.Join(h.Fragments, " "), "<mark>cache latency</mark>") {
				t.Errorf("%s: fragments %q", h.ID, h.Fragments)
			}
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("pages by date (-want +got):\n%s", diff)
	}
	// By relevance, every page holds phrase hits only, each once.
	q.Sort, q.Limit, q.Offset = SortRelevance, 100, 0
	res, err := x.Search(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	got = ids(res)
	slices.Sort(want)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("by relevance (-want +got):\n%s", diff)
	}
}

// TestPhraseApproximate checks that a prefix phrase with more candidates
// than Options.MaxPhraseChecks says the result is approximate, and that
// what it shows still holds the phrase.
func TestPhraseApproximate(t *testing.T) {
	docs := dailyDocs(40, func(i int, d *Doc) {
		d.Body = "alpha beta gamma\n"
		if i%2 == 0 {
			d.Body = "beta alpha gamma\n"
		}
	})
	x := openIndexWith(t, Options{Loader: newMemLoader(docs, nil), MaxPhraseChecks: 10})
	mustIndex(t, x, docs, nil)
	ctx := context.Background()
	tests := []struct {
		q           string
		sort        string
		total       uint64
		approximate bool
		want        []string
	}{
		// The 10 newest candidates are checked: d39..d30, half of them
		// hold the phrase.
		{`alpha-be*`, SortDate, 5, true, []string{"d31", "d33", "d35", "d37", "d39"}},
		{`alpha-be* before:2025-01-06`, SortDate, 2, false, []string{"d01", "d03"}},
		// Excluding: the 40 candidates are too many, so every item
		// with both words is left out.
		{`gamma -alpha-be*`, SortDate, 0, true, nil},
		{`gamma -alpha-be* before:2025-01-06`, SortDate, 3, false, []string{"d00", "d02", "d04"}},
	}
	for _, tc := range tests {
		q := mustParse(t, tc.q)
		q.ReadableSpaces, q.Sort, q.Limit = []string{"pub"}, tc.sort, 3
		if tc.q == `alpha-be*` {
			q.Limit = 100
		}
		res, err := x.Search(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		if res.Total != tc.total || res.Approximate != tc.approximate {
			t.Errorf("Search(%s): total %d, approximate %v; want %d, %v", tc.q, res.Total, res.Approximate, tc.total, tc.approximate)
		}
		if diff := cmp.Diff(tc.want, ids(res)); diff != "" {
			t.Errorf("Search(%s) (-want +got):\n%s", tc.q, diff)
		}
	}
}

// TestHoldsASCII compares the fast phrase check of ASCII text with the
// analyzer's words.
func TestHoldsASCII(t *testing.T) {
	x := openIndex(t, nil)
	texts := []string{
		"a write-ahead\nlog for you", "foo:bar baz", "don't stop me now", "e.g. the log",
		"1,000 log entries", "x_y log", "log\tahead", "  ahead   log  ", "aheadlog ahead-log",
		"the the the cache latency", strings.Repeat("pad ", 50) + "ahead" + strings.Repeat(" ", 80) + "log",
	}
	phrases := []string{"ahead log", "write ahead log", "bar baz", "foo bar", "don't stop", "t stop", "g the log",
		"e.g the", "1,000 log", "000 log", "x_y log", "y log", "log ahead", "cache latency", "the cache", "ahead lo"}
	for _, text := range texts {
		for _, p := range phrases {
			for _, prefix := range []bool{false, true} {
				u := unit{toks: x.analyze(p), prefix: prefix}
				want := false
				var ws []word
				for _, tk := range x.idx.Mapping().AnalyzerNamed(textAnalyzer).Analyze([]byte(text)) {
					ws = append(ws, word{start: tk.Start, end: tk.End, term: string(tk.Term)})
				}
				for i := range ws {
					if matchAt(ws, i, u) >= 0 {
						want = true
					}
				}
				if got := holdsASCII(asciiLower(text), u); got != want {
					t.Errorf("holdsASCII(%q, %q, prefix %v) = %v; want %v", text, p, prefix, got, want)
				}
			}
		}
	}
}

// dailyDocs returns n documents dNN titled "Doc N" in space pub, one a
// day from 2025-01-01, each handed to set to fill in the rest.
func dailyDocs(n int, set func(i int, d *Doc)) []Doc {
	at := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	docs := make([]Doc, n)
	for i := range docs {
		day := at.AddDate(0, 0, i)
		docs[i] = Doc{ID: fmt.Sprintf("d%02d", i), SpaceID: "pub", Title: fmt.Sprintf("Doc %d", i), CreatedAt: day, UpdatedAt: day}
		set(i, &docs[i])
	}
	return docs
}

// TestPhraseQueryPositions checks that phraseQuery keeps the candidates
// whose words follow each other, whatever its candidates query finds:
// here every item with both words, as if all their pairs had collided.
func TestPhraseQueryPositions(t *testing.T) {
	bodies := []string{"cache latency matters", "latency of the cache", "the cache, latency", "cache\n\nlatency", "latency cache", "a cache latency cache"}
	docs := dailyDocs(len(bodies), func(i int, d *Doc) { d.Body = bodies[i] })
	x, _ := indexed(t, docs, nil)
	q := &phraseQuery{
		candidates: bleve.NewConjunctionQuery(keywordQuery("body", "cache"), keywordQuery("body", "latency")),
		toks:       []string{"cache", "latency"},
	}
	res, err := x.idx.Search(bleve.NewSearchRequest(q))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, h := range res.Hits {
		got = append(got, hitOf(h).ID)
	}
	slices.Sort(got)
	if want := []string{"d00", "d02", "d03", "d05"}; !slices.Equal(got, want) {
		t.Errorf("hits %v; want %v", got, want)
	}
}
