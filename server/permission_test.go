package server_test

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// TestPermissionMatrix checks every role against every space and document
// endpoint: a caller who may not read gets 404 (existence does not leak),
// one who may read but not write gets 403, anonymous callers 401.
func TestPermissionMatrix(t *testing.T) {
	e := newEnv(t)
	owner := e.signup("Owner") // first user: site admin
	space := owner.createSpace("eng")
	callers := roleCallers(e, owner, space)
	e.signup("Newbie") // the member that "set member" adds
	// A second owner-only document for deletes, created by the site admin.
	type endpoint struct {
		name, method, path string
		body               func(doc string) any
	}
	read := func(method, path string) endpoint {
		return endpoint{name: method + " " + path, method: method, path: path}
	}
	endpoints := []endpoint{
		read("GET", "/api/docs/{doc}"),
		read("GET", "/api/docs/{doc}/html"),
		read("GET", "/api/docs/{doc}/history"),
		read("GET", "/api/docs/{doc}/versions/1"),
		read("GET", "/api/docs/{doc}/diff?from=0&to=1"),
		read("GET", "/api/docs?space=eng"),
		read("GET", "/api/spaces/eng"),
		read("GET", "/api/spaces/eng/members"),
		{"edit", "POST", "/api/docs/{doc}/edits", func(string) any { return map[string]any{"version": 1, "body": "changed"} }},
		{"patch", "PATCH", "/api/docs/{doc}", func(string) any { return map[string]any{"title": "New"} }},
		{"create", "POST", "/api/docs", func(string) any { return map[string]any{"space": "eng", "title": "T", "body": "b"} }},
		{"delete", "DELETE", "/api/docs/{doc}", nil},
		{"set member", "POST", "/api/spaces/eng/members", func(string) any {
			return map[string]any{"email": "newbie@example.com", "role": "viewer"}
		}},
		{"invite", "POST", "/api/invites", func(string) any { return map[string]any{"email": "new@example.com", "space": "eng"} }},
	}
	const R, W, D, M = 200, 200, 204, 200
	want := map[string]map[string]int{
		// endpoint -> caller -> status
		"GET /api/docs/{doc}":                  {"anonymous": 401, "outsider": 404, "viewer": R, "commenter": R, "editor": R, "admin": R, "siteadmin": R},
		"GET /api/docs/{doc}/html":             {"anonymous": 401, "outsider": 404, "viewer": R, "commenter": R, "editor": R, "admin": R, "siteadmin": R},
		"GET /api/docs/{doc}/history":          {"anonymous": 401, "outsider": 404, "viewer": R, "commenter": R, "editor": R, "admin": R, "siteadmin": R},
		"GET /api/docs/{doc}/versions/1":       {"anonymous": 401, "outsider": 404, "viewer": R, "commenter": R, "editor": R, "admin": R, "siteadmin": R},
		"GET /api/docs/{doc}/diff?from=0&to=1": {"anonymous": 401, "outsider": 404, "viewer": R, "commenter": R, "editor": R, "admin": R, "siteadmin": R},
		"GET /api/docs?space=eng":              {"anonymous": 401, "outsider": 404, "viewer": R, "commenter": R, "editor": R, "admin": R, "siteadmin": R},
		"GET /api/spaces/eng":                  {"anonymous": 401, "outsider": 404, "viewer": R, "commenter": R, "editor": R, "admin": R, "siteadmin": R},
		"GET /api/spaces/eng/members":          {"anonymous": 401, "outsider": 404, "viewer": R, "commenter": R, "editor": R, "admin": R, "siteadmin": R},
		"edit":                                 {"anonymous": 401, "outsider": 404, "viewer": 403, "commenter": 403, "editor": W, "admin": W, "siteadmin": W},
		"patch":                                {"anonymous": 401, "outsider": 404, "viewer": 403, "commenter": 403, "editor": W, "admin": W, "siteadmin": W},
		"create":                               {"anonymous": 401, "outsider": 404, "viewer": 403, "commenter": 403, "editor": 201, "admin": 201, "siteadmin": 201},
		"delete":                               {"anonymous": 401, "outsider": 404, "viewer": 403, "commenter": 403, "editor": 403, "admin": D, "siteadmin": D},
		"set member":                           {"anonymous": 401, "outsider": 404, "viewer": 403, "commenter": 403, "editor": 403, "admin": M, "siteadmin": M},
		"invite":                               {"anonymous": 401, "outsider": 404, "viewer": 403, "commenter": 403, "editor": 403, "admin": 201, "siteadmin": 201},
	}
	for _, ep := range endpoints {
		for name, c := range callers {
			t.Run(ep.name+"/"+name, func(t *testing.T) {
				doc := owner.createDoc(space, "Doc", "text")
				path := strings.ReplaceAll(ep.path, "{doc}", doc)
				var body any
				if ep.body != nil {
					body = ep.body(doc)
				}
				r := c.do(ep.method, path, body)
				if got, want := r.status, want[ep.name][name]; got != want {
					t.Fatalf("%s %s as %s = %d %s; want %d", ep.method, path, name, got, r.raw, want)
				}
				// Refused writes change nothing.
				if r.status < 400 {
					return
				}
				after := owner.must(http.StatusOK, "GET", "/api/docs/"+doc, nil)
				if after.str("body") != "text" || after.str("title") != "Doc" || after.num("version") != 1 {
					t.Fatalf("refused %s changed the document: %s", ep.name, after.raw)
				}
			})
		}
	}
}

// TestListsOnlyReadable checks that lists never show what the caller may
// not read (row 3).
func TestListsOnlyReadable(t *testing.T) {
	e := newEnv(t)
	ada, bob := e.signup("Ada"), e.signup("Bob")
	ada.createSpace("secret")
	secret := ada.createDoc("secret", "Secret plan", "hidden")
	bob.createSpace("bobs")
	bob.createDoc("bobs", "Bob's plan", "visible")
	r := bob.must(200, "GET", "/api/docs", nil)
	if r.num("total") != 1 {
		t.Fatalf("bob sees %d documents: %s", r.num("total"), r.raw)
	}
	for _, path := range []string{"/api/docs/" + secret + "/history", "/api/docs/" + secret + "/versions/0", "/api/docs/" + secret + "/diff"} {
		if got := bob.do("GET", path, nil); got.status != 404 || containsAny(got.raw, "Secret", "hidden") {
			t.Errorf("GET %s = %d %s; want 404 without content", path, got.status, got.raw)
		}
	}
	if got := bob.must(200, "GET", "/api/spaces", nil); got.num("total") != 1 || containsAny(got.raw, "secret") {
		t.Errorf("bob's spaces = %s", got.raw)
	}
	bob.must(404, "GET", "/api/docs?space=secret", nil)
	// Removing a member hides the space at once.
	space := ada.must(200, "GET", "/api/spaces/secret", nil).str("id")
	ada.addMember(space, bob, "viewer")
	bob.must(200, "GET", "/api/docs/"+secret, nil)
	ada.must(204, "DELETE", fmt.Sprintf("/api/spaces/%s/members/%s", space, bob.id()), nil)
	bob.must(404, "GET", "/api/docs/"+secret, nil)
}

func containsAny(b []byte, subs ...string) bool {
	for _, s := range subs {
		if bytes.Contains(b, []byte(s)) {
			return true
		}
	}
	return false
}
