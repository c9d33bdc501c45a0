package docket

import (
	"context"
	"time"
)

// LiveSession is a stretch of live co-editing on a document: from the
// first person opening it live to the last one leaving (plus a grace
// period), with who took part and how much each wrote. It is what a
// brainstorm leaves behind for the minutes.
type LiveSession struct {
	ID           string               `json:"id"`
	DocID        string               `json:"docId"`
	StartedAt    time.Time            `json:"startedAt"`
	EndedAt      time.Time            `json:"endedAt,omitzero"` // zero while live
	StartVersion int64                `json:"startVersion"`
	EndVersion   int64                `json:"endVersion"`
	Participants []SessionParticipant `json:"participants"`
}

// SessionParticipant is one person's part in a live session.
type SessionParticipant struct {
	UserID   string    `json:"userId"`
	JoinedAt time.Time `json:"joinedAt"`
	LeftAt   time.Time `json:"leftAt,omitzero"` // zero while present
	Joins    int       `json:"joins"`
	Ops      int       `json:"ops"`
}

// SessionService stores live sessions.
type SessionService interface {
	// SaveSession creates or replaces a session record. It is called by
	// the live hub, which has already checked permissions.
	SaveSession(ctx context.Context, s *LiveSession) error

	// FindSessions lists a document's sessions, newest first. Returns
	// ENOTFOUND if the caller may not read the document.
	FindSessions(ctx context.Context, docID string) ([]*LiveSession, error)
}
