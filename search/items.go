package search

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/document"
	"github.com/blevesearch/bleve/v2/mapping"
	index "github.com/blevesearch/bleve_index_api"

	"github.com/docket-dev/docket"
)

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
	// DocTitle is the title of the document. It is not indexed: hits
	// read titles through the [TextLoader].
	DocTitle  string
	AuthorID  string
	Body      string // markdown
	CreatedAt time.Time
}

// Decision is a document's recorded decision, as indexed: one per
// document, replaced when the document is decided again. It carries the
// document's metadata so that filters and the permission filter work on
// it as on the document.
type Decision struct {
	DocID   string
	SpaceID string
	Title   string // the document's title, indexed as the first section
	Kind    docket.Kind
	Status  docket.Status
	OwnerID string
	Tags    []string
	ByID    string // who decided: the author: facet
	// Text is the decision as [DecisionText] writes it.
	Text string
	At   time.Time
}

// Minutes is a set of minutes frozen at a decision, as indexed, with the
// metadata of its document.
type Minutes struct {
	ID      string // the minutes record's id
	DocID   string
	SpaceID string
	Title   string // the document's current title
	Kind    docket.Kind
	Status  docket.Status
	OwnerID string
	Tags    []string
	// Text is the record's markdown as [MinutesText] makes it readable.
	Text     string
	FrozenAt time.Time
}

func docKey(id string) string         { return "d:" + id }
func commentKey(id string) string     { return "c:" + id }
func decisionKey(docID string) string { return "x:" + docID }

// minutesKey holds the document's id too: loading a record needs it.
func minutesKey(docID, id string) string { return "m:" + docID + "/" + id }

// DocFrom converts a stored document (with its body) to what is indexed.
func DocFrom(d *docket.Document) Doc {
	return Doc{
		ID: d.ID, SpaceID: d.SpaceID, Title: d.Title, Body: d.Body, Kind: d.Kind,
		Status: d.Status, OwnerID: d.OwnerID, Tags: d.Tags, Version: d.Version,
		CreatedAt: d.CreatedAt, UpdatedAt: d.UpdatedAt,
	}
}

// CommentFrom converts a comment of document d to what is indexed.
func CommentFrom(c *docket.Comment, d *docket.Document) Comment {
	return Comment{
		ID: c.ID, DocID: c.DocID, ThreadID: c.ThreadID, SpaceID: d.SpaceID,
		DocTitle: d.Title, AuthorID: c.AuthorID, Body: c.Body, CreatedAt: c.CreatedAt,
	}
}

// DecisionFrom converts the decision of d (which must have one) to what is
// indexed; by is the name of who decided.
func DecisionFrom(d *docket.Document, by string) Decision {
	return Decision{
		DocID: d.ID, SpaceID: d.SpaceID, Title: d.Title, Kind: d.Kind, Status: d.Status,
		OwnerID: d.OwnerID, Tags: d.Tags, ByID: d.Decision.By, Text: DecisionText(d.Decision, by),
		At: d.Decision.At,
	}
}

// MinutesFrom converts a frozen minutes record of document d to what is
// indexed.
func MinutesFrom(r *docket.MinutesRecord, d *docket.Document) Minutes {
	return Minutes{
		ID: r.ID, DocID: d.ID, SpaceID: d.SpaceID, Title: d.Title, Kind: d.Kind, Status: d.Status,
		OwnerID: d.OwnerID, Tags: d.Tags, Text: MinutesText(r.Markdown), FrozenAt: r.FrozenAt,
	}
}

// DecisionText is the text of a decision as it is indexed and its
// fragments are shown: its outcome, who decided (by, a name) and when,
// then the summary as written.
func DecisionText(dec *docket.Decision, by string) string {
	var b strings.Builder
	outcome := string(dec.Outcome)
	if outcome != "" {
		outcome = strings.ToUpper(outcome[:1]) + outcome[1:]
	}
	b.WriteString(outcome)
	if by != "" {
		b.WriteString(" by " + by)
	}
	if !dec.At.IsZero() {
		b.WriteString(" on " + dec.At.UTC().Format(time.DateOnly))
	}
	b.WriteString(".\n\n")
	b.WriteString(dec.Summary)
	return b.String()
}

