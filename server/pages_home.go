package server

import (
	"net/http"
	"slices"
	"strconv"

	docket "github.com/docket-dev/docket"
	"github.com/labstack/echo/v4"
)

// homePage is the data of the signed-in home page.
type homePage struct {
	Inbox       []*docket.InboxItem // unread
	InboxTotal  int
	Overdue     []*docket.Document
	OverdueWork []*docket.InboxItem // overdue action items
	Waiting     []*docket.Document  // in review or last call
	Recent      []spaceDocs
	SpaceNames  map[string]string
}

// spaceDocs is a space with some of its documents.
type spaceDocs struct {
	Space *docket.Space
	Docs  []*docket.Document
	Total int
}

const (
	homeInboxItems  = 8
	homeRecentDocs  = 5
	homeMaxSpaces   = 12
	homeWaitingDocs = 20
)

// handleHomePage serves GET /: a landing page for signed-out visitors;
// for a signed-in reader their unread inbox, what is overdue, what waits
// on a decision and recent documents per space.
func (s *Server) handleHomePage(c echo.Context) error {
	ctx := c.Request().Context()
	p := s.newPage(c, "Docket")
	if p.User == nil {
		return s.render(c, http.StatusOK, "landing", p)
	}
	p.Title = "Home"
	data := &homePage{SpaceNames: map[string]string{}}
	for _, sp := range p.Spaces {
		data.SpaceNames[sp.ID] = sp.Name
	}
	items, _, unread, err := s.svc.Inbox.FindInbox(ctx, docket.InboxFilter{Unread: true, Limit: 200})
	if err != nil {
		return err
	}
	data.InboxTotal = unread
	for _, it := range items {
		if it.Kind == docket.InboxAction && it.Overdue {
			data.OverdueWork = append(data.OverdueWork, it)
		}
		if len(data.Inbox) < homeInboxItems {
			data.Inbox = append(data.Inbox, it)
		}
	}
	// One list of every readable document, most recently updated first,
	// gives what waits on a decision and the recent ones of each space.
	docs, _, err := s.svc.Documents.FindDocuments(ctx, docket.DocumentFilter{Limit: maxScanDocs})
	if err != nil {
		return err
	}
	bySpace := map[string]*spaceDocs{}
	for i, sp := range p.Spaces {
		if i == homeMaxSpaces {
			break
		}
		data.Recent = append(data.Recent, spaceDocs{Space: sp})
	}
	for i := range data.Recent {
		bySpace[data.Recent[i].Space.ID] = &data.Recent[i]
	}
	for _, d := range docs {
		if d.Status == docket.StatusReview || d.Status == docket.StatusLastCall {
			if d.Overdue {
				if len(data.Overdue) < homeWaitingDocs {
					data.Overdue = append(data.Overdue, d)
				}
			} else if len(data.Waiting) < homeWaitingDocs {
				data.Waiting = append(data.Waiting, d)
			}
		}
		if sd := bySpace[d.SpaceID]; sd != nil {
			sd.Total++
			if len(sd.Docs) < homeRecentDocs {
				sd.Docs = append(sd.Docs, d)
			}
		}
	}
	// The nearest deadline first.
	slices.SortStableFunc(data.Waiting, func(a, b *docket.Document) int { return a.Due.Compare(b.Due) })
	lists := [][]*docket.Document{data.Overdue, data.Waiting}
	for _, r := range data.Recent {
		lists = append(lists, r.Docs)
	}
	p.noteVisits(lists...)
	p.Data = data
	return s.render(c, http.StatusOK, "home", p)
}

// inboxPage is the data of the inbox.
type inboxPage struct {
	Items      []*docket.InboxItem
	Total      int
	Unread     int
	UnreadOnly bool
	Offset     int
	Limit      int
	SpaceNames map[string]string
	Prev, Next string // page links
}

// handleInboxPage serves GET /inbox?unread=&offset=.
func (s *Server) handleInboxPage(c echo.Context) error {
	p := s.newPage(c, "Inbox")
	data := &inboxPage{Limit: 50, UnreadOnly: c.QueryParam("unread") == "1", SpaceNames: map[string]string{}}
	for _, sp := range p.Spaces {
		data.SpaceNames[sp.ID] = sp.Name
	}
	if n, err := strconv.Atoi(c.QueryParam("offset")); err == nil && n > 0 && n <= 1_000_000 {
		data.Offset = n
	}
	items, total, unread, err := s.svc.Inbox.FindInbox(c.Request().Context(), docket.InboxFilter{
		Unread: data.UnreadOnly, Limit: data.Limit, Offset: data.Offset,
	})
	if err != nil {
		return err
	}
	data.Items, data.Total, data.Unread = items, total, unread
	base := "/inbox?"
	if data.UnreadOnly {
		base += "unread=1&"
	}
	if data.Offset > 0 {
		data.Prev = base + "offset=" + strconv.Itoa(max(data.Offset-data.Limit, 0))
	}
	if data.Offset+len(items) < total {
		data.Next = base + "offset=" + strconv.Itoa(data.Offset+data.Limit)
	}
	p.Data = data
	return s.render(c, http.StatusOK, "inbox", p)
}

// handleInboxReadPost serves POST /inbox/read: marks the checked items
// read, or all of them with all=1.
func (s *Server) handleInboxReadPost(c echo.Context) error {
	form, err := c.FormParams()
	if err != nil {
		return docket.Errorf(docket.EINVALID, "The form could not be read.")
	}
	ids := form["ids"]
	if form.Get("all") != "1" {
		if len(ids) == 0 {
			return seeOther(c, "/inbox")
		}
		if len(ids) > 200 {
			return docket.Errorf(docket.EINVALID, "Mark at most 200 items at once.")
		}
	} else {
		ids = nil
	}
	if err := s.svc.Inbox.MarkRead(c.Request().Context(), ids); err != nil {
		return err
	}
	return seeOther(c, "/inbox?done=read")
}
