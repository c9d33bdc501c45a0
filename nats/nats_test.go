package nats_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	docket "github.com/docket-dev/docket"
	"github.com/docket-dev/docket/internal/bustest"
	"github.com/docket-dev/docket/internal/testenv"
	"github.com/docket-dev/docket/nats"
)

// prefix returns a subject prefix no other test uses.
func prefix() string { return "test-" + rand.Text()[:12] }

// open opens a bus on url, closed when the test ends. Without a logger of
// the test's own, it logs nothing.
func open(t testing.TB, url string, opts nats.Options) *nats.Bus {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	b, err := nats.Open(ctx, url, opts)
	if err != nil {
		t.Fatalf("Open(%q) = %v", url, err)
	}
	t.Cleanup(func() {
		if err := b.Close(); err != nil {
			t.Errorf("Close() = %v", err)
		}
	})
	return b
}

func TestContract(t *testing.T) {
	url := testenv.NATS(t)
	bustest.Run(t, func(t testing.TB, n int) []docket.Bus {
		p := prefix()
		buses := make([]docket.Bus, n)
		for i := range buses {
			buses[i] = open(t, url, nats.Options{Prefix: p, Name: "node" + strconv.Itoa(i)})
		}
		return buses
	})
}

func TestPrefixesKeepBusesApart(t *testing.T) {
	url := testenv.NATS(t)
	p := prefix()
	sender := open(t, url, nats.Options{Prefix: p})
	same := open(t, url, nats.Options{Prefix: p})
	other := open(t, url, nats.Options{Prefix: p + "-other"})
	otherSender := open(t, url, nats.Options{Prefix: p + "-other"})
	var gotSame, gotOther testenv.Collector[string]
	for _, s := range []struct {
		bus *nats.Bus
		got *testenv.Collector[string]
	}{{same, &gotSame}, {other, &gotOther}} {
		if _, err := s.bus.Subscribe("ops", func(data []byte) { s.got.Add(string(data)) }); err != nil {
			t.Fatal(err)
		}
	}
	if err := sender.Publish("ops", []byte("hello")); err != nil {
		t.Fatal(err)
	}
	testenv.WaitFor(t, 5*time.Second, "the message on the bus of the same prefix", func() bool { return gotSame.Len() == 1 })
	// The server handled "hello" before this one, so if it went to the
	// other prefix it arrived there first.
	if err := otherSender.Publish("ops", []byte("marker")); err != nil {
		t.Fatal(err)
	}
	testenv.WaitFor(t, 5*time.Second, "the message on the bus of the other prefix", func() bool { return gotOther.Len() > 0 })
	if got := gotOther.Got(); len(got) != 1 || got[0] != "marker" {
		t.Errorf("the bus of another prefix received %q; want only its own marker", got)
	}
	st := sender.Stats()
	if st.Published != 1 {
		t.Errorf("sender Stats().Published = %d; want 1", st.Published)
	}
	if got := same.Stats().Received; got != 1 {
		t.Errorf("receiver Stats().Received = %d; want 1", got)
	}
}

func TestOpenRefusesBadInput(t *testing.T) {
	tests := []struct {
		name, url string
		opts      nats.Options
		want      string // in the message
	}{
		{"no url", "", nats.Options{}, "NATS URL required"},
		{"bad scheme", "http://127.0.0.1:4222", nats.Options{}, "scheme must be nats"},
		{"no host", "nats://", nats.Options{}, "no host"},
		{"bad second url", "nats://127.0.0.1:4222,postgres://x", nats.Options{}, "scheme must be nats"},
		{"wildcard prefix", "nats://127.0.0.1:4222", nats.Options{Prefix: "a.*"}, "Bus prefix"},
		{"spaced prefix", "nats://127.0.0.1:4222", nats.Options{Prefix: "a b"}, "Bus prefix"},
		{"negative limit", "nats://127.0.0.1:4222", nats.Options{PendingLimit: -1}, "must not be negative"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := nats.Open(t.Context(), tc.url, tc.opts)
			if err == nil {
				b.Close()
				t.Fatalf("Open(%q, %+v) succeeded; want EINVALID", tc.url, tc.opts)
			}
			if docket.ErrorCode(err) != docket.EINVALID || !strings.Contains(docket.ErrorMessage(err), tc.want) {
				t.Errorf("Open(%q, %+v) = %v; want EINVALID saying %q", tc.url, tc.opts, err, tc.want)
			}
		})
	}
}

