package server_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/docket-dev/docket/internal/testenv"
	"github.com/docket-dev/docket/server"
)

// rulesWorld is a space "eng" whose admin is Ada, with Olga (an editor)
// owning an RFC, and Bob and Carol as commenters who review it; the
// server's clock is settable.
type rulesWorld struct {
	e                      *env
	clock                  *testenv.Clock
	ada, olga, bob, carol  *client
	space, doc, base, text string
}

func newRulesWorld(t *testing.T) *rulesWorld {
	t.Helper()
	w := &rulesWorld{clock: newTestClock()}
	w.e = newEnv(t, func(c *server.Config) { c.Now = w.clock.Now })
	w.ada = w.e.signup("Ada")
	w.space = w.ada.createSpace("eng")
	w.olga, w.bob, w.carol = w.e.signup("Olga"), w.e.signup("Bob"), w.e.signup("Carol")
	w.ada.addMember(w.space, w.olga, "editor")
	w.ada.addMember(w.space, w.bob, "commenter")
	w.ada.addMember(w.space, w.carol, "commenter")
	w.text = "# RFC 9: Queues\n\nUse a queue per tenant.\n"
	w.doc = w.olga.createDoc(w.space, "RFC 9: Queues", w.text)
	w.base = "/api/docs/" + w.doc
	return w
}

// due is an RFC 3339 deadline d from the server's now.
func (w *rulesWorld) due(d time.Duration) string { return rfc3339(w.clock.Now().Add(d)) }

// move asks Olga for a transition and wants status back.
func (w *rulesWorld) move(status int, body map[string]any) *response {
	return w.olga.must(status, "POST", w.base+"/transition", body)
}

// refused wants c's request to be a 409 with exactly msg, and the
// lifecycle unchanged.
func (w *rulesWorld) refused(t *testing.T, c *client, path string, body map[string]any, msg string) {
	t.Helper()
	before := w.ada.must(http.StatusOK, "GET", w.base+"/lifecycle", nil).raw
	r := c.must(http.StatusConflict, "POST", w.base+path, body)
	if got := r.errMessage(); got != msg {
		t.Fatalf("409 message = %q; want %q", got, msg)
	}
	if after := w.ada.must(http.StatusOK, "GET", w.base+"/lifecycle", nil).raw; string(after) != string(before) {
		t.Fatalf("refused request changed the lifecycle:\n%s\n%s", before, after)
	}
}

// edit replaces the document's text as Olga.
func (w *rulesWorld) edit(t *testing.T, text string) {
	t.Helper()
	v := w.olga.must(http.StatusOK, "GET", w.base, nil).num("version")
	w.olga.must(http.StatusOK, "POST", w.base+"/edits", map[string]any{"version": v, "body": text})
	w.text = text
}

// reviewer returns the lifecycle's entry for a reviewer.
func reviewerIn(lc *response, id string) map[string]any {
	for _, r := range lc.body["reviewers"].([]any) {
		if m := r.(map[string]any); m["userId"] == id {
			return m
		}
	}
	return nil
}

