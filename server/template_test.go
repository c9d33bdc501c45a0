package server_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	docket "github.com/docket-dev/docket"
)

// templates lists a space's templates as the API answers them.
func (c *client) templates(space string) []docket.Template {
	c.e.t.Helper()
	r := c.must(http.StatusOK, "GET", "/api/spaces/"+space+"/templates", nil)
	var out struct {
		Templates []docket.Template `json:"templates"`
	}
	if err := json.Unmarshal(r.raw, &out); err != nil {
		c.e.t.Fatalf("decode %s: %v", r.raw, err)
	}
	return out.Templates
}

func templateNames(list []docket.Template) string {
	var names []string
	for _, t := range list {
		names = append(names, t.Name)
	}
	return strings.Join(names, ", ")
}

func TestTemplates(t *testing.T) {
	e, ada, space := adaSpace(t)
	callers := roleCallers(e, ada, space)

	list := callers["viewer"].templates(space)
	if got, want := templateNames(list), "RFC, Decision record, Meeting notes, Brainstorm"; got != want {
		t.Fatalf("default templates = %s; want %s", got, want)
	}
	for _, tpl := range list {
		if tpl.Description == "" || !strings.HasPrefix(tpl.Body, "# {{title}}\n") || !tpl.Kind.Valid() {
			t.Errorf("default template %+v: want a description, a body starting with the title, a kind", tpl)
		}
	}
	rfc := list[0]

	// A document from a template: its body with the title in place, its kind.
	r := callers["editor"].must(http.StatusCreated, "POST", "/api/docs", map[string]any{"space": space, "title": "Faster search", "template": rfc.ID})
	if body := r.str("body"); !strings.HasPrefix(body, "# Faster search\n\n## Summary\n") || strings.Contains(body, "{{") {
		t.Errorf("document from the RFC template starts %q; want its title in place", body[:min(len(body), 40)])
	}
	if got := r.str("kind"); got != "rfc" {
		t.Errorf("kind from the RFC template = %q; want rfc", got)
	}
	// Meeting notes: the date in place, the template's name as the title by default.
	r = callers["editor"].must(http.StatusCreated, "POST", "/api/docs", map[string]any{"space": space, "template": list[2].ID})
	if got, want := r.str("title"), "Meeting notes"; got != want {
		t.Errorf("title without one = %q; want %q", got, want)
	}
	if today := time.Now().UTC().Format(time.DateOnly); !strings.Contains(r.str("body"), "Date: "+today) {
		t.Errorf("meeting notes body %q; want Date: %s", r.str("body"), today)
	}
	if got := r.str("kind"); got != "notes" {
		t.Errorf("kind from the meeting notes template = %q; want notes", got)
	}
	// Templates are no documents: the list has the two made from them only.
	docs := ada.must(http.StatusOK, "GET", "/api/docs?space="+space, nil)
	if got := docs.num("total"); got != 2 {
		t.Errorf("documents in the space = %d; want 2 (templates are not listed)", got)
	}

	// Admins create, change and delete templates.
	created := callers["admin"].must(http.StatusCreated, "POST", "/api/spaces/"+space+"/templates",
		map[string]any{"name": " Post-mortem ", "description": "What broke and what we change.", "kind": "notes", "body": "# {{title}}\n\n## Timeline\n"})
	tid := created.str("id")
	if got := created.str("name"); got != "Post-mortem" {
		t.Errorf("name = %q; want it trimmed", got)
	}
	upd := ada.must(http.StatusOK, "PATCH", "/api/spaces/"+space+"/templates/"+tid, map[string]any{"body": "# {{title}}\n\n## Timeline\n\n## Causes\n"})
	if got := upd.str("body"); !strings.Contains(got, "## Causes") || upd.str("description") != "What broke and what we change." {
		t.Errorf("after PATCH body: %s; want the new body and the old description", upd.raw)
	}
	if got := ada.must(http.StatusOK, "GET", "/api/spaces/"+space+"/templates/"+tid, nil).str("name"); got != "Post-mortem" {
		t.Errorf("GET template name = %q", got)
	}
	ada.must(http.StatusNoContent, "DELETE", "/api/spaces/"+space+"/templates/"+rfc.ID, nil)
	if got, want := templateNames(ada.templates(space)), "Decision record, Meeting notes, Brainstorm, Post-mortem"; got != want {
		t.Errorf("after deleting RFC: %s; want %s (the defaults are not seeded again)", got, want)
	}

	tpath := "/api/spaces/" + space + "/templates"
	other := ada.createSpace("other")
	otherTpl := ada.templates(other)[0].ID
	for _, tc := range []struct {
		name, caller, method, path string
		body                       any
		status                     int
	}{
		{"commenter creates", "commenter", "POST", tpath, map[string]any{"name": "X", "body": "x"}, http.StatusForbidden},
		{"editor changes", "editor", "PATCH", tpath + "/" + tid, map[string]any{"name": "X"}, http.StatusForbidden},
		{"editor deletes", "editor", "DELETE", tpath + "/" + tid, nil, http.StatusForbidden},
		{"outsider lists", "outsider", "GET", tpath, nil, http.StatusNotFound},
		{"anonymous lists", "anonymous", "GET", tpath, nil, http.StatusUnauthorized},
		{"no name", "admin", "POST", tpath, map[string]any{"body": "x"}, http.StatusBadRequest},
		{"no body", "admin", "POST", tpath, map[string]any{"name": "Empty", "body": "  "}, http.StatusBadRequest},
		{"bad kind", "admin", "POST", tpath, map[string]any{"name": "K", "body": "x", "kind": "memo"}, http.StatusBadRequest},
		{"long name", "admin", "POST", tpath, map[string]any{"name": strings.Repeat("n", 81), "body": "x"}, http.StatusBadRequest},
		{"same name", "admin", "POST", tpath, map[string]any{"name": "post-MORTEM", "body": "x"}, http.StatusConflict},
		{"rename to a taken name", "admin", "PATCH", tpath + "/" + tid, map[string]any{"name": "Brainstorm"}, http.StatusConflict},
		{"deleted template", "admin", "GET", tpath + "/" + rfc.ID, nil, http.StatusNotFound},
		{"other space's template", "admin", "GET", tpath + "/" + otherTpl, nil, http.StatusNotFound},
		{"doc from a deleted template", "editor", "POST", "/api/docs", map[string]any{"space": space, "template": rfc.ID}, http.StatusBadRequest},
		{"doc from another space's template", "siteadmin", "POST", "/api/docs", map[string]any{"space": space, "template": otherTpl}, http.StatusBadRequest},
		{"doc with body and template", "editor", "POST", "/api/docs", map[string]any{"space": space, "template": tid, "body": "mine"}, http.StatusBadRequest},
		{"doc from a template as a viewer", "viewer", "POST", "/api/docs", map[string]any{"space": space, "template": tid}, http.StatusForbidden},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := callers[tc.caller].do(tc.method, tc.path, tc.body)
			if r.status != tc.status {
				t.Errorf("%s %s as %s = %d %s; want %d", tc.method, tc.path, tc.caller, r.status, r.raw, tc.status)
			}
		})
	}
	if got, want := templateNames(ada.templates(space)), "Decision record, Meeting notes, Brainstorm, Post-mortem"; got != want {
		t.Errorf("after the refused requests: %s; want %s", got, want)
	}
}
