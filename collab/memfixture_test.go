package collab_test

import (
	"context"
	"fmt"
	"testing"

	docket "github.com/docket-dev/docket"
	"github.com/docket-dev/docket/collab"
)

// memFixture is a hub's storage in memory (no file, no fsync), for tests
// that run in a testing/synctest bubble, where time moves only when every
// goroutine waits: a timer (a writer's idle time, a document's idle
// timeout) fires at a known moment and a check that nothing more comes
// is exact after synctest.Wait.
type memFixture struct {
	log  *memLog
	docs memDocs
	ctx  context.Context // signed in as Ada
}

func newMemFixture() *memFixture {
	log := newMemLog()
	ctx := docket.NewContextWithUser(context.Background(), &docket.User{ID: "ada", Name: "Ada"})
	return &memFixture{log: log, docs: memDocs{log}, ctx: ctx}
}

// newDoc adds a document with text at version 0 and returns its id.
func (f *memFixture) newDoc(text string) string {
	f.log.mu.Lock()
	defer f.log.mu.Unlock()
	id := fmt.Sprintf("doc%d", len(f.log.text)+1)
	f.log.text[id] = text
	return id
}

// hub starts a hub over the fixture's log, closed when the test ends.
func (f *memFixture) hub(t *testing.T, opts collab.Options) *collab.Hub {
	h := collab.New(f.log, opts)
	t.Cleanup(h.Close)
	return h
}

// memDocs serves the documents of a memLog to Live; everyone is an
// editor. Only the current text can be read.
type memDocs struct{ log *memLog }

var _ collab.Documents = memDocs{}

func (d memDocs) FindDocumentMeta(ctx context.Context, id string) (*docket.Document, error) {
	d.log.mu.Lock()
	defer d.log.mu.Unlock()
	if _, ok := d.log.text[id]; !ok {
		return nil, docket.Errorf(docket.ENOTFOUND, "Document not found.")
	}
	return &docket.Document{ID: id, Title: "T", Version: int64(len(d.log.ops[id])), Role: docket.RoleEditor}, nil
}

func (d memDocs) DocumentAt(ctx context.Context, id string, version int64) (string, error) {
	d.log.mu.Lock()
	defer d.log.mu.Unlock()
	text, ok := d.log.text[id]
	if !ok {
		return "", docket.Errorf(docket.ENOTFOUND, "Document not found.")
	}
	if version != int64(len(d.log.ops[id])) {
		return "", docket.Errorf(docket.EINVALID, "Only the current version is kept in memory.")
	}
	return text, nil
}

func (d memDocs) FindOps(ctx context.Context, id string, from, to int64, limit int) ([]*docket.OpRecord, error) {
	d.log.mu.Lock()
	defer d.log.mu.Unlock()
	ops, ok := d.log.ops[id]
	if _, known := d.log.text[id]; !known && !ok {
		return nil, docket.Errorf(docket.ENOTFOUND, "Document not found.")
	}
	to = min(to, int64(len(ops)), from+int64(limit))
	if from >= to {
		return nil, nil
	}
	return append([]*docket.OpRecord(nil), ops[from:to]...), nil
}
