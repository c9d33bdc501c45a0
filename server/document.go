package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	docket "github.com/docket-dev/docket"
	"github.com/docket-dev/docket/collab"
	"github.com/docket-dev/docket/collab/ot"
	"github.com/labstack/echo/v4"
)

// maxVersion bounds version numbers in URLs.
const maxVersion = 1 << 53

type docCreateRequest struct {
	Space string      `json:"space"`
	Title string      `json:"title"`
	Body  string      `json:"body"`
	Kind  docket.Kind `json:"kind"`
	Tags  []string    `json:"tags"`
	// Template is the id of a template of the space, whose text the
	// document starts with (see fromTemplate).
	Template string `json:"template"`
}

// handleDocCreate serves POST /api/docs. Without a title, the first
// heading of the body names the document.
func (s *Server) handleDocCreate(c echo.Context) error {
	var req docCreateRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	doc, err := s.createDocument(c.Request().Context(), req)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Location", "/api/docs/"+doc.ID)
	return c.JSON(http.StatusCreated, doc)
}

// createDocument checks a new document's text and creates it; without a
// title, the first heading of the body names it. With a template, the
// text is the template's (see fromTemplate).
func (s *Server) createDocument(ctx context.Context, req docCreateRequest) (*docket.Document, error) {
	space, tags := req.Space, req.Tags
	if space == "" {
		return nil, docket.Errorf(docket.EINVALID, "Space required.")
	}
	title, body, kind, err := s.fromTemplate(ctx, space, req.Template, req.Title, req.Body, req.Kind)
	if err != nil {
		return nil, err
	}
	if err := docket.CheckBody(body); err != nil {
		return nil, err
	}
	if err := s.svc.Renderer.Validate(body); err != nil {
		return nil, err
	}
	if strings.TrimSpace(title) == "" {
		if title = s.svc.Renderer.Title(body); title == "" {
			title = "Untitled"
		}
	}
	return s.svc.Documents.CreateDocument(ctx, docket.DocumentCreate{Space: space, Title: title, Body: body, Kind: kind, Tags: tags})
}

// handleDocList serves GET /api/docs?space=&status=&owner=&kind=&tag=.
func (s *Server) handleDocList(c echo.Context) error {
	ctx := c.Request().Context()
	limit, offset, err := paging(c, 50, 200)
	if err != nil {
		return err
	}
	docs, total, err := s.svc.Documents.FindDocuments(ctx, docket.DocumentFilter{
		Space: c.QueryParam("space"), Status: docket.Status(c.QueryParam("status")),
		Owner: c.QueryParam("owner"), Kind: docket.Kind(c.QueryParam("kind")), Tag: c.QueryParam("tag"),
		Limit: limit, Offset: offset,
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"documents": docs, "total": total, "limit": limit, "offset": offset})
}

// handleDocGet serves GET /api/docs/:id: the document with its body and
// the caller's last visit (null if none).
func (s *Server) handleDocGet(c echo.Context) error {
	ctx := c.Request().Context()
	doc, err := s.svc.Documents.FindDocumentByID(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	visit, err := s.svc.Visits.FindVisit(ctx, doc.ID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, docWithVisit{Document: doc, LastVisit: visit})
}

type docUpdateRequest struct {
	Title *string      `json:"title"`
	Tags  *[]string    `json:"tags"`
	Kind  *docket.Kind `json:"kind"`
}

// handleDocUpdate serves PATCH /api/docs/:id {title, tags, kind}. Any
// other field, such as ownerId or status, is refused.
func (s *Server) handleDocUpdate(c echo.Context) error {
	ctx := c.Request().Context()
	var req docUpdateRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	doc, err := s.svc.Documents.UpdateDocument(ctx, c.Param("id"), docket.DocumentUpdate{Title: req.Title, Tags: req.Tags, Kind: req.Kind})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, doc)
}

// handleDocDelete serves DELETE /api/docs/:id.
func (s *Server) handleDocDelete(c echo.Context) error {
	ctx := c.Request().Context()
	if err := s.svc.Documents.DeleteDocument(ctx, c.Param("id")); err != nil {
		return err
	}
	s.svc.Hub.Forget(c.Param("id"))
	s.html.forget(c.Param("id"))
	return c.NoContent(http.StatusNoContent)
}

