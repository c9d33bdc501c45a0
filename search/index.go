package search

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/custom"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/keyword"
	"github.com/blevesearch/bleve/v2/analysis/token/lowercase"
	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/blevesearch/bleve/v2/index/scorch/mergeplan"
	"github.com/blevesearch/bleve/v2/mapping"
	"github.com/blevesearch/bleve/v2/search/query"

	"github.com/docket-dev/docket"
)

// MappingVersion is the version of the index mapping and analysis. Bump it
// whenever either changes: an index built with another version is moved
// aside at [Open] and rebuilt.
//
// Version 2 stores no text (fragments come from a [TextLoader]) and no
// word offsets, searches one body field that holds the title and link
// words as sections, keeps filter and facet values in two keyword fields
// (facet values as uncompressed doc values), replaces bleve's date fields
// by day terms and a sortable keyword, and adds the title word prefixes
// of [Index.Suggest].
//
// Version 3 keeps no word positions in the body field: a phrase is
// looked up as the conjunction of its words and checked against the
// stored text (see [MaxPhraseChecks]). Titles keep theirs, for in:title.
// Version 4 adds decisions and frozen minutes as items of their own
// (types decision and minutes) and the event watermark of catch-up.
// The two were made on separate branches; version 5 has both changes.
//
// Version 6 keeps the word positions of the body field again: on long
// documents, checking phrases against the stored text cost hundreds of
// milliseconds, and the index answers them itself in a few. Only a
// phrase whose last word is a prefix ("open-cod*") is still checked.
//
// Version 7 adds the pairs field: hashes of the pairs of words that
// follow each other in the body, so that a phrase of broad words reads
// the positions of the few items that hold its pairs, not of every item
// that holds its words (see phraseQuery).
const MappingVersion = 7

// Internal keys of the bleve index.
var (
	keyMappingVersion = []byte("docket_mapping_version")
	keyRebuilt        = []byte("docket_rebuilt")
	keyEventSeq       = []byte("docket_event_seq")
)

// Options configure an [Index]. The zero value is usable.
type Options struct {
	// BatchSize is the most items written in one bleve batch; 5000 if 0.
	BatchSize int
	// Loader reads the text of hits from storage, for their titles and
	// fragments. Without one, hits carry only their ids and types.
	Loader TextLoader
	// Logger receives a message when an index is moved aside; discarded
	// if nil.
	Logger *slog.Logger
	// MaxPhraseChecks is the most candidates of a phrase whose text one
	// search checks; [MaxPhraseChecks] if 0.
	MaxPhraseChecks int
}

// Index is a full-text index of documents and comments. It is safe for
// concurrent use.
type Index struct {
	dir          string
	opts         Options
	idx          bleve.Index
	needsRebuild bool
	build        *builder
	mu           sync.RWMutex // guards closed
	closed       bool
}

// Fields of the index. Filters and facets are keyword terms named
// "prefix:value" (see prefixOf) in two fields, so that one item has few
// fields (each field of each item costs space and indexing time) and
// facets read one field's doc values per hit.
const (
	// fieldFacet holds the values counted by facets: type, space,
	// author, status, tag. It has doc values, stored uncompressed: facets
	// read them for every hit, and a compressed chunk is decompressed
	// whole for each hit that falls in it.
	fieldFacet = "f"
	// fieldFilter holds the values that are only filtered on: kind,
	// owner, the document of an item and the decade, year, month and day
	// of its date (see dateTerms).
	fieldFilter = "k"
	// fieldDate is the date as a sortable keyword (dateKey), for sorting
	// by date. It has doc values, uncompressed too.
	fieldDate = "date"
	// fieldLead holds the title and headings of a document, without
	// positions, to score their words more.
	fieldLead = "lead"
	// fieldTitleWords holds the prefixes of every title word, and those
	// of the first word again marked with firstWord, for [Index.Suggest].
	fieldTitleWords = "tw"
	// fieldPairs holds hashes of the pairs of words of the body that
	// follow each other (see pairsTokenFilter), without positions,
	// frequencies or norms.
	fieldPairs = "p"
)

// maxWordPrefix is the longest prefix of a title word indexed for
// suggestions, in characters. A longer one is looked up as a prefix query
// on the title, which has few words to expand to.
const maxWordPrefix = 10

