package collab

import (
	"context"
	"log/slog"
	"time"

	docket "github.com/docket-dev/docket"
)

// liveSession records a document's live session while it is open.
type liveSession struct {
	rec   docket.Recording
	index map[string]int // user id -> participant
	grace *time.Timer    // runs while nobody is subscribed
	save  *time.Timer    // runs while counts wait to be stored
}

// sessionJoin records a subscriber arriving, starting a session if none
// is running.
func (d *document) sessionJoin(userID string) {
	if d.hub.opts.Recordings == nil || userID == "" {
		return
	}
	now := time.Now().UTC()
	if d.session == nil {
		d.session = &liveSession{
			rec:   docket.Recording{DocID: d.id, StartedAt: now, StartVersion: d.version, EndVersion: d.version, Participants: []docket.RecordingParticipant{}},
			index: map[string]int{},
		}
	}
	if d.session.grace != nil {
		d.session.grace.Stop()
		d.session.grace = nil
	}
	p := d.participant(userID, now)
	if !p.LeftAt.IsZero() || p.Joins == 0 {
		p.Joins++
		p.LeftAt = time.Time{}
		d.saveSession()
	}
}

// participant returns the session's record of a user, adding it.
func (d *document) participant(userID string, now time.Time) *docket.RecordingParticipant {
	s := d.session
	i, ok := s.index[userID]
	if !ok {
		i = len(s.rec.Participants)
		s.index[userID] = i
		s.rec.Participants = append(s.rec.Participants, docket.RecordingParticipant{UserID: userID, JoinedAt: now})
	}
	return &s.rec.Participants[i]
}

// sessionLeave records a subscriber leaving; when nobody is left the
// session ends after the grace period.
func (d *document) sessionLeave(userID string) {
	if d.session == nil || userID == "" {
		return
	}
	for s := range d.subs {
		if s.UserID == userID {
			return // still here on another connection
		}
	}
	if i, ok := d.session.index[userID]; ok {
		d.session.rec.Participants[i].LeftAt = time.Now().UTC()
	}
	d.session.rec.EndVersion = d.version
	d.saveSession()
	if len(d.subs) == 0 && d.session.grace == nil {
		d.session.grace = time.AfterFunc(d.hub.opts.RecordingGrace, func() {
			select {
			case d.inbox <- &sessionEndRequest{}:
			case <-d.stopped:
			}
		})
	}
}

// sessionOps counts committed ops by author during a session.
func (d *document) sessionOps(commits []docket.OpCommit) {
	if d.session == nil {
		return
	}
	now := time.Now().UTC()
	for _, c := range commits {
		if c.Rec.Author != "" {
			d.participant(c.Rec.Author, now).Ops++
		}
	}
	d.session.rec.EndVersion = d.version
	if d.session.save == nil {
		d.session.save = time.AfterFunc(d.hub.opts.RecordingSave, func() {
			select {
			case d.inbox <- &sessionSaveRequest{}:
			case <-d.stopped:
			}
		})
	}
}

// sessionSaveDue stores the running session's counts, which ops change
// without a save of their own (one save per SessionSave at most).
func (d *document) sessionSaveDue() {
	if d.session == nil || d.session.save == nil {
		return
	}
	d.session.save = nil
	d.saveSession()
}

// sessionEnd closes the session if nobody came back.
func (d *document) sessionEnd(force bool) {
	if d.session == nil || (!force && len(d.subs) > 0) {
		return
	}
	if d.session.grace != nil {
		d.session.grace.Stop()
	}
	if d.session.save != nil {
		d.session.save.Stop()
	}
	now := time.Now().UTC()
	d.session.rec.EndedAt = now
	d.session.rec.EndVersion = d.version
	for i := range d.session.rec.Participants {
		if d.session.rec.Participants[i].LeftAt.IsZero() {
			d.session.rec.Participants[i].LeftAt = now
		}
	}
	d.saveSession()
	d.session = nil
}

func (d *document) saveSession() {
	rec := d.session.rec
	rec.Participants = append([]docket.RecordingParticipant(nil), rec.Participants...)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := d.hub.opts.Recordings.SaveRecording(ctx, &rec); err != nil {
		d.hub.log.Error("save live session", slog.String("doc", d.id), slog.Any("err", err))
		return
	}
	d.session.rec.ID = rec.ID
}

type sessionEndRequest struct{}

func (*sessionEndRequest) isRequest() {}

type sessionSaveRequest struct{}

func (*sessionSaveRequest) isRequest() {}
