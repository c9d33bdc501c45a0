package server_test

import (
	"context"
	"net/http"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	docket "github.com/docket-dev/docket"
	"github.com/docket-dev/docket/markdown"
	"github.com/docket-dev/docket/server"
)

// countingRenderer counts the renders of the server's renderer and fails
// those of a text containing failMarker the way a render over its budget
// fails.
type countingRenderer struct {
	docket.Renderer
	calls atomic.Int64
}

const failMarker = "FAIL-RENDER"

func (r *countingRenderer) Render(ctx context.Context, src string) (string, error) {
	r.calls.Add(1)
	if strings.Contains(src, failMarker) {
		return "", docket.Errorf(docket.ETOOLARGE, "Document is too complex to render.")
	}
	return r.Renderer.Render(ctx, src)
}

// countingEnv starts a server whose renderer is counted.
func countingEnv(t *testing.T) (*env, *countingRenderer) {
	t.Helper()
	r := &countingRenderer{}
	e := &env{t: t, dir: t.TempDir(), cfg: server.Config{Signup: server.SignupOpen},
		services: func(svc *server.Services) { r.Renderer = svc.Renderer; svc.Renderer = r }}
	e.start()
	t.Cleanup(e.stop)
	return e, r
}

// A document whose render fails still opens: the page shows its text
// escaped under a notice, and the failure is remembered for the version,
// so that no reader renders it again until it changes.
func TestUnrenderableDocument(t *testing.T) {
	e, r := countingEnv(t)
	ada := e.signup("Ada")
	ada.createSpace("eng")
	body := failMarker + " <b>bold?</b> & [link](javascript:alert(1))"
	doc := ada.createDoc("eng", "Hostile", body)
	r.calls.Store(0)

	for range 2 {
		got := ada.do("GET", "/api/docs/"+doc+"/html", nil)
		if got.status != http.StatusRequestEntityTooLarge || got.errCode() != docket.ETOOLARGE {
			t.Fatalf("GET html = %d %s; want 413 too_large", got.status, got.raw)
		}
	}
	p := ada.pageOK("/d/" + doc)
	p.has(t, "This document could not be rendered: Document is too complex to render. Its text is shown as written.",
		`<pre class="unrendered">FAIL-RENDER &lt;b&gt;bold?&lt;/b&gt; &amp; [link](javascript:alert(1))</pre>`)
	p.hasNot(t, "<b>bold?</b>", `href="javascript`)
	ada.pageOK("/d/" + doc + "/panels")
	if got := r.calls.Load(); got != 1 {
		t.Errorf("renders of the failing version = %d; want 1", got)
	}

	ada.must(http.StatusOK, "POST", "/api/docs/"+doc+"/edits", map[string]any{"version": 1, "body": "Now **fine**."})
	if got := string(ada.must(http.StatusOK, "GET", "/api/docs/"+doc+"/html", nil).raw); !strings.Contains(got, "<strong>fine</strong>") {
		t.Errorf("GET html after the fix = %.200s", got)
	}
	ada.pageOK("/d/"+doc).hasNot(t, "could not be rendered")
	if got := r.calls.Load(); got != 2 {
		t.Errorf("renders = %d; want 2 (one per version)", got)
	}
}

// Readers of a version that is not rendered yet wait for one render of
// it instead of each rendering it.
func TestParallelReadersRenderOnce(t *testing.T) {
	e, r := countingEnv(t)
	ada := e.signup("Ada")
	ada.createSpace("eng")
	doc := ada.createDoc("eng", "Long", strings.Repeat("A *long* paragraph with [links](https://example.com).\n\n", 5000))
	r.calls.Store(0)
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			path := "/api/docs/" + doc + "/html"
			if i%2 == 1 {
				path = "/d/" + doc
			}
			if got := ada.do("GET", path, nil); got.status != http.StatusOK {
				t.Errorf("GET %s = %d", path, got.status)
			}
		})
	}
	wg.Wait()
	if got := r.calls.Load(); got != 1 {
		t.Errorf("renders = %d; want 1", got)
	}
}

// hostileBodies are documents at the size limit on which the markdown
// parser was quadratic in time or memory.
func hostileBodies() map[string]string {
	const half = docket.MaxDocumentBytes / 2
	return map[string]string{
		"brackets":          strings.Repeat("[", half) + strings.Repeat("]", half),
		"brackets on lines": strings.Repeat("[\n", half/2) + strings.Repeat("]\n", half/2),
		"unclosed links":    strings.Repeat("[a](", docket.MaxDocumentBytes/4),
		"emphasis":          strings.Repeat("*a_ ", docket.MaxDocumentBytes/4),
	}
}

// 16 parallel readers of documents at the size limit built to be hard to
// parse keep the heap within bounds: renders are bounded in number and
// in the memory they hold, and each is near-linear. Before, 8 readers of
// the brackets document took the server past 2 GiB.
func TestHostileReadersMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("renders megabytes of hostile markdown")
	}
	// A budget long enough for the race detector's slowdown: every
	// render must finish for the memory it takes to count.
	e := &env{t: t, dir: t.TempDir(), cfg: server.Config{Signup: server.SignupOpen},
		services: func(svc *server.Services) { svc.Renderer = markdown.New(markdown.Options{MaxRenderTime: time.Minute}) }}
	e.start()
	t.Cleanup(e.stop)
	ada := e.signup("Ada")
	ada.createSpace("eng")
	var docs []string
	for name, body := range hostileBodies() {
		for range 2 { // two of each: different documents, rendered apart
			docs = append(docs, ada.createDoc("eng", name, body))
		}
	}
	// As `docket serve --memory-limit` does: the collector works harder
	// near the limit, so the peak is what the renders hold, not garbage
	// a busy machine's collector has not reached yet.
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(384 << 20))
	runtime.GC()
	var base runtime.MemStats
	runtime.ReadMemStats(&base)
	var peak atomic.Uint64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() { // the heap in use, sampled while the readers run
		defer close(sampled)
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			if m.HeapInuse > peak.Load() {
				peak.Store(m.HeapInuse)
			}
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()
	start := time.Now()
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			doc := docs[i%len(docs)]
			if got := ada.do("GET", "/d/"+doc, nil); got.status != http.StatusOK {
				t.Errorf("GET /d/%s = %d", doc, got.status)
			}
			if got := ada.do("GET", "/api/docs/"+doc+"/html", nil); got.status != http.StatusOK {
				t.Errorf("GET html of %s = %d %.200s", doc, got.status, got.raw)
			}
		})
	}
	wg.Wait()
	close(stop)
	<-sampled
	grew := int64(peak.Load()) - int64(base.HeapInuse)
	t.Logf("16 readers of %d hostile documents: %v, heap in use grew by at most %d MiB", len(docs), time.Since(start), grew>>20)
	if grew > 512<<20 {
		t.Errorf("heap in use grew by %d MiB; want < 512 (the issue's bound for the server; 3 GiB before the render gate)", grew>>20)
	}
}
