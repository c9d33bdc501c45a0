package collab_test

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	docket "github.com/docket-dev/docket"
	"github.com/docket-dev/docket/bolt"
	"github.com/docket-dev/docket/collab"
	"github.com/docket-dev/docket/collab/ot"
	"github.com/docket-dev/docket/internal/testenv"
)

// pending holds events taken from a subscriber but not yet looked at.
var pending = map[*collab.Subscriber][]collab.Event{}

func nextEvent(t *testing.T, s *collab.Subscriber) collab.Event {
	t.Helper()
	for len(pending[s]) == 0 {
		select {
		case <-s.Ready():
			pending[s] = append(pending[s], s.Take()...)
		case <-time.After(5 * time.Second):
			t.Fatal("no event")
		}
	}
	ev := pending[s][0]
	pending[s] = pending[s][1:]
	return ev
}

// wantDropped fails the test unless the hub has dropped s; what describes
// s.
func wantDropped(t *testing.T, s *collab.Subscriber, what string) {
	t.Helper()
	select {
	case <-s.Dropped():
	default:
		t.Fatalf("%s was not dropped", what)
	}
}

func TestSubscribersGetOthersOpsInOrder(t *testing.T) {
	f := newFixture(t)
	h, id := f.hubWithDoc(t, "abc")
	alice := collab.NewSubscriber("alice", "u1", 16)
	bob := collab.NewSubscriber("bob", "u2", 16)
	v, text, _, err := h.Subscribe(f.ctx, id, alice, -1)
	if err != nil || v != 1 || text != "abc" {
		t.Fatalf("Subscribe = %d %q %v", v, text, err)
	}
	if _, _, _, err := h.Subscribe(f.ctx, id, bob, -1); err != nil {
		t.Fatal(err)
	}
	for i, src := range []string{"alice", "bob", "alice"} {
		if _, err := h.Submit(f.ctx, id, collab.Submission{Version: -1, Op: ot.InsertAt(0, "x"), Src: src, Seq: int64(i + 1)}); err != nil {
			t.Fatal(err)
		}
	}
	// Alice sees only Bob's op; Bob sees Alice's two, in order.
	if ev := nextEvent(t, alice); ev.Op.Src != "bob" || ev.Op.Version != 2 {
		t.Fatalf("alice got %+v", ev.Op)
	}
	for _, want := range []int64{1, 3} {
		if ev := nextEvent(t, bob); ev.Op.Src != "alice" || ev.Op.Version != want {
			t.Fatalf("bob got %+v; want alice's op at %d", ev.Op, want)
		}
	}
	if evs := append(pending[alice], alice.Take()...); len(evs) > 0 {
		t.Fatalf("alice got her own op echoed: %+v", evs[0].Op)
	}
	// A resubscription from an old version gets the ops it missed.
	late := collab.NewSubscriber("late", "u3", 16)
	v, _, ops, err := h.Subscribe(f.ctx, id, late, 2)
	if err != nil || v != 4 || len(ops) != 2 || ops[0].Version != 2 {
		t.Fatalf("catch-up = v%d %d ops %v", v, len(ops), err)
	}
	if _, _, _, err := h.Subscribe(f.ctx, id, late, 9); err == nil {
		t.Fatal("subscribe from a future version succeeded")
	}
}

func TestSlowSubscriberDropped(t *testing.T) {
	f := newFixture(t)
	h, id := f.hubWithDoc(t, "")
	slow := collab.NewSubscriber("slow", "u", 2)
	h.Subscribe(f.ctx, id, slow, -1)
	start := time.Now()
	for i := 0; i < 20; i++ {
		if _, err := h.Submit(f.ctx, id, collab.Submission{Version: -1, Op: ot.InsertAt(0, "x"), Src: "fast", Seq: int64(i + 1)}); err != nil {
			t.Fatal(err)
		}
	}
	wantDropped(t, slow, "a subscriber that never reads")
	if time.Since(start) > 10*time.Second {
		t.Fatal("the slow subscriber slowed the writer down")
	}
}

