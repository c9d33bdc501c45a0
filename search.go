package docket

import (
	"context"
	"time"
)

// SearchQuery is a full-text search as a caller asks for it: Docket's
// query syntax in Q (words, "phrases", -excluded, OR, field filters such
// as status:review or space:eng) plus filters given apart, as the query
// parameters of GET /api/search are.
type SearchQuery struct {
	Q      string
	Type   string // document, comment, decision or minutes
	Space  string // id or slug
	Status Status
	Kind   Kind
	Author string // user id, email, or "me"
	Owner  string // user id, email, or "me"
	Tag    string
	From   time.Time // changed on or after
	To     time.Time // changed before
	Sort   string    // relevance (default) or date
	Limit  int
	Offset int
}

// SearchResult is one page of hits.
type SearchResult struct {
	Total  int                      `json:"total"`
	Hits   []*SearchHit             `json:"hits"`
	Facets map[string][]*FacetCount `json:"facets"`
	TookMs float64                  `json:"tookMs"`
	// Rebuilding is set while the index is being rebuilt from storage:
	// the results may be incomplete.
	Rebuilding bool `json:"rebuilding,omitempty"`
	// Approximate is set when a phrase had too many candidates to check
	// them all: total and facets count the matches found among those
	// checked, and there may be more.
	Approximate bool `json:"approximate,omitempty"`
}

// SearchHit is a matching document, comment, decision or set of minutes.
// Fragments are HTML-escaped text with the matches wrapped in <mark>.
type SearchHit struct {
	Type string `json:"type"` // document, comment, decision or minutes
	// ID is the id of the document, the comment or the minutes record; a
	// decision has its document's id (one decision per document).
	ID        string   `json:"id"`
	DocID     string   `json:"docId"`
	Title     string   `json:"title"`
	ThreadID  string   `json:"threadId,omitempty"`
	Score     float64  `json:"score"`
	Fragments []string `json:"fragments"`
	URL       string   `json:"url"`
}

// FacetCount is how many hits share a value, with a label to show (a
// space's name for a space id, a person's name for a user id).
type FacetCount struct {
	Value string `json:"value"`
	Label string `json:"label,omitempty"`
	Count int    `json:"count"`
}

// TitleSuggestion is a document title completing what the caller typed.
type TitleSuggestion struct {
	DocID string `json:"docId"`
	Title string `json:"title"`
	URL   string `json:"url"`
}

// SearchService finds documents, comments, decisions and minutes. Only what the caller may
// read is considered, so hits, totals, facets, fragments and suggestions
// never reveal anything else.
type SearchService interface {
	// Search runs a query. Returns EINVALID for a malformed query (with a
	// message saying what is wrong), EUNAVAILABLE when it timed out.
	Search(ctx context.Context, q SearchQuery) (*SearchResult, error)

	// Suggest completes document titles starting with prefix.
	Suggest(ctx context.Context, prefix string, limit int) ([]*TitleSuggestion, error)
}
