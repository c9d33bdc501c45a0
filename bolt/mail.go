package bolt

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	docket "github.com/docket-dev/docket"
	"github.com/docket-dev/docket/kv"
)

// MailService implements [docket.MailQueue] for the mail worker and
// [docket.MailService] for admins and unsubscribe links.
//
// Mails are queued by addInbox, in the transaction that stores the inbox
// item, when mail is on ([DB.SetMail]): a choice of "now" makes an outbox
// entry (mail_outbox, queued in mail_queue by due time like webhook
// deliveries); "digest" keeps the item in mail_digest under the user and,
// for the first item, schedules the user's digest in mail_digest_due at
// the next [DigestHour] of their time zone. DueMails turns due digests
// into outbox entries.
type MailService struct{ db *DB }

var _ interface {
	docket.MailQueue
	docket.MailService
} = (*MailService)(nil)

// NewMailService returns the outbox over db.
func NewMailService(db *DB) *MailService { return &MailService{db: db} }

// DigestHour is the hour of the day, in each person's time zone (UTC if
// they have none), at which their daily digest goes out.
const DigestHour = 7

// MaxMailLog is how many outbox entries are kept; older finished ones are
// deleted as new ones finish.
const MaxMailLog = 5000

var (
	keyMailEnabled = []byte("mail_enabled")
	keyMailSecret  = []byte("mail_secret")
)

// mailRecord is an outbox entry with what it is about and where it sits
// in the queue.
type mailRecord struct {
	docket.Mail
	Items []docket.MailItem `json:"items"`
	// Queued is the due time of its mail_queue key in Unix nanoseconds,
	// 0 when it is not queued (finished).
	Queued int64 `json:"queued,omitempty"`
	// Name and Link are the recipient's name and the link of a system
	// mail (see [docket.IsSystemMail]), which has no UserID.
	Name string `json:"name,omitempty"`
	Link string `json:"link,omitempty"`
}

// SetMail turns the queueing of mails on or off; it is stored so that
// every transaction that adds inbox items sees it. Turning it on makes
// the secret of unsubscribe links if there is none yet.
func (db *DB) SetMail(ctx context.Context, on bool) error {
	return db.update(ctx, func(tx kv.Tx) error {
		if err := createBuckets(tx, [][]byte{bucketMailOutbox, bucketMailQueue, bucketMailDigest, bucketMailDigestDue, bucketSignups, bucketSignupMails}); err != nil {
			return err
		}
		meta := tx.Bucket(bucketMeta)
		if on && meta.Get(keyMailSecret) == nil {
			secret := make([]byte, 32)
			rand.Read(secret)
			if err := meta.Put(keyMailSecret, secret); err != nil {
				return err
			}
		}
		v := byte(0)
		if on {
			v = 1
		}
		return meta.Put(keyMailEnabled, []byte{v})
	})
}

func mailEnabled(tx kv.Tx) bool {
	v := tx.Bucket(bucketMeta).Get(keyMailEnabled)
	return len(v) == 1 && v[0] == 1
}

// queueMail queues a mail about item, just stored in the inbox of
// userID, as the user chose for its kind.
func queueMail(tx kv.Tx, userID string, item *docket.InboxItem) error {
	if !mailEnabled(tx) {
		return nil
	}
	u, err := findUser(tx, userID)
	if err != nil || u.Deactivated || u.Email == "" {
		return nil
	}
	mi := docket.MailItem{InboxItem: *item}
	if d, err := findDoc(tx, item.DocID); err == nil {
		mi.Version = d.Version
	}
	switch u.Notify(item.Kind) {
	case docket.NotifyNow:
		return addMail(tx, &u.User, item.Kind, item.DocID, item.Time, []docket.MailItem{mi})
	case docket.NotifyDigest:
		return collectDigest(tx, &u.User, &mi)
	}
	return nil
}

// addMail makes a pending outbox entry due at once.
func addMail(tx kv.Tx, u *docket.User, kind docket.InboxKind, docID string, at time.Time, items []docket.MailItem) error {
	return putNewMail(tx, &mailRecord{
		Mail:  docket.Mail{UserID: u.ID, To: u.Email, Kind: kind, DocID: docID},
		Items: items,
	}, at)
}

