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

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/custom"
	"github.com/blevesearch/bleve/v2/analysis/token/lowercase"
	"github.com/blevesearch/bleve/v2/mapping"
	"github.com/blevesearch/bleve/v2/search/query"

	"github.com/docket-dev/docket"
)

// MappingVersion is the version of the index mapping and analysis. Bump it
// whenever either changes: an index built with another version is moved
// aside at [Open] and rebuilt.
const MappingVersion = 1

// Internal keys of the bleve index.
var (
	keyMappingVersion = []byte("docket_mapping_version")
	keyRebuilt        = []byte("docket_rebuilt")
)

// Options configure an [Index]. The zero value is usable.
type Options struct {
	// BatchSize is the most items written in one bleve batch; 500 if 0.
	BatchSize int
	// Logger receives a message when an index is moved aside; discarded
	// if nil.
	Logger *slog.Logger
}

// Index is a full-text index of documents and comments. It is safe for
// concurrent use.
type Index struct {
	dir          string
	opts         Options
	idx          bleve.Index
	needsRebuild bool
	mu           sync.RWMutex // guards closed
	closed       bool
}

// Doc is a document as indexed.
type Doc struct {
	ID      string
	SpaceID string
	Title   string
	// Body is the markdown text. It is indexed as plain text (see
	// [PlainText]) with its headings boosted; the words of its link URLs
	// are indexed apart, with a low boost, and never shown in fragments.
	Body      string
	Kind      docket.Kind
	Status    docket.Status
	OwnerID   string
	Tags      []string
	Version   int64
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Comment is a comment on a document's thread, as indexed. Its SpaceID
// must be the space of its document.
type Comment struct {
	ID       string
	DocID    string
	ThreadID string
	SpaceID  string
	// DocTitle is shown in hits; it is stored, not searched.
	DocTitle  string
	AuthorID  string
	Body      string // markdown
	CreatedAt time.Time
}

// item is what is stored in bleve for both documents and comments.
type item struct {
	Kind     string `json:"type"`
	ID       string `json:"id"`
	DocID    string `json:"doc_id"`
	ThreadID string `json:"thread_id,omitempty"`
	Space    string `json:"space"`
	Title    string `json:"title,omitempty"`
	DocTitle string `json:"doc_title,omitempty"`
	// TitleSort is the title again, as one keyword whose doc values let
	// Suggest read titles without loading stored documents.
	TitleSort string    `json:"title_sort,omitempty"`
	Headings  []string  `json:"headings,omitempty"`
	Body      string    `json:"body"`
	Links     string    `json:"links,omitempty"`
	DocKind   string    `json:"kind,omitempty"`
	Status    string    `json:"status,omitempty"`
	Owner     string    `json:"owner,omitempty"`
	Author    string    `json:"author"`
	Tags      []string  `json:"tag,omitempty"`
	Version   float64   `json:"version"`
	Created   time.Time `json:"created"`
	Date      time.Time `json:"date"`
}

// Type implements bleve's mapping.Classifier.
func (it *item) Type() string { return it.Kind }

func docKey(id string) string     { return "d:" + id }
func commentKey(id string) string { return "c:" + id }

// newMapping returns the explicit mapping of the index. The default
// mapping is disabled: only the two known types are indexed.
func newMapping() (mapping.IndexMapping, error) {
	m := bleve.NewIndexMapping()
	err := m.AddCustomAnalyzer(textAnalyzer, map[string]any{
		"type":          custom.Name,
		"tokenizer":     textTokenizer,
		"token_filters": []string{lowercase.Name, foldFilter},
	})
	if err != nil {
		return nil, err
	}
	m.DefaultAnalyzer = textAnalyzer
	m.TypeField = "type"
	m.DefaultMapping.Enabled = false
	m.DefaultMapping.Dynamic = false
	m.StoreDynamic = false
	m.IndexDynamic = false
	m.DocValuesDynamic = false

	keyword := func(store bool) *mapping.FieldMapping {
		f := bleve.NewKeywordFieldMapping()
		f.Store = store
		f.IncludeInAll = false
		f.IncludeTermVectors = false
		return f
	}
	text := func(store bool) *mapping.FieldMapping {
		f := bleve.NewTextFieldMapping()
		f.Analyzer = textAnalyzer
		f.Store = store
		f.IncludeInAll = false
		f.IncludeTermVectors = true
		f.DocValues = false
		return f
	}
	date := func() *mapping.FieldMapping {
		f := bleve.NewDateTimeFieldMapping()
		f.Store = false
		f.IncludeInAll = false
		return f
	}
	number := func() *mapping.FieldMapping {
		f := bleve.NewNumericFieldMapping()
		f.Store = true
		f.Index = false
		f.IncludeInAll = false
		f.DocValues = false
		return f
	}
	common := func(dm *mapping.DocumentMapping) {
		dm.Dynamic = false
		dm.AddFieldMappingsAt("type", keyword(false))
		dm.AddFieldMappingsAt("id", keyword(true))
		dm.AddFieldMappingsAt("doc_id", keyword(true))
		dm.AddFieldMappingsAt("space", keyword(false))
		dm.AddFieldMappingsAt("body", text(true))
		// The words of link URLs: searched, never shown.
		links := text(false)
		links.IncludeTermVectors = false
		dm.AddFieldMappingsAt("links", links)
		dm.AddFieldMappingsAt("author", keyword(false))
		dm.AddFieldMappingsAt("created", date())
		dm.AddFieldMappingsAt("date", date())
	}
	docm := bleve.NewDocumentStaticMapping()
	common(docm)
	docm.AddFieldMappingsAt("title", text(true))
	docm.AddFieldMappingsAt("headings", text(true))
	docm.AddFieldMappingsAt("title_sort", keyword(false))
	docm.AddFieldMappingsAt("kind", keyword(false))
	docm.AddFieldMappingsAt("status", keyword(false))
	docm.AddFieldMappingsAt("owner", keyword(false))
	docm.AddFieldMappingsAt("tag", keyword(false))
	docm.AddFieldMappingsAt("version", number())
	m.AddDocumentMapping(TypeDocument, docm)

	cm := bleve.NewDocumentStaticMapping()
	common(cm)
	cm.AddFieldMappingsAt("thread_id", keyword(true))
	// The document title of a comment is stored for display only. It
	// has its own name: one field name must have one mapping in every
	// type, or segments disagree about it.
	dt := bleve.NewTextFieldMapping()
	dt.Index = false
	dt.Store = true
	dt.IncludeInAll = false
	cm.AddFieldMappingsAt("doc_title", dt)
	m.AddDocumentMapping(TypeComment, cm)
	return m, m.Validate()
}

// Open opens the index in dir, creating it if needed. It fails only when
// a new index cannot be created at all (for example, dir is not
// writable): an index that cannot be opened, is corrupt, or was built with
// another MappingVersion is renamed to dir plus ".broken-<time>" and
// replaced by an empty one, and [Index.NeedsRebuild] reports true.
func Open(dir string, opts Options) (*Index, error) {
	if opts.BatchSize <= 0 {
		opts.BatchSize = 500
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	x := &Index{dir: dir, opts: opts}
	if _, err := os.Stat(dir); err == nil {
		idx, err := openExisting(dir)
		if err == nil {
			x.idx = idx
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
	idx, err := bleve.New(dir, m)
	if err != nil {
		return nil, fmt.Errorf("create index: %w", err)
	}
	if err := idx.SetInternal(keyMappingVersion, []byte(strconv.Itoa(MappingVersion))); err != nil {
		idx.Close()
		return nil, fmt.Errorf("create index: %w", err)
	}
	x.idx = idx
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
	idx, err = bleve.Open(dir)
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

func docItem(d Doc) *item {
	body, headings, links := plainText(d.Body)
	tags := make([]string, 0, len(d.Tags))
	for _, t := range d.Tags {
		tags = append(tags, strings.ToLower(t))
	}
	date := d.UpdatedAt
	if date.IsZero() {
		date = d.CreatedAt
	}
	return &item{
		Kind: TypeDocument, ID: d.ID, DocID: d.ID, Space: d.SpaceID,
		Title: d.Title, TitleSort: d.Title, Headings: headings, Body: body, Links: links,
		DocKind: string(d.Kind), Status: string(d.Status),
		Owner: d.OwnerID, Author: d.OwnerID, Tags: tags,
		Version: float64(d.Version), Created: d.CreatedAt, Date: date,
	}
}

func commentItem(c Comment) *item {
	body, _, links := plainText(c.Body)
	return &item{
		Kind: TypeComment, ID: c.ID, DocID: c.DocID, ThreadID: c.ThreadID,
		Space: c.SpaceID, DocTitle: c.DocTitle, Body: body, Links: links, Author: c.AuthorID,
		Created: c.CreatedAt, Date: c.CreatedAt,
	}
}

// IndexDocuments adds or replaces documents, in batches of
// Options.BatchSize. Each batch is durable when it returns; a cancelled
// ctx stops between batches.
func (x *Index) IndexDocuments(ctx context.Context, docs []Doc) error {
	return x.write(ctx, len(docs), func(b *bleve.Batch, i int) error {
		return b.Index(docKey(docs[i].ID), docItem(docs[i]))
	})
}

// IndexComments adds or replaces comments, in batches like
// [Index.IndexDocuments].
func (x *Index) IndexComments(ctx context.Context, comments []Comment) error {
	return x.write(ctx, len(comments), func(b *bleve.Batch, i int) error {
		return b.Index(commentKey(comments[i].ID), commentItem(comments[i]))
	})
}

// DeleteComment removes a comment; a missing one is not an error.
func (x *Index) DeleteComment(ctx context.Context, id string) error {
	return x.write(ctx, 1, func(b *bleve.Batch, _ int) error {
		b.Delete(commentKey(id))
		return nil
	})
}

// DeleteDocument removes a document and every comment on it; a missing
// one is not an error.
func (x *Index) DeleteDocument(ctx context.Context, id string) error {
	if err := x.check(ctx); err != nil {
		return err
	}
	keys := []string{docKey(id)}
	q := bleve.NewTermQuery(id)
	q.SetField("doc_id")
	for {
		req := bleve.NewSearchRequestOptions(q, 1000, 0, false)
		res, err := x.idx.SearchInContext(ctx, req)
		if err != nil {
			return fmt.Errorf("delete document: %w", err)
		}
		for _, h := range res.Hits {
			if h.ID != docKey(id) {
				keys = append(keys, h.ID)
			}
		}
		if len(res.Hits) < 1000 || len(keys) > 1_000_000 {
			break
		}
		// Delete what was found and look again.
		if err := x.deleteKeys(ctx, keys); err != nil {
			return err
		}
		keys = keys[:0]
	}
	return x.deleteKeys(ctx, keys)
}

func (x *Index) deleteKeys(ctx context.Context, keys []string) error {
	return x.write(ctx, len(keys), func(b *bleve.Batch, i int) error {
		b.Delete(keys[i])
		return nil
	})
}

// write runs n additions to batches of at most BatchSize.
func (x *Index) write(ctx context.Context, n int, add func(b *bleve.Batch, i int) error) error {
	for start := 0; start < n; start += x.opts.BatchSize {
		if err := x.check(ctx); err != nil {
			return err
		}
		b := x.idx.NewBatch()
		for i := start; i < min(n, start+x.opts.BatchSize); i++ {
			if err := add(b, i); err != nil {
				return fmt.Errorf("index batch: %w", err)
			}
		}
		if err := x.idx.Batch(b); err != nil {
			return fmt.Errorf("index batch: %w", err)
		}
	}
	return nil
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
	tq := bleve.NewTermQuery(TypeDocument)
	tq.SetField("type")
	var after []string
	for {
		req := bleve.NewSearchRequestOptions(tq, page, 0, false)
		req.Fields = []string{"id", "version"}
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
			id, _ := h.Fields["id"].(string)
			v, _ := h.Fields["version"].(float64)
			out[id] = int64(v)
		}
		if len(res.Hits) < page {
			return out, nil
		}
		after = []string{res.Hits[len(res.Hits)-1].ID}
	}
}
