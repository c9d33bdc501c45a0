package postgres_test

import (
	"context"
	"testing"

	"github.com/docket-dev/docket/bolt"
	"github.com/docket-dev/docket/internal/storetest"
	"github.com/docket-dev/docket/internal/testenv"
	"github.com/docket-dev/docket/postgres"
)

// TestContract runs the storage contract of the domain services on
// PostgreSQL, each case on a fresh schema.
func TestContract(t *testing.T) {
	testenv.Postgres(t) // skip once, not in every case, without PostgreSQL
	storetest.Run(t, func(t *testing.T) *bolt.DB {
		s, err := postgres.Open(context.Background(), testenv.Postgres(t))
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		return storetest.OpenDB(t, s)
	})
}
