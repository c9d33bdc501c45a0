package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	docket "github.com/docket-dev/docket"
	"github.com/google/go-cmp/cmp"
)

// testSpacePermissions: a space's members act by role; to anyone else the
// space and its documents do not exist.
func testSpacePermissions(t *testing.T, w *world) {
	ada, _ := w.user("ada")
	vic, vicUser := w.user("vic")
	cy, _ := w.user("cy")
	sp := w.space(ada, "eng")
	_, err := w.s.Spaces.CreateSpace(ada, "eng", "Again")
	wantCode(t, "duplicate slug", err, docket.ECONFLICT)
	w.member(ada, "eng", vicUser, docket.RoleViewer)
	d := w.doc(ada, "eng", "Plan", "text")

	for _, tc := range []struct {
		name string
		err  error
		code string
	}{
		{"viewer reads the space", second(w.s.Spaces.FindSpace(vic, "eng")), ""},
		{"viewer reads a document", second(w.s.Docs.FindDocumentByID(vic, d.ID)), ""},
		{"viewer creates a document", second(w.s.Docs.CreateDocument(vic, docket.DocumentCreate{Space: "eng", Title: "No"})), docket.EFORBIDDEN},
		{"viewer deletes a document", w.s.Docs.DeleteDocument(vic, d.ID), docket.EFORBIDDEN},
		{"viewer sets a member", second(w.s.Spaces.SetMember(vic, "eng", vicUser.ID, docket.RoleAdmin)), docket.EFORBIDDEN},
		{"stranger reads the space", second(w.s.Spaces.FindSpace(cy, sp.ID)), docket.ENOTFOUND},
		{"stranger reads a document", second(w.s.Docs.FindDocumentByID(cy, d.ID)), docket.ENOTFOUND},
		{"stranger lists the space", third(w.s.Docs.FindDocuments(cy, docket.DocumentFilter{Space: "eng"})), docket.ENOTFOUND},
		{"stranger lists members", second(w.s.Spaces.FindMembers(cy, "eng")), docket.ENOTFOUND},
		{"malformed id", second(w.s.Docs.FindDocumentByID(ada, "../"+d.ID)), docket.ENOTFOUND},
	} {
		wantCode(t, tc.name, tc.err, tc.code)
	}
	spaces, err := w.s.Spaces.FindSpaces(cy)
	if err != nil || len(spaces) != 0 {
		t.Errorf("stranger's FindSpaces = %v, %v; want none", spaces, err)
	}
	members, err := w.s.Spaces.FindMembers(ada, "eng")
	must(t, err)
	got := map[string]docket.SpaceRole{}
	for _, m := range members {
		got[m.UserID] = m.Role
	}
	if got[vicUser.ID] != docket.RoleViewer || got[docket.UserIDFromContext(ada)] != docket.RoleAdmin {
		t.Errorf("members = %v; want ada admin, vic viewer", got)
	}
	must(t, w.s.Spaces.RemoveMember(ada, "eng", vicUser.ID))
	_, err = w.s.Docs.FindDocumentByID(vic, d.ID)
	wantCode(t, "removed member reads a document", err, docket.ENOTFOUND)
}

// testDocuments: a document is created at version 1, edited, renamed and
// deleted with its history.
func testDocuments(t *testing.T, w *world) {
	ada, _ := w.user("ada")
	w.space(ada, "eng")
	d, err := w.s.Docs.CreateDocument(ada, docket.DocumentCreate{Space: "eng", Title: "Queues", Body: "# Queues\n", Kind: docket.KindRFC, Tags: []string{"infra"}})
	must(t, err)
	if d.Version != 1 || d.Body != "# Queues\n" || d.Kind != docket.KindRFC || d.Status != docket.StatusDraft {
		t.Errorf("created = %+v", d)
	}
	_, err = w.s.Docs.CreateDocument(ada, docket.DocumentCreate{Space: "nowhere", Title: "X"})
	wantCode(t, "unknown space", err, docket.ENOTFOUND)

	w.edit(ada, d.ID, "# Queues\n\nBounded.\n")
	_, err = w.s.Docs.EditDocument(ada, d.ID, docket.Edit{Version: 1, Op: json.RawMessage(`["x"]`)})
	wantCode(t, "edit at an old version", err, docket.ECONFLICT)
	title, tags := "Bounded queues", []string{"infra", "perf"}
	_, err = w.s.Docs.UpdateDocument(ada, d.ID, docket.DocumentUpdate{Title: &title, Tags: &tags})
	must(t, err)

	got, err := w.s.Docs.FindDocumentByID(ada, d.ID)
	must(t, err)
	type doc struct {
		Title, Body string
		Version     int64
		Tags        []string
	}
	want := doc{title, "# Queues\n\nBounded.\n", 2, tags}
	if diff := cmp.Diff(want, doc{got.Title, got.Body, got.Version, got.Tags}); diff != "" {
		t.Errorf("document (-want +got):\n%s", diff)
	}
	meta, err := w.s.Docs.FindDocumentMeta(ada, d.ID)
	if err != nil || meta.Version != 2 || meta.Body != "" {
		t.Errorf("FindDocumentMeta = version %d, body %q, %v; want version 2 without body", meta.Version, meta.Body, err)
	}

	must(t, w.s.Docs.DeleteDocument(ada, d.ID))
	_, err = w.s.Docs.FindDocumentByID(ada, d.ID)
	wantCode(t, "deleted document", err, docket.ENOTFOUND)
	_, err = w.s.Docs.FindOps(ada, d.ID, 0, 2, 0)
	wantCode(t, "ops of a deleted document", err, docket.ENOTFOUND)
	list, n, err := w.s.Docs.FindDocuments(ada, docket.DocumentFilter{Space: "eng"})
	if err != nil || n != 0 || len(list) != 0 {
		t.Errorf("FindDocuments after delete = %d (%d), %v; want none", len(list), n, err)
	}
}

