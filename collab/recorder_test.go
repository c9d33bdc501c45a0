package collab_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	docket "github.com/docket-dev/docket"
	"github.com/docket-dev/docket/collab"
	"github.com/docket-dev/docket/collab/ot"
	"github.com/docket-dev/docket/internal/testenv"
)

// gatedRecordings is a RecordingService whose saves wait for a token, as
// on a disk that is slow to sync. Each save shows its state on entered
// before it waits.
type gatedRecordings struct {
	entered chan docket.Recording
	release chan struct{} // one token per save; closed: no more waiting

	mu    sync.Mutex
	n     int
	saved []docket.Recording
}

func newGatedRecordings() *gatedRecordings {
	return &gatedRecordings{entered: make(chan docket.Recording, 16), release: make(chan struct{})}
}

func (g *gatedRecordings) SaveRecording(ctx context.Context, r *docket.Recording) error {
	c := *r
	c.Participants = slices.Clone(r.Participants)
	g.entered <- c
	select {
	case <-g.release:
	case <-ctx.Done():
		return ctx.Err()
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if r.ID == "" {
		g.n++
		r.ID = fmt.Sprintf("rec%d", g.n)
	}
	c.ID = r.ID
	g.saved = append(g.saved, c)
	return nil
}

func (g *gatedRecordings) FindRecordings(ctx context.Context, docID string) ([]*docket.Recording, error) {
	return nil, nil
}

// next returns the state of the save that started next.
func (g *gatedRecordings) next(t *testing.T) docket.Recording {
	t.Helper()
	return testenv.Receive(t, g.entered, 10*time.Second, "a save to start")
}

// A recording is saved off the document goroutine: while a save waits
// for the disk, ops go on being committed and acknowledged, the states
// made meanwhile are written as one (the latest), and Close writes the
// recording's end before it returns.
func TestRecordingSaveDoesNotBlockOps(t *testing.T) {
	log := newMemLog()
	log.text["d"] = ""
	store := newGatedRecordings()
	h := collab.New(log, collab.Options{Recordings: store, RecordingSave: time.Hour})
	closed := false
	t.Cleanup(func() {
		if !closed {
			close(store.release)
			h.Close()
		}
	})
	// A deadline instead of a hang if a call waits for the blocked save.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	alice := collab.NewSubscriber("a1", "alice", 64)
	if _, _, _, err := h.Subscribe(ctx, "d", alice, -1); err != nil {
		t.Fatalf("Subscribe while the join is saved = %v", err)
	}
	first := store.next(t) // the saver now waits inside SaveRecording
	if len(first.Participants) != 1 || first.Participants[0].UserID != "alice" {
		t.Fatalf("first save = %+v; want alice's join", first)
	}

	const ops = 20
	for i := range ops {
		ack, err := h.Submit(ctx, "d", collab.Submission{Version: -1, Op: ot.InsertAt(0, "x"), Src: "a1", Seq: int64(i + 1), Author: "alice"})
		if err != nil {
			t.Fatalf("Submit %d while a save is blocked = %v", i+1, err)
		}
		if ack.Version != int64(i) {
			t.Fatalf("Submit %d: version %d; want %d", i+1, ack.Version, i)
		}
	}
	bob := collab.NewSubscriber("b1", "bob", 64)
	if _, _, _, err := h.Subscribe(ctx, "d", bob, -1); err != nil {
		t.Fatal(err)
	}
	h.Unsubscribe("d", bob)
	if v, _, err := h.Snapshot(ctx, "d"); err != nil || v != ops {
		t.Fatalf("Snapshot = %d, %v; want %d", v, err, ops)
	}

	// Bob's join and leave were made while the first save waited: only
	// the latest state is written after it.
	store.release <- struct{}{}
	second := store.next(t)
	if second.EndVersion != ops || len(second.Participants) != 2 || second.Participants[1].LeftAt.IsZero() || second.Participants[0].Ops != ops {
		t.Fatalf("second save = %+v; want alice's %d ops and bob gone", second, ops)
	}

	close(store.release)
	h.Close()
	closed = true
	store.mu.Lock()
	defer store.mu.Unlock()
	if len(store.saved) != 3 {
		t.Fatalf("%d saves; want 3 (join, coalesced, end): %+v", len(store.saved), store.saved)
	}
	for i, r := range store.saved {
		if r.ID != "rec1" {
			t.Errorf("save %d has ID %q; want rec1 (one recording)", i, r.ID)
		}
	}
	if last := store.saved[2]; last.EndedAt.IsZero() || last.Participants[0].LeftAt.IsZero() {
		t.Errorf("last save = %+v; want the ended recording, written by Close", last)
	}
}
