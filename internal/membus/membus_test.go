package membus_test

import (
	"strconv"
	"testing"

	docket "github.com/docket-dev/docket"
	"github.com/docket-dev/docket/internal/bustest"
	"github.com/docket-dev/docket/internal/membus"
	"github.com/docket-dev/docket/internal/testenv"
)

// nodes returns n nodes of a fresh network, closed when the test ends.
func nodes(t testing.TB, n int) (*membus.Network, []*membus.Node) {
	net := membus.New()
	out := make([]*membus.Node, n)
	for i := range out {
		out[i] = net.Node()
		t.Cleanup(func() { out[i].Close() })
	}
	return net, out
}

func TestContract(t *testing.T) {
	bustest.Run(t, func(t testing.TB, n int) []docket.Bus {
		_, nodes := nodes(t, n)
		buses := make([]docket.Bus, n)
		for i, nd := range nodes {
			buses[i] = nd
		}
		return buses
	})
}

// subscribe subscribes a collector to subject on bus.
func subscribe(t *testing.T, bus docket.Bus, subject string) *testenv.Collector[string] {
	t.Helper()
	var got testenv.Collector[string]
	if _, err := bus.Subscribe(subject, func(data []byte) { got.Add(string(data)) }); err != nil {
		t.Fatal(err)
	}
	return &got
}

func publish(t *testing.T, bus docket.Bus, subject string, msgs ...string) {
	t.Helper()
	for _, m := range msgs {
		if err := bus.Publish(subject, []byte(m)); err != nil {
			t.Fatal(err)
		}
	}
}

func TestDropLosesOneDelivery(t *testing.T) {
	net, n := nodes(t, 3)
	b := subscribe(t, n[1], "ops")
	c := subscribe(t, n[2], "ops")
	calls := 0
	net.Drop(func(subject string, data []byte) bool {
		if string(data) != "2" {
			return false
		}
		calls++
		return calls == 1 // the first receiver of "2" loses it
	})
	publish(t, n[0], "ops", "1", "2", "3")
	net.Settle()
	if got := net.Dropped(); got != 1 {
		t.Errorf("Dropped() = %d; want 1", got)
	}
	gotB, gotC := b.Got(), c.Got()
	if len(gotB)+len(gotC) != 5 {
		t.Errorf("nodes got %q and %q; want one of them to miss \"2\" only", gotB, gotC)
	}
	net.Drop(nil)
	publish(t, n[0], "ops", "4")
	net.Settle()
	if got, want := b.Len()+c.Len(), 7; got != want {
		t.Errorf("after Drop(nil) the nodes have %d messages; want %d", got, want)
	}
}

func TestPauseHoldsDeliveries(t *testing.T) {
	net, n := nodes(t, 2)
	got := subscribe(t, n[1], "ops")
	net.Pause()
	want := make([]string, 10)
	for i := range want {
		want[i] = strconv.Itoa(i)
	}
	publish(t, n[0], "ops", want...)
	if testenv.Eventually(50e6, func() bool { return got.Len() > 0 }) {
		t.Fatalf("a paused network delivered %q", got.Got())
	}
	net.Resume()
	net.Settle()
	if g := got.Got(); len(g) != len(want) || g[0] != "0" || g[9] != "9" {
		t.Errorf("after Resume got %q; want %q", g, want)
	}
}

func TestSettlePanicsWhenPaused(t *testing.T) {
	net := membus.New()
	net.Pause()
	defer func() {
		if recover() == nil {
			t.Error("Settle on a paused network returned; want a panic")
		}
	}()
	net.Settle()
}

func TestClosedNode(t *testing.T) {
	net, n := nodes(t, 2)
	got := subscribe(t, n[1], "ops")
	if err := n[1].Close(); err != nil {
		t.Fatal(err)
	}
	publish(t, n[0], "ops", "lost")
	net.Settle()
	if got.Len() != 0 {
		t.Errorf("a closed node received %q", got.Got())
	}
	if err := n[1].Publish("ops", nil); docket.ErrorCode(err) != docket.EUNAVAILABLE {
		t.Errorf("Publish on a closed node = %v; want EUNAVAILABLE", err)
	}
	if _, err := n[1].Subscribe("ops", func([]byte) {}); docket.ErrorCode(err) != docket.EUNAVAILABLE {
		t.Errorf("Subscribe on a closed node = %v; want EUNAVAILABLE", err)
	}
}
