package bolt

import (
	"cmp"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	docket "github.com/docket-dev/docket"
	"github.com/docket-dev/docket/collab/ot"
	"github.com/docket-dev/docket/kv"
)

// Interface guard.
var _ docket.DocumentService = (*DocumentService)(nil)

// DocumentService implements [docket.DocumentService].
type DocumentService struct{ db *DB }

// NewDocumentService returns the document service over db.
func NewDocumentService(db *DB) *DocumentService { return &DocumentService{db: db} }

// findDoc reads a document's metadata (without body).
func findDoc(tx kv.Tx, id string) (*docket.Document, error) {
	return findByID[docket.Document](tx, bucketDocs, id, "Document not found.")
}

// readableDoc finds a document the caller may read, and the caller's role
// in its space.
func readableDoc(ctx context.Context, tx kv.Tx, id string) (*docket.Document, docket.SpaceRole, error) {
	d, err := findDoc(tx, id)
	if err != nil {
		return nil, "", err
	}
	role := roleIn(ctx, tx, d.SpaceID)
	if !role.AtLeast(docket.RoleViewer) {
		return nil, "", docket.Errorf(docket.ENOTFOUND, "Document not found.")
	}
	d.Role = role
	return d, role, nil
}

// editableDoc finds a document the caller may edit.
func editableDoc(ctx context.Context, tx kv.Tx, id string) (*docket.Document, error) {
	d, role, err := readableDoc(ctx, tx, id)
	if err != nil {
		return nil, err
	}
	if !role.AtLeast(docket.RoleEditor) {
		return nil, docket.Errorf(docket.EFORBIDDEN, "You need the editor role in this space to change documents.")
	}
	return d, nil
}

// manageableDoc finds a document the caller may move, hand over or
// delete: its owner (while an editor or more) or a space admin. Anyone
// else who may read it gets EFORBIDDEN with the message forbidden.
func manageableDoc(ctx context.Context, tx kv.Tx, id, forbidden string) (*docket.Document, error) {
	d, role, err := readableDoc(ctx, tx, id)
	if err != nil {
		return nil, err
	}
	caller := docket.UserIDFromContext(ctx)
	if role != docket.RoleAdmin && (caller == "" || caller != d.OwnerID || !role.AtLeast(docket.RoleEditor)) {
		return nil, docket.Errorf(docket.EFORBIDDEN, "%s", forbidden)
	}
	return d, nil
}

// body returns the current text of d, as stored. The stored one is older when
// live commits skipped writing it (LiveStore.CommitOps); the ops after
// it are then applied.
func body(tx kv.Tx, d *docket.Document) (string, error) {
	text := string(tx.Bucket(bucketBodies).Get([]byte(d.ID)))
	at := tx.Bucket(bucketBodyVersions).Get([]byte(d.ID))
	if at == nil {
		return text, nil
	}
	return replayOps(tx, d.ID, text, int64(binary.BigEndian.Uint64(at)), d.Version)
}

// replayOps applies to text, a document's text at version from, its ops
// from that version up to version to (excluded). They are composed into
// one op first, so that the text is copied once.
func replayOps(tx kv.Tx, id, text string, from, to int64) (string, error) {
	ops := tx.Bucket(bucketOps).Bucket([]byte(id))
	if ops == nil || from >= to {
		return text, nil
	}
	var all ot.Op
	c := ops.Cursor()
	for k, v := c.Seek(u64(uint64(from))); k != nil && int64(binary.BigEndian.Uint64(k)) < to; k, v = c.Next() {
		var rec docket.OpRecord
		if err := json.Unmarshal(v, &rec); err != nil {
			return "", fmt.Errorf("decode op %s@%d: %w", id, binary.BigEndian.Uint64(k), err)
		}
		var op ot.Op
		if err := json.Unmarshal(rec.Op, &op); err != nil {
			return "", fmt.Errorf("decode op %s@%d: %w", id, rec.Version, err)
		}
		if all == nil {
			all = op
			continue
		}
		var err error
		if all, err = ot.Compose(all, op); err != nil {
			return "", fmt.Errorf("replay op %s@%d: %w", id, rec.Version, err)
		}
	}
	out, err := ot.Apply(text, all)
	if err != nil {
		return "", fmt.Errorf("replay ops %s@%d-%d: %w", id, from, to, err)
	}
	return out, nil
}

