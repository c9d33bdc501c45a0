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
		d, err := findDoc(tx, ls.DocID)
		if err != nil {
			return err
		}
		b := tx.Bucket(bucketLiveSessions)
		var old docket.LiveSession
		if _, err := getJSON(b, pair(ls.DocID, ls.ID), &old); err != nil {
			return err
		}
		if err := putJSON(b, pair(ls.DocID, ls.ID), ls); err != nil {
			return err
		}
		if ls.EndedAt.IsZero() || !old.EndedAt.IsZero() {
			return nil
		}
		// The session has just ended: one event for all it did.
		participants := make([]string, 0, len(ls.Participants))
		for _, p := range ls.Participants {
			participants = append(participants, p.UserID)
		}
		_, err = s.db.appendEvent(ctx, tx, &docket.Event{
			Type: docket.EventSessionEnded, Time: ls.EndedAt.UTC(), SpaceID: d.SpaceID, DocID: d.ID,
			Data: eventData(map[string]any{"startVersion": ls.StartVersion, "endVersion": ls.EndVersion, "participants": participants}),
		})
		return err
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
