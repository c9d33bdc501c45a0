package bolt

import (
	"context"
	"encoding/json"
	"fmt"

	docket "github.com/docket-dev/docket"
	"github.com/docket-dev/docket/kv"
)

// Scanner walks every document, comment, decision, set of frozen minutes
// and event in order, a page per read transaction, for rebuilding derived
// data such as the search index, and loads them by id to show search hits.
// It checks no permissions: only trusted in-process code holds one.
type Scanner struct{ db *DB }

// NewScanner returns a Scanner over db.
func NewScanner(db *DB) *Scanner { return &Scanner{db: db} }

// ScanDocuments returns up to limit documents whose ids sort after the
// given one, with their bodies if withBody is set.
func (s *Scanner) ScanDocuments(ctx context.Context, after string, limit int, withBody bool) ([]*docket.Document, error) {
	return inTx(ctx, s.db.view, func(tx kv.Tx) ([]*docket.Document, error) {
		var bodyErr error
		out, err := scanJSON(tx.Bucket(bucketDocs), after, limit, "document", func(d *docket.Document) bool {
			if withBody && bodyErr == nil {
				d.Body, bodyErr = body(tx, d)
			}
			return bodyErr == nil
		})
		if err == nil {
			err = bodyErr
		}
		return out, err
	})
}

// ScanComments returns up to limit comments whose ids sort after the
// given one, leaving out deleted ones.
func (s *Scanner) ScanComments(ctx context.Context, after string, limit int) ([]*docket.Comment, error) {
	return inTx(ctx, s.db.view, func(tx kv.Tx) ([]*docket.Comment, error) {
		return scanJSON(tx.Bucket(bucketComments), after, limit, "comment", func(c *docket.Comment) bool { return !c.Deleted })
	})
}

// ScanDecisions returns up to limit documents with a recorded decision
// (metadata and Decision, no body) whose ids sort after the given one.
func (s *Scanner) ScanDecisions(ctx context.Context, after string, limit int) ([]*docket.Document, error) {
	return inTx(ctx, s.db.view, func(tx kv.Tx) ([]*docket.Document, error) {
		var out []*docket.Document
		for id, lifecycle := range entriesAfter(tx.Bucket(bucketLifecycles), after) {
			if len(out) >= limit {
				break
			}
			d, err := decided(tx, id, lifecycle)
			if err != nil {
				return nil, err
			}
			if d != nil {
				out = append(out, d)
			}
		}
		return out, nil
	})
}

// decided returns the document of a lifecycle record with its decision,
// nil if it has none or the document is gone.
func decided(tx kv.Tx, id, lifecycle []byte) (*docket.Document, error) {
	var lc docket.Lifecycle
	if err := json.Unmarshal(lifecycle, &lc); err != nil {
		return nil, fmt.Errorf("decode lifecycle %s: %w", id, err)
	}
	if lc.Decision == nil {
		return nil, nil
	}
	var d docket.Document
	if ok, err := getJSON(tx.Bucket(bucketDocs), id, &d); err != nil || !ok {
		return nil, err
	}
	d.Status, d.Decision = lc.Status, lc.Decision
	return &d, nil
}

// LoadDecisions returns the documents of these ids that exist and have a
// recorded decision (metadata and Decision, no body), in the order of ids.
func (s *Scanner) LoadDecisions(ctx context.Context, docIDs []string) ([]*docket.Document, error) {
	return loadEach(ctx, s.db, docIDs, func(tx kv.Tx, id string) (*docket.Document, error) {
		v := tx.Bucket(bucketLifecycles).Get([]byte(id))
		if v == nil {
			return nil, nil
		}
		return decided(tx, []byte(id), v)
	})
}

// loadEach calls load for each of ids in one read transaction and
// returns what it found, in the order of ids (see loadAll).
func loadEach[T any](ctx context.Context, db *DB, ids []string, load func(tx kv.Tx, id string) (*T, error)) ([]*T, error) {
	return inTx(ctx, db.view, func(tx kv.Tx) ([]*T, error) {
		return loadAll(ids, func(id string) (*T, error) { return load(tx, id) })
	})
}

// loadAll calls load for each of keys in order and returns what it
// found, leaving out nils; it stops at the first error.
func loadAll[K, T any](keys []K, load func(K) (*T, error)) ([]*T, error) {
	var out []*T
	for _, k := range keys {
		x, err := load(k)
		if err != nil {
			return nil, err
		}
		if x != nil {
			out = append(out, x)
		}
	}
	return out, nil
}