func putDoc(tx kv.Tx, d *docket.Document) error {
	meta := *d
	meta.Body, meta.Role = "", ""
	// The process state lives in the lifecycle record (Status is kept
	// equal to it); fillLifecycle adds it on reads.
	meta.Due, meta.Overdue, meta.Reviewers, meta.Decision = time.Time{}, false, nil, nil
	return putJSON(tx.Bucket(bucketDocs), []byte(d.ID), &meta)
}

// appendOp writes one op log entry, the new body and metadata, and a
// snapshot when the new version is a multiple of SnapshotEvery, all in the
// caller's transaction.
func (s *DocumentService) appendOp(tx kv.Tx, d *docket.Document, rec *docket.OpRecord, text string) error {
	if err := s.logOp(tx, d, rec, text); err != nil {
		return err
	}
	return s.putText(tx, d, text)
}

// logOp stores rec as the document's next op and moves its metadata to
// the new version; a snapshot of text is kept every SnapshotEvery
// versions. The current text and the metadata are stored by putText,
// once for several ops of a commit.
func (s *DocumentService) logOp(tx kv.Tx, d *docket.Document, rec *docket.OpRecord, text string) error {
	ops, err := tx.Bucket(bucketOps).CreateBucketIfNotExists([]byte(d.ID))
	if err != nil {
		return err
	}
	rec.Version = d.Version
	if err := putJSON(ops, u64(uint64(rec.Version)), rec); err != nil {
		return err
	}
	d.Version++
	d.Size = len(text)
	d.UpdatedAt = rec.Time
	if s.db.SnapshotEvery > 0 && d.Version%s.db.SnapshotEvery == 0 {
		snaps, err := tx.Bucket(bucketSnapshots).CreateBucketIfNotExists([]byte(d.ID))
		if err != nil {
			return err
		}
		if err := snaps.Put(u64(uint64(d.Version)), []byte(text)); err != nil {
			return err
		}
	}
	return nil
}

// putText stores a document's current text and its metadata.
func (s *DocumentService) putText(tx kv.Tx, d *docket.Document, text string) error {
	if err := tx.Bucket(bucketBodies).Put([]byte(d.ID), []byte(text)); err != nil {
		return err
	}
	if err := tx.Bucket(bucketBodyVersions).Delete([]byte(d.ID)); err != nil {
		return err
	}
	return putDoc(tx, d)
}

func marshalOp(op ot.Op) (json.RawMessage, error) {
	data, err := op.MarshalJSON()
	if err != nil {
		return nil, fmt.Errorf("marshal op: %w", err)
	}
	return data, nil
}

