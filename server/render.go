package server

import (
	"container/list"
	"context"
	"errors"
	"sync"

	docket "github.com/docket-dev/docket"
)

// renderMemory estimates the most memory one render of n bytes of
// markdown holds at once. goldmark keeps a tree of the whole document:
// a megabyte of one-character lines allocated about 300 MB, half of it
// live at the end of the parse.
func renderMemory(n int) int64 { return 1<<20 + 160*int64(n) }

// Defaults of the render gate.
const (
	// defaultRenderMemory is how much memory the renders running at once
	// may hold, by renderMemory: one render of a document at the size
	// limit at a time, or many small ones.
	defaultRenderMemory = 192 << 20
)

// renderGate bounds the markdown renders running at once: at most slots
// of them, holding at most mem bytes by renderMemory, so that many
// readers of large documents cannot together take the server's memory
// and CPUs. A render that does not fit waits its turn, first come first
// served, for as long as its request lasts.
type renderGate struct {
	mu      sync.Mutex
	slots   int
	mem     int64
	maxMem  int64
	waiters list.List // of *renderWaiter
}

// renderWaiter is a render waiting for the gate.
type renderWaiter struct {
	mem   int64
	ready chan struct{}
}

func newRenderGate(slots int, mem int64) *renderGate {
	return &renderGate{slots: max(slots, 1), mem: mem, maxMem: mem}
}

// acquire waits until a render of n bytes may start or ctx is done, and
// returns the function that ends it.
func (g *renderGate) acquire(ctx context.Context, n int) (release func(), err error) {
	need := min(renderMemory(n), g.maxMem)
	release = func() { g.release(need) }
	g.mu.Lock()
	if g.waiters.Len() == 0 && g.fits(need) {
		g.take(need)
		g.mu.Unlock()
		return release, nil
	}
	w := &renderWaiter{mem: need, ready: make(chan struct{})}
	el := g.waiters.PushBack(w)
	g.mu.Unlock()
	select {
	case <-w.ready:
		return release, nil
	case <-ctx.Done():
	}
	g.mu.Lock()
	select {
	case <-w.ready: // granted while ctx ended
		g.mu.Unlock()
		release()
	default:
		g.waiters.Remove(el)
		g.grant() // the next in line may fit now
		g.mu.Unlock()
	}
	return nil, ctx.Err()
}

func (g *renderGate) fits(need int64) bool { return g.slots > 0 && g.mem >= need }

func (g *renderGate) take(need int64) {
	g.slots--
	g.mem -= need
}

func (g *renderGate) release(need int64) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.slots++
	g.mem += need
	g.grant()
}

// grant starts the waiters at the front of the line that fit. g.mu is
// held.
func (g *renderGate) grant() {
	for el := g.waiters.Front(); el != nil; el = g.waiters.Front() {
		w := el.Value.(*renderWaiter)
		if !g.fits(w.mem) {
			return
		}
		g.take(w.mem)
		g.waiters.Remove(el)
		close(w.ready)
	}
}

// renderMarkdown renders src through the gate.
func (s *Server) renderMarkdown(ctx context.Context, src string) (string, error) {
	release, err := s.renders.acquire(ctx, len(src))
	if err != nil {
		return "", err
	}
	defer release()
	return s.svc.Renderer.Render(ctx, src)
}

// renderFlight is a render of one version of a document that other
// readers of that version wait for instead of rendering it again.
type renderFlight struct {
	done chan struct{}
	r    *renderedHTML
	err  error
}

// flightKey names a version of a document.
type flightKey struct {
	docID   string
	version int64
}

// docHTMLAt returns the HTML of a document at a version: from the cache,
// from a render of that version under way, or rendered now from the text
// and version body reads (which may be newer). A failed render is cached as well, so the next reader of
// the version gets its error at once instead of spending the render
// budget again; the error is returned with the entry. Only the caller's
// context ending leaves nothing behind.
func (s *Server) docHTMLAt(ctx context.Context, docID string, version int64, body func() (string, int64, error)) (*renderedHTML, error) {
	for {
		if r := s.html.get(docID, version); r != nil {
			return r, r.err
		}
		key := flightKey{docID, version}
		s.flightMu.Lock()
		f := s.flights[key]
		if f == nil {
			f = &renderFlight{done: make(chan struct{})}
			s.flights[key] = f
			s.flightMu.Unlock()
			f.r, f.err = s.renderVersion(ctx, docID, body)
			s.flightMu.Lock()
			delete(s.flights, key)
			s.flightMu.Unlock()
			close(f.done)
			return f.r, f.err
		}
		s.flightMu.Unlock()
		select {
		case <-f.done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		// A render abandoned because its own reader left is tried again.
		if f.r != nil || !isContextErr(f.err) {
			return f.r, f.err
		}
	}
}

// renderVersion renders a document's text and caches the result, a
// failure included.
func (s *Server) renderVersion(ctx context.Context, docID string, body func() (string, int64, error)) (*renderedHTML, error) {
	src, version, err := body()
	if err != nil {
		return nil, err
	}
	html, err := s.renderMarkdown(ctx, src)
	if isContextErr(err) {
		return nil, err
	}
	if err != nil {
		s.log.Info("document not rendered", "doc", docID, "version", version, "err", err)
		r := s.html.putFailed(docID, version, err)
		return r, err
	}
	return s.html.put(docID, version, html), nil
}

// isContextErr reports whether err is a context's cancellation or
// deadline.
func isContextErr(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// unrenderable reports whether err says a document cannot be rendered (it
// is too large or too complex, or the markdown library failed on it), as
// opposed to the request failing.
func unrenderable(err error) bool {
	switch docket.ErrorCode(err) {
	case docket.ETOOLARGE, docket.EINVALID:
		return true
	}
	return false
}
