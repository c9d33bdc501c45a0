package bolt

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"time"

	docket "github.com/docket-dev/docket"
	"github.com/docket-dev/docket/kv"
)

// Reminders sends the reminders of deadlines: a day before and at the end
// of a review or a last call, to the reviewers who have not answered and
// to the owner, and once a day for each overdue action item, to its
// owner. A reminder is an event (doc.due_soon, doc.overdue,
// action.overdue, so webhooks get it) and an inbox item per person.
//
// Each reminder sent is recorded in bucket reminders, under
// docID/deadline/stage (a review's or last call's status and end, and
// "24h" or "due"; an action item's assignee, text and due date, and the
// day), in the transaction that appends its event and items. So a restart
// neither repeats a reminder nor loses one: a pass sends every reminder
// whose time has come and is not recorded, those that came while the
// server was down included. A deadline that moves makes new keys, hence
// new reminders.
type Reminders struct {
	db    *DB
	log   *slog.Logger
	every time.Duration
	batch int
}

// RemindersOptions configure [NewReminders].
type RemindersOptions struct {
	Logger *slog.Logger
	// Every is the time between passes (a minute by default).
	Every time.Duration
	// Batch is the most reminders one pass sends (200 by default); a full
	// pass is followed at once by another.
	Batch int
}

// dueSoonWindow is how long before a deadline the first reminder goes.
const dueSoonWindow = 24 * time.Hour

// Reminder stages.
const (
	stageSoon = "24h"
	stageDue  = "due"
)

// NewReminders returns the reminder scheduler of db. Start it with Run.
func NewReminders(db *DB, opts RemindersOptions) *Reminders {
	r := &Reminders{db: db, log: opts.Logger, every: opts.Every, batch: opts.Batch}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	if r.every <= 0 {
		r.every = time.Minute
	}
	if r.batch <= 0 {
		r.batch = 200
	}
	return r
}