// CreateDocument implements [docket.DocumentService].
func (s *DocumentService) CreateDocument(ctx context.Context, dc docket.DocumentCreate) (*docket.Document, error) {
	author := docket.UserIDFromContext(ctx)
	if author == "" {
		return nil, docket.Errorf(docket.EUNAUTHORIZED, "Sign in first.")
	}
	title, err := docket.CleanTitle(dc.Title)
	if err != nil {
		return nil, err
	}
	if err := docket.CheckBody(dc.Body); err != nil {
		return nil, err
	}
	if dc.Kind == "" {
		dc.Kind = docket.KindPage
	} else if err := checkKind(dc.Kind); err != nil {
		return nil, err
	}
	tags, err := docket.CleanTags(dc.Tags)
	if err != nil {
		return nil, err
	}
	if len(dc.Source) > 1024 {
		return nil, docket.Errorf(docket.EINVALID, "Source is longer than 1024 bytes.")
	}
	op, err := marshalOp(ot.Diff("", dc.Body))
	if err != nil {
		return nil, err
	}
	now := s.db.Now().UTC()
	d := &docket.Document{
		ID: newID(), Title: title, Kind: dc.Kind, Status: docket.StatusDraft,
		OwnerID: author, CreatedBy: author, Tags: tags, CreatedAt: now, Source: dc.Source,
	}
	err = s.db.update(ctx, func(tx kv.Tx) error {
		sp, err := spaceWithRole(ctx, tx, dc.Space, docket.RoleEditor, "You need the editor role in this space to create documents.")
		if err != nil {
			return err
		}
		d.SpaceID = sp.ID
		if dc.Source != "" {
			key := pair(sp.ID, dc.Source)
			if tx.Bucket(bucketDocSources).Get(key) != nil {
				return docket.Errorf(docket.ECONFLICT, "A document from this source already exists in the space.")
			}
			if err := tx.Bucket(bucketDocSources).Put(key, []byte(d.ID)); err != nil {
				return err
			}
		}
		if err := tx.Bucket(bucketSpaceDocs).Put(pair(sp.ID, d.ID), nil); err != nil {
			return err
		}
		if err := s.appendOp(tx, d, &docket.OpRecord{Author: author, Time: now, Op: op}, dc.Body); err != nil {
			return err
		}
		return s.db.announce(ctx, tx, &docket.Event{
			Type: docket.EventDocCreated, Time: now, SpaceID: sp.ID, DocID: d.ID,
			Data: eventData(map[string]any{"kind": d.Kind}),
		}, docket.ChangeText)
	})
	if err != nil {
		return nil, err
	}
	d.Body = dc.Body
	return d, nil
}

// FindDocumentByID implements [docket.DocumentService].
func (s *DocumentService) FindDocumentByID(ctx context.Context, id string) (*docket.Document, error) {
	return s.find(ctx, id, true)
}

// FindDocumentMeta implements [docket.DocumentService].
// The metadata is cached per caller until the next write (readCache):
// the document page, its HTML and every live op read it.
func (s *DocumentService) FindDocumentMeta(ctx context.Context, id string) (*docket.Document, error) {
	key := metaKey{docID: id, system: docket.IsSystemContext(ctx)}
	if u := docket.UserFromContext(ctx); u != nil {
		key.userID = u.ID
	}
	gen := s.db.gen.Load()
	if d, ok := s.db.metas.get(key, gen); ok && ctx.Err() == nil {
		d = cloneDoc(d)
		d.Overdue = (&docket.Lifecycle{Status: d.Status, Due: d.Due}).Overdue(s.db.Now())
		return d, nil
	}
	d, err := s.find(ctx, id, false)
	if err == nil {
		s.db.metas.put(key, gen, cloneDoc(d))
	}
	return d, err
}

// find reads a document the caller may read with its process state, and
// its body and the standing of its approvals if withBody is set.
func (s *DocumentService) find(ctx context.Context, id string, withBody bool) (*docket.Document, error) {
	return inTx(ctx, s.db.view, func(tx kv.Tx) (*docket.Document, error) {
		d, _, err := readableDoc(ctx, tx, id)
		if err != nil {
			return nil, err
		}
		if withBody {
			if d.Body, err = body(tx, d); err != nil {
				return nil, err
			}
		}
		detail := metaDetail
		if withBody {
			detail = fullDetail
		}
		return d, fillLifecycle(tx, d, s.db.Now(), detail)
	})
}

