package server_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	docket "github.com/docket-dev/docket"
	"github.com/docket-dev/docket/bolt"
	"github.com/docket-dev/docket/export"
)

// untar reads a gzip tar into its files by name.
func untar(t *testing.T, raw []byte) map[string]string {
	t.Helper()
	gz, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("not gzip: %v", err)
	}
	tr := tar.NewReader(gz)
	files := map[string]string{}
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("tar: %v", err)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		files[hdr.Name] = string(data)
	}
	return files
}

func TestSpaceExportDownload(t *testing.T) {
	e := newEnv(t)
	ada, bob := e.signup("Ada"), e.signup("Bob")
	ada.createSpace("eng")
	ada.addMember("eng", bob, docket.RoleEditor)
	id := ada.createDoc("eng", "Shared cache", "# Shared cache\n\nOne cache.\n")
	ada.createSpace("other")
	ada.createDoc("other", "Elsewhere", "Not in the export.\n")

	if page := ada.must(http.StatusOK, "GET", "/s/eng/settings", nil); !bytes.Contains(page.raw, []byte(`href="/s/eng/export.tar.gz"`)) {
		t.Errorf("the space settings page has no link to the export")
	}
	for _, path := range []string{"/s/eng/export.tar.gz", "/api/spaces/eng/export.tar.gz"} {
		r := ada.must(http.StatusOK, "GET", path, nil)
		if got := r.header.Get("Content-Type"); got != "application/gzip" {
			t.Errorf("%s: Content-Type %q; want application/gzip", path, got)
		}
		if got := r.header.Get("Content-Disposition"); !strings.Contains(got, `filename="docket-eng-`) {
			t.Errorf("%s: Content-Disposition %q", path, got)
		}
		files := untar(t, r.raw)
		var m export.Manifest
		if err := json.Unmarshal([]byte(files["manifest.json"]), &m); err != nil {
			t.Fatalf("%s: manifest: %v", path, err)
		}
		if m.Format != docket.ExportFormat || m.FormatVersion != docket.ExportVersion || len(m.Spaces) != 1 || len(m.Documents) != 1 {
			t.Fatalf("%s: manifest = %+v; want the one space eng with its one document", path, m)
		}
		doc := m.Documents[0]
		if doc.ID != id || doc.Owner != "ada@example.com" {
			t.Errorf("%s: document entry = %+v", path, doc)
		}
		want := map[string]bool{"manifest.json": true, "eng/space.json": true, doc.Path: true, doc.Record: true}
		for name := range files {
			if !want[name] {
				t.Errorf("%s: unexpected entry %s", path, name)
			}
			delete(want, name)
		}
		for name := range want {
			t.Errorf("%s: no entry %s", path, name)
		}
		if md := files[doc.Path]; !strings.HasPrefix(md, "---\ntitle: \"Shared cache\"\n") || !strings.HasSuffix(md, "---\n# Shared cache\n\nOne cache.\n") {
			t.Errorf("%s: markdown = %q", path, md)
		}
		var rec docket.DocumentRecord
		if err := json.Unmarshal([]byte(files[doc.Record]), &rec); err != nil || len(rec.Ops) != 1 || rec.Document.ID != id {
			t.Errorf("%s: record = %v %+v", path, err, rec)
		}
	}
	// An editor may read the space but not export it.
	for _, path := range []string{"/s/eng/export.tar.gz", "/api/spaces/eng/export.tar.gz"} {
		if r := bob.do("GET", path, nil); r.status != http.StatusForbidden {
			t.Errorf("Bob GET %s = %d; want 403", path, r.status)
		}
	}
	if r := bob.do("GET", "/api/spaces/other/export.tar.gz", nil); r.status != http.StatusNotFound {
		t.Errorf("Bob GET another space's export = %d; want 404", r.status)
	}
	if r := e.client().do("GET", "/api/spaces/eng/export.tar.gz", nil); r.status != http.StatusUnauthorized {
		t.Errorf("anonymous GET export = %d; want 401", r.status)
	}
}

// TestDeactivatedSignIn: the account an import makes for an unknown
// author cannot sign in, with a message that says why, until an admin
// sets its password.
func TestDeactivatedSignIn(t *testing.T) {
	e := newEnv(t)
	e.signup("Ada")
	sys := docket.NewSystemContext(context.Background())
	cy, err := e.db.RestoreUser(sys, &docket.User{Name: "Cy Twombly", Email: "cy@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	if !cy.Deactivated || cy.Name != "Cy Twombly" {
		t.Fatalf("restored user = %+v; want Cy Twombly, deactivated", cy)
	}
	login := map[string]string{"email": "cy@example.com", "password": ""}
	r := e.client().must(http.StatusForbidden, "POST", "/api/auth/login", login)
	if msg, _ := r.body["error"].(map[string]any)["message"].(string); !strings.Contains(msg, "deactivated") {
		t.Errorf("API sign-in message = %q; want it to say the account is deactivated", msg)
	}
	p := e.client().submit("/login", "/login", formValues("email", "cy@example.com", "password", "anything at all"))
	if p.status != http.StatusForbidden {
		t.Fatalf("page sign-in = %d; want 403", p.status)
	}
	p.has(t, `role="alert"`, "This account is deactivated")

	if err := bolt.NewUserService(e.db).SetPassword(sys, cy.ID, "correct horse Cy"); err != nil {
		t.Fatal(err)
	}
	login["password"] = "correct horse Cy"
	e.client().must(http.StatusOK, "POST", "/api/auth/login", login)
}
