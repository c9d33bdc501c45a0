package bolt_test

import (
	"testing"

	"github.com/docket-dev/docket/bolt"
	"github.com/docket-dev/docket/internal/storetest"
)

// TestContract runs the storage contract on the engine the package's
// tests run on (bbolt unless DOCKET_TEST_ENGINE says otherwise; see
// OpenTestDB).
func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) *bolt.DB { return bolt.OpenTestDB(t) })
}
