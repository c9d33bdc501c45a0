package collab_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	docket "github.com/docket-dev/docket"
	"github.com/docket-dev/docket/collab"
	"github.com/docket-dev/docket/collab/ot"
)

// memBus is a cluster's bus in memory, with the promises of docket.Bus:
// at most once, in order per subject from one publisher, never back to
// the publishing node. Each subscription has its own delivery goroutine.
type memBus struct {
	mu   sync.Mutex
	subs map[string][]*memSub
	drop map[string]int // lose the next n messages on a subject
}

type memSub struct {
	node int
	ch   chan []byte
	done chan struct{}
	once sync.Once
}

func newMemBus() *memBus {
	return &memBus{subs: map[string][]*memSub{}, drop: map[string]int{}}
}

// node returns the bus as node n sees it.
func (b *memBus) node(n int) docket.Bus { return &memNode{b, n} }

// dropNext loses the next n messages published on subject.
func (b *memBus) dropNext(subject string, n int) {
	b.mu.Lock()
	b.drop[subject] += n
	b.mu.Unlock()
}

// subscriptions returns how many subscriptions subject has.
func (b *memBus) subscriptions(subject string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.subs[subject])
}

type memNode struct {
	bus *memBus
	id  int
}

func (n *memNode) Publish(subject string, data []byte) error {
	b := n.bus
	b.mu.Lock()
	if b.drop[subject] > 0 {
		b.drop[subject]--
		b.mu.Unlock()
		return nil
	}
	subs := slices.Clone(b.subs[subject])
	b.mu.Unlock()
	for _, s := range subs {
		if s.node == n.id {
			continue
		}
		select {
		case s.ch <- slices.Clone(data):
		default: // at most once: a full queue loses it
		}
	}
	return nil
}

func (n *memNode) Subscribe(subject string, fn func([]byte)) (func(), error) {
	b := n.bus
	s := &memSub{node: n.id, ch: make(chan []byte, 1024), done: make(chan struct{})}
	b.mu.Lock()
	b.subs[subject] = append(b.subs[subject], s)
	b.mu.Unlock()
	go func() {
		for {
			select {
			case data := <-s.ch:
				fn(data)
			case <-s.done:
				return
			}
		}
	}()
	return func() {
		s.once.Do(func() {
			b.mu.Lock()
			b.subs[subject] = slices.DeleteFunc(b.subs[subject], func(x *memSub) bool { return x == s })
			b.mu.Unlock()
			close(s.done)
		})
	}, nil
}

// cluster is n hubs, its nodes, over one op log in memory and one bus.
type cluster struct {
	*memFixture
	bus  *memBus
	hubs []*collab.Hub
	// rebasing is the hubs' store when they rebase inside the commit.
	rebasing *rebasingLog
}

// newCluster starts n hubs whose commits that lose a race fail with
// ECONFLICT and are retried.
func newCluster(t testing.TB, n int, opts collab.Options) *cluster {
	return newClusterOf(t, n, opts, false)
}

// newClusterOf starts n hubs; with rebasing, their store rebases a
// commit that is behind inside the commit ([docket.OpRebaser]).
func newClusterOf(t testing.TB, n int, opts collab.Options, rebasing bool) *cluster {
	c := &cluster{memFixture: newMemFixture(), bus: newMemBus()}
	var store docket.OpLog = c.log
	if rebasing {
		c.rebasing = &rebasingLog{memLog: c.log}
		store = c.rebasing
	}
	for i := 0; i < n; i++ {
		o := opts
		o.Bus = c.bus.node(i)
		h := collab.New(store, o)
		t.Cleanup(h.Close)
		c.hubs = append(c.hubs, h)
	}
	return c
}

// stored returns the store's version and text of a document.
func (c *cluster) stored(id string) (int64, string) {
	c.log.mu.Lock()
	defer c.log.mu.Unlock()
	return int64(len(c.log.ops[id])), c.log.text[id]
}

