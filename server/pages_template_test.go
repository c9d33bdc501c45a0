package server_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	docket "github.com/docket-dev/docket"
)

// TestPagesTemplates: the new document form offers Blank and the space's
// templates with their descriptions; a document made from one has its
// text and kind; admins add, edit and delete templates through their
// pages, others may not.
func TestPagesTemplates(t *testing.T) {
	f := newPageFixture(t)
	bob := f.e.signup("Bob")
	f.ada.addMember(f.space, bob, docket.RoleEditor)
	list := f.ada.templates(f.space)

	form := bob.pageOK("/s/eng/new")
	form.has(t, `name="template" value="" checked`, "Blank", "Meeting notes", list[2].Description, `value="`+list[2].ID+`"`)
	form.hasNot(t, `href="/s/eng/templates"`) // Bob is no admin
	f.ada.pageOK("/s/eng/new").has(t, `href="/s/eng/templates"`)

	// From the meeting notes template.
	p := bob.submit("/s/eng/new", "/s/eng/new", formValues("title", "Weekly sync", "template", list[2].ID, "kind", "", "tags", "", "body", ""))
	p.mustSeeOther(t, "/d/")
	doc := bob.must(http.StatusOK, "GET", "/api/docs/"+strings.TrimPrefix(p.location, "/d/"), nil)
	if doc.str("title") != "Weekly sync" || !strings.HasPrefix(doc.str("body"), "# Weekly sync\n\nDate: ") || doc.str("kind") != "notes" {
		t.Errorf("document from the meeting notes template = %s", doc.raw)
	}
	// Blank without a kind is an RFC, as before.
	p = bob.submit("/s/eng/new", "/s/eng/new", formValues("title", "Mine", "template", "", "kind", "", "body", "Some text."))
	p.mustSeeOther(t, "/d/")
	if got := bob.must(http.StatusOK, "GET", "/api/docs/"+strings.TrimPrefix(p.location, "/d/"), nil).str("kind"); got != "rfc" {
		t.Errorf("blank document kind = %q; want rfc", got)
	}
	// A template and a text of one's own: the form again, with both kept.
	p = bob.submit("/s/eng/new", "/s/eng/new", formValues("title", "Both", "template", list[0].ID, "body", "My own text"))
	if p.status != http.StatusBadRequest {
		t.Fatalf("template and text = %d; want 400", p.status)
	}
	p.has(t, `role="alert"`, "Choose Blank to write your own text", "My own text", `value="`+list[0].ID+`" checked`)

	// Admins manage templates through their pages.
	if p := bob.page("/s/eng/templates"); p.status != http.StatusForbidden {
		t.Errorf("templates page for an editor = %d; want 403", p.status)
	}
	if p := bob.submit("/s/eng/new", "/s/eng/templates", formValues("name", "X", "body", "x")); p.status != http.StatusForbidden {
		t.Errorf("template form post by an editor = %d; want 403", p.status)
	}
	f.ada.pageOK("/s/eng/templates").has(t, "RFC", "Decision record", "Brainstorm", `action="/s/eng/templates/`+list[0].ID+`/delete"`)
	f.ada.submit("/s/eng/templates", "/s/eng/templates", formValues("name", "Post-mortem", "description", "What broke.", "kind", "notes", "body", "# {{title}}\r\n\r\n## Timeline\r\n")).
		mustSeeOther(t, "/s/eng/templates?done=template")
	page := f.ada.pageOK("/s/eng/templates?done=template")
	page.has(t, "The template is saved.", "Post-mortem", "What broke.")
	m := regexp.MustCompile(`href="/s/eng/templates/([a-zA-Z0-9]+)">Post-mortem`).FindStringSubmatch(page.body)
	if m == nil {
		t.Fatal("no link to the new template")
	}
	edit := "/s/eng/templates/" + m[1]
	f.ada.pageOK(edit).has(t, `value="Post-mortem"`, "## Timeline", `<option value="notes" selected>`)
	p = f.ada.submit(edit, edit, formValues("name", "", "description", "What broke.", "kind", "notes", "body", "# {{title}}\r\n"))
	if p.status != http.StatusBadRequest {
		t.Errorf("template without a name = %d; want 400", p.status)
	}
	p.has(t, `role="alert"`, "Name required")
	f.ada.submit(edit, edit, formValues("name", "Incident review", "description", "What broke and why.", "kind", "notes", "body", "# {{title}}\r\n\r\n## Causes\r\n")).
		mustSeeOther(t, "/s/eng/templates?done=template")
	tpl := f.ada.must(http.StatusOK, "GET", "/api/spaces/"+f.space+"/templates/"+m[1], nil)
	if tpl.str("name") != "Incident review" || tpl.str("body") != "# {{title}}\n\n## Causes\n" {
		t.Errorf("edited template = %s", tpl.raw)
	}
	f.ada.submit("/s/eng/templates", edit+"/delete", url.Values{}).mustSeeOther(t, "/s/eng/templates?done=template-gone")
	if p := f.ada.page(edit); p.status != http.StatusNotFound {
		t.Errorf("deleted template's page = %d; want 404", p.status)
	}
}
