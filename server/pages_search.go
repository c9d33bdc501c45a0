package server

import (
	"html"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	docket "github.com/docket-dev/docket"
	"github.com/labstack/echo/v4"
)

// searchParams are the query parameters the search page keeps in its
// links, in this order.
var searchParams = []string{"q", "type", "space", "status", "kind", "author", "owner", "tag", "from", "to", "sort"}

// searchFacets are the facets shown, with their headings.
var searchFacets = []struct{ Name, Label string }{
	{"type", "Type"}, {"space", "Space"}, {"status", "Status"}, {"kind", "Kind"}, {"tag", "Tag"}, {"author", "Author"},
}

// searchPage is the data of the search page.
type searchPage struct {
	Q          string
	Searched   bool
	Total      int
	TookMs     float64
	Rebuilding bool
	Hits       []searchHit
	Facets     []facetGroup
	Active     []facetLink // filters in effect, with links that remove them
	Sort       string
	SortURL    string // the link to the other order
	Error      string
	Offset     int
	Prev, Next string

	// Approximate: a phrase had too many candidates to check them all.
	Approximate bool
}

// searchHit is a hit as the page shows it.
type searchHit struct {
	Type      string
	Label     string // what the hit is: Document, Comment, Decision, Minutes
	Title     string
	URL       string
	Fragments []template.HTML
}

// facetGroup is one facet with its values as filter links.
type facetGroup struct {
	Name, Label string
	Values      []facetLink
}

// facetLink is a filter value: following URL applies it, or removes it
// when it is Active.
type facetLink struct {
	Name   string
	Value  string
	Label  string
	Count  int
	URL    string
	Active bool
}

const searchPageSize = 20

// handleSearchPage serves GET /search?q=&type=&space=&...: results with
// highlighted snippets and facets as filter links.
func (s *Server) handleSearchPage(c echo.Context) error {
	p := s.newPage(c, "Search")
	vals := url.Values{}
	for _, k := range searchParams {
		if v := strings.TrimSpace(c.QueryParam(k)); v != "" && len(v) <= 1024 {
			vals.Set(k, v)
		}
	}
	data := &searchPage{Q: vals.Get("q"), Sort: vals.Get("sort")}
	p.Query = data.Q
	if data.Q != "" {
		p.Title = data.Q + " · Search"
	}
	p.Data = data
	if n, err := strconv.Atoi(c.QueryParam("offset")); err == nil && n > 0 && n <= maxSearchOffset {
		data.Offset = n
	}
	filtered := false
	for _, k := range searchParams[1:] {
		filtered = filtered || (k != "sort" && vals.Get(k) != "")
	}
	if data.Q == "" && !filtered {
		return s.render(c, http.StatusOK, "search", p)
	}
	data.Searched = true
	q := docket.SearchQuery{
		Q: data.Q, Type: vals.Get("type"), Space: vals.Get("space"), Status: docket.Status(vals.Get("status")),
		Kind: docket.Kind(vals.Get("kind")), Author: vals.Get("author"), Owner: vals.Get("owner"), Tag: vals.Get("tag"),
		Sort: data.Sort, Limit: searchPageSize, Offset: data.Offset,
	}
	var err error
	if q.From, err = dateValue(vals.Get("from"), "from"); err == nil {
		q.To, err = dateValue(vals.Get("to"), "to")
	}
	if err == nil && q.Sort != "" && q.Sort != "relevance" && q.Sort != "date" {
		err = docket.Errorf(docket.EINVALID, "Sort by relevance or date.")
	}
	var res *docket.SearchResult
	if err == nil {
		res, err = s.svc.Search.Search(c.Request().Context(), q)
	}
	if err != nil {
		e, status := translate(err)
		if status >= 500 && status != http.StatusServiceUnavailable {
			return err
		}
		data.Error = e.Message
		return s.render(c, status, "search", p)
	}
	data.Total, data.TookMs, data.Rebuilding, data.Approximate = res.Total, res.TookMs, res.Rebuilding, res.Approximate
	for _, h := range res.Hits {
		hv := searchHit{Type: h.Type, Label: hitLabels[h.Type], Title: h.Title, URL: localURL(h.URL)}
		if hv.Label == "" {
			hv.Label = "Document"
		}
		for _, f := range h.Fragments {
			hv.Fragments = append(hv.Fragments, safeFragment(f))
		}
		data.Hits = append(data.Hits, hv)
	}
	link := func(set url.Values) string {
		set.Del("offset")
		return "/search?" + encodeOrdered(set)
	}
	labels := map[string]map[string]string{}
	for _, f := range searchFacets {
		g := facetGroup{Name: f.Name, Label: f.Label}
		labels[f.Name] = map[string]string{}
		for _, fc := range res.Facets[f.Name] {
			label := fc.Label
			if label == "" {
				label = facetValueLabel(f.Name, fc.Value)
			}
			labels[f.Name][fc.Value] = label
			next := cloneValues(vals)
			active := vals.Get(f.Name) == fc.Value
			if active {
				next.Del(f.Name)
			} else {
				next.Set(f.Name, fc.Value)
			}
			g.Values = append(g.Values, facetLink{Name: f.Name, Label: label, Count: fc.Count, URL: link(next), Active: active})
		}
		if len(g.Values) > 0 {
			data.Facets = append(data.Facets, g)
		}
	}
	for _, k := range searchParams[1:] {
		v := vals.Get(k)
		if v == "" || k == "sort" {
			continue
		}
		label := labels[k][v]
		if label == "" {
			label = facetValueLabel(k, v)
		}
		next := cloneValues(vals)
		next.Del(k)
		data.Active = append(data.Active, facetLink{Name: k, Value: v, Label: label, URL: link(next), Active: true})
	}
	other := cloneValues(vals)
	if data.Sort == "date" {
		other.Del("sort")
	} else {
		other.Set("sort", "date")
	}
	data.SortURL = link(other)
	page := func(offset int) string {
		next := cloneValues(vals)
		if offset > 0 {
			next.Set("offset", strconv.Itoa(offset))
		}
		return "/search?" + encodeOrdered(next)
	}
	if data.Offset > 0 {
		data.Prev = page(max(data.Offset-searchPageSize, 0))
	}
	if data.Offset+len(res.Hits) < res.Total && data.Offset+searchPageSize <= maxSearchOffset {
		data.Next = page(data.Offset + searchPageSize)
	}
	return s.render(c, http.StatusOK, "search", p)
}

