package bolt

import (
	"context"
	"slices"

	docket "github.com/docket-dev/docket"
)

// FindInboxGroups implements [docket.InboxService]. Items are grouped by
// document and thread in one pass over the sorted items, so the groups
// come newest first and each group's items stay newest first; only the
// actors of the groups on the page are looked up.
func (s *InboxService) FindInboxGroups(ctx context.Context, f docket.InboxFilter) ([]*docket.InboxGroup, int, int, error) {
	var out []*docket.InboxGroup
	var total, unread int
	err := s.read(ctx, f, func(r *inboxReader, shown []*docket.InboxItem, n int) error {
		groups := groupInbox(shown)
		total, unread = len(groups), n
		out = page(groups, f.Offset, inboxLimit(f))
		names := map[string]string{}
		for _, g := range out {
			for i := range g.Actors {
				a := &g.Actors[i]
				name, ok := names[a.ID]
				if !ok {
					if u, err := findUser(r.tx, a.ID); err == nil {
						name = u.Name
					}
					names[a.ID] = name
				}
				a.Name = name
			}
		}
		return nil
	})
	if err != nil {
		return nil, 0, 0, err
	}
	return out, total, unread, nil
}

// groupInbox groups items sorted newest first by document and thread.
// Actors are left without names.
func groupInbox(items []*docket.InboxItem) []*docket.InboxGroup {
	type key struct{ doc, thread string }
	index := map[key]*docket.InboxGroup{}
	var out []*docket.InboxGroup
	for _, it := range items {
		k := key{it.DocID, it.ThreadID}
		g := index[k]
		if g == nil {
			g = &docket.InboxGroup{DocID: it.DocID, Title: it.Title, SpaceID: it.SpaceID, ThreadID: it.ThreadID,
				Kinds: []docket.InboxKind{}, Actors: []docket.InboxActor{}, ItemIDs: []string{},
				Latest: it.Time, URL: it.URL}
			index[k] = g
			out = append(out, g)
		}
		g.Count++
		if !it.Read {
			g.Unread++
		}
		if g.Excerpt == "" {
			g.Excerpt = it.Text
		}
		g.Overdue = g.Overdue || it.Overdue
		if !slices.Contains(g.Kinds, it.Kind) {
			g.Kinds = append(g.Kinds, it.Kind)
		}
		if it.ActorID != "" && !slices.ContainsFunc(g.Actors, func(a docket.InboxActor) bool { return a.ID == it.ActorID }) {
			g.Actors = append(g.Actors, docket.InboxActor{ID: it.ActorID})
		}
		g.ItemIDs = append(g.ItemIDs, it.ID)
		if len(g.Items) < docket.MaxInboxGroupItems {
			g.Items = append(g.Items, it)
		}
	}
	return out
}
