package server_test

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"

	docket "github.com/docket-dev/docket"
)

// createThread starts a thread and returns its id.
func (c *client) createThread(doc string, anchor map[string]any, body string) string {
	c.e.t.Helper()
	req := map[string]any{"body": body}
	if anchor != nil {
		req["anchor"] = anchor
	}
	return c.must(http.StatusCreated, "POST", "/api/docs/"+doc+"/threads", req).str("id")
}

// comments returns the comments of a thread as the API shows them.
func (c *client) comments(thread string) []map[string]any {
	c.e.t.Helper()
	r := c.must(http.StatusOK, "GET", "/api/threads/"+thread, nil)
	var out []map[string]any
	for _, cm := range r.body["comments"].([]any) {
		out = append(out, cm.(map[string]any))
	}
	return out
}

// TestThreadPermissionMatrix checks every role against every thread and
// comment endpoint: outsiders get 404, viewers read, commenters comment,
// the thread's author and editors resolve, only authors edit their
// comments and authors or space admins delete them.
func TestThreadPermissionMatrix(t *testing.T) {
	e := newEnv(t)
	owner := e.signup("Owner") // site admin
	space := owner.createSpace("eng")
	callers := roleCallers(e, owner, space)
	// Every case runs on a fresh document with a thread started by the
	// commenter (the "own" thread and comment of the commenter).
	type endpoint struct {
		name, method, path string
		body               any
	}
	comment := map[string]string{"body": "hello"}
	endpoints := []endpoint{
		{"list", "GET", "/api/docs/{doc}/threads", nil},
		{"get", "GET", "/api/threads/{thread}", nil},
		{"create", "POST", "/api/docs/{doc}/threads", map[string]any{"anchor": map[string]int{"version": 1, "start": 0, "end": 4}, "body": "hi"}},
		{"reply", "POST", "/api/threads/{thread}/comments", comment},
		{"resolve", "POST", "/api/threads/{thread}/resolve", map[string]string{"note": "done"}},
		{"edit comment", "PATCH", "/api/comments/{comment}", comment},
		{"delete comment", "DELETE", "/api/comments/{comment}", nil},
	}
	want := map[string]map[string]int{
		"list":           {"anonymous": 401, "outsider": 404, "viewer": 200, "commenter": 200, "editor": 200, "admin": 200, "siteadmin": 200},
		"get":            {"anonymous": 401, "outsider": 404, "viewer": 200, "commenter": 200, "editor": 200, "admin": 200, "siteadmin": 200},
		"create":         {"anonymous": 401, "outsider": 404, "viewer": 403, "commenter": 201, "editor": 201, "admin": 201, "siteadmin": 201},
		"reply":          {"anonymous": 401, "outsider": 404, "viewer": 403, "commenter": 201, "editor": 201, "admin": 201, "siteadmin": 201},
		"resolve":        {"anonymous": 401, "outsider": 404, "viewer": 403, "commenter": 200, "editor": 200, "admin": 200, "siteadmin": 200},
		"edit comment":   {"anonymous": 401, "outsider": 404, "viewer": 403, "commenter": 200, "editor": 403, "admin": 403, "siteadmin": 403},
		"delete comment": {"anonymous": 401, "outsider": 404, "viewer": 403, "commenter": 204, "editor": 403, "admin": 204, "siteadmin": 204},
	}
	for _, ep := range endpoints {
		for name, c := range callers {
			t.Run(ep.name+"/"+name, func(t *testing.T) {
				doc := owner.createDoc(space, "Doc", "text to discuss")
				author := callers["commenter"]
				thread := author.createThread(doc, map[string]any{"version": 1, "start": 5, "end": 7}, "first")
				cm := author.comments(thread)[0]["id"].(string)
				path := strings.NewReplacer("{doc}", doc, "{thread}", thread, "{comment}", cm).Replace(ep.path)
				r := c.do(ep.method, path, ep.body)
				if got, want := r.status, want[ep.name][name]; got != want {
					t.Fatalf("%s %s as %s = %d %s; want %d", ep.method, path, name, got, r.raw, want)
				}
				if r.status < 400 {
					return
				}
				// A refused request changes nothing.
				th := owner.must(http.StatusOK, "GET", "/api/threads/"+thread, nil)
				cms := th.body["comments"].([]any)
				first := cms[0].(map[string]any)
				if th.str("status") != "open" || len(cms) != 1 || first["body"] != "first" || first["deleted"] == true {
					t.Fatalf("refused %s changed the thread: %s", ep.name, th.raw)
				}
				if n := owner.must(http.StatusOK, "GET", "/api/docs/"+doc+"/threads", nil).num("total"); n != 1 {
					t.Fatalf("refused %s left %d threads", ep.name, n)
				}
			})
		}
	}

	// Resolving someone else's thread needs the editor role.
	doc := owner.createDoc(space, "Doc", "text")
	theirs := callers["editor"].createThread(doc, nil, "the editor's thread")
	callers["commenter"].must(http.StatusForbidden, "POST", "/api/threads/"+theirs+"/resolve", nil)
	callers["admin"].must(http.StatusOK, "POST", "/api/threads/"+theirs+"/resolve", nil)
	callers["commenter"].must(http.StatusForbidden, "POST", "/api/threads/"+theirs+"/reopen", nil)
	callers["editor"].must(http.StatusOK, "POST", "/api/threads/"+theirs+"/reopen", nil)
	callers["editor"].must(http.StatusConflict, "POST", "/api/threads/"+theirs+"/reopen", nil)
}

