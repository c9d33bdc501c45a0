package export

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"

	docket "github.com/docket-dev/docket"
)

// Result counts what a restore did.
type Result struct {
	Spaces, Documents int
	// Deactivated counts the accounts made for unknown users.
	Deactivated int
}

// IsExport reports whether fsys holds a Docket export: a manifest.json of
// the export format.
func IsExport(fsys fs.FS) bool {
	m, err := readManifest(fsys)
	return err == nil && m.Format == docket.ExportFormat
}

func readManifest(fsys fs.FS) (*Manifest, error) {
	var m Manifest
	if err := readJSON(fsys, "manifest.json", &m); err != nil {
		return nil, err
	}
	return &m, nil
}

func readJSON(fsys fs.FS, name string, v any) error {
	data, err := fs.ReadFile(fsys, name)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

// Read restores the export in fsys through dst: users matched by email
// (an unknown one becomes a deactivated account that keeps the name),
// then each space and each document with new ids and their original
// times and versions. progress, if not nil, is called with the number of
// documents, and what it returns before each document with its path.
func Read(ctx context.Context, dst docket.Restorer, fsys fs.FS, progress func(total int) func(path string)) (*Result, error) {
	m, err := readManifest(fsys)
	if err != nil {
		return nil, err
	}
	if m.Format != docket.ExportFormat {
		return nil, errors.New("manifest.json is not that of a Docket export")
	}
	if m.FormatVersion > docket.ExportVersion || m.FormatVersion < 1 {
		return nil, fmt.Errorf("the export has format version %d; this Docket reads versions 1 to %d", m.FormatVersion, docket.ExportVersion)
	}
	res := &Result{}
	ids := map[string]string{}
	for _, u := range m.Users {
		got, err := dst.RestoreUser(ctx, &docket.User{ID: u.ID, Name: u.Name, Email: u.Email})
		if err != nil {
			return res, fmt.Errorf("user %s: %s", u.Email, docket.ErrorMessage(err))
		}
		if got.Deactivated {
			res.Deactivated++
		}
		ids[u.ID] = got.ID
	}
	// Documents get their new ids up front, so that one can name another
	// (a decision's supersededBy) whatever their order.
	for _, e := range m.Documents {
		ids[e.ID] = docket.NewID()
	}
	for _, s := range m.Spaces {
		var rec docket.SpaceRecord
		if err := readJSON(fsys, s.Record, &rec); err != nil {
			return res, err
		}
		sp, err := dst.RestoreSpace(ctx, &rec, ids)
		if err != nil {
			return res, fmt.Errorf("space %s: %s", s.Slug, docket.ErrorMessage(err))
		}
		ids[rec.Space.ID] = sp.ID
		res.Spaces++
	}
	step := func(string) {}
	if progress != nil {
		step = progress(len(m.Documents))
	}
	for _, e := range m.Documents {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		step(e.Path)
		var rec docket.DocumentRecord
		if err := readJSON(fsys, e.Record, &rec); err != nil {
			return res, err
		}
		if _, err := dst.RestoreDocument(ctx, &rec, ids); err != nil {
			return res, fmt.Errorf("%s: %s", e.Path, docket.ErrorMessage(err))
		}
		res.Documents++
	}
	return res, nil
}
