// Command docket runs the Docket server and its maintenance tasks.
//
//	docket serve                  run the server
//	docket user add|list|disable|reset-password
//	docket import DIR --space SLUG   (a folder of markdown files)
//	docket import DIR|FILE.tar.gz    (a Docket export)
//	docket export DIR
//	docket backup FILE
//	docket migrate --from DATA_DIR --to URL   (into cluster mode's database)
//	docket version
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"syscall"
	"time"
	_ "time/tzdata" // time zones in images without /usr/share/zoneinfo
)

// version is set at build time with -ldflags "-X main.version=...".
var version = ""

const usage = `Docket: documents instead of meetings.

Usage:
  docket serve   [--addr A] [--data DIR] [--base-url URL] [--signup first|open]
                 [--log-format text|json] [--trusted-proxies CIDRS]
                 [--oidc-issuer URL --oidc-client-id ID [--oidc-name N]
                  [--oidc-allowed-domains D,D] [--password-login=false]]
  docket user add --email E --name N [--admin] [--data DIR]   (password from stdin or prompt)
  docket user list [--data DIR]
  docket user reset-password --email E [--data DIR]   (ends their sessions and tokens)
  docket user disable --email E [--data DIR]   (ends their sessions and tokens)
  docket import DIR --space SLUG [--as EMAIL] [--data DIR]   (markdown files)
  docket import DIR|FILE.tar.gz [--data DIR]   (restore a Docket export; server stopped)
  docket export DIR [--data DIR | --db FILE]   (every record; docs/EXPORT.md)
  docket backup FILE [--data DIR]
  docket migrate --from DATA_DIR --to postgres://USER@HOST/DB
                 (copy a stopped server's data into an empty database for
                  cluster mode, then verify the copy; docs/OPERATIONS.md)
  docket reindex [--data DIR]   (rebuild the search index; server stopped)
  docket healthcheck            (GET /healthz on DOCKET_ADDR; for containers)
  docket version

Every flag can also be set in the environment: --base-url is DOCKET_BASE_URL.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(2)
	} else if err != nil {
		fmt.Fprintln(os.Stderr, "docket:", err)
		os.Exit(1)
	}
}

// run dispatches a command line to its subcommand.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return flag.ErrHelp
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "serve":
		return runServe(ctx, rest, stdout, stderr)
	case "user":
		return runUser(ctx, rest, stdin, stdout, stderr)
	case "import":
		return runImport(ctx, rest, stdout, stderr)
	case "export":
		return runExport(ctx, rest, stdout, stderr)
	case "backup":
		return runBackup(ctx, rest, stdout, stderr)
	case "migrate":
		return runMigrate(ctx, rest, stdout, stderr)
	case "reindex":
		return runReindex(ctx, rest, stdout, stderr)
	case "healthcheck":
		return runHealthcheck(ctx, stdout)
	case "version", "--version", "-v":
		fmt.Fprintln(stdout, "docket", Version())
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprintf(stderr, "docket: unknown command %q\n\n%s", cmd, usage)
	return flag.ErrHelp
}

// Version returns the build's version.
func Version() string {
	if version != "" {
		return version
	}
	if info, ok := debug.ReadBuildInfo(); ok {
		if info.Main.Version != "" && info.Main.Version != "(devel)" {
			return info.Main.Version
		}
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				return "devel-" + s.Value[:12]
			}
		}
	}
	return "devel"
}

// newFlagSet returns a flag set for a subcommand whose errors go to stderr.
func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("docket "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// envDefault returns the environment variable's value, or def.
func envDefault(name, def string) string {
	if v, ok := os.LookupEnv(name); ok && v != "" {
		return v
	}
	return def
}

// dataFlag registers --data with DOCKET_DATA as default.
func dataFlag(fs *flag.FlagSet) *string {
	return fs.String("data", envDefault("DOCKET_DATA", "./docket-data"), "data directory (env DOCKET_DATA)")
}

// dbPath returns the data file inside a data directory.
func dbPath(dataDir string) string { return filepath.Join(dataDir, "docket.db") }

// socketPath returns the admin socket inside a data directory.
func socketPath(dataDir string) string { return filepath.Join(dataDir, "docket.sock") }

// parseArgs parses flags that may come before or after positional
// arguments, and returns the positional ones.
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// oneArg parses args with fs and returns the one positional argument
// they must hold, or an error that shows usage.
func oneArg(fs *flag.FlagSet, args []string, usage string) (string, error) {
	pos, err := parseArgs(fs, args)
	if err != nil {
		return "", err
	}
	if len(pos) != 1 {
		return "", fmt.Errorf("usage: %s", usage)
	}
	return pos[0], nil
}

func newLogger(format string, w io.Writer) (*slog.Logger, error) {
	switch format {
	case "text", "":
		return slog.New(slog.NewTextHandler(w, nil)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, nil)), nil
	}
	return nil, fmt.Errorf("--log-format must be text or json, not %q", format)
}

// runHealthcheck asks the server on DOCKET_ADDR for /healthz, so that a
// container image without a shell or curl can check itself.
func runHealthcheck(ctx context.Context, stdout io.Writer) error {
	addr := envDefault("DOCKET_ADDR", "127.0.0.1:8080")
	if host, port, err := net.SplitHostPort(addr); err == nil && (host == "" || host == "0.0.0.0" || host == "::") {
		addr = net.JoinHostPort("127.0.0.1", port)
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/healthz", nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthz answered %s", resp.Status)
	}
	fmt.Fprintln(stdout, "ok")
	return nil
}
