package docket

import (
	"context"
	"time"
)

// ActionItem is a task-list line of a document, such as
// "- [ ] @alice write the migration plan due:2026-12-01". It is derived
// from the text, so it changes when the text does.
type ActionItem struct {
	DocID string `json:"docId"`
	// Line is the 1-based line of the item in the current text.
	Line     int       `json:"line"`
	Text     string    `json:"text"`
	Done     bool      `json:"done"`
	Assignee string    `json:"assignee,omitempty"` // the @name as written
	UserID   string    `json:"userId,omitempty"`   // the member it names, if any
	Due      time.Time `json:"due,omitzero"`       // midnight UTC of the due date
	Overdue  bool      `json:"overdue,omitempty"`
	Version  int64     `json:"version"` // the version it was read from
}

// ActionService lists action items.
type ActionService interface {
	// FindActions lists a document's action items in text order.
	// Returns ENOTFOUND.
	FindActions(ctx context.Context, docID string) ([]*ActionItem, error)
}

// OverdueAt reports whether the item is open and its due date is over at
// now: the whole due day (UTC) has passed. Items without a due date are
// never overdue.
func (a *ActionItem) OverdueAt(now time.Time) bool {
	return !a.Done && !a.Due.IsZero() && !now.Before(a.Due.AddDate(0, 0, 1))
}