// settle waits until every hub has the store's version of a document and
// fails unless each has its text.
func (c *cluster) settle(t *testing.T, id string) {
	t.Helper()
	v, text := c.stored(id)
	deadline := time.Now().Add(5 * time.Second)
	for i, h := range c.hubs {
		for {
			hv, htext, err := h.Snapshot(c.ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if hv == v {
				if htext != text {
					t.Fatalf("hub %d at v%d: %q; store %q", i, v, htext, text)
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("hub %d stays at v%d; store at v%d", i, hv, v)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
}

// watcher is a subscriber that submits nothing: it must receive every op
// once, in version order.
type watcher struct {
	sub  *collab.Subscriber
	next int64 // the version of the op it expects next
}

func watch(t *testing.T, h *collab.Hub, id, name string) *watcher {
	t.Helper()
	sub := collab.NewSubscriber(name, "watcher", 100000)
	v, _, _, err := h.Subscribe(context.Background(), id, sub, -1)
	if err != nil {
		t.Fatal(err)
	}
	return &watcher{sub: sub, next: v}
}

// waitFor takes events until the watcher has every op below version; it
// fails on a gap, a duplicate or a drop, and returns the ops.
func (w *watcher) waitFor(t *testing.T, version int64) []*docket.OpRecord {
	t.Helper()
	var ops []*docket.OpRecord
	timeout := time.After(5 * time.Second)
	for w.next < version {
		select {
		case <-w.sub.Ready():
		case <-w.sub.Dropped():
			t.Fatalf("%s was dropped", w.sub.Src)
		case <-timeout:
			t.Fatalf("%s: no op %d (waiting for %d)", w.sub.Src, w.next, version)
		}
		for _, ev := range w.sub.Take() {
			if ev.Op == nil {
				continue
			}
			if ev.Op.Version != w.next {
				t.Fatalf("%s got op %d; want %d (a gap or a duplicate)", w.sub.Src, ev.Op.Version, w.next)
			}
			ops = append(ops, ev.Op)
			w.next++
		}
	}
	return ops
}

// replay applies a document's whole op log to text.
func replay(t *testing.T, text string, recs []*docket.OpRecord) string {
	t.Helper()
	for _, rec := range recs {
		var o ot.Op
		if err := o.UnmarshalJSON(rec.Op); err != nil {
			t.Fatal(err)
		}
		var err error
		if text, err = ot.Apply(text, o); err != nil {
			t.Fatalf("op %d: %v", rec.Version, err)
		}
	}
	return text
}

// TestClusterConverges runs clients on three hubs of one cluster that
// edit one document at the same time from the versions they know. Every
// acknowledged op is in the store exactly once at its version, every hub
// and the store end with the same text, which is the replay of the log,
// and a watcher on each hub receives every op once and in order. Over a
// store that rebases inside the commit, no commit is retried.
func TestClusterConverges(t *testing.T) {
	for _, rebasing := range []bool{false, true} {
		t.Run(map[bool]string{false: "retrying", true: "rebasing"}[rebasing], func(t *testing.T) {
			testClusterConverges(t, rebasing)
		})
	}
}

func testClusterConverges(t *testing.T, rebasing bool) {
	const hubs, clients, ops = 3, 3, 25
	var observed atomic.Int64 // the ops of the successful commits
	observe := func(ops int, _ time.Duration) { observed.Add(int64(ops)) }
	c := newClusterOf(t, hubs, collab.Options{RecentOps: 30, CheckInterval: 20 * time.Millisecond, ObserveCommit: observe}, rebasing)
	const start = "hello world"
	id := c.newDoc(start)
	watchers := make([]*watcher, hubs)
	for i, h := range c.hubs {
		watchers[i] = watch(t, h, id, fmt.Sprint("watcher", i))
	}
	type acked struct {
		src     string
		seq     int64
		version int64
	}
	var mu sync.Mutex
	var acks []acked
	var wg sync.WaitGroup
	for n := 0; n < hubs*clients; n++ {
		h := c.hubs[n%hubs]
		wg.Add(1)
		go func() {
			defer wg.Done()
			src := fmt.Sprint("c", n)
			rng := rand.New(rand.NewPCG(uint64(n), 16))
			version, text, err := h.Snapshot(c.ctx, id)
			if err != nil {
				t.Error(err)
				return
			}
			for i := 0; i < ops; i++ {
				sub := collab.Submission{Version: version, Op: randomOp(rng, text), Src: src, Seq: int64(i + 1), Author: "u"}
				ack, err := h.Submit(c.ctx, id, sub)
				for docket.ErrorCode(err) == docket.EUNAVAILABLE { // lost the race too often: resend
					ack, err = h.Submit(c.ctx, id, sub)
				}
				if errors.Is(err, collab.ErrNoOp) {
					continue
				}
				if err != nil {
					t.Errorf("%s op %d: %v", src, i, err)
					return
				}
				missed := ack.Missed
				if ack.Duplicate { // a resend: what it was transformed over is in the store
					missed, _ = c.log.LoadOps(c.ctx, id, version, ack.Version)
				}
				if text, err = ot.Apply(replay(t, text, missed), ack.Op); err != nil {
					t.Errorf("%s op %d: %v", src, i, err)
					return
				}
				version = ack.Version + 1
				mu.Lock()
				acks = append(acks, acked{src, sub.Seq, ack.Version})
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	c.settle(t, id)
	version, text := c.stored(id)
	recs, _ := c.log.LoadOps(c.ctx, id, 0, version)
	if got := replay(t, start, recs); got != text {
		t.Fatalf("replay = %q; store %q", got, text)
	}
	if int64(len(acks)) != version {
		t.Fatalf("%d ops acknowledged; the store has %d", len(acks), version)
	}
	for _, a := range acks {
		if r := recs[a.version]; r.Src != a.src || r.Seq != a.seq {
			t.Fatalf("op %d in the store is %s/%d; acked to %s/%d", a.version, r.Src, r.Seq, a.src, a.seq)
		}
	}
	for _, w := range watchers {
		w.waitFor(t, version)
	}
	var remote, conflicts, rebases int64
	for _, h := range c.hubs {
		s := h.Stats()
		remote += s.RemoteOps
		conflicts += s.Conflicts + s.ConflictFailures
		rebases += s.Rebases
	}
	if remote < version {
		t.Fatalf("%d remote ops applied; every op of %d reaches at least one other hub", remote, version)
	}
	if got := observed.Load(); got != version {
		t.Fatalf("commits observed with %d ops; the store has %d", got, version)
	}
	if rebasing && conflicts != 0 {
		t.Fatalf("%d conflicts over a store that rebases; want 0", conflicts)
	}
	if !rebasing && rebases != 0 {
		t.Fatalf("%d rebases over a store that does not rebase", rebases)
	}
	t.Logf("%d ops, %d remote ops applied, %d conflicts retried, %d commits rebased", version, remote, conflicts, rebases)
}

// TestClusterConflictCatchesUp: a hub that did not hear of another's
// commit commits at a taken version. Over a store that does not rebase it
// catches up from the store and commits again (a conflict); over one
// that does, the commit is rebased inside its transaction. Either way the
// op is transformed over the one it missed and committed next, and the
// subscribers receive both in order.
func TestClusterConflictCatchesUp(t *testing.T) {
	for _, tc := range []struct {
		name               string
		rebasing           bool
		conflicts, rebases int64
	}{
		{"retrying", false, 1, 0},
		{"rebasing", true, 0, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newClusterOf(t, 2, collab.Options{CheckInterval: time.Hour}, tc.rebasing)
			id := c.newDoc("abc")
			a, b := c.hubs[0], c.hubs[1]
			w := watch(t, b, id, "watcher")
			submitUnheard(t, c, a, id, collab.Submission{Version: 0, Op: ot.InsertAt(0, "A"), Src: "on-a", Seq: 1})
			ack, err := b.Submit(c.ctx, id, collab.Submission{Version: 0, Op: ot.InsertAt(3, "B"), Src: "on-b", Seq: 1})
			if err != nil {
				t.Fatal(err)
			}
			if ack.Version != 1 || ack.Duplicate || len(ack.Missed) != 1 || ack.Missed[0].Src != "on-a" || !slices.Equal(ack.Op, ot.InsertAt(4, "B")) {
				t.Fatalf("b's ack = %+v; want version 1 after a's op, moved to 4", ack)
			}
			if s := b.Stats(); s.Conflicts != tc.conflicts || s.Rebases != tc.rebases {
				t.Fatalf("b's stats = %+v; want %d conflicts, %d rebases", s, tc.conflicts, tc.rebases)
			}
			ops := w.waitFor(t, 2)
			if ops[0].Src != "on-a" || ops[1].Src != "on-b" {
				t.Fatalf("watcher got %s, %s", ops[0].Src, ops[1].Src)
			}
			c.settle(t, id)
			if _, text := c.stored(id); text != "AabcB" {
				t.Fatalf("text = %q", text)
			}
		})
	}
}

// submitUnheard commits sub through h while the other hubs do not hear
// of it (its bus message is lost).
func submitUnheard(t *testing.T, c *cluster, h *collab.Hub, id string, sub collab.Submission) {
	t.Helper()
	if _, _, err := h.Snapshot(c.ctx, id); err != nil {
		t.Fatal(err)
	}
	c.bus.dropNext("doc."+id+".ops", 1)
	if _, err := h.Submit(c.ctx, id, sub); err != nil {
		t.Fatal(err)
	}
}

// TestClusterRebaseFails: when the transaction fails after a rebase, the
// submission fails and the document stays after the ops the rebase
// brought, which are committed and were delivered; the client's resend
// then commits once, after them.
func TestClusterRebaseFails(t *testing.T) {
	c := newClusterOf(t, 2, collab.Options{CheckInterval: time.Hour}, true)
	id := c.newDoc("abc")
	a, b := c.hubs[0], c.hubs[1]
	w := watch(t, b, id, "watcher")
	submitUnheard(t, c, a, id, collab.Submission{Version: 0, Op: ot.InsertAt(0, "A"), Src: "on-a", Seq: 1})
	c.rebasing.failures.Store(1)
	sub := collab.Submission{Version: 0, Op: ot.InsertAt(3, "B"), Src: "on-b", Seq: 1}
	if ack, err := b.Submit(c.ctx, id, sub); !errors.Is(err, errStoreDown) {
		t.Fatalf("submit = %+v, %v; want the store's failure", ack, err)
	}
	if v, text, err := b.Snapshot(c.ctx, id); err != nil || v != 1 || text != "Aabc" {
		t.Fatalf("b after the failure = v%d %q, %v; want v1 \"Aabc\" (a's op, not b's)", v, text, err)
	}
	if ops := w.waitFor(t, 1); ops[0].Src != "on-a" {
		t.Fatalf("watcher got %s first", ops[0].Src)
	}
	ack, err := b.Submit(c.ctx, id, sub)
	if err != nil || ack.Version != 1 || ack.Duplicate || !slices.Equal(ack.Op, ot.InsertAt(4, "B")) {
		t.Fatalf("resend = %+v, %v; want it committed at version 1, moved to 4", ack, err)
	}
	if ops := w.waitFor(t, 2); ops[0].Src != "on-b" {
		t.Fatalf("watcher got %s second", ops[0].Src)
	}
	c.settle(t, id)
	if v, text := c.stored(id); v != 2 || text != "AabcB" {
		t.Fatalf("store = v%d %q; want v2 \"AabcB\"", v, text)
	}
	if s := b.Stats(); s.Conflicts != 0 || s.Rebases != 1 {
		t.Fatalf("b's stats = %+v; want 1 rebase (in the transaction that failed) and no conflict", s)
	}
}

// gatedLog holds its first commit until gate is closed, so that the
// commits queued meanwhile go together in the next group; it counts
// commit transactions.
type gatedLog struct {
	*memLog
	gate    chan struct{}
	first   sync.Once
	commits atomic.Int64
}

func (g *gatedLog) CommitOps(ctx context.Context, commits []docket.OpCommit) error {
	g.first.Do(func() { <-g.gate })
	g.commits.Add(1)
	return g.memLog.CommitOps(ctx, commits)
}

// gatedRebasingLog is a gatedLog whose commit rebases a document that
// is behind ([docket.OpRebaser]).
type gatedRebasingLog struct{ *gatedLog }

func (g gatedRebasingLog) CommitOpsRebasing(ctx context.Context, commits []docket.OpCommit, rebase func(string, []*docket.OpRecord) ([]docket.OpCommit, error)) error {
	g.first.Do(func() { <-g.gate })
	g.commits.Add(1)
	return g.memLog.commit(commits, rebase)
}

// TestClusterConflictSparesOtherDocuments: a group commit of documents of
// which some are behind the store (another hub committed first). Over a
// store that does not rebase, the others commit at once and the one that
// conflicts catches up and commits after; over one that does, each
// document behind is rebased on its own in the same transaction. None
// fails.
func TestClusterConflictSparesOtherDocuments(t *testing.T) {
	for _, tc := range []struct {
		name                        string
		rebasing                    bool
		behind                      []string
		commits, conflicts, rebases int64
	}{
		// x; y+w+z together (conflict); y alone (conflict); w+z; y again.
		{"retrying", false, []string{"y"}, 5, 1, 0},
		// x; y+w+z together, y and w rebased.
		{"rebasing", true, []string{"y", "w"}, 2, 0, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				testSparesOtherDocuments(t, tc.rebasing, tc.behind, tc.commits, tc.conflicts, tc.rebases)
			})
		})
	}
}

func testSparesOtherDocuments(t *testing.T, rebasing bool, behind []string, commits, conflicts, rebases int64) {
	log := newMemLog()
	bus := newMemBus()
	gated := &gatedLog{memLog: log, gate: make(chan struct{})}
	var store docket.OpLog = gated
	if rebasing {
		store = gatedRebasingLog{gated}
	}
	a := collab.New(log, collab.Options{CheckInterval: time.Hour, Bus: bus.node(0)})
	defer a.Close()
	b := collab.New(store, collab.Options{CheckInterval: time.Hour, Bus: bus.node(1)})
	defer b.Close()
	ctx := context.Background()
	docs := []string{"x", "y", "w", "z"}
	for _, id := range docs {
		log.text[id] = "abc"
	}
	want := map[string]string{"x": "abcB", "y": "abcB", "w": "abcB", "z": "abcB"}
	missed := map[string]int64{} // what b's op is transformed over
	for _, id := range behind {
		if _, _, err := b.Snapshot(ctx, id); err != nil { // loaded before a's commit
			t.Fatal(err)
		}
		bus.dropNext("doc."+id+".ops", 1)
		if _, err := a.Submit(ctx, id, collab.Submission{Version: 0, Op: ot.InsertAt(0, "A"), Src: "on-a", Seq: 1}); err != nil {
			t.Fatal(err)
		}
		want[id] = "AabcB"
		missed[id] = 1
	}
	acks := map[string]*collab.Ack{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, id := range docs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ack, err := b.Submit(ctx, id, collab.Submission{Version: 0, Op: ot.InsertAt(3, "B"), Src: "on-b", Seq: 1})
			if err != nil {
				t.Errorf("%s: %v", id, err)
			}
			mu.Lock()
			acks[id] = ack
			mu.Unlock()
		}()
		// x holds the committer at the gate; the others wait for it, in
		// this order.
		synctest.Wait()
	}
	close(gated.gate)
	wg.Wait()
	if t.Failed() {
		return
	}
	for id, ack := range acks {
		if n := missed[id]; ack.Version != n || int64(len(ack.Missed)) != n {
			t.Fatalf("%s's ack = %+v; want version %d after %d missed", id, ack, n, n)
		}
	}
	if got := gated.commits.Load(); got != commits {
		t.Fatalf("%d commit transactions; want %d", got, commits)
	}
	if s := b.Stats(); s.Conflicts != conflicts || s.Rebases != rebases {
		t.Fatalf("stats = %+v; want %d conflicts, %d rebases", s, conflicts, rebases)
	}
	for id, w := range want {
		if got := log.text[id]; got != w {
			t.Fatalf("%s = %q; want %q", id, got, w)
		}
	}
}

// TestClusterBusKeepsCommitsTogether: another node's ops that arrive on
// the bus between two submissions do not split them into two commits.
// The first of b's submissions is held at the store while a commits
// first (so it is rebased), and b's next two submissions queue around
// a's bus message.
func TestClusterBusKeepsCommitsTogether(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		log := newMemLog()
		bus := newMemBus()
		gated := &gatedLog{memLog: log, gate: make(chan struct{})}
		a := collab.New(log, collab.Options{CheckInterval: time.Hour, Bus: bus.node(0)})
		defer a.Close()
		b := collab.New(gatedRebasingLog{gated}, collab.Options{CheckInterval: time.Hour, Bus: bus.node(1)})
		defer b.Close()
		ctx := context.Background()
		log.text["d"] = "abc"
		if _, _, err := b.Snapshot(ctx, "d"); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		submit := func(seq int64) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := b.Submit(ctx, "d", collab.Submission{Version: -1, Op: ot.InsertAt(0, fmt.Sprint(seq)), Src: "on-b", Seq: seq}); err != nil {
					t.Errorf("seq %d: %v", seq, err)
				}
			}()
			synctest.Wait()
		}
		submit(1) // held at the gate
		submit(2)
		if _, err := a.Submit(ctx, "d", collab.Submission{Version: 0, Op: ot.InsertAt(3, "A"), Src: "on-a", Seq: 1}); err != nil {
			t.Fatal(err)
		}
		synctest.Wait() // a's message is in the document's inbox
		submit(3)
		close(gated.gate)
		wg.Wait()
		if got := gated.commits.Load(); got != 2 {
			t.Fatalf("%d commit transactions; want 2 (seq 1, then 2 and 3 together)", got)
		}
		if v, text := int64(len(log.ops["d"])), log.text["d"]; v != 4 || text != "321abcA" {
			t.Fatalf("store = v%d %q; want v4 \"321abcA\"", v, text)
		}
	})
}