// handleDocHTML serves GET /api/docs/:id/html: the sanitised HTML of the
// current version, rendered once per version and served gzipped to
// clients that accept it. The ETag is the version, so a client that has it
// gets 304. A version that cannot be rendered answers with the error of
// its render (413 or 400), remembered like the HTML.
func (s *Server) handleDocHTML(c echo.Context) error {
	ctx := c.Request().Context()
	doc, err := s.svc.Documents.FindDocumentMeta(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set("Cache-Control", "private, no-cache")
	h.Set("Vary", "Accept-Encoding")
	r, err := s.docHTMLAt(ctx, doc.ID, doc.Version, func() (string, int64, error) {
		full, err := s.svc.Documents.FindDocumentByID(ctx, doc.ID)
		if err != nil {
			return "", 0, err
		}
		return full.Body, full.Version, nil
	})
	if err != nil {
		return err
	}
	etag := fmt.Sprintf(`"%s-%d"`, r.docID, r.version)
	h.Set("ETag", etag)
	h.Set("X-Docket-Version", strconv.FormatInt(r.version, 10))
	if match := c.Request().Header.Get("If-None-Match"); match != "" && strings.Contains(match, etag) {
		return c.NoContent(http.StatusNotModified)
	}
	body := r.html
	if acceptsGzip(c.Request()) {
		h.Set("Content-Encoding", "gzip")
		body = r.gzipped
	}
	// A known length lets net/http write the body in one piece instead
	// of chunking it.
	h.Set("Content-Length", strconv.Itoa(len(body)))
	return c.Blob(http.StatusOK, "text/html; charset=utf-8", body)
}

// acceptsGzip reports whether the client accepts a gzip response.
func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		enc, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if !strings.EqualFold(strings.TrimSpace(enc), "gzip") {
			continue
		}
		if k, v, ok := strings.Cut(strings.TrimSpace(params), "="); ok && strings.TrimSpace(k) == "q" {
			q, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			return err == nil && q > 0
		}
		return true
	}
	return false
}

type editRequest struct {
	Version *int64          `json:"version"`
	Op      json.RawMessage `json:"op"`
	Body    *string         `json:"body"`
}

// handleDocEdit serves POST /api/docs/:id/edits with {version, op} or
// {version, body}. The edit goes through the live hub like a keystroke: an
// op made at an older version is transformed over what was committed
// since, and a body written against an older version is first diffed
// against the text of that version.
func (s *Server) handleDocEdit(c echo.Context) error {
	ctx := c.Request().Context()
	var req editRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	if req.Version == nil {
		return docket.Errorf(docket.EINVALID, "Version required: the version the edit was made at.")
	}
	if (req.Op == nil) == (req.Body == nil) {
		return docket.Errorf(docket.EINVALID, "Send exactly one of op and body.")
	}
	doc, err := s.editDocument(ctx, c.Param("id"), *req.Version, req.Op, req.Body)
	if err != nil {
		return err
	}
	if req.Op != nil && s.svc.Renderer.Validate(doc.Body) != nil {
		// The op is stored; a broken front matter only affects rendering.
		c.Response().Header().Set("Warning", `199 docket "front matter is not valid"`)
	}
	return c.JSON(http.StatusOK, doc)
}

// editDocument applies an edit made at version: an op in its JSON wire
// format, or (rawOp nil) a whole new body. It returns the document after
// the edit, with its body.
func (s *Server) editDocument(ctx context.Context, id string, version int64, rawOp json.RawMessage, body *string) (*docket.Document, error) {
	if body != nil {
		if err := docket.CheckBody(*body); err != nil {
			return nil, err
		}
		if err := s.svc.Renderer.Validate(*body); err != nil {
			return nil, err
		}
	}
	doc, err := s.svc.Documents.FindDocumentMeta(ctx, id)
	if err != nil {
		return nil, err
	}
	if !doc.Role.AtLeast(docket.RoleEditor) {
		return nil, docket.Errorf(docket.EFORBIDDEN, "You need the editor role in this space to change documents.")
	}
	if version < 0 || version > doc.Version {
		return nil, &docket.Error{Code: docket.ECONFLICT, Message: fmt.Sprintf("Version must be between 0 and the current version %d.", doc.Version), Data: map[string]any{"version": doc.Version}}
	}
	var op ot.Op
	if rawOp != nil {
		if err := op.UnmarshalJSON(rawOp); err != nil {
			return nil, docket.Errorf(docket.EINVALID, "Invalid op: %v", err)
		}
	} else {
		base, err := s.svc.Documents.DocumentAt(ctx, id, version)
		if err != nil {
			return nil, err
		}
		op = ot.Diff(base, *body)
	}
	_, err = s.svc.Hub.Submit(ctx, id, collab.Submission{Version: version, Op: op, Author: docket.UserIDFromContext(ctx), Announce: true})
	if err != nil && !errors.Is(err, collab.ErrNoOp) {
		return nil, err
	}
	return s.svc.Documents.FindDocumentByID(ctx, id)
}