// firstWord marks the prefixes of the first word of a title.
const firstWord = "^"

// prefixOf is the prefix of the keyword terms of each filter and facet,
// short because facet terms are kept whole for every item.
var prefixOf = map[string]string{
	"type": "t", "space": "s", "author": "a", "status": "st", "tag": "g", // fieldFacet
	"kind": "k", "owner": "o", "doc": "i", // fieldFilter
}

// typeValue is the value of the type terms: one letter.
var typeValue = map[string]string{TypeDocument: "d", TypeComment: "c", TypeDecision: "x", TypeMinutes: "m"}

// newMapping returns the explicit mapping of the index. The default
// mapping is disabled: only the known types are indexed. Items are
// given to bleve as documents built from this mapping (see newBuilder),
// not as Go values that bleve maps by reflection.
func newMapping() (mapping.IndexMapping, error) {
	m := bleve.NewIndexMapping()
	// The index analyzer is the text analyzer without offsets.
	for name, filters := range map[string][]string{
		textAnalyzer:  {lowercase.Name, foldFilter},
		indexAnalyzer: {lowercase.Name, foldFilter, noOffsetsFilter},
		pairsAnalyzer: {lowercase.Name, foldFilter, pairsFilter},
	} {
		if err := m.AddCustomAnalyzer(name, map[string]any{
			"type":          custom.Name,
			"tokenizer":     textTokenizer,
			"token_filters": filters,
		}); err != nil {
			return nil, err
		}
	}
	m.DefaultAnalyzer = textAnalyzer
	m.DefaultMapping.Enabled = false
	m.DefaultMapping.Dynamic = false
	m.StoreDynamic = false
	m.IndexDynamic = false
	m.DocValuesDynamic = false

	// field sets up f as a field that is neither stored nor in _all.
	field := func(f *mapping.FieldMapping, analyzer string, positions, docValues bool) *mapping.FieldMapping {
		f.Analyzer = analyzer
		f.Store = false
		f.IncludeInAll = false
		f.IncludeTermVectors = positions
		f.DocValues = docValues
		return f
	}
	// keyword is a filter: no score, no positions.
	keyword := func(docValues bool) *mapping.FieldMapping {
		f := field(bleve.NewKeywordFieldMapping(), keywordAnalyzer, false, docValues)
		f.SkipFreqNorm = true
		return f
	}
	// text is searched and scored; with positions (term vectors) it is
	// matched as phrases. Fragments are made from the stored text, so
	// the index keeps positions only (see noOffsetsFilter).
	text := func(positions bool) *mapping.FieldMapping {
		return field(bleve.NewTextFieldMapping(), indexAnalyzer, positions, false)
	}
	common := func(dm *mapping.DocumentMapping) {
		dm.Dynamic = false
		dm.AddFieldMappingsAt(fieldFacet, keyword(true))
		dm.AddFieldMappingsAt(fieldFilter, keyword(false))
		dm.AddFieldMappingsAt(fieldDate, keyword(true))
		// The text of an item, in sections (see bodyText), with the
		// positions of its words, which phrases need.
		dm.AddFieldMappingsAt("body", text(true))
		pairs := text(false)
		pairs.Analyzer = pairsAnalyzer
		pairs.SkipFreqNorm = true // a filter: the words score
		dm.AddFieldMappingsAt(fieldPairs, pairs)
	}
	docm := bleve.NewDocumentStaticMapping()
	common(docm)
	// The title alone, for in:title; stored for suggestions.
	title := text(true)
	title.Store = true
	docm.AddFieldMappingsAt("title", title)
	// The title and the headings again, whose words score more. They
	// are in the body too, where phrases match them: no positions here.
	docm.AddFieldMappingsAt(fieldLead, text(false))
	docm.AddFieldMappingsAt(fieldTitleWords, keyword(false))
	version := bleve.NewNumericFieldMapping()
	version.Store = true
	version.Index = false
	version.IncludeInAll = false
	version.DocValues = false
	docm.AddFieldMappingsAt("version", version)
	m.AddDocumentMapping(TypeDocument, docm)

	for _, typ := range []string{TypeComment, TypeDecision, TypeMinutes} {
		dm := bleve.NewDocumentStaticMapping()
		common(dm)
		m.AddDocumentMapping(typ, dm)
	}
	return m, m.Validate()
}

