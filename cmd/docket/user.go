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
		return fmt.Errorf("usage: docket user add|list|reset-password")
	}
	fs := newFlagSet("user "+args[0], stderr)
	data := dataFlag(fs)
	email := fs.String("email", "", "email address")
	name := fs.String("name", "", "display name (add)")
	admin := fs.Bool("admin", false, "make the user a site admin (add)")
	tz := fs.String("tz", "", "IANA time zone, e.g. Europe/Berlin (add)")
	if _, err := parseArgs(fs, args[1:]); err != nil {
		return err
	}
	switch args[0] {
	case "add":
		if *email == "" || *name == "" {
			return fmt.Errorf("usage: docket user add --email E --name N [--admin]")
		}
	case "reset-password":
		if *email == "" {
			return fmt.Errorf("usage: docket user reset-password --email E")
		}
	case "list":
	default:
		return fmt.Errorf("unknown user command %q: use add, list or reset-password", args[0])
	}
	var password string
	var generated bool
	if args[0] != "list" {
		var err error
		if password, generated, err = passwordOrGenerated(stdin, stderr); err != nil {
			return err
		}
	}
	db, err := openData(*data)
	if err != nil {
		return err
	}
	defer db.Close()
	sys := docket.NewSystemContext(ctx)
	users := bolt.NewUserService(db)
	switch args[0] {
	case "add":
		role := docket.SiteMember
		if *admin {
			role = docket.SiteAdmin
		}
		u, err := users.CreateUser(sys, docket.UserCreate{Name: *name, Email: *email, Password: password, Role: role, TimeZone: *tz})
		if err != nil {
			return fmt.Errorf("%s", docket.ErrorMessage(err))
		}
		fmt.Fprintf(stdout, "Created %s <%s> (%s), id %s.\n", u.Name, u.Email, u.Role, u.ID)
		if generated {
			fmt.Fprintf(stdout, "Password: %s\n", password)
		}
	case "list":
		all, _, err := users.FindUsers(sys, docket.UserFilter{})
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
	case "reset-password":
		u, err := users.FindUserByEmail(sys, *email)
		if err != nil {
			return fmt.Errorf("%s", docket.ErrorMessage(err))
		}
		if err := users.SetPassword(sys, u.ID, password); err != nil {
			return fmt.Errorf("%s", docket.ErrorMessage(err))
		}
		if generated {
			fmt.Fprintf(stdout, "New password for %s: %s\n", u.Email, password)
		} else {
			fmt.Fprintf(stdout, "Password of %s changed; their sessions are signed out.\n", u.Email)
		}
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
