package server

import (
	"net/http"

	docket "github.com/docket-dev/docket"
	"github.com/labstack/echo/v4"
)

// registerThreadRoutes adds the routes of threads and comments; all need a
// signed-in caller.
func (s *Server) registerThreadRoutes(api *echo.Group) {
	api.GET("/docs/:id/threads", s.handleThreadList, signedIn)
	api.POST("/docs/:id/threads", s.handleThreadCreate, signedIn)
	g := api.Group("/threads", signedIn)
	g.GET("/:id", s.handleThreadGet)
	g.POST("/:id/comments", s.handleCommentCreate)
	g.POST("/:id/resolve", s.handleThreadResolve)
	g.POST("/:id/reopen", s.handleThreadReopen)
	cg := api.Group("/comments", signedIn)
	cg.PATCH("/:id", s.handleCommentUpdate)
	cg.DELETE("/:id", s.handleCommentDelete)
}

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
	id, err := idParam(c, "Thread")
	if err != nil {
		return err
	}
	th, err := s.svc.Threads.FindThread(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, th)
}

type commentRequest struct {
	Body string `json:"body"`
}

// handleCommentCreate serves POST /api/threads/:id/comments {body}: 201
// and the comment.
func (s *Server) handleCommentCreate(c echo.Context) error {
	id, err := idParam(c, "Thread")
	if err != nil {
		return err
	}
	var req commentRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	cm, err := s.svc.Threads.AddComment(c.Request().Context(), id, req.Body)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, cm)
}

type resolveRequest struct {
	Note string `json:"note"`
}

// handleThreadResolve serves POST /api/threads/:id/resolve {note?}.
func (s *Server) handleThreadResolve(c echo.Context) error {
	id, err := idParam(c, "Thread")
	if err != nil {
		return err
	}
	var req resolveRequest
	if err := decodeOptional(c, &req); err != nil {
		return err
	}
	th, err := s.svc.Threads.ResolveThread(c.Request().Context(), id, req.Note)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, th)
}

// handleThreadReopen serves POST /api/threads/:id/reopen.
func (s *Server) handleThreadReopen(c echo.Context) error {
	id, err := idParam(c, "Thread")
	if err != nil {
		return err
	}
	if err := decodeOptional(c, &struct{}{}); err != nil {
		return err
	}
	th, err := s.svc.Threads.ReopenThread(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, th)
}

// handleCommentUpdate serves PATCH /api/comments/:id {body}: the caller's
// own comment only.
func (s *Server) handleCommentUpdate(c echo.Context) error {
	id, err := idParam(c, "Comment")
	if err != nil {
		return err
	}
	var req commentRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	cm, err := s.svc.Threads.UpdateComment(c.Request().Context(), id, req.Body)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, cm)
}

// handleCommentDelete serves DELETE /api/comments/:id: 204, leaving a
// tombstone in the thread.
func (s *Server) handleCommentDelete(c echo.Context) error {
	id, err := idParam(c, "Comment")
	if err != nil {
		return err
	}
	if err := s.svc.Threads.DeleteComment(c.Request().Context(), id); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
