package server_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	docket "github.com/docket-dev/docket"
	"github.com/docket-dev/docket/bolt"
	"github.com/docket-dev/docket/internal/testenv"
	"github.com/docket-dev/docket/markdown"
)

type searchResult struct {
	Total int `json:"total"`
	Hits  []struct {
		Type      string   `json:"type"`
		DocID     string   `json:"docId"`
		Title     string   `json:"title"`
		Fragments []string `json:"fragments"`
		URL       string   `json:"url"`
	} `json:"hits"`
	Facets     map[string][]docket.FacetCount `json:"facets"`
	Rebuilding bool                           `json:"rebuilding"`
}

func (c *client) search(params url.Values) searchResult {
	c.e.t.Helper()
	r := c.must(http.StatusOK, "GET", "/api/search?"+params.Encode(), nil)
	var res searchResult
	if err := json.Unmarshal(r.raw, &res); err != nil {
		c.e.t.Fatal(err)
	}
	return res
}

// waitSearch polls a search until ok holds, for at most 5 s: indexing
// follows commits asynchronously.
func (c *client) waitSearch(q string, ok func(searchResult) bool) searchResult {
	c.e.t.Helper()
	var res searchResult
	if !testenv.Eventually(5*time.Second, func() bool {
		res = c.search(url.Values{"q": {q}})
		return ok(res)
	}) {
		c.e.t.Fatalf("search %q: still %+v after 5 s", q, res)
	}
	return res
}

func hasTotal(n int) func(searchResult) bool {
	return func(r searchResult) bool { return r.Total == n }
}

func TestSearchFindsWhatIsWritten(t *testing.T) {
	_, ada, sp := adaSpace(t)
	doc := ada.createDoc(sp, "Storage engine", "# Storage engine\n\nWe pick a write-ahead log\nwith group commit.\n")

	res := ada.waitSearch(`"ahead log with group"`, hasTotal(1))
	h := res.Hits[0]
	if h.DocID != doc || h.Type != "document" || h.Title != "Storage engine" || h.URL != "/d/"+doc {
		t.Errorf("hit = %+v", h)
	}
	if !strings.Contains(strings.Join(h.Fragments, " "), "<mark>") {
		t.Errorf("fragments lack a highlight: %q", h.Fragments)
	}
	if got := res.Facets["space"]; len(got) != 1 || got[0].Value != sp || got[0].Label != "eng" || got[0].Count != 1 {
		t.Errorf("space facet = %+v", got)
	}

	// An edit is found after the debounce; the old text is not.
	ada.must(http.StatusOK, "POST", "/api/docs/"+doc+"/edits", map[string]any{"version": 1, "body": "# Storage engine\n\nWe pick an LSM tree.\n"})
	ada.waitSearch("LSM", hasTotal(1))
	ada.waitSearch(`"group commit"`, hasTotal(0))

	// Title changes are indexed, and so are suggestions.
	ada.must(http.StatusOK, "PATCH", "/api/docs/"+doc, map[string]any{"title": "Durable storage"})
	ada.waitSearch("in:title durable", hasTotal(1))
	r := ada.must(http.StatusOK, "GET", "/api/search/suggest?q=dura", nil)
	if !strings.Contains(string(r.raw), `"title":"Durable storage"`) {
		t.Errorf("suggest = %s", r.raw)
	}

	// Filters as parameters and in the query agree.
	if got := ada.search(url.Values{"q": {"lsm"}, "status": {"draft"}, "space": {"eng"}}).Total; got != 1 {
		t.Errorf("lsm with status=draft&space=eng: %d hits", got)
	}
	if got := ada.search(url.Values{"q": {"lsm status:review"}}).Total; got != 0 {
		t.Errorf("lsm status:review: %d hits", got)
	}
	if got := ada.search(url.Values{"q": {"lsm owner:me"}}).Total; got != 1 {
		t.Errorf("lsm owner:me: %d hits", got)
	}

	// A deleted document disappears.
	ada.must(http.StatusNoContent, "DELETE", "/api/docs/"+doc, nil)
	ada.waitSearch("LSM", hasTotal(0))
}

