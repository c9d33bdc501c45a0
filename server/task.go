package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/docket-dev/docket"
	"github.com/docket-dev/docket/collab"
	"github.com/docket-dev/docket/collab/ot"
	"github.com/labstack/echo/v4"
)

type taskRequest struct {
	Line    int    `json:"line"`
	Version *int64 `json:"version"`
	Done    *bool  `json:"done"`
}

// handleDocTask serves POST /api/docs/:id/tasks {line, version?, done}:
// ticks (done true) or unticks the task-list line that was line (1-based)
// at version (by default the current one), as one op through the live hub
// that replaces the character between the brackets, so that it lands at
// the line's current place while others co-edit. It answers the document
// as POST /edits does. A line already in the asked state is left alone.
func (s *Server) handleDocTask(c echo.Context) error {
	return onID(c, "Document", requiredBody, http.StatusOK, func(ctx context.Context, id string, req taskRequest) (*docket.Document, error) {
		if req.Done == nil {
			return nil, docket.Errorf(docket.EINVALID, "Done required: true to tick the task, false to untick it.")
		}
		if req.Line < 1 {
			return nil, docket.Errorf(docket.EINVALID, "Line must be a line number from 1.")
		}
		return s.tickTask(ctx, id, req.Line, req.Version, *req.Done)
	})
}

// tickTask sets the checkbox of the task line that was line at version
// (nil: the current version) to done.
func (s *Server) tickTask(ctx context.Context, id string, line int, version *int64, done bool) (*docket.Document, error) {
	doc, err := s.svc.Documents.FindDocumentByID(ctx, id)
	if err != nil {
		return nil, err
	}
	if !doc.Role.AtLeast(docket.RoleEditor) {
		return nil, docket.Errorf(docket.EFORBIDDEN, "You need the editor role in this space to tick tasks.")
	}
	at := doc.Version
	if version != nil {
		at = *version
	}
	if at < 0 || at > doc.Version {
		return nil, &docket.Error{Code: docket.ECONFLICT, Message: fmt.Sprintf("Version must be between 0 and the current version %d.", doc.Version), Data: map[string]any{"version": doc.Version}}
	}
	text := doc.Body
	if at < doc.Version {
		if text, err = s.svc.Documents.DocumentAt(ctx, id, at); err != nil {
			return nil, err
		}
	}
	pos, err := taskMarkAt(text, line, at)
	if err != nil {
		return nil, err
	}
	if at < doc.Version {
		// Where the box is now: its position moved over the ops since, and
		// checked again on the current text.
		if pos, err = s.movePosition(ctx, id, pos, at, doc.Version); err != nil {
			return nil, err
		}
		at = doc.Version
		if pos < 0 || !isTaskMark(doc.Body, pos) {
			return nil, docket.Errorf(docket.ECONFLICT, "Line %d is not a task line any more: it was changed meanwhile. Reload and try again.", line)
		}
	}
	mark := " "
	if done {
		mark = "x"
	}
	rs := []rune(doc.Body)
	if cur := string(rs[pos]); (cur != " ") == done {
		return doc, nil // already so
	}
	op := ot.Op{{Skip: pos}, {Delete: 1}, {Insert: mark}}
	_, err = s.svc.Hub.Submit(ctx, id, collab.Submission{Version: at, Op: op, Author: docket.UserIDFromContext(ctx), Announce: true})
	if err != nil && !errors.Is(err, collab.ErrNoOp) {
		return nil, err
	}
	return s.svc.Documents.FindDocumentByID(ctx, id)
}

// taskMarkAt returns the code point position in text of the checkbox
// mark of the 1-based line, which must be a task line.
func taskMarkAt(text string, line int, version int64) (int, error) {
	l, start, ok := docket.LineAt(text, line)
	if !ok {
		return 0, docket.Errorf(docket.EINVALID, "Line %d is past the end of the document at version %d.", line, version)
	}
	at, _, ok := docket.TaskMark(l)
	if !ok {
		return 0, docket.Errorf(docket.ECONFLICT, "Line %d is not a task line any more (such as \"- [ ] text\"): %q.", line, shorten(l, 80))
	}
	return ot.Length(text[:start+at]), nil
}

// isTaskMark reports whether the code point at pos of text is the
// checkbox mark of a task line.
func isTaskMark(text string, pos int) bool {
	rs := []rune(text)
	if pos >= len(rs) {
		return false
	}
	start := pos
	for start > 0 && rs[start-1] != '\n' {
		start--
	}
	end := pos
	for end < len(rs) && rs[end] != '\n' {
		end++
	}
	at, _, ok := docket.TaskMark(string(rs[start:end]))
	return ok && ot.Length(string(rs[start:end])[:at]) == pos-start
}

// movePosition moves the code point position pos of the text at version
// from over the ops committed up to version to; -1 when the character
// there was deleted.
func (s *Server) movePosition(ctx context.Context, id string, pos int, from, to int64) (int, error) {
	recs, err := docket.FindAllOps(ctx, s.svc.Documents, id, from, to)
	if err != nil {
		return 0, err
	}
	for _, r := range recs {
		var op ot.Op
		if err := op.UnmarshalJSON(r.Op); err != nil {
			return 0, fmt.Errorf("op %d of %s: %w", r.Version, id, err)
		}
		start, end := ot.TransformRange(pos, pos+1, op)
		if end <= start {
			return -1, nil
		}
		pos = start
	}
	return pos, nil
}