// putNewMail gives rec its id and queues it due at once.
func putNewMail(tx kv.Tx, rec *mailRecord, at time.Time) error {
	id, err := tx.Bucket(bucketMailOutbox).NextSequence()
	if err != nil {
		return err
	}
	rec.ID, rec.Status, rec.CreatedAt, rec.NextAt = int64(id), docket.MailPending, at, at
	return queueMailAt(tx, rec, at.UnixNano())
}

// dueIDs returns the ids of up to limit entries of a queue bucket
// (queueKey keys) that are due at now, soonest first.
func dueIDs(queue kv.Bucket, now time.Time, limit int) []uint64 {
	var ids []uint64
	c := queue.Cursor()
	for k, _ := c.First(); k != nil && len(ids) < limit; k, _ = c.Next() {
		if len(k) != 17 || int64(binary.BigEndian.Uint64(k)) > now.UnixNano() {
			break
		}
		ids = append(ids, binary.BigEndian.Uint64(k[9:]))
	}
	return ids
}

// queueMailAt stores an entry due at due (in Unix nanoseconds; 0 takes
// it out of the queue), moving its queue key.
func queueMailAt(tx kv.Tx, rec *mailRecord, due int64) error {
	q := tx.Bucket(bucketMailQueue)
	if rec.Queued != 0 {
		if err := q.Delete(queueKey(rec.Queued, uint64(rec.ID))); err != nil {
			return err
		}
	}
	if rec.Queued = due; due != 0 {
		if err := q.Put(queueKey(due, uint64(rec.ID)), nil); err != nil {
			return err
		}
	}
	return putJSON(tx.Bucket(bucketMailOutbox), u64(uint64(rec.ID)), rec)
}

// digestKey orders scheduled digests by due time, then user.
func digestKey(due int64, userID string) []byte {
	k := make([]byte, 9, 9+len(userID))
	binary.BigEndian.PutUint64(k, uint64(due))
	k[8] = '/'
	return append(k, userID...)
}

// nextDigest is the first DigestHour after t in the time zone tz.
func nextDigest(t time.Time, tz string) time.Time {
	loc, err := time.LoadLocation(tz)
	if err != nil || tz == "" {
		loc = time.UTC
	}
	lt := t.In(loc)
	d := time.Date(lt.Year(), lt.Month(), lt.Day(), DigestHour, 0, 0, 0, loc)
	if !d.After(lt) {
		d = time.Date(lt.Year(), lt.Month(), lt.Day()+1, DigestHour, 0, 0, 0, loc)
	}
	return d.UTC()
}

// collectDigest keeps item for the user's next digest, scheduling the
// digest if it is the first item waiting.
func collectDigest(tx kv.Tx, u *docket.User, item *docket.MailItem) error {
	seq, err := strconv.ParseUint(item.ID, 10, 64)
	if err != nil {
		return fmt.Errorf("inbox item id %q: %w", item.ID, err)
	}
	b := tx.Bucket(bucketMailDigest)
	first := true
	for range prefixed(b, u.ID) {
		first = false
		break
	}
	if first {
		due := nextDigest(item.Time, u.TimeZone)
		if err := tx.Bucket(bucketMailDigestDue).Put(digestKey(due.UnixNano(), u.ID), nil); err != nil {
			return err
		}
	}
	return putJSON(b, seqKey(u.ID, seq), item)
}

// sendDigests turns every digest due at now into an outbox entry.
func sendDigests(tx kv.Tx, now time.Time) error {
	due := tx.Bucket(bucketMailDigestDue)
	var keys [][]byte
	c := due.Cursor()
	for k, _ := c.First(); k != nil && len(k) > 9 && int64(binary.BigEndian.Uint64(k)) <= now.UnixNano(); k, _ = c.Next() {
		keys = append(keys, bytes.Clone(k))
	}
	for _, k := range keys {
		if err := due.Delete(k); err != nil {
			return err
		}
		userID := string(k[9:])
		b := tx.Bucket(bucketMailDigest)
		items, err := decodePrefixed[docket.MailItem](b, userID, "digest item")
		if err != nil {
			return err
		}
		if err := deletePrefix(b, userID, nil); err != nil {
			return err
		}
		u, err := findUser(tx, userID)
		if err != nil || len(items) == 0 {
			continue // the user is gone: so is their digest
		}
		list := make([]docket.MailItem, len(items))
		for i, it := range items {
			list[i] = *it
		}
		if err := addMail(tx, &u.User, docket.MailDigest, "", now.UTC(), list); err != nil {
			return err
		}
	}
	return nil
}

