package server

import (
	"net/http"
	"time"

	docket "github.com/docket-dev/docket"
	"github.com/labstack/echo/v4"
)

// Search limits checked before a query reaches the search service, so
// that a hostile query string costs nothing.
const (
	maxSearchLimit  = 100
	maxSearchOffset = 10000
	maxSuggestLimit = 20
)

// handleSearch serves GET /api/search.
func (s *Server) handleSearch(c echo.Context) error {
	limit, offset, err := paging(c, 20, maxSearchLimit)
	if err != nil {
		return err
	}
	if offset > maxSearchOffset {
		return docket.Errorf(docket.EINVALID, "Parameter offset must be at most %d; narrow the search instead.", maxSearchOffset)
	}
	q := docket.SearchQuery{
		Q:      c.QueryParam("q"),
		Type:   c.QueryParam("type"),
		Space:  c.QueryParam("space"),
		Status: docket.Status(c.QueryParam("status")),
		Kind:   docket.Kind(c.QueryParam("kind")),
		Author: c.QueryParam("author"),
		Owner:  c.QueryParam("owner"),
		Tag:    c.QueryParam("tag"),
		Sort:   c.QueryParam("sort"),
		Limit:  limit,
		Offset: offset,
	}
	if q.From, err = dateParam(c, "from"); err != nil {
		return err
	}
	if q.To, err = dateParam(c, "to"); err != nil {
		return err
	}
	if q.Sort != "" && q.Sort != "relevance" && q.Sort != "date" {
		return docket.Errorf(docket.EINVALID, "Parameter sort must be relevance or date.")
	}
	res, err := s.svc.Search.Search(c.Request().Context(), q)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, res)
}

// handleSuggest serves GET /api/search/suggest?q=: document titles
// completing what the caller typed.
func (s *Server) handleSuggest(c echo.Context) error {
	limit, err := intParam(c, "limit", 8, 1, maxSuggestLimit)
	if err != nil {
		return err
	}
	sugs, err := s.svc.Search.Suggest(c.Request().Context(), c.QueryParam("q"), int(limit))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"suggestions": sugs})
}

// dateParam parses an optional date (YYYY-MM-DD or RFC 3339).
func dateParam(c echo.Context, name string) (time.Time, error) {
	v := c.QueryParam(name)
	if v == "" {
		return time.Time{}, nil
	}
	for _, layout := range []string{time.DateOnly, time.RFC3339} {
		if t, err := time.Parse(layout, v); err == nil {
			if t.Year() < 1900 || t.Year() > 2200 {
				break
			}
			return t.UTC(), nil
		}
	}
	return time.Time{}, docket.Errorf(docket.EINVALID, "Parameter %s must be a date written YYYY-MM-DD.", name)
}
