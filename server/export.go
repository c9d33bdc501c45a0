package server

import (
	"fmt"
	"net/http"

	docket "github.com/docket-dev/docket"
	"github.com/docket-dev/docket/export"
	"github.com/labstack/echo/v4"
)

// handleSpaceExport serves GET /s/:slug/export.tar.gz and GET
// /api/spaces/:id/export.tar.gz (id or slug): the export of the space (docs/EXPORT.md)
// as a gzip-compressed tar, streamed; admins of the space only.
func (s *Server) handleSpaceExport(c echo.Context) error {
	ctx := c.Request().Context()
	ref := c.Param("slug")
	if ref == "" {
		ref = c.Param("id")
	}
	sp, err := s.svc.Spaces.FindSpace(ctx, ref)
	if err != nil {
		return err
	}
	if sp.Role != docket.RoleAdmin {
		return docket.Errorf(docket.EFORBIDDEN, "Only the admins of %s may export it.", sp.Name)
	}
	now := s.cfg.Now()
	h := c.Response().Header()
	h.Set("Content-Type", "application/gzip")
	h.Set("Content-Disposition", fmt.Sprintf(`attachment; filename="docket-%s-%s.tar.gz"`, sp.Slug, now.UTC().Format("20060102")))
	h.Set("Cache-Control", "no-store")
	c.Response().WriteHeader(http.StatusOK)
	tar := export.NewTarSink(c.Response(), now)
	if _, err := export.Write(ctx, s.svc.Export, []string{sp.ID}, tar, s.cfg.Version, now); err != nil {
		// The status is sent: a cut stream is how the client learns.
		s.cfg.Logger.Error("export space", "space", sp.Slug, "err", err)
		return nil
	}
	return tar.Close()
}
