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
	e := newEnv(t)
	olga, bob := e.signup("Olga"), e.signup("Bob")
	eng := olga.createSpace("eng")
	olga.setRules(eng, relaxedRules)
	olga.addMember(eng, bob, docket.RoleCommenter)
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
	e.stop()
	db := openTestDB(t, filepath.Join(e.dir, "docket.db"))
	sys := docket.NewSystemContext(t.Context())
	user, err := bolt.NewUserService(db).FindUserByID(sys, olga.id())
	if err != nil {
		t.Fatal(err)
	}
	ctx := docket.NewContextWithUser(sys, user)
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
