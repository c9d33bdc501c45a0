package collab

import (
	"context"
	"log/slog"
	"time"

	docket "github.com/docket-dev/docket"
)

// This file is the group commit: one committer goroutine per hub writes
// the ops of many documents in one durable transaction.

// commitRequest is a batch of commits from one document.
type commitRequest struct {
	commits []docket.OpCommit
	result  chan error
}

// maxBatch is the most requests a document handles, and the most commit
// requests the committer writes, at once.
const maxBatch = 256

// gather returns first and the values already waiting in ch, up to
// maxBatch in all, without waiting for more.
func gather[T any](ch <-chan T, first T) []T {
	batch := []T{first}
	for len(batch) < maxBatch {
		select {
		case v := <-ch:
			batch = append(batch, v)
		default:
			return batch
		}
	}
	return batch
}

// runCommitter writes commits in groups: while one transaction is being
// made durable, the requests that arrive wait and then go together into
// the next one, so one fsync serves many ops of many documents.
func (h *Hub) runCommitter() {
	defer h.wg.Done()
	for {
		var first *commitRequest
		select {
		case first = <-h.commits:
		case <-h.done:
			// Drain what was queued before the documents stopped.
			for {
				select {
				case r := <-h.commits:
					h.commit([]*commitRequest{r})
				default:
					return
				}
			}
		}
		h.commit(gather(h.commits, first))
	}
}

func (h *Hub) commit(batch []*commitRequest) {
	var all []docket.OpCommit
	for _, r := range batch {
		all = append(all, r.commits...)
	}
	start := time.Now()
	err := h.store.CommitOps(context.Background(), all)
	if err == nil && h.opts.ObserveCommit != nil {
		h.opts.ObserveCommit(len(all), time.Since(start))
	}
	if err != nil && len(batch) > 1 {
		// One document's failure must not fail the others: retry alone.
		for _, r := range batch {
			r.result <- h.store.CommitOps(context.Background(), r.commits)
		}
		return
	}
	if err != nil {
		h.log.Error("commit failed", slog.Any("err", err), slog.Int("ops", len(all)))
	}
	for _, r := range batch {
		r.result <- err
	}
}
