package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"time"

	"github.com/docket-dev/docket/bolt"
	"github.com/docket-dev/docket/kv"
	"github.com/docket-dev/docket/postgres"
	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// openStore opens the empty store that docket migrate copies a data file
// into, named by its URL (postgres://...): cluster mode's PostgreSQL
// engine. It is a variable so that tests can open a bbolt file instead.
var openStore = func(ctx context.Context, rawURL string) (kv.Store, error) {
	if err := checkStoreURL(rawURL); err != nil {
		return nil, err
	}
	return postgres.Open(ctx, rawURL)
}

const migrateUsage = "docket migrate --from DATA_DIR --to postgres://USER@HOST/DB"

// runMigrate copies a data file into an empty store of cluster mode and
// verifies the copy: docket migrate --from DATA_DIR --to URL.
func runMigrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("migrate", stderr)
	from := fs.String("from", os.Getenv("DOCKET_DATA"), "data directory to copy, of a stopped server (env DOCKET_DATA)")
	to := fs.String("to", os.Getenv("DOCKET_STORE"), "URL of the empty database to copy into (env DOCKET_STORE)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: %s\n\n"+
			"Copies every record of a data directory into an empty PostgreSQL database, the\n"+
			"store of cluster mode (docket serve --store URL), then verifies the copy:\n"+
			"document count, every document's version and text, and every frozen minutes'\n"+
			"markdown byte for byte. Stop the server first; the data directory is only read.\n"+
			"A database that already holds Docket data is refused. Exits non-zero if the\n"+
			"copy differs from the source.\n\n", migrateUsage)
		fs.PrintDefaults()
	}
	if pos, err := parseArgs(fs, args); err != nil {
		return err
	} else if len(pos) > 0 {
		return fmt.Errorf("usage: %s (unexpected %q)", migrateUsage, pos[0])
	}
	if *from == "" || *to == "" {
		return fmt.Errorf("usage: %s (--from and --to are required)", migrateUsage)
	}
	if u, err := url.Parse(*to); err != nil || u.Scheme == "" {
		return fmt.Errorf("--to %q is not a database URL such as postgres://USER@HOST/DB", redactURL(*to))
	}
	path := dbPath(*from)
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("no data file to migrate: %w", err)
	}
	src := bolt.NewDB(path)
	src.ReadOnly = true
	if err := src.Open(); err != nil {
		return err
	}
	defer src.Close()
	dst, err := openStore(ctx, *to)
	if err != nil {
		return fmt.Errorf("open %s: %w", redactURL(*to), err)
	}
	defer dst.Close()

	start := time.Now()
	copied := 0
	progress := migrateProgress(stderr)
	err = bolt.Copy(ctx, dst, src.Store(), func(done, total int) {
		copied = done
		progress(done, total)
	})
	if errors.Is(err, bolt.ErrNotEmpty) {
		return fmt.Errorf("%s: %w", redactURL(*to), err)
	} else if err != nil {
		return fmt.Errorf("migrate: %w (the destination is partly written: empty it before trying again)", err)
	}
	fmt.Fprintf(stdout, "copied %d keys from %s to %s in %s\n", copied, path, redactURL(*to), time.Since(start).Round(time.Millisecond))
	report, err := bolt.Verify(ctx, dst, src.Store())
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "verified: %s\n", report)
	if !report.OK() {
		return fmt.Errorf("the copy differs from the source (%d differences above); do not use it", len(report.Differences))
	}
	return nil
}

// migrateProgress returns the progress function of a copy: a bar on a
// terminal, else a line per transaction.
func migrateProgress(stderr io.Writer) func(done, total int) {
	if f, ok := stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		var bar *progressbar.ProgressBar
		return func(done, total int) {
			if bar == nil {
				bar = progressbar.NewOptions(total, progressbar.OptionSetWriter(stderr),
					progressbar.OptionSetDescription("copying"), progressbar.OptionShowCount(),
					progressbar.OptionClearOnFinish())
			}
			bar.Set(done)
		}
	}
	return func(done, total int) { fmt.Fprintf(stderr, "[%d/%d] keys copied\n", done, total) }
}
