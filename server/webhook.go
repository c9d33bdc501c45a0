package server

import (
	"net/http"

	docket "github.com/docket-dev/docket"
	"github.com/labstack/echo/v4"
)

type webhookRequest struct {
	URL    string               `json:"url"`
	Format docket.WebhookFormat `json:"format"`
	Events []docket.EventType   `json:"events"`
}

// handleWebhookCreate serves POST /api/spaces/:id/webhooks {url, format,
// events}: 201 with the webhook and its signing secret, shown this once.
func (s *Server) handleWebhookCreate(c echo.Context) error {
	var req webhookRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	h, secret, err := s.svc.Webhooks.CreateWebhook(c.Request().Context(), docket.WebhookCreate{
		Space: c.Param("id"), URL: req.URL, Format: req.Format, Events: req.Events,
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, struct {
		*docket.Webhook
		Secret string `json:"secret"`
	}{h, secret})
}

// handleWebhookList serves GET /api/spaces/:id/webhooks.
func (s *Server) handleWebhookList(c echo.Context) error {
	list, err := s.svc.Webhooks.FindWebhooks(c.Request().Context(), c.Param("id"))
	return sendList(c, "webhooks", list, err)
}

// handleWebhookDelete serves DELETE /api/webhooks/:id.
func (s *Server) handleWebhookDelete(c echo.Context) error {
	if err := s.svc.Webhooks.DeleteWebhook(c.Request().Context(), c.Param("id")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// handleDeliveryList serves GET /api/webhooks/:id/deliveries?limit=: the
// delivery log, newest first.
func (s *Server) handleDeliveryList(c echo.Context) error {
	limit, err := intParam(c, "limit", 50, 1, docket.MaxDeliveriesPage)
	if err != nil {
		return err
	}
	list, err := s.svc.Webhooks.FindDeliveries(c.Request().Context(), c.Param("id"), int(limit))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"deliveries": list, "total": len(list), "limit": limit})
}
