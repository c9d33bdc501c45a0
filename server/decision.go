package server

import (
	"context"
	"net/http"
	"time"

	docket "github.com/docket-dev/docket"
	"github.com/labstack/echo/v4"
)

// validDocID answers 404 for a document id that is not one.
func validDocID(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if id := c.Param("id"); id != "" && !docket.ValidID(id) {
			return docket.Errorf(docket.ENOTFOUND, "Document not found.")
		}
		return next(c)
	}
}

// lifecycleResponse is a lifecycle with whether its deadline has passed.
type lifecycleResponse struct {
	*docket.Lifecycle
	Overdue bool `json:"overdue"`
}

func (s *Server) lifecycleJSON(c echo.Context, lc *docket.Lifecycle) error {
	return c.JSON(http.StatusOK, lifecycleResponse{Lifecycle: lc, Overdue: lc.Overdue(s.cfg.Now())})
}

// handleLifecycleGet serves GET /api/docs/:id/lifecycle.
func (s *Server) handleLifecycleGet(c echo.Context) error {
	lc, err := s.svc.Decisions.FindLifecycle(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	return s.lifecycleJSON(c, lc)
}

type transitionRequest struct {
	To        docket.Status `json:"to"`
	Due       string        `json:"due"` // RFC 3339
	Reviewers []string      `json:"reviewers"`
	Decision  *struct {
		Summary string `json:"summary"`
	} `json:"decision"`
	SupersededBy string `json:"supersededBy"`
	Amend        bool   `json:"amend"`
}

// handleTransition serves POST /api/docs/:id/transition {to, due,
// reviewers, decision: {summary}, supersededBy, amend}. A transition the process
// does not allow is 409 with the reason, and changes nothing.
func (s *Server) handleTransition(c echo.Context) error {
	var req transitionRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	if req.To == "" {
		return docket.Errorf(docket.EINVALID, "Field to (the new status) required.")
	}
	t := docket.Transition{To: req.To, Reviewers: req.Reviewers, SupersededBy: req.SupersededBy, Amend: req.Amend}
	if req.Due != "" {
		due, err := time.Parse(time.RFC3339, req.Due)
		if err != nil {
			return docket.Errorf(docket.EINVALID, "Field due must be an RFC 3339 time, such as 2026-12-01T17:00:00Z.")
		}
		t.Due = due
	}
	if req.Decision != nil {
		t.Summary = req.Decision.Summary
	}
	lc, err := s.svc.Decisions.Transition(c.Request().Context(), c.Param("id"), t)
	if err != nil {
		return err
	}
	return s.lifecycleJSON(c, lc)
}

type reviewRequest struct {
	Verdict docket.Verdict `json:"verdict"`
	Body    string         `json:"body"`
}

// handleReviewCreate serves POST /api/docs/:id/reviews {verdict, body}.
func (s *Server) handleReviewCreate(c echo.Context) error {
	return onID(c, "Document", requiredBody, http.StatusCreated, func(ctx context.Context, id string, req reviewRequest) (*docket.Review, error) {
		return s.svc.Decisions.AddReview(ctx, docket.ReviewCreate{DocID: id, Verdict: req.Verdict, Body: req.Body})
	})
}

// handleReviewList serves GET /api/docs/:id/reviews, oldest first.
func (s *Server) handleReviewList(c echo.Context) error {
	reviews, err := s.svc.Decisions.FindReviews(c.Request().Context(), c.Param("id"))
	return sendList(c, "reviews", reviews, err)
}

type ownerRequest struct {
	User string `json:"user"`
}

// handleOwnerSet serves POST /api/docs/:id/owner {user}: a handoff.
func (s *Server) handleOwnerSet(c echo.Context) error {
	return onID(c, "Document", requiredBody, http.StatusOK, func(ctx context.Context, id string, req ownerRequest) (*docket.Handoff, error) {
		return s.svc.Decisions.SetOwner(ctx, id, req.User)
	})
}

// handleHandoffList serves GET /api/docs/:id/handoffs, oldest first.
func (s *Server) handleHandoffList(c echo.Context) error {
	hs, err := s.svc.Decisions.FindHandoffs(c.Request().Context(), c.Param("id"))
	return sendList(c, "handoffs", hs, err)
}
