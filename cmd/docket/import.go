package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	docket "github.com/docket-dev/docket"
	"github.com/docket-dev/docket/bolt"
	"github.com/docket-dev/docket/export"
	"github.com/docket-dev/docket/markdown"
	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// importResult counts what an import did.
type importResult struct {
	Created, Updated, Unchanged, Skipped int
}

func runImport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fset := newFlagSet("import", stderr)
	data := dataFlag(fset)
	space := fset.String("space", "", "slug of the space to import into (created if missing)")
	as := fset.String("as", "", "email of the importing user (default: the first site admin)")
	kind := fset.String("kind", string(docket.KindRFC), "kind of the imported documents")
	arg, err := oneArg(fset, args, "docket import DIR --space SLUG [--as EMAIL], or docket import DIR|FILE.tar.gz for a Docket export")
	if err != nil {
		return err
	}
	dir := arg
	if strings.HasSuffix(dir, ".tar.gz") || strings.HasSuffix(dir, ".tgz") {
		if dir, err = extractExport(dir); err != nil {
			return err
		}
		defer os.RemoveAll(dir)
	}
	restore := export.IsExport(os.DirFS(dir))
	if restore && (*space != "" || *as != "") {
		return fmt.Errorf("%s is a Docket export, which brings its own spaces and authors: leave out --space and --as", arg)
	} else if !restore && *space == "" {
		return fmt.Errorf("usage: docket import DIR --space SLUG [--as EMAIL] (a folder of markdown files needs --space)")
	}
	db, err := openData(*data)
	if err != nil {
		return err
	}
	defer db.Close()
	progress := func(total int) func(string) {
		if f, ok := stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
			bar := progressbar.NewOptions(total, progressbar.OptionSetWriter(stderr),
				progressbar.OptionSetDescription("importing"), progressbar.OptionShowCount(),
				progressbar.OptionClearOnFinish())
			return func(string) { bar.Add(1) }
		}
		n := 0
		return func(name string) {
			n++
			fmt.Fprintf(stderr, "[%d/%d] %s\n", n, total, name)
		}
	}
	if restore {
		return restoreExport(ctx, db, *data, dir, progress, stdout)
	}
	res, err := importDir(ctx, db, dir, *space, *as, docket.Kind(*kind), progress, stderr)
	if err != nil {
		return err
	}
	if err := syncIndex(ctx, db, *data); err != nil {
		return fmt.Errorf("imported, but the search index could not be updated (run docket reindex): %w", err)
	}
	fmt.Fprintf(stdout, "Imported into %s: %d created, %d updated, %d unchanged, %d skipped.\n",
		*space, res.Created, res.Updated, res.Unchanged, res.Skipped)
	return nil
}

// extractExport extracts a downloaded export into a new temporary
// directory, which the caller removes.
func extractExport(file string) (string, error) {
	f, err := os.Open(file)
	if err != nil {
		return "", err
	}
	defer f.Close()
	dir, err := os.MkdirTemp("", "docket-import-")
	if err != nil {
		return "", err
	}
	if err := export.ExtractTarGz(f, dir); err != nil {
		os.RemoveAll(dir)
		return "", fmt.Errorf("%s: %w", file, err)
	}
	return dir, nil
}

// restoreExport restores the Docket export in dir and indexes it.
func restoreExport(ctx context.Context, db *bolt.DB, dataDir, dir string, progress func(int) func(string), stdout io.Writer) error {
	res, err := export.Read(docket.NewSystemContext(ctx), db, os.DirFS(dir), progress)
	if err != nil {
		return err
	}
	if err := syncIndex(ctx, db, dataDir); err != nil {
		return fmt.Errorf("restored, but the search index could not be updated (run docket reindex): %w", err)
	}
	fmt.Fprintf(stdout, "Restored %d documents in %d spaces; %d unknown users became deactivated accounts.\n",
		res.Documents, res.Spaces, res.Deactivated)
	return nil
}

