package server

import (
	"context"
	"net/http"

	docket "github.com/docket-dev/docket"
	"github.com/labstack/echo/v4"
)

// handleMinutes serves GET /api/docs/:id/minutes: markdown, or sanitised
// HTML with ?format=html. A decided document answers with the minutes
// frozen at its decision; ?live=1 compiles them as of now, and
// ?record=ID returns an earlier frozen set.
func (s *Server) handleMinutes(c echo.Context) error {
	ctx := c.Request().Context()
	id, err := idParam(c, "Document")
	if err != nil {
		return err
	}
	format := c.QueryParam("format")
	if format != "" && format != "markdown" && format != "html" {
		return docket.Errorf(docket.EINVALID, "Parameter format must be markdown or html.")
	}
	live := c.QueryParam("live")
	if live != "" && live != "0" && live != "1" && live != "true" && live != "false" {
		return docket.Errorf(docket.EINVALID, "Parameter live must be 1 or 0.")
	}
	md, recordID, err := s.minutesMarkdown(ctx, id, c.QueryParam("record"), live == "1" || live == "true")
	if err != nil {
		return err
	}
	if recordID != "" {
		c.Response().Header().Set("X-Docket-Minutes", recordID)
	}
	c.Response().Header().Set("Cache-Control", "private, no-cache")
	if format == "html" {
		html, err := s.renderMarkdown(ctx, md)
		if err != nil {
			return err
		}
		return c.HTMLBlob(http.StatusOK, []byte(html))
	}
	return c.Blob(http.StatusOK, "text/markdown; charset=utf-8", []byte(md))
}

// minutesMarkdown returns the minutes of a document as markdown: the
// frozen set record if given; else, unless live, the set frozen at the
// document's decision; else compiled as of now. recordID names the
// frozen set used, "" for compiled minutes.
func (s *Server) minutesMarkdown(ctx context.Context, docID, record string, live bool) (md, recordID string, err error) {
	if record == "" && !live {
		doc, err := s.svc.Documents.FindDocumentMeta(ctx, docID)
		if err != nil {
			return "", "", err
		}
		if doc.Decision != nil {
			record = doc.Decision.MinutesID
		}
	}
	if record != "" {
		if !docket.ValidID(record) {
			return "", "", docket.Errorf(docket.ENOTFOUND, "Minutes not found.")
		}
		r, err := s.svc.Minutes.FindMinutesRecord(ctx, docID, record)
		if err != nil {
			return "", "", err
		}
		return r.Markdown, r.ID, nil
	}
	md, err = s.svc.Minutes.MinutesMarkdown(ctx, docID)
	if err != nil {
		return "", "", err
	}
	return md, "", nil
}

// handleMinutesRecords serves GET /api/docs/:id/minutes/records: the
// minutes frozen at each decision, newest first, without their text.
func (s *Server) handleMinutesRecords(c echo.Context) error {
	return onID(c, "Document", noBody, http.StatusOK, func(ctx context.Context, id string, _ struct{}) (map[string]any, error) {
		recs, err := s.svc.Minutes.FindMinutesRecords(ctx, id)
		return listOf("records", recs), err
	})
}
