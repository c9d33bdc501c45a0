package server_test

import (
	"fmt"
	"net/url"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/docket-dev/docket/collab"
	"github.com/docket-dev/docket/collab/ot"
	"github.com/docket-dev/docket/search"
)

// BenchmarkIndexLag measures how long a word typed live takes to become
// searchable while 100 editors type into 10 documents (10 per document,
// one op every 100 ms each), with the production debounce. Each
// editor types a unique marker word every 10th op; a prober searches for
// each marker until it is found.
//
//	go test ./server -run '^$' -bench IndexLag -benchtime 1x
func BenchmarkIndexLag(b *testing.B) {
	const editors, docs, opsEach = 100, 10, 100
	for b.Loop() {
		e := &env{t: b, dir: b.TempDir(), searchDebounce: search.DefaultDebounce}
		e.start()
		ada := e.signup("Ada")
		sp := ada.createSpace("live")
		ids := make([]string, docs)
		for i := range ids {
			ids[i] = ada.createDoc(sp, fmt.Sprintf("Brainstorm %d", i), "start\n")
		}
		type marker struct {
			word string
			at   time.Time
		}
		markers := make(chan marker, editors*opsEach)
		var wg sync.WaitGroup
		for ed := range editors {
			wg.Add(1)
			go func() {
				defer wg.Done()
				id := ids[ed%docs]
				for n := range opsEach {
					word := " x"
					if n%10 == 9 {
						word = fmt.Sprintf(" mk%03dq%03d", ed, n)
					}
					_, err := e.hub.Submit(b.Context(), id, collab.Submission{Version: -1, Op: ot.InsertAt(0, word), Src: fmt.Sprint("ed", ed), Seq: int64(n + 1), Author: ada.id()})
					if err != nil {
						b.Error(err)
						return
					}
					if n%10 == 9 {
						markers <- marker{word[1:], time.Now()}
					}
					time.Sleep(100 * time.Millisecond)
				}
			}()
		}
		var lags []time.Duration
		var lagMu sync.Mutex
		var probes sync.WaitGroup
		probeDone := make(chan struct{})
		go func() {
			defer close(probeDone)
			for m := range markers {
				probes.Add(1)
				go func() {
					defer probes.Done()
					deadline := m.at.Add(10 * time.Second)
					for {
						if r := ada.search(url.Values{"q": {m.word}}); r.Total > 0 {
							lagMu.Lock()
							lags = append(lags, time.Since(m.at))
							lagMu.Unlock()
							return
						}
						if time.Now().After(deadline) {
							b.Errorf("%s not found after 10 s", m.word)
							return
						}
						time.Sleep(20 * time.Millisecond)
					}
				}()
			}
			probes.Wait()
		}()
		wg.Wait()
		close(markers)
		<-probeDone
		e.stop()
		slices.Sort(lags)
		if len(lags) > 0 {
			b.ReportMetric(float64(lags[len(lags)/2].Milliseconds()), "p50-lag-ms")
			b.ReportMetric(float64(lags[len(lags)*99/100].Milliseconds()), "p99-lag-ms")
			b.ReportMetric(float64(lags[len(lags)-1].Milliseconds()), "max-lag-ms")
		}
	}
}