// testDocumentFilters: lists are filtered, most recently updated first,
// paged, and hold only readable spaces.
func testDocumentFilters(t *testing.T, w *world) {
	ada, bob, _ := w.team(docket.RoleEditor)
	w.space(ada, "ops")
	t0 := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	clock := t0
	w.db.Now = func() time.Time { return clock }
	defer func() { w.db.Now = time.Now }()
	create := func(ctx context.Context, space, title string, kind docket.Kind, tags ...string) {
		t.Helper()
		clock = clock.Add(time.Minute)
		_, err := w.s.Docs.CreateDocument(ctx, docket.DocumentCreate{Space: space, Title: title, Body: title, Kind: kind, Tags: tags})
		must(t, err)
	}
	create(ada, "eng", "A", docket.KindRFC, "infra")
	create(bob, "eng", "B", docket.KindNotes)
	create(ada, "eng", "C", docket.KindRFC, "infra", "perf")
	create(ada, "ops", "D", docket.KindRFC, "infra")

	for _, tc := range []struct {
		name   string
		as     context.Context
		filter docket.DocumentFilter
		want   []string
		total  int
	}{
		{"space", ada, docket.DocumentFilter{Space: "eng"}, []string{"C", "B", "A"}, 3},
		{"every space", ada, docket.DocumentFilter{}, []string{"D", "C", "B", "A"}, 4},
		{"readable spaces only", bob, docket.DocumentFilter{}, []string{"C", "B", "A"}, 3},
		{"kind", ada, docket.DocumentFilter{Space: "eng", Kind: docket.KindRFC}, []string{"C", "A"}, 2},
		{"tag", ada, docket.DocumentFilter{Tag: "infra"}, []string{"D", "C", "A"}, 3},
		{"owner", ada, docket.DocumentFilter{Owner: "bob@example.com"}, []string{"B"}, 1},
		{"page", ada, docket.DocumentFilter{Limit: 2, Offset: 1}, []string{"C", "B"}, 4},
	} {
		list, total, err := w.s.Docs.FindDocuments(tc.as, tc.filter)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		var got []string
		for _, d := range list {
			got = append(got, d.Title)
		}
		if !slices.Equal(got, tc.want) || total != tc.total {
			t.Errorf("%s: got %v (total %d); want %v (total %d)", tc.name, got, total, tc.want, tc.total)
		}
	}
	_, _, err := w.s.Docs.FindDocuments(ada, docket.DocumentFilter{Kind: "novel"})
	wantCode(t, "bad kind", err, docket.EINVALID)
}