// TestRulesOwnerCannotApprove tries to short-circuit the process through
// the owner: naming herself reviewer, approving her own document, an
// approval she gave while the rules allowed it, and a handoff to a
// reviewer who approved.
func TestRulesOwnerCannotApprove(t *testing.T) {
	w := newRulesWorld(t)
	w.refused(t, w.olga, "/transition", map[string]any{"to": "review", "due": w.due(48 * time.Hour), "reviewers": []string{w.olga.id()}},
		"The owner cannot be a reviewer of their own document.")
	w.refused(t, w.olga, "/transition", map[string]any{"to": "review", "due": w.due(48 * time.Hour), "reviewers": []string{w.bob.id(), w.olga.email()}},
		"The owner cannot be a reviewer of their own document.")
	w.move(http.StatusOK, map[string]any{"to": "review", "due": w.due(48 * time.Hour), "reviewers": []string{w.bob.id()}})
	w.refused(t, w.olga, "/reviews", map[string]any{"verdict": "approve"}, "The owner cannot approve their own document.")

	// While the rules let the owner approve, Olga reviews and approves;
	// once they no longer do, her approval does not count and she cannot
	// approve again.
	w.ada.setRules(w.space, map[string]any{"ownerMayApprove": true, "requireLastCall": false})
	w.move(http.StatusOK, map[string]any{"to": "draft"})
	w.move(http.StatusOK, map[string]any{"to": "review", "due": w.due(48 * time.Hour), "reviewers": []string{w.olga.id()}})
	w.olga.must(http.StatusCreated, "POST", w.base+"/reviews", map[string]any{"verdict": "approve"})
	w.ada.setRules(w.space, map[string]any{"ownerMayApprove": false})
	w.refused(t, w.olga, "/reviews", map[string]any{"verdict": "approve"}, "The owner cannot approve their own document.")
	w.refused(t, w.olga, "/transition", map[string]any{"to": "accepted", "decision": map[string]any{"summary": "Mine."}},
		"Acceptance needs the last call to have ended or every reviewer to approve.")

	// Bob approves, then the document is handed to him: his approval is
	// now the owner's and does not count.
	w.move(http.StatusOK, map[string]any{"to": "draft"})
	w.move(http.StatusOK, map[string]any{"to": "review", "due": w.due(72 * time.Hour), "reviewers": []string{w.bob.id()}})
	w.bob.must(http.StatusCreated, "POST", w.base+"/reviews", map[string]any{"verdict": "approve"})
	w.ada.addMember(w.space, w.bob, "editor")
	w.olga.must(http.StatusOK, "POST", w.base+"/owner", map[string]any{"user": w.bob.id()})
	w.refused(t, w.bob, "/reviews", map[string]any{"verdict": "approve"}, "The owner cannot approve their own document.")
	w.refused(t, w.ada, "/transition", map[string]any{"to": "accepted", "decision": map[string]any{"summary": "Ship."}},
		"Acceptance needs the last call to have ended or every reviewer to approve.")
}

// TestRulesLastCall tries to skip the last call, to make it shorter than
// the minimum, and to accept before the minimum has run.
func TestRulesLastCall(t *testing.T) {
	w := newRulesWorld(t)
	w.move(http.StatusOK, map[string]any{"to": "review", "due": w.due(48 * time.Hour), "reviewers": []string{w.bob.id()}})
	w.bob.must(http.StatusCreated, "POST", w.base+"/reviews", map[string]any{"verdict": "approve"})
	accept := map[string]any{"to": "accepted", "decision": map[string]any{"summary": "Ship."}}
	w.refused(t, w.olga, "/transition", accept, "Acceptance needs a completed last call; this document is in review.")

	w.refused(t, w.olga, "/transition", map[string]any{"to": "last-call", "due": w.due(2 * 24 * time.Hour)},
		"A last call in this space lasts at least 7 days; this deadline is 2 days away.")
	w.refused(t, w.olga, "/transition", map[string]any{"to": "last-call", "due": w.due(7*24*time.Hour - time.Minute)},
		"A last call in this space lasts at least 7 days; this deadline is 6 days away.")
	w.move(http.StatusOK, map[string]any{"to": "last-call", "due": w.due(7 * 24 * time.Hour)})

	// Every reviewer approved, but the minimum has not run.
	w.clock.Add(2*24*time.Hour + 3*time.Hour)
	w.refused(t, w.olga, "/transition", accept, "Acceptance needs a last call of at least 7 days; this one started 2 days ago.")
	w.clock.Add(5*24*time.Hour - 3*time.Hour)
	if r := w.move(http.StatusOK, accept); r.str("status") != "accepted" {
		t.Fatalf("accepted after 7 days = %s", r.raw)
	}

	// A space may drop the requirement: then every reviewer approving is
	// enough, in review.
	other := w.olga.createDoc(w.space, "RFC 10", "text")
	w.ada.setRules(w.space, map[string]any{"requireLastCall": false})
	w.olga.must(http.StatusOK, "POST", "/api/docs/"+other+"/transition", map[string]any{"to": "review", "due": w.due(time.Hour), "reviewers": []string{w.bob.id()}})
	w.bob.must(http.StatusCreated, "POST", "/api/docs/"+other+"/reviews", map[string]any{"verdict": "approve"})
	w.olga.must(http.StatusOK, "POST", "/api/docs/"+other+"/transition", accept)
}

