package bolt

import (
	"context"
	"slices"

	docket "github.com/docket-dev/docket"
	"github.com/docket-dev/docket/kv"
)

// Interface guard.
var _ docket.RecordingService = (*RecordingService)(nil)

// RecordingService implements [docket.RecordingService].
type RecordingService struct{ db *DB }

// NewRecordingService returns the store of recordings over db.
func NewRecordingService(db *DB) *RecordingService { return &RecordingService{db: db} }

// SaveRecording implements [docket.RecordingService].
func (s *RecordingService) SaveRecording(ctx context.Context, r *docket.Recording) error {
	if r.ID == "" {
		r.ID = newID()
	}
	return s.db.update(ctx, func(tx kv.Tx) error {
		d, err := findDoc(tx, r.DocID)
		if err != nil {
			return err
		}
		b := tx.Bucket(bucketRecordings)
		var old docket.Recording
		if _, err := getJSON(b, pair(r.DocID, r.ID), &old); err != nil {
			return err
		}
		if err := putJSON(b, pair(r.DocID, r.ID), r); err != nil {
			return err
		}
		if r.EndedAt.IsZero() || !old.EndedAt.IsZero() {
			return nil
		}
		// The recording has just ended: one event for all it did.
		participants := make([]string, 0, len(r.Participants))
		for _, p := range r.Participants {
			participants = append(participants, p.UserID)
		}
		return s.db.appendEvent(ctx, tx, &docket.Event{
			Type: docket.EventSessionEnded, Time: r.EndedAt.UTC(), SpaceID: d.SpaceID, DocID: d.ID,
			Data: eventData(map[string]any{"startVersion": r.StartVersion, "endVersion": r.EndVersion, "participants": participants}),
		})
	})
}

// FindRecordings implements [docket.RecordingService].
func (s *RecordingService) FindRecordings(ctx context.Context, docID string) ([]*docket.Recording, error) {
	out, err := readDocData(ctx, s.db, docID, findRecordings)
	slices.SortFunc(out, func(a, b *docket.Recording) int { return b.StartedAt.Compare(a.StartedAt) })
	return out, err
}

// findRecordings reads the recordings of a document in key order.
func findRecordings(tx kv.Tx, docID string) ([]*docket.Recording, error) {
	return decodePrefixed[docket.Recording](tx.Bucket(bucketRecordings), docID, "recording")
}