// testOpLog: CommitOps appends at the next version, all or nothing, and
// LoadOps reads ranges back.
func testOpLog(t *testing.T, w *world) {
	ctx := context.Background()
	ada, adaUser := w.user("ada")
	w.space(ada, "eng")
	a := w.doc(ada, "eng", "A", "ab")
	b := w.doc(ada, "eng", "B", "xy")
	at := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	commit := func(doc string, version int64, op, text string) docket.OpCommit {
		return docket.OpCommit{DocID: doc, Text: text, Rec: docket.OpRecord{Version: version, Src: "s1", Seq: version, Author: adaUser.ID, Time: at, Op: json.RawMessage(op)}}
	}
	must(t, w.s.Ops.CommitOps(ctx, []docket.OpCommit{
		commit(a.ID, 1, `[2,"c"]`, "abc"),
		commit(a.ID, 2, `[3,"d"]`, "abcd"),
		commit(b.ID, 1, `["w"]`, "wxy"),
	}))
	for _, tc := range []struct {
		name    string
		commits []docket.OpCommit
	}{
		{"a version already taken", []docket.OpCommit{commit(a.ID, 2, `[3,"e"]`, "abce")}},
		{"a version ahead", []docket.OpCommit{commit(a.ID, 4, `[4,"e"]`, "abcde")}},
		{"a batch with one bad commit", []docket.OpCommit{commit(b.ID, 2, `[3,"z"]`, "wxyz"), commit(a.ID, 1, `["q"]`, "qabcd")}},
	} {
		wantCode(t, tc.name, w.s.Ops.CommitOps(ctx, tc.commits), docket.ECONFLICT)
	}
	for _, tc := range []struct {
		id      string
		version int64
		text    string
	}{{a.ID, 3, "abcd"}, {b.ID, 2, "wxy"}} {
		v, text, err := w.s.Ops.LoadDocument(ctx, tc.id)
		if err != nil || v != tc.version || text != tc.text {
			t.Errorf("LoadDocument(%s) = %d, %q, %v; want %d, %q", tc.id, v, text, err, tc.version, tc.text)
		}
	}
	for _, tc := range []struct {
		from, to int64
		want     []string // version:op
	}{
		{1, 3, []string{`1:[2,"c"]`, `2:[3,"d"]`}},
		{2, 3, []string{`2:[3,"d"]`}},
		{0, 1, []string{`0:["ab"]`}},
		{3, 3, nil},
	} {
		ops, err := w.s.Ops.LoadOps(ctx, a.ID, tc.from, tc.to)
		if err != nil {
			t.Errorf("LoadOps(%d, %d): %v", tc.from, tc.to, err)
			continue
		}
		var got []string
		for _, op := range ops {
			got = append(got, fmt.Sprintf("%d:%s", op.Version, op.Op))
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("LoadOps(%d, %d) = %v; want %v", tc.from, tc.to, got, tc.want)
		}
	}
	ops, err := w.s.Ops.LoadOps(ctx, a.ID, 1, 2)
	if err != nil || len(ops) != 1 || ops[0].Src != "s1" || ops[0].Seq != 1 || ops[0].Author != adaUser.ID || !ops[0].Time.Equal(at) {
		t.Errorf("LoadOps(1, 2) = %+v, %v; want the record as committed", ops, err)
	}
	_, _, err = w.s.Ops.LoadDocument(ctx, "aaaaaaaaaaaaaaaa")
	wantCode(t, "LoadDocument of an unknown document", err, docket.ENOTFOUND)
}

// testVersionsRebuild edits a document many times at random and checks
// that every version's text is rebuilt exactly, across snapshots.
func testVersionsRebuild(t *testing.T, w *world) {
	w.db.SnapshotEvery = 7
	ctx, _ := w.user("ada")
	w.space(ctx, "eng")
	d := w.doc(ctx, "eng", "T", "héllo 🌍")
	texts := []string{"", "héllo 🌍"}
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []rune("ab 😀中\n")
	for i := range 60 {
		cur := []rune(texts[len(texts)-1])
		pos := rng.IntN(len(cur) + 1)
		del := rng.IntN(min(3, len(cur)-pos) + 1)
		ins := string(alphabet[rng.IntN(len(alphabet))]) + string(alphabet[rng.IntN(len(alphabet))])
		next := string(cur[:pos]) + ins + string(cur[pos+del:])
		var op []any
		if pos > 0 {
			op = append(op, pos)
		}
		op = append(op, ins)
		if del > 0 {
			op = append(op, map[string]int{"d": del})
		}
		raw, _ := json.Marshal(op)
		got, err := w.s.Docs.EditDocument(ctx, d.ID, docket.Edit{Version: int64(len(texts) - 1), Op: raw})
		if err != nil {
			t.Fatalf("edit %d %s: %v", i, raw, err)
		}
		if got.Body != next {
			t.Fatalf("edit %d: body = %q; want %q", i, got.Body, next)
		}
		texts = append(texts, next)
	}
	for v, want := range texts {
		got, err := w.s.Docs.DocumentAt(ctx, d.ID, int64(v))
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Fatalf("DocumentAt(%d) = %q; want %q", v, got, want)
		}
	}
	ops, err := w.s.Docs.FindOps(ctx, d.ID, 5, 10, 0)
	if err != nil || len(ops) != 5 || ops[0].Version != 5 {
		t.Fatalf("FindOps(5,10) = %d ops, %v", len(ops), err)
	}
	for _, tc := range []struct{ from, to int64 }{{-1, 3}, {999, 1000}, {5, 2}} {
		_, err := w.s.Docs.FindOps(ctx, d.ID, tc.from, tc.to, 0)
		wantCode(t, fmt.Sprintf("FindOps(%d,%d)", tc.from, tc.to), err, docket.EINVALID)
	}
}
