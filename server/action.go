package server

import (
	"github.com/labstack/echo/v4"
)

// handleDocActions serves GET /api/docs/:id/actions: the document's
// action items in text order.
func (s *Server) handleDocActions(c echo.Context) error {
	id, err := idParam(c, "Document")
	if err != nil {
		return err
	}
	items, err := s.svc.Actions.FindActions(c.Request().Context(), id)
	return sendList(c, "items", items, err)
}
