package bolt

import (
	"context"
	"time"

	docket "github.com/docket-dev/docket"
	"github.com/docket-dev/docket/kv"
)

// Interface guard.
var _ docket.VisitService = (*VisitService)(nil)

// VisitRefresh is how old a visit of an unchanged version may get before
// a new view stores it again. Views in between need no write transaction.
const VisitRefresh = time.Minute

// VisitService implements [docket.VisitService] in the visits bucket,
// keyed docID/userID so that deleting a document deletes its visits.
type VisitService struct{ db *DB }

// NewVisitService returns the visit store over db.
func NewVisitService(db *DB) *VisitService { return &VisitService{db: db} }

// RecordVisit implements [docket.VisitService]. A view of the version
// already stored, less than VisitRefresh after it, writes nothing.
func (s *VisitService) RecordVisit(ctx context.Context, docID string, version int64) (*docket.Visit, error) {
	user := docket.UserIDFromContext(ctx)
	if user == "" {
		return nil, docket.Errorf(docket.EUNAUTHORIZED, "Sign in first.")
	}
	now := s.db.Now().UTC()
	var prev *docket.Visit
	fresh := false
	read := func(tx kv.Tx) error {
		d, _, err := readableDoc(ctx, tx, docID)
		if err != nil {
			return err
		}
		if version < 0 || version > d.Version {
			return docket.Errorf(docket.EINVALID, "Version must be between 0 and %d.", d.Version)
		}
		if prev, err = findVisit(tx, docID, user); err != nil {
			return err
		}
		fresh = prev != nil && prev.Version == version && now.Sub(prev.At) < VisitRefresh
		return nil
	}
	if err := s.db.view(ctx, read); err != nil {
		return nil, err
	}
	if fresh {
		return prev, nil
	}
	err := s.db.update(ctx, func(tx kv.Tx) error {
		if err := read(tx); err != nil {
			return err
		}
		return putJSON(tx.Bucket(bucketVisits), pair(docID, user), &docket.Visit{Version: version, At: now})
	})
	return prev, err
}

// FindVisit implements [docket.VisitService].
func (s *VisitService) FindVisit(ctx context.Context, docID string) (*docket.Visit, error) {
	return readDocData(ctx, s.db, docID, func(tx kv.Tx, docID string) (*docket.Visit, error) {
		return findVisit(tx, docID, docket.UserIDFromContext(ctx))
	})
}

// findVisit reads a user's last visit of a document, nil if there is none.
func findVisit(tx kv.Tx, docID, userID string) (*docket.Visit, error) {
	var v docket.Visit
	if ok, err := getJSON(tx.Bucket(bucketVisits), pair(docID, userID), &v); err != nil || !ok {
		return nil, err
	}
	return &v, nil
}

// FindVisits implements [docket.VisitService]: one lookup per document.
// It reads only the caller's own records, so it needs no permission
// check of its own.
func (s *VisitService) FindVisits(ctx context.Context, docIDs []string) (map[string]*docket.Visit, error) {
	out := map[string]*docket.Visit{}
	user := docket.UserIDFromContext(ctx)
	if user == "" {
		return out, nil
	}
	err := s.db.view(ctx, func(tx kv.Tx) error {
		for _, id := range docIDs {
			v, err := findVisit(tx, id, user)
			if err != nil {
				return err
			}
			if v != nil {
				out[id] = v
			}
		}
		return nil
	})
	return out, err
}
