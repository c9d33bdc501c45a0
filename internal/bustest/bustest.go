// Package bustest is the contract of [docket.Bus] as tests: [Run] checks
// an implementation (package nats on a real server, internal/membus in
// memory) for what the nodes of a cluster rely on.
package bustest

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	docket "github.com/docket-dev/docket"
	"github.com/docket-dev/docket/internal/testenv"
)

// NewNodes returns n nodes of one fresh bus: they hear each other and no
// other test's nodes. It closes them when the test ends.
type NewNodes func(t testing.TB, n int) []docket.Bus

// timeout bounds every wait for a delivery.
const timeout = 10 * time.Second

// quiet is how long the unsubscribe test waits, after the messages of
// the subscription that stays have come, for any that the ended one must
// not get: they would run on a goroutine of their own, with no later
// message to wait for.
const quiet = 50 * time.Millisecond

// Run checks the bus contract on the nodes newNodes makes.
func Run(t *testing.T, newNodes NewNodes) {
	t.Run("NoEcho", func(t *testing.T) { testNoEcho(t, newNodes) })
	t.Run("OrderPerSubject", func(t *testing.T) { testOrder(t, newNodes) })
	t.Run("Subjects", func(t *testing.T) { testSubjects(t, newNodes) })
	t.Run("Unsubscribe", func(t *testing.T) { testUnsubscribe(t, newNodes) })
	t.Run("ConcurrentPublishers", func(t *testing.T) { testConcurrentPublishers(t, newNodes) })
	t.Run("DataCopied", func(t *testing.T) { testDataCopied(t, newNodes) })
	t.Run("BadInput", func(t *testing.T) { testBadInput(t, newNodes) })
}

// inbox gathers what a subscription receives, and fails the test if its
// function is ever called while a call is under way.
type inbox struct {
	t       testing.TB
	running atomic.Int32
	got     testenv.Collector[string]
}

// subscribe subscribes a new inbox to subject on bus.
func subscribe(t testing.TB, bus docket.Bus, subject string) (*inbox, func()) {
	t.Helper()
	in := &inbox{t: t}
	unsubscribe, err := bus.Subscribe(subject, in.receive)
	if err != nil {
		t.Fatalf("Subscribe(%q) = %v", subject, err)
	}
	return in, unsubscribe
}

func (in *inbox) receive(data []byte) {
	if in.running.Add(1) != 1 {
		in.t.Errorf("a subscription's function was called while a call was under way")
	}
	in.got.Add(string(data))
	in.running.Add(-1)
}

// waitLen waits until in has n messages.
func (in *inbox) waitLen(t testing.TB, n int, what string) {
	t.Helper()
	testenv.WaitFor(t, timeout, fmt.Sprintf("%d messages %s (have %d)", n, what, in.got.Len()), func() bool { return in.got.Len() >= n })
}

// publish publishes data on subject from bus, failing the test on an error.
func publish(t testing.TB, bus docket.Bus, subject, data string) {
	t.Helper()
	if err := bus.Publish(subject, []byte(data)); err != nil {
		t.Fatalf("Publish(%q, %q) = %v", subject, data, err)
	}
}

// numbered returns prefix0 .. prefix(n-1).
func numbered(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = prefix + strconv.Itoa(i)
	}
	return out
}

// same fails the test unless got equals want.
func same(t testing.TB, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s got %d messages %.200q; want %d %.200q", what, len(got), got, len(want), want)
	}
}

// testNoEcho: a node never receives its own message, while another node
// that subscribes to the same subject does.
func testNoEcho(t *testing.T, newNodes NewNodes) {
	nodes := newNodes(t, 2)
	self, _ := subscribe(t, nodes[0], "echo")
	other, _ := subscribe(t, nodes[1], "echo")
	publish(t, nodes[0], "echo", "mine")
	other.waitLen(t, 1, "from node 0 on node 1")
	// node 0's own message went out before this one, so an echo would
	// have arrived first.
	publish(t, nodes[1], "echo", "theirs")
	self.waitLen(t, 1, "from node 1 on node 0")
	same(t, "node 0", self.got.Got(), []string{"theirs"})
	same(t, "node 1", other.got.Got(), []string{"mine"})
}

// testOrder: the messages of one publisher on one subject arrive at every
// subscriber, in the order they were published.
func testOrder(t *testing.T, newNodes NewNodes) {
	const n = 500
	nodes := newNodes(t, 3)
	a, _ := subscribe(t, nodes[1], "order.x")
	b, _ := subscribe(t, nodes[2], "order.x")
	want := numbered("m", n)
	for _, m := range want {
		publish(t, nodes[0], "order.x", m)
	}
	a.waitLen(t, n, "on node 1")
	b.waitLen(t, n, "on node 2")
	same(t, "node 1", a.got.Got(), want)
	same(t, "node 2", b.got.Got(), want)
}