// TestClusterLostMessage: a lost bus message delays a hub but never
// misleads it. The next message shows the gap, which is read from the
// store; with no next message the periodic check finds it.
func TestClusterLostMessage(t *testing.T) {
	for _, tc := range []struct {
		name  string
		check time.Duration
		ops   int // submitted on a; the first one's message is lost
	}{
		{"gap filled", time.Hour, 3},
		{"periodic check", 20 * time.Millisecond, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newCluster(t, 2, collab.Options{CheckInterval: tc.check})
			id := c.newDoc("abc")
			a, b := c.hubs[0], c.hubs[1]
			w := watch(t, b, id, "watcher")
			c.bus.dropNext("doc."+id+".ops", 1)
			for i := 0; i < tc.ops; i++ {
				if _, err := a.Submit(c.ctx, id, collab.Submission{Version: -1, Op: ot.InsertAt(0, fmt.Sprint(i)), Src: "on-a", Seq: int64(i + 1)}); err != nil {
					t.Fatal(err)
				}
			}
			w.waitFor(t, int64(tc.ops))
			s := b.Stats()
			if s.GapFills != 1 || s.RemoteOps != int64(tc.ops) {
				t.Fatalf("stats = %+v; want 1 gap fill, %d remote ops", s, tc.ops)
			}
			c.settle(t, id)
		})
	}
}

