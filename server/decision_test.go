package server_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	docket "github.com/docket-dev/docket"
	"github.com/docket-dev/docket/internal/testenv"
	"github.com/docket-dev/docket/server"
	bbolt "go.etcd.io/bbolt"
)

// newTestClock is a settable clock shared by the server and the storage,
// at the current second.
func newTestClock() *testenv.Clock { return testenv.NewClock(time.Now().UTC().Truncate(time.Second)) }

func rfc3339(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// relaxedRules are decision rules without a last call required or a
// minimum length, for tests of other things than the rules.
var relaxedRules = map[string]any{"requireLastCall": false, "minLastCallSeconds": 0}

// setRules changes a space's decision rules.
func (c *client) setRules(space string, rules map[string]any) {
	c.e.t.Helper()
	c.must(http.StatusOK, "PATCH", "/api/spaces/"+space+"/rules", rules)
}

// errMessage returns the message of an error answer.
func (r *response) errMessage() string {
	if e, ok := r.body["error"].(map[string]any); ok {
		s, _ := e["message"].(string)
		return s
	}
	return ""
}

// setThreadStatusOnDisk stops the server, changes a thread's stored status
// as the thread service would, and starts the server again on the same file.
func (e *env) setThreadStatusOnDisk(threadID string, status docket.ThreadStatus) {
	e.t.Helper()
	e.stop()
	bdb, err := bbolt.Open(filepath.Join(e.dir, "docket.db"), 0o600, &bbolt.Options{Timeout: time.Second})
	if err != nil {
		e.t.Fatal(err)
	}
	err = bdb.Update(func(tx *bbolt.Tx) error {
		b := tx.Bucket([]byte("threads"))
		var th map[string]any
		if err := json.Unmarshal(b.Get([]byte(threadID)), &th); err != nil {
			return fmt.Errorf("thread %s: %w", threadID, err)
		}
		th["status"] = status
		data, _ := json.Marshal(th)
		return b.Put([]byte(threadID), data)
	})
	bdb.Close()
	if err != nil {
		e.t.Fatal(err)
	}
	e.start()
}

// TestDecisionPermissionMatrix checks who may move a document, give which
// verdict, hand it over and read its process: anonymous 401, outsiders 404,
// readers who are not allowed 403.
func TestDecisionPermissionMatrix(t *testing.T) {
	e := newEnv(t)
	site := e.signup("Site") // first user: site admin
	space := site.createSpace("eng")
	callers := roleCallers(e, site, space)
	heir := e.signup("Heir")
	callers["reviewer"], callers["owner"] = e.signup("Reviewer"), e.signup("Owner")
	site.addMember(space, callers["reviewer"], "commenter")
	site.addMember(space, callers["owner"], "editor")
	site.addMember(space, heir, "editor")
	owner, reviewer := callers["owner"], callers["reviewer"]
	due := rfc3339(time.Now().Add(48 * time.Hour))

	type endpoint struct {
		name, method, path string
		inReview           bool // the document is in review with the reviewer
		body               any
	}
	endpoints := []endpoint{
		{"transition", "POST", "/transition", false, map[string]any{"to": "review", "due": due, "reviewers": []string{reviewer.email()}}},
		{"withdraw", "POST", "/transition", true, map[string]any{"to": "withdrawn"}},
		{"approve", "POST", "/reviews", true, map[string]any{"verdict": "approve"}},
		{"concern", "POST", "/reviews", true, map[string]any{"verdict": "concern", "body": "Why?"}},
		{"comment", "POST", "/reviews", true, map[string]any{"verdict": "comment", "body": "Nice."}},
		{"owner", "POST", "/owner", false, map[string]any{"user": heir.email()}},
		{"lifecycle", "GET", "/lifecycle", true, nil},
		{"reviews", "GET", "/reviews", true, nil},
		{"handoffs", "GET", "/handoffs", false, nil},
	}
	const OK, C = 200, 201
	want := map[string]map[string]int{
		"transition": {"anonymous": 401, "outsider": 404, "viewer": 403, "commenter": 403, "reviewer": 403, "editor": 403, "admin": OK, "siteadmin": OK, "owner": OK},
		"withdraw":   {"anonymous": 401, "outsider": 404, "viewer": 403, "commenter": 403, "reviewer": 403, "editor": 403, "admin": OK, "siteadmin": OK, "owner": OK},
		"approve":    {"anonymous": 401, "outsider": 404, "viewer": 403, "commenter": 403, "reviewer": C, "editor": 403, "admin": 403, "siteadmin": 403, "owner": 409},
		"concern":    {"anonymous": 401, "outsider": 404, "viewer": 403, "commenter": 403, "reviewer": C, "editor": 403, "admin": 403, "siteadmin": 403, "owner": 403},
		"comment":    {"anonymous": 401, "outsider": 404, "viewer": 403, "commenter": C, "reviewer": C, "editor": C, "admin": C, "siteadmin": C, "owner": C},
		"owner":      {"anonymous": 401, "outsider": 404, "viewer": 403, "commenter": 403, "reviewer": 403, "editor": 403, "admin": OK, "siteadmin": OK, "owner": OK},
		"lifecycle":  {"anonymous": 401, "outsider": 404, "viewer": OK, "commenter": OK, "reviewer": OK, "editor": OK, "admin": OK, "siteadmin": OK, "owner": OK},
		"reviews":    {"anonymous": 401, "outsider": 404, "viewer": OK, "commenter": OK, "reviewer": OK, "editor": OK, "admin": OK, "siteadmin": OK, "owner": OK},
		"handoffs":   {"anonymous": 401, "outsider": 404, "viewer": OK, "commenter": OK, "reviewer": OK, "editor": OK, "admin": OK, "siteadmin": OK, "owner": OK},
	}
	for _, ep := range endpoints {
		for name, c := range callers {
			t.Run(ep.name+"/"+name, func(t *testing.T) {
				doc := owner.createDoc(space, "RFC", "text")
				if ep.inReview {
					owner.must(200, "POST", "/api/docs/"+doc+"/transition", map[string]any{"to": "review", "due": due, "reviewers": []string{reviewer.id()}})
				}
				before := owner.must(200, "GET", "/api/docs/"+doc+"/lifecycle", nil).raw
				r := c.do(ep.method, "/api/docs/"+doc+ep.path, ep.body)
				if got, want := r.status, want[ep.name][name]; got != want {
					t.Fatalf("%s %s as %s = %d %s; want %d", ep.method, ep.path, name, got, r.raw, want)
				}
				if r.status < 400 {
					return
				}
				if r.errCode() == "" {
					t.Fatalf("error answer %s; want {error:{code,message}}", r.raw)
				}
				// Refused requests change nothing.
				if after := owner.must(200, "GET", "/api/docs/"+doc+"/lifecycle", nil).raw; string(after) != string(before) {
					t.Fatalf("refused %s changed the lifecycle:\n%s\n%s", ep.name, before, after)
				}
				d := owner.must(200, "GET", "/api/docs/"+doc, nil)
				if d.str("ownerId") != owner.id() {
					t.Fatalf("refused %s changed the owner: %s", ep.name, d.raw)
				}
				if n := owner.must(200, "GET", "/api/docs/"+doc+"/reviews", nil).num("total"); n != 0 {
					t.Fatalf("refused %s stored %d reviews", ep.name, n)
				}
			})
		}
	}
}

// TestRFCEndToEnd scripts an RFC over HTTP: drafted, in review with two
// reviewers and a deadline, a concern that blocks the last call (409 with
// the reason), the concern's thread resolved, the last call, the decision
// refused until every reviewer approves, then accepted with a summary.
func TestRFCEndToEnd(t *testing.T) {
	clock := newTestClock()
	e, olga, space, bob, carol := rfcTeam(t, clock, "commenter")
	doc := olga.createDoc(space, "RFC 7: Rate limits", "# Rate limits\n\nPer user.\n")
	base := "/api/docs/" + doc

	if r := bob.must(200, "GET", base+"/lifecycle", nil); r.str("status") != "draft" || r.body["overdue"] != false {
		t.Fatalf("new document's lifecycle = %s", r.raw)
	}
	reviewDue := clock.Now().Add(7 * 24 * time.Hour)
	r := olga.must(200, "POST", base+"/transition", map[string]any{
		"to": "review", "due": rfc3339(reviewDue), "reviewers": []string{bob.id(), carol.email()},
	})
	if r.str("status") != "review" || r.str("due") != rfc3339(reviewDue) || len(r.body["reviewers"].([]any)) != 2 {
		t.Fatalf("transition to review = %s", r.raw)
	}

	bob.must(201, "POST", base+"/reviews", map[string]any{"verdict": "approve", "body": "Looks right."})
	concern := carol.must(201, "POST", base+"/reviews", map[string]any{
		"verdict": "concern", "body": "What about bursts? <script>alert(1)</script> [x](javascript:alert(1)) <img src=x onerror=alert(1)>",
	})
	thread := concern.str("threadId")
	if thread == "" || concern.str("verdict") != "concern" {
		t.Fatalf("concern = %s", concern.raw)
	}

	r = olga.must(409, "POST", base+"/transition", map[string]any{"to": "last-call", "due": rfc3339(clock.Now().Add(10 * 24 * time.Hour))})
	if got, want := r.errMessage(), "1 unresolved concern blocks the last call."; got != want {
		t.Fatalf("409 message = %q; want %q", got, want)
	}
	if r := olga.must(200, "GET", base+"/lifecycle", nil); r.str("status") != "review" || r.str("due") != rfc3339(reviewDue) {
		t.Fatalf("refused last call changed the lifecycle: %s", r.raw)
	}

	e.setThreadStatusOnDisk(thread, docket.ThreadResolved)
	reviews := olga.must(200, "GET", base+"/reviews", nil).body["reviews"].([]any)
	if len(reviews) != 2 || reviews[1].(map[string]any)["resolved"] != true {
		t.Fatalf("reviews after resolving = %v", reviews)
	}

	lastCallDue := clock.Now().Add(10 * 24 * time.Hour)
	olga.must(200, "POST", base+"/transition", map[string]any{"to": "last-call", "due": rfc3339(lastCallDue)})
	clock.Add(7 * 24 * time.Hour) // the minimum of 7 days has passed
	r = olga.must(409, "POST", base+"/transition", map[string]any{"to": "accepted", "decision": map[string]any{"summary": "Ship."}})
	if want := "The last call runs until " + rfc3339(lastCallDue) + " and not every reviewer has approved."; r.errMessage() != want {
		t.Fatalf("409 message = %q; want %q", r.errMessage(), want)
	}
	carol.must(201, "POST", base+"/reviews", map[string]any{"verdict": "approve"})
	r = olga.must(400, "POST", base+"/transition", map[string]any{"to": "accepted"})
	if !strings.Contains(r.errMessage(), "summary") {
		t.Fatalf("accept without summary = %s", r.raw)
	}
	r = olga.must(200, "POST", base+"/transition", map[string]any{"to": "accepted", "decision": map[string]any{"summary": "Ship with a burst allowance."}})
	dec, _ := r.body["decision"].(map[string]any)
	if r.str("status") != "accepted" || dec["summary"] != "Ship with a burst allowance." || dec["by"] != olga.id() || dec["outcome"] != "accepted" {
		t.Fatalf("accepted = %s", r.raw)
	}
	d := bob.must(200, "GET", base, nil)
	if d.str("status") != "accepted" || d.body["decision"] == nil {
		t.Fatalf("document after the decision = %s", d.raw)
	}
	if r := bob.must(200, "GET", "/api/docs?space=eng&status=accepted", nil); r.num("total") != 1 {
		t.Fatalf("list of accepted documents = %s", r.raw)
	}
}

// TestReviewBodies checks row 46 for review bodies: markdown is rendered
// with the document sanitiser (no script, no javascript: links, no event
// handlers) and the size is capped, with nothing stored on refusal.
func TestReviewBodies(t *testing.T) {
	e := newEnv(t)
	ada := e.signup("Ada")
	space := ada.createSpace("eng")
	bob := e.signup("Bob")
	ada.addMember(space, bob, "commenter")
	doc := ada.createDoc(space, "RFC", "text")
	base := "/api/docs/" + doc
	ada.must(200, "POST", base+"/transition", map[string]any{"to": "review", "due": rfc3339(time.Now().Add(time.Hour)), "reviewers": []string{bob.id()}})

	evil := "**Bursts** <script>alert(1)</script> [x](javascript:alert(1)) <img src=x onerror=alert(1)> <iframe src=//evil></iframe>"
	r := bob.must(201, "POST", base+"/reviews", map[string]any{"verdict": "concern", "body": evil})
	html := r.str("html")
	if !strings.Contains(html, "<strong>Bursts</strong>") {
		t.Fatalf("html = %q; want the markdown rendered", html)
	}
	for _, bad := range []string{"<script", "javascript:", "onerror", "<iframe"} {
		if strings.Contains(strings.ToLower(html), bad) {
			t.Fatalf("html = %q contains %q", html, bad)
		}
	}
	if r.str("body") != evil {
		t.Fatalf("body = %q; want the markdown kept as written", r.str("body"))
	}
	for _, tc := range []struct {
		name string
		body any
		want int
	}{
		{"too large", map[string]any{"verdict": "comment", "body": strings.Repeat("a", docket.MaxCommentBytes+1)}, 413},
		{"concern without body", map[string]any{"verdict": "concern", "body": "  "}, 400},
		{"unknown verdict", map[string]any{"verdict": "veto", "body": "x"}, 400},
		{"unknown field", map[string]any{"verdict": "comment", "body": "x", "authorId": ada.id()}, 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := bob.do("POST", base+"/reviews", tc.body)
			if r.status != tc.want || r.errCode() == "" {
				t.Fatalf("status = %d %s; want %d with an error", r.status, r.raw, tc.want)
			}
		})
	}
	if n := ada.must(200, "GET", base+"/reviews", nil).num("total"); n != 1 {
		t.Fatalf("reviews stored = %d; want 1", n)
	}
	// At the maximum size the body is accepted.
	bob.must(201, "POST", base+"/reviews", map[string]any{"verdict": "comment", "body": strings.Repeat("a", docket.MaxCommentBytes)})
}

