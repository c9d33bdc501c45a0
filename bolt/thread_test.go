package bolt_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	docket "github.com/docket-dev/docket"
	"github.com/docket-dev/docket/bolt"
	"github.com/docket-dev/docket/markdown"
)

// threadEnv is a data file with a space "eng" whose members have every
// role, a document in it, and the thread service.
type threadEnv struct {
	db      *bolt.DB
	docs    *bolt.DocumentService
	threads *bolt.ThreadService
	// as maps a role name ("siteadmin", "admin", "editor", "commenter",
	// "viewer", "outsider") to a context acting as that member.
	as  map[string]context.Context
	ids map[string]string // role name -> user id
	doc *docket.Document
}

func newThreadEnv(tb testing.TB, body string) *threadEnv {
	tb.Helper()
	db := mustOpenDB(tb)
	e := &threadEnv{
		db: db, docs: bolt.NewDocumentService(db),
		threads: bolt.NewThreadService(db, markdown.New(markdown.Options{}), markdown.Mentions),
		as:      map[string]context.Context{}, ids: map[string]string{},
	}
	e.as["siteadmin"] = seed(tb, db)
	e.ids["siteadmin"] = docket.UserIDFromContext(e.as["siteadmin"])
	users, spaces := bolt.NewUserService(db), bolt.NewSpaceService(db)
	for _, role := range []string{"admin", "editor", "commenter", "viewer", "outsider"} {
		u, err := users.CreateUser(context.Background(), docket.UserCreate{Name: role, Email: role + "@example.com", Password: "long enough"})
		if err != nil {
			tb.Fatal(err)
		}
		e.as[role], e.ids[role] = docket.NewContextWithUser(context.Background(), u), u.ID
		if role != "outsider" {
			if _, err := spaces.SetMember(e.as["siteadmin"], "eng", u.ID, docket.SpaceRole(role)); err != nil {
				tb.Fatal(err)
			}
		}
	}
	d, err := e.docs.CreateDocument(e.as["editor"], docket.DocumentCreate{Space: "eng", Title: "RFC", Body: body})
	if err != nil {
		tb.Fatal(err)
	}
	e.doc = d
	return e
}

// edit applies an op to the document at its current version.
func (e *threadEnv) edit(tb testing.TB, op string) *docket.Document {
	tb.Helper()
	d, err := e.docs.FindDocumentMeta(e.as["editor"], e.doc.ID)
	if err != nil {
		tb.Fatal(err)
	}
	d, err = e.docs.EditDocument(e.as["editor"], e.doc.ID, docket.Edit{Version: d.Version, Op: json.RawMessage(op)})
	if err != nil {
		tb.Fatalf("edit %s: %v", op, err)
	}
	return d
}

func (e *threadEnv) thread(tb testing.TB, who string, a *docket.Anchor, body string) *docket.Thread {
	tb.Helper()
	th, err := e.threads.CreateThread(e.as[who], docket.ThreadCreate{DocID: e.doc.ID, Anchor: a, Body: body})
	if err != nil {
		tb.Fatalf("CreateThread as %s: %v", who, err)
	}
	return th
}

func runeSlice(s string, start, end int) string { return string([]rune(s)[start:end]) }