// TestClusterResendAfterReconnect: a client whose op was committed
// through one hub reconnects to another and sends it again; whether that
// hub has heard of the op or not, it is acknowledged as a duplicate at
// its version and applied once.
func TestClusterResendAfterReconnect(t *testing.T) {
	for _, rebasing := range []bool{false, true} {
		t.Run(map[bool]string{false: "retrying", true: "rebasing"}[rebasing], func(t *testing.T) {
			testResendAfterReconnect(t, rebasing)
		})
	}
}

func testResendAfterReconnect(t *testing.T, rebasing bool) {
	c := newClusterOf(t, 2, collab.Options{CheckInterval: time.Hour}, rebasing)
	id := c.newDoc("abc")
	a, b := c.hubs[0], c.hubs[1]
	if _, _, err := b.Snapshot(c.ctx, id); err != nil {
		t.Fatal(err)
	}
	c.bus.dropNext("doc."+id+".ops", 1) // b never hears of it
	op := collab.Submission{Version: 0, Op: ot.InsertAt(1, "x"), Src: "ada.1", Seq: 1, Author: "ada"}
	if ack, err := a.Submit(c.ctx, id, op); err != nil || ack.Version != 0 {
		t.Fatalf("first = %+v, %v", ack, err)
	}
	for i := 0; i < 2; i++ {
		ack, err := b.Submit(c.ctx, id, op)
		if err != nil || !ack.Duplicate || ack.Version != 0 {
			t.Fatalf("resend %d = %+v, %v; want a duplicate at version 0", i, ack, err)
		}
	}
	c.settle(t, id)
	if v, text := c.stored(id); v != 1 || text != "axbc" {
		t.Fatalf("store = v%d %q; want the op once", v, text)
	}
	if s := b.Stats(); rebasing && (s.Conflicts != 0 || s.Rebases != 1) {
		t.Fatalf("b's stats = %+v; want the first resend rebased into a duplicate", s)
	}
}