// A burst of ops submitted at once at the same version is committed in
// groups and delivered to each subscriber as a group: every subscriber
// gets every other agent's op exactly once, in version order, never its
// own; one whose queue cannot take a whole group is dropped.
func TestBurstDeliveredOnceInOrder(t *testing.T) {
	f := newFixture(t)
	h, id := f.hubWithDoc(t, "")
	const n = 20
	subs := make([]*collab.Subscriber, n)
	for i := range subs {
		subs[i] = collab.NewSubscriber(fmt.Sprintf("c%d", i), "u", 4*n)
		if _, _, _, err := h.Subscribe(f.ctx, id, subs[i], -1); err != nil {
			t.Fatal(err)
		}
	}
	tiny := collab.NewSubscriber("tiny", "u", 1)
	if _, _, _, err := h.Subscribe(f.ctx, id, tiny, -1); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range subs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			if _, err := h.Submit(f.ctx, id, collab.Submission{Version: 1, Op: ot.InsertAt(0, "x"), Src: fmt.Sprintf("c%d", i), Seq: 1}); err != nil {
				t.Error(err)
			}
		}()
	}
	close(start)
	wg.Wait()
	for i, s := range subs {
		var got []int64
		for len(got) < n-1 {
			ev := nextEvent(t, s)
			if ev.Op.Src == s.Src {
				t.Fatalf("%s got its own op", s.Src)
			}
			got = append(got, ev.Op.Version)
		}
		increasing := true
		for j := 1; j < len(got); j++ {
			increasing = increasing && got[j] > got[j-1]
		}
		if !increasing || got[0] < 1 || got[n-2] > n {
			t.Fatalf("subscriber %d got versions %v", i, got)
		}
		if evs := append(pending[s], s.Take()...); len(evs) > 0 {
			t.Fatalf("subscriber %d got %d more events", i, len(evs))
		}
	}
	// A queue of one event that is never read overflows at the second.
	wantDropped(t, tiny, "a subscriber whose queue overflowed")
}

func TestPresenceMovesWithOps(t *testing.T) {
	f := newFixture(t)
	h, id := f.hubWithDoc(t, "hello")
	alice := collab.NewSubscriber("alice", "u1", 16)
	bob := collab.NewSubscriber("bob", "u2", 16)
	h.Subscribe(f.ctx, id, alice, -1)
	h.SubscribePresence(f.ctx, id, alice)
	h.SubscribePresence(f.ctx, id, bob)
	if ev := nextEvent(t, alice); !ev.PresenceRequest {
		t.Fatalf("alice got %+v; want a presence request when bob joined", ev)
	}
	// Bob's cursor at version 1, position 5; meanwhile "XY" is inserted at 0.
	if _, err := h.Submit(f.ctx, id, collab.Submission{Version: 1, Op: ot.InsertAt(0, "XY"), Src: "carol", Seq: 1}); err != nil {
		t.Fatal(err)
	}
	nextEvent(t, alice) // carol's op
	out, err := h.SubmitPresence(f.ctx, id, collab.Presence{Src: "bob", ID: "cursor", Version: 1, Value: json.RawMessage(`{"anchor":5,"head":2,"name":"Bob"}`)})
	if err != nil {
		t.Fatal(err)
	}
	ev := nextEvent(t, alice)
	if ev.Presence == nil || ev.Presence.Version != 2 {
		t.Fatalf("alice got %+v", ev)
	}
	var got map[string]any
	json.Unmarshal(ev.Presence.Value, &got)
	if got["anchor"] != float64(7) || got["head"] != float64(4) || got["name"] != "Bob" {
		t.Fatalf("presence = %s; want anchor 7, head 4", ev.Presence.Value)
	}
	if out.Version != 2 {
		t.Fatalf("relayed version = %d", out.Version)
	}
	// Bob leaves: alice is told his cursor is gone.
	h.UnsubscribePresence(id, bob)
	ev = nextEvent(t, alice)
	if ev.Presence == nil || string(ev.Presence.Value) != "null" || ev.Presence.ID != "cursor" {
		t.Fatalf("after leave alice got %+v", ev.Presence)
	}
}

