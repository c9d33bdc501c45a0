package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	docket "github.com/docket-dev/docket"
	"github.com/labstack/echo/v4"
)

// Event stream timing.
const (
	// streamTick is how often an open stream looks at its schedule.
	streamTick = time.Second
	// streamHeartbeat is how often an idle stream sends a comment, so
	// that proxies and the browser keep it open.
	streamHeartbeat = 25 * time.Second
	// streamFullRecheck is how often a stream rechecks its reader's
	// access when nothing suggests it changed (expiries).
	streamFullRecheck = time.Minute
	// streamWriteTimeout bounds each write to a stream.
	streamWriteTimeout = 10 * time.Second
	// streamRetry is the reconnection delay the browser is told.
	streamRetry = 2 * time.Second
	// defaultMaxEventStreams is the per-user cap of open streams.
	defaultMaxEventStreams = 8
)

// streamHub wakes the open event streams of a document when one of its
// events commits, counts streams per user, and ends them all on
// shutdown.
type streamHub struct {
	max int

	mu      sync.Mutex
	docs    map[string]map[*eventSub]struct{}
	perUser map[string]int
	closed  bool
	done    chan struct{} // closed by close
}

// eventSub is one open stream.
type eventSub struct {
	docID, userID string
	wake          chan struct{} // capacity 1: "there may be new events"
}

func newStreamHub(max int) *streamHub {
	if max <= 0 {
		max = defaultMaxEventStreams
	}
	return &streamHub{max: max, docs: map[string]map[*eventSub]struct{}{}, perUser: map[string]int{}, done: make(chan struct{})}
}

// add opens a stream of a document's events for a user: ERATELIMIT when
// the user has the most streams open already, EUNAVAILABLE while the
// server shuts down.
func (h *streamHub) add(userID, docID string) (*eventSub, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, docket.Errorf(docket.EUNAVAILABLE, "The server is shutting down; try again in a moment.")
	}
	if h.perUser[userID] >= h.max {
		return nil, docket.Errorf(docket.ERATELIMIT, "You have %d event streams open; close a document page first.", h.max)
	}
	sub := &eventSub{docID: docID, userID: userID, wake: make(chan struct{}, 1)}
	h.perUser[userID]++
	if h.docs[docID] == nil {
		h.docs[docID] = map[*eventSub]struct{}{}
	}
	h.docs[docID][sub] = struct{}{}
	return sub, nil
}

func (h *streamHub) remove(sub *eventSub) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if n := h.perUser[sub.userID] - 1; n > 0 {
		h.perUser[sub.userID] = n
	} else {
		delete(h.perUser, sub.userID)
	}
	if m := h.docs[sub.docID]; m != nil {
		delete(m, sub)
		if len(m) == 0 {
			delete(h.docs, sub.docID)
		}
	}
}

// notify wakes the streams of the event's document. It is called after
// the event's transaction commits and never blocks.
func (h *streamHub) notify(ev docket.Event) {
	if ev.DocID == "" {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for sub := range h.docs[ev.DocID] {
		select {
		case sub.wake <- struct{}{}:
		default: // already woken
		}
	}
}

// count returns the number of open streams.
func (h *streamHub) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, m := range h.docs {
		n += len(m)
	}
	return n
}

// close ends every stream and refuses new ones.
func (h *streamHub) close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.closed {
		h.closed = true
		close(h.done)
	}
}

// CloseStreams ends every open event stream and refuses new ones. The
// http.Server of HTTPServer calls it when Shutdown starts (a stream never
// goes idle by itself, so Shutdown would otherwise wait for its timeout);
// browsers reconnect with Last-Event-ID to the next server.
func (s *Server) CloseStreams() { s.streams.close() }

// EventStreams returns the number of open document event streams.
func (s *Server) EventStreams() int { return s.streams.count() }

