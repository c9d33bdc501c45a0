package server

import (
	"html/template"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	docket "github.com/docket-dev/docket"
	"github.com/docket-dev/docket/collab/ot"
	"github.com/labstack/echo/v4"
)

// historyPage is the data of a document's history: the replay of one
// version, a page of versions, newest first, and optionally the diff of
// two.
type historyPage struct {
	Doc        *docket.Document
	Rows       []historyRow
	Older      string // link to the previous page of versions
	Newer      string
	View       *versionView
	Source     bool // the replay shows the markdown with its change, not the rendered text
	Diff       *diffView
	From, To   int64 // the compare form's values
	Recordings []*docket.Recording
	MinVersion int64
	// PrevRecording and NextRecording are the nearest recording start or end
	// before and after the version shown, -1 if none.
	PrevRecording, NextRecording int64
	// Markers are the review rounds, approvals, last calls and decisions
	// on the slider; Approved is the version of the reader's last
	// approval, -1 if none.
	Markers  []historyMarker
	Approved int64
}

// historyRow is one version: the op that made it, by whom, when.
type historyRow struct {
	Version int64 // the version the op produced
	Prev    int64 // the version before it
	Author  string
	Time    time.Time
	Added   int // code points
	Removed int
}

// diffView is the line diff between two versions.
type diffView struct {
	From, To       int64
	Lines          []diffRow
	Added, Removed int
}

// diffRow is one line of a unified diff: kind is hunk, add, del or ctx.
type diffRow struct {
	Kind string
	Text string
}

const historyPageSize = 50

// pageDocMeta returns the metadata of the document of a page URL's :id,
// or ENOTFOUND.
func (s *Server) pageDocMeta(c echo.Context) (*docket.Document, error) {
	id, err := pageDocID(c)
	if err != nil {
		return nil, err
	}
	return s.svc.Documents.FindDocumentMeta(c.Request().Context(), id)
}

