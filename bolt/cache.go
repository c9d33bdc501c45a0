package bolt

import (
	"slices"
	"sync"

	docket "github.com/docket-dev/docket"
)

// readCache holds what reads found, each value with the write generation
// of the data file it was read at (DB.gen): a value is good while no write
// transaction has committed since. The generation is read before the read
// transaction begins and bumped after a write commits, so a value read
// before a change is never taken for one read after it. What it saves is
// the transaction and the decoding of the records, which dominate small
// hot reads (the token of every API request, the metadata of a document
// read again and again); a data file that changes all the time simply
// misses. When it holds max values it starts again empty.
type readCache[K comparable, V any] struct {
	mu  sync.Mutex
	m   map[K]cached[V]
	max int
}

type cached[V any] struct {
	gen uint64
	v   V
}

func newReadCache[K comparable, V any](max int) *readCache[K, V] {
	return &readCache[K, V]{m: map[K]cached[V]{}, max: max}
}

// get returns the value of k if it was read at generation gen.
func (c *readCache[K, V]) get(k K, gen uint64) (V, bool) {
	c.mu.Lock()
	e, ok := c.m[k]
	c.mu.Unlock()
	if !ok || e.gen != gen {
		var zero V
		return zero, false
	}
	return e.v, true
}

// put keeps v as the value of k read at generation gen.
func (c *readCache[K, V]) put(k K, gen uint64, v V) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= c.max {
		clear(c.m)
	}
	c.m[k] = cached[V]{gen, v}
}

// metaKey names a document's metadata as one caller reads it (the role in
// it is the caller's).
type metaKey struct {
	docID, userID string
	system        bool
}

// cloneDoc copies a document deeply enough that the copy's lists and
// process records can be changed without changing d's.
func cloneDoc(d *docket.Document) *docket.Document {
	c := *d
	c.Tags = slices.Clone(d.Tags)
	if d.Reviewers != nil {
		c.Reviewers = make([]*docket.Reviewer, len(d.Reviewers))
		for i, r := range d.Reviewers {
			rc := *r
			c.Reviewers[i] = &rc
		}
	}
	if d.Decision != nil {
		dc := *d.Decision
		c.Decision = &dc
	}
	return &c
}
