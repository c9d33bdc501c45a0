package bolt_test

import (
	"context"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	docket "github.com/docket-dev/docket"
	"github.com/docket-dev/docket/bolt"
	"github.com/docket-dev/docket/internal/testenv"
	"github.com/google/go-cmp/cmp"
)

// fakeParse is a line-based stand-in for markdown.ActionItems: lines
// "- [ ] ..." and "- [x] ...", the first @word is the assignee and a
// due:YYYY-MM-DD word the due date.
func fakeParse(src string) []docket.ActionItem {
	var items []docket.ActionItem
	for i, line := range strings.Split(src, "\n") {
		rest, open := strings.CutPrefix(line, "- [ ] ")
		rest, done := strings.CutPrefix(rest, "- [x] ")
		if !open && !done {
			continue
		}
		it := docket.ActionItem{Line: i + 1, Done: done}
		var words []string
		for _, w := range strings.Fields(rest) {
			if strings.HasPrefix(w, "@") && it.Assignee == "" {
				it.Assignee = w[1:]
			} else if d, ok := strings.CutPrefix(w, "due:"); ok {
				it.Due, _ = time.Parse(time.DateOnly, d)
			} else {
				words = append(words, w)
			}
		}
		it.Text = strings.Join(words, " ")
		items = append(items, it)
	}
	return items
}

// actionWorld is a space "eng" with members, as seed and addUser make.
type actionWorld struct {
	db      *bolt.DB
	ctx     context.Context // the space admin, Ada
	docs    *bolt.DocumentService
	actions *bolt.ActionService
	users   map[string]*docket.User // by first name, lower case
}

func newActionWorld(t *testing.T, parse bolt.ParseActionsFunc) *actionWorld {
	t.Helper()
	db := mustOpenDB(t)
	ctx := seed(t, db)
	w := &actionWorld{db: db, ctx: ctx, docs: bolt.NewDocumentService(db), actions: bolt.NewActionService(db, parse),
		users: map[string]*docket.User{"ada": docket.UserFromContext(ctx)}}
	return w
}

// addUser creates a user and, with a role, makes them a member of eng.
func (w *actionWorld) addUser(t *testing.T, key, email string, role docket.SpaceRole) *docket.User {
	t.Helper()
	u, err := bolt.NewUserService(w.db).CreateUser(context.Background(), docket.UserCreate{Name: key, Email: email, Password: "long enough"})
	if err != nil {
		t.Fatal(err)
	}
	if role != "" {
		if _, err := bolt.NewSpaceService(w.db).SetMember(w.ctx, "eng", u.ID, role); err != nil {
			t.Fatal(err)
		}
	}
	w.users[key] = u
	return u
}

func (w *actionWorld) as(key string) context.Context {
	return docket.NewContextWithUser(context.Background(), w.users[key])
}

