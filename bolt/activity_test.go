package bolt

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	docket "github.com/docket-dev/docket"
	"github.com/docket-dev/docket/internal/testenv"
	"github.com/docket-dev/docket/kv"
	"github.com/google/go-cmp/cmp"
)

// summary renders events as "type title" lines, in the order given.
func summary(events []*docket.Event) []string {
	out := []string{}
	for _, ev := range events {
		out = append(out, string(ev.Type)+" "+ev.Title)
	}
	return out
}

func TestFindEventsOnlyReadable(t *testing.T) {
	f := newFixture(t)
	events := NewEventService(f.db)
	ada, bob, cy := f.user("ada"), f.user("bob"), f.user("cy")
	eng := f.space(ada, "eng")
	f.member(ada, eng, bob, docket.RoleViewer)
	f.space(ada, "priv")
	f.space(cy, "ops")

	d1 := f.doc(ada, "eng", "Plan")
	title := "Plan B"
	if _, err := f.docs.UpdateDocument(ada, d1.ID, docket.DocumentUpdate{Title: &title}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.docs.UpdateDocument(ada, d1.ID, docket.DocumentUpdate{Title: &title}); err != nil {
		t.Fatal(err) // no change: no event
	}
	text := "new text"
	if _, err := f.docs.EditDocument(ada, d1.ID, docket.Edit{Version: 1, Body: &text}); err != nil {
		t.Fatal(err)
	}
	d2 := f.doc(ada, "priv", "Secret")
	d3 := f.doc(cy, "ops", "Runbook")

	find := func(ctx context.Context, filter docket.EventFilter) []string {
		t.Helper()
		got, err := events.FindEvents(ctx, filter)
		if err != nil {
			t.Fatalf("FindEvents(%+v): %v", filter, err)
		}
		return summary(got)
	}

	for _, tc := range []struct {
		name   string
		ctx    context.Context
		filter docket.EventFilter
		want   []string
	}{
		{"viewer sees own space only", bob, docket.EventFilter{}, []string{"doc.edited Plan B", "doc.updated Plan B", "doc.created Plan"}},
		{"by space", bob, docket.EventFilter{Space: "eng"}, []string{"doc.edited Plan B", "doc.updated Plan B", "doc.created Plan"}},
		{"by doc", bob, docket.EventFilter{DocID: d1.ID}, []string{"doc.edited Plan B", "doc.updated Plan B", "doc.created Plan"}},
		{"after, oldest first", bob, docket.EventFilter{After: 1}, []string{"doc.updated Plan B", "doc.edited Plan B"}},
		{"limit", bob, docket.EventFilter{Limit: 1}, []string{"doc.edited Plan B"}},
		{"before pages back", bob, docket.EventFilter{Before: 3, Limit: 1}, []string{"doc.updated Plan B"}},
		{"member of two", ada, docket.EventFilter{}, []string{"doc.created Secret", "doc.edited Plan B", "doc.updated Plan B", "doc.created Plan"}},
		{"other's space", cy, docket.EventFilter{}, []string{"doc.created Runbook"}},
		{"site admin sees all", f.root, docket.EventFilter{}, []string{"doc.created Runbook", "doc.created Secret", "doc.edited Plan B", "doc.updated Plan B", "doc.created Plan"}},
		{"site admin after", f.root, docket.EventFilter{After: 3, Limit: 1}, []string{"doc.created Secret"}},
		{"site admin before", f.root, docket.EventFilter{Before: 4}, []string{"doc.edited Plan B", "doc.updated Plan B", "doc.created Plan"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, find(tc.ctx, tc.filter)); diff != "" {
				t.Errorf("events (-want +got):\n%s", diff)
			}
		})
	}

	for _, tc := range []struct {
		name   string
		ctx    context.Context
		filter docket.EventFilter
		code   string
	}{
		{"unreadable space", bob, docket.EventFilter{Space: "priv"}, docket.ENOTFOUND},
		{"unreadable doc", bob, docket.EventFilter{DocID: d2.ID}, docket.ENOTFOUND},
		{"other's doc", ada, docket.EventFilter{DocID: d3.ID}, docket.ENOTFOUND},
		{"doc of another space", ada, docket.EventFilter{Space: "eng", DocID: d2.ID}, docket.ENOTFOUND},
		{"bad doc id", bob, docket.EventFilter{DocID: "../x"}, docket.ENOTFOUND},
		{"negative after", bob, docket.EventFilter{After: -1}, docket.EINVALID},
		{"after and before", bob, docket.EventFilter{After: 1, Before: 3}, docket.EINVALID},
		{"negative limit", bob, docket.EventFilter{Limit: -1}, docket.EINVALID},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := events.FindEvents(tc.ctx, tc.filter)
			wantCode(t, "FindEvents", err, tc.code)
		})
	}

	// A deleted document's events are read through its space only.
	if err := f.docs.DeleteDocument(ada, d1.ID); err != nil {
		t.Fatal(err)
	}
	_, err := events.FindEvents(bob, docket.EventFilter{DocID: d1.ID})
	wantCode(t, "events of a deleted document", err, docket.ENOTFOUND)
	want := []string{"doc.deleted Plan B", "doc.edited Plan B", "doc.updated Plan B", "doc.created Plan"}
	if diff := cmp.Diff(want, find(bob, docket.EventFilter{Space: eng})); diff != "" {
		t.Errorf("space events after delete (-want +got):\n%s", diff)
	}

	// Leaving a space takes its events out of one's feed.
	if err := f.spaces.RemoveMember(ada, eng, docket.UserIDFromContext(bob)); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{}, find(bob, docket.EventFilter{})); diff != "" {
		t.Errorf("feed after removal (-want +got):\n%s", diff)
	}
	_, err = events.FindEvents(bob, docket.EventFilter{Space: eng})
	wantCode(t, "space after removal", err, docket.ENOTFOUND)
}