// keywordAnalyzer keeps a value whole.
const keywordAnalyzer = keyword.Name

func init() {
	// Scorch runs a disjunction that needs no scores, such as the filter
	// of readable spaces, by OR-ing the postings of its terms into one
	// bitmap: a cost in the size of the index at every search, where
	// stepping the terms along the matches of the text costs in the
	// number of matches. Measured on the synthetic corpus, the filter
	// costs less without it (docs/BENCHMARKS.md). This package is the
	// only user of bleve in the program.
	scorch.OptimizeDisjunctionUnadorned = false
}

// scorchConfig are the options of the scorch index.
func scorchConfig() map[string]any {
	return map[string]any{
		// Keep one snapshot: the index is rebuilt from storage, never
		// rolled back.
		"numSnapshotsToKeep": 1,
	}
}

// Open opens the index in dir, creating it if needed. It fails only when
// a new index cannot be created at all (for example, dir is not
// writable): an index that cannot be opened, is corrupt, or was built with
// another MappingVersion is renamed to dir plus ".broken-<time>" and
// replaced by an empty one, and [Index.NeedsRebuild] reports true.
func Open(dir string, opts Options) (*Index, error) {
	if opts.BatchSize <= 0 {
		opts.BatchSize = 5000
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.MaxPhraseChecks <= 0 {
		opts.MaxPhraseChecks = MaxPhraseChecks
	}
	x := &Index{dir: dir, opts: opts}
	if _, err := os.Stat(dir); err == nil {
		idx, err := openExisting(dir)
		if err == nil {
			x.idx = idx
			if x.build, err = newBuilder(idx.Mapping(), x); err != nil {
				idx.Close()
				return nil, err
			}
			v, _ := idx.GetInternal(keyRebuilt)
			x.needsRebuild = len(v) == 0
			return x, nil
		}
		aside := fmt.Sprintf("%s.broken-%s", dir, time.Now().UTC().Format("20060102T150405.000000000"))
		opts.Logger.Warn("search index unusable, moving it aside and rebuilding",
			"dir", dir, "aside", aside, "err", err)
		if rerr := os.Rename(dir, aside); rerr != nil {
			if rerr := os.RemoveAll(dir); rerr != nil {
				return nil, docket.Errorf(docket.EUNAVAILABLE, "The search index cannot be replaced.")
			}
		}
	}
	m, err := newMapping()
	if err != nil {
		return nil, fmt.Errorf("search mapping: %w", err)
	}
	idx, err := bleve.NewUsing(dir, m, scorch.Name, scorch.Name, scorchConfig())
	if err != nil {
		return nil, fmt.Errorf("create index: %w", err)
	}
	if err := idx.SetInternal(keyMappingVersion, []byte(strconv.Itoa(MappingVersion))); err != nil {
		idx.Close()
		return nil, fmt.Errorf("create index: %w", err)
	}
	x.idx = idx
	if x.build, err = newBuilder(m, x); err != nil {
		idx.Close()
		return nil, err
	}
	x.needsRebuild = true
	return x, nil
}

// openExisting opens an index and checks its mapping version; bleve
// panics on some corrupt files, which is turned into an error.
func openExisting(dir string) (idx bleve.Index, err error) {
	defer func() {
		if r := recover(); r != nil {
			if idx != nil {
				idx.Close()
			}
			idx, err = nil, fmt.Errorf("open index: panic: %v", r)
		}
	}()
	idx, err = bleve.OpenUsing(dir, scorchConfig())
	if err != nil {
		return nil, fmt.Errorf("open index: %w", err)
	}
	v, err := idx.GetInternal(keyMappingVersion)
	if err != nil || string(v) != strconv.Itoa(MappingVersion) {
		idx.Close()
		return nil, fmt.Errorf("open index: mapping version %q, want %d (err %v)", v, MappingVersion, err)
	}
	// Touch the index so that corrupt segments show up now, not on the
	// first query.
	if _, err := idx.DocCount(); err != nil {
		idx.Close()
		return nil, fmt.Errorf("open index: %w", err)
	}
	return idx, nil
}

// NeedsRebuild reports whether the index was created empty at Open (or
// never completely rebuilt), so the caller must index every document and
// comment from storage and then call [Index.MarkRebuilt].
func (x *Index) NeedsRebuild() bool {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.needsRebuild
}

// MarkRebuilt records that a full rebuild finished, so that the next Open
// does not ask for another one.
func (x *Index) MarkRebuilt(ctx context.Context) error {
	if err := x.check(ctx); err != nil {
		return err
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	if err := x.idx.SetInternal(keyRebuilt, []byte("1")); err != nil {
		return fmt.Errorf("mark rebuilt: %w", err)
	}
	x.needsRebuild = false
	return nil
}

// Compact merges the segments of the index into one, as the last step of
// a rebuild: a rebuild writes many small segments, and each costs space
// (every segment has its own dictionaries) and time at every search.
// Searches and writes go on meanwhile.
func (x *Index) Compact(ctx context.Context) error {
	if err := x.check(ctx); err != nil {
		return err
	}
	adv, err := x.idx.Advanced()
	if err != nil {
		return fmt.Errorf("compact index: %w", err)
	}
	s, ok := adv.(*scorch.Scorch)
	if !ok {
		return nil
	}
	opts := mergeplan.SingleSegmentMergePlanOptions
	if err := s.ForceMerge(ctx, &opts); err != nil {
		return fmt.Errorf("compact index: %w", err)
	}
	return nil
}

// Close closes the index. Later calls return EUNAVAILABLE.
func (x *Index) Close() error {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.closed {
		return nil
	}
	x.closed = true
	return x.idx.Close()
}

// check returns an error if ctx is done or the index closed.
func (x *Index) check(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return docket.Errorf(docket.EUNAVAILABLE, "The search was cancelled or timed out.")
	}
	x.mu.RLock()
	defer x.mu.RUnlock()
	if x.closed {
		return docket.Errorf(docket.EUNAVAILABLE, "The search index is closed.")
	}
	return nil
}

// term returns the keyword term of a filter or facet value.
func term(name, value string) string {
	if name == "type" {
		value = typeValue[value]
	}
	return prefixOf[name] + ":" + value
}

// dateKey is the sortable form of an item's date: the minutes since
// minDay in six base-36 digits. Minutes, not seconds, because every
// distinct value is a term of the dictionary, which costs space.
func dateKey(t time.Time) string {
	m := max(int64(t.Sub(minDay)/time.Minute), 0)
	s := strconv.FormatInt(m, 36)
	return strings.Repeat("0", max(6-len(s), 0)) + s
}

// Dates are filtered by day. An item's day is indexed as four terms, its
// decade, year, month and day, so that a range of days is a union of at
// most a few dozen terms (see dayRangeTerms). Days are clamped to
// minDay..maxDay, the range that before: and after: accept.
var (
	minDay = time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)
	maxDay = time.Date(2199, 12, 31, 0, 0, 0, 0, time.UTC)
)

