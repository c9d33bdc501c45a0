package server

import (
	"context"
	"net/http"

	"github.com/labstack/echo/v4"
)

// handleDocActions serves GET /api/docs/:id/actions: the document's
// action items in text order.
func (s *Server) handleDocActions(c echo.Context) error {
	return onID(c, "Document", noBody, http.StatusOK, func(ctx context.Context, id string, _ struct{}) (map[string]any, error) {
		items, err := s.svc.Actions.FindActions(ctx, id)
		return listOf("items", items), err
	})
}
