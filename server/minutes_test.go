package server_test

import (
	"flag"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/docket-dev/docket/internal/testenv"
)

var updateGolden = flag.Bool("update", false, "rewrite the golden files of testdata/")

// TestMinutesOfScriptedRFC scripts an RFC through the API with a fixed
// clock — drafted, reviewed with a concern, the concern discussed and
// resolved, a last call, accepted — and compares the minutes with a golden
// file. The minutes are frozen at the decision: later edits do not change
// them, while ?live=1 compiles them anew.
func TestMinutesOfScriptedRFC(t *testing.T) {
	clock := testenv.NewClock(time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC))
	e, olga, space, bob, carol := rfcTeam(t, clock, "editor")
	body := "# RFC 7: Rate limits\n\nEvery user gets 100 requests per minute.\n\n" +
		"- [ ] @carol write the migration plan due:2026-11-20\n- [x] @olga measure current traffic\n"
	doc := olga.createDoc(space, "RFC 7: Rate limits", body)
	base := "/api/docs/" + doc

	olga.setRules(space, relaxedRules) // a last call of 3 days
	clock.Add(time.Hour)
	olga.must(200, "POST", base+"/transition", map[string]any{
		"to": "review", "due": rfc3339(clock.Now().Add(7 * 24 * time.Hour)), "reviewers": []string{bob.id(), carol.id()},
	})
	clock.Add(2 * time.Hour)
	th := bob.must(201, "POST", base+"/threads", map[string]any{
		"anchor": map[string]any{"version": 1, "start": 33, "end": 61},
		"body":   "Is a minute the right window?",
	})
	olga.must(201, "POST", "/api/threads/"+th.str("id")+"/comments", map[string]any{"body": "Yes: it matches our billing period."})
	clock.Add(time.Hour)
	olga.must(200, "POST", "/api/threads/"+th.str("id")+"/resolve", map[string]any{"note": "Kept at one minute."})
	bob.must(201, "POST", base+"/reviews", map[string]any{"verdict": "approve"})
	clock.Add(time.Hour)
	concern := carol.must(201, "POST", base+"/reviews", map[string]any{"verdict": "concern", "body": "Bursts at the top of the minute will hit the limit."})
	clock.Add(24 * time.Hour)
	olga.must(201, "POST", "/api/threads/"+concern.str("threadId")+"/comments", map[string]any{"body": "Added a burst allowance of 20."})
	olga.must(200, "POST", "/api/threads/"+concern.str("threadId")+"/resolve", map[string]any{"note": "Burst allowance added."})
	clock.Add(time.Hour)
	olga.must(200, "POST", base+"/transition", map[string]any{"to": "last-call", "due": rfc3339(clock.Now().Add(3 * 24 * time.Hour))})
	bob.must(201, "POST", base+"/threads", map[string]any{"body": "Should admins be exempt?"})
	clock.Add(4 * 24 * time.Hour)
	olga.must(200, "POST", base+"/transition", map[string]any{"to": "accepted", "decision": map[string]any{"summary": "Ship 100 per minute with a burst allowance of 20."}})

	r := bob.must(http.StatusOK, "GET", base+"/minutes", nil)
	if ct := r.header.Get("Content-Type"); ct != "text/markdown; charset=utf-8" {
		t.Errorf("Content-Type = %q", ct)
	}
	got := strings.ReplaceAll(string(r.raw), doc, "DOCID")
	golden := filepath.Join("testdata", "minutes-rfc.golden")
	testenv.Golden(t, golden, got, *updateGolden)

	// Frozen: an edit after the decision changes the live minutes only.
	clock.Add(time.Hour)
	olga.must(200, "POST", base+"/edits", map[string]any{"version": 1, "body": body + "- [ ] @bob announce it\n"})
	// Action items follow after their debounce: once the live minutes
	// have the new one, the frozen minutes must still be as they were.
	var live *response
	if !testenv.Eventually(5*time.Second, func() bool {
		live = bob.must(200, "GET", base+"/minutes?live=1", nil)
		return strings.Contains(string(live.raw), "announce it")
	}) {
		t.Fatalf("live minutes lack the new action item:\n%s", live.raw)
	}
	if again := bob.must(200, "GET", base+"/minutes", nil); string(again.raw) != string(r.raw) {
		t.Errorf("frozen minutes changed after an edit")
	}
	recs := bob.must(200, "GET", base+"/minutes/records", nil)
	if recs.num("total") != 1 {
		t.Fatalf("records = %s", recs.raw)
	}
	html := bob.must(200, "GET", base+"/minutes?format=html", nil)
	if !strings.Contains(string(html.raw), "<h1") || !strings.HasPrefix(html.header.Get("Content-Type"), "text/html") {
		t.Errorf("html minutes = %s", html.raw)
	}
	for _, bad := range []string{"?format=pdf", "?live=maybe", "?record=zz"} {
		if r := bob.do("GET", base+"/minutes"+bad, nil); r.status != 400 && r.status != 404 {
			t.Errorf("GET minutes%s = %d", bad, r.status)
		}
	}
	outsider := e.signup("Mallory")
	if r := outsider.do("GET", base+"/minutes", nil); r.status != 404 {
		t.Errorf("outsider minutes = %d", r.status)
	}
}

// TestMinutesFrozenDuringLiveSession records a decision while Ada edits
// live and Bob only has the document open: the frozen minutes say the
// session was in progress at the decision with Ada's edits (counted from
// the op log, though the stored counts lag), count Bob as reading along
// and not as a participant, and never say "now" or "live". Carol's
// approval, given before Ada's edits, is stale at the decision.
func TestMinutesFrozenDuringLiveSession(t *testing.T) {
	e, ada, doc := liveEnv(t, "# Plan\n\nKeep it.\n")
	carol := e.signup("Carol")
	ada.addMember("eng", carol, "commenter")
	ada.setRules("eng", keptApprovals)
	base := "/api/docs/" + doc
	ada.must(http.StatusOK, "PATCH", base, map[string]any{"title": "Plan"}) // not "Live"
	ada.must(http.StatusOK, "POST", base+"/transition", map[string]any{
		"to": "review", "due": rfc3339(time.Now().Add(72 * time.Hour)), "reviewers": []string{carol.id()},
	})
	carol.must(http.StatusCreated, "POST", base+"/reviews", map[string]any{"verdict": "approve", "body": "Fine as it is."})

	_, a, _ := twoEditors(t, e, ada, doc)
	a.typeAB(doc)
	// The session is stored when people join; its counts lag.
	var sessions *response
	if !testenv.Eventually(5*time.Second, func() bool {
		sessions = ada.must(http.StatusOK, "GET", base+"/sessions", nil)
		return strings.Contains(string(sessions.raw), `"participants":[{`) && strings.Count(string(sessions.raw), `"userId"`) == 2
	}) {
		t.Fatalf("no running session with Ada and Bob: %s", sessions.raw)
	}
	ada.must(http.StatusOK, "POST", base+"/transition", map[string]any{"to": "accepted", "decision": map[string]any{"summary": "Keep it."}})

	md := string(carol.must(http.StatusOK, "GET", base+"/minutes", nil).raw)
	testenv.FrozenMinutes(t, md, []string{
		"- In progress at the decision (started ",
		", 1 editor so far), versions 1 to 3: Ada (2 edits); read along: 1 person\n",
		"## Participants\n\nAda, Carol\n",
		"**Carol**: approve at version 1, ",
		" (stale at the decision: the text changed after it):\n\n> Fine as it is.\n",
	}, []string{"Bob"}) // he only read along
}
