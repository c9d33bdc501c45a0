package docket

import (
	"context"
	"time"
)

// Recording is a stretch of live co-editing on a document: from the
// first person opening it live to the last one leaving (plus a grace
// period), with who took part and how much each wrote. It is what a
// brainstorm leaves behind for the minutes. The API and the pages call
// it a live session (GET /api/docs/:id/sessions).
type Recording struct {
	ID           string                 `json:"id"`
	DocID        string                 `json:"docId"`
	StartedAt    time.Time              `json:"startedAt"`
	EndedAt      time.Time              `json:"endedAt,omitzero"` // zero while live
	StartVersion int64                  `json:"startVersion"`
	EndVersion   int64                  `json:"endVersion"`
	Participants []RecordingParticipant `json:"participants"`
}

// RecordingParticipant is one person's part in a recording.
type RecordingParticipant struct {
	UserID   string    `json:"userId"`
	JoinedAt time.Time `json:"joinedAt"`
	LeftAt   time.Time `json:"leftAt,omitzero"` // zero while present
	Joins    int       `json:"joins"`
	Ops      int       `json:"ops"`
}

// RecordingService stores recordings of live sessions.
type RecordingService interface {
	// SaveRecording creates or replaces a recording; it assigns the ID
	// of a new one (ID empty). It is called by
	// the live hub, which has already checked permissions.
	SaveRecording(ctx context.Context, r *Recording) error

	// FindRecordings lists a document's recordings, newest first. Returns
	// ENOTFOUND if the caller may not read the document.
	FindRecordings(ctx context.Context, docID string) ([]*Recording, error)
}