func (w *actionWorld) create(t *testing.T, body string) *docket.Document {
	t.Helper()
	d, err := w.docs.CreateDocument(w.ctx, docket.DocumentCreate{Space: "eng", Title: "Plan", Body: body})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func (w *actionWorld) edit(t *testing.T, id, body string) *docket.Document {
	t.Helper()
	d, err := w.docs.FindDocumentMeta(w.ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	d, err = w.docs.EditDocument(w.ctx, id, docket.Edit{Version: d.Version, Body: &body})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func (w *actionWorld) find(t *testing.T, id string) []*docket.ActionItem {
	t.Helper()
	items, err := w.actions.FindActions(w.ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	return items
}

// indexOf returns the user_actions keys of a document, as "name".
func (w *actionWorld) indexOf(docID string) []string {
	var names []string
	for _, k := range bolt.UserActionKeys(w.db) {
		uid, doc, _ := strings.Cut(k, "/")
		if doc != docID {
			continue
		}
		for name, u := range w.users {
			if u.ID == uid {
				names = append(names, name)
			}
		}
	}
	slices.Sort(names)
	return names
}

func TestActionsRefreshResolvesAssignees(t *testing.T) {
	w := newActionWorld(t, fakeParse)
	w.addUser(t, "alice", "Alice@Example.com", docket.RoleEditor)
	w.addUser(t, "bob", "bob@example.com", docket.RoleViewer)
	w.addUser(t, "carol", "carol@example.com", "") // not a member
	w.addUser(t, "dan", "dan@example.com", docket.RoleCommenter)
	w.addUser(t, "dan2", "dan@other.org", docket.RoleCommenter) // same local part
	d := w.create(t, "# Plan\n- [ ] @alice write the plan due:2099-12-01\n- [x] @BOB@example.com review\n"+
		"- [ ] @carol outsider\n- [ ] @dan ambiguous\n- [ ] @dan@other.org by email\n- [ ] @nobody\n- [ ] unassigned\n")
	if err := w.actions.Refresh(context.Background(), d.ID); err != nil {
		t.Fatal(err)
	}
	got := w.find(t, d.ID)
	u := w.users
	want := []*docket.ActionItem{
		{DocID: d.ID, Line: 2, Text: "write the plan", Assignee: "alice", UserID: u["alice"].ID, Due: time.Date(2099, 12, 1, 0, 0, 0, 0, time.UTC), Version: 1},
		{DocID: d.ID, Line: 3, Text: "review", Done: true, Assignee: "BOB@example.com", UserID: u["bob"].ID, Version: 1},
		{DocID: d.ID, Line: 4, Text: "outsider", Assignee: "carol", Version: 1},
		{DocID: d.ID, Line: 5, Text: "ambiguous", Assignee: "dan", Version: 1},
		{DocID: d.ID, Line: 6, Text: "by email", Assignee: "dan@other.org", UserID: u["dan2"].ID, Version: 1},
		{DocID: d.ID, Line: 7, Assignee: "nobody", Version: 1},
		{DocID: d.ID, Line: 8, Text: "unassigned", Version: 1},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("FindActions mismatch (-want +got):\n%s", diff)
	}
	if got, want := w.indexOf(d.ID), []string{"alice", "bob", "dan2"}; !slices.Equal(got, want) {
		t.Errorf("index = %v; want %v", got, want)
	}

	// Membership changes show at once in FindActions; the index follows
	// at the next refresh.
	if _, err := bolt.NewSpaceService(w.db).SetMember(w.ctx, "eng", u["carol"].ID, docket.RoleViewer); err != nil {
		t.Fatal(err)
	}
	if err := bolt.NewSpaceService(w.db).RemoveMember(w.ctx, "eng", u["alice"].ID); err != nil {
		t.Fatal(err)
	}
	got = w.find(t, d.ID)
	if got[0].UserID != "" || got[2].UserID != u["carol"].ID {
		t.Errorf("after membership changes: alice -> %q, carol -> %q; want \"\", %q", got[0].UserID, got[2].UserID, u["carol"].ID)
	}
	if err := w.actions.Refresh(context.Background(), d.ID); err != nil {
		t.Fatal(err)
	}
	if got, want := w.indexOf(d.ID), []string{"bob", "carol", "dan2"}; !slices.Equal(got, want) {
		t.Errorf("index after refresh = %v; want %v", got, want)
	}
}

func TestActionsOverdue(t *testing.T) {
	w := newActionWorld(t, fakeParse)
	now := time.Date(2026, 6, 10, 15, 0, 0, 0, time.UTC)
	w.db.Now = func() time.Time { return now }
	d := w.create(t, "- [ ] past due:2026-06-09\n- [ ] today due:2026-06-10\n- [ ] later due:2026-07-01\n- [x] done due:2026-01-01\n- [ ] no date\n")
	if err := w.actions.Refresh(context.Background(), d.ID); err != nil {
		t.Fatal(err)
	}
	var got []bool
	for _, it := range w.find(t, d.ID) {
		got = append(got, it.Overdue)
	}
	if want := []bool{true, false, false, false, false}; !slices.Equal(got, want) {
		t.Errorf("overdue = %v; want %v", got, want)
	}
	// Overdue is computed when read, not stored.
	now = now.AddDate(0, 0, 1)
	if items := w.find(t, d.ID); !items[1].Overdue {
		t.Errorf("a day later, %+v is not overdue", items[1])
	}
	if stored, _ := bolt.StoredActions(w.db, d.ID); strings.Contains(stored, "overdue") {
		t.Errorf("stored items hold overdue: %s", stored)
	}
}

func TestActionsPermissions(t *testing.T) {
	w := newActionWorld(t, fakeParse)
	w.addUser(t, "viewer", "viewer@example.com", docket.RoleViewer)
	w.addUser(t, "stranger", "stranger@example.com", "")
	d := w.create(t, "- [ ] one\n")
	for _, tc := range []struct {
		who, id string
		want    string
	}{
		{"ada", d.ID, ""},
		{"viewer", d.ID, ""},
		{"stranger", d.ID, docket.ENOTFOUND},
		{"viewer", "nosuchdoc", docket.ENOTFOUND},
		{"viewer", "../x", docket.ENOTFOUND},
	} {
		_, err := w.actions.FindActions(w.as(tc.who), tc.id)
		if got := docket.ErrorCode(err); got != tc.want {
			t.Errorf("FindActions as %s of %q = %v; want code %q", tc.who, tc.id, err, tc.want)
		}
	}
	if _, err := w.actions.FindActions(context.Background(), d.ID); docket.ErrorCode(err) != docket.ENOTFOUND {
		t.Errorf("anonymous FindActions = %v; want not_found", err)
	}
}

// TestActionsFindBeforeRefresh checks that a document whose items were
// never stored has them derived on read, without storing them.
func TestActionsFindBeforeRefresh(t *testing.T) {
	w := newActionWorld(t, fakeParse)
	d := w.create(t, "- [ ] @ada fresh\n")
	got := w.find(t, d.ID)
	if len(got) != 1 || got[0].Text != "fresh" || got[0].UserID != w.users["ada"].ID {
		t.Errorf("FindActions = %+v; want the fresh item assigned to Ada", got)
	}
	if _, ok := bolt.StoredActions(w.db, d.ID); ok {
		t.Error("FindActions stored items")
	}
	// Without a parser there is nothing to derive.
	items, err := bolt.NewActionService(w.db, nil).FindActions(w.ctx, d.ID)
	if err != nil || len(items) != 0 || items == nil {
		t.Errorf("FindActions without parser = %v, %v; want an empty list", items, err)
	}
}

// TestActionsRefreshSkipsStaleParse edits the document while its old text
// is being parsed: the stale items must not be written.
func TestActionsRefreshSkipsStaleParse(t *testing.T) {
	var w *actionWorld
	var docID string
	var once sync.Once
	w = newActionWorld(t, func(src string) []docket.ActionItem {
		once.Do(func() { w.edit(t, docID, "- [ ] newer\n") })
		return fakeParse(src)
	})
	d := w.create(t, "- [ ] older\n")
	docID = d.ID
	if err := w.actions.Refresh(context.Background(), d.ID); err != nil {
		t.Fatal(err)
	}
	if stored, ok := bolt.StoredActions(w.db, d.ID); ok {
		t.Fatalf("stale items stored: %s", stored)
	}
	if err := w.actions.Refresh(context.Background(), d.ID); err != nil {
		t.Fatal(err)
	}
	if items := w.find(t, d.ID); len(items) != 1 || items[0].Text != "newer" || items[0].Version != 2 {
		t.Errorf("items = %+v; want newer at version 2", items)
	}
}

func TestActionsRemovedWithDocument(t *testing.T) {
	w := newActionWorld(t, fakeParse)
	d := w.create(t, "- [ ] @ada one\n")
	other := w.create(t, "- [ ] @ada two\n")
	for _, id := range []string{d.ID, other.ID} {
		if err := w.actions.Refresh(context.Background(), id); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.docs.DeleteDocument(w.ctx, d.ID); err != nil {
		t.Fatal(err)
	}
	if err := w.actions.Refresh(context.Background(), d.ID); err != nil {
		t.Fatal(err)
	}
	if _, ok := bolt.StoredActions(w.db, d.ID); ok {
		t.Error("items of the deleted document remain")
	}
	if got, want := bolt.UserActionKeys(w.db), []string{w.users["ada"].ID + "/" + other.ID}; !slices.Equal(got, want) {
		t.Errorf("index = %v; want %v", got, want)
	}
	// Refreshing an unknown or malformed id is harmless.
	for _, id := range []string{d.ID, "nosuch", "", "a/b"} {
		if err := w.actions.Refresh(context.Background(), id); err != nil {
			t.Errorf("Refresh(%q) = %v", id, err)
		}
	}
}

func TestActionsRefreshAll(t *testing.T) {
	w := newActionWorld(t, fakeParse)
	a := w.create(t, "- [ ] @ada one\n")
	b := w.create(t, "no items\n")
	c := w.create(t, "- [ ] @ada three\n")
	n, err := w.actions.RefreshAll(context.Background())
	if err != nil || n != 3 {
		t.Fatalf("RefreshAll = %d, %v; want 3 written", n, err)
	}
	if stored, _ := bolt.StoredActions(w.db, b.ID); stored != "[]" {
		t.Errorf("stored items of a document without any = %q; want []", stored)
	}
	if n, err := w.actions.RefreshAll(context.Background()); err != nil || n != 0 {
		t.Errorf("second RefreshAll = %d, %v; want nothing written", n, err)
	}
	// Changes nobody refreshed (as after a crash) are caught up: an edit
	// and a deletion.
	w.edit(t, a.ID, "- [x] @ada one\n")
	if err := w.docs.DeleteDocument(w.ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	if n, err := w.actions.RefreshAll(context.Background()); err != nil || n != 2 {
		t.Errorf("RefreshAll after changes = %d, %v; want 2 written", n, err)
	}
	if items := w.find(t, a.ID); !items[0].Done {
		t.Errorf("items = %+v; want done", items)
	}
	if got, want := bolt.UserActionKeys(w.db), []string{w.users["ada"].ID + "/" + a.ID}; !slices.Equal(got, want) {
		t.Errorf("index = %v; want %v", got, want)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := w.actions.RefreshAll(ctx); err == nil {
		t.Error("RefreshAll with a cancelled context succeeded")
	}
}

// TestDocumentChangesNotify checks the changes documents report.
func TestDocumentChangesNotify(t *testing.T) {
	w := newActionWorld(t, fakeParse)
	var changes testenv.Collector[docket.Change]
	w.db.OnChange(changes.Add)
	d := w.create(t, "one")
	w.edit(t, d.ID, "one") // no change, no notification
	w.edit(t, d.ID, "two")
	if _, err := w.docs.EditDocument(w.ctx, d.ID, docket.Edit{Version: 1, Body: new("stale")}); err == nil {
		t.Fatal("stale edit succeeded")
	}
	title := "New"
	if _, err := w.docs.UpdateDocument(w.ctx, d.ID, docket.DocumentUpdate{Title: &title}); err != nil {
		t.Fatal(err)
	}
	live := bolt.NewLiveStore(w.db)
	rec := docket.OpRecord{Version: 2, Author: w.users["ada"].ID, Time: time.Now(), Op: []byte(`[3,"!"]`)}
	rec2 := rec
	rec2.Version, rec2.Op = 3, []byte(`[4,"!"]`)
	if err := live.CommitOps(context.Background(), []docket.OpCommit{{DocID: d.ID, Rec: rec, Text: "two!"}, {DocID: d.ID, Rec: rec2, Text: "two!!"}}); err != nil {
		t.Fatal(err)
	}
	if err := w.docs.DeleteDocument(w.ctx, d.ID); err != nil {
		t.Fatal(err)
	}
	sp := d.SpaceID
	want := []docket.Change{
		{Kind: docket.ChangeText, DocID: d.ID, SpaceID: sp},
		{Kind: docket.ChangeText, DocID: d.ID, SpaceID: sp},
		{Kind: docket.ChangeMeta, DocID: d.ID, SpaceID: sp},
		{Kind: docket.ChangeText, DocID: d.ID, SpaceID: sp}, // one for the batch
		{Kind: docket.ChangeDeleted, DocID: d.ID, SpaceID: sp},
	}
	if diff := cmp.Diff(want, changes.Got()); diff != "" {
		t.Errorf("changes mismatch (-want +got):\n%s", diff)
	}
}

// waitFor polls cond until it holds or a deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	testenv.WaitFor(t, 10*time.Second, what, cond)
}

// startUpdater runs an updater for w until the test ends.
func startUpdater(t *testing.T, w *actionWorld, opts bolt.ActionUpdaterOptions) *bolt.ActionUpdater {
	t.Helper()
	u := bolt.NewActionUpdater(w.actions, opts)
	done := make(chan struct{})
	go func() {
		u.Run(context.Background())
		close(done)
	}()
	t.Cleanup(func() {
		u.Close()
		<-done
	})
	return u
}

func TestActionUpdaterDebounces(t *testing.T) {
	var parses atomic.Int64
	w := newActionWorld(t, func(src string) []docket.ActionItem {
		parses.Add(1)
		return fakeParse(src)
	})
	const debounce = 300 * time.Millisecond
	u := startUpdater(t, w, bolt.ActionUpdaterOptions{Debounce: debounce})
	start := time.Now()
	d := w.create(t, "- [ ] v1\n")
	for i := 2; i <= 6; i++ {
		w.edit(t, d.ID, "- [ ] v"+string(rune('0'+i))+"\n")
	}
	burst := time.Since(start)
	waitFor(t, "the last edit's items", func() bool {
		s, ok := bolt.StoredActions(w.db, d.ID)
		return ok && strings.Contains(s, `"v6"`)
	})
	waitFor(t, "the updater to idle", u.Idle)
	// Six changes within the debounce are one refresh; a slow machine
	// whose burst outlasts the debounce may need one more per debounce.
	if n, most := parses.Load(), 1+int64(burst/debounce); n < 1 || n > most {
		t.Errorf("%d parses for a burst of 6 changes in %v; want 1 to %d", n, burst, most)
	}

	// A deletion removes the items.
	if err := w.docs.DeleteDocument(w.ctx, d.ID); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the deleted document's items to go", func() bool {
		_, ok := bolt.StoredActions(w.db, d.ID)
		return !ok
	})
}

func TestActionUpdaterOverflowRefreshesAll(t *testing.T) {
	w := newActionWorld(t, fakeParse)
	u := bolt.NewActionUpdater(w.actions, bolt.ActionUpdaterOptions{Debounce: 10 * time.Millisecond, MaxPending: 1})
	var ids []string
	for i := 0; i < 4; i++ { // queued before the worker runs: 1 kept, 3 overflow
		ids = append(ids, w.create(t, "- [ ] @ada item\n").ID)
	}
	if u.Idle() {
		t.Fatal("updater idle with changes queued")
	}
	done := make(chan struct{})
	go func() {
		u.Run(context.Background())
		close(done)
	}()
	waitFor(t, "every document's items", func() bool {
		for _, id := range ids {
			if _, ok := bolt.StoredActions(w.db, id); !ok {
				return false
			}
		}
		return true
	})
	u.Close()
	<-done
}

func TestActionUpdaterLifecycle(t *testing.T) {
	w := newActionWorld(t, fakeParse)
	// RefreshAll at startup catches up on documents written before.
	before := w.create(t, "- [ ] before\n")
	u := bolt.NewActionUpdater(w.actions, bolt.ActionUpdaterOptions{Debounce: time.Millisecond})
	u.RefreshAll()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		u.Run(ctx)
		close(done)
	}()
	waitFor(t, "items of the earlier document", func() bool {
		_, ok := bolt.StoredActions(w.db, before.ID)
		return ok
	})
	// Cancelling the context stops Run; Close after that returns.
	cancel()
	<-done
	if err := u.Close(); err != nil {
		t.Fatal(err)
	}
	// A closed updater ignores changes, and Run returns at once.
	after := w.create(t, "- [ ] after\n")
	u.Run(context.Background())
	if !u.Idle() {
		t.Error("closed updater queued a change")
	}
	if _, ok := bolt.StoredActions(w.db, after.ID); ok {
		t.Error("closed updater refreshed a document")
	}
}