// A term that exists only in a space the caller cannot read gives no hit,
// no count, no facet, no fragment and no suggestion.
func TestSearchNeverLeaks(t *testing.T) {
	e := newEnv(t)
	ada := e.signup("Ada")
	bob := e.signup("Bob")
	secret := ada.createSpace("secret")
	open := ada.createSpace("open")
	ada.addMember(open, bob, docket.RoleViewer)
	ada.createDoc(secret, "Zanzibar acquisition", "The zanzibar deal closes in March.")
	ada.createDoc(open, "Lunch menu", "Soup on Mondays, zanzibar-free.")
	ada.waitSearch("zanzibar", hasTotal(2))

	res := bob.search(url.Values{"q": {"zanzibar"}})
	if res.Total != 1 || len(res.Hits) != 1 || res.Hits[0].Title != "Lunch menu" {
		t.Fatalf("bob sees %+v", res)
	}
	raw, _ := json.Marshal(res)
	for _, leak := range []string{"acquisition", "March", secret, "secret"} {
		if strings.Contains(string(raw), leak) {
			t.Errorf("bob's results mention %q: %s", leak, raw)
		}
	}
	for _, q := range []string{"acquisition", `"deal closes"`, "space:secret", "space:" + secret} {
		if res := bob.search(url.Values{"q": {q}}); res.Total != 0 || len(res.Facets["space"]) != 0 {
			t.Errorf("bob searching %q: %+v", q, res)
		}
	}
	if r := bob.must(http.StatusOK, "GET", "/api/search/suggest?q=zanz", nil); strings.Contains(string(r.raw), "Zanzibar") {
		t.Errorf("bob's suggestions: %s", r.raw)
	}

	// Removed from the space: gone at once, no reindexing needed.
	ada.must(http.StatusNoContent, "DELETE", "/api/spaces/"+open+"/members/"+bob.id(), nil)
	if res := bob.search(url.Values{"q": {"zanzibar"}}); res.Total != 0 {
		t.Errorf("after removal bob sees %+v", res)
	}
	anon := e.client()
	if r := anon.do("GET", "/api/search?q=zanzibar", nil); r.status != http.StatusUnauthorized {
		t.Errorf("anonymous search = %d", r.status)
	}
}

