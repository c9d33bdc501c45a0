package docket

import (
	"context"
	"encoding/json"
	"time"
)

// EventType names what happened.
type EventType string

// Event types.
const (
	EventDocCreated      EventType = "doc.created"
	EventDocUpdated      EventType = "doc.updated" // metadata patched
	EventDocEdited       EventType = "doc.edited"  // text changed through REST
	EventDocDeleted      EventType = "doc.deleted"
	EventThreadCreated   EventType = "thread.created"
	EventThreadResolved  EventType = "thread.resolved"
	EventThreadReopened  EventType = "thread.reopened"
	EventCommentCreated  EventType = "comment.created"
	EventCommentEdited   EventType = "comment.edited"
	EventCommentDeleted  EventType = "comment.deleted"
	EventReviewCreated   EventType = "review.created"
	EventDocTransitioned EventType = "doc.transitioned"
	EventOwnerChanged    EventType = "doc.owner"
	EventSessionEnded    EventType = "session.ended"
)

// Event is one change, for the activity feed, the inbox, webhooks and the
// audit trail. Seq orders events; it is assigned by the server when the
// change is committed, in the same transaction, and never by wall clock.
type Event struct {
	Seq       int64     `json:"seq"`
	Type      EventType `json:"type"`
	Time      time.Time `json:"time"`
	ActorID   string    `json:"actorId,omitempty"`
	SpaceID   string    `json:"spaceId"`
	DocID     string    `json:"docId,omitempty"`
	ThreadID  string    `json:"threadId,omitempty"`
	CommentID string    `json:"commentId,omitempty"`
	// Title is the document's title when the event happened.
	Title string `json:"title,omitempty"`
	// Data holds type-specific details, such as {"from":"draft","to":"review"}
	// for a transition or {"verdict":"concern"} for a review.
	Data json.RawMessage `json:"data,omitempty"`
}

// MaxEventsPage is the most events returned by one call.
const MaxEventsPage = 500

// EventFilter selects events in [EventService.FindEvents].
type EventFilter struct {
	Space string // id or slug; empty for every readable space
	DocID string
	// After returns events with a Seq greater than it, oldest first.
	// Zero returns the newest events, newest first.
	After int64
	// Before, when After is zero, pages back: events with a Seq less than
	// it, newest first. Zero means from the newest.
	Before int64
	Limit  int
}

// EventService reads the activity log. Events of spaces the caller may not
// read are never returned.
type EventService interface {
	// FindEvents lists events. Returns ENOTFOUND for an unreadable space
	// or document, EINVALID for a bad filter.
	FindEvents(ctx context.Context, filter EventFilter) ([]*Event, error)
}

// InboxKind says why an item is in someone's inbox.
type InboxKind string

// Inbox kinds.
const (
	InboxReviewRequest InboxKind = "review_request" // you were asked to review
	InboxConcern       InboxKind = "concern"        // a concern on your document
	InboxMention       InboxKind = "mention"        // you were @mentioned
	InboxReply         InboxKind = "reply"          // a reply in a thread you are in
	InboxDecision      InboxKind = "decision"       // a document you reviewed was decided
	InboxAction        InboxKind = "action"         // an open action item of yours
	InboxOverdue       InboxKind = "overdue"        // a deadline of yours has passed
	InboxHandoff       InboxKind = "handoff"        // a document was handed over to you
)