// TestThreadLifecycle walks a thread through the API: anchors moving with
// edits, replies, resolve with a note, reopen, filters, outdated.
func TestThreadLifecycle(t *testing.T) {
	_, ada, _ := adaSpace(t)
	doc := ada.createDoc("eng", "RFC", "We should use 🦀 Rust for the parser.")
	r := ada.must(http.StatusCreated, "POST", "/api/docs/"+doc+"/threads", map[string]any{
		"anchor": map[string]int{"version": 1, "start": 16, "end": 20}, "body": "Why not Go?",
	})
	thread := r.str("id")
	if loc := r.header.Get("Location"); loc != "/api/threads/"+thread {
		t.Errorf("Location = %q", loc)
	}
	a := r.body["anchor"].(map[string]any)
	if a["quote"] != "Rust" || a["version"] != 1.0 || r.str("status") != "open" {
		t.Fatalf("created thread = %s", r.raw)
	}
	general := ada.createThread(doc, nil, "Overall fine.")
	// An edit before the quote moves it; a REST edit goes through the hub.
	ada.must(http.StatusOK, "POST", "/api/docs/"+doc+"/edits", map[string]any{"version": 1, "op": []any{"Proposal: "}})
	got := ada.must(http.StatusOK, "GET", "/api/threads/"+thread, nil).body["anchor"].(map[string]any)
	if got["start"] != 26.0 || got["end"] != 30.0 || got["version"] != 2.0 || got["quote"] != "Rust" {
		t.Errorf("moved anchor = %v; want [26, 30) at version 2", got)
	}
	ada.must(http.StatusCreated, "POST", "/api/threads/"+thread+"/comments", map[string]string{"body": "Because of *speed*."})
	res := ada.must(http.StatusOK, "POST", "/api/threads/"+thread+"/resolve", map[string]string{"note": "Go it is."})
	if res.str("status") != "resolved" || res.str("resolution") != "Go it is." || res.str("resolvedBy") != ada.id() {
		t.Errorf("resolved thread = %s", res.raw)
	}
	ada.must(http.StatusConflict, "POST", "/api/threads/"+thread+"/resolve", nil)
	statuses := func(filter string) string {
		r := ada.must(http.StatusOK, "GET", "/api/docs/"+doc+"/threads"+filter, nil)
		var out []string
		for _, th := range r.body["threads"].([]any) {
			out = append(out, th.(map[string]any)["status"].(string))
		}
		return strings.Join(out, " ")
	}
	if got := statuses(""); got != "resolved open" {
		t.Errorf("threads = %q; want resolved, open (oldest first)", got)
	}
	ada.must(http.StatusOK, "POST", "/api/threads/"+thread+"/reopen", nil)
	// Deleting the quoted text outdates the thread; it keeps its quote.
	ada.must(http.StatusOK, "POST", "/api/docs/"+doc+"/edits", map[string]any{"version": 2, "op": []any{26, map[string]int{"d": 4}}})
	if got := statuses("?status=outdated"); got != "outdated" {
		t.Errorf("outdated threads = %q", got)
	}
	if got := statuses("?status=open"); got != "open" {
		t.Errorf("open threads = %q", got)
	}
	th := ada.must(http.StatusOK, "GET", "/api/threads/"+thread, nil)
	if a := th.body["anchor"].(map[string]any); a["quote"] != "Rust" || a["start"] != a["end"] || th.str("status") != "outdated" {
		t.Errorf("outdated thread = %s", th.raw)
	}
	if got := statuses("?status=resolved"); got != "" {
		t.Errorf("resolved threads = %q; want none", got)
	}
	ada.must(http.StatusBadRequest, "GET", "/api/docs/"+doc+"/threads?status=closed", nil)
	if r := ada.must(http.StatusOK, "GET", "/api/docs/"+doc+"/threads?limit=1&offset=1", nil); r.num("total") != 2 || len(r.body["threads"].([]any)) != 1 {
		t.Errorf("paged threads = %s", r.raw)
	}
	_ = general
}