// FindDocuments implements [docket.DocumentService].
func (s *DocumentService) FindDocuments(ctx context.Context, f docket.DocumentFilter) ([]*docket.Document, int, error) {
	if f.Status != "" && !f.Status.Valid() {
		return nil, 0, docket.Errorf(docket.EINVALID, "Status %q is not known.", f.Status)
	}
	if f.Kind != "" && !f.Kind.Valid() {
		return nil, 0, docket.Errorf(docket.EINVALID, "Kind %q is not known.", f.Kind)
	}
	if f.Offset < 0 || f.Limit < 0 {
		return nil, 0, docket.Errorf(docket.EINVALID, "Limit and offset must not be negative.")
	}
	now := s.db.Now()
	all, err := inTx(ctx, s.db.view, func(tx kv.Tx) ([]*docket.Document, error) {
		var spaceIDs []string
		if f.Space != "" {
			sp, _, err := readableSpace(ctx, tx, f.Space)
			if err != nil {
				return nil, err
			}
			spaceIDs = []string{sp.ID}
		} else {
			var err error
			if spaceIDs, err = readableSpaceIDs(ctx, tx); err != nil {
				return nil, err
			}
		}
		owner := ""
		if f.Owner != "" {
			u, err := findUserRef(tx, f.Owner)
			if err != nil {
				return nil, nil // no such owner: no documents
			}
			owner = u.ID
		}
		tag := lowerTrim(f.Tag)
		var all []*docket.Document
		for _, spaceID := range spaceIDs {
			for id := range prefixed(tx.Bucket(bucketSpaceDocs), spaceID) {
				d, err := findDoc(tx, string(id))
				if err != nil {
					return nil, err
				}
				if err := fillLifecycle(tx, d, now, listDetail); err != nil {
					return nil, err
				}
				if (f.Status != "" && d.Status != f.Status) || (f.Kind != "" && d.Kind != f.Kind) ||
					(owner != "" && d.OwnerID != owner) || (tag != "" && !slices.Contains(d.Tags, tag)) {
					continue
				}
				all = append(all, d)
			}
		}
		return all, nil
	})
	if err != nil {
		return nil, 0, err
	}
	slices.SortFunc(all, func(a, b *docket.Document) int {
		return cmp.Or(b.UpdatedAt.Compare(a.UpdatedAt), cmp.Compare(a.ID, b.ID)) // newest first
	})
	return page(all, f.Offset, f.Limit), len(all), nil
}

// FindDocumentBySource returns the document imported from source into a
// space, or ENOTFOUND.
func (s *DocumentService) FindDocumentBySource(ctx context.Context, space, source string) (*docket.Document, error) {
	return inTx(ctx, s.db.view, func(tx kv.Tx) (*docket.Document, error) {
		sp, _, err := readableSpace(ctx, tx, space)
		if err != nil {
			return nil, err
		}
		id := tx.Bucket(bucketDocSources).Get(pair(sp.ID, source))
		if id == nil {
			return nil, docket.Errorf(docket.ENOTFOUND, "Document not found.")
		}
		d, err := findDoc(tx, string(id))
		if err != nil {
			return nil, err
		}
		d.Body, err = body(tx, d)
		return d, err
	})
}

// UpdateDocument implements [docket.DocumentService].
func (s *DocumentService) UpdateDocument(ctx context.Context, id string, upd docket.DocumentUpdate) (*docket.Document, error) {
	return inTx(ctx, s.db.update, func(tx kv.Tx) (*docket.Document, error) {
		d, err := editableDoc(ctx, tx, id)
		if err != nil {
			return nil, err
		}
		changed := map[string]any{}
		if upd.Title != nil {
			title, err := docket.CleanTitle(*upd.Title)
			if err != nil {
				return nil, err
			}
			if title != d.Title {
				changed["title"], d.Title = title, title
			}
		}
		if upd.Tags != nil {
			tags, err := docket.CleanTags(*upd.Tags)
			if err != nil {
				return nil, err
			}
			if !slices.Equal(tags, d.Tags) {
				changed["tags"], d.Tags = tags, tags
			}
		}
		if upd.Kind != nil {
			if err := checkKind(*upd.Kind); err != nil {
				return nil, err
			}
			if *upd.Kind != d.Kind {
				changed["kind"], d.Kind = *upd.Kind, *upd.Kind
			}
		}
		d.UpdatedAt = s.db.Now().UTC()
		if err := putDoc(tx, d); err != nil {
			return nil, err
		}
		if err := fillLifecycle(tx, d, s.db.Now(), fullDetail); err != nil {
			return nil, err
		}
		if len(changed) == 0 {
			return d, nil
		}
		return d, s.db.announce(ctx, tx, &docket.Event{
			Type: docket.EventDocUpdated, Time: d.UpdatedAt, SpaceID: d.SpaceID, DocID: d.ID, Data: eventData(changed),
		}, docket.ChangeMeta)
	})
}

// checkKind refuses a kind that is not known.
func checkKind(k docket.Kind) error {
	if !k.Valid() {
		return docket.Errorf(docket.EINVALID, "Kind %q is not one of rfc, notes, brainstorm, page.", k)
	}
	return nil
}

