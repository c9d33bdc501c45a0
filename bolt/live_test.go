package bolt_test

import (
	"math"
	"slices"
	"testing"

	docket "github.com/docket-dev/docket"
	"github.com/docket-dev/docket/bolt"
	"github.com/docket-dev/docket/collab/ot"
)

// LoadOps with a to past the document's version reads up to its last op,
// as a node of a cluster does to catch up without reading the text.
func TestLiveStoreLoadOpsPastVersion(t *testing.T) {
	db := mustOpenDB(t)
	ctx := seed(t, db)
	d, err := bolt.NewDocumentService(db).CreateDocument(ctx, docket.DocumentCreate{Space: "eng", Title: "T", Body: "abc"})
	if err != nil {
		t.Fatal(err)
	}
	live := bolt.NewLiveStore(db)
	text := "abc"
	for v := d.Version; v < d.Version+3; v++ {
		op, _ := ot.InsertAt(0, "x").MarshalJSON()
		text = "x" + text
		if err := live.CommitOps(ctx, []docket.OpCommit{{DocID: d.ID, Rec: docket.OpRecord{Version: v, Author: "u", Op: op}, Text: text}}); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		from int64
		want []int64
	}{
		{d.Version, []int64{d.Version, d.Version + 1, d.Version + 2}},
		{d.Version + 2, []int64{d.Version + 2}},
		{d.Version + 3, nil},
	} {
		recs, err := live.LoadOps(ctx, d.ID, tc.from, math.MaxInt64)
		if err != nil {
			t.Fatalf("LoadOps(%d, max): %v", tc.from, err)
		}
		var got []int64
		for _, r := range recs {
			got = append(got, r.Version)
		}
		if !slices.Equal(got, tc.want) {
			t.Fatalf("LoadOps(%d, max) = versions %v; want %v", tc.from, got, tc.want)
		}
	}
}