// MinutesText makes the markdown of frozen minutes readable as plain
// text: the minutes escape the punctuation of what users wrote with
// backslashes, which fragments would show.
func MinutesText(md string) string {
	if !strings.Contains(md, `\`) {
		return md
	}
	var b strings.Builder
	b.Grow(len(md))
	for i := 0; i < len(md); i++ {
		if md[i] == '\\' && i+1 < len(md) && isASCIIPunct(md[i+1]) {
			i++
		}
		b.WriteByte(md[i])
	}
	return b.String()
}

func isASCIIPunct(c byte) bool {
	return c > ' ' && c < 0x7f && !isWordByte(c)
}

// builder makes the bleve documents of items, with the options and
// analyzers that the mapping gives their fields.
type builder struct {
	fields map[string]fieldSpec
	x      *Index
}

type fieldSpec struct {
	opts     index.FieldIndexingOptions
	analyzer analysis.Analyzer
}

// newBuilder returns the builder of the documents of m.
func newBuilder(m mapping.IndexMapping, x *Index) (*builder, error) {
	im, ok := m.(*mapping.IndexMappingImpl)
	if !ok {
		return nil, fmt.Errorf("search mapping: unexpected type %T", m)
	}
	b := &builder{fields: map[string]fieldSpec{}, x: x}
	for _, dm := range im.TypeMapping {
		for name, p := range dm.Properties {
			fm := p.Fields[0]
			spec := fieldSpec{opts: fm.Options(), analyzer: im.AnalyzerNamed(fm.Analyzer)}
			if fm.Index && spec.analyzer == nil && fm.Type == "text" {
				return nil, fmt.Errorf("search mapping: no analyzer %q for %s", fm.Analyzer, name)
			}
			if fm.DocValues {
				// Doc values are read for every hit (facets, sorting,
				// readableQuery), and a compressed chunk of them is
				// decompressed whole for each hit that falls in it. So
				// they are stored one document a chunk, uncompressed, as
				// bleve stores those of geo points: zap v17 reads wrong
				// values when compression alone is skipped. And every
				// field with doc values must skip it, not just some: zap
				// reuses the reader of one field for another and would
				// decompress into the bytes of the uncompressed one.
				spec.opts |= index.SkipDVCompression | index.SkipDVChunking
			}
			b.fields[name] = spec
		}
	}
	return b, nil
}

// addBody adds the body field of text to doc, and its pairs field.
func (b *builder) addBody(doc *document.Document, text string) {
	b.add(doc, "body", nil, text)
	b.add(doc, fieldPairs, nil, text)
}

// add adds a field of name to doc.
func (b *builder) add(doc *document.Document, name string, arrayPos []uint64, value string) {
	f := b.fields[name]
	doc.AddField(document.NewTextFieldCustom(name, arrayPos, []byte(value), f.opts, f.analyzer))
}

func (b *builder) addAll(doc *document.Document, name string, values []string) {
	for i, v := range values {
		b.add(doc, name, []uint64{uint64(i)}, v)
	}
}

// docLike adds the facet and filter terms of a document's metadata, and
// the date: those of a document, and of its decision and minutes, which
// carry them too.
func (b *builder) docLike(doc *document.Document, typ, docID, spaceID, authorID, ownerID string,
	status docket.Status, kind docket.Kind, tags []string, date time.Time) {
	facets := []string{term("type", typ), term("space", spaceID), term("author", authorID)}
	if status != "" {
		facets = append(facets, term("status", string(status)))
	}
	for _, t := range tags {
		facets = append(facets, term("tag", strings.ToLower(t)))
	}
	b.addAll(doc, fieldFacet, facets)
	filters := append(dateTerms(date), term("doc", docID), term("owner", ownerID))
	if kind != "" {
		filters = append(filters, term("kind", string(kind)))
	}
	b.addAll(doc, fieldFilter, filters)
	b.add(doc, fieldDate, nil, dateKey(date))
}

func (b *builder) doc(d Doc) *document.Document {
	body, headings, links := plainText(d.Body)
	date := d.UpdatedAt
	if date.IsZero() {
		date = d.CreatedAt
	}
	doc := document.NewDocument(docKey(d.ID))
	b.docLike(doc, TypeDocument, d.ID, d.SpaceID, d.OwnerID, d.OwnerID, d.Status, d.Kind, d.Tags, date)
	b.add(doc, "title", nil, d.Title)
	b.addAll(doc, fieldTitleWords, b.x.titlePrefixes(d.Title))
	b.addAll(doc, fieldLead, append([]string{d.Title}, headings...))
	b.addBody(doc, bodyText(d.Title, body, links))
	doc.AddField(document.NewNumericFieldWithIndexingOptions("version", nil, float64(d.Version), b.fields["version"].opts))
	return doc
}

func (b *builder) comment(c Comment) *document.Document {
	body, _, links := plainText(c.Body)
	doc := document.NewDocument(commentKey(c.ID))
	b.addAll(doc, fieldFacet, []string{term("type", TypeComment), term("space", c.SpaceID), term("author", c.AuthorID)})
	b.addAll(doc, fieldFilter, append(dateTerms(c.CreatedAt), term("doc", c.DocID)))
	b.add(doc, fieldDate, nil, dateKey(c.CreatedAt))
	b.addBody(doc, bodyText("", body, links))
	return doc
}

func (b *builder) decision(d Decision) *document.Document {
	doc := document.NewDocument(decisionKey(d.DocID))
	b.docLike(doc, TypeDecision, d.DocID, d.SpaceID, d.ByID, d.OwnerID, d.Status, d.Kind, d.Tags, d.At)
	body, _, links := plainText(d.Text)
	b.addBody(doc, bodyText(d.Title, body, links))
	return doc
}

func (b *builder) minutes(m Minutes) *document.Document {
	doc := document.NewDocument(minutesKey(m.DocID, m.ID))
	b.docLike(doc, TypeMinutes, m.DocID, m.SpaceID, m.OwnerID, m.OwnerID, m.Status, m.Kind, m.Tags, m.FrozenAt)
	body, _, links := plainText(m.Text)
	b.addBody(doc, bodyText(m.Title, body, links))
	return doc
}

// bodyText returns the text of the body field of an item: its title, its
// plain text and the words of its links' URLs, as sections that phrases
// do not match across. Every text term must match in it, so one field
// serves them all: a term looked up in several fields costs a posting
// list for each at every match.
func bodyText(title, body, links string) string {
	var b strings.Builder
	b.Grow(len(title) + len(body) + len(links) + 2)
	if title != "" {
		b.WriteString(title)
		b.WriteByte(sectionBreak)
	}
	b.WriteString(body)
	if links != "" {
		b.WriteByte(sectionBreak)
		b.WriteString(links)
	}
	return b.String()
}

// IndexDocuments adds or replaces documents, in batches of
// Options.BatchSize. Each batch is durable when it returns; a cancelled
// ctx stops between batches.
func (x *Index) IndexDocuments(ctx context.Context, docs []Doc) error {
	return indexItems(ctx, x, docs, x.build.doc)
}

// IndexComments adds or replaces comments, in batches like
// [Index.IndexDocuments].
func (x *Index) IndexComments(ctx context.Context, comments []Comment) error {
	return indexItems(ctx, x, comments, x.build.comment)
}

// IndexDecisions adds or replaces decisions, in batches like
// [Index.IndexDocuments].
func (x *Index) IndexDecisions(ctx context.Context, decisions []Decision) error {
	return indexItems(ctx, x, decisions, x.build.decision)
}

// IndexMinutes adds or replaces frozen minutes, in batches like
// [Index.IndexDocuments].
func (x *Index) IndexMinutes(ctx context.Context, minutes []Minutes) error {
	return indexItems(ctx, x, minutes, x.build.minutes)
}

// indexItems adds or replaces items, which build makes into bleve
// documents, in batches (see [Index.write]).
func indexItems[T any](ctx context.Context, x *Index, items []T, build func(T) *document.Document) error {
	return x.write(ctx, len(items), func(b *bleve.Batch, i int) error {
		return b.IndexAdvanced(build(items[i]))
	})
}

// DeleteComment removes a comment; a missing one is not an error.
func (x *Index) DeleteComment(ctx context.Context, id string) error {
	return x.deleteKeys(ctx, []string{commentKey(id)})
}

// DeleteDocument removes a document and every comment on it; a missing
// one is not an error.
func (x *Index) DeleteDocument(ctx context.Context, id string) error {
	if err := x.check(ctx); err != nil {
		return err
	}
	keys := []string{docKey(id)}
	q := bleve.NewTermQuery(term("doc", id))
	q.SetField(fieldFilter)
	for {
		req := bleve.NewSearchRequestOptions(q, 1000, 0, false)
		req.Score = bleve.ScoreNone
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

// DeleteDecision removes the decision of a document; a missing one is
// not an error.
func (x *Index) DeleteDecision(ctx context.Context, docID string) error {
	return x.deleteKeys(ctx, []string{decisionKey(docID)})
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