// EditDocument implements [docket.DocumentService].
func (s *DocumentService) EditDocument(ctx context.Context, id string, e docket.Edit) (*docket.Document, error) {
	author := docket.UserIDFromContext(ctx)
	if (e.Op == nil) == (e.Body == nil) {
		return nil, docket.Errorf(docket.EINVALID, "An edit carries exactly one of op and body.")
	}
	var op ot.Op
	if e.Op != nil {
		if err := json.Unmarshal(e.Op, &op); err != nil {
			return nil, docket.Errorf(docket.EINVALID, "Invalid op: %v", err)
		}
		// Unnormalised ops (adjacent inserts) do not converge under
		// transform; store every op in its normal form.
		op = ot.Normalize(op)
	} else if err := docket.CheckBody(*e.Body); err != nil {
		return nil, err
	}
	return inTx(ctx, s.db.update, func(tx kv.Tx) (*docket.Document, error) {
		d, err := editableDoc(ctx, tx, id)
		if err != nil {
			return nil, err
		}
		if e.Version != d.Version {
			return nil, &docket.Error{
				Code:    docket.ECONFLICT,
				Message: fmt.Sprintf("The document is at version %d, not %d; fetch it and edit again.", d.Version, e.Version),
				Data:    map[string]any{"version": d.Version},
			}
		}
		old, err := body(tx, d)
		if err != nil {
			return nil, err
		}
		var text string
		if e.Body != nil {
			text = *e.Body
			op = ot.Diff(old, text)
		} else if text, err = ot.Apply(old, op); err != nil {
			return nil, docket.Errorf(docket.EINVALID, "Op does not apply to version %d: %v", d.Version, err)
		}
		if err := docket.CheckBody(text); err != nil {
			return nil, err
		}
		if err := fillLifecycle(tx, d, s.db.Now(), fullDetail); err != nil {
			return nil, err
		}
		d.Body = text
		if text == old {
			return d, nil // a no-op is not stored
		}
		raw, err := marshalOp(op)
		if err != nil {
			return nil, err
		}
		rec := &docket.OpRecord{Src: e.Src, Seq: e.Seq, Author: author, Time: s.db.Now().UTC(), Op: raw}
		if err := s.appendOp(tx, d, rec, text); err != nil {
			return nil, err
		}
		return d, s.db.announce(ctx, tx, &docket.Event{
			Type: docket.EventDocEdited, Time: rec.Time, SpaceID: d.SpaceID, DocID: d.ID,
			Data: eventData(map[string]any{"version": d.Version}),
		}, docket.ChangeText)
	})
}

// DeleteDocument implements [docket.DocumentService].
func (s *DocumentService) DeleteDocument(ctx context.Context, id string) error {
	return s.db.update(ctx, func(tx kv.Tx) error {
		d, err := manageableDoc(ctx, tx, id, "Only the owner or a space admin may delete a document.")
		if err != nil {
			return err
		}
		// The document's events stay in the log and in its space's feed;
		// only the per-document index goes with it.
		if err := s.db.announce(ctx, tx, &docket.Event{
			Type: docket.EventDocDeleted, SpaceID: d.SpaceID, DocID: d.ID, Title: d.Title,
		}, docket.ChangeDeleted); err != nil {
			return err
		}
		for _, name := range [][]byte{bucketDocEvents, bucketRecordings, bucketVisits, bucketReminders} {
			if err := deletePrefix(tx.Bucket(name), id, nil); err != nil {
				return err
			}
		}
		if err := deleteThreads(tx, id); err != nil {
			return err
		}
		for _, name := range [][]byte{bucketOps, bucketSnapshots} {
			if b := tx.Bucket(name); b.Bucket([]byte(id)) != nil {
				if err := b.DeleteBucket([]byte(id)); err != nil {
					return err
				}
			}
		}
		if d.Source != "" {
			if err := tx.Bucket(bucketDocSources).Delete(pair(d.SpaceID, d.Source)); err != nil {
				return err
			}
		}
		if err := deleteDecisionData(tx, id); err != nil {
			return err
		}
		if err := tx.Bucket(bucketSpaceDocs).Delete(pair(d.SpaceID, id)); err != nil {
			return err
		}
		for _, name := range [][]byte{bucketBodies, bucketBodyVersions, bucketDocs} {
			if err := tx.Bucket(name).Delete([]byte(id)); err != nil {
				return err
			}
		}
		return nil
	})
}

