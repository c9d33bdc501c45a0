package server

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"unicode/utf8"

	docket "github.com/docket-dev/docket"
	"github.com/docket-dev/docket/collab"
	"github.com/docket-dev/docket/collab/ot"
	"github.com/labstack/echo/v4"
)

// suggestionAnchor is the anchor of a new suggestion: a range as threads
// take it ({version, start, end}), or a quote of the current text, which
// must occur exactly once.
type suggestionAnchor struct {
	anchorRequest
	Quote string `json:"quote"`
}

type suggestionCreateRequest struct {
	Anchor      *suggestionAnchor `json:"anchor"`
	Replacement *string           `json:"replacement"`
	Comment     string            `json:"comment"`
}

// handleSuggestionCreate serves POST /api/docs/:id/suggestions {anchor,
// replacement, comment?}: 201 and the suggestion's thread.
func (s *Server) handleSuggestionCreate(c echo.Context) error {
	return onID(c, "Document", requiredBody, http.StatusCreated, func(ctx context.Context, docID string, req suggestionCreateRequest) (*docket.Thread, error) {
		if req.Replacement == nil {
			return nil, docket.Errorf(docket.EINVALID, "Replacement required: the text to put in place of the selection (empty to delete it).")
		}
		sc := docket.SuggestionCreate{DocID: docID, Replacement: *req.Replacement, Comment: req.Comment}
		if a := req.Anchor; a != nil {
			var err error
			if sc.Anchor, err = s.quotedAnchor(ctx, docID, a); err != nil {
				return nil, err
			}
		}
		th, err := s.svc.Suggestions.CreateSuggestion(ctx, sc)
		if err == nil {
			c.Response().Header().Set("Location", "/api/threads/"+th.ID)
		}
		return th, err
	})
}

// quotedAnchor returns the anchor of a request: its range, or the place of
// its quote in the document's current text.
func (s *Server) quotedAnchor(ctx context.Context, docID string, a *suggestionAnchor) (*docket.Anchor, error) {
	if a.Quote == "" {
		return &docket.Anchor{Version: a.Version, Start: a.Start, End: a.End}, nil
	}
	if a.Version != 0 || a.Start != 0 || a.End != 0 {
		return nil, docket.Errorf(docket.EINVALID, "Give the anchor as a quote or as version, start and end, not both.")
	}
	d, err := s.svc.Documents.FindDocumentByID(ctx, docID)
	if err != nil {
		return nil, err
	}
	i := strings.Index(d.Body, a.Quote)
	switch {
	case i < 0:
		return nil, docket.Errorf(docket.EINVALID, "The quote is not in the document's text.")
	case strings.Contains(d.Body[i+1:], a.Quote):
		return nil, docket.Errorf(docket.EINVALID, "The quote occurs more than once in the document; quote more of the text, or give version, start and end.")
	}
	start := utf8.RuneCountInString(d.Body[:i])
	return &docket.Anchor{Version: d.Version, Start: start, End: start + utf8.RuneCountInString(a.Quote)}, nil
}

// handleSuggestionAccept serves POST /api/suggestions/:id/accept: the
// change is applied as one op through the live hub, attributed to the
// suggester, and the thread resolved; 200 and the thread.
func (s *Server) handleSuggestionAccept(c echo.Context) error {
	return onID(c, "Suggestion", optionalBody, http.StatusOK, func(ctx context.Context, id string, _ struct{}) (*docket.Thread, error) {
		return s.acceptSuggestion(ctx, id)
	})
}

// acceptSuggestion applies a suggestion at its anchor's current place.
// The op is made at the version the anchor was read at; the hub moves it
// through whatever was committed since, as it does a keystroke.
func (s *Server) acceptSuggestion(ctx context.Context, id string) (*docket.Thread, error) {
	s.accepting.Lock()
	defer s.accepting.Unlock()
	th, err := s.svc.Suggestions.PrepareAccept(ctx, id)
	if err != nil {
		return nil, err
	}
	a := th.Anchor
	op := ot.Normalize(ot.Op{{Skip: a.Start}, {Insert: th.Suggestion.Replacement}, {DeleteText: th.Suggestion.Original}})
	ack, err := s.svc.Hub.Submit(ctx, th.DocID, collab.Submission{Version: a.Version, Op: op, Author: th.AuthorID, Announce: true})
	if err != nil && !errors.Is(err, collab.ErrNoOp) {
		return nil, err
	}
	version := int64(0)
	if ack != nil {
		version = ack.Version + 1 // the op's v is the version it applies to
	}
	return s.svc.Suggestions.MarkApplied(ctx, id, version)
}

// handleSuggestionReject serves POST /api/suggestions/:id/reject
// {reason?}: 200 and the thread, resolved with the reason.
func (s *Server) handleSuggestionReject(c echo.Context) error {
	return onID(c, "Suggestion", optionalBody, http.StatusOK, func(ctx context.Context, id string, req struct {
		Reason string `json:"reason"`
	}) (*docket.Thread, error) {
		return s.svc.Suggestions.RejectSuggestion(ctx, id, req.Reason)
	})
}