// TestClusterPresence: presence crosses hubs on the bus, moved through
// the ops like local presence. A presence at a version the receiving hub
// has not reached is held until it catches up, then relayed.
func TestClusterPresence(t *testing.T) {
	c := newCluster(t, 2, collab.Options{CheckInterval: 20 * time.Millisecond})
	id := c.newDoc("hello")
	a, b := c.hubs[0], c.hubs[1]
	alice := collab.NewSubscriber("alice", "u1", 16)
	bob := collab.NewSubscriber("bob", "u2", 16)
	if _, _, _, err := a.Subscribe(c.ctx, id, alice, -1); err != nil {
		t.Fatal(err)
	}
	if err := a.SubscribePresence(c.ctx, id, alice); err != nil {
		t.Fatal(err)
	}
	if err := b.SubscribePresence(c.ctx, id, bob); err != nil {
		t.Fatal(err)
	}
	if ev := nextEvent(t, alice); !ev.PresenceRequest {
		t.Fatalf("alice got %+v; want a presence request when bob joined on b", ev)
	}
	if _, err := b.SubmitPresence(c.ctx, id, collab.Presence{Src: "bob", ID: "cursor", Version: 0, Value: json.RawMessage(`{"index":1}`), Seq: 1}); err != nil {
		t.Fatal(err)
	}
	if ev := nextEvent(t, alice); ev.Presence == nil || ev.Presence.Src != "bob" || string(ev.Presence.Value) != `{"index":1}` {
		t.Fatalf("alice got %+v; want bob's cursor", ev)
	}
	// b commits an op whose message is lost, then moves bob's cursor
	// at the new version: a holds it until its check catches up.
	c.bus.dropNext("doc."+id+".ops", 1)
	if _, err := b.Submit(c.ctx, id, collab.Submission{Version: 0, Op: ot.InsertAt(0, "XY"), Src: "carol", Seq: 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.SubmitPresence(c.ctx, id, collab.Presence{Src: "bob", ID: "cursor", Version: 1, Value: json.RawMessage(`{"index":3}`), Seq: 2}); err != nil {
		t.Fatal(err)
	}
	if ev := nextEvent(t, alice); ev.Op == nil || ev.Op.Version != 0 {
		t.Fatalf("alice got %+v; want carol's op first", ev)
	}
	if ev := nextEvent(t, alice); ev.Presence == nil || ev.Presence.Version != 1 || string(ev.Presence.Value) != `{"index":3}` {
		t.Fatalf("alice got %+v; want bob's cursor at version 1", ev)
	}
	b.UnsubscribePresence(id, bob)
	if ev := nextEvent(t, alice); ev.Presence == nil || ev.Presence.Src != "bob" || string(ev.Presence.Value) != "null" {
		t.Fatalf("alice got %+v; want bob gone", ev)
	}
}

// TestClusterUnloadUnsubscribes: a document listens to its subjects while
// it is loaded, and a document loaded again reads the store's state.
func TestClusterUnloadUnsubscribes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCluster(t, 2, collab.Options{IdleTimeout: time.Minute})
		id := c.newDoc("abc")
		a, b := c.hubs[0], c.hubs[1]
		if _, _, err := b.Snapshot(c.ctx, id); err != nil {
			t.Fatal(err)
		}
		if got := c.bus.subscriptions("doc." + id + ".ops"); got != 1 {
			t.Fatalf("%d subscriptions while loaded; want 1", got)
		}
		time.Sleep(2 * time.Minute)
		synctest.Wait()
		if got := c.bus.subscriptions("doc." + id + ".ops"); got != 0 || b.OpenDocuments() != 0 {
			t.Fatalf("after the idle time: %d subscriptions, %d open; want none", got, b.OpenDocuments())
		}
		if _, err := a.Submit(c.ctx, id, collab.Submission{Version: -1, Op: ot.InsertAt(0, "x"), Src: "on-a", Seq: 1}); err != nil {
			t.Fatal(err)
		}
		if v, text, err := b.Snapshot(c.ctx, id); err != nil || v != 1 || text != "xabc" {
			t.Fatalf("loaded again: v%d %q %v", v, text, err)
		}
	})
}