func TestCreateThread(t *testing.T) {
	e := newThreadEnv(t, "The quick brown 🦊 jumps.")
	th := e.thread(t, "commenter", &docket.Anchor{Version: 1, Start: 16, End: 17, Quote: "ignored"}, "Why a **fox**? <script>alert(1)</script>")
	if th.Anchor == nil || *th.Anchor != (docket.Anchor{Version: 1, Start: 16, End: 17, Quote: "🦊"}) {
		t.Errorf("anchor = %+v; want the fox at [16, 17)", th.Anchor)
	}
	if th.Status != docket.ThreadOpen || th.AuthorID != e.ids["commenter"] || th.DocID != e.doc.ID || th.SpaceID != e.doc.SpaceID {
		t.Errorf("thread = %+v", th)
	}
	if len(th.Comments) != 1 {
		t.Fatalf("comments = %d; want 1", len(th.Comments))
	}
	c := th.Comments[0]
	if !strings.Contains(c.HTML, "<strong>fox</strong>") || strings.Contains(c.HTML, "<script") || strings.Contains(c.HTML, "alert(1)</script>") {
		t.Errorf("comment HTML = %q; want the markdown rendered and the script gone", c.HTML)
	}
	// A document-level thread.
	doc := e.thread(t, "editor", nil, "General remark")
	if doc.Anchor != nil || doc.Status != docket.ThreadOpen {
		t.Errorf("document thread = %+v", doc)
	}
	// An anchor at an older version quotes the text of that version and
	// comes back moved to the current one.
	e.edit(t, `["Intro. "]`)
	old := e.thread(t, "commenter", &docket.Anchor{Version: 1, Start: 4, End: 9}, "old quote")
	if want := (docket.Anchor{Version: 2, Start: 11, End: 16, Quote: "quick"}); *old.Anchor != want {
		t.Errorf("anchor made at version 1 = %+v; want %+v", *old.Anchor, want)
	}
	list, err := e.threads.FindThreads(e.as["viewer"], e.doc.ID, docket.ThreadFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, th := range list {
		got = append(got, th.Comments[0].Body)
	}
	if want := "Why a **fox**? <script>alert(1)</script>|General remark|old quote"; strings.Join(got, "|") != want {
		t.Errorf("FindThreads bodies = %q; want oldest first %q", got, want)
	}
	if a := list[0].Anchor; a.Version != 2 || a.Start != 23 || a.End != 24 {
		t.Errorf("moved anchor = %+v; want [23, 24) at version 2", a)
	}
}

func TestLongQuoteIsCut(t *testing.T) {
	e := newThreadEnv(t, strings.Repeat("😀", docket.MaxQuoteRunes+500))
	th := e.thread(t, "commenter", &docket.Anchor{Version: 1, Start: 100, End: docket.MaxQuoteRunes + 400}, "long")
	if a := th.Anchor; a.Start != 100 || a.End != docket.MaxQuoteRunes+400 || a.Quote != strings.Repeat("😀", docket.MaxQuoteRunes) {
		t.Errorf("anchor = [%d, %d) with a quote of %d code points; want the full range and %d", a.Start, a.End, len([]rune(a.Quote)), docket.MaxQuoteRunes)
	}
}

func TestCreateThreadInvalid(t *testing.T) {
	e := newThreadEnv(t, "héllo wörld") // 11 code points
	e.edit(t, `[11,"!"]`)               // version 2, 12 code points
	ok := "fine"
	for _, tc := range []struct {
		name   string
		anchor *docket.Anchor
		body   string
		code   string
	}{
		{"version 0", &docket.Anchor{Version: 0, Start: 0, End: 1}, ok, docket.EINVALID},
		{"future version", &docket.Anchor{Version: 3, Start: 0, End: 1}, ok, docket.EINVALID},
		{"negative start", &docket.Anchor{Version: 1, Start: -1, End: 1}, ok, docket.EINVALID},
		{"empty range", &docket.Anchor{Version: 1, Start: 2, End: 2}, ok, docket.EINVALID},
		{"reversed range", &docket.Anchor{Version: 1, Start: 3, End: 2}, ok, docket.EINVALID},
		{"past the end at that version", &docket.Anchor{Version: 1, Start: 5, End: 12}, ok, docket.EINVALID},
		{"at the end of the current version", &docket.Anchor{Version: 2, Start: 5, End: 12}, ok, ""},
		{"empty body", nil, "", docket.EINVALID},
		{"blank body", nil, " \n\t", docket.EINVALID},
		{"invalid UTF-8", nil, "a\xffb", docket.EINVALID},
		{"too large", nil, strings.Repeat("a", docket.MaxCommentBytes+1), docket.ETOOLARGE},
		{"at the cap", nil, strings.Repeat("a", docket.MaxCommentBytes), ""},
		{"front-matter look-alike", nil, "---\nnot: [yaml\n---\ntext", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := bolt.ThreadRecordCount(e.db)
			_, err := e.threads.CreateThread(e.as["commenter"], docket.ThreadCreate{DocID: e.doc.ID, Anchor: tc.anchor, Body: tc.body})
			if got := docket.ErrorCode(err); got != tc.code {
				t.Fatalf("CreateThread() error = %v; want code %q", err, tc.code)
			}
			if after := bolt.ThreadRecordCount(e.db); tc.code != "" && after != before {
				t.Errorf("a refused thread left %d records behind", after-before)
			}
		})
	}
}