// FindOps implements [docket.DocumentService].
func (s *DocumentService) FindOps(ctx context.Context, id string, from, to int64, limit int) ([]*docket.OpRecord, error) {
	if limit <= 0 || limit > docket.MaxOpsPage {
		limit = docket.MaxOpsPage
	}
	return inTx(ctx, s.db.view, func(tx kv.Tx) ([]*docket.OpRecord, error) {
		d, _, err := readableDoc(ctx, tx, id)
		if err != nil {
			return nil, err
		}
		if to > d.Version {
			to = d.Version
		}
		if from < 0 || from > d.Version || to < from {
			return nil, docket.Errorf(docket.EINVALID, "Versions must satisfy 0 <= from <= to <= %d.", d.Version)
		}
		return readOps(tx, id, from, to, limit)
	})
}

// readOps returns the op log entries of a document with from <= version
// < to, at most limit, in tx.
func readOps(tx kv.Tx, id string, from, to int64, limit int) ([]*docket.OpRecord, error) {
	out := []*docket.OpRecord{}
	ops := tx.Bucket(bucketOps).Bucket([]byte(id))
	if ops == nil {
		return out, nil
	}
	c := ops.Cursor()
	for k, v := c.Seek(u64(uint64(from))); k != nil && len(out) < limit; k, v = c.Next() {
		if int64(binary.BigEndian.Uint64(k)) >= to {
			break
		}
		var rec docket.OpRecord
		if err := json.Unmarshal(v, &rec); err != nil {
			return nil, fmt.Errorf("decode op %s@%d: %w", id, binary.BigEndian.Uint64(k), err)
		}
		out = append(out, &rec)
	}
	return out, nil
}

// DocumentAt implements [docket.DocumentService]. It starts from the
// nearest snapshot at or before the version and applies the ops after it.
func (s *DocumentService) DocumentAt(ctx context.Context, id string, version int64) (string, error) {
	return inTx(ctx, s.db.view, func(tx kv.Tx) (string, error) {
		d, _, err := readableDoc(ctx, tx, id)
		if err != nil {
			return "", err
		}
		if version < 0 || version > d.Version {
			return "", docket.Errorf(docket.EINVALID, "Version must be between 0 and %d.", d.Version)
		}
		return textAt(tx, d, version)
	})
}

// textsAt returns a reader of d's text at versions, which reads each
// version once however often it is asked for it.
func textsAt(tx kv.Tx, d *docket.Document) func(version int64) (string, error) {
	texts := map[int64]string{}
	return func(v int64) (string, error) {
		if t, ok := texts[v]; ok {
			return t, nil
		}
		t, err := textAt(tx, d, v)
		if err == nil {
			texts[v] = t
		}
		return t, err
	}
}

// textAt returns the text of document d at a version between 0 and its
// current one, starting from the nearest snapshot at or before the version
// and applying the ops after it.
func textAt(tx kv.Tx, d *docket.Document, version int64) (string, error) {
	id := d.ID
	if version == d.Version {
		return body(tx, d)
	}
	text, at := "", int64(0)
	if snaps := tx.Bucket(bucketSnapshots).Bucket([]byte(id)); snaps != nil {
		c := snaps.Cursor()
		k, v := c.Seek(u64(uint64(version)))
		if k == nil || int64(binary.BigEndian.Uint64(k)) > version {
			k, v = c.Prev()
		}
		if k != nil {
			text, at = string(v), int64(binary.BigEndian.Uint64(k))
		}
	}
	return replayOps(tx, id, text, at, version)
}

// DocumentCount returns the number of documents in the file.
func (db *DB) DocumentCount() int {
	n := 0
	db.kv.View(func(tx kv.Tx) error {
		n = countKeys(tx.Bucket(bucketDocs))
		return nil
	})
	return n
}
