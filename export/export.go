// Package export writes a Docket export, every record of some spaces as
// markdown files with front matter beside machine-readable records, and
// reads one back into a server (docs/EXPORT.md). It works over
// [docket.Exporter] and [docket.Restorer] only, so the command line and
// the server use the same writer.
package export

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"path"
	"regexp"
	"slices"
	"strings"
	"time"

	docket "github.com/docket-dev/docket"
)

// Manifest is manifest.json, the table of contents of an export.
type Manifest struct {
	Format        string    `json:"format"`
	FormatVersion int       `json:"formatVersion"`
	ExportedAt    time.Time `json:"exportedAt"`
	DocketVersion string    `json:"docketVersion"`
	// Users are the users the records name, by email.
	Users     []*User  `json:"users"`
	Spaces    []*Space `json:"spaces"`
	Documents []*Entry `json:"documents"`
}

// User is a user as an export names them.
type User struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Email string `json:"email"`
}

// Space is a space of an export and the file of its record.
type Space struct {
	ID     string `json:"id"`
	Slug   string `json:"slug"`
	Name   string `json:"name"`
	Record string `json:"record"`
}

// Entry describes one exported document.
type Entry struct {
	Path      string        `json:"path"`   // the markdown file
	Record    string        `json:"record"` // the record beside it
	ID        string        `json:"id"`
	Space     string        `json:"space"`
	Title     string        `json:"title"`
	Kind      docket.Kind   `json:"kind"`
	Status    docket.Status `json:"status"`
	Owner     string        `json:"owner"` // email
	Tags      []string      `json:"tags"`
	Version   int64         `json:"version"`
	CreatedAt time.Time     `json:"createdAt"`
	UpdatedAt time.Time     `json:"updatedAt"`
}

// Sink receives the files of an export, by slash-separated path.
type Sink interface {
	Put(name string, data []byte) error
}

// Write exports the spaces (ids or slugs) from src into dst, manifest.json
// last, and returns the manifest. version is the Docket version written
// into it, now the export time.
func Write(ctx context.Context, src docket.Exporter, spaces []string, dst Sink, version string, now time.Time) (*Manifest, error) {
	m := &Manifest{
		Format: docket.ExportFormat, FormatVersion: docket.ExportVersion, ExportedAt: now.UTC(),
		DocketVersion: version, Users: []*User{}, Spaces: []*Space{}, Documents: []*Entry{},
	}
	refs := map[string]bool{}
	collect := func(v any) error {
		ids, err := docket.ReferencedIDs(v)
		for _, id := range ids {
			refs[id] = true
		}
		return err
	}
	emails := map[string]string{}
	email := func(id string) (string, error) {
		if e, ok := emails[id]; ok {
			return e, nil
		}
		us, err := src.ExportUsers(ctx, []string{id})
		if err != nil || len(us) == 0 {
			return "", err
		}
		emails[id] = us[0].Email
		return us[0].Email, nil
	}
	for _, ref := range spaces {
		sp, ids, err := src.ExportSpace(ctx, ref)
		if err != nil {
			return nil, err
		}
		if err := collect(sp); err != nil {
			return nil, err
		}
		s := &Space{ID: sp.Space.ID, Slug: sp.Space.Slug, Name: sp.Space.Name, Record: sp.Space.Slug + "/space.json"}
		if err := putJSON(dst, s.Record, sp); err != nil {
			return nil, err
		}
		m.Spaces = append(m.Spaces, s)
		for _, id := range ids {
			rec, err := src.ExportDocument(ctx, id)
			if err != nil {
				return nil, err
			}
			owner, err := email(rec.Document.OwnerID)
			if err != nil {
				return nil, err
			}
			e, err := writeDocument(dst, sp.Space.Slug, owner, rec)
			if err != nil {
				return nil, err
			}
			if err := collect(rec); err != nil {
				return nil, err
			}
			m.Documents = append(m.Documents, e)
		}
	}
	users, err := src.ExportUsers(ctx, slices.Sorted(maps.Keys(refs)))
	if err != nil {
		return nil, err
	}
	for _, u := range users {
		m.Users = append(m.Users, &User{ID: u.ID, Name: u.Name, Email: u.Email})
	}
	slices.SortFunc(m.Users, func(a, b *User) int { return strings.Compare(a.Email, b.Email) })
	return m, putJSON(dst, "manifest.json", m)
}

var unsafeName = regexp.MustCompile(`[^a-z0-9]+`)

// FileName turns a title into a safe file name stem.
func FileName(title string) string {
	s := strings.Trim(unsafeName.ReplaceAllString(strings.ToLower(title), "-"), "-")
	if len(s) > 60 {
		s = strings.TrimRight(s[:60], "-")
	}
	if s == "" {
		s = "untitled"
	}
	return s
}

// writeDocument writes a document as markdown with front matter and its
// record (without the body) beside it, and returns its entry.
func writeDocument(dst Sink, slug, owner string, rec *docket.DocumentRecord) (*Entry, error) {
	d := rec.Document
	stem := path.Join(slug, FileName(d.Title)+"-"+d.ID)
	e := &Entry{
		Path: stem + ".md", Record: stem + ".json", ID: d.ID, Space: slug, Title: d.Title, Kind: d.Kind,
		Status: d.Status, Owner: owner, Tags: d.Tags, Version: d.Version, CreatedAt: d.CreatedAt, UpdatedAt: d.UpdatedAt,
	}
	if e.Tags == nil {
		e.Tags = []string{}
	}
	if err := dst.Put(e.Path, []byte(frontMatter(e, decisionSummary(rec))+d.Body)); err != nil {
		return nil, err
	}
	d.Body = ""
	return e, putJSON(dst, e.Record, rec)
}

func decisionSummary(rec *docket.DocumentRecord) string {
	if rec.Lifecycle != nil && rec.Lifecycle.Decision != nil {
		return rec.Lifecycle.Decision.Summary
	}
	return ""
}

func putJSON(dst Sink, name string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode %s: %w", name, err)
	}
	return dst.Put(name, append(data, '\n'))
}

// frontMatter returns the YAML front matter of an exported document. Its
// strings are JSON strings, which YAML reads as double-quoted scalars.
func frontMatter(e *Entry, decision string) string {
	q := func(s string) string {
		data, _ := json.Marshal(s)
		return string(data)
	}
	tags := make([]string, len(e.Tags))
	for i, t := range e.Tags {
		tags[i] = q(t)
	}
	var b strings.Builder
	b.WriteString("---\n")
	fmt.Fprintf(&b, "title: %s\nkind: %s\nstatus: %s\ntags: [%s]\n", q(e.Title), q(string(e.Kind)), q(string(e.Status)), strings.Join(tags, ", "))
	fmt.Fprintf(&b, "owner: %s\ncreated: %s\nupdated: %s\n", q(e.Owner), e.CreatedAt.UTC().Format(time.RFC3339Nano), e.UpdatedAt.UTC().Format(time.RFC3339Nano))
	if decision != "" {
		fmt.Fprintf(&b, "decision: %s\n", q(decision))
	}
	b.WriteString("---\n")
	return b.String()
}