// DueMails implements [docket.MailQueue].
func (s *MailService) DueMails(ctx context.Context, now time.Time, limit int, lease time.Duration) ([]*docket.MailTask, error) {
	// Most polls find nothing due: a read transaction says so without
	// the fsync of a write one.
	if at, ok, err := s.NextMailDue(ctx); err != nil || !ok || at.After(now) || limit <= 0 {
		return nil, err
	}
	return inTx(ctx, s.db.update, func(tx kv.Tx) ([]*docket.MailTask, error) {
		if err := sendDigests(tx, now); err != nil {
			return nil, err
		}
		return loadAll(dueIDs(tx.Bucket(bucketMailQueue), now, limit), func(id uint64) (*docket.MailTask, error) { return claimMail(tx, id, now, lease) })
	})
}

// claimMail makes the next attempt of a queued entry and leases it. It
// returns nil for an entry that is not to be sent any more (the recipient
// is gone, turned the kind off, or may no longer read what it is about),
// which is finished as skipped.
func claimMail(tx kv.Tx, id uint64, now time.Time, lease time.Duration) (*docket.MailTask, error) {
	var rec mailRecord
	if ok, err := getJSON(tx.Bucket(bucketMailOutbox), u64(id), &rec); err != nil {
		return nil, err
	} else if !ok {
		return nil, fmt.Errorf("mail %d queued but not stored", id)
	}
	if docket.IsSystemMail(rec.Kind) {
		rec.Attempt++
		if err := queueMailAt(tx, &rec, now.Add(lease).UnixNano()); err != nil {
			return nil, err
		}
		m := rec.Mail
		return &docket.MailTask{Mail: &m, User: &docket.User{Name: rec.Name, Email: rec.To}, Link: rec.Link}, nil
	}
	u, err := findUser(tx, rec.UserID)
	var items []*docket.MailItem
	if err == nil {
		items = mailItems(tx, u.ID, rec.Items)
	}
	skip := ""
	switch {
	case err != nil:
		skip = "The recipient's account is gone."
	case u.Deactivated || u.Email == "":
		skip = "The recipient's account is deactivated."
	case rec.Kind != docket.MailDigest && u.Notify(rec.Kind) == docket.NotifyOff:
		skip = "The recipient turned these mails off."
	case len(items) == 0:
		skip = "The recipient may no longer read what the mail is about."
	}
	if skip != "" {
		rec.Status, rec.Error, rec.NextAt = docket.MailSkipped, skip, time.Time{}
		return nil, finishMail(tx, &rec)
	}
	rec.Attempt++
	rec.To = u.Email
	if err := queueMailAt(tx, &rec, now.Add(lease).UnixNano()); err != nil {
		return nil, err
	}
	m := rec.Mail
	user := u.User
	return &docket.MailTask{Mail: &m, User: &user, Items: items, Unsubscribe: unsubscribeToken(tx, u.ID, rec.Kind)}, nil
}

// mailItems returns the items the user may still read, with the names of
// their spaces and actors.
func mailItems(tx kv.Tx, userID string, items []docket.MailItem) []*docket.MailItem {
	var out []*docket.MailItem
	for _, it := range items {
		if !canRead(tx, it.SpaceID, userID) {
			continue
		}
		mi := &it
		if sp, err := findSpace(tx, it.SpaceID); err == nil {
			mi.SpaceName = sp.Name
		}
		if a, err := findUser(tx, it.ActorID); err == nil {
			mi.ActorName = a.Name
		}
		out = append(out, mi)
	}
	return out
}

// FinishMail implements [docket.MailQueue].
func (s *MailService) FinishMail(ctx context.Context, m *docket.Mail) error {
	if !slices.Contains([]docket.MailStatus{docket.MailSent, docket.MailFailed, docket.MailPending}, m.Status) {
		return docket.Errorf(docket.EINVALID, "Unknown mail status %q.", m.Status)
	}
	if m.Status == docket.MailPending && m.NextAt.IsZero() {
		return docket.Errorf(docket.EINVALID, "A mail to retry needs its next time.")
	}
	return s.db.update(ctx, func(tx kv.Tx) error {
		rec, err := leasedMail(tx, m)
		if err != nil {
			return err
		}
		rec.Status, rec.Error, rec.SentAt, rec.NextAt = m.Status, m.Error, m.SentAt.UTC(), time.Time{}
		if m.Status != docket.MailPending {
			return finishMail(tx, rec)
		}
		rec.NextAt = m.NextAt.UTC()
		return queueMailAt(tx, rec, m.NextAt.UnixNano())
	})
}