// InboxItem is something waiting on a user. Items made from events are
// stored, with their event's sequence number as ID; action items and
// overdue deadlines are computed from the current state, with an ID made
// of what they are about (the action item's document, text and due date;
// the deadline's document and time), so a new due date makes a new item.
// Every item can be marked read and done; a done item leaves the inbox.
type InboxItem struct {
	ID       string    `json:"id,omitempty"`
	Kind     InboxKind `json:"kind"`
	Time     time.Time `json:"time"`
	DocID    string    `json:"docId"`
	Title    string    `json:"title"`
	SpaceID  string    `json:"spaceId"`
	ThreadID string    `json:"threadId,omitempty"`
	ActorID  string    `json:"actorId,omitempty"`
	Text     string    `json:"text,omitempty"` // a short excerpt
	Due      time.Time `json:"due,omitzero"`
	Overdue  bool      `json:"overdue,omitempty"`
	Read     bool      `json:"read"`
	Done     bool      `json:"done,omitempty"`
	// URL is the path of the item in the web app, such as /d/abc#t-xyz.
	URL string `json:"url"`
}

// MaxInboxGroupItems is the most items an [InboxGroup] carries (its
// newest); ItemIDs names them all.
const MaxInboxGroupItems = 20

// InboxActor is someone who caused items of an [InboxGroup].
type InboxActor struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// InboxGroup is the items of one document and thread (ThreadID empty for
// the document's own items: review requests, decisions, handoffs, action
// items, deadlines), as "4 new replies in 'Storage plan' from Ada and
// Bob": its kinds and actors newest first, the newest item's time, URL
// and text as the excerpt, and how many of its items are unread.
type InboxGroup struct {
	DocID    string       `json:"docId"`
	Title    string       `json:"title"`
	SpaceID  string       `json:"spaceId"`
	ThreadID string       `json:"threadId,omitempty"`
	Kinds    []InboxKind  `json:"kinds"`
	Count    int          `json:"count"`
	Unread   int          `json:"unread"`
	Actors   []InboxActor `json:"actors"`
	Latest   time.Time    `json:"latest"`
	Excerpt  string       `json:"excerpt,omitempty"`
	Overdue  bool         `json:"overdue,omitempty"`
	URL      string       `json:"url"`
	ItemIDs  []string     `json:"itemIds"`
	Items    []*InboxItem `json:"-"` // the newest MaxInboxGroupItems
}

// InboxFilter selects items in [InboxService.FindInbox].
type InboxFilter struct {
	Unread bool // only unread items
	Done   bool // only the items marked done (left out otherwise)
	Limit  int
	Offset int
}

// InboxService answers "what is waiting on me" for the calling user. Items
// of documents the user can no longer read are left out.
type InboxService interface {
	// FindInbox lists the caller's items, newest first, with the total
	// count and the unread count.
	FindInbox(ctx context.Context, filter InboxFilter) (items []*InboxItem, total, unread int, err error)

	// FindInboxGroups lists the caller's items grouped by document and
	// thread, the group with the newest item first; limit and offset page
	// the groups, total counts them, unread counts the unread items.
	FindInboxGroups(ctx context.Context, filter InboxFilter) (groups []*InboxGroup, total, unread int, err error)

	// MarkRead marks the caller's items read, computed ones included; no
	// ids means all of them. Returns ENOTFOUND for an id that is not one
	// of the caller's items, and then marks nothing.
	MarkRead(ctx context.Context, ids []string) error

	// MarkDone marks the caller's items done (and read): they leave the
	// inbox; a computed one comes back only as a new item (a new due
	// date). Returns EINVALID without ids, ENOTFOUND as MarkRead.
	MarkDone(ctx context.Context, ids []string) error
}

// ChangeKind says what part of a document changed.
type ChangeKind string

// Change kinds.
const (
	ChangeText    ChangeKind = "text"    // the body (and version) changed
	ChangeMeta    ChangeKind = "meta"    // title, tags, kind, status, owner
	ChangeDeleted ChangeKind = "deleted" // the document and all it had are gone
	ChangeThread  ChangeKind = "thread"  // a thread or comment changed
)

// Change tells the keepers of derived data (the search index, action
// items) that a document changed after a commit. It carries ids only;
// readers load what they need.
type Change struct {
	Kind      ChangeKind
	DocID     string
	SpaceID   string
	ThreadID  string // for ChangeThread
	CommentID string // for ChangeThread, when one comment changed
}
