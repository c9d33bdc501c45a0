package server

import (
	"context"
	"net/http"

	docket "github.com/docket-dev/docket"
	"github.com/labstack/echo/v4"
)

// idParam returns the :id of the URL if it has the shape of an id, and
// ENOTFOUND (what names the object) otherwise.
func idParam(c echo.Context, what string) (string, error) {
	id := c.Param("id")
	if !docket.ValidID(id) {
		return "", docket.Errorf(docket.ENOTFOUND, "%s not found.", what)
	}
	return id, nil
}

// decodeOptional decodes a JSON body if there is one.
func decodeOptional(c echo.Context, v any) error {
	if c.Request().ContentLength == 0 {
		return nil
	}
	return decode(c, v)
}

// bodyRule says whether a request carries a JSON body.
type bodyRule int

const (
	noBody       bodyRule = iota // nothing is read
	optionalBody                 // read if there is one
	requiredBody                 // read, and an empty body is an error
)

// onID answers a request about the one record named by the URL's :id
// (what names its kind in the error of a malformed id): it decodes the
// body into a Req as rule says, runs do and answers status with the
// result as JSON, or with no content for 204.
func onID[Req, Resp any](c echo.Context, what string, rule bodyRule, status int, do func(ctx context.Context, id string, req Req) (Resp, error)) error {
	id, err := idParam(c, what)
	if err != nil {
		return err
	}
	var req Req
	switch rule {
	case optionalBody:
		err = decodeOptional(c, &req)
	case requiredBody:
		err = decode(c, &req)
	}
	if err != nil {
		return err
	}
	out, err := do(c.Request().Context(), id, req)
	if err != nil {
		return err
	}
	if status == http.StatusNoContent {
		return c.NoContent(status)
	}
	return c.JSON(status, out)
}

type anchorRequest struct {
	Version int64 `json:"version"`
	Start   int   `json:"start"`
	End     int   `json:"end"`
}

type threadCreateRequest struct {
	Anchor *anchorRequest `json:"anchor"`
	Body   string         `json:"body"`
}

// handleThreadCreate serves POST /api/docs/:id/threads {anchor?, body}:
// 201 and the thread, its anchor moved to the current version.
func (s *Server) handleThreadCreate(c echo.Context) error {
	docID, err := idParam(c, "Document")
	if err != nil {
		return err
	}
	var req threadCreateRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	tc := docket.ThreadCreate{DocID: docID, Body: req.Body}
	if a := req.Anchor; a != nil {
		tc.Anchor = &docket.Anchor{Version: a.Version, Start: a.Start, End: a.End}
	}
	th, err := s.svc.Threads.CreateThread(c.Request().Context(), tc)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Location", "/api/threads/"+th.ID)
	return c.JSON(http.StatusCreated, th)
}

// handleThreadList serves GET /api/docs/:id/threads?status=&limit=&offset=:
// the document's threads, oldest first, anchors moved to the current
// version.
func (s *Server) handleThreadList(c echo.Context) error {
	docID, err := idParam(c, "Document")
	if err != nil {
		return err
	}
	limit, offset, err := paging(c, 500, 1000)
	if err != nil {
		return err
	}
	list, err := s.svc.Threads.FindThreads(c.Request().Context(), docID, docket.ThreadFilter{Status: docket.ThreadStatus(c.QueryParam("status"))})
	if err != nil {
		return err
	}
	total := len(list)
	list = list[min(offset, total):min(offset+limit, total)]
	return c.JSON(http.StatusOK, map[string]any{"threads": list, "total": total, "limit": limit, "offset": offset})
}

// handleThreadGet serves GET /api/threads/:id.
func (s *Server) handleThreadGet(c echo.Context) error {
	return onID(c, "Thread", noBody, http.StatusOK, func(ctx context.Context, id string, _ struct{}) (*docket.Thread, error) {
		return s.svc.Threads.FindThread(ctx, id)
	})
}

type commentRequest struct {
	Body string `json:"body"`
}

// handleCommentCreate serves POST /api/threads/:id/comments {body}: 201
// and the comment.
func (s *Server) handleCommentCreate(c echo.Context) error {
	return onID(c, "Thread", requiredBody, http.StatusCreated, func(ctx context.Context, id string, req commentRequest) (*docket.Comment, error) {
		return s.svc.Threads.AddComment(ctx, id, req.Body)
	})
}

type resolveRequest struct {
	Note string `json:"note"`
}

// handleThreadResolve serves POST /api/threads/:id/resolve {note?}.
func (s *Server) handleThreadResolve(c echo.Context) error {
	return onID(c, "Thread", optionalBody, http.StatusOK, func(ctx context.Context, id string, req resolveRequest) (*docket.Thread, error) {
		return s.svc.Threads.ResolveThread(ctx, id, req.Note)
	})
}

// handleThreadReopen serves POST /api/threads/:id/reopen.
func (s *Server) handleThreadReopen(c echo.Context) error {
	return onID(c, "Thread", optionalBody, http.StatusOK, func(ctx context.Context, id string, _ struct{}) (*docket.Thread, error) {
		return s.svc.Threads.ReopenThread(ctx, id)
	})
}

// handleCommentUpdate serves PATCH /api/comments/:id {body}: the caller's
// own comment only.
func (s *Server) handleCommentUpdate(c echo.Context) error {
	return onID(c, "Comment", requiredBody, http.StatusOK, func(ctx context.Context, id string, req commentRequest) (*docket.Comment, error) {
		return s.svc.Threads.UpdateComment(ctx, id, req.Body)
	})
}

// handleCommentDelete serves DELETE /api/comments/:id: 204, leaving a
// tombstone in the thread.
func (s *Server) handleCommentDelete(c echo.Context) error {
	return onID(c, "Comment", noBody, http.StatusNoContent, func(ctx context.Context, id string, _ struct{}) (any, error) {
		return nil, s.svc.Threads.DeleteComment(ctx, id)
	})
}