// hitLabels name the types of hits.
var hitLabels = map[string]string{"document": "Document", "comment": "Comment", "decision": "Decision", "minutes": "Minutes"}

// dateValue parses an optional date filter (YYYY-MM-DD or RFC 3339).
func dateValue(v, name string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	for _, layout := range []string{time.DateOnly, time.RFC3339} {
		if t, err := time.Parse(layout, v); err == nil && t.Year() >= 1900 && t.Year() <= 2200 {
			return t.UTC(), nil
		}
	}
	return time.Time{}, docket.Errorf(docket.EINVALID, "The %s date must be written YYYY-MM-DD.", name)
}

// facetValueLabel names a facet value that came without a label.
func facetValueLabel(facet, v string) string {
	switch facet {
	case "status":
		return statusLabel(docket.Status(v))
	case "kind":
		return kindLabel(docket.Kind(v))
	case "type":
		return capitalize(v)
	}
	return v
}

func cloneValues(v url.Values) url.Values {
	out := make(url.Values, len(v))
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

// encodeOrdered encodes the search parameters in a stable order.
func encodeOrdered(v url.Values) string {
	var b strings.Builder
	for _, k := range append(searchParams, "offset") {
		if x := v.Get(k); x != "" {
			if b.Len() > 0 {
				b.WriteByte('&')
			}
			b.WriteString(url.QueryEscape(k) + "=" + url.QueryEscape(x))
		}
	}
	return b.String()
}

// safeFragment returns a search fragment as HTML if it is what the
// search service promises, escaped text with matches in <mark> and
// nothing else; anything else is shown as plain text (its marks and
// entities are then visible, but it cannot add markup).
func safeFragment(f string) template.HTML {
	if fragmentIsSafe(f) {
		return template.HTML(f)
	}
	return template.HTML(html.EscapeString(f))
}

// fragmentEntities are the character references html.EscapeString and
// the highlighter write.
var fragmentEntities = []string{"&amp;", "&lt;", "&gt;", "&quot;", "&#34;", "&#39;", "&apos;"}

// fragmentIsSafe reports whether f holds nothing but escaped text and
// balanced, unnested <mark></mark> pairs.
func fragmentIsSafe(f string) bool {
	open := false
	for i := 0; i < len(f); {
		switch f[i] {
		case '<':
			switch {
			case !open && strings.HasPrefix(f[i:], "<mark>"):
				open = true
				i += len("<mark>")
			case open && strings.HasPrefix(f[i:], "</mark>"):
				open = false
				i += len("</mark>")
			default:
				return false
			}
		case '&':
			ok := false
			for _, e := range fragmentEntities {
				if strings.HasPrefix(f[i:], e) {
					ok = true
					i += len(e)
					break
				}
			}
			if !ok {
				return false
			}
		case '>', '"', '\'', 0:
			return false
		default:
			i++
		}
	}
	return !open
}