// TestTransitionRequests checks the decoding of transition requests.
func TestTransitionRequests(t *testing.T) {
	e := newEnv(t)
	ada := e.signup("Ada")
	space := ada.createSpace("eng")
	doc := ada.createDoc(space, "RFC", "text")
	later := rfc3339(time.Now().Add(time.Hour))
	for _, tc := range []struct {
		name string
		path string
		body any
		want int
		msg  string
	}{
		{"bad due", "/api/docs/" + doc + "/transition", map[string]any{"to": "review", "due": "tomorrow", "reviewers": []string{ada.id()}}, 400, "RFC 3339"},
		{"no to", "/api/docs/" + doc + "/transition", map[string]any{"due": later}, 400, "to"},
		{"unknown status", "/api/docs/" + doc + "/transition", map[string]any{"to": "shipped"}, 400, "Unknown status"},
		{"unknown field", "/api/docs/" + doc + "/transition", map[string]any{"to": "withdrawn", "status": "accepted"}, 400, "status"},
		{"unknown decision field", "/api/docs/" + doc + "/transition", map[string]any{"to": "withdrawn", "decision": map[string]any{"by": "x"}}, 400, "by"},
		{"unknown reviewer", "/api/docs/" + doc + "/transition", map[string]any{"to": "review", "due": later, "reviewers": []string{"ghost@example.com"}}, 400, `"ghost@example.com"`},
		{"process refusal", "/api/docs/" + doc + "/transition", map[string]any{"to": "accepted", "decision": map[string]any{"summary": "x"}}, 409, "A draft document cannot move to accepted."},
		{"bad id", "/api/docs/..%2Fx/transition", map[string]any{"to": "withdrawn"}, 404, ""},
		{"bad id lifecycle", "/api/docs/NOT-AN-ID/lifecycle", nil, 404, ""},
		{"missing doc", "/api/docs/aaaaaaaaaaaaaaaa/lifecycle", nil, 404, ""},
		{"owner without user", "/api/docs/" + doc + "/owner", map[string]any{}, 400, "User required"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := ada.do(map[bool]string{true: "POST", false: "GET"}[tc.body != nil], tc.path, tc.body)
			if r.status != tc.want || !strings.Contains(r.errMessage(), tc.msg) {
				t.Fatalf("status = %d %s; want %d with %q", r.status, r.raw, tc.want, tc.msg)
			}
		})
	}
	if r := ada.must(200, "GET", "/api/docs/"+doc+"/lifecycle", nil); r.str("status") != "draft" {
		t.Fatalf("refused requests changed the lifecycle: %s", r.raw)
	}
}