// testSubjects: a message reaches the subscribers of its subject only,
// subjects never match by prefix, and two subscriptions of one node to
// one subject both receive it.
func testSubjects(t *testing.T, newNodes NewNodes) {
	nodes := newNodes(t, 2)
	subjects := []string{"a", "a.b", "b", "A"}
	inboxes := map[string]*inbox{}
	for _, s := range subjects {
		inboxes[s], _ = subscribe(t, nodes[1], s)
	}
	twin, _ := subscribe(t, nodes[1], "a")
	for i := range 3 {
		for _, s := range subjects {
			publish(t, nodes[0], s, s+"#"+strconv.Itoa(i))
		}
	}
	for _, s := range subjects {
		inboxes[s].waitLen(t, 3, "on "+s)
	}
	twin.waitLen(t, 3, "on the second subscription to a")
	// A message that reached a wrong subscription arrived before its
	// last right one, so it is there by now.
	for _, s := range subjects {
		same(t, "subject "+s, inboxes[s].got.Got(), numbered(s+"#", 3))
	}
	same(t, "the second subscription to a", twin.got.Got(), numbered("a#", 3))
}

// testUnsubscribe: after unsubscribe a subscription receives nothing more,
// while another subscription to the same subject goes on; unsubscribe
// may be called twice, and from the subscription's own function.
func testUnsubscribe(t *testing.T, newNodes NewNodes) {
	nodes := newNodes(t, 2)
	gone, unsubscribe := subscribe(t, nodes[1], "u")
	stays, _ := subscribe(t, nodes[1], "u")
	var once testenv.Collector[string]
	var unsubscribeSelf func()
	var mu sync.Mutex // unsubscribeSelf is set after Subscribe returns
	mu.Lock()
	unsubscribeSelf, err := nodes[1].Subscribe("u", func(data []byte) {
		once.Add(string(data))
		mu.Lock()
		defer mu.Unlock()
		unsubscribeSelf()
	})
	mu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	publish(t, nodes[0], "u", "before")
	gone.waitLen(t, 1, "before unsubscribe")
	stays.waitLen(t, 1, "before unsubscribe")
	unsubscribe()
	unsubscribe()
	for _, m := range numbered("after", 20) {
		publish(t, nodes[0], "u", m)
	}
	stays.waitLen(t, 21, "on the subscription that stays")
	time.Sleep(quiet)
	same(t, "unsubscribed", gone.got.Got(), []string{"before"})
	same(t, "unsubscribed from its function", once.Got(), []string{"before"})
	same(t, "subscribed", stays.got.Got(), append([]string{"before"}, numbered("after", 20)...))
}

// testConcurrentPublishers: nodes publishing at once on one subject, and on
// subjects of their own, each have their order kept and nothing lost.
func testConcurrentPublishers(t *testing.T, newNodes NewNodes) {
	const publishers, n = 3, 200
	nodes := newNodes(t, publishers+1)
	sink := nodes[publishers]
	shared, _ := subscribe(t, sink, "shared")
	own := make([]*inbox, publishers)
	for p := range publishers {
		own[p], _ = subscribe(t, sink, "own."+strconv.Itoa(p))
	}
	var wg sync.WaitGroup
	for p := range publishers {
		wg.Go(func() {
			for i := range n {
				for _, subject := range []string{"shared", "own." + strconv.Itoa(p)} {
					if err := nodes[p].Publish(subject, fmt.Appendf(nil, "%d:%d", p, i)); err != nil {
						t.Errorf("node %d: Publish(%q) = %v", p, subject, err)
						return
					}
				}
			}
		})
	}
	wg.Wait()
	shared.waitLen(t, publishers*n, "on the shared subject")
	byPublisher := make([][]string, publishers)
	for _, m := range shared.got.Got() {
		p, _, _ := strings.Cut(m, ":")
		i, err := strconv.Atoi(p)
		if err != nil || i < 0 || i >= publishers {
			t.Fatalf("unexpected message %q", m)
		}
		byPublisher[i] = append(byPublisher[i], m)
	}
	for p := range publishers {
		want := numbered(strconv.Itoa(p)+":", n)
		same(t, fmt.Sprintf("shared subject from node %d", p), byPublisher[p], want)
		own[p].waitLen(t, n, fmt.Sprintf("on node %d's subject", p))
		same(t, fmt.Sprintf("node %d's subject", p), own[p].got.Got(), want)
	}
}

// testDataCopied: the publisher may reuse its buffer once Publish returns.
func testDataCopied(t *testing.T, newNodes NewNodes) {
	nodes := newNodes(t, 2)
	in, _ := subscribe(t, nodes[1], "copy")
	buf := []byte("first")
	if err := nodes[0].Publish("copy", buf); err != nil {
		t.Fatal(err)
	}
	copy(buf, "XXXXX")
	publish(t, nodes[0], "copy", "second")
	in.waitLen(t, 2, "")
	same(t, "subscriber", in.got.Got(), []string{"first", "second"})
}

// testBadInput: a subject that is not one stream, or a missing function,
// is refused with EINVALID.
func testBadInput(t *testing.T, newNodes NewNodes) {
	nodes := newNodes(t, 1)
	for _, subject := range []string{"", "a b", "a.*", "a.>", "a..b", ">"} {
		if err := nodes[0].Publish(subject, []byte("x")); docket.ErrorCode(err) != docket.EINVALID {
			t.Errorf("Publish(%q) = %v; want EINVALID", subject, err)
		}
		if _, err := nodes[0].Subscribe(subject, func([]byte) {}); docket.ErrorCode(err) != docket.EINVALID {
			t.Errorf("Subscribe(%q) = %v; want EINVALID", subject, err)
		}
	}
	if _, err := nodes[0].Subscribe("ok", nil); docket.ErrorCode(err) != docket.EINVALID {
		t.Errorf("Subscribe with a nil function = %v; want EINVALID", err)
	}
}
