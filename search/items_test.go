package search

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/docket-dev/docket"
)

// itemsIndex is smallIndex with a decision and minutes on d1 (pub) and
// d3 (secret), indexed as the Indexer does.
func itemsIndex(t *testing.T) (*Index, *memLoader) {
	t.Helper()
	x, loader := indexed(t, testDocs(), testComments())
	loader.names = map[string]string{"alice": "Alice Liddell", "mallory": "Mallory"}
	loader.decisions = map[string]*docket.Document{}
	at := time.Date(2025, 6, 2, 9, 0, 0, 0, time.UTC)
	for _, d := range testDocs() {
		if d.ID == "d2" {
			continue
		}
		doc := &docket.Document{ID: d.ID, SpaceID: d.SpaceID, Title: d.Title, Kind: d.Kind, Status: docket.StatusAccepted,
			OwnerID: d.OwnerID, Tags: d.Tags}
		summary := "We go ahead: the rollout is staged per region."
		if d.ID == "d3" {
			summary = "Buy the island; the quokkaberry clause stays secret."
		}
		doc.Decision = &docket.Decision{Outcome: docket.StatusAccepted, Summary: summary, By: d.OwnerID, At: at}
		loader.decisions[d.ID] = doc
		loader.minutes = append(loader.minutes, &docket.MinutesRecord{
			ID: "m" + d.ID, DocID: d.ID, Outcome: docket.StatusAccepted, FrozenAt: at,
			Markdown: "# Minutes: " + d.Title + "\n\n## Decision\n\n> " + strings.ReplaceAll(summary, ".", `\.`) + "\n\n## Open threads\n\nNone\\.\n",
		})
	}
	ctx := context.Background()
	var decs []Decision
	var mins []Minutes
	for _, id := range []string{"d1", "d3"} {
		d := loader.decisions[id]
		decs = append(decs, DecisionFrom(d, loader.names[d.Decision.By]))
	}
	for _, r := range loader.minutes {
		mins = append(mins, MinutesFrom(r, loader.decisions[r.DocID]))
	}
	if err := x.IndexDecisions(ctx, decs); err != nil {
		t.Fatal(err)
	}
	if err := x.IndexMinutes(ctx, mins); err != nil {
		t.Fatal(err)
	}
	return x, loader
}