func TestThreadPermissions(t *testing.T) {
	e := newThreadEnv(t, "Some text to discuss.")
	anchor := &docket.Anchor{Version: 1, Start: 0, End: 4}
	create := map[string]string{
		"outsider": docket.ENOTFOUND, "viewer": docket.EFORBIDDEN, "commenter": "", "editor": "", "admin": "", "siteadmin": "",
	}
	for who, want := range create {
		_, err := e.threads.CreateThread(e.as[who], docket.ThreadCreate{DocID: e.doc.ID, Anchor: anchor, Body: "hi"})
		if got := docket.ErrorCode(err); got != want {
			t.Errorf("CreateThread as %s = %v; want %q", who, err, want)
		}
	}
	if _, err := e.threads.CreateThread(context.Background(), docket.ThreadCreate{DocID: e.doc.ID, Body: "hi"}); docket.ErrorCode(err) != docket.EUNAUTHORIZED {
		t.Errorf("anonymous CreateThread = %v; want unauthorized", err)
	}

	mine := e.thread(t, "commenter", anchor, "mine")
	theirs := e.thread(t, "admin", anchor, "theirs")
	for _, tc := range []struct {
		who, thread, code string
	}{
		{"outsider", mine.ID, docket.ENOTFOUND},
		{"viewer", mine.ID, docket.EFORBIDDEN},
		{"commenter", theirs.ID, docket.EFORBIDDEN},
		{"commenter", mine.ID, ""},
		{"editor", theirs.ID, ""},
	} {
		_, err := e.threads.ResolveThread(e.as[tc.who], tc.thread, "done")
		if got := docket.ErrorCode(err); got != tc.code {
			t.Errorf("ResolveThread as %s = %v; want %q", tc.who, err, tc.code)
		}
	}
	if _, err := e.threads.ResolveThread(e.as["editor"], mine.ID, ""); docket.ErrorCode(err) != docket.ECONFLICT {
		t.Errorf("resolving a resolved thread = %v; want conflict", err)
	}
	if _, err := e.threads.ReopenThread(e.as["commenter"], theirs.ID); docket.ErrorCode(err) != docket.EFORBIDDEN {
		t.Errorf("commenter reopening another's thread = %v; want forbidden", err)
	}
	th, err := e.threads.ReopenThread(e.as["commenter"], mine.ID)
	if err != nil || th.Status != docket.ThreadOpen || th.ResolvedBy != "" || th.Resolution != "" {
		t.Fatalf("ReopenThread = %+v, %v", th, err)
	}
	if _, err := e.threads.ReopenThread(e.as["editor"], mine.ID); docket.ErrorCode(err) != docket.ECONFLICT {
		t.Errorf("reopening an open thread = %v; want conflict", err)
	}

	// Reading: viewers yes, outsiders see nothing.
	if _, err := e.threads.FindThread(e.as["viewer"], mine.ID); err != nil {
		t.Errorf("viewer FindThread = %v", err)
	}
	for _, id := range []string{mine.ID, "nosuchthread", "../x", ""} {
		if _, err := e.threads.FindThread(e.as["outsider"], id); docket.ErrorCode(err) != docket.ENOTFOUND {
			t.Errorf("outsider FindThread(%q) = %v; want not found", id, err)
		}
	}
	if _, err := e.threads.FindThreads(e.as["outsider"], e.doc.ID, docket.ThreadFilter{}); docket.ErrorCode(err) != docket.ENOTFOUND {
		t.Errorf("outsider FindThreads = %v; want not found", err)
	}

	// Comments: own edits only; deletes by the author or a space admin.
	c, err := e.threads.AddComment(e.as["commenter"], theirs.ID, "reply")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.threads.AddComment(e.as["viewer"], theirs.ID, "reply"); docket.ErrorCode(err) != docket.EFORBIDDEN {
		t.Errorf("viewer AddComment = %v; want forbidden", err)
	}
	for _, who := range []string{"editor", "admin", "viewer"} {
		if _, err := e.threads.UpdateComment(e.as[who], c.ID, "hijacked"); docket.ErrorCode(err) != docket.EFORBIDDEN {
			t.Errorf("UpdateComment by %s = %v; want forbidden", who, err)
		}
	}
	if _, err := e.threads.UpdateComment(e.as["outsider"], c.ID, "hijacked"); docket.ErrorCode(err) != docket.ENOTFOUND {
		t.Errorf("UpdateComment by outsider = %v; want not found", err)
	}
	for _, who := range []string{"editor", "viewer"} {
		if err := e.threads.DeleteComment(e.as[who], c.ID); docket.ErrorCode(err) != docket.EFORBIDDEN {
			t.Errorf("DeleteComment by %s = %v; want forbidden", who, err)
		}
	}
	if err := e.threads.DeleteComment(e.as["admin"], c.ID); err != nil {
		t.Errorf("DeleteComment by a space admin = %v", err)
	}
}