// importDir imports every markdown file under dir into a space. A file's
// path relative to dir is its source key, so importing again updates the
// documents that changed and adds nothing twice.
func importDir(ctx context.Context, db *bolt.DB, dir, slug, as string, kind docket.Kind, progress func(total int) func(string), warn io.Writer) (importResult, error) {
	var res importResult
	users := bolt.NewUserService(db)
	sys := docket.NewSystemContext(ctx)
	var user *docket.User
	var err error
	if as != "" {
		if user, err = users.FindUserByEmail(sys, as); err != nil {
			return res, fmt.Errorf("--as %s: %s", as, docket.ErrorMessage(err))
		}
	} else {
		all, _, err := users.FindUsers(sys, docket.UserFilter{})
		if err != nil {
			return res, err
		}
		for _, u := range all {
			if u.IsAdmin() {
				user = u
				break
			}
		}
		if user == nil {
			return res, fmt.Errorf("no user to import as: create one with 'docket user add --admin'")
		}
	}
	ctx = docket.NewContextWithUser(ctx, user)
	spaces := bolt.NewSpaceService(db)
	if _, err := spaces.FindSpace(ctx, slug); docket.ErrorCode(err) == docket.ENOTFOUND {
		if _, err := spaces.CreateSpace(ctx, slug, slug); err != nil {
			return res, fmt.Errorf("create space %s: %s", slug, docket.ErrorMessage(err))
		}
	} else if err != nil {
		return res, err
	}

	var files []string
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && path != dir && strings.HasPrefix(d.Name(), ".") {
			return filepath.SkipDir
		}
		ext := strings.ToLower(filepath.Ext(path))
		switch {
		case d.Type()&fs.ModeSymlink != 0:
			// A link may lead out of the folder given; say so rather than
			// leave out silently what the reader may expect imported.
			rel, _ := filepath.Rel(dir, path)
			res.Skipped++
			fmt.Fprintf(warn, "skipped %s: a symbolic link (import reads the files inside the folder; copy the file in instead)\n", filepath.ToSlash(rel))
		case d.Type().IsRegular() && (ext == ".md" || ext == ".markdown"):
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		return res, fmt.Errorf("read %s: %w", dir, err)
	}
	slices.Sort(files)
	step := progress(len(files))
	docs := bolt.NewDocumentService(db)
	for _, path := range files {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		rel, _ := filepath.Rel(dir, path)
		rel = filepath.ToSlash(rel)
		step(rel)
		created, changed, err := importFile(ctx, docs, slug, path, rel, kind)
		switch {
		case err != nil:
			res.Skipped++
			fmt.Fprintf(warn, "skipped %s: %s\n", rel, docket.ErrorMessage(err))
		case created:
			res.Created++
		case changed:
			res.Updated++
		default:
			res.Unchanged++
		}
	}
	return res, nil
}

// importFile creates or updates the document imported from one file.
func importFile(ctx context.Context, docs *bolt.DocumentService, space, path, rel string, kind docket.Kind) (created, changed bool, err error) {
	raw, err := readLimited(path, docket.MaxDocumentBytes)
	if err != nil {
		return false, false, err
	}
	body := normalizeText(raw)
	if err := docket.CheckBody(body); err != nil {
		return false, false, err
	}
	fm, _, err := markdown.SplitFrontMatter(body)
	if err != nil {
		return false, false, err
	}
	title := markdown.ImportTitle(body, rel)
	tags, err := docket.CleanTags(fm.Tags)
	if err != nil {
		return false, false, err
	}
	source := "import:" + rel
	old, err := docs.FindDocumentBySource(ctx, space, source)
	if docket.ErrorCode(err) == docket.ENOTFOUND {
		_, err := docs.CreateDocument(ctx, docket.DocumentCreate{Space: space, Title: title, Body: body, Kind: kind, Tags: tags, Source: source})
		return err == nil, false, err
	} else if err != nil {
		return false, false, err
	}
	if old.Body != body {
		if _, err := docs.EditDocument(ctx, old.ID, docket.Edit{Version: old.Version, Body: &body}); err != nil {
			return false, false, err
		}
		changed = true
	}
	if old.Title != title || !slices.Equal(old.Tags, tags) {
		if _, err := docs.UpdateDocument(ctx, old.ID, docket.DocumentUpdate{Title: &title, Tags: &tags}); err != nil {
			return false, false, err
		}
		changed = true
	}
	return false, changed, nil
}

// readLimited reads a file of at most max bytes, and reads no more than
// that of a larger one: a file too large for a document is refused
// without taking its size in memory.
func readLimited(path string, max int) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, docket.Errorf(docket.EINVALID, "%v", err)
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.Size() > int64(max) {
		return nil, docket.Errorf(docket.ETOOLARGE, "The file is %d bytes; a document is at most %d bytes.", fi.Size(), max)
	}
	raw, err := io.ReadAll(io.LimitReader(f, int64(max)+1))
	if err != nil {
		return nil, docket.Errorf(docket.EINVALID, "%v", err)
	}
	if len(raw) > max {
		return nil, docket.Errorf(docket.ETOOLARGE, "The file is larger than %d bytes, the most a document may be.", max)
	}
	return raw, nil
}

// normalizeText drops a UTF-8 byte order mark and turns CRLF and lone CR
// line endings into LF.
func normalizeText(raw []byte) string {
	raw = bytes.TrimPrefix(raw, []byte("\xef\xbb\xbf"))
	raw = bytes.ReplaceAll(raw, []byte("\r\n"), []byte("\n"))
	raw = bytes.ReplaceAll(raw, []byte("\r"), []byte("\n"))
	return string(raw)
}