// TestCommentTombstone deletes a comment in the middle of a thread.
func TestCommentTombstone(t *testing.T) {
	_, ada, _ := adaSpace(t)
	doc := ada.createDoc("eng", "RFC", "text")
	thread := ada.createThread(doc, nil, "one")
	mid := ada.must(http.StatusCreated, "POST", "/api/threads/"+thread+"/comments", map[string]string{"body": "two"}).str("id")
	ada.must(http.StatusCreated, "POST", "/api/threads/"+thread+"/comments", map[string]string{"body": "three"})
	edited := ada.must(http.StatusOK, "PATCH", "/api/comments/"+mid, map[string]string{"body": "two, edited"})
	if edited.str("body") != "two, edited" || edited.str("editedAt") == "" {
		t.Errorf("edited comment = %s", edited.raw)
	}
	ada.must(http.StatusNoContent, "DELETE", "/api/comments/"+mid, nil)
	cms := ada.comments(thread)
	if len(cms) != 3 || cms[0]["body"] != "one" || cms[2]["body"] != "three" {
		t.Fatalf("comments = %v", cms)
	}
	if tomb := cms[1]; tomb["id"] != mid || tomb["deleted"] != true || tomb["body"] != "" || tomb["html"] != nil || tomb["authorId"] != ada.id() {
		t.Errorf("tombstone = %v", tomb)
	}
	// Row 2: a deleted comment is not brought back by an edit.
	ada.must(http.StatusConflict, "PATCH", "/api/comments/"+mid, map[string]string{"body": "restored"})
	if cms := ada.comments(thread); cms[1]["deleted"] != true {
		t.Errorf("tombstone restored: %v", cms[1])
	}
}

