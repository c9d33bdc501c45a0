package search

import (
	"context"
	"strings"
	"time"

	docket "github.com/docket-dev/docket"
)

var _ docket.SearchService = (*Service)(nil)

// Service answers searches for a caller: it parses the query, adds the
// spaces the caller may read (from the space service, at every search),
// translates names to ids, and runs it on the index.
type Service struct {
	Index   *Index
	Spaces  docket.SpaceService
	Users   docket.UserService
	Indexer *Indexer // may be nil; tells whether a rebuild is running
	// Timeout bounds one search; 5 s if zero.
	Timeout time.Duration
}

// Search implements [docket.SearchService].
func (s *Service) Search(ctx context.Context, sq docket.SearchQuery) (*docket.SearchResult, error) {
	if docket.UserFromContext(ctx) == nil {
		return nil, docket.Errorf(docket.EUNAUTHORIZED, "Sign in to search.")
	}
	q, err := ParseQuery(sq.Q)
	if err != nil {
		return nil, err
	}
	if err := addParamFilters(&q, sq); err != nil {
		return nil, err
	}
	if len(q.Clauses) == 0 {
		return nil, docket.Errorf(docket.EINVALID, "Type something to search for.")
	}
	spaces, err := s.Spaces.FindSpaces(ctx)
	if err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(spaces))
	names := make(map[string]string, len(spaces))
	for _, sp := range spaces {
		ids = append(ids, sp.ID)
		names[sp.ID] = sp.Name
	}
	if err := s.resolveNames(ctx, &q, spaces); err != nil {
		return nil, err
	}
	q.ReadableSpaces = ids
	q.Sort, q.Limit, q.Offset = sq.Sort, sq.Limit, sq.Offset
	if q.Limit < 0 || q.Limit > MaxLimit {
		return nil, docket.Errorf(docket.EINVALID, "The limit must be between 1 and %d.", MaxLimit)
	}
	if q.Offset < 0 || q.Offset > MaxOffset {
		return nil, docket.Errorf(docket.EINVALID, "The offset must be between 0 and %d.", MaxOffset)
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout())
	defer cancel()
	res, err := s.Index.Search(ctx, q)
	if err != nil {
		return nil, err
	}
	out := &docket.SearchResult{
		Total:       int(res.Total),
		Hits:        make([]*docket.SearchHit, 0, len(res.Hits)),
		Facets:      make(map[string][]*docket.FacetCount, len(res.Facets)),
		TookMs:      float64(res.Took.Microseconds()) / 1000,
		Rebuilding:  s.Indexer != nil && s.Indexer.Rebuilding(),
		Approximate: res.Approximate,
	}
	for _, h := range res.Hits {
		frags := h.Fragments
		if frags == nil {
			frags = []string{}
		}
		out.Hits = append(out.Hits, &docket.SearchHit{
			Type: h.Type, ID: h.ID, DocID: h.DocID, Title: h.Title, ThreadID: h.ThreadID,
			Score: h.Score, Fragments: frags, URL: hitURL(h),
		})
	}
	users := map[string]string{}
	for name, fcs := range res.Facets {
		list := make([]*docket.FacetCount, 0, len(fcs))
		for _, fc := range fcs {
			c := &docket.FacetCount{Value: fc.Value, Count: fc.Count}
			switch name {
			case FacetSpace:
				c.Label = names[fc.Value]
			case FacetAuthor:
				c.Label = s.userName(ctx, users, fc.Value)
			}
			list = append(list, c)
		}
		out.Facets[name] = list
	}
	return out, nil
}

func (s *Service) timeout() time.Duration {
	if s.Timeout > 0 {
		return s.Timeout
	}
	return 5 * time.Second
}

// hitURL is the path of a hit in the web app: a comment's thread, the
// decision section of a decision's document, a frozen set of minutes.
func hitURL(h Hit) string {
	switch {
	case h.Type == TypeComment && h.ThreadID != "":
		return "/d/" + h.DocID + "#t-" + h.ThreadID
	case h.Type == TypeDecision:
		return "/d/" + h.DocID + "#decision"
	case h.Type == TypeMinutes:
		return "/d/" + h.DocID + "/minutes?record=" + h.ID
	}
	return "/d/" + h.DocID
}

