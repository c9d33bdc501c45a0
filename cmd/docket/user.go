package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	docket "github.com/docket-dev/docket"
	"github.com/docket-dev/docket/bolt"
	"golang.org/x/term"
)

// openData opens the data file of a data directory for a subcommand.
func openData(dataDir string) (*bolt.DB, error) {
	db := bolt.NewDB(dbPath(dataDir))
	if err := db.Open(); err != nil {
		return nil, err
	}
	return db, nil
}

func runUser(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("usage: docket user add|list|disable|reset-password")
	}
	fs := newFlagSet("user "+args[0], stderr)
	data := dataFlag(fs)
	email := fs.String("email", "", "email address")
	name := fs.String("name", "", "display name (add)")
	admin := fs.Bool("admin", false, "make the user a site admin (add)")
	tz := fs.String("tz", "", "IANA time zone, e.g. Europe/Berlin (add)")
	store := fs.String("store", envDefault("DOCKET_STORE", ""), "cluster mode: the accounts are in this PostgreSQL database, postgres://USER@HOST/DB (env DOCKET_STORE)")
	if _, err := parseArgs(fs, args[1:]); err != nil {
		return err
	}
	switch args[0] {
	case "add":
		if *email == "" || *name == "" {
			return fmt.Errorf("usage: docket user add --email E --name N [--admin]")
		}
	case "reset-password", "disable":
		if *email == "" {
			return fmt.Errorf("usage: docket user %s --email E", args[0])
		}
	case "list":
	default:
		return fmt.Errorf("unknown user command %q: use add, list, disable or reset-password", args[0])
	}
	var password string
	var generated bool
	if args[0] == "add" || args[0] == "reset-password" {
		var err error
		if password, generated, err = passwordOrGenerated(stdin, stderr); err != nil {
			return err
		}
	}
	// Through the running server if there is one, else on the data file.
	var accts accounts
	if client := runningServer(ctx, *data); client != nil {
		accts = socketAccounts{client: client}
	} else if *store != "" {
		// A cluster's store. Nodes see the change within a second (their
		// caches expire); open live sockets recheck within a minute, or
		// at once when the command goes through a node's admin socket.
		db, err := openClusterStore(ctx, *store)
		if err != nil {
			return err
		}
		defer db.Close()
		accts = localAccounts{users: bolt.NewUserService(db)}
	} else {
		db, err := openData(*data)
		if err != nil {
			return err
		}
		defer db.Close()
		accts = localAccounts{users: bolt.NewUserService(db)}
	}
	if err := userCommand(ctx, accts, args[0], userArgs{email: *email, name: *name, admin: *admin, tz: *tz, password: password, generated: generated}, stdout); err != nil {
		if code := docket.ErrorCode(err); code != docket.EINTERNAL {
			return fmt.Errorf("%s", docket.ErrorMessage(err))
		}
		return err
	}
	return nil
}

// userArgs are the arguments of a 'docket user' command.
type userArgs struct {
	email, name, tz string
	admin           bool
	password        string
	generated       bool // the password was generated: show it
}

// userCommand runs one 'docket user' command and says what it did.
func userCommand(ctx context.Context, accts accounts, cmd string, a userArgs, stdout io.Writer) error {
	switch cmd {
	case "add":
		role := docket.SiteMember
		if a.admin {
			role = docket.SiteAdmin
		}
		u, err := accts.add(ctx, docket.UserCreate{Name: a.name, Email: a.email, Password: a.password, Role: role, TimeZone: a.tz})
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "Created %s <%s> (%s), id %s.\n", u.Name, u.Email, u.Role, u.ID)
		if a.generated {
			fmt.Fprintf(stdout, "Password: %s\n", a.password)
		}
	case "list":
		all, err := accts.list(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tNAME\tEMAIL\tROLE\tCREATED")
		for _, u := range all {
			role := string(u.Role)
			if u.Deactivated {
				role += " (deactivated)"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", u.ID, u.Name, u.Email, role, u.CreatedAt.Format("2006-01-02"))
		}
		return tw.Flush()
	case "disable":
		u, err := accts.disable(ctx, a.email)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "Disabled %s: they are signed out everywhere and their API tokens are revoked. 'docket user reset-password' enables the account again.\n", u.Email)
	case "reset-password":
		u, err := accts.resetPassword(ctx, a.email, a.password)
		if err != nil {
			return err
		}
		if a.generated {
			fmt.Fprintf(stdout, "New password for %s: %s\n", u.Email, a.password)
		}
		fmt.Fprintf(stdout, "Password of %s reset; they are signed out everywhere and their API tokens are revoked.\n", u.Email)
	}
	return nil
}

// readPassword reads a password: asked twice on a terminal, or the first
// line of standard input otherwise (DOCKET_PASSWORD also works). An empty
// answer returns "".
func readPassword(stdin io.Reader, stderr io.Writer) (string, error) {
	if p := os.Getenv("DOCKET_PASSWORD"); p != "" {
		return p, nil
	}
	if f, ok := stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(stderr, "Password (empty to generate one): ")
		p1, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(stderr)
		if err != nil || len(p1) == 0 {
			return "", err
		}
		fmt.Fprint(stderr, "Again: ")
		p2, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(stderr)
		if err != nil {
			return "", err
		}
		if string(p1) != string(p2) {
			return "", fmt.Errorf("the passwords differ")
		}
		return string(p1), nil
	}
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && err != io.EOF {
		return "", err
	}
	return strings.TrimRight(line, "\r\n"), nil
}

// passwordOrGenerated reads a password, or generates one when the answer
// is empty, and says which.
func passwordOrGenerated(stdin io.Reader, stderr io.Writer) (password string, generated bool, err error) {
	if password, err = readPassword(stdin, stderr); err != nil || password != "" {
		return password, false, err
	}
	return generatePassword(), true, nil
}

// generatePassword returns a random 20-character password.
func generatePassword() string {
	b := make([]byte, 15)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