// TestClusterClientAhead: a client that saw a version through another
// hub names it before this hub has heard of it (a lost message, or one
// still on its way): the hub catches up from the store rather than
// refusing the version as newer than the document.
func TestClusterClientAhead(t *testing.T) {
	c := newCluster(t, 2, collab.Options{CheckInterval: time.Hour})
	id := c.newDoc("abc")
	a, b := c.hubs[0], c.hubs[1]
	if _, _, err := b.Snapshot(c.ctx, id); err != nil {
		t.Fatal(err)
	}
	c.bus.dropNext("doc."+id+".ops", 2)
	for i := 0; i < 2; i++ {
		if _, err := a.Submit(c.ctx, id, collab.Submission{Version: -1, Op: ot.InsertAt(0, "x"), Src: "on-a", Seq: int64(i + 1)}); err != nil {
			t.Fatal(err)
		}
	}
	sub := collab.NewSubscriber("client", "u", 16)
	v, _, ops, err := b.Subscribe(c.ctx, id, sub, 1)
	if err != nil || v != 2 || len(ops) != 1 || ops[0].Version != 1 {
		t.Fatalf("Subscribe from 1 = v%d %d ops %v; want v2 and op 1", v, len(ops), err)
	}
	if _, err := b.Submit(c.ctx, id, collab.Submission{Version: 2, Op: ot.InsertAt(0, "y"), Src: "client", Seq: 1}); err != nil {
		t.Fatalf("Submit at version 2: %v", err)
	}
	c.settle(t, id)
}