func TestSearchBadQueries(t *testing.T) {
	_, ada, _ := adaSpace(t)
	tests := []struct {
		name   string
		params url.Values
	}{
		{"empty", url.Values{"q": {""}}},
		{"too long", url.Values{"q": {strings.Repeat("word ", 200)}}},
		{"too many clauses", url.Values{"q": {strings.Repeat("a OR ", 40) + "b"}}},
		{"unbalanced quote", url.Values{"q": {`"open phrase`}}},
		{"leading wildcard", url.Values{"q": {"*thing"}}},
		{"inner wildcard", url.Values{"q": {"th*ng"}}},
		{"regexp", url.Values{"q": {"/ab.*/"}}},
		{"fuzziness 2", url.Values{"q": {"word~2"}}},
		{"unknown status", url.Values{"q": {"status:maybe"}}},
		{"unknown type", url.Values{"q": {"x"}, "type": {"page"}}},
		{"bad date", url.Values{"q": {"before:yesterday"}}},
		{"bad from", url.Values{"q": {"x"}, "from": {"13/01/2026"}}},
		{"limit too big", url.Values{"q": {"x"}, "limit": {"1000"}}},
		{"negative offset", url.Values{"q": {"x"}, "offset": {"-1"}}},
		{"deep offset", url.Values{"q": {"x"}, "offset": {"50000"}}},
		{"bad sort", url.Values{"q": {"x"}, "sort": {"random"}}},
		{"invalid UTF-8", url.Values{"q": {"ab\xffcd"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := ada.do("GET", "/api/search?"+tt.params.Encode(), nil)
			if r.status != http.StatusBadRequest || r.errCode() != docket.EINVALID {
				t.Errorf("status %d %s; want 400 invalid", r.status, r.raw)
			}
		})
	}
	// bleve's own syntax is only text to us.
	if res := ada.search(url.Values{"q": {"+title:x^5 body:(a AND b)"}}); res.Total != 0 {
		t.Errorf("bleve syntax found %+v", res)
	}
	if r := ada.do("GET", "/api/search/suggest?q="+url.QueryEscape(strings.Repeat("x", 600)), nil); r.status != http.StatusBadRequest {
		t.Errorf("long suggest = %d", r.status)
	}
}

// After a restart the index catches up on what changed while it was not
// listening; a corrupt index is moved aside and rebuilt.
func TestSearchCatchUpAndRebuild(t *testing.T) {
	e, ada, sp := adaSpace(t)
	ada.createDoc(sp, "Quokka census", "Counting quokkas on Rottnest.")
	ada.waitSearch("quokka", hasTotal(1))

	// Change the data file while no indexer follows it.
	db, ctx := e.stoppedAs(ada)
	if _, err := bolt.NewDocumentService(db).CreateDocument(ctx, docket.DocumentCreate{Space: sp, Title: "Wombat census", Body: "Wombats are counted too."}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	e.start()
	ada.waitSearch("wombat", hasTotal(1))

	// Corrupt every file of the index: the server still starts, and
	// search comes back complete after the rebuild.
	e.stop()
	err := filepath.Walk(filepath.Join(e.dir, "index"), func(path string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			return os.WriteFile(path, []byte("garbage"), 0o600)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	e.start()
	ada.waitSearch("wombat OR quokka", func(r searchResult) bool { return r.Total == 2 && !r.Rebuilding })
	aside, _ := filepath.Glob(filepath.Join(e.dir, "index.broken-*"))
	if len(aside) != 1 {
		t.Errorf("moved-aside indexes: %v", aside)
	}
}

func TestSearchComments(t *testing.T) {
	e, ada, sp := adaSpace(t)
	doc := ada.createDoc(sp, "Caching plan", "# Caching plan\n\nUse a write-through cache.\n")
	th := ada.must(http.StatusCreated, "POST", "/api/docs/"+doc+"/threads", map[string]any{
		"anchor": map[string]any{"version": 1, "start": 22, "end": 35},
		"body":   "What about **stampede** protection when the cache is cold?",
	})
	threadID := th.str("id")
	res := ada.waitSearch("stampede", hasTotal(1))
	h := res.Hits[0]
	if h.Type != "comment" || h.DocID != doc || h.Title != "Caching plan" || h.URL != "/d/"+doc+"#t-"+threadID {
		t.Errorf("comment hit = %+v", h)
	}
	if !strings.Contains(strings.Join(h.Fragments, " "), "<mark>stampede</mark>") {
		t.Errorf("fragments = %q", h.Fragments)
	}
	reply := ada.must(http.StatusCreated, "POST", "/api/threads/"+threadID+"/comments", map[string]any{"body": "Request coalescing solves it."})
	ada.waitSearch("coalescing type:comment", hasTotal(1))

	// Editing a comment replaces its text; deleting it removes it.
	ada.must(http.StatusOK, "PATCH", "/api/comments/"+reply.str("id"), map[string]any{"body": "Singleflight solves it."})
	ada.waitSearch("singleflight", hasTotal(1))
	ada.waitSearch("coalescing", hasTotal(0))
	ada.must(http.StatusNoContent, "DELETE", "/api/comments/"+reply.str("id"), nil)
	ada.waitSearch("singleflight", hasTotal(0))

	// A renamed document renames its comments' hits.
	ada.must(http.StatusOK, "PATCH", "/api/docs/"+doc, map[string]any{"title": "Cache stampedes"})
	ada.waitSearch("stampede type:comment", func(r searchResult) bool {
		return r.Total == 1 && r.Hits[0].Title == "Cache stampedes"
	})

	// Comments of a deleted document go with it; a rebuild finds the rest.
	other := ada.createDoc(sp, "Other", "text")
	ada.must(http.StatusCreated, "POST", "/api/docs/"+other+"/threads", map[string]any{"body": "A remark about quinoa."})
	ada.waitSearch("quinoa", hasTotal(1))
	ada.must(http.StatusNoContent, "DELETE", "/api/docs/"+other, nil)
	ada.waitSearch("quinoa", hasTotal(0))

	e.stop()
	if err := os.RemoveAll(filepath.Join(e.dir, "index")); err != nil {
		t.Fatal(err)
	}
	e.start()
	ada.waitSearch("stampede OR stampedes", func(r searchResult) bool { return r.Total == 2 && !r.Rebuilding })
}

// decide takes a document through review to accepted: reviewer approves,
// owner records the decision with summary.
func decide(owner, reviewer *client, doc, summary string) {
	base := "/api/docs/" + doc
	owner.setRules(owner.must(http.StatusOK, "GET", base, nil).str("spaceId"), relaxedRules)
	owner.must(http.StatusOK, "POST", base+"/transition", map[string]any{
		"to": "review", "due": rfc3339(time.Now().Add(7 * 24 * time.Hour)), "reviewers": []string{reviewer.id()},
	})
	reviewer.must(http.StatusCreated, "POST", base+"/reviews", map[string]any{"verdict": "approve"})
	owner.must(http.StatusOK, "POST", base+"/transition", map[string]any{"to": "accepted", "decision": map[string]any{"summary": summary}})
}

// Decisions and frozen minutes are items of their own: found by type,
// counted by the type facet, highlighted, linked to their place, filtered
// by their document's metadata and space, and gone with the document.
func TestSearchDecisionsAndMinutes(t *testing.T) {
	e := newEnv(t)
	olga, bob, carol := e.signup("Olga"), e.signup("Bob"), e.signup("Carol")
	eng := olga.createSpace("eng")
	olga.addMember(eng, bob, docket.RoleCommenter)
	doc := olga.createDoc(eng, "RFC 7: Rate limits", "# RFC 7: Rate limits\n\nEvery user gets 100 requests per minute.\n")
	decide(olga, bob, doc, "Ship 100 per minute with a burst allowance of twenty.")

	// A decision of a space Bob cannot read.
	secret := olga.createSpace("secret")
	olga.addMember(secret, carol, docket.RoleCommenter)
	hidden := olga.createDoc(secret, "Island purchase", "Terms.")
	decide(olga, carol, hidden, "Buy it; the quokkaberry clause stays.")
	olga.waitSearch("quokkaberry", hasTotal(2))

	res := bob.waitSearch("type:decision burst", hasTotal(1))
	h := res.Hits[0]
	if h.Type != "decision" || h.DocID != doc || h.Title != "RFC 7: Rate limits" || h.URL != "/d/"+doc+"#decision" {
		t.Errorf("decision hit = %+v", h)
	}
	if got := strings.Join(h.Fragments, " "); !strings.Contains(got, "<mark>burst</mark> allowance") {
		t.Errorf("decision fragments = %q", got)
	}
	recs := bob.must(http.StatusOK, "GET", "/api/docs/"+doc+"/minutes/records", nil)
	var records struct{ Records []struct{ ID string } }
	if err := json.Unmarshal(recs.raw, &records); err != nil || len(records.Records) != 1 {
		t.Fatalf("minutes records = %s (%v)", recs.raw, err)
	}
	res = bob.search(url.Values{"q": {"type:minutes burst"}})
	if res.Total != 1 || res.Hits[0].Type != "minutes" || res.Hits[0].DocID != doc ||
		res.Hits[0].URL != "/d/"+doc+"/minutes?record="+records.Records[0].ID {
		t.Fatalf("minutes hits = %+v", res)
	}
	if got := strings.Join(res.Hits[0].Fragments, " "); !strings.Contains(got, "<mark>burst</mark>") || strings.Contains(got, `\`) {
		t.Errorf("minutes fragments = %q", got)
	}
	res = bob.search(url.Values{"q": {"burst"}})
	types := map[string]int{}
	for _, fc := range res.Facets["type"] {
		types[fc.Value] = fc.Count
	}
	if res.Total != 2 || types["decision"] != 1 || types["minutes"] != 1 || len(types) != 2 {
		t.Errorf("burst: total %d, type facet %+v", res.Total, res.Facets["type"])
	}
	if got := bob.search(url.Values{"q": {"burst status:accepted kind:rfc owner:" + olga.id()}}).Total; got != 2 {
		t.Errorf("burst with the document's filters: %d hits", got)
	}
	if got := bob.search(url.Values{"q": {"burst"}, "type": {"decision"}, "author": {olga.id()}}).Total; got != 1 {
		t.Errorf("burst type=decision author=olga: %d hits", got)
	}

	// Nothing of the unreadable space: no hit, count, facet, fragment or
	// suggestion.
	for _, q := range []string{"quokkaberry", "type:decision quokkaberry", "type:minutes island"} {
		r := bob.must(http.StatusOK, "GET", "/api/search?q="+url.QueryEscape(q), nil)
		var res searchResult
		json.Unmarshal(r.raw, &res)
		if res.Total != 0 || len(res.Facets["type"]) != 0 || strings.Contains(string(r.raw), "quokka") || strings.Contains(string(r.raw), hidden) {
			t.Errorf("bob searching %q: %s", q, r.raw)
		}
	}
	if r := bob.must(http.StatusOK, "GET", "/api/search/suggest?q=island", nil); strings.Contains(string(r.raw), "Island") {
		t.Errorf("bob's suggestions: %s", r.raw)
	}

	// The search page labels them and links to their places.
	bob.pageOK("/search?q=burst").has(t, `<span class="badge type-decision">Decision</span>`,
		`<span class="badge type-minutes">Minutes</span>`, `href="/d/`+doc+`#decision"`, `href="/d/`+doc+`/minutes?record=`)
	bob.pageOK("/d/"+doc).has(t, `id="decision"`)

	// Renamed and retagged: the decision and minutes follow.
	olga.must(http.StatusOK, "PATCH", "/api/docs/"+doc, map[string]any{"title": "RFC 7: Request limits", "tags": []string{"quotas"}})
	bob.waitSearch("burst tag:quotas", func(r searchResult) bool {
		return r.Total == 2 && r.Hits[0].Title == "RFC 7: Request limits" && r.Hits[1].Title == "RFC 7: Request limits"
	})

	// A decision taken back is removed; its frozen minutes stay.
	later := olga.createDoc(eng, "Airship fleet", "Plans.")
	olga.must(http.StatusOK, "POST", "/api/docs/"+later+"/transition", map[string]any{
		"to": "review", "due": rfc3339(time.Now().Add(7 * 24 * time.Hour)), "reviewers": []string{bob.id()},
	})
	olga.must(http.StatusOK, "POST", "/api/docs/"+later+"/transition", map[string]any{"to": "postponed", "decision": map[string]any{"summary": "Wait for the zeppelin budget."}})
	bob.waitSearch("zeppelin", hasTotal(2))
	olga.must(http.StatusOK, "POST", "/api/docs/"+later+"/transition", map[string]any{"to": "review", "due": rfc3339(time.Now().Add(7 * 24 * time.Hour))})
	bob.waitSearch("zeppelin", func(r searchResult) bool { return r.Total == 1 && r.Hits[0].Type == "minutes" })

	// Deleted: gone.
	olga.must(http.StatusNoContent, "DELETE", "/api/docs/"+doc, nil)
	bob.waitSearch("burst", hasTotal(0))
	olga.waitSearch("burst", hasTotal(0))
}

// Comments, decisions and metadata changed while no indexer ran move no
// document version; the event watermark finds them at the next start,
// without a rebuild.
func TestSearchCatchUpEvents(t *testing.T) {
	e, olga, eng, bob := withMember(t, "Olga", "Bob", docket.RoleCommenter)
	olga.setRules(eng, relaxedRules)
	doc := olga.createDoc(eng, "Caching plan", "Use a write-through cache.")
	gone := olga.createDoc(eng, "Old notes", "Nothing of wombats here.")
	olga.must(http.StatusCreated, "POST", "/api/docs/"+gone+"/threads", map[string]any{"body": "A remark about wombats."})
	base := "/api/docs/" + doc
	olga.must(http.StatusOK, "POST", base+"/transition", map[string]any{
		"to": "review", "due": rfc3339(time.Now().Add(7 * 24 * time.Hour)), "reviewers": []string{bob.id()},
	})
	bob.must(http.StatusCreated, "POST", base+"/reviews", map[string]any{"verdict": "approve"})
	olga.waitSearch("wombats", hasTotal(2))
	before := waitWatermark(t, e, 1)

	// Change the data file while no indexer follows it.
	db, ctx := e.stoppedAs(olga)
	renderer := markdown.New(markdown.Options{})
	threads := bolt.NewThreadService(db, renderer, markdown.Mentions)
	if _, err := threads.CreateThread(ctx, docket.ThreadCreate{DocID: doc, Body: "What about stampede protection?"}); err != nil {
		t.Fatal(err)
	}
	if _, err := bolt.NewDecisionService(db, renderer, bolt.NewMinutesService(db, nil, markdown.Minutes)).Transition(ctx, doc, docket.Transition{To: docket.StatusAccepted, Summary: "Adopt singleflight everywhere."}); err != nil {
		t.Fatal(err)
	}
	title := "Caching strategy"
	if _, err := bolt.NewDocumentService(db).UpdateDocument(ctx, doc, docket.DocumentUpdate{Title: &title}); err != nil {
		t.Fatal(err)
	}
	if err := bolt.NewDocumentService(db).DeleteDocument(ctx, gone); err != nil {
		t.Fatal(err)
	}
	db.Close()

	e.start()
	bob.waitSearch("stampede type:comment", func(r searchResult) bool { return r.Total == 1 && r.Hits[0].Title == "Caching strategy" })
	bob.waitSearch("singleflight type:decision", hasTotal(1))
	bob.waitSearch("singleflight type:minutes", hasTotal(1))
	bob.waitSearch("in:title strategy", hasTotal(1))
	bob.waitSearch("wombats", hasTotal(0))
	if e.indexer.Rebuilding() || e.index.NeedsRebuild() {
		t.Error("the catch-up rebuilt the index")
	}
	after := waitWatermark(t, e, before+1)

	// A rebuild finds them too, and starts from the newest event.
	e.stop()
	if err := os.RemoveAll(filepath.Join(e.dir, "index")); err != nil {
		t.Fatal(err)
	}
	e.start()
	bob.waitSearch("singleflight OR stampede", func(r searchResult) bool { return r.Total == 3 && !r.Rebuilding })
	waitWatermark(t, e, after)
}

// waitWatermark waits until the event watermark of the index is at least
// seq, for at most 5 s, and returns it.
func waitWatermark(t *testing.T, e *env, seq int64) int64 {
	t.Helper()
	var w int64
	if !testenv.Eventually(5*time.Second, func() bool {
		w, _ = e.index.EventWatermark()
		return w >= seq
	}) {
		t.Fatalf("event watermark still %d; want at least %d", w, seq)
	}
	return w
}
