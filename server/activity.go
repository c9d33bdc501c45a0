package server

import (
	"context"
	"net/http"
	"strconv"

	docket "github.com/docket-dev/docket"
	"github.com/labstack/echo/v4"
)

// handleActivity serves GET /api/activity?space=&doc=&after=&before=&limit=:
// events of what the caller may read. Without a cursor the newest come
// first; after=N gives the events after N, oldest first (for polling);
// before=N pages back, newest first. The answer's after is the cursor for
// newer events, its before (when there may be more) for older ones.
func (s *Server) handleActivity(c echo.Context) error {
	after, err := intParam(c, "after", 0, 0, 1<<62)
	if err != nil {
		return err
	}
	before, err := intParam(c, "before", 0, 0, 1<<62)
	if err != nil {
		return err
	}
	limit, err := intParam(c, "limit", 50, 1, docket.MaxEventsPage)
	if err != nil {
		return err
	}
	events, err := s.svc.Events.FindEvents(c.Request().Context(), docket.EventFilter{
		Space: c.QueryParam("space"), DocID: c.QueryParam("doc"), After: after, Before: before, Limit: int(limit),
	})
	if err != nil {
		return err
	}
	out := map[string]any{"events": events, "limit": limit, "after": after}
	for _, ev := range events {
		out["after"] = max(out["after"].(int64), ev.Seq)
	}
	if after == 0 && len(events) == int(limit) {
		out["before"] = events[len(events)-1].Seq
	}
	return c.JSON(http.StatusOK, out)
}

// handleInbox serves GET /api/inbox?unread=&done=&limit=&offset=: what
// waits on the caller, grouped by document and thread, newest group
// first: limit, offset and total count groups; items are the items of the
// groups on the page (each group's newest); unread counts unread items.
func (s *Server) handleInbox(c echo.Context) error {
	limit, offset, err := paging(c, 50, 200)
	if err != nil {
		return err
	}
	f := docket.InboxFilter{Limit: limit, Offset: offset}
	if f.Unread, err = boolParam(c, "unread"); err != nil {
		return err
	}
	if f.Done, err = boolParam(c, "done"); err != nil {
		return err
	}
	groups, total, unread, err := s.svc.Inbox.FindInboxGroups(c.Request().Context(), f)
	if err != nil {
		return err
	}
	items := []*docket.InboxItem{}
	for _, g := range groups {
		items = append(items, g.Items...)
	}
	if groups == nil {
		groups = []*docket.InboxGroup{}
	}
	return c.JSON(http.StatusOK, map[string]any{"groups": groups, "items": items, "total": total, "unread": unread, "limit": limit, "offset": offset})
}

// boolParam reads an optional true/false query parameter.
func boolParam(c echo.Context, name string) (bool, error) {
	p := c.QueryParam(name)
	if p == "" {
		return false, nil
	}
	v, err := strconv.ParseBool(p)
	if err != nil {
		return false, docket.Errorf(docket.EINVALID, "Parameter %s must be true or false.", name)
	}
	return v, nil
}

type inboxReadRequest struct {
	IDs []string `json:"ids"`
}

// handleInboxRead serves POST /api/inbox/read {ids}: marks the caller's
// items read, all of them when ids is empty or missing.
func (s *Server) handleInboxRead(c echo.Context) error {
	return markInbox(c, s.svc.Inbox.MarkRead)
}

// handleInboxDone serves POST /api/inbox/done {ids}: marks the caller's
// items done; they leave the inbox.
func (s *Server) handleInboxDone(c echo.Context) error {
	return markInbox(c, s.svc.Inbox.MarkDone)
}

// markInbox reads {ids} and marks them with mark.
func markInbox(c echo.Context, mark func(ctx context.Context, ids []string) error) error {
	var req inboxReadRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	if err := mark(c.Request().Context(), req.IDs); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