// TestRulesMinimumApprovals needs two approvals: a review with one
// reviewer, and acceptance with one approval after the last call, are
// refused.
func TestRulesMinimumApprovals(t *testing.T) {
	w := newRulesWorld(t)
	w.ada.setRules(w.space, map[string]any{"minApprovals": 2, "minLastCallSeconds": 3600})
	w.refused(t, w.olga, "/transition", map[string]any{"to": "review", "due": w.due(48 * time.Hour), "reviewers": []string{w.bob.id()}},
		"Acceptance in this space needs 2 approvals; name at least 2 reviewers.")
	w.move(http.StatusOK, map[string]any{"to": "review", "due": w.due(48 * time.Hour), "reviewers": []string{w.bob.id(), w.carol.id()}})
	w.bob.must(http.StatusCreated, "POST", w.base+"/reviews", map[string]any{"verdict": "approve"})
	w.carol.must(http.StatusCreated, "POST", w.base+"/reviews", map[string]any{"verdict": "comment", "body": "Reading."})
	w.move(http.StatusOK, map[string]any{"to": "last-call", "due": w.due(time.Hour)})
	w.clock.Add(2 * time.Hour)
	accept := map[string]any{"to": "accepted", "decision": map[string]any{"summary": "Ship."}}
	w.refused(t, w.olga, "/transition", accept, "Acceptance needs 2 approvals of the current text; it has 1.")
	w.carol.must(http.StatusCreated, "POST", w.base+"/reviews", map[string]any{"verdict": "approve"})
	w.move(http.StatusOK, accept)
}

// TestRulesStaleApproval edits the text after an approval: a change of
// whitespace keeps it, a change of words makes it stale, shown as such,
// and a stale approval does not count.
func TestRulesStaleApproval(t *testing.T) {
	w := newRulesWorld(t)
	w.ada.setRules(w.space, map[string]any{"minLastCallSeconds": 3600})
	w.move(http.StatusOK, map[string]any{"to": "review", "due": w.due(48 * time.Hour), "reviewers": []string{w.bob.id()}})
	w.bob.must(http.StatusCreated, "POST", w.base+"/reviews", map[string]any{"verdict": "approve"})
	w.move(http.StatusOK, map[string]any{"to": "last-call", "due": w.due(time.Hour)})

	w.edit(t, strings.Replace(w.text, "a queue per", "a  queue\nper", 1)) // whitespace: version 2
	lc := w.carol.must(http.StatusOK, "GET", w.base+"/lifecycle", nil)
	if r := reviewerIn(lc, w.bob.id()); r["version"] != 1.0 || r["changesSince"] != 1.0 || r["stale"] != nil {
		t.Fatalf("Bob after a whitespace edit = %v; want version 1, 1 change since, not stale", r)
	}
	w.edit(t, strings.Replace(w.text, "tenant", "customer", 1)) // words: version 3
	lc = w.carol.must(http.StatusOK, "GET", w.base+"/lifecycle", nil)
	if r := reviewerIn(lc, w.bob.id()); r["version"] != 1.0 || r["changesSince"] != 2.0 || r["stale"] != true {
		t.Fatalf("Bob after an edit = %v; want version 1, 2 changes since, stale", r)
	}
	if d := w.carol.must(http.StatusOK, "GET", w.base, nil); reviewerIn(d, w.bob.id())["stale"] != true {
		t.Fatalf("document's reviewers = %s; want Bob's approval stale", d.raw)
	}
	w.clock.Add(2 * time.Hour)
	accept := map[string]any{"to": "accepted", "decision": map[string]any{"summary": "Ship."}}
	w.refused(t, w.olga, "/transition", accept,
		"Acceptance needs 1 approval of the current text; it has none (1 approval of an earlier version, and the text changed since).")

	// A space that does not reset approvals counts it.
	w.ada.setRules(w.space, map[string]any{"approvalsResetOnChange": false})
	if r := reviewerIn(w.carol.must(http.StatusOK, "GET", w.base+"/lifecycle", nil), w.bob.id()); r["stale"] != nil || r["changesSince"] != 2.0 {
		t.Fatalf("Bob without resets = %v; want 2 changes since, not stale", r)
	}
	w.ada.setRules(w.space, map[string]any{"approvalsResetOnChange": true})
	// Approving the current text counts again.
	w.bob.must(http.StatusCreated, "POST", w.base+"/reviews", map[string]any{"verdict": "approve"})
	if r := reviewerIn(w.carol.must(http.StatusOK, "GET", w.base+"/lifecycle", nil), w.bob.id()); r["version"] != 3.0 || r["stale"] != nil {
		t.Fatalf("Bob after approving again = %v; want version 3, not stale", r)
	}
	w.move(http.StatusOK, accept)
}