// handleDocHistory serves GET /api/docs/:id/history?from=&limit=: op log
// entries in version order, and where the next page starts.
func (s *Server) handleDocHistory(c echo.Context) error {
	ctx := c.Request().Context()
	from, err := intParam(c, "from", 0, 0, maxVersion)
	if err != nil {
		return err
	}
	limit, err := intParam(c, "limit", 100, 1, docket.MaxOpsPage)
	if err != nil {
		return err
	}
	doc, err := s.svc.Documents.FindDocumentByID(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	if from > doc.Version {
		return docket.Errorf(docket.EINVALID, "Parameter from is past the current version %d.", doc.Version)
	}
	ops, err := s.svc.Documents.FindOps(ctx, doc.ID, from, doc.Version, int(limit))
	if err != nil {
		return err
	}
	var next any
	if n := from + int64(len(ops)); n < doc.Version {
		next = n
	}
	return c.JSON(http.StatusOK, map[string]any{"ops": ops, "version": doc.Version, "total": doc.Version, "from": from, "next": next})
}

func versionParam(s, name string) (int64, error) {
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v < 0 || v > maxVersion {
		return 0, docket.Errorf(docket.EINVALID, "%s must be a version number.", name)
	}
	return v, nil
}

// handleDocVersion serves GET /api/docs/:id/versions/:v?change=&html=:
// the text at v; with change=1 also who made the version, when, and what
// its op inserted and deleted; with html=1 the text rendered.
func (s *Server) handleDocVersion(c echo.Context) error {
	ctx := c.Request().Context()
	v, err := versionParam(c.Param("v"), "Version")
	if err != nil {
		return err
	}
	change, html := c.QueryParam("change") == "1", c.QueryParam("html") == "1"
	if !change && !html {
		text, err := s.svc.Documents.DocumentAt(ctx, c.Param("id"), v)
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, map[string]any{"id": c.Param("id"), "version": v, "body": text})
	}
	doc, err := s.svc.Documents.FindDocumentMeta(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	vv, err := s.loadVersion(ctx, doc, v, html)
	if err != nil {
		return err
	}
	out := map[string]any{"id": doc.ID, "version": v, "latest": doc.Version, "body": vv.Source}
	if change {
		out["added"], out["removed"], out["change"] = vv.Added, vv.Removed, apiParts(vv.Segments)
		if v > 0 {
			out["author"], out["time"] = vv.Author, vv.Time
		}
	}
	if html {
		out["html"] = string(vv.HTML)
	}
	return c.JSON(http.StatusOK, out)
}

// handleDocDiff serves GET /api/docs/:id/diff?from=&to=: a unified line
// diff and the op that turns version from into version to.
func (s *Server) handleDocDiff(c echo.Context) error {
	ctx := c.Request().Context()
	doc, err := s.svc.Documents.FindDocumentByID(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	from, to := int64(0), doc.Version
	if p := c.QueryParam("from"); p != "" {
		if from, err = versionParam(p, "from"); err != nil {
			return err
		}
	}
	if p := c.QueryParam("to"); p != "" {
		if to, err = versionParam(p, "to"); err != nil {
			return err
		}
	}
	if from > doc.Version || to > doc.Version {
		return docket.Errorf(docket.EINVALID, "Versions must be at most the current version %d.", doc.Version)
	}
	a, err := s.svc.Documents.DocumentAt(ctx, doc.ID, from)
	if err != nil {
		return err
	}
	b := doc.Body
	if to != doc.Version {
		if b, err = s.svc.Documents.DocumentAt(ctx, doc.ID, to); err != nil {
			return err
		}
	}
	d := diffTexts(a, b, fmt.Sprintf("version %d", from), fmt.Sprintf("version %d", to))
	return c.JSON(http.StatusOK, map[string]any{
		"id": doc.ID, "from": from, "to": to, "op": d.op,
		"unified": d.unified, "added": d.added, "removed": d.removed,
	})
}

// handleDocRecordings serves GET /api/docs/:id/sessions: the recordings of
// live sessions, newest first (the API calls them sessions).
func (s *Server) handleDocRecordings(c echo.Context) error {
	recordings, err := s.svc.Recordings.FindRecordings(c.Request().Context(), c.Param("id"))
	return sendList(c, "sessions", recordings, err)
}
