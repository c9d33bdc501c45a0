package bolt

import (
	"context"
	"encoding/binary"

	docket "github.com/docket-dev/docket"
	"github.com/docket-dev/docket/kv"
)

// Interface guard.
var (
	_ docket.OpLog     = (*LiveStore)(nil)
	_ docket.OpRebaser = (*LiveStore)(nil)
)

// LiveStore is the op log of the live co-editing hub. It checks no
// permissions: the hub's callers do.
type LiveStore struct {
	db   *DB
	docs *DocumentService
}

// NewLiveStore returns the hub's storage over db.
func NewLiveStore(db *DB) *LiveStore {
	return &LiveStore{db: db, docs: NewDocumentService(db)}
}

// LoadDocument implements [docket.OpLog].
func (s *LiveStore) LoadDocument(ctx context.Context, id string) (int64, string, error) {
	var version int64
	var text string
	err := s.db.view(ctx, func(tx kv.Tx) error {
		d, err := findDoc(tx, id)
		if err != nil {
			return err
		}
		version = d.Version
		text, err = body(tx, d)
		return err
	})
	return version, text, err
}

// LoadOps implements [docket.OpLog].
func (s *LiveStore) LoadOps(ctx context.Context, id string, from, to int64) ([]*docket.OpRecord, error) {
	return docket.FindAllOps(docket.NewSystemContext(ctx), s.docs, id, from, to)
}

// CommitOps implements [docket.OpLog]: every commit in one transaction,
// durable when it returns.
func (s *LiveStore) CommitOps(ctx context.Context, commits []docket.OpCommit) error {
	return s.commitOps(ctx, commits, nil)
}

// CommitOpsRebasing implements [docket.OpRebaser]: a document whose
// first commit is behind it is rebased in the same transaction.
func (s *LiveStore) CommitOpsRebasing(ctx context.Context, commits []docket.OpCommit, rebase func(docID string, missing []*docket.OpRecord) ([]docket.OpCommit, error)) error {
	if rebase == nil {
		return docket.Errorf(docket.EINVALID, "CommitOpsRebasing needs a rebase function.")
	}
	return s.commitOps(ctx, commits, rebase)
}

// commitOps writes commits in one transaction, document by document in
// the order they first appear. With rebase nil, a commit behind its
// document is ECONFLICT.
func (s *LiveStore) commitOps(ctx context.Context, commits []docket.OpCommit, rebase func(string, []*docket.OpRecord) ([]docket.OpCommit, error)) error {
	var order []string
	byDoc := make(map[string][]docket.OpCommit, 1)
	for _, c := range commits {
		if _, ok := byDoc[c.DocID]; !ok {
			order = append(order, c.DocID)
		}
		byDoc[c.DocID] = append(byDoc[c.DocID], c)
	}
	return s.db.update(ctx, func(tx kv.Tx) error {
		for _, id := range order {
			if err := s.commitDoc(ctx, tx, id, byDoc[id], rebase); err != nil {
				return err
			}
		}
		return nil
	})
}

// commitDoc logs one document's commits in tx. A commit often holds
// several ops of one document: each op is logged, but the current text
// and the metadata are written once, with the text after its last op.
func (s *LiveStore) commitDoc(ctx context.Context, tx kv.Tx, id string, commits []docket.OpCommit, rebase func(string, []*docket.OpRecord) ([]docket.OpCommit, error)) error {
	d, err := findDoc(tx, id)
	if err != nil {
		return err
	}
	if at := commits[0].Rec.Version; rebase != nil && at >= 0 && at < d.Version {
		missing, err := readOps(tx, id, at, d.Version, int(d.Version-at))
		if err != nil {
			return err
		}
		if int64(len(missing)) != d.Version-at {
			return docket.Errorf(docket.EINTERNAL, "op log of %s has gaps", id)
		}
		if commits, err = rebase(id, missing); err != nil {
			return err
		}
		if len(commits) == 0 {
			return nil
		}
	}
	from := d.Version
	var text string
	for i := range commits {
		c := &commits[i]
		if c.DocID != id {
			return docket.Errorf(docket.EINTERNAL, "A rebase of document %s returned a commit of %s.", id, c.DocID)
		}
		if d.Version != c.Rec.Version {
			return docket.Errorf(docket.ECONFLICT, "Document %s is at version %d, not %d.", id, d.Version, c.Rec.Version)
		}
		rec := c.Rec
		if err := s.docs.logOp(tx, d, &rec, c.Text); err != nil {
			return err
		}
		text = c.Text
		// Live ops make no events (there would be one per keystroke): the
		// session that ends makes one. An edit made through the API does.
		if c.Announce {
			if err := s.db.appendEvent(ctx, tx, &docket.Event{
				Type: docket.EventDocEdited, Time: rec.Time, ActorID: rec.Author, SpaceID: d.SpaceID, DocID: d.ID,
				Data: eventData(map[string]any{"version": d.Version}),
			}); err != nil {
				return err
			}
		}
	}
	if err := s.putBody(tx, d, text, from); err != nil {
		return err
	}
	// One change per document per commit.
	s.db.notify(tx, docket.Change{Kind: docket.ChangeText, DocID: id, SpaceID: d.SpaceID})
	return nil
}

// putBody stores a document's metadata after a live commit that moved it
// from version from, and its text unless the text is longer than
// BodyInline and the stored one is fewer than BodyLag versions old. The
// version of a stored text that is older than the document is kept in
// bucketBodyVersions, and reads apply the ops after it ([body]).
func (s *LiveStore) putBody(tx kv.Tx, d *docket.Document, text string, from int64) error {
	if len(text) > s.db.BodyInline && s.db.BodyLag > 1 {
		versions := tx.Bucket(bucketBodyVersions)
		at := from // the stored text is current when it has no version
		if v := versions.Get([]byte(d.ID)); v != nil {
			at = int64(binary.BigEndian.Uint64(v))
		}
		if d.Version-at < s.db.BodyLag {
			if err := versions.Put([]byte(d.ID), u64(uint64(at))); err != nil {
				return err
			}
			return putDoc(tx, d)
		}
	}
	return s.docs.putText(tx, d, text)
}
