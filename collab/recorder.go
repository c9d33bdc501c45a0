package collab

import (
	"context"
	"log/slog"
	"sync"
	"time"

	docket "github.com/docket-dev/docket"
)

// This file is the recorder: while people edit a document live, its
// document goroutine keeps a [docket.Recording] of who joined and left
// and how many ops each wrote, and a saver goroutine stores it.

// recorder tracks a document's running recording. It is owned by the
// document goroutine.
type recorder struct {
	rec   docket.Recording
	index map[string]int // user id -> participant
	grace *time.Timer    // runs while nobody is subscribed
	save  *time.Timer    // runs while counts wait to be stored
	slot  *saveSlot      // the recording's place in the saver
}

// recordJoin records a subscriber arriving, starting a recording if none
// is running.
func (d *document) recordJoin(userID string) {
	if d.hub.saver == nil || userID == "" {
		return
	}
	now := time.Now().UTC()
	if d.recorder == nil {
		d.recorder = &recorder{
			rec:   docket.Recording{DocID: d.id, StartedAt: now, StartVersion: d.version, EndVersion: d.version, Participants: []docket.RecordingParticipant{}},
			index: map[string]int{},
			slot:  &saveSlot{},
		}
	}
	if d.recorder.grace != nil {
		d.recorder.grace.Stop()
		d.recorder.grace = nil
	}
	p := d.participant(userID, now)
	if !p.LeftAt.IsZero() || p.Joins == 0 {
		p.Joins++
		p.LeftAt = time.Time{}
		d.saveRecording()
	}
}

// participant returns the recording's entry of a user, adding it.
func (d *document) participant(userID string, now time.Time) *docket.RecordingParticipant {
	r := d.recorder
	i, ok := r.index[userID]
	if !ok {
		i = len(r.rec.Participants)
		r.index[userID] = i
		r.rec.Participants = append(r.rec.Participants, docket.RecordingParticipant{UserID: userID, JoinedAt: now})
	}
	return &r.rec.Participants[i]
}

// recordLeave records a subscriber leaving; when nobody is left the
// recording ends after the grace period.
func (d *document) recordLeave(userID string) {
	if d.recorder == nil || userID == "" {
		return
	}
	for s := range d.subs {
		if s.UserID == userID {
			return // still here on another connection
		}
	}
	if i, ok := d.recorder.index[userID]; ok {
		d.recorder.rec.Participants[i].LeftAt = time.Now().UTC()
	}
	d.recorder.rec.EndVersion = d.version
	d.saveRecording()
	if len(d.subs) == 0 && d.recorder.grace == nil {
		d.recorder.grace = time.AfterFunc(d.hub.opts.RecordingGrace, func() {
			select {
			case d.inbox <- &recordingEndRequest{}:
			case <-d.stopped:
			}
		})
	}
}

// recordOps counts committed ops by author while a recording runs.
func (d *document) recordOps(commits []docket.OpCommit) {
	if d.recorder == nil {
		return
	}
	now := time.Now().UTC()
	for _, c := range commits {
		if c.Rec.Author != "" {
			d.participant(c.Rec.Author, now).Ops++
		}
	}
	d.recorder.rec.EndVersion = d.version
	if d.recorder.save == nil {
		d.recorder.save = time.AfterFunc(d.hub.opts.RecordingSave, func() {
			select {
			case d.inbox <- &recordingSaveRequest{}:
			case <-d.stopped:
			}
		})
	}
}

// recordSaveDue stores the running recording's counts, which ops change
// without a save of their own (one save per RecordingSave at most).
func (d *document) recordSaveDue() {
	if d.recorder == nil || d.recorder.save == nil {
		return
	}
	d.recorder.save = nil
	d.saveRecording()
}

