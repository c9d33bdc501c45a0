package collab_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	docket "github.com/docket-dev/docket"
	"github.com/docket-dev/docket/collab"
	"github.com/docket-dev/docket/collab/ot"
)

// memLog is an op log in memory, so that a benchmark measures the hub
// and not the disk.
type memLog struct {
	mu   sync.Mutex
	text map[string]string
	ops  map[string][]*docket.OpRecord
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