func TestFindEventsPageCap(t *testing.T) {
	f := newFixture(t)
	ada := f.user("ada")
	eng := f.space(ada, "eng")
	f.write(func(tx kv.Tx) error {
		for range docket.MaxEventsPage + 20 {
			if err := f.db.appendEvent(ada, tx, &docket.Event{Type: docket.EventDocUpdated, SpaceID: eng}); err != nil {
				return err
			}
		}
		return nil
	})
	got, err := NewEventService(f.db).FindEvents(ada, docket.EventFilter{Limit: 10_000})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != docket.MaxEventsPage || got[0].Seq != docket.MaxEventsPage+20 {
		t.Fatalf("got %d events from seq %d; want %d from %d", len(got), got[0].Seq, docket.MaxEventsPage, docket.MaxEventsPage+20)
	}
	got, err = NewEventService(f.db).FindEvents(ada, docket.EventFilter{})
	if err != nil || len(got) != defaultEventsPage {
		t.Fatalf("default page: %d events, %v; want %d", len(got), err, defaultEventsPage)
	}
}

func TestDocumentChangesAndSessions(t *testing.T) {
	f := newFixture(t)
	var changes testenv.Collector[docket.ChangeKind]
	f.db.OnChange(func(c docket.Change) { changes.Add(c.Kind) })
	ada := f.user("ada")
	f.space(ada, "eng")
	d := f.doc(ada, "eng", "Notes")
	tags := []string{"x"}
	if _, err := f.docs.UpdateDocument(ada, d.ID, docket.DocumentUpdate{Tags: &tags}); err != nil {
		t.Fatal(err)
	}
	// A failed edit notifies nothing.
	text := "v2"
	if _, err := f.docs.EditDocument(ada, d.ID, docket.Edit{Version: 7, Body: &text}); docket.ErrorCode(err) != docket.ECONFLICT {
		t.Fatalf("stale edit: %v", err)
	}
	if _, err := f.docs.EditDocument(ada, d.ID, docket.Edit{Version: 1, Body: &text}); err != nil {
		t.Fatal(err)
	}
	live := NewLiveStore(f.db)
	commits := []docket.OpCommit{
		{DocID: d.ID, Rec: docket.OpRecord{Version: 2, Op: json.RawMessage(`[2,"a"]`)}, Text: "v2a"},
		{DocID: d.ID, Rec: docket.OpRecord{Version: 3, Op: json.RawMessage(`[3,"b"]`)}, Text: "v2ab"},
	}
	if err := live.CommitOps(ada, commits); err != nil {
		t.Fatal(err)
	}

	recordings := NewRecordingService(f.db)
	start := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	rec := &docket.Recording{DocID: d.ID, StartedAt: start, StartVersion: 2, EndVersion: 4,
		Participants: []docket.RecordingParticipant{{UserID: docket.UserIDFromContext(ada), JoinedAt: start, Ops: 2}}}
	for _, end := range []time.Time{{}, start.Add(time.Hour), start.Add(2 * time.Hour)} {
		rec.EndedAt = end
		if err := recordings.SaveRecording(ada, rec); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.docs.DeleteDocument(ada, d.ID); err != nil {
		t.Fatal(err)
	}

	wantChanges := []docket.ChangeKind{docket.ChangeText, docket.ChangeMeta, docket.ChangeText, docket.ChangeText, docket.ChangeDeleted}
	if diff := cmp.Diff(wantChanges, changes.Got()); diff != "" {
		t.Errorf("changes (-want +got):\n%s", diff)
	}

	got, err := NewEventService(f.db).FindEvents(ada, docket.EventFilter{After: 0, Space: "eng"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"doc.deleted Notes", "session.ended Notes", "doc.edited Notes", "doc.updated Notes", "doc.created Notes"}
	if diff := cmp.Diff(want, summary(got)); diff != "" {
		t.Fatalf("events (-want +got):\n%s", diff)
	}
	datas := []string{}
	for _, ev := range got {
		datas = append(datas, string(ev.Data))
	}
	uid := docket.UserIDFromContext(ada)
	wantData := []string{"", `{"endVersion":4,"participants":["` + uid + `"],"startVersion":2}`, `{"version":2}`, `{"tags":["x"]}`, `{"kind":"page"}`}
	if diff := cmp.Diff(wantData, datas); diff != "" {
		t.Errorf("event data (-want +got):\n%s", diff)
	}
	if got[1].Time != start.Add(time.Hour) || got[0].ActorID != uid || !strings.HasPrefix(got[0].Time.Format(time.RFC3339), "20") {
		t.Errorf("session.ended at %v, delete by %q", got[1].Time, got[0].ActorID)
	}
	// The per-document index went with the document.
	f.write(func(tx kv.Tx) error {
		for seq := range prefixed(tx.Bucket(bucketDocEvents), d.ID) {
			t.Errorf("doc_events entry %q left after delete", pair(d.ID, string(seq)))
		}
		return nil
	})
}

// TestOnEvent checks that event watchers get each committed event with
// its sequence number, the same as the log, and nothing for a change
// that failed.
func TestOnEvent(t *testing.T) {
	f := newFixture(t)
	var events testenv.Collector[docket.Event]
	f.db.OnEvent(events.Add)
	ada := f.user("ada")
	f.space(ada, "eng")
	d := f.doc(ada, "eng", "Notes")
	text := "v2"
	if _, err := f.docs.EditDocument(ada, d.ID, docket.Edit{Version: 7, Body: &text}); docket.ErrorCode(err) != docket.ECONFLICT {
		t.Fatalf("stale edit: %v", err)
	}
	tags := []string{"x"}
	if _, err := f.docs.UpdateDocument(ada, d.ID, docket.DocumentUpdate{Tags: &tags}); err != nil {
		t.Fatal(err)
	}
	logged, err := NewEventService(f.db).FindEvents(ada, docket.EventFilter{DocID: d.ID, After: 0, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	var gotSeqs, wantSeqs []string
	for _, ev := range events.Got() {
		gotSeqs = append(gotSeqs, fmt.Sprintf("%d %s %s", ev.Seq, ev.Type, ev.DocID))
	}
	for i := len(logged) - 1; i >= 0; i-- { // newest first without a cursor
		ev := logged[i]
		wantSeqs = append(wantSeqs, fmt.Sprintf("%d %s %s", ev.Seq, ev.Type, ev.DocID))
	}
	if diff := cmp.Diff(wantSeqs, gotSeqs); diff != "" {
		t.Errorf("events seen (-log +watcher):\n%s", diff)
	}
	if len(gotSeqs) != 2 {
		t.Errorf("watcher saw %d events; want doc.created and doc.updated", len(gotSeqs))
	}
}
