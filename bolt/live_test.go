package bolt_test

import (
	"errors"
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

// insertAt is a live commit of an insert of s at pos in document id,
// at version v, which makes text.
func insertAt(t *testing.T, id string, v int64, pos int, s, src, text string) docket.OpCommit {
	t.Helper()
	op, err := ot.InsertAt(pos, s).MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	return docket.OpCommit{DocID: id, Rec: docket.OpRecord{Version: v, Src: src, Seq: v + 1, Author: "u", Op: op}, Text: text}
}

// TestLiveStoreCommitOpsRebasing: two nodes over one store. The second
// node's commits behind the first's are rebased inside the transaction,
// each document on its own, over the ops it missed; a failed rebase
// writes nothing; CommitOps still fails such a commit with ECONFLICT.
func TestLiveStoreCommitOpsRebasing(t *testing.T) {
	a, b, _ := twoNodes(t)
	ctx := seed(t, a)
	docs := bolt.NewDocumentService(a)
	ids := map[string]string{}
	var v int64 // the version of every new document
	for _, name := range []string{"x", "y", "z"} {
		d, err := docs.CreateDocument(ctx, docket.DocumentCreate{Space: "eng", Title: name, Body: "abc"})
		if err != nil {
			t.Fatal(err)
		}
		ids[name], v = d.ID, d.Version
	}
	x, y, z := ids["x"], ids["y"], ids["z"]
	onA, onB := bolt.NewLiveStore(a), bolt.NewLiveStore(b)
	if err := onA.CommitOps(ctx, []docket.OpCommit{insertAt(t, x, v, 0, "A", "on-a", "Aabc"), insertAt(t, y, v, 0, "A", "on-a", "Aabc")}); err != nil {
		t.Fatal(err)
	}
	stale := []docket.OpCommit{insertAt(t, x, v, 3, "B", "on-b", "abcB"), insertAt(t, z, v, 0, "Z", "on-b", "Zabc"), insertAt(t, y, v, 3, "B", "on-b", "abcB")}
	if err := onB.CommitOps(ctx, stale); docket.ErrorCode(err) != docket.ECONFLICT {
		t.Fatalf("CommitOps behind = %v; want ECONFLICT", err)
	}
	if err := onB.CommitOpsRebasing(ctx, stale, nil); docket.ErrorCode(err) != docket.EINVALID {
		t.Fatalf("CommitOpsRebasing without rebase = %v; want EINVALID", err)
	}
	errRebase := errors.New("rebase failed")
	for _, tc := range []struct {
		name    string
		commits []docket.OpCommit
		// rebase answers for each document behind, in this order.
		rebase   map[string][]docket.OpCommit
		failOn   string
		wantErr  error
		wantCode string
		want     map[string]string // stored texts
		versions map[string]int64
	}{
		{
			name: "ahead", commits: []docket.OpCommit{insertAt(t, x, v+2, 0, "C", "on-b", "CAabc")},
			wantCode: docket.ECONFLICT,
		},
		{
			name: "rebase fails", commits: stale, failOn: y,
			rebase:  map[string][]docket.OpCommit{x: {insertAt(t, x, v+1, 4, "B", "on-b", "AabcB")}},
			wantErr: errRebase,
		},
		{
			name: "rebased at a wrong version", commits: stale,
			rebase:   map[string][]docket.OpCommit{x: {insertAt(t, x, v, 4, "B", "on-b", "AabcB")}},
			wantCode: docket.ECONFLICT,
		},
		{
			// x's op moves after a's; y's rebase finds nothing left to
			// write (its op was a resend); z is current.
			name: "each document rebased", commits: stale,
			rebase: map[string][]docket.OpCommit{x: {insertAt(t, x, v+1, 4, "B", "on-b", "AabcB")}, y: nil},
			want:   map[string]string{x: "AabcB", y: "Aabc", z: "Zabc"}, versions: map[string]int64{x: v + 2, y: v + 1, z: v + 1},
		},
	} {
		var called []string
		err := onB.CommitOpsRebasing(ctx, tc.commits, func(id string, missing []*docket.OpRecord) ([]docket.OpCommit, error) {
			called = append(called, id)
			if len(missing) != 1 || missing[0].Version != v || missing[0].Src != "on-a" {
				t.Fatalf("%s: rebase of %s got %d ops; want a's op at %d", tc.name, id, len(missing), v)
			}
			if id == tc.failOn {
				return nil, errRebase
			}
			return tc.rebase[id], nil
		})
		switch {
		case tc.wantErr != nil && !errors.Is(err, tc.wantErr), tc.wantCode != "" && docket.ErrorCode(err) != tc.wantCode:
			t.Fatalf("%s: err = %v; want %v%s", tc.name, err, tc.wantErr, tc.wantCode)
		case tc.wantErr == nil && tc.wantCode == "" && err != nil:
			t.Fatalf("%s: %v", tc.name, err)
		}
		want, versions := tc.want, tc.versions
		if want == nil { // a failed transaction writes nothing
			want = map[string]string{x: "Aabc", y: "Aabc", z: "abc"}
			versions = map[string]int64{x: v + 1, y: v + 1, z: v}
		}
		for id, text := range want {
			gotV, got, err := onA.LoadDocument(ctx, id)
			if err != nil || got != text || gotV != versions[id] {
				t.Fatalf("%s: document = v%d %q, %v; want v%d %q", tc.name, gotV, got, err, versions[id], text)
			}
		}
		if tc.name == "each document rebased" {
			if !slices.Equal(called, []string{x, y}) {
				t.Fatalf("rebased %v; want x then y", called)
			}
			recs, err := onA.LoadOps(ctx, x, v, math.MaxInt64)
			if err != nil || len(recs) != 2 || recs[0].Src != "on-a" || recs[1].Src != "on-b" {
				t.Fatalf("x's ops = %v, %v; want a's then b's", recs, err)
			}
		}
	}
}
