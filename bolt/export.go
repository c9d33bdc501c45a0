package bolt

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"

	docket "github.com/docket-dev/docket"
	"github.com/docket-dev/docket/kv"
)

// Interface guards.
var (
	_ docket.Exporter = (*DB)(nil)
	_ docket.Restorer = (*DB)(nil)
)

// ExportSpace implements [docket.Exporter]. The members and the
// documents are in order of joining and of creation.
func (db *DB) ExportSpace(ctx context.Context, idOrSlug string) (*docket.SpaceRecord, []string, error) {
	var rec *docket.SpaceRecord
	var ids []string
	err := db.view(ctx, func(tx kv.Tx) error {
		sp, err := spaceWithRole(ctx, tx, idOrSlug, docket.RoleAdmin, "Only an admin of this space may export it.")
		if err != nil {
			return err
		}
		sp.Role = ""
		rec = &docket.SpaceRecord{Space: sp, Members: []*docket.Member{}}
		for userID, v := range prefixed(tx.Bucket(bucketMembers), sp.ID) {
			var m memberRecord
			if err := json.Unmarshal(v, &m); err != nil {
				return fmt.Errorf("decode member %s/%s: %w", sp.ID, userID, err)
			}
			mem := &docket.Member{SpaceID: sp.ID, UserID: string(userID), Role: m.Role, AddedAt: m.AddedAt}
			if u, err := findUser(tx, mem.UserID); err == nil {
				mem.Name, mem.Email = u.Name, u.Email
			}
			rec.Members = append(rec.Members, mem)
		}
		slices.SortStableFunc(rec.Members, func(a, b *docket.Member) int {
			return cmp.Or(a.AddedAt.Compare(b.AddedAt), cmp.Compare(a.Email, b.Email))
		})
		var docs []*docket.Document
		for docID := range prefixed(tx.Bucket(bucketSpaceDocs), sp.ID) {
			d, err := findDoc(tx, string(docID))
			if err != nil {
				return err
			}
			docs = append(docs, d)
		}
		slices.SortStableFunc(docs, func(a, b *docket.Document) int { return a.CreatedAt.Compare(b.CreatedAt) })
		for _, d := range docs {
			ids = append(ids, d.ID)
		}
		return nil
	})
	return rec, ids, err
}

// ExportDocument implements [docket.Exporter].
func (db *DB) ExportDocument(ctx context.Context, id string) (*docket.DocumentRecord, error) {
	return inTx(ctx, db.view, func(tx kv.Tx) (*docket.DocumentRecord, error) {
		d, role, err := readableDoc(ctx, tx, id)
		if err != nil {
			return nil, err
		}
		if role != docket.RoleAdmin {
			return nil, docket.Errorf(docket.EFORBIDDEN, "Only an admin of this space may export it.")
		}
		d.Role = ""
		if d.Body, err = body(tx, d); err != nil {
			return nil, err
		}
		rec := &docket.DocumentRecord{Document: d}
		if rec.Ops, err = decodeBucket[docket.OpRecord](tx.Bucket(bucketOps).Bucket([]byte(id)), "op"); err != nil {
			return nil, err
		}
		if v := tx.Bucket(bucketLifecycles).Get([]byte(id)); v != nil {
			rec.Lifecycle = new(docket.Lifecycle)
			if err := json.Unmarshal(v, rec.Lifecycle); err != nil {
				return nil, fmt.Errorf("decode lifecycle of %s: %w", id, err)
			}
		}
		if rec.Threads, err = exportThreads(tx, id); err != nil {
			return nil, err
		}
		if rec.Reviews, err = decodePrefixed[docket.Review](tx.Bucket(bucketReviews), id, "review"); err != nil {
			return nil, err
		}
		if rec.Handoffs, err = decodePrefixed[docket.Handoff](tx.Bucket(bucketHandoffs), id, "handoff"); err != nil {
			return nil, err
		}
		if rec.Minutes, err = decodePrefixed[docket.MinutesRecord](tx.Bucket(bucketMinutes), id, "minutes"); err != nil {
			return nil, err
		}
		slices.SortStableFunc(rec.Minutes, func(a, b *docket.MinutesRecord) int { return a.FrozenAt.Compare(b.FrozenAt) })
		if rec.Recordings, err = decodePrefixed[docket.Recording](tx.Bucket(bucketRecordings), id, "live session"); err != nil {
			return nil, err
		}
		slices.SortStableFunc(rec.Recordings, func(a, b *docket.Recording) int { return a.StartedAt.Compare(b.StartedAt) })
		rec.Actions = []*docket.ActionItem{}
		if _, err := getJSON(tx.Bucket(bucketActions), []byte(id), &rec.Actions); err != nil {
			return nil, err
		}
		rec.Events = []*docket.Event{}
		for seq := range prefixed(tx.Bucket(bucketDocEvents), id) {
			var ev docket.Event
			if ok, err := getJSON(tx.Bucket(bucketEvents), seq, &ev); err != nil {
				return nil, err
			} else if ok {
				ev.Seq = 0
				rec.Events = append(rec.Events, &ev)
			}
		}
		return rec, nil
	})
}

// exportThreads returns a document's threads in order, each with its
// anchor as made and its comments.
func exportThreads(tx kv.Tx, docID string) ([]*docket.Thread, error) {
	recs, err := docThreads(tx, docID)
	if err != nil {
		return nil, err
	}
	out := []*docket.Thread{}
	for _, rec := range recs {
		th := rec.Thread
		if th.Comments, err = threadComments(tx, th.ID); err != nil {
			return nil, err
		}
		out = append(out, &th)
	}
	return out, nil
}

// decodeBucket decodes every value of b (which may be nil) in key order.
func decodeBucket[T any](b kv.Bucket, what string) ([]*T, error) {
	out := []*T{}
	if b == nil {
		return out, nil
	}
	err := b.ForEach(func(k, v []byte) error {
		x := new(T)
		if err := json.Unmarshal(v, x); err != nil {
			return fmt.Errorf("decode %s %x: %w", what, k, err)
		}
		out = append(out, x)
		return nil
	})
	return out, err
}

// ExportUsers implements [docket.Exporter].
func (db *DB) ExportUsers(ctx context.Context, ids []string) ([]*docket.User, error) {
	return inTx(ctx, db.view, func(tx kv.Tx) ([]*docket.User, error) {
		out := []*docket.User{}
		for _, id := range ids {
			if u, err := findUser(tx, id); err == nil {
				out = append(out, &u.User)
			} else if docket.ErrorCode(err) != docket.ENOTFOUND {
				return nil, err
			}
		}
		return out, nil
	})
}
