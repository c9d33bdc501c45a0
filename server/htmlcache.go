package server

import (
	"bytes"
	"compress/gzip"
	"container/list"
	"sync"
)

// renderedHTML is a document's HTML at one version, plain and gzipped,
// or the error that its render ended with.
type renderedHTML struct {
	docID   string
	version int64
	html    []byte
	gzipped []byte
	err     error
}

func (r *renderedHTML) size() int { return len(r.html) + len(r.gzipped) + 64 }

// htmlCache keeps the rendered HTML of the latest version seen of each
// document, or the failure of its render, least recently used evicted
// first, within a byte budget.
type htmlCache struct {
	mu    sync.Mutex
	max   int
	used  int
	order *list.List
	byID  map[string]*list.Element
}

func newHTMLCache(maxBytes int) *htmlCache {
	return &htmlCache{max: maxBytes, order: list.New(), byID: map[string]*list.Element{}}
}

// get returns the cached HTML of a document at a version.
func (c *htmlCache) get(docID string, version int64) *renderedHTML {
	c.mu.Lock()
	defer c.mu.Unlock()
	el := c.byID[docID]
	if el == nil {
		return nil
	}
	r := el.Value.(*renderedHTML)
	if r.version != version {
		return nil
	}
	c.order.MoveToFront(el)
	return r
}

// put stores rendered HTML, replacing an older version of the document.
func (c *htmlCache) put(docID string, version int64, html string) *renderedHTML {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	zw.Write([]byte(html))
	zw.Close()
	return c.store(&renderedHTML{docID: docID, version: version, html: []byte(html), gzipped: buf.Bytes()})
}

// putFailed stores that rendering a version of a document failed with err.
func (c *htmlCache) putFailed(docID string, version int64, err error) *renderedHTML {
	return c.store(&renderedHTML{docID: docID, version: version, err: err})
}

// store puts r in the cache unless a newer version is there, and returns
// it.
func (c *htmlCache) store(r *renderedHTML) *renderedHTML {
	docID, version := r.docID, r.version
	c.mu.Lock()
	defer c.mu.Unlock()
	if el := c.byID[docID]; el != nil {
		old := el.Value.(*renderedHTML)
		if old.version > version {
			return r
		}
		c.used -= old.size()
		c.order.Remove(el)
	}
	if r.size() > c.max {
		return r
	}
	c.byID[docID] = c.order.PushFront(r)
	c.used += r.size()
	for c.used > c.max {
		el := c.order.Back()
		old := el.Value.(*renderedHTML)
		c.order.Remove(el)
		delete(c.byID, old.docID)
		c.used -= old.size()
	}
	return r
}

// forget drops a document from the cache.
func (c *htmlCache) forget(docID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el := c.byID[docID]; el != nil {
		c.used -= el.Value.(*renderedHTML).size()
		c.order.Remove(el)
		delete(c.byID, docID)
	}
}