func TestOpenUnreachable(t *testing.T) {
	addr := freeAddr(t)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
	defer cancel()
	url := "nats://user:secret@" + addr
	b, err := nats.Open(ctx, url, nats.Options{})
	if err == nil {
		b.Close()
		t.Fatalf("Open(%q) with nothing listening succeeded", url)
	}
	if docket.ErrorCode(err) != docket.EUNAVAILABLE || !strings.Contains(docket.ErrorMessage(err), addr) {
		t.Errorf("Open = %v; want EUNAVAILABLE naming %s", err, addr)
	}
	if strings.Contains(err.Error(), "secret") {
		t.Errorf("Open = %v: the error shows the password", err)
	}
}

func TestSlowSubscriberDropsAndCounts(t *testing.T) {
	url := testenv.NATS(t)
	p := prefix()
	sender := open(t, url, nats.Options{Prefix: p})
	var logs testenv.Buffer
	slow := open(t, url, nats.Options{Prefix: p, PendingLimit: 10, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	release := make(chan struct{})
	var got testenv.Collector[string]
	if _, err := slow.Subscribe("ops", func(data []byte) {
		<-release
		got.Add(string(data))
	}); err != nil {
		t.Fatal(err)
	}
	const n = 200
	for i := range n {
		if err := sender.Publish("ops", []byte(strconv.Itoa(i))); err != nil {
			t.Fatal(err)
		}
	}
	testenv.WaitFor(t, 5*time.Second, "messages dropped for the slow subscriber", func() bool { return slow.Stats().Dropped > 0 })
	close(release)
	testenv.WaitFor(t, 5*time.Second, "every message received or dropped", func() bool {
		st := slow.Stats()
		return st.Received+st.Dropped == n
	})
	if st := slow.Stats(); st.Received != uint64(got.Len()) {
		t.Errorf("Stats().Received = %d; the function got %d", st.Received, got.Len())
	}
	if !strings.Contains(logs.String(), "falls behind") {
		t.Errorf("no slow-subscriber warning in the log:\n%s", logs.String())
	}
}

// freeAddr returns a loopback address nothing listens on.
func freeAddr(t testing.TB) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// natsServer runs a nats-server of the test's own on addr until stop is
// called or the test ends.
func natsServer(t testing.TB, addr string) (stop func()) {
	t.Helper()
	bin, err := exec.LookPath("nats-server")
	if err != nil {
		if _, statErr := os.Stat("/usr/sbin/nats-server"); statErr != nil {
			testenv.Missing(t, "no nats-server binary (apt-get install nats-server): %v", err)
		}
		bin = "/usr/sbin/nats-server"
	}
	host, port, _ := net.SplitHostPort(addr)
	cmd := exec.Command(bin, "-a", host, "-p", port)
	var out testenv.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	stop = func() {
		cmd.Process.Kill()
		<-done
	}
	t.Cleanup(stop)
	testenv.WaitFor(t, 10*time.Second, "nats-server on "+addr+" to listen:\n"+out.String(), func() bool {
		c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
	return stop
}

// TestReconnect kills a NATS server of the test's own and starts it again:
// Ping reports the outage with the server's URL, the bus logs it, comes
// back by itself and the subscriptions work again.
func TestReconnect(t *testing.T) {
	addr := freeAddr(t)
	stop := natsServer(t, addr)
	url := "nats://" + addr
	var logs testenv.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	opts := nats.Options{MaxReconnectWait: 200 * time.Millisecond, Logger: logger}
	a, b := open(t, url, opts), open(t, url, opts)
	var got testenv.Collector[string]
	if _, err := a.Subscribe("ops", func(data []byte) { got.Add(string(data)) }); err != nil {
		t.Fatal(err)
	}
	if err := a.Ping(t.Context()); err != nil {
		t.Fatalf("Ping() while connected = %v", err)
	}

	stop()
	testenv.WaitFor(t, 5*time.Second, "Ping to fail", func() bool { return a.Ping(t.Context()) != nil })
	err := a.Ping(t.Context())
	if docket.ErrorCode(err) != docket.EUNAVAILABLE || !strings.Contains(docket.ErrorMessage(err), addr) {
		t.Errorf("Ping() while the server is down = %v; want EUNAVAILABLE naming %s", err, addr)
	}
	// The connection's handlers log on a goroutine of their own, maybe
	// after Ping already failed.
	testenv.WaitFor(t, 5*time.Second, "the disconnect in the log", func() bool {
		return strings.Contains(logs.String(), "bus disconnected")
	})

	natsServer(t, addr)
	testenv.WaitFor(t, 10*time.Second, "both buses to reconnect", func() bool {
		return a.Ping(t.Context()) == nil && b.Ping(t.Context()) == nil
	})
	// The subscription comes back with the connection; a message sent
	// while it travels to the server may be lost, so send until one
	// arrives.
	i := 0
	testenv.WaitFor(t, 5*time.Second, "a message after the reconnect", func() bool {
		i++
		if err := b.Publish("ops", fmt.Appendf(nil, "after %d", i)); err != nil {
			t.Fatalf("Publish after the reconnect = %v", err)
		}
		return got.Len() > 0
	})
	if st := a.Stats(); st.Reconnects < 1 {
		t.Errorf("Stats().Reconnects = %d; want at least 1", st.Reconnects)
	}
	testenv.WaitFor(t, 5*time.Second, "the reconnect in the log", func() bool {
		return strings.Contains(logs.String(), "bus reconnected")
	})
}

func TestClosedBus(t *testing.T) {
	url := testenv.NATS(t)
	b, err := nats.Open(t.Context(), url, nats.Options{Prefix: prefix(), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	unsubscribe, err := b.Subscribe("ops", func([]byte) {})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatalf("Close() = %v", err)
	}
	if err := b.Close(); err != nil {
		t.Errorf("second Close() = %v", err)
	}
	unsubscribe()
	if err := b.Publish("ops", nil); docket.ErrorCode(err) != docket.EUNAVAILABLE {
		t.Errorf("Publish after Close = %v; want EUNAVAILABLE", err)
	}
	if _, err := b.Subscribe("ops", func([]byte) {}); docket.ErrorCode(err) != docket.EUNAVAILABLE {
		t.Errorf("Subscribe after Close = %v; want EUNAVAILABLE", err)
	}
	if err := b.Ping(t.Context()); docket.ErrorCode(err) != docket.EUNAVAILABLE || !strings.Contains(err.Error(), "closed") {
		t.Errorf("Ping after Close = %v; want EUNAVAILABLE saying closed", err)
	}
}

// BenchmarkRoundTrip measures a message from one node to another and the
// answer back, through the NATS server of testenv.NATS.
func BenchmarkRoundTrip(b *testing.B) {
	url := testenv.NATS(b)
	p := prefix()
	ping, pong := open(b, url, nats.Options{Prefix: p}), open(b, url, nats.Options{Prefix: p})
	if _, err := pong.Subscribe("ping", func(data []byte) {
		if err := pong.Publish("pong", data); err != nil {
			b.Error(err)
		}
	}); err != nil {
		b.Fatal(err)
	}
	answers := make(chan struct{}, 1)
	if _, err := ping.Subscribe("pong", func([]byte) { answers <- struct{}{} }); err != nil {
		b.Fatal(err)
	}
	data := make([]byte, 200) // about an op's note
	for b.Loop() {
		if err := ping.Publish("ping", data); err != nil {
			b.Fatal(err)
		}
		testenv.Receive(b, answers, 5*time.Second, "the answer")
	}
}

// BenchmarkFanOut measures messages of 200 bytes from one node to two
// others, as a document's ops reach the nodes that have it open.
func BenchmarkFanOut(b *testing.B) {
	url := testenv.NATS(b)
	p := prefix()
	sender := open(b, url, nats.Options{Prefix: p})
	var got [2]atomicCounter
	for i := range got {
		bus := open(b, url, nats.Options{Prefix: p})
		if _, err := bus.Subscribe("ops", func([]byte) { got[i].add() }); err != nil {
			b.Fatal(err)
		}
	}
	data := make([]byte, 200)
	n := 0
	for b.Loop() {
		if err := sender.Publish("ops", data); err != nil {
			b.Fatal(err)
		}
		n++
	}
	testenv.WaitFor(b, 30*time.Second, "every message on both nodes", func() bool {
		return got[0].load() == n && got[1].load() == n
	})
}

type atomicCounter struct{ n atomic.Int64 }

func (c *atomicCounter) add()      { c.n.Add(1) }
func (c *atomicCounter) load() int { return int(c.n.Load()) }
