package export

import (
	"archive/tar"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// DirSink writes an export's files under a directory.
type DirSink string

// Put implements [Sink].
func (dir DirSink) Put(name string, data []byte) error {
	p := filepath.Join(string(dir), filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	return os.WriteFile(p, data, 0o644)
}

// TarSink writes an export as a gzip-compressed tar stream. Call Close to
// finish it.
type TarSink struct {
	gz      *gzip.Writer
	tw      *tar.Writer
	modTime time.Time
}

// NewTarSink returns a sink writing to w whose entries carry modTime.
func NewTarSink(w io.Writer, modTime time.Time) *TarSink {
	gz := gzip.NewWriter(w)
	return &TarSink{gz: gz, tw: tar.NewWriter(gz), modTime: modTime}
}

// Put implements [Sink].
func (t *TarSink) Put(name string, data []byte) error {
	hdr := &tar.Header{Name: name, Mode: 0o644, Size: int64(len(data)), ModTime: t.modTime, Typeflag: tar.TypeReg}
	if err := t.tw.WriteHeader(hdr); err != nil {
		return err
	}
	_, err := t.tw.Write(data)
	return err
}

// Close ends the tar stream and the gzip stream.
func (t *TarSink) Close() error {
	if err := t.tw.Close(); err != nil {
		return err
	}
	return t.gz.Close()
}

// ExtractTarGz writes the regular files of a gzip-compressed tar, such as
// a downloaded export, under dir. A name that is not a plain relative
// path (fs.ValidPath) is refused.
func ExtractTarGz(r io.Reader, dir string) error {
	gz, err := gzip.NewReader(r)
	if err != nil {
		return fmt.Errorf("not a .tar.gz: %w", err)
	}
	tr := tar.NewReader(gz)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		} else if err != nil {
			return fmt.Errorf("read the tar: %w", err)
		}
		if hdr.Typeflag != tar.TypeReg {
			continue
		}
		if !fs.ValidPath(hdr.Name) {
			return fmt.Errorf("the tar holds a file named %q, outside the export", hdr.Name)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			return fmt.Errorf("read %s: %w", hdr.Name, err)
		}
		if err := DirSink(dir).Put(hdr.Name, data); err != nil {
			return err
		}
	}
}