// TestClusterStaleSnapshot: a loaded document with no subscribers serves
// no snapshot older than a check interval, though the message of a
// commit on another hub was lost; and the other hub's ops do not keep it
// loaded.
func TestClusterStaleSnapshot(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCluster(t, 2, collab.Options{CheckInterval: time.Second, IdleTimeout: time.Minute})
		id := c.newDoc("abc")
		a, b := c.hubs[0], c.hubs[1]
		if _, _, err := b.Snapshot(c.ctx, id); err != nil {
			t.Fatal(err)
		}
		c.bus.dropNext("doc."+id+".ops", 1)
		if _, err := a.Submit(c.ctx, id, collab.Submission{Version: -1, Op: ot.InsertAt(0, "x"), Src: "on-a", Seq: 1}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(1100 * time.Millisecond)
		if v, text, err := b.Snapshot(c.ctx, id); err != nil || v != 1 || text != "xabc" {
			t.Fatalf("after a check interval: v%d %q %v; want v1", v, text, err)
		}
		// a's ops keep coming over the bus; nobody uses the document on b.
		for i := 2; i < 10; i++ {
			time.Sleep(10 * time.Second)
			if _, err := a.Submit(c.ctx, id, collab.Submission{Version: -1, Op: ot.InsertAt(0, "x"), Src: "on-a", Seq: int64(i)}); err != nil {
				t.Fatal(err)
			}
		}
		synctest.Wait()
		if b.OpenDocuments() != 0 {
			t.Fatal("remote ops kept a document nobody uses loaded")
		}
	})
}

// createDoc adds a document whose version 0 is its creation, as the
// real stores keep it, for the ShareDB protocol.
func (c *cluster) createDoc(text string) string {
	id := c.newDoc(text)
	op, _ := ot.InsertAt(0, text).MarshalJSON()
	c.log.mu.Lock()
	c.log.ops[id] = []*docket.OpRecord{{Version: 0, Author: "ada", Op: op}}
	c.log.mu.Unlock()
	return id
}

// readOp reads frames until the op or ack of document id at version v.
func (c *fakeConn) readOp(t *testing.T, v int64) map[string]any {
	t.Helper()
	for {
		m := c.nextNonPing(t)
		if m["a"] == "op" && m["v"] == float64(v) {
			return m
		}
	}
}

