package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"time"

	docket "github.com/docket-dev/docket"
	"github.com/docket-dev/docket/bolt"
	"github.com/docket-dev/docket/export"
)

func runExport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("export", stderr)
	data := dataFlag(fs)
	file := fs.String("db", "", "export from this data file (such as a backup) instead of --data")
	arg, err := oneArg(fs, args, "docket export DIR [--data DIR | --db FILE]")
	if err != nil {
		return err
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
	n, err := exportAll(ctx, db, arg)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Exported %d documents to %s.\n", n, arg)
	return nil
}

// exportAll writes every space as an export (docs/EXPORT.md) into dir.
func exportAll(ctx context.Context, db *bolt.DB, dir string) (int, error) {
	sys := docket.NewSystemContext(ctx)
	spaces, err := bolt.NewSpaceService(db).FindSpaces(sys)
	if err != nil {
		return 0, err
	}
	slugs := make([]string, len(spaces))
	for i, sp := range spaces {
		slugs[i] = sp.Slug
	}
	slices.Sort(slugs)
	m, err := export.Write(sys, db, slugs, export.DirSink(dir), Version(), time.Now())
	if err != nil {
		return 0, err
	}
	return len(m.Documents), nil
}
