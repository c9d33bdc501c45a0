package server

import (
	"context"
	"encoding/json"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	docket "github.com/docket-dev/docket"
	"github.com/labstack/echo/v4"
)

// Marker kinds: the moments of the decision process on the history's
// time slider.
const (
	markerReview   = "review"    // a review round started
	markerApproval = "approval"  // a reviewer approved
	markerLastCall = "last-call" // the last call started
	markerDecision = "decision"  // an outcome was recorded
)

// historyMarker is one moment of the decision process, at the version
// the document had then.
type historyMarker struct {
	Version int64     `json:"version"`
	Kind    string    `json:"kind"`
	Label   string    `json:"label"` // "Review round 2", "Approval", "Last call", "Accepted"
	Time    time.Time `json:"time"`
	By      string    `json:"by,omitempty"` // user id
}

// historyMarkers lists the review rounds, approvals, last calls and
// decisions of doc, oldest first, each at the version the document had
// then: reviews and the standing decision name their version; a
// transition is placed after the last op made at or before its time.
// approved is the caller's last approval's version, -1 if none.
func (s *Server) historyMarkers(ctx context.Context, doc *docket.Document) (markers []historyMarker, approved int64, err error) {
	approved = -1
	reviews, err := s.svc.Decisions.FindReviews(ctx, doc.ID)
	if err != nil {
		return nil, -1, err
	}
	me := docket.UserIDFromContext(ctx)
	for _, rv := range reviews {
		if rv.Verdict != docket.VerdictApprove {
			continue
		}
		markers = append(markers, historyMarker{Version: rv.Version, Kind: markerApproval, Label: "Approval", Time: rv.CreatedAt, By: rv.AuthorID})
		if me != "" && rv.AuthorID == me {
			approved = rv.Version
		}
	}

	transitions, err := s.docTransitions(ctx, doc.ID)
	if err != nil {
		return nil, -1, err
	}
	at := &versionClock{ctx: ctx, docs: s.svc.Documents, doc: doc, times: map[int64]time.Time{}}
	rounds := 0
	for _, ev := range transitions {
		var data struct {
			From  docket.Status `json:"from"`
			To    docket.Status `json:"to"`
			Amend bool          `json:"amend"`
			Round int           `json:"round"` // absent from events before rounds
		}
		if json.Unmarshal(ev.Data, &data) != nil {
			continue
		}
		m := historyMarker{Time: ev.Time, By: ev.ActorID}
		switch {
		case data.To == docket.StatusReview && data.From == docket.StatusLastCall:
			m.Kind, m.Label = markerReview, "Back to review"
		case data.To == docket.StatusReview:
			rounds++
			if data.Round > 0 {
				rounds = data.Round
			}
			m.Kind, m.Label = markerReview, "Review round "+strconv.Itoa(rounds)
			if data.Amend {
				m.Label = "Amended: review round " + strconv.Itoa(rounds)
			}
		case data.To == docket.StatusLastCall:
			m.Kind, m.Label = markerLastCall, "Last call"
		case data.To.Outcome():
			m.Kind, m.Label = markerDecision, strings.ToUpper(string(data.To[:1]))+string(data.To[1:])
		default:
			continue
		}
		if m.Version, err = at.versionAt(ev.Time); err != nil {
			return nil, -1, err
		}
		markers = append(markers, m)
	}
	// The standing decision names its version.
	if d := doc.Decision; d != nil {
		for i := len(markers) - 1; i >= 0; i-- {
			if markers[i].Kind == markerDecision {
				markers[i].Version = min(d.Version, doc.Version)
				break
			}
		}
	}
	sort.SliceStable(markers, func(i, j int) bool { return markers[i].Time.Before(markers[j].Time) })
	return markers, approved, nil
}

// docTransitions reads the transition events of a document, oldest first.
func (s *Server) docTransitions(ctx context.Context, docID string) ([]*docket.Event, error) {
	var out []*docket.Event
	var before int64
	for {
		page, err := s.svc.Events.FindEvents(ctx, docket.EventFilter{DocID: docID, Before: before, Limit: docket.MaxEventsPage})
		if err != nil {
			return nil, err
		}
		for _, ev := range page {
			if ev.Type == docket.EventDocTransitioned {
				out = append(out, ev)
			}
			before = ev.Seq
		}
		if len(page) < docket.MaxEventsPage || before <= 1 {
			break
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Seq < out[j].Seq })
	return out, nil
}

// versionClock finds the version a document had at a time, from the
// times of its ops, by bisection; each op read is remembered.
type versionClock struct {
	ctx   context.Context
	docs  docket.DocumentService
	doc   *docket.Document
	times map[int64]time.Time // op version -> time
}

// versionAt returns the number of ops made at or before t: the version
// the document had then.
func (c *versionClock) versionAt(t time.Time) (int64, error) {
	lo, hi := int64(0), c.doc.Version // the answer is in [lo, hi]
	for lo < hi {
		mid := lo + (hi-lo)/2 // op mid makes version mid+1
		at, ok := c.times[mid]
		if !ok {
			ops, err := c.docs.FindOps(c.ctx, c.doc.ID, mid, mid+1, 1)
			if err != nil {
				return 0, err
			}
			if len(ops) == 0 {
				return mid, nil
			}
			at = ops[0].Time
			c.times[mid] = at
		}
		if at.After(t) {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return lo, nil
}

// handleDocMarkers serves GET /api/docs/:id/markers: the moments of the
// decision process on the history's slider, and the version of the
// caller's last approval (absent if none).
func (s *Server) handleDocMarkers(c echo.Context) error {
	ctx := c.Request().Context()
	id, err := idParam(c, "Document")
	if err != nil {
		return err
	}
	doc, err := s.svc.Documents.FindDocumentMeta(ctx, id)
	if err != nil {
		return err
	}
	markers, approved, err := s.historyMarkers(ctx, doc)
	if err != nil {
		return err
	}
	if markers == nil {
		markers = []historyMarker{}
	}
	out := map[string]any{"markers": markers, "version": doc.Version}
	if approved >= 0 {
		out["approvedVersion"] = approved
	}
	return c.JSON(http.StatusOK, out)
}
