package postgres

import (
	"context"
	"testing"

	"github.com/docket-dev/docket/internal/testenv"
	"github.com/docket-dev/docket/kv"
	"github.com/docket-dev/docket/kv/kvtest"
)

// openTest opens a store on a fresh schema, closed when the test ends.
func openTest(t testing.TB) *Store {
	t.Helper()
	s, err := Open(context.Background(), testenv.Postgres(t))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestKV(t *testing.T) {
	kvtest.Run(t, func(t *testing.T) kv.Store { return openTest(t) })
}
