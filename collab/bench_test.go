package collab_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	docket "github.com/docket-dev/docket"
	"github.com/docket-dev/docket/collab"
	"github.com/docket-dev/docket/collab/ot"
)

// memLog is an op log in memory, so that a benchmark measures the hub
// and not the disk.
type memLog struct {
	// writer serialises commits, as the stores' writer lock does; mu
	// guards the data, so that reads never wait for a commit's rebase.
	writer sync.Mutex
	mu     sync.Mutex
	text   map[string]string
	ops    map[string][]*docket.OpRecord
}

func newMemLog() *memLog {
	return &memLog{text: map[string]string{}, ops: map[string][]*docket.OpRecord{}}
}

func (m *memLog) LoadDocument(ctx context.Context, id string) (int64, string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	text, ok := m.text[id]
	if !ok {
		return 0, "", docket.Errorf(docket.ENOTFOUND, "No such document.")
	}
	return int64(len(m.ops[id])), text, nil
}

func (m *memLog) LoadOps(ctx context.Context, id string, from, to int64) ([]*docket.OpRecord, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	ops := m.ops[id]
	to = min(to, int64(len(ops)))
	if from < 0 || from >= to {
		return nil, nil
	}
	return append([]*docket.OpRecord(nil), ops[from:to]...), nil
}

// CommitOps checks every version before it writes anything, like one
// transaction of the real stores: all or nothing.
func (m *memLog) CommitOps(ctx context.Context, commits []docket.OpCommit) error {
	return m.commit(commits, nil)
}

// commit is CommitOps, or with rebase [docket.OpRebaser.CommitOpsRebasing]:
// a document whose first commit is behind it has its commits replaced by
// what rebase makes of the ops it missed.
func (m *memLog) commit(commits []docket.OpCommit, rebase func(string, []*docket.OpRecord) ([]docket.OpCommit, error)) error {
	m.writer.Lock()
	defer m.writer.Unlock()
	if rebase != nil {
		var order []string
		byDoc := map[string][]docket.OpCommit{}
		for _, c := range commits {
			if _, ok := byDoc[c.DocID]; !ok {
				order = append(order, c.DocID)
			}
			byDoc[c.DocID] = append(byDoc[c.DocID], c)
		}
		commits = nil
		for _, id := range order {
			cs := byDoc[id]
			m.mu.Lock()
			ops := m.ops[id]
			var missing []*docket.OpRecord
			if at := cs[0].Rec.Version; at < int64(len(ops)) {
				missing = append(missing, ops[at:]...)
			}
			m.mu.Unlock()
			if len(missing) > 0 {
				var err error
				if cs, err = rebase(id, missing); err != nil {
					return err
				}
			}
			commits = append(commits, cs...)
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	next := map[string]int64{}
	for _, c := range commits {
		n, ok := next[c.DocID]
		if !ok {
			n = int64(len(m.ops[c.DocID]))
		}
		if c.Rec.Version != n {
			return docket.Errorf(docket.ECONFLICT, "version %d of %s is not next (%d)", c.Rec.Version, c.DocID, n)
		}
		next[c.DocID] = n + 1
	}
	for _, c := range commits {
		rec := c.Rec
		m.ops[c.DocID] = append(m.ops[c.DocID], &rec)
		m.text[c.DocID] = c.Text
	}
	return nil
}

// rebasingLog is a memLog that rebases a commit behind its document
// inside the commit, as bolt's LiveStore does. Its first failures
// commits fail after their rebase, as a transaction that fails late.
type rebasingLog struct {
	*memLog
	failures atomic.Int64
}

var errStoreDown = docket.Errorf(docket.EUNAVAILABLE, "The store is down.")

func (r *rebasingLog) CommitOpsRebasing(ctx context.Context, commits []docket.OpCommit, rebase func(string, []*docket.OpRecord) ([]docket.OpCommit, error)) error {
	return r.commit(commits, func(id string, missing []*docket.OpRecord) ([]docket.OpCommit, error) {
		out, err := rebase(id, missing)
		if err == nil && r.failures.Add(-1) >= 0 {
			return nil, errStoreDown
		}
		return out, err
	})
}

// BenchmarkBurst measures what the start of a load test asks of the hub:
// n subscribers of one document each submit an op at version 0 at the
// same moment, and each must receive the n-1 ops of the others. One
// iteration is one burst on a fresh document; the store is in memory.
func BenchmarkBurst(b *testing.B) {
	for _, n := range []int{10, 100} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			log := newMemLog()
			hub := collab.New(log, collab.Options{})
			defer hub.Close()
			ctx := context.Background()
			for i := 0; b.Loop(); i++ {
				doc := fmt.Sprintf("doc%d", i)
				log.mu.Lock()
				log.text[doc] = ""
				log.mu.Unlock()
				var wg sync.WaitGroup
				start := make(chan struct{})
				for c := 0; c < n; c++ {
					src := fmt.Sprintf("c%d", c)
					sub := collab.NewSubscriber(src, "u", 10*n)
					if _, _, _, err := hub.Subscribe(ctx, doc, sub, 0); err != nil {
						b.Fatal(err)
					}
					wg.Add(2)
					go func() { // the subscriber's reader
						defer wg.Done()
						for seen := 0; seen < n-1; {
							<-sub.Ready()
							for _, ev := range sub.Take() {
								if ev.Op != nil {
									seen++
								}
							}
						}
					}()
					go func() { // its editor
						defer wg.Done()
						<-start
						if _, err := hub.Submit(ctx, doc, collab.Submission{Version: 0, Op: ot.InsertAt(0, "x"), Src: src, Seq: 1, Author: "u"}); err != nil {
							b.Error(err)
						}
					}()
				}
				close(start)
				wg.Wait()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n)/1e3, "µs/submit")
		})
	}
}

