package search

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/document"

	"github.com/docket-dev/docket"
)

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

func decisionKey(docID string) string { return "x:" + docID }

// minutesKey holds the document's id too: loading a record needs it.
func minutesKey(docID, id string) string { return "m:" + docID + "/" + id }

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

// docLike adds the facet and filter terms that items carrying a
// document's metadata share, and the date.
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

func (b *builder) decision(d Decision) *document.Document {
	doc := document.NewDocument(decisionKey(d.DocID))
	b.docLike(doc, TypeDecision, d.DocID, d.SpaceID, d.ByID, d.OwnerID, d.Status, d.Kind, d.Tags, d.At)
	body, _, links := plainText(d.Text)
	b.add(doc, "body", nil, bodyText(d.Title, body, links))
	return doc
}

func (b *builder) minutes(m Minutes) *document.Document {
	doc := document.NewDocument(minutesKey(m.DocID, m.ID))
	b.docLike(doc, TypeMinutes, m.DocID, m.SpaceID, m.OwnerID, m.OwnerID, m.Status, m.Kind, m.Tags, m.FrozenAt)
	body, _, links := plainText(m.Text)
	b.add(doc, "body", nil, bodyText(m.Title, body, links))
	return doc
}

// IndexDecisions adds or replaces decisions, in batches like
// [Index.IndexDocuments].
func (x *Index) IndexDecisions(ctx context.Context, decisions []Decision) error {
	return x.write(ctx, len(decisions), func(b *bleve.Batch, i int) error {
		return b.IndexAdvanced(x.build.decision(decisions[i]))
	})
}

// IndexMinutes adds or replaces frozen minutes, in batches like
// [Index.IndexDocuments].
func (x *Index) IndexMinutes(ctx context.Context, minutes []Minutes) error {
	return x.write(ctx, len(minutes), func(b *bleve.Batch, i int) error {
		return b.IndexAdvanced(x.build.minutes(minutes[i]))
	})
}

// DeleteDecision removes the decision of a document; a missing one is
// not an error.
func (x *Index) DeleteDecision(ctx context.Context, docID string) error {
	return x.deleteKeys(ctx, []string{decisionKey(docID)})
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