// leasedMail returns the entry whose attempt m reports, if it is still
// waiting for that attempt.
func leasedMail(tx kv.Tx, m *docket.Mail) (*mailRecord, error) {
	var rec mailRecord
	ok, err := false, error(nil)
	if b := tx.Bucket(bucketMailOutbox); b != nil {
		ok, err = getJSON(b, u64(uint64(m.ID)), &rec)
	}
	switch {
	case err != nil:
		return nil, err
	case !ok:
		return nil, docket.Errorf(docket.ENOTFOUND, "Mail not found.")
	case rec.Status != docket.MailPending || rec.Attempt != m.Attempt || rec.Queued == 0:
		return nil, docket.Errorf(docket.ECONFLICT, "Mail %d is not waiting for attempt %d.", m.ID, m.Attempt)
	}
	return &rec, nil
}

// finishMail stores an entry that is done, counts it by status and
// deletes the finished entry MaxMailLog before it.
func finishMail(tx kv.Tx, rec *mailRecord) error {
	if err := queueMailAt(tx, rec, 0); err != nil {
		return err
	}
	meta := tx.Bucket(bucketMeta)
	key := []byte("mail_count_" + string(rec.Status))
	n := uint64(0)
	if v := meta.Get(key); len(v) == 8 {
		n = binary.BigEndian.Uint64(v)
	}
	if err := meta.Put(key, u64(n+1)); err != nil {
		return err
	}
	if rec.ID <= MaxMailLog {
		return nil
	}
	old := u64(uint64(rec.ID - MaxMailLog))
	var o mailRecord
	if ok, err := getJSON(tx.Bucket(bucketMailOutbox), old, &o); err != nil || !ok || o.Status == docket.MailPending {
		return err
	}
	return tx.Bucket(bucketMailOutbox).Delete(old)
}

// NextMailDue implements [docket.MailQueue].
func (s *MailService) NextMailDue(ctx context.Context) (time.Time, bool, error) {
	var at time.Time
	var ok bool
	err := s.db.view(ctx, func(tx kv.Tx) error {
		for _, name := range [][]byte{bucketMailQueue, bucketMailDigestDue} {
			b := tx.Bucket(name)
			if b == nil {
				return nil // mail was never turned on
			}
			k, _ := b.Cursor().First()
			if len(k) < 9 {
				continue
			}
			t := time.Unix(0, int64(binary.BigEndian.Uint64(k))).UTC()
			if !ok || t.Before(at) {
				at, ok = t, true
			}
		}
		return nil
	})
	return at, ok, err
}

// FindMails implements [docket.MailService].
func (s *MailService) FindMails(ctx context.Context, limit int) (*docket.MailReport, error) {
	if !docket.IsSystemContext(ctx) && !docket.UserFromContext(ctx).IsAdmin() {
		return nil, docket.Errorf(docket.EFORBIDDEN, "The outbox is for site admins.")
	}
	if limit <= 0 || limit > docket.MaxMailsPage {
		limit = docket.MaxMailsPage
	}
	return inTx(ctx, s.db.view, func(tx kv.Tx) (*docket.MailReport, error) {
		r := &docket.MailReport{Enabled: mailEnabled(tx), Counts: map[docket.MailStatus]int{}, Mails: []*docket.Mail{}}
		meta := tx.Bucket(bucketMeta)
		for _, st := range []docket.MailStatus{docket.MailSent, docket.MailFailed, docket.MailSkipped} {
			if v := meta.Get([]byte("mail_count_" + string(st))); len(v) == 8 {
				r.Counts[st] = int(binary.BigEndian.Uint64(v))
			} else {
				r.Counts[st] = 0
			}
		}
		if tx.Bucket(bucketMailOutbox) == nil {
			r.Counts[docket.MailPending] = 0
			return r, nil // mail was never turned on
		}
		r.Counts[docket.MailPending] = countKeys(tx.Bucket(bucketMailQueue))
		c := tx.Bucket(bucketMailOutbox).Cursor()
		for k, _ := c.Last(); k != nil && len(r.Mails) < limit; k, _ = c.Prev() {
			var rec mailRecord
			if _, err := getJSON(tx.Bucket(bucketMailOutbox), k, &rec); err != nil {
				return nil, err
			}
			m := rec.Mail
			r.Mails = append(r.Mails, &m)
		}
		return r, nil
	})
}