// TestRulesDeclineOverConcern declines a document while a concern is
// open: a concern blocks acceptance, not rejection.
func TestRulesDeclineOverConcern(t *testing.T) {
	w := newRulesWorld(t)
	w.move(http.StatusOK, map[string]any{"to": "review", "due": w.due(48 * time.Hour), "reviewers": []string{w.bob.id(), w.carol.id()}})
	w.carol.must(http.StatusCreated, "POST", w.base+"/reviews", map[string]any{"verdict": "concern", "body": "One queue per tenant will not scale."})
	w.refused(t, w.olga, "/transition", map[string]any{"to": "accepted", "decision": map[string]any{"summary": "Ship."}},
		"1 unresolved concern blocks acceptance.")
	r := w.move(http.StatusOK, map[string]any{"to": "declined", "decision": map[string]any{"summary": "It does not scale."}})
	if dec, _ := r.body["decision"].(map[string]any); r.str("status") != "declined" || dec["outcome"] != "declined" || dec["round"] != 1.0 {
		t.Fatalf("declined = %s", r.raw)
	}
}

// TestRulesEditAfterDecision edits an accepted document: the API says it
// was amended and by how many changes, moving it back to review without
// amending is refused, and amending opens round 2 with round 1's
// decision and minutes kept; round 2 ends in its own decision.
func TestRulesEditAfterDecision(t *testing.T) {
	w := newRulesWorld(t)
	w.ada.setRules(w.space, map[string]any{"requireLastCall": false})
	w.move(http.StatusOK, map[string]any{"to": "review", "due": w.due(48 * time.Hour), "reviewers": []string{w.bob.id()}})
	w.bob.must(http.StatusCreated, "POST", w.base+"/reviews", map[string]any{"verdict": "approve"})
	w.move(http.StatusOK, map[string]any{"to": "accepted", "decision": map[string]any{"summary": "Ship."}})
	if d := w.bob.must(http.StatusOK, "GET", w.base, nil); d.body["amended"] != nil {
		t.Fatalf("document right after the decision = %s; want not amended", d.raw)
	}

	w.edit(t, w.text+"\nTypo fixed.\n")
	w.edit(t, w.text+"\nAnd one more.\n")
	d := w.bob.must(http.StatusOK, "GET", w.base, nil)
	if d.body["amended"] != true || d.num("changesSinceDecision") != 2 {
		t.Fatalf("document edited after the decision = %s; want amended with 2 changes", d.raw)
	}
	if lc := w.bob.must(http.StatusOK, "GET", w.base+"/lifecycle", nil); lc.body["amended"] != true || lc.num("changesSinceDecision") != 2 {
		t.Fatalf("lifecycle = %s; want amended with 2 changes", lc.raw)
	}
	list := w.bob.must(http.StatusOK, "GET", "/api/docs?space=eng&status=accepted", nil).body["documents"].([]any)
	if len(list) != 1 || list[0].(map[string]any)["amended"] != true {
		t.Fatalf("listed = %v; want the document, amended", list)
	}

	w.refused(t, w.olga, "/transition", map[string]any{"to": "review", "due": w.due(48 * time.Hour)},
		"An accepted document cannot move to review; amend it to open a new round.")
	w.refused(t, w.olga, "/transition", map[string]any{"to": "review", "due": w.due(48 * time.Hour), "amend": true, "reviewers": []string{w.olga.id()}},
		"The owner cannot be a reviewer of their own document.")
	if r := w.olga.must(http.StatusBadRequest, "POST", w.base+"/transition", map[string]any{"to": "last-call", "amend": true, "due": w.due(48 * time.Hour)}); !strings.Contains(r.errMessage(), "Amending moves a document to review") {
		t.Fatalf("amend to last-call = %s", r.raw)
	}
	w.bob.must(http.StatusForbidden, "POST", w.base+"/transition", map[string]any{"to": "review", "amend": true, "due": w.due(48 * time.Hour)})

	first := w.olga.must(http.StatusOK, "GET", w.base+"/lifecycle", nil).body["decision"].(map[string]any)
	lc := w.move(http.StatusOK, map[string]any{"to": "review", "amend": true, "due": w.due(48 * time.Hour)})
	earlier, _ := lc.body["earlierDecisions"].([]any)
	if lc.str("status") != "review" || lc.num("round") != 2 || lc.body["decision"] != nil || len(earlier) != 1 {
		t.Fatalf("amended lifecycle = %s; want review, round 2, round 1's decision kept", lc.raw)
	}
	if e := earlier[0].(map[string]any); e["outcome"] != "accepted" || e["round"] != 1.0 || e["minutesId"] != first["minutesId"] || e["summary"] != "Ship." {
		t.Fatalf("round 1's decision = %v; want %v", e, first)
	}
	if r := reviewerIn(lc, w.bob.id()); r["verdict"] != nil {
		t.Fatalf("Bob in round 2 = %v; want no verdict yet", r)
	}
	if d := w.bob.must(http.StatusOK, "GET", w.base, nil); d.body["amended"] != nil || d.str("status") != "review" {
		t.Fatalf("document in round 2 = %s; want in review, not amended", d.raw)
	}
	if inbox := w.bob.must(http.StatusOK, "GET", "/api/inbox", nil).raw; !strings.Contains(string(inbox), `"review_request"`) {
		t.Fatalf("Bob's inbox = %s; want a review request for round 2", inbox)
	}

	w.bob.must(http.StatusCreated, "POST", w.base+"/reviews", map[string]any{"verdict": "concern", "body": "The new paragraph is wrong."})
	lc = w.move(http.StatusOK, map[string]any{"to": "declined", "decision": map[string]any{"summary": "Keep round 1's text."}})
	if dec := lc.body["decision"].(map[string]any); dec["round"] != 2.0 || dec["outcome"] != "declined" || len(lc.body["earlierDecisions"].([]any)) != 1 {
		t.Fatalf("round 2's decision = %s", lc.raw)
	}
	recs := w.bob.must(http.StatusOK, "GET", w.base+"/minutes/records", nil)
	if recs.num("total") != 2 {
		t.Fatalf("minutes records = %s; want one per round", recs.raw)
	}
	if !strings.Contains(string(recs.raw), first["minutesId"].(string)) {
		t.Fatalf("minutes records = %s; want round 1's %v kept", recs.raw, first["minutesId"])
	}
}

