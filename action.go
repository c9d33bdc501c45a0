package docket

import (
	"context"
	"strings"
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

// TaskMark finds the checkbox of a task-list line, such as "- [ ] text",
// "  * [x] text", "1. [ ] text" or "> - [X] text": it returns the byte
// offset in line of the character between the brackets and whether the
// box is ticked ("x" or "X"). ok is false for any other line. It looks at
// the line alone, so a line inside a code block passes too; callers find
// task lines from rendered or parsed documents first.
func TaskMark(line string) (at int, done, ok bool) {
	i := skipIndent(line, 0)
	for i < len(line) && line[i] == '>' { // block quotes
		i = skipIndent(line, i+1)
	}
	switch {
	case i < len(line) && (line[i] == '-' || line[i] == '*' || line[i] == '+'):
		i++
	default:
		j := i
		for j < len(line) && j-i < 9 && line[j] >= '0' && line[j] <= '9' {
			j++
		}
		if j == i || j >= len(line) || (line[j] != '.' && line[j] != ')') {
			return 0, false, false
		}
		i = j + 1
	}
	j := skipIndent(line, i)
	if j == i || j-i > 4 || j+2 >= len(line) || line[j] != '[' || line[j+2] != ']' {
		return 0, false, false
	}
	if end := j + 3; end < len(line) && line[end] != ' ' && line[end] != '\t' && line[end] != '\r' {
		return 0, false, false
	}
	switch line[j+1] {
	case ' ':
		return j + 1, false, true
	case 'x', 'X':
		return j + 1, true, true
	}
	return 0, false, false
}

// skipIndent returns the offset of the first byte at or after i in s that
// is neither a space nor a tab.
func skipIndent(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	return i
}

// LineAt returns the 1-based line n of text (without its newline) and the
// byte offset at which it starts; ok is false when text has fewer lines.
func LineAt(text string, n int) (line string, start int, ok bool) {
	if n < 1 {
		return "", 0, false
	}
	for ; n > 1; n-- {
		i := strings.IndexByte(text[start:], '\n')
		if i < 0 {
			return "", 0, false
		}
		start += i + 1
	}
	line = text[start:]
	if i := strings.IndexByte(line, '\n'); i >= 0 {
		line = line[:i]
	}
	return line, start, true
}
