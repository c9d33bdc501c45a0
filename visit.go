package docket

import (
	"context"
	"time"
)

// Visit is the caller's last view of a document: the version shown and
// when. It is what "what changed since my last visit" compares against.
type Visit struct {
	Version int64     `json:"version"`
	At      time.Time `json:"at"`
}

// VisitService remembers, per user and document, the version the user
// last viewed.
type VisitService interface {
	// RecordVisit stores that the caller has just viewed a document at
	// version and returns the visit before this one, nil on the first.
	// Returns ENOTFOUND, EINVALID for a version the document does not
	// have.
	RecordVisit(ctx context.Context, docID string, version int64) (*Visit, error)

	// FindVisit returns the caller's last visit of a document, nil if
	// there is none. Returns ENOTFOUND.
	FindVisit(ctx context.Context, docID string) (*Visit, error)

	// FindVisits returns the caller's last visits of the given documents
	// by id; documents never viewed are absent.
	FindVisits(ctx context.Context, docIDs []string) (map[string]*Visit, error)
}
