package bolt

import (
	"context"
	"encoding/json"
	"fmt"

	docket "github.com/docket-dev/docket"
	"github.com/docket-dev/docket/collab/ot"
	"github.com/docket-dev/docket/kv"
)

// restoring refuses anyone but the system.
func restoring(ctx context.Context) error {
	if !docket.IsSystemContext(ctx) {
		return docket.Errorf(docket.EFORBIDDEN, "Only the system may restore an export.")
	}
	return nil
}

// RestoreUser implements [docket.Restorer]. The account it creates has
// no password and is deactivated.
func (db *DB) RestoreUser(ctx context.Context, u *docket.User) (*docket.User, error) {
	if err := restoring(ctx); err != nil {
		return nil, err
	}
	email := lowerTrim(u.Email)
	if email == "" {
		return nil, docket.Errorf(docket.EINVALID, "A restored user needs an email.")
	}
	return inTx(ctx, db.update, func(tx kv.Tx) (*docket.User, error) {
		if id := findUserIDByEmail(tx, email); id != "" {
			rec, err := findUser(tx, id)
			if err != nil {
				return nil, err
			}
			return &rec.User, nil
		}
		rec := &userRecord{User: *u}
		rec.ID, rec.Email, rec.Role, rec.Deactivated = newID(), email, docket.SiteMember, true
		if err := putJSON(tx.Bucket(bucketUsers), []byte(rec.ID), rec); err != nil {
			return nil, err
		}
		if err := tx.Bucket(bucketUserEmails).Put([]byte(email), []byte(rec.ID)); err != nil {
			return nil, err
		}
		return &rec.User, nil
	})
}

// RestoreSpace implements [docket.Restorer].
func (db *DB) RestoreSpace(ctx context.Context, in *docket.SpaceRecord, ids map[string]string) (*docket.Space, error) {
	if err := restoring(ctx); err != nil {
		return nil, err
	}
	if in.Space == nil || !docket.ValidSlug(in.Space.Slug) {
		return nil, docket.Errorf(docket.EINVALID, "A restored space needs a valid slug.")
	}
	return inTx(ctx, db.update, func(tx kv.Tx) (*docket.Space, error) {
		sp, err := findSpace(tx, in.Space.Slug)
		if docket.ErrorCode(err) == docket.ENOTFOUND {
			all := copyIDs(ids)
			all[in.Space.ID] = newID()
			rec, err := docket.RemapIDs(in, all)
			if err != nil {
				return nil, err
			}
			sp = rec.Space
			if err := putJSON(tx.Bucket(bucketSpaces), []byte(sp.ID), sp); err != nil {
				return nil, err
			}
			if err := tx.Bucket(bucketSpaceSlugs).Put([]byte(sp.Slug), []byte(sp.ID)); err != nil {
				return nil, err
			}
		} else if err != nil {
			return nil, err
		}
		for _, m := range in.Members {
			uid, ok := ids[m.UserID]
			if !ok || tx.Bucket(bucketUserSpaces).Get(pair(uid, sp.ID)) != nil {
				continue
			}
			if err := putMember(tx, sp.ID, uid, m.Role, m.AddedAt); err != nil {
				return nil, err
			}
		}
		return sp, nil
	})
}

func copyIDs(ids map[string]string) map[string]string {
	out := make(map[string]string, len(ids))
	for k, v := range ids {
		out[k] = v
	}
	return out
}

// RestoreDocument implements [docket.Restorer]. The text is rebuilt from
// the op log, with a snapshot every SnapshotEvery versions as commits
// leave them; events are numbered anew and deliver no webhooks.
func (db *DB) RestoreDocument(ctx context.Context, in *docket.DocumentRecord, ids map[string]string) (*docket.Document, error) {
	if err := restoring(ctx); err != nil {
		return nil, err
	}
	if in.Document == nil {
		return nil, docket.Errorf(docket.EINVALID, "A document record needs its document.")
	}
	all := copyIDs(ids)
	for _, id := range in.OwnIDs() {
		if _, ok := all[id]; !ok {
			all[id] = newID()
		}
	}
	rec, err := docket.RemapIDs(in, all)
	if err != nil {
		return nil, err
	}
	d := rec.Document
	text, err := db.checkOps(rec)
	if err != nil {
		return nil, err
	}
	d.Body, d.Role = "", ""
	d.Size = len(text)
	err = db.update(ctx, func(tx kv.Tx) error {
		if _, err := findSpace(tx, d.SpaceID); err != nil {
			return fmt.Errorf("restore %q: its space: %w", d.Title, err)
		}
		if d.Source != "" {
			key := pair(d.SpaceID, d.Source)
			if tx.Bucket(bucketDocSources).Get(key) != nil {
				d.Source = ""
			} else if err := tx.Bucket(bucketDocSources).Put(key, []byte(d.ID)); err != nil {
				return err
			}
		}
		if err := tx.Bucket(bucketSpaceDocs).Put(pair(d.SpaceID, d.ID), nil); err != nil {
			return err
		}
		if err := db.restoreOps(tx, d.ID, rec.Ops); err != nil {
			return err
		}
		if err := tx.Bucket(bucketBodies).Put([]byte(d.ID), []byte(text)); err != nil {
			return err
		}
		if err := putDoc(tx, d); err != nil {
			return err
		}
		if rec.Lifecycle != nil {
			if err := putJSON(tx.Bucket(bucketLifecycles), []byte(d.ID), rec.Lifecycle); err != nil {
				return err
			}
		}
		return restoreParts(tx, d, rec)
	})
	if err != nil {
		return nil, err
	}
	return d, nil
}