// TestRulesSettings reads and changes a space's rules: the defaults, a
// change by an admin, refusals of bad values with the field named, and
// of callers who are not admins.
func TestRulesSettings(t *testing.T) {
	w := newRulesWorld(t)
	path := "/api/spaces/" + w.space + "/rules"
	want := `{"minLastCallSeconds":604800,"requireLastCall":true,"minApprovals":1,"ownerMayApprove":false,"approvalsResetOnChange":true}`
	if got := strings.TrimSpace(string(w.bob.must(http.StatusOK, "GET", path, nil).raw)); got != want {
		t.Fatalf("default rules = %s; want %s", got, want)
	}
	if sp := w.bob.must(http.StatusOK, "GET", "/api/spaces/eng", nil); sp.body["rules"] == nil {
		t.Fatalf("space = %s; want its rules", sp.raw)
	}
	for _, tc := range []struct {
		name string
		body any
		msg  string
	}{
		{"negative duration", map[string]any{"minLastCallSeconds": -1}, "Field minLastCallSeconds must be a whole number from 0 to 31622400."},
		{"huge duration", map[string]any{"minLastCallSeconds": 31622401}, "Field minLastCallSeconds must be a whole number from 0 to 31622400."},
		{"overflowing duration", `{"minLastCallSeconds": 99999999999999999999999}`, "Field minLastCallSeconds must be a whole number"},
		{"fractional duration", map[string]any{"minLastCallSeconds": 1.5}, "Field minLastCallSeconds must be a whole number"},
		{"duration as text", map[string]any{"minLastCallSeconds": "7 days"}, "Field minLastCallSeconds must be a whole number"},
		{"null duration", `{"minLastCallSeconds": null}`, "Field minLastCallSeconds must be a whole number"},
		{"negative approvals", map[string]any{"minApprovals": -1}, "Field minApprovals must be a whole number from 0 to 50."},
		{"too many approvals", map[string]any{"minApprovals": 51}, "Field minApprovals must be a whole number from 0 to 50."},
		{"approvals as text", map[string]any{"minApprovals": "two"}, "Field minApprovals must be a whole number"},
		{"flag as text", map[string]any{"requireLastCall": "yes"}, "Field requireLastCall must be true or false."},
		{"flag as number", map[string]any{"ownerMayApprove": 1}, "Field ownerMayApprove must be true or false."},
		{"unknown field", map[string]any{"minReviewers": 2}, `Field "minReviewers" is not accepted here.`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := w.ada.must(http.StatusBadRequest, "PATCH", path, tc.body)
			if !strings.Contains(r.errMessage(), tc.msg) {
				t.Fatalf("message = %q; want %q", r.errMessage(), tc.msg)
			}
		})
	}
	for name, c := range map[string]*client{"owner (an editor)": w.olga, "commenter": w.bob} {
		if r := c.must(http.StatusForbidden, "PATCH", path, map[string]any{"minApprovals": 0}); r.errMessage() != "Only space admins may change the decision rules." {
			t.Fatalf("%s: message = %q", name, r.errMessage())
		}
	}
	w.e.signup("Outsider").must(http.StatusNotFound, "PATCH", path, map[string]any{"minApprovals": 0})
	w.e.client().must(http.StatusUnauthorized, "PATCH", path, map[string]any{"minApprovals": 0})
	if got := strings.TrimSpace(string(w.bob.must(http.StatusOK, "GET", path, nil).raw)); got != want {
		t.Fatalf("rules after refusals = %s; want %s", got, want)
	}

	r := w.ada.must(http.StatusOK, "PATCH", path, map[string]any{"minLastCallSeconds": 0, "minApprovals": 3, "ownerMayApprove": true})
	want = `{"minLastCallSeconds":0,"requireLastCall":true,"minApprovals":3,"ownerMayApprove":true,"approvalsResetOnChange":true}`
	if got := strings.TrimSpace(string(r.raw)); got != want {
		t.Fatalf("changed rules = %s; want %s", got, want)
	}
	w.e.restart()
	if got := strings.TrimSpace(string(w.bob.must(http.StatusOK, "GET", path, nil).raw)); got != want {
		t.Fatalf("rules after a restart = %s; want %s", got, want)
	}
}