func TestCommentEditAndTombstone(t *testing.T) {
	e := newThreadEnv(t, "Text.")
	th := e.thread(t, "editor", nil, "first")
	c2, err := e.threads.AddComment(e.as["commenter"], th.ID, "second *draft*")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.threads.AddComment(e.as["editor"], th.ID, "third"); err != nil {
		t.Fatal(err)
	}
	up, err := e.threads.UpdateComment(e.as["commenter"], c2.ID, "second, **final**")
	if err != nil {
		t.Fatal(err)
	}
	if up.Body != "second, **final**" || !strings.Contains(up.HTML, "<strong>final</strong>") || up.EditedAt.IsZero() {
		t.Errorf("updated comment = %+v", up)
	}
	if err := e.threads.DeleteComment(e.as["commenter"], c2.ID); err != nil {
		t.Fatal(err)
	}
	if err := e.threads.DeleteComment(e.as["commenter"], c2.ID); err != nil {
		t.Errorf("deleting a tombstone again = %v; want nothing to happen", err)
	}
	got, err := e.threads.FindThread(e.as["viewer"], th.ID)
	if err != nil {
		t.Fatal(err)
	}
	var bodies []string
	for _, c := range got.Comments {
		bodies = append(bodies, fmt.Sprintf("%s:%v", c.Body, c.Deleted))
	}
	if want := "first:false|:true|third:false"; strings.Join(bodies, "|") != want {
		t.Errorf("comments = %q; want %q", bodies, want)
	}
	if tomb := got.Comments[1]; tomb.HTML != "" || tomb.AuthorID != e.ids["commenter"] || tomb.ID != c2.ID {
		t.Errorf("tombstone = %+v", tomb)
	}
	// A tombstone cannot be brought back, not even by its author.
	if _, err := e.threads.UpdateComment(e.as["commenter"], c2.ID, "undeleted"); docket.ErrorCode(err) != docket.ECONFLICT {
		t.Errorf("editing a deleted comment = %v; want conflict", err)
	}
	if _, err := e.threads.UpdateComment(e.as["editor"], c2.ID, "undeleted"); docket.ErrorCode(err) != docket.EFORBIDDEN {
		t.Errorf("editing another's deleted comment = %v; want forbidden", err)
	}
	var types []string
	for _, ev := range bolt.DocEvents(e.db, e.doc.ID) {
		if ev.ThreadID == th.ID {
			types = append(types, string(ev.Type))
		}
	}
	want := "thread.created comment.created comment.created comment.edited comment.deleted"
	if strings.Join(types, " ") != want {
		t.Errorf("events = %q; want %q", types, want)
	}
}

func TestOutdatedThread(t *testing.T) {
	e := newThreadEnv(t, "keep this, drop that.")
	drop := e.thread(t, "commenter", &docket.Anchor{Version: 1, Start: 11, End: 20}, "about dropping")
	keep := e.thread(t, "commenter", &docket.Anchor{Version: 1, Start: 0, End: 9}, "about keeping")
	e.edit(t, `[9,{"d":11}]`) // "keep this."
	for _, status := range []docket.ThreadStatus{docket.ThreadOutdated, docket.ThreadOpen} {
		list, err := e.threads.FindThreads(e.as["viewer"], e.doc.ID, docket.ThreadFilter{Status: status})
		if err != nil {
			t.Fatal(err)
		}
		want := map[docket.ThreadStatus]string{docket.ThreadOutdated: drop.ID, docket.ThreadOpen: keep.ID}[status]
		if len(list) != 1 || list[0].ID != want {
			t.Fatalf("FindThreads(%s) = %d threads; want %s only", status, len(list), want)
		}
		if status == docket.ThreadOutdated {
			if a := list[0].Anchor; a.Start != 9 || a.End != 9 || a.Quote != "drop that" || a.Version != 2 {
				t.Errorf("outdated anchor = %+v; want collapsed at 9 with its quote", a)
			}
		}
	}
	// Text typed where the quote was does not bring the thread back.
	e.edit(t, `[9," drop this"]`)
	th, err := e.threads.FindThread(e.as["viewer"], drop.ID)
	if err != nil {
		t.Fatal(err)
	}
	if th.Status != docket.ThreadOutdated || th.Anchor.Start != th.Anchor.End {
		t.Errorf("after typing at the collapsed place: %s %+v; want outdated", th.Status, th.Anchor)
	}
	// An outdated thread can be resolved; it is then resolved.
	if th, err = e.threads.ResolveThread(e.as["commenter"], drop.ID, ""); err != nil || th.Status != docket.ThreadResolved {
		t.Errorf("ResolveThread(outdated) = %v, %v", th, err)
	}
	if _, err := e.threads.FindThreads(e.as["viewer"], e.doc.ID, docket.ThreadFilter{Status: "closed"}); docket.ErrorCode(err) != docket.EINVALID {
		t.Errorf("unknown status filter = %v; want invalid", err)
	}
}