// BenchmarkCluster measures an op's cost when the hub is one node of a
// cluster: ops alternate between two hubs on one in-memory store and bus
// (each publishes, the other applies it as a remote op, and an op that
// reaches a hub before the last one did loses the race to commit and is
// transformed again), against the same ops on a single hub. Each hub
// has one subscriber that reads everything. One iteration is one op.
func BenchmarkCluster(b *testing.B) {
	for _, bc := range []struct {
		name string
		hubs func(b *testing.B) (*memLog, []*collab.Hub)
	}{
		{"single", func(b *testing.B) (*memLog, []*collab.Hub) {
			log := newMemLog()
			h := collab.New(log, collab.Options{})
			b.Cleanup(h.Close)
			return log, []*collab.Hub{h, h}
		}},
		{"two hubs", func(b *testing.B) (*memLog, []*collab.Hub) {
			c := newCluster(b, 2, collab.Options{})
			return c.log, c.hubs
		}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			log, hubs := bc.hubs(b)
			log.mu.Lock()
			log.text["doc"] = "hello world"
			log.mu.Unlock()
			ctx := context.Background()
			done := make(chan struct{})
			var wg sync.WaitGroup
			for i, h := range hubs {
				sub := collab.NewSubscriber(fmt.Sprint("reader", i), "u", 1<<20)
				if _, _, _, err := h.Subscribe(ctx, "doc", sub, -1); err != nil {
					b.Fatal(err)
				}
				wg.Add(1)
				go func() {
					defer wg.Done()
					for {
						select {
						case <-sub.Ready():
							sub.Take()
						case <-done:
							return
						}
					}
				}()
			}
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				op := ot.InsertAt(0, "x")
				if i%2 == 1 {
					op = ot.Op{{Delete: 1}}
				}
				if _, err := hubs[i%2].Submit(ctx, "doc", collab.Submission{Version: -1, Op: op, Src: "editor", Seq: int64(i + 1), Author: "u"}); err != nil {
					b.Fatal(err)
				}
			}
			close(done)
			wg.Wait()
			if hubs[0] != hubs[1] {
				var conflicts int64
				for _, h := range hubs {
					conflicts += h.Stats().Conflicts
				}
				b.ReportMetric(float64(conflicts)/float64(b.N), "conflicts/op")
			}
		})
	}
}
