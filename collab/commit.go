package collab

import (
	"context"
	"log/slog"
	"slices"
	"time"

	docket "github.com/docket-dev/docket"
)

// This file is the group commit: one committer goroutine per hub writes
// the ops of many documents in one durable transaction.

// commitRequest is a batch of commits from one document.
type commitRequest struct {
	docID   string
	commits []docket.OpCommit
	// rebase, with a store that rebases ([docket.OpRebaser]), brings the
	// commits up to date over the ops other nodes committed before them.
	// It runs in the committer goroutine, inside the transaction, while
	// the document's goroutine waits for result (document.commitAll).
	rebase func(missing []*docket.OpRecord) ([]docket.OpCommit, error)
	result chan error
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
	err := h.commitAll(batch)
	if err == nil {
		h.answer(batch, nil)
		return
	}
	switch {
	case len(batch) == 1:
		if docket.ErrorCode(err) != docket.ECONFLICT { // a conflict is caught up
			h.log.Error("commit failed", slog.Any("err", err), slog.Int("ops", len(batch[0].commits)))
		}
		h.answer(batch, err)
	case docket.ErrorCode(err) == docket.ECONFLICT:
		// In a cluster another node committed first to one of the
		// documents: halves go again, so that the others commit in a
		// few transactions rather than one each.
		h.commitHalves(batch)
	default:
		// One document's failure must not fail the others: retry alone.
		for _, r := range batch {
			r.result <- h.commitAll([]*commitRequest{r})
		}
	}
}

// commitHalves commits each half of a batch that had a conflict, and
// splits a half that has one again, down to the documents that conflict,
// which are answered with it.
func (h *Hub) commitHalves(batch []*commitRequest) {
	mid := len(batch) / 2
	for _, half := range [][]*commitRequest{batch[:mid], batch[mid:]} {
		err := h.commitAll(half)
		if err != nil && len(half) > 1 && docket.ErrorCode(err) == docket.ECONFLICT {
			h.commitHalves(half)
			continue
		}
		h.answer(half, err)
	}
}

// commitAll writes the commits of a batch in one transaction. With a
// store that rebases, a document another node committed to first is
// brought up to date inside it, and its request keeps the commits that
// were written (or will be, if the transaction is tried again).
func (h *Hub) commitAll(batch []*commitRequest) error {
	all := batch[0].commits
	if len(batch) > 1 {
		all = nil
		for _, r := range batch {
			all = append(all, r.commits...)
		}
	}
	if len(all) == 0 { // a retry of documents whose rebase left nothing to write
		return nil
	}
	start := time.Now()
	n := len(all)
	var err error
	if h.rebaser == nil {
		err = h.store.CommitOps(context.Background(), all)
	} else {
		err = h.rebaser.CommitOpsRebasing(context.Background(), all, func(docID string, missing []*docket.OpRecord) ([]docket.OpCommit, error) {
			i := slices.IndexFunc(batch, func(r *commitRequest) bool { return r.docID == docID })
			if i < 0 || batch[i].rebase == nil {
				return nil, docket.Errorf(docket.EINTERNAL, "The store rebased document %s, which is not in the commit.", docID)
			}
			r := batch[i]
			commits, err := r.rebase(missing)
			if err != nil {
				return nil, err
			}
			h.stats.rebases.Add(1)
			n += len(commits) - len(r.commits)
			r.commits = commits
			return commits, nil
		})
	}
	if err == nil && h.opts.ObserveCommit != nil {
		h.opts.ObserveCommit(n, time.Since(start))
	}
	return err
}

func (h *Hub) answer(batch []*commitRequest, err error) {
	for _, r := range batch {
		r.result <- err
	}
}