// TestOwnerHandoff hands a document over and checks the record and who may
// move the document afterwards.
func TestOwnerHandoff(t *testing.T) {
	e := newEnv(t)
	ada := e.signup("Ada")
	space := ada.createSpace("eng")
	olga, ed, vic := e.signup("Olga"), e.signup("Ed"), e.signup("Vic")
	ada.addMember(space, olga, "editor")
	ada.addMember(space, ed, "editor")
	ada.addMember(space, vic, "viewer")
	doc := olga.createDoc(space, "Runbook", "text")
	base := "/api/docs/" + doc

	r := olga.must(400, "POST", base+"/owner", map[string]any{"user": vic.email()})
	if !strings.Contains(r.errMessage(), "can edit") {
		t.Fatalf("handoff to a viewer = %s", r.raw)
	}
	h := olga.must(200, "POST", base+"/owner", map[string]any{"user": ed.email()})
	if h.str("from") != olga.id() || h.str("to") != ed.id() || h.str("by") != olga.id() || h.str("at") == "" {
		t.Fatalf("handoff = %s", h.raw)
	}
	if d := vic.must(200, "GET", base, nil); d.str("ownerId") != ed.id() {
		t.Fatalf("owner after handoff = %s", d.raw)
	}
	olga.must(403, "POST", base+"/transition", map[string]any{"to": "withdrawn"})
	olga.must(403, "POST", base+"/owner", map[string]any{"user": olga.email()})
	ed.must(200, "POST", base+"/transition", map[string]any{"to": "withdrawn"})
	hs := vic.must(200, "GET", base+"/handoffs", nil)
	list, _ := hs.body["handoffs"].([]any)
	if hs.num("total") != 1 || len(list) != 1 || list[0].(map[string]any)["to"] != ed.id() {
		t.Fatalf("handoffs = %s", hs.raw)
	}
}

