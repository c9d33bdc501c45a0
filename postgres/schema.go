package postgres

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/docket-dev/docket"
)

// The migrations of the schema, applied in order: migrations/NNNN_what.sql
// brings the schema to version NNNN. A released migration never changes;
// a change of the schema is a new file.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

// migration is one step of the schema.
type migration struct {
	version int
	name    string
	sql     string
}

// migrations returns the embedded migrations, numbered 1, 2, 3... in order.
func migrations(fsys fs.FS) ([]migration, error) {
	names, err := fs.Glob(fsys, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	var ms []migration
	for i, name := range names { // fs.Glob sorts
		num, _, ok := strings.Cut(path.Base(name), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v != i+1 {
			return nil, fmt.Errorf("postgres: migration %s: want a name that starts %04d_", name, i+1)
		}
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, name: name, sql: string(b)})
	}
	return ms, nil
}

// migrate brings the schema of the database up to date, under an advisory
// lock so that nodes starting together migrate once, and returns the name
// of the schema the tables are in. It refuses a schema newer than this
// program knows.
func (s *Store) migrate(ctx context.Context) (string, error) {
	ms, err := migrations(migrationFiles)
	if err != nil {
		return "", err
	}
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return "", translate("connect", err)
	}
	defer conn.Release()

	var schema *string
	if err := conn.QueryRow(ctx, "SELECT current_schema()").Scan(&schema); err != nil {
		return "", translate("schema", err)
	}
	if schema == nil {
		return "", docket.Errorf(docket.EINVALID, "The PostgreSQL search_path names no schema that exists: create it, or fix the URL's search_path.")
	}
	key := lockKey("migrate", *schema)
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", key); err != nil {
		return "", translate("lock the schema", err)
	}
	defer func() {
		// A broken connection has lost its session lock already.
		_, _ = conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", key)
	}()

	if _, err := conn.Exec(ctx, "CREATE TABLE IF NOT EXISTS docket_schema (version integer NOT NULL)"); err != nil {
		return "", translate("create the schema table", err)
	}
	var version int
	if err := conn.QueryRow(ctx, "SELECT coalesce(max(version), 0) FROM docket_schema").Scan(&version); err != nil {
		return "", translate("read the schema version", err)
	}
	if latest := len(ms); version > latest {
		return "", docket.Errorf(docket.EINVALID,
			"The PostgreSQL schema %q is at version %d, newer than this Docket knows (%d): run a newer Docket.", *schema, version, latest)
	}
	for _, m := range ms[version:] {
		err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, m.sql); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, "DELETE FROM docket_schema"); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, "INSERT INTO docket_schema (version) VALUES ($1)", m.version)
			return err
		})
		if err != nil {
			return "", translate("migrate to "+m.name, err)
		}
		s.logger.Info("postgres: schema migrated", "schema", *schema, "version", m.version, "migration", m.name)
	}
	return *schema, nil
}
