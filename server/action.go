package server

import (
	"net/http"

	docket "github.com/docket-dev/docket"
	"github.com/labstack/echo/v4"
)

// registerActionRoutes adds the action item routes.
func (s *Server) registerActionRoutes(api *echo.Group) {
	api.GET("/docs/:id/actions", s.handleDocActions, signedIn)
}

// handleDocActions serves GET /api/docs/:id/actions: the document's
// action items in text order.
func (s *Server) handleDocActions(c echo.Context) error {
	id := c.Param("id")
	if !docket.ValidID(id) {
		return docket.Errorf(docket.ENOTFOUND, "Document not found.")
	}
	items, err := s.svc.Actions.FindActions(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"items": items, "total": len(items)})
}
