package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	docket "github.com/docket-dev/docket"
	"github.com/docket-dev/docket/bolt"
)

// manifestEntry describes one exported document in manifest.json.
type manifestEntry struct {
	Path      string        `json:"path"`
	ID        string        `json:"id"`
	Space     string        `json:"space"`
	Title     string        `json:"title"`
	Kind      docket.Kind   `json:"kind"`
	Status    docket.Status `json:"status"`
	Owner     string        `json:"owner"`
	Tags      []string      `json:"tags"`
	Version   int64         `json:"version"`
	CreatedAt time.Time     `json:"createdAt"`
	UpdatedAt time.Time     `json:"updatedAt"`
}

type manifest struct {
	ExportedAt time.Time       `json:"exportedAt"`
	Version    string          `json:"docketVersion"`
	Documents  []manifestEntry `json:"documents"`
}

func runExport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("export", stderr)
	data := dataFlag(fs)
	file := fs.String("db", "", "export from this data file (such as a backup) instead of --data")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return fmt.Errorf("usage: docket export DIR [--data DIR | --db FILE]")
	}
	path := *file
	if path == "" {
		path = dbPath(*data)
	}
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("no data file at %s", path)
	}
	db := bolt.NewDB(path)
	db.ReadOnly = true
	if err := db.Open(); err != nil {
		return fmt.Errorf("%w\n(while the server runs, export from a backup: docket backup b.db && docket export DIR --db b.db)", err)
	}
	defer db.Close()
	n, err := exportAll(ctx, db, pos[0])
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Exported %d documents to %s.\n", n, pos[0])
	return nil
}

var unsafeName = regexp.MustCompile(`[^a-z0-9]+`)

// fileName turns a title into a safe file name stem.
func fileName(title string) string {
	s := strings.Trim(unsafeName.ReplaceAllString(strings.ToLower(title), "-"), "-")
	if len(s) > 60 {
		s = strings.TrimRight(s[:60], "-")
	}
	if s == "" {
		s = "untitled"
	}
	return s
}

// exportAll writes every document as DIR/<space>/<title>-<id>.md and a
// manifest.json describing them.
func exportAll(ctx context.Context, db *bolt.DB, dir string) (int, error) {
	sys := docket.NewSystemContext(ctx)
	spaces, err := bolt.NewSpaceService(db).FindSpaces(sys)
	if err != nil {
		return 0, err
	}
	docs := bolt.NewDocumentService(db)
	m := manifest{ExportedAt: time.Now().UTC(), Version: Version(), Documents: []manifestEntry{}}
	for _, sp := range spaces {
		list, _, err := docs.FindDocuments(sys, docket.DocumentFilter{Space: sp.ID})
		if err != nil {
			return 0, err
		}
		if err := os.MkdirAll(filepath.Join(dir, sp.Slug), 0o755); err != nil {
			return 0, err
		}
		for _, meta := range list {
			d, err := docs.FindDocumentByID(sys, meta.ID)
			if err != nil {
				return 0, err
			}
			rel := sp.Slug + "/" + fileName(d.Title) + "-" + d.ID + ".md"
			if err := os.WriteFile(filepath.Join(dir, filepath.FromSlash(rel)), []byte(d.Body), 0o644); err != nil {
				return 0, err
			}
			m.Documents = append(m.Documents, manifestEntry{
				Path: rel, ID: d.ID, Space: sp.Slug, Title: d.Title, Kind: d.Kind, Status: d.Status,
				Owner: d.OwnerID, Tags: d.Tags, Version: d.Version, CreatedAt: d.CreatedAt, UpdatedAt: d.UpdatedAt,
			})
		}
	}
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return 0, err
	}
	return len(m.Documents), os.WriteFile(filepath.Join(dir, "manifest.json"), append(data, '\n'), 0o644)
}