func TestLiveSessionRecorded(t *testing.T) {
	f := newFixture(t)
	id := f.newDoc(t, "notes")
	recordings := bolt.NewRecordingService(f.db)
	h := collab.New(f.log, collab.Options{Recordings: recordings, RecordingGrace: 50 * time.Millisecond})
	t.Cleanup(h.Close)
	alice := collab.NewSubscriber("a1", "alice", 64)
	bob := collab.NewSubscriber("b1", "bob", 64)
	h.Subscribe(f.ctx, id, alice, -1)
	h.Subscribe(f.ctx, id, bob, -1)
	for i := 0; i < 3; i++ {
		if _, err := h.Submit(f.ctx, id, collab.Submission{Version: -1, Op: ot.InsertAt(0, "x"), Src: "a1", Seq: int64(i + 1), Author: "alice"}); err != nil {
			t.Fatal(err)
		}
	}
	h.Submit(f.ctx, id, collab.Submission{Version: -1, Op: ot.InsertAt(0, "y"), Src: "b1", Seq: 1, Author: "bob"})
	h.Unsubscribe(id, bob)
	// Bob comes back within the grace period: the same recording goes on.
	h.Subscribe(f.ctx, id, bob, -1)
	h.Unsubscribe(id, alice)
	h.Unsubscribe(id, bob)
	var list []*docket.Recording
	if !testenv.Eventually(5*time.Second, func() bool {
		var err error
		if list, err = recordings.FindRecordings(f.ctx, id); err != nil {
			t.Fatal(err)
		}
		return len(list) == 1 && !list[0].EndedAt.IsZero()
	}) {
		t.Fatalf("recordings = %+v; want one ended recording", list)
	}
	s := list[0]
	if s.StartVersion != 1 || s.EndVersion != 5 || len(s.Participants) != 2 {
		t.Fatalf("recording = %+v", s)
	}
	for _, p := range s.Participants {
		want := map[string][2]int{"alice": {1, 3}, "bob": {2, 1}}[p.UserID]
		if p.Joins != want[0] || p.Ops != want[1] || p.LeftAt.IsZero() {
			t.Errorf("participant %+v; want joins %d ops %d", p, want[0], want[1])
		}
	}
}

// TestForgetDeleted: a document deleted while people have it open lets its
// subscribers go with a Gone event, drops its recording instead of saving
// it against a document that is not there, and unloads; nothing is logged
// as an error.
func TestForgetDeleted(t *testing.T) {
	f := newFixture(t)
	id := f.newDoc(t, "abc")
	var logs testenv.Buffer
	h := collab.New(f.log, collab.Options{
		RecentOps: 20, IdleTimeout: 20 * time.Millisecond,
		Logger:     slog.New(slog.NewTextHandler(&logs, nil)),
		Recordings: bolt.NewRecordingService(f.db), RecordingSave: time.Millisecond,
	})
	alice := collab.NewSubscriber("alice", "u1", 16)
	if _, _, _, err := h.Subscribe(f.ctx, id, alice, -1); err != nil {
		t.Fatal(err)
	}
	if err := h.SubscribePresence(f.ctx, id, alice); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Submit(f.ctx, id, collab.Submission{Version: -1, Op: ot.InsertAt(0, "x"), Src: "alice", Seq: 1, Author: "u1"}); err != nil {
		t.Fatal(err)
	}
	if err := f.docs.DeleteDocument(f.ctx, id); err != nil {
		t.Fatal(err)
	}
	h.Forget(id)
	if ev := nextEvent(t, alice); !ev.Gone || ev.DocID != id {
		t.Fatalf("event = %+v; want Gone", ev)
	}
	testenv.WaitFor(t, 5*time.Second, "the deleted document to unload", func() bool { return h.OpenDocuments() == 0 })
	h.Forget(id) // not loaded: nothing happens
	h.Close()
	if strings.Contains(logs.String(), "level=ERROR") {
		t.Fatalf("errors logged:\n%s", logs.String())
	}
}