// TestCommentInputs checks size caps, bad bodies and strict decoding.
func TestCommentInputs(t *testing.T) {
	_, ada, _ := adaSpace(t)
	doc := ada.createDoc("eng", "RFC", "short text")
	thread := ada.createThread(doc, nil, "first")
	big := strings.Repeat("x", docket.MaxCommentBytes+1)
	for _, tc := range []struct {
		name, method, path string
		body               any
		status             int
	}{
		{"thread too large", "POST", "/api/docs/{doc}/threads", map[string]any{"body": big}, 413},
		{"reply too large", "POST", "/api/threads/{thread}/comments", map[string]any{"body": big}, 413},
		{"edit too large", "PATCH", "/api/comments/{comment}", map[string]any{"body": big}, 413},
		{"empty reply", "POST", "/api/threads/{thread}/comments", map[string]any{"body": "  "}, 400},
		{"no body field", "POST", "/api/threads/{thread}/comments", map[string]any{}, 400},
		{"unknown field", "POST", "/api/threads/{thread}/comments", map[string]any{"body": "x", "authorId": "someone"}, 400},
		{"quote smuggled into the anchor", "POST", "/api/docs/{doc}/threads", map[string]any{"body": "x", "anchor": map[string]any{"version": 1, "start": 0, "end": 2, "quote": "fake"}}, 400},
		{"status smuggled into a thread", "POST", "/api/docs/{doc}/threads", map[string]any{"body": "x", "status": "resolved"}, 400},
		{"anchor past the end", "POST", "/api/docs/{doc}/threads", map[string]any{"body": "x", "anchor": map[string]int{"version": 1, "start": 0, "end": 11}}, 400},
		{"empty anchor", "POST", "/api/docs/{doc}/threads", map[string]any{"body": "x", "anchor": map[string]int{"version": 1, "start": 3, "end": 3}}, 400},
		{"anchor at a future version", "POST", "/api/docs/{doc}/threads", map[string]any{"body": "x", "anchor": map[string]int{"version": 2, "start": 0, "end": 1}}, 400},
		{"anchor not an object", "POST", "/api/docs/{doc}/threads", `{"body":"x","anchor":[1,2]}`, 400},
		{"note too large", "POST", "/api/threads/{thread}/resolve", map[string]any{"note": big}, 413},
		{"reopen with a body", "POST", "/api/threads/{thread}/reopen", map[string]any{"x": 1}, 400},
		{"hostile thread id", "GET", "/api/threads/..%2f..%2fx", nil, 404},
		{"long thread id", "GET", "/api/threads/" + strings.Repeat("a", 100), nil, 404},
		{"hostile comment id", "PATCH", "/api/comments/%00", map[string]any{"body": "x"}, 404},
		{"emoji doc id", "GET", "/api/docs/🦀/threads", nil, 404},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cm := ada.comments(thread)[0]["id"].(string)
			path := strings.NewReplacer("{doc}", doc, "{thread}", thread, "{comment}", cm).Replace(tc.path)
			ada.must(tc.status, tc.method, path, tc.body)
			cms := ada.comments(thread)
			if len(cms) != 1 || cms[0]["body"] != "first" {
				t.Errorf("a refused request changed the thread: %v", cms)
			}
			if n := ada.must(http.StatusOK, "GET", "/api/docs/"+doc+"/threads", nil).num("total"); n != 1 {
				t.Errorf("a refused request left %d threads", n)
			}
		})
	}
	// At the cap is fine.
	ada.must(http.StatusCreated, "POST", "/api/threads/"+thread+"/comments", map[string]any{"body": big[1:]})
}

// TestCommentHTMLIsSafe (row 17 and 18 for comments): markup in comments
// is rendered and sanitised like documents.
func TestCommentHTMLIsSafe(t *testing.T) {
	_, ada, _ := adaSpace(t)
	doc := ada.createDoc("eng", "RFC", "text")
	body := strings.Join([]string{
		"<script>alert(1)</script>",
		"<img src=x onerror=alert(1)>",
		"<svg onload=alert(1)>",
		"[a](javascript:alert(1)) [b](&#106;avascript:alert(1)) [c](data:text/html;base64,PHNjcmlwdD4=)",
		"<a href=\"#\" style=\"position:fixed\">x</a>",
		"**bold** [ok](https://example.com)",
	}, "\n\n")
	r := ada.must(http.StatusCreated, "POST", "/api/docs/"+doc+"/threads", map[string]any{"body": body})
	thread := r.str("id")
	html := r.body["comments"].([]any)[0].(map[string]any)["html"].(string)
	edited := ada.must(http.StatusOK, "PATCH", "/api/comments/"+ada.comments(thread)[0]["id"].(string), map[string]any{"body": body + "\n\n<iframe src=x></iframe>"})
	for _, h := range []string{html, edited.str("html")} {
		for _, re := range []*regexp.Regexp{dangerousTag, eventHandler, styleAttr, dangerousHref} {
			if m := re.FindString(h); m != "" {
				t.Errorf("comment HTML contains %q:\n%s", m, h)
			}
		}
		if !strings.Contains(h, "<strong>bold</strong>") || !strings.Contains(h, `href="https://example.com"`) {
			t.Errorf("safe markup lost:\n%s", h)
		}
	}
}