// dateTerms returns the filter terms of the day of t.
func dateTerms(t time.Time) []string {
	d := day(t)
	if d.Before(minDay) {
		d = minDay
	} else if d.After(maxDay) {
		d = maxDay
	}
	s := d.Format("20060102")
	return []string{"x:" + s[:3], "y:" + s[:4], "m:" + s[:6], "d:" + s}
}

// day returns the UTC day of t, at midnight.
func day(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

// dayRangeTerms returns the fewest filter terms (see dateTerms) whose
// union is the days from..to, both included and clamped to
// minDay..maxDay; none if the range is empty.
func dayRangeTerms(from, to time.Time) []string {
	from, to = day(from), day(to)
	if from.Before(minDay) {
		from = minDay
	}
	if to.After(maxDay) {
		to = maxDay
	}
	var out []string
	for !from.After(to) {
		y, m, d := from.Date()
		switch {
		case d == 1 && m == 1 && y%10 == 0 && !from.AddDate(10, 0, -1).After(to):
			out = append(out, "x:"+from.Format("2006")[:3])
			from = from.AddDate(10, 0, 0)
		case d == 1 && m == 1 && !from.AddDate(1, 0, -1).After(to):
			out = append(out, "y:"+from.Format("2006"))
			from = from.AddDate(1, 0, 0)
		case d == 1 && !from.AddDate(0, 1, -1).After(to):
			out = append(out, "m:"+from.Format("200601"))
			from = from.AddDate(0, 1, 0)
		default:
			out = append(out, "d:"+from.Format("20060102"))
			from = from.AddDate(0, 0, 1)
		}
	}
	return out
}

// titlePrefixes returns the terms of the suggestion field of a title:
// the prefixes of each of its words, and of its first word marked with
// firstWord.
func (x *Index) titlePrefixes(title string) []string {
	toks := x.analyze(title)
	var out []string
	seen := map[string]bool{}
	for i, tok := range toks {
		for _, p := range prefixes(tok, maxWordPrefix) {
			if !seen[p] {
				seen[p] = true
				out = append(out, p)
			}
			if i == 0 {
				out = append(out, firstWord+p)
			}
		}
	}
	return out
}

// prefixes returns the prefixes of s of 1 to max characters.
func prefixes(s string, max int) []string {
	var out []string
	n := 0
	for i, r := range s {
		if n == max {
			break
		}
		n++
		out = append(out, s[:i+utf8.RuneLen(r)])
	}
	return out
}

// IndexedVersion returns the version at which a document was last
// indexed, and false if it is not in the index. After a restart, a caller
// reindexes every document whose stored version is greater.
func (x *Index) IndexedVersion(id string) (int64, bool) {
	if x.check(context.Background()) != nil {
		return 0, false
	}
	q := query.NewDocIDQuery([]string{docKey(id)})
	req := bleve.NewSearchRequestOptions(q, 1, 0, false)
	req.Fields = []string{"version"}
	res, err := x.idx.Search(req)
	if err != nil || len(res.Hits) == 0 {
		return 0, false
	}
	v, ok := res.Hits[0].Fields["version"].(float64)
	if !ok {
		return 0, false
	}
	return int64(v), true
}

// IndexedVersions returns the indexed version of every document in the
// index, keyed by document id: the bulk form of [Index.IndexedVersion] for
// catching up after a restart. Returns EUNAVAILABLE when ctx is done or
// the index closed.
func (x *Index) IndexedVersions(ctx context.Context) (map[string]int64, error) {
	if err := x.check(ctx); err != nil {
		return nil, err
	}
	const page = 10000
	out := make(map[string]int64)
	tq := bleve.NewTermQuery(term("type", TypeDocument))
	tq.SetField(fieldFacet)
	var after []string
	for {
		req := bleve.NewSearchRequestOptions(tq, page, 0, false)
		req.Fields = []string{"version"}
		req.SortBy([]string{"_id"})
		if after != nil {
			req.SearchAfter = after
		}
		res, err := x.idx.SearchInContext(ctx, req)
		if err != nil {
			if ctx.Err() != nil {
				return nil, docket.Errorf(docket.EUNAVAILABLE, "The search was cancelled or timed out.")
			}
			return nil, fmt.Errorf("indexed versions: %w", err)
		}
		for _, h := range res.Hits {
			v, _ := h.Fields["version"].(float64)
			out[strings.TrimPrefix(h.ID, "d:")] = int64(v)
		}
		if len(res.Hits) < page {
			return out, nil
		}
		after = []string{res.Hits[len(res.Hits)-1].ID}
	}
}

// EventWatermark returns the sequence number of the last event whose
// changes are all in the index, and false if none was recorded. After a
// restart, the changes of the events after it are indexed again.
func (x *Index) EventWatermark() (int64, bool) {
	if x.check(context.Background()) != nil {
		return 0, false
	}
	v, err := x.idx.GetInternal(keyEventSeq)
	if err != nil || len(v) == 0 {
		return 0, false
	}
	seq, err := strconv.ParseInt(string(v), 10, 64)
	return seq, err == nil
}

// SetEventWatermark records the event watermark (see
// [Index.EventWatermark]).
func (x *Index) SetEventWatermark(ctx context.Context, seq int64) error {
	if err := x.check(ctx); err != nil {
		return err
	}
	if err := x.idx.SetInternal(keyEventSeq, []byte(strconv.FormatInt(seq, 10))); err != nil {
		return fmt.Errorf("event watermark: %w", err)
	}
	return nil
}