// unsubscribeToken signs "userID kind" with the server's mail secret.
// It is empty when mail was never turned on (there is no secret).
func unsubscribeToken(tx kv.Tx, userID string, kind docket.InboxKind) string {
	secret := tx.Bucket(bucketMeta).Get(keyMailSecret)
	if secret == nil {
		return ""
	}
	payload := userID + " " + string(kind)
	return base64.RawURLEncoding.EncodeToString([]byte(payload)) + "." + base64.RawURLEncoding.EncodeToString(unsubscribeMAC(secret, payload))
}

func unsubscribeMAC(secret []byte, payload string) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("docket unsubscribe v1\x00" + payload))
	return m.Sum(nil)[:18]
}

// checkToken returns the user and kind of a valid unsubscribe token.
func checkToken(tx kv.Tx, token string) (*userRecord, docket.InboxKind, error) {
	bad := docket.Errorf(docket.EINVALID, "This unsubscribe link is not valid: it may have been cut short or changed. Change your email settings on the settings page instead.")
	secret := tx.Bucket(bucketMeta).Get(keyMailSecret)
	p64, m64, ok := strings.Cut(token, ".")
	if secret == nil || !ok {
		return nil, "", bad
	}
	payload, err1 := base64.RawURLEncoding.DecodeString(p64)
	mac, err2 := base64.RawURLEncoding.DecodeString(m64)
	if err1 != nil || err2 != nil || !hmac.Equal(mac, unsubscribeMAC(secret, string(payload))) {
		return nil, "", bad
	}
	userID, kind, _ := strings.Cut(string(payload), " ")
	u, err := findUser(tx, userID)
	if err != nil {
		return nil, "", bad
	}
	return u, docket.InboxKind(kind), nil
}

// CheckUnsubscribe implements [docket.MailService].
func (s *MailService) CheckUnsubscribe(ctx context.Context, token string) (*docket.User, docket.InboxKind, error) {
	var user *docket.User
	var kind docket.InboxKind
	err := s.db.view(ctx, func(tx kv.Tx) error {
		u, k, err := checkToken(tx, token)
		if err == nil {
			user, kind = &u.User, k
		}
		return err
	})
	return user, kind, err
}

// Unsubscribe implements [docket.MailService].
func (s *MailService) Unsubscribe(ctx context.Context, token string) (*docket.User, docket.InboxKind, error) {
	var user *docket.User
	var kind docket.InboxKind
	err := s.db.update(ctx, func(tx kv.Tx) error {
		u, k, err := checkToken(tx, token)
		if err != nil {
			return err
		}
		off := map[string]docket.NotifyChoice{string(k): docket.NotifyOff}
		if k == docket.MailDigest {
			off = map[string]docket.NotifyChoice{}
			for _, nk := range docket.NotifyKinds {
				if u.Notify(nk) == docket.NotifyDigest {
					off[string(nk)] = docket.NotifyOff
				}
			}
		}
		// Straight in, without CleanNotifications: the kind came signed
		// from this server, even if it is one the settings do not list.
		next := maps.Clone(u.Notifications)
		if next == nil {
			next = map[string]docket.NotifyChoice{}
		}
		maps.Copy(next, off)
		u.Notifications = next
		user, kind = &u.User, k
		return putJSON(tx.Bucket(bucketUsers), []byte(u.ID), u)
	})
	return user, kind, err
}

// setNotifications merges checked choices into the user's.
func setNotifications(u *docket.User, m map[string]docket.NotifyChoice) error {
	if err := docket.CleanNotifications(m); err != nil {
		return err
	}
	next := make(map[string]docket.NotifyChoice, len(u.Notifications)+len(m))
	maps.Copy(next, u.Notifications)
	maps.Copy(next, m)
	u.Notifications = next
	return nil
}