// TestThreadIDOR (rows 1 and 3): thread and comment ids are checked
// against their document, so ids from a space the caller cannot read are
// 404 everywhere, and nothing of a deleted document stays reachable.
func TestThreadIDOR(t *testing.T) {
	e := newEnv(t)
	ada, bob := e.signup("Ada"), e.signup("Bob")
	ada.createSpace("secret")
	secret := ada.createDoc("secret", "Secret plan", "hidden text")
	thread := ada.createThread(secret, map[string]any{"version": 1, "start": 0, "end": 6}, "private remark")
	cm := ada.comments(thread)[0]["id"].(string)
	bobSpace := bob.createSpace("bobs")
	bobDoc := bob.createDoc("bobs", "Bob's", "bob text")
	bob.createThread(bobDoc, nil, "bob's own")
	body := map[string]any{"body": "x"}
	for _, tc := range []struct {
		method, path string
		body         any
	}{
		{"GET", "/api/docs/" + secret + "/threads", nil},
		{"POST", "/api/docs/" + secret + "/threads", body},
		{"GET", "/api/threads/" + thread, nil},
		{"POST", "/api/threads/" + thread + "/comments", body},
		{"POST", "/api/threads/" + thread + "/resolve", nil},
		{"POST", "/api/threads/" + thread + "/reopen", nil},
		{"PATCH", "/api/comments/" + cm, body},
		{"DELETE", "/api/comments/" + cm, nil},
		// An id of one kind where another is expected.
		{"GET", "/api/threads/" + cm, nil},
		{"PATCH", "/api/comments/" + thread, body},
		{"GET", "/api/docs/" + thread + "/threads", nil},
	} {
		r := bob.do(tc.method, tc.path, tc.body)
		if r.status != 404 || containsAny(r.raw, "Secret", "hidden", "private") {
			t.Errorf("%s %s as an outsider = %d %s; want 404 without content", tc.method, tc.path, r.status, r.raw)
		}
	}
	if cms := ada.comments(thread); len(cms) != 1 || cms[0]["body"] != "private remark" {
		t.Fatalf("outsider changed the thread: %v", cms)
	}
	// Removed from the space: gone at once.
	space := ada.must(http.StatusOK, "GET", "/api/spaces/secret", nil).str("id")
	ada.addMember(space, bob, "commenter")
	bob.must(http.StatusCreated, "POST", "/api/threads/"+thread+"/comments", map[string]string{"body": "I can see it"})
	ada.must(http.StatusNoContent, "DELETE", fmt.Sprintf("/api/spaces/%s/members/%s", space, bob.id()), nil)
	bob.must(http.StatusNotFound, "GET", "/api/threads/"+thread, nil)
	// A deleted document takes its threads and comments with it.
	ada.must(http.StatusNoContent, "DELETE", "/api/docs/"+secret, nil)
	ada.must(http.StatusNotFound, "GET", "/api/threads/"+thread, nil)
	ada.must(http.StatusNotFound, "GET", "/api/docs/"+secret+"/threads", nil)
	ada.must(http.StatusNotFound, "PATCH", "/api/comments/"+cm, map[string]string{"body": "x"})
	_ = bobSpace
}

// TestMentionsResolveToMembers checks that @mentions in comments name
// members of the document's space only.
func TestMentionsResolveToMembers(t *testing.T) {
	e := newEnv(t)
	ada, bob, eve := e.signup("Ada"), e.signup("Bob"), e.signup("Eve")
	space := ada.createSpace("eng")
	ada.addMember(space, bob, "viewer")
	doc := ada.createDoc("eng", "RFC", "text")
	r := ada.must(http.StatusCreated, "POST", "/api/docs/"+doc+"/threads", map[string]any{"body": "@bob and @eve, not `@ada`; bob@example.com"})
	cm := r.body["comments"].([]any)[0].(map[string]any)
	if got := fmt.Sprint(cm["mentions"]); got != fmt.Sprint([]any{bob.id()}) {
		t.Errorf("mentions = %s; want only bob (eve is not a member)", got)
	}
	_ = eve
}