func TestMentionsAndReplies(t *testing.T) {
	e := newThreadEnv(t, "Text.")
	// ada is the site admin (a member), editor@, commenter@, viewer@ are
	// members; outsider@ is not.
	th := e.thread(t, "editor", nil, "@Viewer and @outsider, see `@admin`; cc @commenter@example.com")
	c := th.Comments[0]
	if want := []string{e.ids["viewer"], e.ids["commenter"]}; fmt.Sprint(c.Mentions) != fmt.Sprint(want) {
		t.Errorf("mentions = %v; want viewer and commenter %v", c.Mentions, want)
	}
	kinds := func(who string) string {
		var out []string
		for _, it := range bolt.InboxOf(e.db, e.ids[who]) {
			if it.DocID != e.doc.ID || it.Title != "RFC" || it.URL != "/d/"+e.doc.ID+"#t-"+th.ID || it.ThreadID != th.ID {
				t.Errorf("inbox item %+v does not link to the thread", it)
			}
			out = append(out, string(it.Kind))
		}
		return strings.Join(out, " ")
	}
	for who, want := range map[string]string{"viewer": "mention", "commenter": "mention", "outsider": "", "admin": "", "editor": ""} {
		if got := kinds(who); got != want {
			t.Errorf("inbox of %s after the thread = %q; want %q", who, got, want)
		}
	}
	if it := bolt.InboxOf(e.db, e.ids["viewer"])[0]; it.Text != "@Viewer and @outsider, see @admin; cc @commenter@example.com" {
		t.Errorf("mention excerpt = %q; want the comment as plain text", it.Text)
	}

	// A reply reaches the thread's author and earlier commenters, not the
	// one replying; a mention of someone in the thread is one item.
	if _, err := e.threads.AddComment(e.as["commenter"], th.ID, "reply one"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.threads.AddComment(e.as["admin"], th.ID, "reply two, @editor"); err != nil {
		t.Fatal(err)
	}
	for who, want := range map[string]string{
		"editor":    "reply mention", // author: reply to one, then mentioned in two
		"commenter": "mention reply", // mentioned, then a reply after their comment
		"admin":     "",
		"viewer":    "mention",
	} {
		if got := kinds(who); got != want {
			t.Errorf("inbox of %s after replies = %q; want %q", who, got, want)
		}
	}
	// Editing a comment to mention someone new notifies only them.
	cs, _ := e.threads.FindThread(e.as["admin"], th.ID)
	if _, err := e.threads.UpdateComment(e.as["admin"], cs.Comments[2].ID, "reply two, @editor and @viewer"); err != nil {
		t.Fatal(err)
	}
	if got := kinds("viewer"); got != "mention mention" {
		t.Errorf("inbox of viewer after the edit = %q; want a second mention", got)
	}
	if got := kinds("editor"); got != "reply mention" {
		t.Errorf("inbox of editor after the edit = %q; want no new item", got)
	}
}

func TestConcernRepliesReachOwner(t *testing.T) {
	e := newThreadEnv(t, "Text.") // owned by editor
	th := e.thread(t, "commenter", nil, "I am concerned.")
	if err := bolt.PutReview(e.db, &docket.Review{ID: "r1", DocID: e.doc.ID, AuthorID: e.ids["commenter"], Verdict: docket.VerdictConcern, ThreadID: th.ID}); err != nil {
		t.Fatal(err)
	}
	plain := e.thread(t, "commenter", nil, "Just a note.")
	for _, id := range []string{th.ID, plain.ID} {
		if _, err := e.threads.AddComment(e.as["admin"], id, "answer"); err != nil {
			t.Fatal(err)
		}
	}
	items := bolt.InboxOf(e.db, e.ids["editor"])
	if len(items) != 1 || items[0].Kind != docket.InboxReply || items[0].ThreadID != th.ID {
		t.Errorf("owner's inbox = %+v; want one reply on the concern", items)
	}
}

func TestDeleteDocumentDeletesThreads(t *testing.T) {
	e := newThreadEnv(t, "Text to discuss.")
	th := e.thread(t, "commenter", &docket.Anchor{Version: 1, Start: 0, End: 4}, "one")
	c, err := e.threads.AddComment(e.as["editor"], th.ID, "two")
	if err != nil {
		t.Fatal(err)
	}
	e.thread(t, "commenter", nil, "three")
	if err := e.docs.DeleteDocument(e.as["editor"], e.doc.ID); err != nil {
		t.Fatal(err)
	}
	if n := bolt.ThreadRecordCount(e.db); n != 0 {
		t.Errorf("%d thread records left after deleting the document", n)
	}
	if _, err := e.threads.FindThread(e.as["siteadmin"], th.ID); docket.ErrorCode(err) != docket.ENOTFOUND {
		t.Errorf("FindThread after delete = %v; want not found", err)
	}
	if _, err := e.threads.UpdateComment(e.as["editor"], c.ID, "x"); docket.ErrorCode(err) != docket.ENOTFOUND {
		t.Errorf("UpdateComment after delete = %v; want not found", err)
	}
}

func TestThreadEventsAndChanges(t *testing.T) {
	e := newThreadEnv(t, "Some quoted text.")
	var changes []docket.Change
	e.db.OnChange(func(ch docket.Change) {
		if ch.Kind == docket.ChangeThread {
			changes = append(changes, ch)
		}
	})
	th := e.thread(t, "commenter", &docket.Anchor{Version: 1, Start: 5, End: 16}, "A *long* remark "+strings.Repeat("blah ", 100))
	if _, err := e.threads.ResolveThread(e.as["editor"], th.ID, "Settled in the call."); err != nil {
		t.Fatal(err)
	}
	if _, err := e.threads.ReopenThread(e.as["editor"], th.ID); err != nil {
		t.Fatal(err)
	}
	// A refused change records nothing.
	if _, err := e.threads.ReopenThread(e.as["editor"], th.ID); err == nil {
		t.Fatal("reopening an open thread succeeded")
	}
	evs := bolt.DocEvents(e.db, e.doc.ID)
	evs = evs[len(evs)-3:]
	var data []map[string]string
	for _, ev := range evs {
		var m map[string]string
		json.Unmarshal(ev.Data, &m)
		data = append(data, m)
		if ev.ThreadID != th.ID || ev.SpaceID != e.doc.SpaceID || ev.Title != "RFC" || ev.Seq == 0 {
			t.Errorf("event %+v", ev)
		}
	}
	if evs[0].Type != docket.EventThreadCreated || evs[1].Type != docket.EventThreadResolved || evs[2].Type != docket.EventThreadReopened {
		t.Errorf("event types = %s %s %s", evs[0].Type, evs[1].Type, evs[2].Type)
	}
	if ex := data[0]["excerpt"]; !strings.HasPrefix(ex, "A long remark blah") || len([]rune(ex)) > 200 || !strings.HasSuffix(ex, "…") {
		t.Errorf("excerpt = %q; want plain text of at most 200 characters", ex)
	}
	if data[0]["quote"] != "quoted text" || data[1]["note"] != "Settled in the call." {
		t.Errorf("event data = %v", data)
	}
	if len(changes) != 3 || changes[0].ThreadID != th.ID || changes[0].CommentID == "" || changes[0].DocID != e.doc.ID {
		t.Errorf("changes = %+v; want 3 thread changes", changes)
	}
}

// TestAnchorsFollowEdits edits a document at random, around, inside and
// across anchored ranges, and checks every thread against a model that
// tracks characters by identity: each character has a unique tag, the
// tags in a thread's range when it was made are in the range, a character
// inserted between two characters of the range joins it, and nothing else
// does. After every batch of edits a thread's range must cover exactly the
// characters in its set, and the thread must be outdated iff none is left.
func TestAnchorsFollowEdits(t *testing.T) {
	const edits = 400
	e := newThreadEnv(t, "Anchors 🦊 follow the text: "+strings.Repeat("lorem ipsum 😀 dolor ", 5))
	e.threads.MoveCacheAfter = 3
	uncached := bolt.NewThreadService(e.db, markdown.New(markdown.Options{}), nil)
	uncached.MoveCacheAfter = -1
	rng := rand.New(rand.NewPCG(42, 7))

	// The model: the tags of the text at every version, and every op as
	// steps applied in order.
	type step struct {
		skip int
		ins  []int // tags of inserted characters
		del  int
	}
	nextTag := 0
	newTags := func(n int) []int {
		out := make([]int, n)
		for i := range out {
			out[i] = nextTag
			nextTag++
		}
		return out
	}
	text := []rune(e.doc.Body)
	tags := [][]int{nil, newTags(len(text))} // by version
	var steps [][]step                       // steps[v] turns version v into v+1
	steps = append(steps, nil)               // version 0 -> 1: the creation
	type modelThread struct {
		id      string
		version int64
		set     map[int]bool
		quote   string
	}
	var threads []*modelThread
	texts := []string{"", string(text)}

	addThread := func() {
		v := int64(1 + rng.IntN(len(tags)-1))
		n := len(tags[v])
		if n < 2 {
			return
		}
		start := rng.IntN(n - 1)
		end := start + 1 + rng.IntN(min(30, n-start))
		th := e.thread(t, "commenter", &docket.Anchor{Version: v, Start: start, End: end}, "thread")
		set := map[int]bool{}
		for _, tag := range tags[v][start:end] {
			set[tag] = true
		}
		q := runeSlice(texts[v], start, end)
		if th.Comments[0].Body != "thread" {
			t.Fatalf("thread comment = %q", th.Comments[0].Body)
		}
		threads = append(threads, &modelThread{id: th.ID, version: v, set: set, quote: q})
	}
	// expect replays a thread's set from its version to the current one.
	expect := func(mt *modelThread) (start, end int, outdated bool) {
		cur := append([]int(nil), tags[mt.version]...)
		set := map[int]bool{}
		for k := range mt.set {
			set[k] = true
		}
		for v := mt.version; v < int64(len(tags)-1); v++ {
			at := 0
			for _, st := range steps[v] {
				at += st.skip
				if len(st.ins) > 0 {
					inside := at > 0 && at < len(cur) && set[cur[at-1]] && set[cur[at]]
					cur = append(cur[:at], append(append([]int(nil), st.ins...), cur[at:]...)...)
					for _, tag := range st.ins {
						set[tag] = inside
					}
					at += len(st.ins)
				}
				if st.del > 0 {
					for _, tag := range cur[at : at+st.del] {
						delete(set, tag)
					}
					cur = append(cur[:at], cur[at+st.del:]...)
				}
			}
		}
		if !slices.Equal(cur, tags[len(tags)-1]) {
			t.Fatalf("model replay of thread %s diverged", mt.id)
		}
		start, end = -1, -1
		for i, tag := range cur {
			if set[tag] {
				if start < 0 {
					start = i
				} else if end != i {
					t.Fatalf("model: range of thread %s is not contiguous", mt.id)
				}
				end = i + 1
			}
		}
		return start, end, start < 0
	}
	openChecked := 0
	check := func(when string) {
		t.Helper()
		cur := texts[len(texts)-1]
		version := int64(len(tags) - 1)
		for _, svc := range []*bolt.ThreadService{e.threads, uncached} {
			list, err := svc.FindThreads(e.as["viewer"], e.doc.ID, docket.ThreadFilter{})
			if err != nil {
				t.Fatal(err)
			}
			if len(list) != len(threads) {
				t.Fatalf("%s: %d threads; want %d", when, len(list), len(threads))
			}
			for i, th := range list {
				mt := threads[i]
				a := th.Anchor
				if th.ID != mt.id || a.Version != version || a.Quote != mt.quote {
					t.Fatalf("%s: thread %d = %s %+v; want %s at version %d quoting %q", when, i, th.ID, a, mt.id, version, mt.quote)
				}
				start, end, outdated := expect(mt)
				if outdated {
					if th.Status != docket.ThreadOutdated || a.Start != a.End {
						t.Fatalf("%s: thread %s (quote %q) = %s %+v; want outdated", when, mt.id, mt.quote, th.Status, a)
					}
					continue
				}
				openChecked++
				if th.Status != docket.ThreadOpen || a.Start != start || a.End != end {
					t.Fatalf("%s: thread %s (quote %q made at %d) = %s [%d, %d) %q; want open [%d, %d) %q", when, mt.id, mt.quote, mt.version,
						th.Status, a.Start, a.End, runeSlice(cur, a.Start, a.End), start, end, runeSlice(cur, start, end))
				}
			}
		}
	}

	for range 6 {
		addThread()
	}
	alphabet := []string{"a", "Z", " ", "😀", "🦊", "中", "é", "\n", "xy"}
	outdated := 0
	for i := range edits {
		cur := tags[len(tags)-1]
		n := len(cur)
		// Aim at a boundary of some thread's current range, or anywhere.
		var pos int
		if mt := threads[rng.IntN(len(threads))]; rng.IntN(4) > 0 {
			s, end, _ := expect(mt)
			if s < 0 {
				pos = rng.IntN(n + 1)
			} else {
				pos = []int{s - 1, s, s + 1, end - 1, end, end + 1, s + rng.IntN(end-s+1)}[rng.IntN(7)]
			}
		} else {
			pos = rng.IntN(n + 1)
		}
		pos = max(0, min(pos, n))
		var op []any
		var st []step
		if pos > 0 {
			op = append(op, pos)
		}
		insert := func() {
			s := ""
			for range 1 + rng.IntN(3) {
				s += alphabet[rng.IntN(len(alphabet))]
			}
			op = append(op, s)
			st = append(st, step{ins: newTags(len([]rune(s)))})
		}
		del := func() {
			if left := n - pos; left > 0 {
				d := 1 + rng.IntN(min(left, []int{1, 2, 4, 12}[rng.IntN(4)]))
				op = append(op, map[string]int{"d": d})
				st = append(st, step{del: d})
			}
		}
		switch k := rng.IntN(10); {
		case n < 60 || k < 5:
			insert()
		case k < 7:
			del()
		case k < 9:
			insert()
			del()
		default:
			del()
			insert()
		}
		if len(st) == 0 {
			continue
		}
		st[0].skip = pos
		raw, _ := json.Marshal(op)
		d := e.edit(t, string(raw))
		if d.Version == int64(len(tags)-1) {
			continue // the edit changed nothing and was not stored
		}
		// Apply the steps to the model's tags and check the text.
		next := append([]int(nil), cur...)
		at := 0
		for _, s := range st {
			at += s.skip
			next = append(next[:at], append(append([]int(nil), s.ins...), next[at:]...)...)
			at += len(s.ins)
			next = append(next[:at], next[at+s.del:]...)
		}
		if len(next) != len([]rune(d.Body)) {
			t.Fatalf("edit %d %s: model has %d characters; the document %d", i, raw, len(next), len([]rune(d.Body)))
		}
		tags = append(tags, next)
		steps = append(steps, st)
		texts = append(texts, d.Body)
		if rng.IntN(12) == 0 {
			addThread()
		}
		if i%40 == 39 {
			check(fmt.Sprintf("after edit %d", i))
		}
	}
	check("at the end")
	for _, mt := range threads {
		if _, _, o := expect(mt); o {
			outdated++
		}
	}
	if outdated == 0 || outdated == len(threads) || openChecked < 100 {
		t.Errorf("%d of %d threads outdated, %d open ranges checked; the edits should outdate some, not all", outdated, len(threads), openChecked)
	}
	t.Logf("%d threads, %d outdated, %d open ranges checked, %d versions", len(threads), outdated, openChecked, len(tags)-1)
}

func TestMentionsInQuotesAndOfNonMembers(t *testing.T) {
	e := newThreadEnv(t, "Text.")
	th := e.thread(t, "editor", nil, "@viewer, what do you think?")
	if len(th.Warnings) != 0 {
		t.Errorf("warnings of a member's mention = %+v; want none", th.Warnings)
	}
	// A reply quoting the mention does not notify the viewer again, and
	// its excerpt is what the reply says.
	c, err := e.threads.AddComment(e.as["commenter"], th.ID, "> @viewer, what do you think?\n\nI think `@viewer` is away; @outsider knows, ask @nobody.")
	if err != nil {
		t.Fatal(err)
	}
	var mentions []string
	for _, it := range bolt.InboxOf(e.db, e.ids["viewer"]) {
		mentions = append(mentions, string(it.Kind))
	}
	if got, want := strings.Join(mentions, " "), "mention"; got != want {
		t.Errorf("viewer's inbox = %q; want %q (the quote does not notify again)", got, want)
	}
	items := bolt.InboxOf(e.db, e.ids["editor"])
	if len(items) != 1 || items[0].Text != "I think @viewer is away; @outsider knows, ask @nobody." {
		t.Errorf("editor's inbox = %+v; want one reply whose excerpt leaves the quote out", items)
	}
	// @outsider is a user who cannot read the space: the comment is saved
	// with a warning; @nobody is no one and is ignored.
	want := []docket.Warning{{Code: docket.WarnMentionNotMember, User: "outsider", Message: "@outsider cannot read this space and was not notified; invite?"}}
	if fmt.Sprint(c.Warnings) != fmt.Sprint(want) {
		t.Errorf("warnings = %+v; want %+v", c.Warnings, want)
	}
	if len(bolt.InboxOf(e.db, e.ids["outsider"])) != 0 {
		t.Error("the outsider got an inbox item")
	}
	// Warnings are in the answer only, never stored.
	got, err := e.threads.FindThread(e.as["editor"], th.ID)
	if err != nil {
		t.Fatal(err)
	}
	if w := got.Comments[1].Warnings; len(w) != 0 || got.Comments[1].Body == "" {
		t.Errorf("stored comment = %+v; want the body without warnings", got.Comments[1])
	}
	// The whole address works too, and so does a new thread.
	th2 := e.thread(t, "editor", nil, "cc @outsider@example.com")
	if len(th2.Warnings) != 1 || th2.Warnings[0].User != "outsider@example.com" || len(th2.Comments[0].Warnings) != 1 {
		t.Errorf("thread warnings = %+v", th2.Warnings)
	}
	// Editing a comment says it again.
	c, err = e.threads.UpdateComment(e.as["commenter"], c.ID, "@outsider, please")
	if err != nil || len(c.Warnings) != 1 {
		t.Errorf("UpdateComment = %+v, %v; want one warning", c, err)
	}
}