// userName returns a user's display name, cached per search; the id if
// the user cannot be found.
func (s *Service) userName(ctx context.Context, cache map[string]string, id string) string {
	if name, ok := cache[id]; ok {
		return name
	}
	name := id
	if s.Users != nil && docket.ValidID(id) {
		if u, err := s.Users.FindUserByID(ctx, id); err == nil {
			name = u.Name
		}
	}
	cache[id] = name
	return name
}

// addParamFilters turns the filters given as query parameters into
// clauses, checked like the same filters typed in the query.
func addParamFilters(q *Query, sq docket.SearchQuery) error {
	add := func(field, v string) error {
		if v == "" {
			return nil
		}
		t, err := parseFilter(field, v)
		if err != nil {
			return err
		}
		q.Clauses = append(q.Clauses, Clause{Any: []Term{t}})
		return nil
	}
	for _, f := range []struct{ field, v string }{
		{"type", sq.Type}, {"space", sq.Space}, {"status", string(sq.Status)}, {"kind", string(sq.Kind)},
		{"author", sq.Author}, {"owner", sq.Owner}, {"tag", sq.Tag},
	} {
		if err := add(f.field, f.v); err != nil {
			return err
		}
	}
	if !sq.From.IsZero() {
		q.Clauses = append(q.Clauses, Clause{Any: []Term{{Field: "after", Text: sq.From.Format(time.DateOnly), Date: sq.From}}})
	}
	if !sq.To.IsZero() {
		q.Clauses = append(q.Clauses, Clause{Any: []Term{{Field: "before", Text: sq.To.Format(time.DateOnly), Date: sq.To}}})
	}
	if len(q.Clauses) > MaxClauses {
		return invalid("The query has too many terms: at most %d.", MaxClauses)
	}
	return nil
}

// resolveNames turns space slugs into space ids and people (me, an email)
// into user ids, as they are indexed. A space that is not readable, or a
// person who does not exist, matches nothing, without saying which.
func (s *Service) resolveNames(ctx context.Context, q *Query, spaces []*docket.Space) error {
	for ci := range q.Clauses {
		for ti := range q.Clauses[ci].Any {
			t := &q.Clauses[ci].Any[ti]
			switch t.Field {
			case "space":
				want := t.Text
				t.Text = noMatch
				for _, sp := range spaces {
					if sp.ID == want || strings.EqualFold(sp.Slug, want) {
						t.Text = sp.ID
						break
					}
				}
			case "author", "owner":
				id, err := s.userID(ctx, t.Text)
				if err != nil {
					return err
				}
				t.Text = id
			}
		}
	}
	return nil
}

// noMatch is a filter value that no item has.
const noMatch = "\x00none"

func (s *Service) userID(ctx context.Context, v string) (string, error) {
	if strings.EqualFold(v, "me") {
		return docket.UserIDFromContext(ctx), nil
	}
	if strings.Contains(v, "@") && s.Users != nil {
		u, err := s.Users.FindUserByEmail(ctx, v)
		if docket.ErrorCode(err) == docket.ENOTFOUND {
			return noMatch, nil
		} else if err != nil {
			return "", err
		}
		return u.ID, nil
	}
	if docket.ValidID(v) {
		return v, nil
	}
	return noMatch, nil
}

// Suggest implements [docket.SearchService].
func (s *Service) Suggest(ctx context.Context, prefix string, limit int) ([]*docket.TitleSuggestion, error) {
	if docket.UserFromContext(ctx) == nil {
		return nil, docket.Errorf(docket.EUNAUTHORIZED, "Sign in to search.")
	}
	if len(prefix) > MaxQueryLength {
		return nil, docket.Errorf(docket.EINVALID, "The text is too long: at most %d characters.", MaxQueryLength)
	}
	if limit < 0 || limit > MaxSuggestions {
		return nil, docket.Errorf(docket.EINVALID, "The limit must be between 1 and %d.", MaxSuggestions)
	}
	spaces, err := s.Spaces.FindSpaces(ctx)
	if err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(spaces))
	for _, sp := range spaces {
		ids = append(ids, sp.ID)
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout())
	defer cancel()
	sugs, err := s.Index.Suggest(ctx, prefix, ids, limit)
	if err != nil {
		return nil, err
	}
	out := make([]*docket.TitleSuggestion, 0, len(sugs))
	for _, sg := range sugs {
		out = append(out, &docket.TitleSuggestion{DocID: sg.DocID, Title: sg.Title, URL: "/d/" + sg.DocID})
	}
	return out, nil
}