// TestOverdueShown moves the clock past a review deadline and checks that
// the lifecycle, the document and the list say so.
func TestOverdueShown(t *testing.T) {
	clock := newTestClock()
	e := newEnv(t, func(c *server.Config) { c.Now = clock.Now })
	ada, bob := e.signup("Ada"), e.signup("Bob")
	space := ada.createSpace("eng")
	ada.addMember(space, bob, "commenter")
	doc := ada.createDoc(space, "RFC", "text")
	due := clock.Now().Add(time.Hour)
	ada.must(200, "POST", "/api/docs/"+doc+"/transition", map[string]any{"to": "review", "due": rfc3339(due), "reviewers": []string{bob.id()}})
	check := func(want bool) {
		t.Helper()
		if r := ada.must(200, "GET", "/api/docs/"+doc+"/lifecycle", nil); r.body["overdue"] != want {
			t.Fatalf("lifecycle overdue = %v; want %v (%s)", r.body["overdue"], want, r.raw)
		}
		if r := ada.must(200, "GET", "/api/docs/"+doc, nil); (r.body["overdue"] == true) != want || r.str("due") != rfc3339(due) {
			t.Fatalf("document = %s; want overdue %v and due %s", r.raw, want, rfc3339(due))
		}
		r := ada.must(200, "GET", "/api/docs?space=eng", nil)
		listed := r.body["documents"].([]any)[0].(map[string]any)
		if (listed["overdue"] == true) != want || listed["due"] != rfc3339(due) {
			t.Fatalf("listed document = %v; want overdue %v and due %s", listed, want, rfc3339(due))
		}
	}
	check(false)
	clock.Add(time.Hour)
	check(false) // at the deadline, not yet past it
	clock.Add(time.Second)
	check(true)
	// Leaving review clears the deadline.
	ada.must(200, "POST", "/api/docs/"+doc+"/transition", map[string]any{"to": "draft"})
	if r := ada.must(200, "GET", "/api/docs/"+doc, nil); r.body["overdue"] != nil || r.body["due"] != nil {
		t.Fatalf("draft document = %s; want no deadline", r.raw)
	}
}

// rfcTeam starts a server on clock with Olga (the site admin), her space
// "eng", Bob as a commenter and Carol with carolRole in it.
func rfcTeam(t *testing.T, clock *testenv.Clock, carolRole docket.SpaceRole) (e *env, olga *client, space string, bob, carol *client) {
	t.Helper()
	e = newEnv(t, func(c *server.Config) { c.Now = clock.Now })
	olga = e.signup("Olga")
	space = olga.createSpace("eng")
	bob, carol = e.signup("Bob"), e.signup("Carol")
	olga.addMember(space, bob, "commenter")
	olga.addMember(space, carol, carolRole)
	return e, olga, space, bob, carol
}
