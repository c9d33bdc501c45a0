package docket

import (
	"context"
	"slices"
	"strings"
	"time"
)

// NotifyChoice is how a person hears by email about one kind of inbox
// item: right away, in the daily digest, or not at all.
type NotifyChoice string

// Notification choices.
const (
	NotifyNow    NotifyChoice = "now"
	NotifyDigest NotifyChoice = "digest"
	NotifyOff    NotifyChoice = "off"
)

// Valid reports whether c is a known choice.
func (c NotifyChoice) Valid() bool { return c == NotifyNow || c == NotifyDigest || c == NotifyOff }

// NotifyKinds are the inbox kinds a person chooses a [NotifyChoice] for,
// in the order the settings show them. A kind added to the inbox must be
// added here too.
var NotifyKinds = []InboxKind{
	InboxMention, InboxReviewRequest, InboxDecision, InboxDueSoon, InboxOverdue,
	InboxReply, InboxConcern, InboxSuggestion, InboxHandoff, InboxAction,
}

// notifyNowByDefault are the kinds mailed right away unless the person
// chose otherwise: what asks for them personally or has a deadline.
var notifyNowByDefault = []InboxKind{InboxMention, InboxReviewRequest, InboxDecision, InboxDueSoon, InboxOverdue}

// DefaultNotify is the choice for a kind the person has not set: right
// away for mentions, review requests, decisions and deadlines (every kind
// whose name speaks of a due date or a reminder), the digest otherwise.
func DefaultNotify(kind InboxKind) NotifyChoice {
	k := string(kind)
	if slices.Contains(notifyNowByDefault, kind) || strings.Contains(k, "due") || strings.Contains(k, "remind") {
		return NotifyNow
	}
	return NotifyDigest
}

// Notify returns the user's choice for a kind: the stored one, or the
// default.
func (u *User) Notify(kind InboxKind) NotifyChoice {
	if c, ok := u.Notifications[string(kind)]; ok && c.Valid() {
		return c
	}
	return DefaultNotify(kind)
}

// NotifyPrefs returns the user's choice for every kind of [NotifyKinds].
func (u *User) NotifyPrefs() map[string]NotifyChoice {
	out := make(map[string]NotifyChoice, len(NotifyKinds))
	for _, k := range NotifyKinds {
		out[string(k)] = u.Notify(k)
	}
	return out
}

// CleanNotifications checks a change of notification choices: every key
// must be one of [NotifyKinds] and every value now, digest or off.
func CleanNotifications(m map[string]NotifyChoice) error {
	for k, c := range m {
		if !slices.Contains(NotifyKinds, InboxKind(k)) {
			return Errorf(EINVALID, "Notification kind %q is not known; use one of %s.", k, kindList())
		}
		if !c.Valid() {
			return Errorf(EINVALID, "Notification choice %q for %s is not one of now, digest, off.", c, k)
		}
	}
	return nil
}

func kindList() string {
	names := make([]string, len(NotifyKinds))
	for i, k := range NotifyKinds {
		names[i] = string(k)
	}
	return strings.Join(names, ", ")
}

// MailStatus is where an outgoing mail stands.
type MailStatus string

// Mail statuses.
const (
	MailPending MailStatus = "pending" // waiting for its first or next attempt
	MailSent    MailStatus = "sent"
	MailFailed  MailStatus = "failed"  // given up
	MailSkipped MailStatus = "skipped" // not to be sent any more, see Error
)

// MailDigest is the Kind of a daily digest mail.
const MailDigest InboxKind = "digest"

// Mail is one entry of the outbox: a mail to one person about one inbox
// item, or a digest of several.
type Mail struct {
	ID     int64  `json:"id"`
	UserID string `json:"userId"`
	// To is the recipient's address when the entry was last claimed.
	To   string    `json:"to"`
	Kind InboxKind `json:"kind"` // of the item, or MailDigest
	// DocID is the document a mail sent right away is about.
	DocID  string     `json:"docId,omitempty"`
	Status MailStatus `json:"status"`
	// Attempt counts the attempts made so far; Error is the last one's.
	Attempt   int       `json:"attempt"`
	Error     string    `json:"error,omitempty"`
	CreatedAt time.Time `json:"createdAt"`
	NextAt    time.Time `json:"nextAt,omitzero"` // of a pending entry
	SentAt    time.Time `json:"sentAt,omitzero"`
}

// MailItem is an inbox item as a mail tells it, with the names its
// words need.
type MailItem struct {
	InboxItem
	// Version is the document's version when the item was made, for a
	// link to the text that was reviewed or decided.
	Version   int64  `json:"version,omitempty"`
	SpaceName string `json:"-"`
	ActorName string `json:"-"`
}

// MailTask is a claimed outbox entry with what rendering it needs.
type MailTask struct {
	Mail *Mail
	// User is the recipient as they are now; for a system mail (see
	// [IsSystemMail]) only the name and address it was asked for.
	User *User
	// Items are the one item of a mail sent right away, or the items of a
	// digest, oldest first.
	Items []*MailItem
	// Unsubscribe is the signed token that turns the mail's kind off for
	// the recipient (for a digest: every kind they get in digests).
	Unsubscribe string
	// Link is the path and query a system mail links to.
	Link string
}

// MailQueue is the outbox as the mail worker sees it. Entries are added
// in the transaction that puts an item in someone's inbox.
type MailQueue interface {
	// DueMails turns the digests that are due into outbox entries, then
	// claims up to limit entries due at now: each gets its next attempt
	// number and is leased, so that it is offered again only after lease,
	// should the attempt never be recorded.
	DueMails(ctx context.Context, now time.Time, limit int, lease time.Duration) ([]*MailTask, error)
	// FinishMail records an attempt: sent, failed, or pending again at
	// NextAt. Returns ECONFLICT if the entry is not waiting for that
	// attempt (its lease ran out and it was claimed again).
	FinishMail(ctx context.Context, m *Mail) error
	// NextMailDue returns the time of the earliest queued entry or digest.
	NextMailDue(ctx context.Context) (time.Time, bool, error)
}

// MaxMailsPage is the most outbox entries GET /api/admin/mail lists.
const MaxMailsPage = 200

// MailReport is the state of the outbox for site admins.
type MailReport struct {
	Enabled bool               `json:"enabled"`
	Counts  map[MailStatus]int `json:"counts"`
	Mails   []*Mail            `json:"mails"` // newest first
}

// MailService serves the outbox to site admins and the unsubscribe links
// of mails to anyone holding one.
type MailService interface {
	// FindMails lists the newest outbox entries and counts them by
	// status. Returns EFORBIDDEN unless the caller is a site admin.
	FindMails(ctx context.Context, limit int) (*MailReport, error)
	// CheckUnsubscribe returns the person and kind of an unsubscribe
	// token. Returns EINVALID for a token that is malformed, tampered
	// with or of an unknown person.
	CheckUnsubscribe(ctx context.Context, token string) (*User, InboxKind, error)
	// Unsubscribe turns the token's kind off for its person (for a digest
	// token: every kind set to digest).
	Unsubscribe(ctx context.Context, token string) (*User, InboxKind, error)
}