// ScanMinutes returns up to limit frozen minutes records, with their
// text, after the record whose DocID/ID is after ("" for the first), in
// that order.
func (s *Scanner) ScanMinutes(ctx context.Context, after string, limit int) ([]*docket.MinutesRecord, error) {
	return inTx(ctx, s.db.view, func(tx kv.Tx) ([]*docket.MinutesRecord, error) {
		return scanJSON[docket.MinutesRecord](tx.Bucket(bucketMinutes), after, limit, "minutes", nil)
	})
}

// LoadMinutes returns every frozen minutes record of these documents,
// with its text, in one transaction.
func (s *Scanner) LoadMinutes(ctx context.Context, docIDs []string) ([]*docket.MinutesRecord, error) {
	return inTx(ctx, s.db.view, func(tx kv.Tx) ([]*docket.MinutesRecord, error) {
		var out []*docket.MinutesRecord
		for _, id := range docIDs {
			if !docket.ValidID(id) {
				continue
			}
			records, err := findMinutes(tx, id)
			if err != nil {
				return nil, err
			}
			out = append(out, records...)
		}
		return out, nil
	})
}

// LoadUserNames returns the display names of these users, by id; users
// that do not exist are left out.
func (s *Scanner) LoadUserNames(ctx context.Context, ids []string) (map[string]string, error) {
	return inTx(ctx, s.db.view, func(tx kv.Tx) (map[string]string, error) {
		out := make(map[string]string, len(ids))
		for _, id := range ids {
			if u, err := findUser(tx, id); err == nil {
				out[id] = u.Name
			}
		}
		return out, nil
	})
}

// ScanEvents returns up to limit events of every space with a sequence
// number greater than after, oldest first.
func (s *Scanner) ScanEvents(ctx context.Context, after int64, limit int) ([]*docket.Event, error) {
	return inTx(ctx, s.db.view, func(tx kv.Tx) ([]*docket.Event, error) {
		var out []*docket.Event
		c := tx.Bucket(bucketEvents).Cursor()
		for k, v := c.Seek(u64(uint64(max(after, 0)) + 1)); k != nil && len(out) < limit; k, v = c.Next() {
			var ev docket.Event
			if err := json.Unmarshal(v, &ev); err != nil {
				return nil, fmt.Errorf("decode event %x: %w", k, err)
			}
			out = append(out, &ev)
		}
		return out, nil
	})
}

// LastEventSeq returns the sequence number of the newest event, 0 if
// there is none.
func (s *Scanner) LastEventSeq(ctx context.Context) (int64, error) {
	return inTx(ctx, s.db.view, func(tx kv.Tx) (int64, error) {
		return int64(tx.Bucket(bucketEvents).Sequence()), nil
	})
}

// scanJSON decodes up to limit entries of b after the key after and
// returns those that keep (nil: all) accepts; keep may fill in more.
func scanJSON[T any](b kv.Bucket, after string, limit int, what string, keep func(*T) bool) ([]*T, error) {
	var out []*T
	n := 0
	for k, v := range entriesAfter(b, after) {
		if n >= limit {
			break
		}
		n++
		x := new(T)
		if err := json.Unmarshal(v, x); err != nil {
			return nil, fmt.Errorf("decode %s %s: %w", what, k, err)
		}
		if keep == nil || keep(x) {
			out = append(out, x)
		}
	}
	return out, nil
}

// LoadDocuments returns the documents of these ids that exist, in the
// order of ids, with their bodies if withBody is true. It reads them in
// one transaction; the search index uses it to show hits.
func (s *Scanner) LoadDocuments(ctx context.Context, ids []string, withBody bool) ([]*docket.Document, error) {
	return loadEach(ctx, s.db, ids, func(tx kv.Tx, id string) (*docket.Document, error) {
		var d docket.Document
		if ok, err := getJSON(tx.Bucket(bucketDocs), []byte(id), &d); err != nil || !ok {
			return nil, err
		}
		if withBody {
			var err error
			if d.Body, err = body(tx, &d); err != nil {
				return nil, err
			}
		}
		return &d, nil
	})
}

// LoadComments returns the comments of these ids that exist and are not
// deleted, in the order of ids, in one transaction.
func (s *Scanner) LoadComments(ctx context.Context, ids []string) ([]*docket.Comment, error) {
	return loadEach(ctx, s.db, ids, func(tx kv.Tx, id string) (*docket.Comment, error) {
		var c docket.Comment
		if ok, err := getJSON(tx.Bucket(bucketComments), []byte(id), &c); err != nil || !ok || c.Deleted {
			return nil, err
		}
		return &c, nil
	})
}
