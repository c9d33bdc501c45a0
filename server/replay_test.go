package server_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/docket-dev/docket/internal/testenv"
)

// TestHistoryReplayPage: without JavaScript, ?v= shows that version's
// text, author and step links, and view=source its markdown with the
// change marked.
func TestHistoryReplayPage(t *testing.T) {
	f := newPageFixture(t)
	doc := "/api/docs/" + f.doc
	f.ada.must(http.StatusOK, "POST", doc+"/edits", map[string]any{"version": 1, "body": "# Storage engine\n\nUse **bbolt** for everything.\n"})
	f.ada.must(http.StatusOK, "POST", doc+"/edits", map[string]any{"version": 2, "body": "# Storage engine\n\nUse **SQLite** for everything.\n"})
	d := "/d/" + f.doc + "/history"
	for _, tc := range []struct {
		path      string
		want, not []string
	}{
		{d, []string{"<strong>Version 3</strong>", "<strong>SQLite</strong> for everything", `data-latest="3"`,
			`href="` + d + `?v=2#replay">← Previous version</a>`, `<span class="badge">Current</span>`}, []string{"Next version"}},
		{d + "?v=2", []string{`<output id="replay-out" for="replay-range">2</output> of 3`, `value="2" required`,
			"<strong>bbolt</strong> for everything", "· by Ada · <time", `<span class="added">+15</span>`,
			`href="` + d + `?v=1#replay">← Previous version</a>`, `href="` + d + `?v=3#replay">Next version →</a>`,
			`id="cmp-from" type="number" name="from" min="0" max="3" value="2"`, `id="cmp-to" type="number" name="to" min="0" max="3" value="3"`},
			[]string{"SQLite", "Current"}},
		{d + "?v=3&view=source", []string{"Use **<del>bbol</del><ins>SQLi</ins>t<ins>e</ins>** for everything.", `value="source" checked`,
			`href="` + d + `?v=2&amp;view=source#replay"`}, []string{`id="replay-text"`}},
		{d + "?v=0", []string{"<strong>Version 0</strong>", "before the first text", `name="from" min="0" max="3" value="0"`}, []string{"Previous version"}},
		{d + "?v=3", []string{`name="from" min="0" max="3" value="2"`, `name="to" min="0" max="3" value="3"`}, nil},
		{d + "?v=1&from=0&to=2", []string{`name="from" min="0" max="3" value="0"`, `name="to" min="0" max="3" value="2"`}, nil},
	} {
		t.Run(tc.path, func(t *testing.T) {
			p := f.ada.pageOK(tc.path)
			p.has(t, tc.want...)
			p.hasNot(t, tc.not...)
			for _, bad := range unsafeMarkup(p.body) {
				t.Errorf("unsafe markup: %s", bad)
			}
			checkLabels(t, p.body)
		})
	}
	if p := f.ada.page(d + "?v=4"); p.status != http.StatusBadRequest {
		t.Fatalf("?v=4 = %d; want 400", p.status)
	}
}

// TestVersionChangeAPI: versions/:v?change=1 answers who made the version,
// when, and the change as parts in UTF-16 lengths; html=1 the rendered text.
func TestVersionChangeAPI(t *testing.T) {
	f := newPageFixture(t)
	doc := "/api/docs/" + f.doc
	f.ada.must(http.StatusOK, "POST", doc+"/edits", map[string]any{"version": 1, "body": "# Storage engine\n\nUse 🐘 **bbolt**.\n"})
	r := f.ada.must(http.StatusOK, "GET", doc+"/versions/2?change=1&html=1", nil)
	if r.num("version") != 2 || r.num("latest") != 2 || r.str("author") != f.ada.id() || r.str("time") == "" ||
		r.str("body") != "# Storage engine\n\nUse 🐘 **bbolt**.\n" || r.num("added") != 2 || r.num("removed") != 0 {
		t.Fatalf("version 2 = %s", r.raw)
	}
	parts, _ := r.body["change"].([]any)
	want := []map[string]any{{"k": "=", "n": float64(22)}, {"k": "+", "n": float64(3)}, {"k": "=", "n": float64(11)}}
	if len(parts) != len(want) {
		t.Fatalf("change = %v; want %v", parts, want)
	}
	for i, w := range want {
		got := parts[i].(map[string]any)
		if got["k"] != w["k"] || got["n"] != w["n"] {
			t.Errorf("part %d = %v; want %v", i, got, w)
		}
	}
	if h := r.str("html"); h == "" || !strings.Contains(h, "<strong>bbolt</strong>") {
		t.Errorf("html = %q", h)
	}
	r = f.ada.must(http.StatusOK, "GET", doc+"/versions/0?change=1", nil)
	if r.str("body") != "" || r.body["author"] != nil {
		t.Errorf("version 0 = %s", r.raw)
	}
	f.ada.must(http.StatusBadRequest, "GET", doc+"/versions/3?change=1", nil)
}

// The history page lists live sessions with who took part and how much:
// someone who only watched reads as such, not as "0 edits".
func TestHistoryPageSessions(t *testing.T) {
	e, ada, doc := liveEnv(t, "hi")
	_, a, _ := twoEditors(t, e, ada, doc)
	a.typeAB(doc)
	// Counts of a running recording are stored within RecordingSave (5 s).
	var page *htmlPage
	if !testenv.Eventually(15*time.Second, func() bool {
		page = ada.pageOK("/d/" + doc + "/history")
		return strings.Contains(page.body, "Ada (2 edits), Bob (read along)") || strings.Contains(page.body, "Bob (read along), Ada (2 edits)")
	}) {
		t.Fatalf("history page lists no session with Ada's 2 edits and Bob reading along:\n%s", page.body)
	}
	page.has(t, "live now", `id="sessions"`)
}