// Run makes a pass at once (catching up on what came due while the
// server was down), then one every period, until ctx is done.
func (r *Reminders) Run(ctx context.Context) {
	t := time.NewTicker(r.every)
	defer t.Stop()
	for {
		n, err := r.Pass(ctx)
		if err != nil && ctx.Err() == nil {
			r.log.Error("reminders", slog.Any("err", err))
		} else if n > 0 {
			r.log.Info("reminders sent", slog.Int("count", n))
		}
		if n >= r.batch && err == nil {
			continue // more are due; the next pass is bounded too
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// reminder is one reminder due: its record key, its event and the inbox
// item of each recipient.
type reminder struct {
	key   []byte
	ev    docket.Event
	items map[string]docket.InboxItem // by user id
}

// Pass sends the reminders due at db.Now that were not sent yet, at most
// the batch size, and returns how many it sent. It finds them in a read
// transaction and sends them in one write transaction, checking each
// again there.
func (r *Reminders) Pass(ctx context.Context) (int, error) {
	now := r.db.Now().UTC()
	var docs []string
	err := r.db.view(ctx, func(tx kv.Tx) error {
		var err error
		docs, err = dueDocs(tx, now, r.batch)
		return err
	})
	if err != nil || len(docs) == 0 {
		return 0, err
	}
	sent := 0
	err = r.db.update(ctx, func(tx kv.Tx) error {
		sent = 0
		records := tx.Bucket(bucketReminders)
		for _, docID := range docs {
			due, err := docReminders(tx, docID, now)
			if err != nil {
				return err
			}
			for _, rm := range due {
				if sent >= r.batch {
					return nil
				}
				if err := r.send(ctx, tx, records, rm, now); err != nil {
					return err
				}
				sent++
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return sent, nil
}

// send appends a reminder's event, puts its items in the inboxes and
// records it.
func (r *Reminders) send(ctx context.Context, tx kv.Tx, records kv.Bucket, rm *reminder, now time.Time) error {
	if err := r.db.appendEvent(ctx, tx, &rm.ev); err != nil {
		return err
	}
	users := make([]string, 0, len(rm.items))
	for id := range rm.items {
		users = append(users, id)
	}
	slices.Sort(users)
	for _, id := range users {
		it := rm.items[id]
		if err := addInbox(tx, id, &rm.ev, &it); err != nil {
			return err
		}
	}
	return putJSON(records, rm.key, reminderRecord{At: now, Seq: rm.ev.Seq})
}

// reminderRecord is the value of a sent reminder in bucket reminders.
type reminderRecord struct {
	At  time.Time `json:"at"`
	Seq int64     `json:"seq"` // its event
}

// dueDocs returns the documents that have reminders due and not sent, in
// id order, stopping when they have at least limit.
func dueDocs(tx kv.Tx, now time.Time, limit int) ([]string, error) {
	found := map[string]bool{}
	count := 0
	for _, b := range [][]byte{bucketLifecycles, bucketActions} {
		c := tx.Bucket(b).Cursor()
		for k, _ := c.First(); k != nil && count < limit; k, _ = c.Next() {
			if found[string(k)] {
				continue
			}
			due, err := docReminders(tx, string(k), now)
			if err != nil {
				return nil, err
			}
			if len(due) > 0 {
				found[string(k)] = true
			}
			count += len(due)
		}
	}
	docs := make([]string, 0, len(found))
	for id := range found {
		docs = append(docs, id)
	}
	slices.Sort(docs)
	return docs, nil
}

// docReminders returns the reminders of a document due at now and not
// yet recorded: that of its review or last call, then those of its
// action items. What is recorded is passed over before anything else is
// read or made.
func docReminders(tx kv.Tx, docID string, now time.Time) ([]*reminder, error) {
	records := tx.Bucket(bucketReminders)
	var lc docket.Lifecycle
	if raw := tx.Bucket(bucketLifecycles).Get([]byte(docID)); raw != nil {
		if err := json.Unmarshal(raw, &lc); err != nil {
			return nil, fmt.Errorf("decode lifecycle %s: %w", docID, err)
		}
	}
	stage := deadlineStage(&lc, now)
	if stage != "" && records.Get(deadlineRecordKey(docID, &lc, stage)) != nil {
		stage = ""
	}
	var items []*docket.ActionItem
	if _, err := getJSON(tx.Bucket(bucketActions), []byte(docID), &items); err != nil {
		return nil, err
	}
	var overdue []*docket.ActionItem
	seen := map[string]bool{} // the same line twice is reminded once
	for _, a := range items {
		if a == nil || a.UserID == "" || !a.OverdueAt(now) {
			continue
		}
		if k := actionRecordKey(docID, a, now); !seen[string(k)] && records.Get(k) == nil {
			seen[string(k)] = true
			overdue = append(overdue, a)
		}
	}
	if stage == "" && len(overdue) == 0 {
		return nil, nil
	}
	d, err := findDoc(tx, docID)
	if err != nil {
		return nil, nil // gone: its lifecycle and actions go with it
	}
	var out []*reminder
	if stage != "" {
		out = append(out, deadlineReminder(d, &lc, stage))
	}
	for _, a := range overdue {
		out = append(out, actionReminder(d, a, now))
	}
	return out, nil
}

// deadlineRecordKey is the record key of a review's or last call's
// reminder at stage.
func deadlineRecordKey(docID string, lc *docket.Lifecycle, stage string) []byte {
	return []byte(fmt.Sprintf("%s/%s/%s/%s", docID, lc.Status, lc.Due.UTC().Format(time.RFC3339), stage))
}

// actionRecordKey is the record key of an overdue action item's reminder
// of the day of now.
func actionRecordKey(docID string, a *docket.ActionItem, now time.Time) []byte {
	sum := sha256.Sum256([]byte(a.Text))
	return []byte(fmt.Sprintf("%s/action/%s/%s/%s/%s", docID, a.UserID, hex.EncodeToString(sum[:8]),
		a.Due.Format(time.DateOnly), now.Format(time.DateOnly)))
}

// deadlineData is the Data of doc.due_soon and doc.overdue events.
type deadlineData struct {
	// Status is review or last-call: the deadline that ends.
	Status docket.Status `json:"status"`
	Due    time.Time     `json:"due"`
	// Reviewers are all the reviewers; Waiting those without a verdict.
	Reviewers []string `json:"reviewers"`
	Waiting   []string `json:"waiting"`
	OwnerID   string   `json:"ownerId"`
	// DecisionDue is set when a last call has ended: the owner decides.
	DecisionDue bool `json:"decisionDue,omitempty"`
}

// deadlineReminder returns the reminder of a review or last call at a
// stage (see deadlineStage).
func deadlineReminder(d *docket.Document, lc *docket.Lifecycle, stage string) *reminder {
	due := lc.Due.UTC()
	typ, kind := docket.EventDocOverdue, docket.InboxOverdue
	if stage == stageSoon {
		typ, kind = docket.EventDocDueSoon, docket.InboxDueSoon
	}
	data := deadlineData{Status: lc.Status, Due: due, OwnerID: d.OwnerID, Reviewers: []string{}, Waiting: []string{},
		DecisionDue: stage == stageDue && lc.Status == docket.StatusLastCall}
	for _, rv := range lc.Reviewers {
		if rv == nil {
			continue
		}
		data.Reviewers = append(data.Reviewers, rv.UserID)
		if rv.Verdict == "" {
			data.Waiting = append(data.Waiting, rv.UserID)
		}
	}
	rm := &reminder{
		key:   deadlineRecordKey(d.ID, lc, stage),
		ev:    docket.Event{Type: typ, SpaceID: d.SpaceID, DocID: d.ID, Title: d.Title, Data: eventData(data)},
		items: map[string]docket.InboxItem{},
	}
	when := due.Format("2006-01-02 15:04 UTC")
	item := docket.InboxItem{Kind: kind, Due: due, Overdue: stage == stageDue}
	for _, id := range data.Waiting {
		item.Text = waitingText(lc.Status, stage, when)
		rm.items[id] = item
	}
	if _, waiting := rm.items[d.OwnerID]; !waiting {
		item.Text = ownerText(lc.Status, stage, when, len(data.Waiting), len(data.Reviewers))
		rm.items[d.OwnerID] = item
	}
	return rm
}

// deadlineStage is the stage of a review's or last call's reminder due
// at now: stageDue once the deadline has passed, stageSoon within a day
// before it (unless the deadline was set less than a day before it), ""
// for none.
func deadlineStage(lc *docket.Lifecycle, now time.Time) string {
	if (lc.Status != docket.StatusReview && lc.Status != docket.StatusLastCall) || lc.Due.IsZero() {
		return ""
	}
	soon := lc.Due.Add(-dueSoonWindow)
	switch {
	case !now.Before(lc.Due):
		return stageDue
	case !now.Before(soon) && !lc.EnteredAt.After(soon):
		return stageSoon
	}
	return ""
}

// waitingText is the inbox text of a reviewer who has not answered.
func waitingText(status docket.Status, stage, when string) string {
	switch {
	case status == docket.StatusReview && stage == stageSoon:
		return fmt.Sprintf("Your review is due within a day, by %s.", when)
	case status == docket.StatusReview:
		return fmt.Sprintf("Your review was due %s.", when)
	case stage == stageSoon:
		return fmt.Sprintf("The last call ends within a day, at %s; your verdict is missing.", when)
	}
	return fmt.Sprintf("The last call ended %s without your verdict.", when)
}

// ownerText is the inbox text of the document's owner.
func ownerText(status docket.Status, stage, when string, waiting, reviewers int) string {
	left := fmt.Sprintf("%d of %d reviewers have not answered.", waiting, reviewers)
	if waiting == 0 {
		left = "Every reviewer has answered."
	}
	switch {
	case status == docket.StatusReview && stage == stageSoon:
		return fmt.Sprintf("The review ends within a day, at %s. %s", when, left)
	case status == docket.StatusReview:
		return fmt.Sprintf("The review ended %s; move the document on. %s", when, left)
	case stage == stageSoon:
		return fmt.Sprintf("The last call ends within a day, at %s. %s", when, left)
	}
	return fmt.Sprintf("The last call ended %s; a decision is due.", when)
}

// actionData is the Data of an action.overdue event.
type actionData struct {
	Text   string    `json:"text"`
	UserID string    `json:"userId"`
	Due    time.Time `json:"due"`
	Line   int       `json:"line,omitempty"`
	// DaysOverdue counts the days since the due day ended, from 1.
	DaysOverdue int `json:"daysOverdue"`
}

// actionReminder returns the reminder of an overdue action item with an
// owner for the day of now.
func actionReminder(d *docket.Document, a *docket.ActionItem, now time.Time) *reminder {
	data := actionData{Text: a.Text, UserID: a.UserID, Due: a.Due, Line: a.Line,
		DaysOverdue: int(now.Sub(a.Due.AddDate(0, 0, 1))/(24*time.Hour)) + 1}
	return &reminder{
		key: actionRecordKey(d.ID, a, now),
		ev:  docket.Event{Type: docket.EventActionOverdue, SpaceID: d.SpaceID, DocID: d.ID, Title: d.Title, Data: eventData(data)},
		items: map[string]docket.InboxItem{a.UserID: {
			Kind: docket.InboxOverdue, Text: a.Text, Due: a.Due, Overdue: true,
		}},
	}
}

// SentReminders returns the keys of the reminders recorded for a
// document, for tests and diagnostics.
func SentReminders(db *DB, docID string) []string {
	var keys []string
	db.kv.View(func(tx kv.Tx) error {
		for rest := range prefixed(tx.Bucket(bucketReminders), docID) {
			keys = append(keys, docID+"/"+string(bytes.Clone(rest)))
		}
		return nil
	})
	return keys
}

// eventNames returns the names of the users an event's data names: the
// reviewers and those who have not answered, an action item's owner.
func eventNames(tx kv.Tx, ev *docket.Event) map[string]string {
	var data struct {
		Reviewers []string `json:"reviewers"`
		Waiting   []string `json:"waiting"`
		UserID    string   `json:"userId"`
	}
	if json.Unmarshal(ev.Data, &data) != nil {
		return nil
	}
	names := map[string]string{}
	for _, id := range append(append(data.Reviewers, data.Waiting...), data.UserID) {
		if _, done := names[id]; done || id == "" {
			continue
		}
		if u, err := findUser(tx, id); err == nil {
			names[id] = u.Name
		}
	}
	return names
}
