package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/docket-dev/docket/bolt"
)

// runBackup writes a consistent copy of the data file to FILE. While a
// server is running it asks the server over its admin socket; otherwise it
// reads the file itself. The copy is checked before it is kept.
func runBackup(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("backup", stderr)
	data := dataFlag(fs)
	arg, err := oneArg(fs, args, "docket backup FILE [--data DIR]")
	if err != nil {
		return err
	}
	dest := arg
	tmp := dest + ".partial"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	defer os.Remove(tmp)
	n, how, err := backupTo(ctx, *data, f)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	check := bolt.NewDB(tmp)
	check.ReadOnly = true
	if err := check.Open(); err != nil {
		return fmt.Errorf("backup is not readable: %w", err)
	}
	err = check.Check()
	check.Close()
	if err != nil {
		return fmt.Errorf("backup failed its consistency check: %w", err)
	}
	if err := os.Rename(tmp, dest); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	if d, err := os.Open(filepath.Dir(dest)); err == nil {
		d.Sync()
		d.Close()
	}
	fmt.Fprintf(stdout, "Backed up %d bytes to %s (%s).\n", n, dest, how)
	return nil
}

// backupTo copies the data file to w, through the running server if there
// is one.
func backupTo(ctx context.Context, dataDir string, w io.Writer) (int64, string, error) {
	sock := socketPath(dataDir)
	if _, err := os.Stat(sock); err == nil {
		client := adminClient(sock)
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://docket/backup", nil)
		resp, err := client.Do(req)
		if err == nil {
			defer resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				msg, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<10))
				return 0, "", fmt.Errorf("server answered %s: %s", resp.Status, strings.TrimSpace(string(msg)))
			}
			n, err := io.Copy(w, resp.Body)
			return n, "from the running server", err
		}
		// A stale socket from a server that is gone: read the file.
	}
	path := dbPath(dataDir)
	if _, err := os.Stat(path); err != nil {
		return 0, "", fmt.Errorf("no data file at %s", path)
	}
	db := bolt.NewDB(path)
	db.ReadOnly = true
	db.LockTimeout = 2 * time.Second
	if err := db.Open(); err != nil {
		return 0, "", err
	}
	defer db.Close()
	n, err := db.Backup(ctx, w)
	if errors.Is(err, context.Canceled) {
		return n, "", err
	}
	return n, "from the data file", err
}

// adminClient returns an HTTP client whose every request goes to the
// admin socket sock.
func adminClient(sock string) *http.Client {
	return &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", sock)
		},
	}}
}

// runningServer returns a client of the admin socket of the server that
// runs on dataDir, or nil when none answers there (no socket, or a stale
// one of a server that is gone).
func runningServer(ctx context.Context, dataDir string) *http.Client {
	sock := socketPath(dataDir)
	if _, err := os.Stat(sock); err != nil {
		return nil
	}
	var d net.Dialer
	dctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	conn, err := d.DialContext(dctx, "unix", sock)
	if err != nil {
		return nil
	}
	conn.Close()
	return adminClient(sock)
}