// handleDocEventStream serves GET /api/docs/:id/events/stream: the
// document's events as server-sent events (text/event-stream), each as
// one message with the event's JSON and its seq as the id, sent as they
// commit. It starts after the seq in the Last-Event-ID header (the
// browser's reconnection) or the after parameter, else at the newest
// event, and replays what was missed from the event log first, so a
// reconnecting reader sees every event once. Access is checked when the
// stream opens (404 for an unreadable document, 429 past the per-user
// cap, 403 from a page of another origin) and again when access may
// have been revoked: a reader who lost the
// document gets an "revoked" event and the stream ends.
func (s *Server) handleDocEventStream(c echo.Context) error {
	// A page of another origin cannot read the stream (no CORS), but
	// could hold the reader's streams open against the per-user cap.
	user, err := s.sameOriginUser(c.Request(), "event stream")
	if err != nil {
		return err
	}
	req := c.Request()
	ctx := req.Context()
	id := c.Param("id")
	if !docket.ValidID(id) {
		return docket.Errorf(docket.ENOTFOUND, "Document not found.")
	}
	after, cursor, err := streamCursor(req)
	if err != nil {
		return err
	}
	// Register before the first read: an event that commits from here on
	// wakes the stream, so none falls between the replay and the wait.
	sub, err := s.streams.add(user.ID, id)
	if err != nil {
		return err
	}
	defer s.streams.remove(sub)
	if !cursor {
		newest, err := s.svc.Events.FindEvents(ctx, docket.EventFilter{DocID: id, Limit: 1})
		if err != nil {
			return err
		}
		if len(newest) > 0 {
			after = newest[0].Seq
		}
	}
	// The first read checks access before anything is sent: an
	// unreadable document is a plain 404.
	pending, err := s.svc.Events.FindEvents(ctx, docket.EventFilter{DocID: id, After: after, Limit: docket.MaxEventsPage})
	if err != nil {
		return err
	}

	w := &sseWriter{rc: http.NewResponseController(c.Response()), res: c.Response()}
	// The server's read timeout would end the request (and cancel its
	// context) while the stream is open; the write deadline is set per
	// write instead.
	w.rc.SetReadDeadline(time.Time{})
	h := c.Response().Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no") // nginx: do not buffer
	c.Response().WriteHeader(http.StatusOK)
	fmt.Fprintf(&w.buf, "retry: %d\n\n", streamRetry.Milliseconds())

	credentials := s.credentialCheck(c)
	epoch := s.authEpoch.Load()
	members := s.memberPrint(ctx, id)
	now := time.Now()
	lastCheck, lastWrite, lastRead := now, now, now
	tick := time.NewTicker(streamTick)
	defer tick.Stop()
	for {
		for len(pending) > 0 {
			for _, ev := range pending {
				w.event(ev)
				after = ev.Seq
			}
			if len(pending) < docket.MaxEventsPage {
				break
			}
			if pending, err = s.svc.Events.FindEvents(ctx, docket.EventFilter{DocID: id, After: after, Limit: docket.MaxEventsPage}); err != nil {
				break
			}
		}
		pending = nil
		if err != nil {
			if docket.ErrorCode(err) == docket.ENOTFOUND || docket.ErrorCode(err) == docket.EUNAUTHORIZED {
				w.buf.WriteString("event: revoked\ndata: {}\n\n")
				w.flush()
				return nil
			}
			if ctx.Err() == nil {
				s.log.Warn("event stream read failed", "doc", id, "err", err)
			}
			return nil // the browser reconnects and resumes
		}
		if w.buf.Len() > 0 {
			if w.flush() != nil {
				return nil
			}
			lastWrite = time.Now()
		}

		// Wait for an event, a due recheck or heartbeat, or the end.
		poll := false
		for !poll {
			select {
			case <-ctx.Done():
				return nil
			case <-s.streams.done:
				return nil
			case <-sub.wake:
				poll = true
			case t := <-tick.C:
				// Recheck when access may have been revoked (the epoch
				// moved) and now and then for expiries: the read below
				// checks the document, the credentials are checked here.
				if e := s.authEpoch.Load(); e != epoch || t.Sub(lastCheck) >= streamFullRecheck {
					epoch, lastCheck = e, t
					if err := credentials(ctx); docket.ErrorCode(err) == docket.EUNAUTHORIZED {
						w.buf.WriteString("event: revoked\ndata: {}\n\n")
						w.flush()
						return nil
					}
					// The members of the space are on the page (the
					// reviewers to choose from): tell it when they change.
					if m := s.memberPrint(ctx, id); m != "" && m != members {
						members = m
						w.buf.WriteString("event: members\ndata: {}\n\n")
					}
					poll = true
				}
				// In a cluster an event of another node wakes the
				// stream through a bus note, which may be lost: read
				// the log now and then anyway.
				if s.cfg.Bus != nil && t.Sub(lastRead) >= clusterStreamRead {
					poll = true
				}
				if !poll && t.Sub(lastWrite) >= streamHeartbeat {
					w.buf.WriteString(": ping\n\n")
					if w.flush() != nil {
						return nil
					}
					lastWrite = t
				}
			}
		}
		lastRead = time.Now()
		pending, err = s.svc.Events.FindEvents(ctx, docket.EventFilter{DocID: id, After: after, Limit: docket.MaxEventsPage})
	}
}

// clusterStreamRead is how often a stream of a cluster node reads the
// event log without being woken.
const clusterStreamRead = 2 * time.Second

// memberPrint sums up the members of a document's space and their roles,
// to notice a change; "" if they cannot be read.
func (s *Server) memberPrint(ctx context.Context, docID string) string {
	doc, err := s.svc.Documents.FindDocumentMeta(ctx, docID)
	if err != nil {
		return ""
	}
	members, err := s.svc.Spaces.FindMembers(ctx, doc.SpaceID)
	if err != nil {
		return ""
	}
	var b strings.Builder
	for _, m := range members {
		b.WriteString(m.UserID + ":" + string(m.Role) + ",")
	}
	return b.String()
}

// streamCursor reads where a stream starts: the Last-Event-ID header,
// else the after parameter. cursor is false when neither is given.
func streamCursor(req *http.Request) (after int64, cursor bool, err error) {
	v := strings.TrimSpace(req.Header.Get("Last-Event-ID"))
	if v == "" {
		v = req.URL.Query().Get("after")
	}
	if v == "" {
		return 0, false, nil
	}
	n, perr := strconv.ParseInt(v, 10, 64)
	if perr != nil || n < 0 {
		return 0, false, docket.Errorf(docket.EINVALID, "The event cursor must be a sequence number.")
	}
	return n, true, nil
}

// sseWriter collects server-sent event frames and writes them with a
// deadline.
type sseWriter struct {
	rc  *http.ResponseController
	res *echo.Response
	buf bytes.Buffer
}

// event adds one event: its seq as the id, its JSON as the data (one
// line: JSON has no raw newlines).
func (w *sseWriter) event(ev *docket.Event) {
	data, err := json.Marshal(ev)
	if err != nil {
		return
	}
	fmt.Fprintf(&w.buf, "id: %d\ndata: %s\n\n", ev.Seq, data)
}

func (w *sseWriter) flush() error {
	w.rc.SetWriteDeadline(time.Now().Add(streamWriteTimeout))
	_, err := w.res.Write(w.buf.Bytes())
	w.buf.Reset()
	if err == nil {
		err = w.rc.Flush()
	}
	return err
}