// handleHistoryPage serves GET /d/:id/history?v=&view=&before=&from=&to=:
// the replay of version v (the current one by default; view=source shows
// its markdown with the change that made it instead of the rendered text),
// the versions with author and time, paged newest first (before is the
// newest version of the page), and from and to the diff between two.
func (s *Server) handleHistoryPage(c echo.Context) error {
	ctx := c.Request().Context()
	doc, err := s.pageDocMeta(c)
	if err != nil {
		return err
	}
	version := func(name string, def int64) (int64, error) {
		v := c.QueryParam(name)
		if v == "" {
			return def, nil
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 || n > doc.Version {
			return 0, docket.Errorf(docket.EINVALID, "%s must be a version between 0 and %d.", name, doc.Version)
		}
		return n, nil
	}
	data := &historyPage{Doc: doc, To: doc.Version, From: max(doc.Version-1, 0)}
	newest, err := version("before", doc.Version)
	if err != nil {
		return err
	}
	// Versions newest-historyPageSize+1 .. newest, made by the ops at
	// versions from .. newest-1.
	from := max(newest-historyPageSize, 0)
	ops, err := s.svc.Documents.FindOps(ctx, doc.ID, from, newest, historyPageSize)
	if err != nil {
		return err
	}
	for i := len(ops) - 1; i >= 0; i-- {
		rec := ops[i]
		row := historyRow{Version: rec.Version + 1, Prev: rec.Version, Author: rec.Author, Time: rec.Time}
		var op ot.Op
		if op.UnmarshalJSON(rec.Op) == nil {
			for _, comp := range op {
				switch comp.Kind() {
				case ot.KindInsert:
					row.Added += comp.Len()
				case ot.KindDelete:
					row.Removed += comp.Len()
				}
			}
		}
		data.Rows = append(data.Rows, row)
	}
	if from > 0 {
		data.Older = "/d/" + doc.ID + "/history?before=" + strconv.FormatInt(from, 10)
	}
	if newest < doc.Version {
		data.Newer = "/d/" + doc.ID + "/history?before=" + strconv.FormatInt(min(newest+historyPageSize, doc.Version), 10)
	}
	v, err := version("v", doc.Version)
	if err != nil {
		return err
	}
	data.Source = c.QueryParam("view") == "source"
	if data.View, err = s.loadVersion(ctx, doc, v, !data.Source); err != nil {
		return err
	}
	if c.QueryParam("v") != "" {
		data.From, data.To = compareWith(v, doc.Version)
	}
	if c.QueryParam("from") != "" || c.QueryParam("to") != "" {
		if data.From, err = version("from", max(doc.Version-1, 0)); err != nil {
			return err
		}
		if data.To, err = version("to", doc.Version); err != nil {
			return err
		}
		a, err := s.svc.Documents.DocumentAt(ctx, doc.ID, data.From)
		if err != nil {
			return err
		}
		b, err := s.svc.Documents.DocumentAt(ctx, doc.ID, data.To)
		if err != nil {
			return err
		}
		d := diffTexts(a, b, "version "+strconv.FormatInt(data.From, 10), "version "+strconv.FormatInt(data.To, 10))
		dv := &diffView{From: data.From, To: data.To, Added: d.added, Removed: d.removed}
		var lines []string
		if d.unified != "" {
			// Without the --- and +++ header.
			lines = strings.Split(strings.TrimSuffix(d.unified, "\n"), "\n")[2:]
		}
		for _, l := range lines {
			row := diffRow{Kind: "ctx", Text: l}
			switch {
			case strings.HasPrefix(l, "@@"):
				row.Kind = "hunk"
			case strings.HasPrefix(l, "+"):
				row.Kind, row.Text = "add", l[1:]
			case strings.HasPrefix(l, "-"):
				row.Kind, row.Text = "del", l[1:]
			case strings.HasPrefix(l, " "):
				row.Text = l[1:]
			}
			dv.Lines = append(dv.Lines, row)
		}
		data.Diff = dv
	}
	data.PrevRecording, data.NextRecording = -1, -1
	if data.Recordings, err = s.svc.Recordings.FindRecordings(ctx, doc.ID); err != nil {
		return err
	}
	for _, r := range data.Recordings {
		for _, b := range []int64{r.StartVersion, r.EndVersion} {
			if b < v && b > data.PrevRecording {
				data.PrevRecording = b
			}
			if b > v && b <= doc.Version && (data.NextRecording < 0 || b < data.NextRecording) {
				data.NextRecording = b
			}
		}
	}
	if data.Markers, data.Approved, err = s.historyMarkers(ctx, doc); err != nil {
		return err
	}
	p := s.newPage(c, "History of "+doc.Title)
	if members, err := s.svc.Spaces.FindMembers(ctx, doc.SpaceID); err == nil {
		p.noteNames(members)
	}
	p.Data = data
	return s.render(c, http.StatusOK, "history", p)
}

// minutesPage is the data of a document's minutes.
type minutesPage struct {
	Doc      *docket.Document
	HTML     template.HTML
	Records  []*docket.MinutesRecord
	Record   string // the frozen set shown, "" for compiled minutes
	Live     bool
	Markdown string
}

// handleMinutesPage serves GET /d/:id/minutes?record=&live=: the minutes
// rendered (those frozen at the decision, for a decided document), and
// the list of frozen sets.
func (s *Server) handleMinutesPage(c echo.Context) error {
	ctx := c.Request().Context()
	doc, err := s.pageDocMeta(c)
	if err != nil {
		return err
	}
	id := doc.ID
	data := &minutesPage{Doc: doc, Live: c.QueryParam("live") == "1"}
	md, record, err := s.minutesMarkdown(ctx, id, c.QueryParam("record"), data.Live)
	if err != nil {
		return err
	}
	html, err := s.renderMarkdown(ctx, md)
	if err != nil {
		return err
	}
	p := s.newPage(c, "Minutes of "+doc.Title)
	data.HTML, data.Record, data.Markdown = template.HTML(localTimes(html, p)), record, md
	if data.Records, err = s.svc.Minutes.FindMinutesRecords(ctx, id); err != nil {
		return err
	}
	p.Data = data
	return s.render(c, http.StatusOK, "minutes", p)
}

// compareWith is what the compare form offers while version v is
// replayed: v against the current version, or, at the current version,
// the change that made it. frontend/src/history.ts does the same as the
// slider moves.
func compareWith(v, latest int64) (from, to int64) {
	if v < latest {
		return v, latest
	}
	return max(v-1, 0), v
}

// minutesInstant is a time as the minutes write it for people
// (docket.MinutesTimeLayout: 6 Dec 2026, 14:02 UTC).
var minutesInstant = regexp.MustCompile(`\b\d{1,2} [A-Z][a-z]{2} \d{4}, \d{2}:\d{2} UTC\b`)

// localTimes shows the instants in the text of sanitised minutes HTML
// as the page's <time> elements in the reader's zone (the markdown, the
// record kept, stays in UTC). Only text between tags is changed, never
// an attribute.
func localTimes(h string, p *page) string {
	var b strings.Builder
	for h != "" {
		lt := strings.IndexByte(h, '<')
		if lt < 0 {
			lt = len(h)
		}
		b.WriteString(minutesInstant.ReplaceAllStringFunc(h[:lt], func(m string) string {
			t, err := time.Parse(docket.MinutesTimeLayout, m)
			if err != nil {
				return m
			}
			return string(p.When(t))
		}))
		h = h[lt:]
		gt := strings.IndexByte(h, '>')
		if gt < 0 {
			b.WriteString(h)
			break
		}
		b.WriteString(h[:gt+1])
		h = h[gt+1:]
	}
	return b.String()
}
