package bolt

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"

	docket "github.com/docket-dev/docket"
	bolt "go.etcd.io/bbolt"
)

// Interface guard.
var _ docket.SessionService = (*SessionService)(nil)

// SessionService implements [docket.SessionService].
type SessionService struct{ db *DB }

// NewSessionService returns the live session store over db.
func NewSessionService(db *DB) *SessionService { return &SessionService{db: db} }

// SaveSession implements [docket.SessionService].
func (s *SessionService) SaveSession(ctx context.Context, ls *docket.LiveSession) error {
	if ls.ID == "" {
		ls.ID = newID()
	}
	return s.db.update(ctx, func(tx *bolt.Tx) error {
		if _, err := findDoc(tx, ls.DocID); err != nil {
			return err
		}
		return putJSON(tx.Bucket(bucketLiveSessions), pair(ls.DocID, ls.ID), ls)
	})
}

// FindSessions implements [docket.SessionService].
func (s *SessionService) FindSessions(ctx context.Context, docID string) ([]*docket.LiveSession, error) {
	out := []*docket.LiveSession{}
	err := s.db.view(ctx, func(tx *bolt.Tx) error {
		if _, _, err := readableDoc(ctx, tx, docID); err != nil {
			return err
		}
		prefix := []byte(docID + "/")
		c := tx.Bucket(bucketLiveSessions).Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			var ls docket.LiveSession
			if err := json.Unmarshal(v, &ls); err != nil {
				return fmt.Errorf("decode session %s: %w", k, err)
			}
			out = append(out, &ls)
		}
		return nil
	})
	slices.SortFunc(out, func(a, b *docket.LiveSession) int { return b.StartedAt.Compare(a.StartedAt) })
	return out, err
}