// recordEnd ends the recording if nobody came back, or anyway with force.
func (d *document) recordEnd(force bool) {
	if d.recorder == nil || (!force && len(d.subs) > 0) {
		return
	}
	if d.recorder.grace != nil {
		d.recorder.grace.Stop()
	}
	if d.recorder.save != nil {
		d.recorder.save.Stop()
	}
	now := time.Now().UTC()
	d.recorder.rec.EndedAt = now
	d.recorder.rec.EndVersion = d.version
	for i := range d.recorder.rec.Participants {
		if d.recorder.rec.Participants[i].LeftAt.IsZero() {
			d.recorder.rec.Participants[i].LeftAt = now
		}
	}
	d.saveRecording()
	d.recorder = nil
}

// saveRecording hands a copy of the recording's state to the saver; it
// never waits for storage.
func (d *document) saveRecording() {
	rec := d.recorder.rec
	rec.Participants = append([]docket.RecordingParticipant(nil), rec.Participants...)
	d.hub.saver.save(d.recorder.slot, &rec)
}

type recordingEndRequest struct{}

func (*recordingEndRequest) isRequest() {}

type recordingSaveRequest struct{}

func (*recordingSaveRequest) isRequest() {}

// saver stores recordings on a goroutine of its own, so that a save (a
// write transaction and its fsync) never holds up a document goroutine.
// Saves coalesce: a state handed over while an older one of the same
// recording still waits replaces it, so the latest state is what gets
// written; one goroutine writes, so the saves of a recording are written
// in the order they were made. Close writes what still waits.
type saver struct {
	store docket.RecordingService
	log   *slog.Logger

	mu    sync.Mutex
	queue []*saveSlot // recordings with a state waiting, oldest first

	wake    chan struct{} // something was queued (buffered, 1)
	done    chan struct{} // closed by close: write what waits, then stop
	stopped chan struct{}
}

// saveSlot is one recording's place in the saver.
type saveSlot struct {
	// next is the state waiting to be written, nil if none. Guarded by
	// saver.mu.
	next *docket.Recording
	// id is the ID storage gave the recording on its first save, for the
	// saves after it. Owned by the saver goroutine.
	id string
}

func newSaver(store docket.RecordingService, log *slog.Logger) *saver {
	w := &saver{store: store, log: log, wake: make(chan struct{}, 1), done: make(chan struct{}), stopped: make(chan struct{})}
	go w.run()
	return w
}

// save queues rec, the latest state of slot's recording, without
// blocking.
func (w *saver) save(slot *saveSlot, rec *docket.Recording) {
	w.mu.Lock()
	if slot.next == nil {
		w.queue = append(w.queue, slot)
	}
	slot.next = rec
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default: // a wake-up is pending already
	}
}

// close writes what waits and stops the saver. Nothing may be saved
// after it is called.
func (w *saver) close() {
	close(w.done)
	<-w.stopped
}

func (w *saver) run() {
	defer close(w.stopped)
	for {
		w.writeWaiting()
		select {
		case <-w.wake:
		case <-w.done:
			w.writeWaiting()
			return
		}
	}
}

// writeWaiting writes the waiting states until none is left.
func (w *saver) writeWaiting() {
	for {
		w.mu.Lock()
		if len(w.queue) == 0 {
			w.queue = nil
			w.mu.Unlock()
			return
		}
		slot := w.queue[0]
		w.queue[0] = nil
		w.queue = w.queue[1:]
		rec := slot.next
		slot.next = nil
		w.mu.Unlock()
		w.write(slot, rec)
	}
}

func (w *saver) write(slot *saveSlot, rec *docket.Recording) {
	rec.ID = slot.id
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := w.store.SaveRecording(ctx, rec); err != nil {
		if docket.ErrorCode(err) == docket.ENOTFOUND {
			// The document was deleted while a save was on its way.
			w.log.Info("recording of a deleted document not saved", slog.String("doc", rec.DocID))
			return
		}
		w.log.Error("save recording", slog.String("doc", rec.DocID), slog.Any("err", err))
		return
	}
	slot.id = rec.ID
}