// TestClusterLive runs stock ShareDB frames over fake sockets on two
// hubs of a cluster: each client receives the other's ops, concurrent ops
// converge, and a client that reconnects to the other hub and resends
// its last op is acknowledged at the op's version without applying it
// again.
func TestClusterLive(t *testing.T) {
	c := newCluster(t, 2, collab.Options{CheckInterval: 50 * time.Millisecond})
	id := c.createDoc("abc")
	lives := []*collab.Live{collab.NewLive(c.hubs[0], c.docs, collab.LiveOptions{}), collab.NewLive(c.hubs[1], c.docs, collab.LiveOptions{})}
	serve := func(n int) *fakeConn {
		conn := newFakeConn()
		go lives[n].Serve(c.ctx, conn)
		return conn
	}
	one, two := serve(0), serve(1)
	defer one.Close()
	defer two.Close()
	if v := one.subscribe(t, id); v != 1 {
		t.Fatalf("one subscribed at v%d", v)
	}
	if v := two.subscribe(t, id); v != 1 {
		t.Fatalf("two subscribed at v%d", v)
	}
	send := func(conn *fakeConn, v, seq int64, op string) {
		conn.in <- []byte(fmt.Sprintf(`{"a":"op","c":"docs","d":%q,"v":%d,"seq":%d,"op":%s}`, id, v, seq, op))
	}
	send(one, 1, 1, `["A"]`)
	ack := one.readOp(t, 1)
	src1, _ := ack["src"].(string)
	if ack["op"] != nil || ack["seq"] != 1.0 {
		t.Fatalf("one's ack %v", ack)
	}
	if m := two.readOp(t, 1); m["src"] != src1 || m["op"] == nil {
		t.Fatalf("two got %v; want one's op", m)
	}
	// Both edit version 2 at once: one of them loses the race to commit
	// and is transformed over the other's op.
	send(one, 2, 2, `["1"]`)
	send(two, 2, 1, `[4,"2"]`)
	for _, conn := range []*fakeConn{one, two} {
		own := 0
		for v := int64(2); v < 4; v++ {
			if m := conn.readOp(t, v); m["op"] == nil {
				own++
			}
		}
		if own != 1 {
			t.Fatalf("%d acks among versions 2 and 3; want 1", own)
		}
	}
	c.settle(t, id)
	_, text := c.stored(id)
	if text != "1Aabc2" {
		t.Fatalf("text = %q", text)
	}
	// one's socket dies; it reconnects to the other hub and resends its
	// last op, which was committed.
	one.Close()
	three := serve(1)
	defer three.Close()
	if m := three.nextNonPing(t); m["a"] != "init" {
		t.Fatalf("first frame %v", m)
	}
	recs, _ := c.log.LoadOps(c.ctx, id, 2, 4)
	var want int64 = 2
	if recs[1].Src == src1 {
		want = 3
	}
	three.in <- []byte(fmt.Sprintf(`{"a":"op","c":"docs","d":%q,"v":2,"seq":2,"src":%q,"op":["1"]}`, id, src1))
	if m := three.readOp(t, want); m["src"] != src1 || m["seq"] != 2.0 || m["op"] != nil {
		t.Fatalf("resend answered %v; want the ack at v%d", m, want)
	}
	if v, got := c.stored(id); v != 4 || got != text {
		t.Fatalf("store = v%d %q; want v4 %q", v, got, text)
	}
}

// racingLog commits an op of "another node" just before each commit of
// its own, so that every commit of its hub conflicts.
type racingLog struct{ *memLog }

func (r racingLog) CommitOps(ctx context.Context, commits []docket.OpCommit) error {
	id := commits[0].DocID
	v, text, _ := r.LoadDocument(ctx, id)
	op, _ := ot.InsertAt(0, "r").MarshalJSON()
	if err := r.memLog.CommitOps(ctx, []docket.OpCommit{{DocID: id, Rec: docket.OpRecord{Version: v, Src: "racer", Seq: v + 1, Op: op}, Text: "r" + text}}); err != nil {
		return err
	}
	return r.memLog.CommitOps(ctx, commits)
}

// TestClusterConflictsBounded: a document that loses the race to commit
// again and again gives up after ten catch-ups with EUNAVAILABLE (the
// client resends), and stays at the store's state.
func TestClusterConflictsBounded(t *testing.T) {
	log := newMemLog()
	log.text["doc"] = "abc"
	h := collab.New(racingLog{log}, collab.Options{Bus: newMemBus().node(0), CheckInterval: time.Hour})
	defer h.Close()
	ctx := context.Background()
	_, err := h.Submit(ctx, "doc", collab.Submission{Version: 0, Op: ot.InsertAt(3, "!"), Src: "client", Seq: 1})
	if docket.ErrorCode(err) != docket.EUNAVAILABLE {
		t.Fatalf("err = %v; want EUNAVAILABLE", err)
	}
	if s := h.Stats(); s.Conflicts != 10 || s.ConflictFailures != 1 || s.RemoteOps != 11 || s.GapFills != 11 {
		t.Fatalf("stats = %+v; want 10 conflicts, 1 failure, 11 remote ops and gap fills", s)
	}
	v, text, _ := h.Snapshot(ctx, "doc")
	if sv, stext, _ := log.LoadDocument(ctx, "doc"); v != sv || text != stext || text != "rrrrrrrrrrrabc" {
		t.Fatalf("hub v%d %q; store v%d %q", v, text, sv, stext)
	}
}
