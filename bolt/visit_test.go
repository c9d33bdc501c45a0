package bolt

import (
	"testing"
	"time"

	docket "github.com/docket-dev/docket"
)

func TestVisits(t *testing.T) {
	f := newFixture(t)
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	f.db.Now = func() time.Time { return now }
	visits := NewVisitService(f.db)
	ada, bo, eve := f.user("Ada"), f.user("Bo"), f.user("Eve")
	sp := f.space(ada, "eng")
	f.member(ada, sp, bo, docket.RoleEditor)
	d := f.doc(ada, sp, "Plan")

	prev, err := visits.RecordVisit(ada, d.ID, 1)
	if err != nil || prev != nil {
		t.Fatalf("first RecordVisit = %v, %v; want nil, nil", prev, err)
	}
	// A second view of the same version soon after keeps the first.
	now = now.Add(30 * time.Second)
	prev, err = visits.RecordVisit(ada, d.ID, 1)
	if err != nil || prev == nil || prev.Version != 1 || !prev.At.Equal(now.Add(-30*time.Second)) {
		t.Fatalf("second RecordVisit = %+v, %v; want version 1 at the first view", prev, err)
	}
	if got, _ := visits.FindVisit(ada, d.ID); !got.At.Equal(now.Add(-30 * time.Second)) {
		t.Fatalf("a view within VisitRefresh rewrote the visit: %+v", got)
	}
	if _, err := f.docs.EditDocument(bo, d.ID, docket.Edit{Version: 1, Op: []byte(`[5, "!"]`)}); err != nil {
		t.Fatal(err)
	}
	now = now.Add(time.Hour)
	prev, err = visits.RecordVisit(ada, d.ID, 2)
	if err != nil || prev == nil || prev.Version != 1 {
		t.Fatalf("RecordVisit after an edit = %+v, %v; want the visit of version 1", prev, err)
	}
	got, err := visits.FindVisit(ada, d.ID)
	if err != nil || got == nil || got.Version != 2 || !got.At.Equal(now) {
		t.Fatalf("FindVisit = %+v, %v; want version 2 now", got, err)
	}
	// Visits are per user.
	if got, err := visits.FindVisit(bo, d.ID); err != nil || got != nil {
		t.Fatalf("FindVisit of Bo = %+v, %v; want none", got, err)
	}
	all, err := visits.FindVisits(ada, []string{d.ID, "nosuchdoc"})
	if err != nil || len(all) != 1 || all[d.ID].Version != 2 {
		t.Fatalf("FindVisits = %v, %v", all, err)
	}

	for _, tc := range []struct {
		name    string
		version int64
		who     string
		want    string
	}{
		{"future version", 3, "ada", docket.EINVALID},
		{"negative version", -1, "ada", docket.EINVALID},
		{"not a member", 1, "eve", docket.ENOTFOUND},
	} {
		ctx := ada
		if tc.who == "eve" {
			ctx = eve
		}
		if _, err := visits.RecordVisit(ctx, d.ID, tc.version); docket.ErrorCode(err) != tc.want {
			t.Errorf("%s: RecordVisit err = %v; want %s", tc.name, err, tc.want)
		}
	}

	if err := f.docs.DeleteDocument(ada, d.ID); err != nil {
		t.Fatal(err)
	}
	if all, _ := visits.FindVisits(ada, []string{d.ID}); len(all) != 0 {
		t.Fatalf("visits of a deleted document remain: %v", all)
	}
}
