package server

import (
	"cmp"
	"context"
	"html/template"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	docket "github.com/docket-dev/docket"
	"github.com/labstack/echo/v4"
)

// sinceVisit is what changed in a document since the reader's last visit:
// the edits of others, who made them and when, and the threads and
// replies others wrote since. The reader's own edits and comments are
// left out.
type sinceVisit struct {
	Visit    *docket.Visit
	Lines    int       // lines changed between the version seen and now, when others edited
	Authors  []string  // user ids of the others who edited, most edits first
	Names    string    // "Ada and Bo"
	LastEdit time.Time // the last edit by others
	DiffURL  string
	Threads  []*sinceThread // new threads, or threads with new replies
}

// sinceThread is a thread with what is new in it.
type sinceThread struct {
	ID      string
	Label   string // the quote or the start of the first comment
	New     bool   // started since the visit
	Replies int    // replies by others since the visit
}

// Any reports whether there is something to tell.
func (s *sinceVisit) Any() bool { return s.Lines > 0 || len(s.Threads) > 0 }

// maxSinceOps bounds the op log read to find who edited since a visit;
// the authors of older edits are not named.
const maxSinceOps = 20_000

// changesSince works out what changed in doc since the caller's visit
// prev, given the threads of the page.
func (s *Server) changesSince(ctx context.Context, doc *docket.Document, prev *docket.Visit, threads []*threadView, p *page) (*sinceVisit, error) {
	me := p.User.ID
	out := &sinceVisit{Visit: prev}
	if prev.Version < doc.Version {
		from := max(prev.Version, doc.Version-maxSinceOps)
		ops, err := docket.FindAllOps(ctx, s.svc.Documents, doc.ID, from, doc.Version)
		if err != nil {
			return nil, err
		}
		counts := map[string]int{}
		for _, rec := range ops {
			if rec.Author != me {
				counts[rec.Author]++
				out.LastEdit = rec.Time
			}
		}
		for id := range counts {
			out.Authors = append(out.Authors, id)
		}
		slices.SortFunc(out.Authors, func(a, b string) int {
			return cmp.Or(cmp.Compare(counts[b], counts[a]), cmp.Compare(p.Name(a), p.Name(b)))
		})
		names := make([]string, 0, 4)
		for i, id := range out.Authors {
			if i == 3 && len(out.Authors) > 4 {
				names = append(names, strconv.Itoa(len(out.Authors)-3)+" others")
				break
			}
			names = append(names, p.Name(id))
		}
		out.Names = joinNames(names)
		if from > prev.Version && out.Names == "" {
			out.Names = "others"
		}
		if out.Names != "" {
			if out.Lines, err = s.linesSince(ctx, doc, prev.Version); err != nil {
				return nil, err
			}
		}
		if out.Lines > 0 {
			out.DiffURL = "/d/" + doc.ID + "/history?from=" + strconv.FormatInt(prev.Version, 10) + "&to=" + strconv.FormatInt(doc.Version, 10) + "#diff-h"
		}
	}
	for _, th := range threads {
		st := &sinceThread{ID: th.ID, New: th.CreatedAt.After(prev.At) && th.AuthorID != me}
		for i, cm := range th.Comments {
			if i > 0 && cm.CreatedAt.After(prev.At) && cm.AuthorID != me && !cm.Deleted {
				st.Replies++
			}
		}
		if !st.New && st.Replies == 0 {
			continue
		}
		switch {
		case th.Anchor != nil && th.Anchor.Quote != "":
			st.Label = "“" + shorten(th.Anchor.Quote, 60) + "”"
		case len(th.Comments) > 0:
			st.Label = shorten(th.Comments[0].Body, 60)
		default:
			st.Label = "A thread"
		}
		out.Threads = append(out.Threads, st)
	}
	return out, nil
}

// editedSince maps earlier versions of a document to the lines that
// differ between them and the text now.
type editedSince map[int64]int

// Lines says how much changed since version v: "1 line changed".
func (e editedSince) Lines(v int64) string {
	switch n := e[v]; n {
	case 0:
		return "no line differs"
	case 1:
		return "1 line changed"
	default:
		return strconv.Itoa(n) + " lines changed"
	}
}

// editedSince counts the changed lines since the versions the document
// page shows as passed: the decision's when the text was edited after
// it, and stale approvals' while in review.
func (s *Server) editedSince(ctx context.Context, doc *docket.Document, inReview bool) (editedSince, error) {
	var versions []int64
	if doc.Amended && doc.Decision != nil {
		versions = append(versions, doc.Decision.Version)
	}
	if inReview {
		for _, r := range doc.Reviewers {
			if r.Stale {
				versions = append(versions, r.Version)
			}
		}
	}
	out := editedSince{}
	for _, v := range versions {
		if _, ok := out[v]; ok || v >= doc.Version {
			continue
		}
		n, err := s.linesSince(ctx, doc, v)
		if err != nil {
			return nil, err
		}
		out[v] = n
	}
	return out, nil
}

// linesSince counts the lines that differ between version v of doc and
// its text now: what a person sees changed, not the keystrokes. (A last
// line without its newline is the same line.)
func (s *Server) linesSince(ctx context.Context, doc *docket.Document, v int64) (int, error) {
	then, err := s.svc.Documents.DocumentAt(ctx, doc.ID, v)
	if err != nil {
		return 0, err
	}
	d := diffTexts(withNewline(then), withNewline(doc.Body), "", "")
	return max(d.added, d.removed), nil
}

// Ago formats t as a <time> element saying how long ago it was: "just
// now", "12 minutes ago", "3 hours ago", else the day and time.
func (p *page) Ago(t time.Time) template.HTML {
	d := p.s.cfg.Now().Sub(t)
	var text string
	switch {
	case d < time.Minute:
		text = "just now"
	case d < time.Hour:
		text = docket.Plural(int(d/time.Minute), "minute") + " ago"
	case d < 24*time.Hour:
		text = docket.Plural(int(d/time.Hour), "hour") + " ago"
	default:
		return p.timeTag(t, "on 2 Jan 2006, 15:04", "")
	}
	return p.timeText(t, text, "")
}

// withNewline returns text ending with a newline unless it is empty.
func withNewline(text string) string {
	if text == "" || strings.HasSuffix(text, "\n") {
		return text
	}
	return text + "\n"
}

// joinNames joins names as "Ada", "Ada and Bo", "Ada, Bo and Cy".
func joinNames(names []string) string {
	switch len(names) {
	case 0:
		return ""
	case 1:
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}

// shorten cuts s to at most n code points on one line, with an ellipsis.
func shorten(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return strings.TrimSpace(string(r[:n-1])) + "…"
}

// docWithVisit is a document as GET /api/docs/:id answers it: with the
// caller's last visit.
type docWithVisit struct {
	*docket.Document
	LastVisit *docket.Visit `json:"lastVisit"`
}

type visitRequest struct {
	Version *int64 `json:"version"`
}

// handleVisitPost serves POST /api/docs/:id/visit {version?}: records
// that the caller has seen the document at version (the current one by
// default) and answers the visit before, so a client can say what changed.
func (s *Server) handleVisitPost(c echo.Context) error {
	ctx := c.Request().Context()
	var req visitRequest
	if c.Request().ContentLength != 0 {
		if err := decode(c, &req); err != nil {
			return err
		}
	}
	doc, err := s.svc.Documents.FindDocumentMeta(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	v := doc.Version
	if req.Version != nil {
		v = *req.Version
	}
	prev, err := s.svc.Visits.RecordVisit(ctx, doc.ID, v)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"version": v, "previous": prev})
}
