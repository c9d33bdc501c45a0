package bolt

import (
	"context"
	"slices"
	"testing"

	docket "github.com/docket-dev/docket"
)

// plainRenderer renders markdown as itself.
type plainRenderer struct{}

func (plainRenderer) Render(_ context.Context, md string) (string, error) { return md, nil }
func (plainRenderer) Validate(string) error                               { return nil }
func (plainRenderer) Title(string) string                                 { return "" }

// TestScanItemsForSearch walks and loads decisions, frozen minutes, user
// names and events, as the search index does.
func TestScanItemsForSearch(t *testing.T) {
	f := newFixture(t)
	ctx := f.root
	sp := f.space(ctx, "eng")
	a, b, c := f.doc(ctx, sp, "A"), f.doc(ctx, sp, "B"), f.doc(ctx, sp, "C")
	// The minutes' text is markdown.Minutes' business; here it only has
	// to be there.
	title := func(m *docket.MinutesData) string { return "# Minutes: " + m.Title + "\n" }
	dec := NewDecisionService(f.db, plainRenderer{}, NewMinutesService(f.db, nil, title))
	for _, d := range []*docket.Document{a, c} {
		if _, err := dec.Transition(ctx, d.ID, docket.Transition{To: docket.StatusWithdrawn, Summary: "Dropped " + d.Title}); err != nil {
			t.Fatal(err)
		}
	}
	decided := []string{a.ID, c.ID}
	slices.Sort(decided)
	s := NewScanner(f.db)
	sys := context.Background()

	var scanned []string
	for after := ""; ; {
		page, err := s.ScanDecisions(sys, after, 1)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		d := page[0]
		if d.Decision == nil || d.Decision.Outcome != docket.StatusWithdrawn || d.Status != docket.StatusWithdrawn || d.Title == "" {
			t.Errorf("ScanDecisions: %+v", d)
		}
		scanned = append(scanned, d.ID)
		after = d.ID
	}
	if !slices.Equal(scanned, decided) {
		t.Errorf("ScanDecisions = %v, want %v", scanned, decided)
	}
	loaded, err := s.LoadDecisions(sys, []string{b.ID, c.ID, "nosuchdoc"})
	if err != nil || len(loaded) != 1 || loaded[0].ID != c.ID || loaded[0].Decision.Summary != "Dropped C" {
		t.Errorf("LoadDecisions = %+v, %v; want C's", loaded, err)
	}

	recs, err := s.ScanMinutes(sys, "", 10)
	if err != nil || len(recs) != 2 || recs[0].Markdown == "" {
		t.Fatalf("ScanMinutes = %+v, %v", recs, err)
	}
	rest, err := s.ScanMinutes(sys, recs[0].DocID+"/"+recs[0].ID, 10)
	if err != nil || len(rest) != 1 || rest[0].ID != recs[1].ID {
		t.Errorf("ScanMinutes after the first = %+v, %v", rest, err)
	}
	mins, err := s.LoadMinutes(sys, []string{a.ID, "nosuchdoc"})
	if err != nil || len(mins) != 1 || mins[0].DocID != a.ID || mins[0].Markdown == "" {
		t.Errorf("LoadMinutes(a) = %+v, %v", mins, err)
	}

	root := docket.UserIDFromContext(ctx)
	names, err := s.LoadUserNames(sys, []string{root, "nosuchuser"})
	if err != nil || len(names) != 1 || names[root] != "Root" {
		t.Errorf("LoadUserNames = %v, %v", names, err)
	}

	evs, err := s.ScanEvents(sys, 0, 1000)
	if err != nil || len(evs) < 5 {
		t.Fatalf("ScanEvents = %d events, %v", len(evs), err)
	}
	for i := 1; i < len(evs); i++ {
		if evs[i].Seq <= evs[i-1].Seq {
			t.Fatalf("ScanEvents out of order at %d: %d after %d", i, evs[i].Seq, evs[i-1].Seq)
		}
	}
	last, err := s.LastEventSeq(sys)
	if err != nil || last != evs[len(evs)-1].Seq {
		t.Errorf("LastEventSeq = %d, %v; want %d", last, err, evs[len(evs)-1].Seq)
	}
	if tail, err := s.ScanEvents(sys, last-1, 10); err != nil || len(tail) != 1 || tail[0].Type != docket.EventDocTransitioned {
		t.Errorf("ScanEvents(last-1) = %+v, %v", tail, err)
	}
}