// TestRulesPages changes the rules on the space settings page and shows
// on the document page what the rules make of it: a stale approval, the
// banner of an edit after the decision, the amend form and round 1 kept.
func TestRulesPages(t *testing.T) {
	w := newRulesWorld(t)
	settings := "/s/eng/settings"
	page := w.ada.pageOK(settings)
	page.has(t, `<h2 id="rules-h">Decision rules</h2>`, `name="minLastCallDays" type="number" min="0" max="366" step="any" required value="7"`,
		`name="minApprovals" type="number" min="0" max="50" step="1" required value="1"`,
		`name="requireLastCall" value="on" checked>`, `name="approvalsResetOnChange" value="on" checked>`)
	page.hasNot(t, `name="ownerMayApprove" value="on" checked>`)
	for _, tc := range []struct{ days, approvals, msg string }{
		{"-1", "1", "The minimum last call must be a number of days from 0 to 366."},
		{"a week", "1", "The minimum last call must be a number of days from 0 to 366."},
		{"NaN", "1", "The minimum last call must be a number of days from 0 to 366."},
		{"7", "1.5", "The minimum number of approvals must be a whole number from 0 to 50."},
		{"7", "99", "The minimum number of approvals must be a whole number from 0 to 50."},
	} {
		p := w.ada.submit(settings, settings+"/rules", formValues("minLastCallDays", tc.days, "minApprovals", tc.approvals, "requireLastCall", "on"))
		if p.status != http.StatusBadRequest {
			t.Fatalf("rules %s days, %s approvals = %d; want 400", tc.days, tc.approvals, p.status)
		}
		p.has(t, tc.msg, `value="`+tc.days+`"`)
	}
	if p := w.olga.submit("/s/eng", settings+"/rules", formValues("minLastCallDays", "0", "minApprovals", "0")); p.status != http.StatusForbidden {
		t.Fatalf("rules by an editor = %d; want 403", p.status)
	}
	w.ada.submit(settings, settings+"/rules", formValues("minLastCallDays", "0.5", "minApprovals", "1", "approvalsResetOnChange", "on")).
		mustSeeOther(t, settings+"?done=rules")
	want := `{"minLastCallSeconds":43200,"requireLastCall":false,"minApprovals":1,"ownerMayApprove":false,"approvalsResetOnChange":true}`
	if got := strings.TrimSpace(string(w.bob.must(http.StatusOK, "GET", "/api/spaces/eng/rules", nil).raw)); got != want {
		t.Fatalf("rules saved by the form = %s; want %s", got, want)
	}
	w.ada.pageOK(settings+"?done=rules").has(t, "The decision rules are saved.", `value="0.5"`)

	// A stale approval, on the document page.
	d := "/d/" + w.doc
	w.move(http.StatusOK, map[string]any{"to": "review", "due": w.due(48 * time.Hour), "reviewers": []string{w.bob.id()}})
	w.olga.pageOK(d).hasNot(t, `name="reviewers" value="`+w.olga.id()+`"`) // the owner is not offered as a reviewer
	w.bob.must(http.StatusCreated, "POST", w.base+"/reviews", map[string]any{"verdict": "approve"})
	w.edit(t, w.text+"\nMore.\n")
	w.olga.pageOK(d).has(t, `approved version 1, 2 lines changed since: <a href="`+d+`/history?from=1&amp;to=2#diff-h">see them</a>; it does not count`)
	w.bob.must(http.StatusCreated, "POST", w.base+"/reviews", map[string]any{"verdict": "approve"})
	w.move(http.StatusOK, map[string]any{"to": "accepted", "decision": map[string]any{"summary": "Ship."}})
	w.olga.pageOK(d).hasNot(t, "amended-banner", "stale-approval")

	// Edited after the decision: the banner, and the amend form.
	w.edit(t, w.text+"\nTypo.\n")
	page = w.bob.pageOK(d)
	page.has(t, `<p class="amended-banner" role="note"><strong>Edited after the decision:</strong> 2 lines changed, <a href="`+d+`/history?from=2&amp;to=3#diff-h">see them</a>.</p>`)
	page.hasNot(t, "Amend: open round")
	page = w.olga.pageOK(d)
	page.has(t, `<h3 id="move-review-h">Amend: open round 2</h3>`, `<input type="hidden" name="amend" value="true">`, "Amend and request review</button>")
	p := w.olga.submit(d, d+"/transition", formValues("to", "review", "amend", "true", "reviewers", w.bob.id(), "due", "2001-01-01T00:00"))
	if p.status != http.StatusBadRequest {
		t.Fatalf("amend with a past deadline = %d; want 400", p.status)
	}
	p.has(t, "The deadline must be in the future.", `<h3 id="move-review-h">Amend: open round 2</h3>`, `value="2001-01-01T00:00"`)
	p = w.olga.submit(d, d+"/transition", formValues("to", "review", "amend", "true", "reviewers", w.bob.id(), "due", w.clock.Now().Add(72*time.Hour).Format("2006-01-02T15:04")))
	p.mustSeeOther(t, d+"#review")
	page = w.bob.pageOK(d)
	page.has(t, "<h3>Earlier rounds</h3>", "Round 1: <strong>Accepted</strong> by Olga", `<span class="decision-summary">Ship.</span>`, `href="`+d+`/minutes?record=`)
	page.hasNot(t, "amended-banner")
}
