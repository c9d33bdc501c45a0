// Package pgstore opens PostgreSQL stores for the tests of other
// packages, each in a fresh schema dropped when the test ends, so that
// DOCKET_TEST_ENGINE=postgres go test ./bolt runs the whole store suite on
// cluster mode's engine. An adapter's tests may import internal/ packages
// but not another adapter; this one does it for them.
package pgstore

import (
	"context"
	"testing"

	"github.com/docket-dev/docket/internal/testenv"
	"github.com/docket-dev/docket/kv"
	"github.com/docket-dev/docket/postgres"
)

// Open returns an empty store in a fresh schema, closed when tb ends. It
// skips tb when PostgreSQL is not there (fails it under CI=true).
func Open(tb testing.TB) kv.Store {
	tb.Helper()
	s, err := postgres.Open(context.Background(), testenv.Postgres(tb))
	if err != nil {
		tb.Fatalf("postgres.Open: %v", err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}