func TestSearchDecisionsAndMinutes(t *testing.T) {
	x, loader := itemsIndex(t)
	type hit struct{ Type, ID, DocID, Title string }
	hits := func(res *Result) []hit {
		var out []hit
		for _, h := range res.Hits {
			out = append(out, hit{h.Type, h.ID, h.DocID, h.Title})
		}
		slices.SortFunc(out, func(a, b hit) int { return strings.Compare(a.Type+a.ID, b.Type+b.ID) })
		return out
	}
	tests := []struct {
		q    string
		want []hit
	}{
		{"type:decision rollout", []hit{{"decision", "d1", "d1", "Release planning"}}},
		{"type:minutes rollout", []hit{{"minutes", "md1", "d1", "Release planning"}}},
		{"rollout", []hit{{"decision", "d1", "d1", "Release planning"}, {"minutes", "md1", "d1", "Release planning"}}},
		// Who decided and when are in the decision's text.
		{`type:decision "alice liddell"`, []hit{{"decision", "d1", "d1", "Release planning"}}},
		{"type:decision author:alice", []hit{{"decision", "d1", "d1", "Release planning"}}},
		// The document's metadata filters them.
		{"rollout status:accepted kind:rfc tag:plan owner:alice space:pub", []hit{{"decision", "d1", "d1", "Release planning"}, {"minutes", "md1", "d1", "Release planning"}}},
		{"rollout kind:notes", nil},
		{"type:decision after:2025-06-01 before:2025-06-03", []hit{{"decision", "d1", "d1", "Release planning"}}},
		// Unreadable: d3's decision and minutes.
		{"quokkaberry", nil},
		{"type:decision", []hit{{"decision", "d1", "d1", "Release planning"}}},
	}
	for _, tt := range tests {
		res := search(t, x, tt.q, "pub")
		if diff := cmp.Diff(tt.want, hits(res)); diff != "" {
			t.Errorf("Search(%q) (-want +got):\n%s", tt.q, diff)
		}
		if int(res.Total) != len(tt.want) {
			t.Errorf("Search(%q): total %d, want %d", tt.q, res.Total, len(tt.want))
		}
	}

	// Fragments come from the stored text, highlighted and unescaped.
	res := search(t, x, "type:minutes staged", "pub")
	if got := strings.Join(res.Hits[0].Fragments, " "); !strings.Contains(got, "is <mark>staged</mark> per region.") {
		t.Errorf("minutes fragments = %q", got)
	}
	res = search(t, x, "type:decision liddell", "pub")
	if got := strings.Join(res.Hits[0].Fragments, " "); !strings.Contains(got, "Accepted by Alice <mark>Liddell</mark> on 2025-06-02.") {
		t.Errorf("decision fragments = %q", got)
	}

	// Facets count them under type, and nothing of the secret space.
	res = search(t, x, "release OR island", "pub")
	want := []FacetCount{{TypeDocument, 2}, {TypeComment, 1}, {TypeDecision, 1}, {TypeMinutes, 1}}
	if diff := cmp.Diff(want, res.Facets[FacetType]); diff != "" {
		t.Errorf("type facet (-want +got):\n%s", diff)
	}
	res = search(t, x, "quokkaberry", "secret")
	if res.Total != 2 || len(res.Facets[FacetType]) != 2 {
		t.Errorf("quokkaberry in secret: %d hits, facets %v; want the decision and minutes", res.Total, res.Facets)
	}
	if sugs, err := x.Suggest(context.Background(), "quokka", []string{"pub", "secret"}, 10); err != nil || len(sugs) != 0 {
		t.Errorf("Suggest(quokka) = %v, %v; want no titles (suggestions are document titles)", sugs, err)
	}

	// A decision whose document moved out of the readable spaces is
	// dropped even before it is reindexed; reindexed, it is gone.
	moved := *loader.decisions["d1"]
	moved.SpaceID = "secret"
	loader.mu.Lock()
	loader.decisions["d1"] = &moved
	loader.mu.Unlock()
	if res := search(t, x, "type:decision rollout", "pub"); res.Total != 0 {
		t.Errorf("moved decision still found: %+v", res.Hits)
	}
	if err := x.IndexDecisions(context.Background(), []Decision{DecisionFrom(&moved, "Alice")}); err != nil {
		t.Fatal(err)
	}
	if res := search(t, x, "type:decision rollout", "secret"); res.Total != 1 {
		t.Errorf("moved decision in secret: %d hits", res.Total)
	}

	// Removing the document removes its decision and minutes.
	if err := x.DeleteDocument(context.Background(), "d1"); err != nil {
		t.Fatal(err)
	}
	if res := search(t, x, "rollout", "pub", "secret"); res.Total != 0 {
		t.Errorf("after delete: %+v", res.Hits)
	}
}

