package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	docket "github.com/docket-dev/docket"
	"github.com/docket-dev/docket/bolt"
	"github.com/docket-dev/docket/markdown"
	"github.com/docket-dev/docket/search"
	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// The bolt scanner feeds rebuilds and shows hits.
var (
	_ search.Scanner    = (*bolt.Scanner)(nil)
	_ search.TextLoader = (*bolt.Scanner)(nil)
)

// indexDir is where the search index of a data directory lives.
func indexDir(dataDir string) string { return filepath.Join(dataDir, "index") }

// newIndexer returns an indexer over db's storage for idx.
func newIndexer(db *bolt.DB, idx *search.Index, log *slog.Logger) *search.Indexer {
	return &search.Indexer{
		Index:   idx,
		Docs:    bolt.NewDocumentService(db),
		Threads: threadService(db),
		Scanner: bolt.NewScanner(db),
		Logger:  log,
	}
}

// threadService returns the thread service the indexer reads comments
// through.
func threadService(db *bolt.DB) docket.ThreadService {
	return bolt.NewThreadService(db, markdown.New(markdown.Options{}), markdown.Mentions)
}

// runReindex rebuilds the search index from the data file, into a new
// directory that replaces the old one only when it is complete.
func runReindex(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("reindex", stderr)
	data := dataFlag(fs)
	if _, err := parseArgs(fs, args); err != nil {
		return err
	}
	db, err := openData(*data)
	if err != nil {
		return err
	}
	defer db.Close()
	dir := indexDir(*data)
	tmp := dir + ".new"
	if err := os.RemoveAll(tmp); err != nil {
		return err
	}
	idx, err := search.Open(tmp, search.Options{})
	if err != nil {
		return err
	}
	start := time.Now()
	done := 0
	progress := func(n int) { done = n }
	if f, ok := stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		bar := progressbar.NewOptions(-1, progressbar.OptionSetWriter(stderr),
			progressbar.OptionSetDescription("indexing"), progressbar.OptionShowCount(),
			progressbar.OptionClearOnFinish())
		progress = func(n int) { bar.Set(n); done = n }
	} else {
		last := time.Now()
		progress = func(n int) {
			done = n
			if time.Since(last) > 2*time.Second {
				fmt.Fprintf(stderr, "indexed %d items\n", n)
				last = time.Now()
			}
		}
	}
	ix := newIndexer(db, idx, nil)
	if err := ix.Rebuild(ctx, progress); err != nil {
		idx.Close()
		os.RemoveAll(tmp)
		return fmt.Errorf("reindex: %w", err)
	}
	if err := idx.Close(); err != nil {
		return fmt.Errorf("reindex: %w", err)
	}
	old := fmt.Sprintf("%s.old-%d", dir, time.Now().UnixNano())
	if err := os.Rename(dir, old); err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("reindex: %w", err)
	}
	if err := os.Rename(tmp, dir); err != nil {
		return fmt.Errorf("reindex: %w", err)
	}
	os.RemoveAll(old)
	fmt.Fprintf(stdout, "Indexed %d documents, comments, decisions and minutes in %s.\n", done, time.Since(start).Round(time.Millisecond))
	return nil
}

// syncIndex brings the index of a data directory up to date with its data
// file, for subcommands that change documents while the server is down.
func syncIndex(ctx context.Context, db *bolt.DB, dataDir string) error {
	idx, err := search.Open(indexDir(dataDir), search.Options{})
	if err != nil {
		return err
	}
	ix := newIndexer(db, idx, nil)
	if idx.NeedsRebuild() {
		err = ix.Rebuild(ctx, nil)
	} else if err = ix.CatchUp(ctx); err == nil {
		ix.Flush(ctx)
	}
	if cerr := idx.Close(); err == nil {
		err = cerr
	}
	return err
}
