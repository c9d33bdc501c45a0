package docket

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"encoding/json"
	"fmt"
	"regexp"
)

var idEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// NewID returns a random 16-character id (80 bits), such as every record
// gets.
func NewID() string {
	b := make([]byte, 10)
	rand.Read(b)
	return idEncoding.EncodeToString(b)
}

// ExportFormat names the format of a Docket export (docs/EXPORT.md), and
// ExportVersion is the version of it that this code writes and reads.
const (
	ExportFormat  = "docket-export"
	ExportVersion = 1
)

// SpaceRecord is a space as exported: its stored record and its members.
type SpaceRecord struct {
	Space   *Space    `json:"space"`
	Members []*Member `json:"members"`
}

// DocumentRecord is everything stored about one document, each part as
// the domain type the server stores, so that a field added to one of
// them is exported and restored without this type changing.
type DocumentRecord struct {
	// Document is the stored metadata, without the body: the body is
	// what Ops build from the empty text.
	Document *Document `json:"document"`
	// Ops is the whole op log, version 0 first.
	Ops []*OpRecord `json:"ops"`
	// Lifecycle is the process state; nil for a document never moved.
	Lifecycle *Lifecycle `json:"lifecycle,omitempty"`
	// Threads hold their comments in order and their anchors as made.
	Threads  []*Thread        `json:"threads"`
	Reviews  []*Review        `json:"reviews"`
	Handoffs []*Handoff       `json:"handoffs"`
	Minutes  []*MinutesRecord `json:"minutes"`
	// Recordings are the live sessions.
	Recordings []*Recording  `json:"liveSessions"`
	Actions    []*ActionItem `json:"actions"`
	// Events are the document's events, oldest first, with Seq 0: the
	// restoring server numbers them anew.
	Events []*Event `json:"events"`
}

// OwnIDs returns the ids the record gives its own parts: the document's,
// its threads', comments', reviews', minutes' and live sessions'. A
// restore gives each a new id.
func (r *DocumentRecord) OwnIDs() []string {
	ids := []string{r.Document.ID}
	for _, t := range r.Threads {
		ids = append(ids, t.ID)
		for _, c := range t.Comments {
			ids = append(ids, c.ID)
		}
	}
	for _, v := range r.Reviews {
		ids = append(ids, v.ID)
	}
	for _, m := range r.Minutes {
		ids = append(ids, m.ID)
	}
	for _, s := range r.Recordings {
		ids = append(ids, s.ID)
	}
	return ids
}

// Exporter reads what an export holds. The caller must be an admin of
// every space it exports.
type Exporter interface {
	// ExportSpace returns a space and its members. Returns ENOTFOUND, and
	// EFORBIDDEN unless the caller is an admin of the space.
	ExportSpace(ctx context.Context, idOrSlug string) (*SpaceRecord, []string, error)
	// ExportDocument returns the record of a document (ids from
	// ExportSpace). Returns ENOTFOUND or EFORBIDDEN.
	ExportDocument(ctx context.Context, id string) (*DocumentRecord, error)
	// ExportUsers returns the users with the given ids that exist.
	ExportUsers(ctx context.Context, ids []string) ([]*User, error)
}

// Restorer writes an export's records back as stored, with the
// original times and versions. Only the system may restore.
type Restorer interface {
	// RestoreUser returns the user with u's email, creating a
	// deactivated account with u's name when there is none.
	RestoreUser(ctx context.Context, u *User) (*User, error)
	// RestoreSpace creates the space of rec with ids mapped through ids,
	// or finds the one with its slug, and adds its members who are not
	// members yet.
	RestoreSpace(ctx context.Context, rec *SpaceRecord, ids map[string]string) (*Space, error)
	// RestoreDocument stores a document record in one transaction: its
	// own ids (OwnIDs) not in ids become new ones, and every id is mapped
	// through ids.
	RestoreDocument(ctx context.Context, rec *DocumentRecord, ids map[string]string) (*Document, error)
}

// quotedID matches a JSON string that could be an id (see [ValidID]):
// ids need no escaping, so the string is exactly the id.
var quotedID = regexp.MustCompile(`"[a-z0-9]{1,32}"`)

// RemapIDs returns a copy of v in which every JSON string and object key
// equal to a key of ids is replaced by its value, wherever it appears:
// ids name users, spaces, documents and the like in any field, including
// fields added later and raw JSON such as an event's data, whose order is
// kept. Only whole strings are replaced, never part of a text.
func RemapIDs[T any](v *T, ids map[string]string) (*T, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	data = quotedID.ReplaceAllFunc(data, func(q []byte) []byte {
		if to, ok := ids[string(q[1:len(q)-1])]; ok {
			return []byte(`"` + to + `"`)
		}
		return q
	})
	out := new(T)
	if err := json.Unmarshal(data, out); err != nil {
		return nil, fmt.Errorf("remap ids: %w", err)
	}
	return out, nil
}

// ReferencedIDs returns every JSON string of v, value or key, that could
// be an id, in order of appearance.
func ReferencedIDs(v any) ([]string, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, q := range quotedID.FindAll(data, -1) {
		out = append(out, string(q[1:len(q)-1]))
	}
	return out, nil
}