// Phrases match in decisions and minutes as in documents and comments.
func TestPhraseDecisionsAndMinutes(t *testing.T) {
	x, loader := itemsIndex(t)
	ctx := context.Background()
	d1 := *loader.decisions["d1"]
	dec := *d1.Decision
	dec.Summary = "The steering group picked the amber lighthouse option; the violet harbour plan waits."
	d1.Decision = &dec
	rec := &docket.MinutesRecord{
		ID: "m2d1", DocID: "d1", Outcome: docket.StatusAccepted, FrozenAt: dec.At,
		Markdown: "# Minutes: Release planning\n\n## Notes\n\nThe cobalt\\-tinted ferry schedule was frozen; the ferry stays cobalt\\.\n",
	}
	loader.mu.Lock()
	loader.decisions["d1"] = &d1
	loader.minutes = append(loader.minutes, rec)
	loader.mu.Unlock()
	if err := x.IndexDecisions(ctx, []Decision{DecisionFrom(&d1, loader.names[dec.By])}); err != nil {
		t.Fatal(err)
	}
	if err := x.IndexMinutes(ctx, []Minutes{MinutesFrom(rec, &d1)}); err != nil {
		t.Fatal(err)
	}
	decision, minutes := "decision d1", "minutes m2d1"
	tests := []struct {
		q    string
		want []string // type and id
	}{
		{`"amber lighthouse option"`, []string{decision}},
		{`"violet harbour plan"`, []string{decision}},
		{`type:decision "Amber Lighthouse"`, []string{decision}},
		{`"ferry schedule was frozen"`, []string{minutes}},
		{`"cobalt-tinted ferry"`, []string{minutes}},
		{`type:minutes "stays cobalt"`, []string{minutes}},
		// The words are there, not next to each other or not in this order.
		{`amber lighthouse option`, []string{decision}},
		{`"lighthouse amber"`, nil},
		{`"amber option"`, nil},
		{`"option amber lighthouse"`, nil},
		{`ferry cobalt`, []string{minutes}},
		{`"cobalt ferry"`, nil},
		{`"ferry schedule frozen"`, nil},
		// Not across the title and the text.
		{`"planning the"`, nil},
		// Excluded phrases are checked against their text too.
		{`amber -"amber lighthouse option"`, nil},
		{`amber -"lighthouse amber"`, []string{decision}},
		{`ferry -"ferry schedule was frozen"`, nil},
		{`ferry -"cobalt ferry"`, []string{minutes}},
		// Not readable.
		{`"amber lighthouse option" space:secret`, nil},
	}
	for _, tt := range tests {
		res := search(t, x, tt.q, "pub")
		var got []string
		for _, h := range res.Hits {
			got = append(got, h.Type+" "+h.ID)
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("Search(%q) (-want +got):\n%s", tt.q, diff)
		}
		if int(res.Total) != len(tt.want) || res.Approximate {
			t.Errorf("Search(%q): total %d, approximate %v; want %d, exact", tt.q, res.Total, res.Approximate, len(tt.want))
		}
	}
	res := search(t, x, `"amber lighthouse option"`, "pub")
	if got := strings.Join(res.Hits[0].Fragments, " "); !strings.Contains(got, "picked the <mark>amber lighthouse option</mark>;") {
		t.Errorf("decision fragments = %q", got)
	}
	if diff := cmp.Diff([]FacetCount{{TypeDecision, 1}}, res.Facets[FacetType]); diff != "" {
		t.Errorf("type facet (-want +got):\n%s", diff)
	}

	// A decision changed in storage is found by its new text once it
	// is reindexed.
	changed := d1
	changed.Decision = &docket.Decision{Outcome: dec.Outcome, By: dec.By, At: dec.At, Summary: "The amber option, and a lighthouse."}
	loader.mu.Lock()
	loader.decisions["d1"] = &changed
	loader.mu.Unlock()
	if err := x.IndexDecisions(ctx, []Decision{DecisionFrom(&changed, loader.names[dec.By])}); err != nil {
		t.Fatal(err)
	}
	if res := search(t, x, `"amber lighthouse option"`, "pub"); res.Total != 0 {
		t.Errorf("phrase found in a decision whose new text lacks it: %+v", res.Hits)
	}
	if res := search(t, x, `"amber option"`, "pub"); res.Total != 1 {
		t.Errorf("phrase of the new text of a decision: %d hits; want 1", res.Total)
	}
}

func TestMinutesText(t *testing.T) {
	got := MinutesText(`Ship it\. A \*b\* \\ c\d`)
	if want := `Ship it. A *b* \ c\d`; got != want {
		t.Errorf("MinutesText = %q, want %q", got, want)
	}
}

func TestChangeOf(t *testing.T) {
	tests := []struct {
		ev   docket.Event
		want docket.ChangeKind
	}{
		{docket.Event{Type: docket.EventCommentCreated, DocID: "d", ThreadID: "t"}, docket.ChangeThread},
		{docket.Event{Type: docket.EventThreadResolved, DocID: "d", ThreadID: "t"}, docket.ChangeThread},
		{docket.Event{Type: docket.EventReviewCreated, DocID: "d"}, ""},
		{docket.Event{Type: docket.EventDocTransitioned, DocID: "d"}, docket.ChangeMeta},
		{docket.Event{Type: docket.EventDocUpdated, DocID: "d"}, docket.ChangeMeta},
		{docket.Event{Type: docket.EventDocEdited, DocID: "d"}, docket.ChangeText},
		{docket.Event{Type: docket.EventDocDeleted, DocID: "d"}, docket.ChangeDeleted},
		{docket.Event{Type: docket.EventSessionEnded, DocID: "d"}, ""},
	}
	for _, tt := range tests {
		ch, ok := changeOf(tt.ev)
		if got := map[bool]docket.ChangeKind{true: ch.Kind}[ok]; got != tt.want {
			t.Errorf("changeOf(%s) = %q, want %q", tt.ev.Type, got, tt.want)
		}
	}
}