// checkOps checks that the op log of rec counts the versions from 0 to
// the document's and applies, and returns the text it builds.
func (db *DB) checkOps(rec *docket.DocumentRecord) (string, error) {
	d := rec.Document
	if int64(len(rec.Ops)) != d.Version {
		return "", docket.Errorf(docket.EINVALID, "Document %q is at version %d but its record has %d ops.", d.Title, d.Version, len(rec.Ops))
	}
	text := ""
	for i, r := range rec.Ops {
		if r.Version != int64(i) {
			return "", docket.Errorf(docket.EINVALID, "Document %q: op %d of its record is numbered %d.", d.Title, i, r.Version)
		}
		var op ot.Op
		if err := json.Unmarshal(r.Op, &op); err != nil {
			return "", docket.Errorf(docket.EINVALID, "Document %q: op %d does not decode: %v", d.Title, i, err)
		}
		var err error
		if text, err = ot.Apply(text, op); err != nil {
			return "", docket.Errorf(docket.EINVALID, "Document %q: op %d does not apply: %v", d.Title, i, err)
		}
	}
	return text, nil
}

// restoreOps writes a checked op log and its snapshots.
func (db *DB) restoreOps(tx kv.Tx, docID string, ops []*docket.OpRecord) error {
	b, err := tx.Bucket(bucketOps).CreateBucketIfNotExists([]byte(docID))
	if err != nil {
		return err
	}
	text := ""
	for _, r := range ops {
		if err := putJSON(b, u64(uint64(r.Version)), r); err != nil {
			return err
		}
		v := r.Version + 1
		if db.SnapshotEvery <= 0 || v%db.SnapshotEvery != 0 {
			continue
		}
		for _, s := range ops[v-db.SnapshotEvery : v] {
			var op ot.Op
			if err := json.Unmarshal(s.Op, &op); err != nil {
				return err
			}
			if text, err = ot.Apply(text, op); err != nil {
				return err
			}
		}
		snaps, err := tx.Bucket(bucketSnapshots).CreateBucketIfNotExists([]byte(docID))
		if err != nil {
			return err
		}
		if err := snaps.Put(u64(uint64(v)), []byte(text)); err != nil {
			return err
		}
	}
	return nil
}

// restoreParts writes a restored document's threads, reviews, handoffs,
// minutes, live sessions, action items and events.
func restoreParts(tx kv.Tx, d *docket.Document, rec *docket.DocumentRecord) error {
	for _, th := range rec.Threads {
		if err := putThreadRecord(tx, th, th.Comments...); err != nil {
			return err
		}
	}
	for _, r := range rec.Reviews {
		if err := appendJSON(tx.Bucket(bucketReviews), d.ID, r); err != nil {
			return err
		}
	}
	for _, h := range rec.Handoffs {
		if err := appendJSON(tx.Bucket(bucketHandoffs), d.ID, h); err != nil {
			return err
		}
	}
	for _, m := range rec.Minutes {
		if err := putJSON(tx.Bucket(bucketMinutes), pair(d.ID, m.ID), m); err != nil {
			return err
		}
	}
	for _, s := range rec.Recordings {
		if err := putJSON(tx.Bucket(bucketRecordings), pair(d.ID, s.ID), s); err != nil {
			return err
		}
	}
	if err := restoreActions(tx, d.ID, rec.Actions); err != nil {
		return err
	}
	for _, ev := range rec.Events {
		seq, err := tx.Bucket(bucketEvents).NextSequence()
		if err != nil {
			return err
		}
		ev.Seq = int64(seq)
		if err := putJSON(tx.Bucket(bucketEvents), u64(seq), ev); err != nil {
			return err
		}
		if err := tx.Bucket(bucketDocEvents).Put(seqKey(d.ID, seq), nil); err != nil {
			return err
		}
		if err := tx.Bucket(bucketSpaceEvents).Put(seqKey(ev.SpaceID, seq), nil); err != nil {
			return err
		}
	}
	return nil
}

// restoreActions stores a document's action items and indexes them
// under the users they name.
func restoreActions(tx kv.Tx, docID string, items []*docket.ActionItem) error {
	if items == nil {
		items = []*docket.ActionItem{}
	}
	data, err := json.Marshal(items)
	if err != nil {
		return err
	}
	st := &actionState{docID: docID, data: data}
	for _, it := range items {
		if it.UserID != "" {
			st.add = append(st.add, it.UserID)
		}
	}
	return st.apply(tx)
}
