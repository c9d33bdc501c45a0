package server

import (
	"context"
	"errors"
	"testing"
	"time"

	docket "github.com/docket-dev/docket"
	"github.com/docket-dev/docket/internal/testenv"
)

// acquireAsync starts acquiring the gate for n bytes; the channel gets
// the release function once it is granted (nil if ctx ended first).
func acquireAsync(ctx context.Context, g *renderGate, n int) <-chan func() {
	ch := make(chan func(), 1)
	go func() {
		release, _ := g.acquire(ctx, n)
		ch <- release
	}()
	return ch
}

// waiting returns how many renders wait at the gate.
func (g *renderGate) waiting() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.waiters.Len()
}

func TestRenderGateSlots(t *testing.T) {
	g := newRenderGate(2, 1<<30)
	ctx := context.Background()
	r1, err := g.acquire(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	r2, _ := g.acquire(ctx, 10)
	third := acquireAsync(ctx, g, 10)
	testenv.WaitFor(t, 5*time.Second, "the third render to wait", func() bool { return g.waiting() == 1 })
	r1()
	testenv.Receive(t, third, 5*time.Second, "the third render to start")()
	r2()
	if g.slots != 2 || g.mem != 1<<30 {
		t.Errorf("after all releases: %d slots, %d bytes; want 2 and %d", g.slots, g.mem, 1<<30)
	}
}

// A large render waits for the memory of the running ones; those queued
// behind it wait too (first come, first served), and a waiter whose
// request ends leaves the line.
func TestRenderGateMemory(t *testing.T) {
	budget := renderMemory(docket.MaxDocumentBytes)
	g := newRenderGate(8, budget)
	ctx := context.Background()
	small, _ := g.acquire(ctx, 1000)
	big := acquireAsync(ctx, g, docket.MaxDocumentBytes)
	testenv.WaitFor(t, 5*time.Second, "the large render to wait", func() bool { return g.waiting() == 1 })
	gone, cancel := context.WithCancel(ctx)
	behind := acquireAsync(gone, g, 1000)
	testenv.WaitFor(t, 5*time.Second, "a small render to queue behind it", func() bool { return g.waiting() == 2 })
	cancel()
	if got := testenv.Receive(t, behind, 5*time.Second, "the cancelled waiter"); got != nil {
		t.Fatal("a cancelled waiter was granted")
	}
	small()
	testenv.Receive(t, big, 5*time.Second, "the large render to start")()
	if g.waiting() != 0 || g.mem != budget || g.slots != 8 {
		t.Errorf("after all: %d waiting, %d bytes, %d slots", g.waiting(), g.mem, g.slots)
	}
	// Larger than the whole budget still runs, alone.
	r, err := g.acquire(ctx, 4*docket.MaxDocumentBytes)
	if err != nil {
		t.Fatal(err)
	}
	r()
}

func TestRenderGateCancelled(t *testing.T) {
	g := newRenderGate(1, 1<<30)
	hold, _ := g.acquire(context.Background(), 1)
	defer hold()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := g.acquire(ctx, 1); !errors.Is(err, context.Canceled) {
		t.Errorf("acquire with a cancelled context = %v; want context.Canceled", err)
	}
}
