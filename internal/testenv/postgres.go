package testenv

import (
	"context"
	"crypto/rand"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// DefaultPostgres is the PostgreSQL database of the development machine
// and of CI (.ci/services starts it; trust auth, database test).
const DefaultPostgres = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// Postgres returns the URL of a fresh, empty schema of the test
// PostgreSQL database ($DOCKET_TEST_POSTGRES, or [DefaultPostgres]), set
// as the URL's search_path, and drops the schema when the test ends.
// When PostgreSQL cannot be reached the test ends through [Missing].
func Postgres(tb testing.TB) string {
	tb.Helper()
	base := setting("DOCKET_TEST_POSTGRES", DefaultPostgres)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		Missing(tb, "no PostgreSQL at %s (run .ci/services, or set DOCKET_TEST_POSTGRES to a database the tests may create schemas in): %v", redact(base), err)
	}
	defer conn.Close(context.Background())

	schema := "docket_test_" + strings.ToLower(rand.Text()[:12])
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+pgx.Identifier{schema}.Sanitize()); err != nil {
		tb.Fatalf("create schema %s: %v", schema, err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			tb.Errorf("drop schema %s: %v", schema, err)
			return
		}
		defer conn.Close(context.Background())
		if _, err := conn.Exec(ctx, "DROP SCHEMA "+pgx.Identifier{schema}.Sanitize()+" CASCADE"); err != nil {
			tb.Errorf("drop schema %s: %v", schema, err)
		}
	})

	u, err := url.Parse(base)
	if err != nil || u.Scheme == "" {
		tb.Fatalf("DOCKET_TEST_POSTGRES must be a postgres:// URL, not %q", redact(base))
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// redact returns a connection URL without its password.
func redact(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(a connection string that is not a URL)"
	}
	return u.Redacted()
}

// setting returns the environment variable name, or def when it is unset.
func setting(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
