package server

import (
	"cmp"
	"net/http"
	"slices"
	"strconv"
	"strings"

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
	// Overdue work stays listed once read; it leaves when done.
	items, _, unread, err := s.svc.Inbox.FindInbox(ctx, docket.InboxFilter{Limit: 200})
	if err != nil {
		return err
	}
	data.InboxTotal = unread
	for _, it := range items {
		if it.Kind == docket.InboxAction && it.Overdue {
			data.OverdueWork = append(data.OverdueWork, it)
		}
		if !it.Read && len(data.Inbox) < homeInboxItems {
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
	Groups     []*docket.InboxGroup
	Total      int // groups
	Unread     int // items
	UnreadOnly bool
	DoneOnly   bool
	Offset     int
	Limit      int
	SpaceNames map[string]string
	Prev, Next string // page links
}

// handleInboxPage serves GET /inbox?unread=1|show=done&offset=: the caller's
// items grouped by document and thread, each group expandable to its
// items.
func (s *Server) handleInboxPage(c echo.Context) error {
	p := s.newPage(c, "Inbox")
	data := &inboxPage{Limit: 50, UnreadOnly: c.QueryParam("unread") == "1", DoneOnly: c.QueryParam("show") == "done", SpaceNames: map[string]string{}}
	for _, sp := range p.Spaces {
		data.SpaceNames[sp.ID] = sp.Name
	}
	if n, err := strconv.Atoi(c.QueryParam("offset")); err == nil && n > 0 && n <= 1_000_000 {
		data.Offset = n
	}
	groups, total, unread, err := s.svc.Inbox.FindInboxGroups(c.Request().Context(), docket.InboxFilter{
		Unread: data.UnreadOnly, Done: data.DoneOnly, Limit: data.Limit, Offset: data.Offset,
	})
	if err != nil {
		return err
	}
	data.Groups, data.Total, data.Unread = groups, total, unread
	base := "/inbox?"
	if data.UnreadOnly {
		base += "unread=1&"
	}
	if data.DoneOnly {
		base += "show=done&"
	}
	if data.Offset > 0 {
		data.Prev = base + "offset=" + strconv.Itoa(max(data.Offset-data.Limit, 0))
	}
	if data.Offset+len(groups) < total {
		data.Next = base + "offset=" + strconv.Itoa(data.Offset+data.Limit)
	}
	p.Data = data
	return s.render(c, http.StatusOK, "inbox", p)
}

// maxInboxFormIDs is the most item ids one inbox form may name.
const maxInboxFormIDs = 1000

// inboxFormIDs reads the items an inbox form names: each checked box
// holds the ids of a group, separated by commas. all is set for "all".
func inboxFormIDs(c echo.Context) (ids []string, all bool, err error) {
	form, err := c.FormParams()
	if err != nil {
		return nil, false, docket.Errorf(docket.EINVALID, "The form could not be read.")
	}
	if form.Get("all") == "1" {
		return nil, true, nil
	}
	for _, v := range form["ids"] {
		for id := range strings.SplitSeq(v, ",") {
			if id = strings.TrimSpace(id); id != "" {
				ids = append(ids, id)
			}
		}
	}
	if len(ids) > maxInboxFormIDs {
		return nil, false, docket.Errorf(docket.EINVALID, "Mark at most %d items at once.", maxInboxFormIDs)
	}
	return ids, false, nil
}

// handleInboxReadPost serves POST /inbox/read: marks the checked groups
// read, or everything with all=1.
func (s *Server) handleInboxReadPost(c echo.Context) error {
	ids, all, err := inboxFormIDs(c)
	if err != nil {
		return err
	}
	if !all && len(ids) == 0 {
		return seeOther(c, "/inbox")
	}
	if err := s.svc.Inbox.MarkRead(c.Request().Context(), ids); err != nil {
		return err
	}
	return seeOther(c, "/inbox?done=read")
}

// handleInboxDonePost serves POST /inbox/done: marks the checked groups
// done.
func (s *Server) handleInboxDonePost(c echo.Context) error {
	ids, _, err := inboxFormIDs(c)
	if err != nil {
		return err
	}
	if len(ids) == 0 {
		return seeOther(c, "/inbox")
	}
	if err := s.svc.Inbox.MarkDone(c.Request().Context(), ids); err != nil {
		return err
	}
	return seeOther(c, "/inbox?done=inbox-done")
}

// inboxNouns name the items of one kind, for group summaries.
var inboxNouns = map[docket.InboxKind]string{
	docket.InboxReviewRequest: "review request", docket.InboxConcern: "concern", docket.InboxMention: "mention",
	docket.InboxReply: "reply", docket.InboxDecision: "decision", docket.InboxAction: "action item",
	docket.InboxOverdue: "overdue deadline", docket.InboxHandoff: "handoff",
	docket.InboxDueSoon: "deadline ending soon", docket.InboxSuggestion: "suggested change",
}

// inboxSummary says what a group holds, as "4 new replies in “Storage
// plan” from Ada and Cy" (new counts the unread items; a group of one
// says its kind).
func inboxSummary(g *docket.InboxGroup) string {
	var what string
	if g.Count == 1 && len(g.Kinds) == 1 {
		what = inboxLabel(g.Kinds[0])
	} else {
		noun := "update"
		if len(g.Kinds) == 1 && inboxNouns[g.Kinds[0]] != "" {
			noun = inboxNouns[g.Kinds[0]]
		}
		n := g.Count
		if g.Unread > 0 {
			n, noun = g.Unread, "new "+noun
		}
		what = docket.Plural(n, noun)
		if strings.HasSuffix(noun, "reply") && n != 1 {
			what = strings.TrimSuffix(what, "replys") + "replies"
		}
	}
	what += " in “" + g.Title + "”"
	var names []string
	for _, a := range g.Actors {
		names = append(names, cmp.Or(a.Name, "someone"))
	}
	switch n := len(names); {
	case n == 0:
	case n == 1:
		what += " from " + names[0]
	case n <= 3:
		what += " from " + strings.Join(names[:n-1], ", ") + " and " + names[n-1]
	default:
		what += " from " + strings.Join(names[:2], ", ") + " and " + docket.Plural(n-2, "other")
	}
	return what
}
