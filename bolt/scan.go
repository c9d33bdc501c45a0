package bolt

import (
	"context"
	"encoding/json"
	"fmt"

	docket "github.com/docket-dev/docket"
	bolt "go.etcd.io/bbolt"
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
	var out []*docket.Document
	err := s.db.view(ctx, func(tx *bolt.Tx) (err error) {
		var bodyErr error
		out, err = scanJSON(tx.Bucket(bucketDocs), after, limit, "document", func(d *docket.Document) bool {
			if withBody && bodyErr == nil {
				d.Body, bodyErr = body(tx, d)
			}
			return bodyErr == nil
		})
		if err == nil {
			err = bodyErr
		}
		return err
	})
	return out, err
}

// ScanComments returns up to limit comments whose ids sort after the
// given one, leaving out deleted ones.
func (s *Scanner) ScanComments(ctx context.Context, after string, limit int) ([]*docket.Comment, error) {
	var out []*docket.Comment
	err := s.db.view(ctx, func(tx *bolt.Tx) (err error) {
		out, err = scanJSON(tx.Bucket(bucketComments), after, limit, "comment", func(c *docket.Comment) bool { return !c.Deleted })
		return err
	})
	return out, err
}

// ScanDecisions returns up to limit documents with a recorded decision
// (metadata and Decision, no body) whose ids sort after the given one.
func (s *Scanner) ScanDecisions(ctx context.Context, after string, limit int) ([]*docket.Document, error) {
	var out []*docket.Document
	err := s.db.view(ctx, func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketLifecycles).Cursor()
		k, v := c.Seek([]byte(after))
		if k != nil && after != "" && string(k) == after {
			k, v = c.Next()
		}
		for ; k != nil && len(out) < limit; k, v = c.Next() {
			d, err := decided(tx, k, v)
			if err != nil {
				return err
			}
			if d != nil {
				out = append(out, d)
			}
		}
		return nil
	})
	return out, err
}

// decided returns the document of a lifecycle record with its decision,
// nil if it has none or the document is gone.
func decided(tx *bolt.Tx, id, lifecycle []byte) (*docket.Document, error) {
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
	var out []*docket.Document
	err := s.db.view(ctx, func(tx *bolt.Tx) error {
		for _, id := range docIDs {
			v := tx.Bucket(bucketLifecycles).Get([]byte(id))
			if v == nil {
				continue
			}
			d, err := decided(tx, []byte(id), v)
			if err != nil {
				return err
			}
			if d != nil {
				out = append(out, d)
			}
		}
		return nil
	})
	return out, err
}

// ScanMinutes returns up to limit frozen minutes records, with their
// text, after the record whose DocID/ID is after ("" for the first), in
// that order.
func (s *Scanner) ScanMinutes(ctx context.Context, after string, limit int) ([]*docket.MinutesRecord, error) {
	var out []*docket.MinutesRecord
	err := s.db.view(ctx, func(tx *bolt.Tx) (err error) {
		out, err = scanJSON[docket.MinutesRecord](tx.Bucket(bucketMinutes), after, limit, "minutes", nil)
		return err
	})
	return out, err
}

// LoadMinutes returns every frozen minutes record of these documents,
// with its text, in one transaction.
func (s *Scanner) LoadMinutes(ctx context.Context, docIDs []string) ([]*docket.MinutesRecord, error) {
	var out []*docket.MinutesRecord
	err := s.db.view(ctx, func(tx *bolt.Tx) error {
		for _, id := range docIDs {
			if !docket.ValidID(id) {
				continue
			}
			err := eachPrefixed(tx.Bucket(bucketMinutes), id, func(v []byte) error {
				var r docket.MinutesRecord
				if err := json.Unmarshal(v, &r); err != nil {
					return fmt.Errorf("decode minutes of %s: %w", id, err)
				}
				out = append(out, &r)
				return nil
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	return out, err
}

// LoadUserNames returns the display names of these users, by id; users
// that do not exist are left out.
func (s *Scanner) LoadUserNames(ctx context.Context, ids []string) (map[string]string, error) {
	out := make(map[string]string, len(ids))
	err := s.db.view(ctx, func(tx *bolt.Tx) error {
		for _, id := range ids {
			if u, err := findUser(tx, id); err == nil {
				out[id] = u.Name
			}
		}
		return nil
	})
	return out, err
}

// ScanEvents returns up to limit events of every space with a sequence
// number greater than after, oldest first.
func (s *Scanner) ScanEvents(ctx context.Context, after int64, limit int) ([]*docket.Event, error) {
	var out []*docket.Event
	err := s.db.view(ctx, func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketEvents).Cursor()
		for k, v := c.Seek(u64(uint64(max(after, 0)) + 1)); k != nil && len(out) < limit; k, v = c.Next() {
			var ev docket.Event
			if err := json.Unmarshal(v, &ev); err != nil {
				return fmt.Errorf("decode event %x: %w", k, err)
			}
			out = append(out, &ev)
		}
		return nil
	})
	return out, err
}

// LastEventSeq returns the sequence number of the newest event, 0 if
// there is none.
func (s *Scanner) LastEventSeq(ctx context.Context) (int64, error) {
	var seq int64
	err := s.db.view(ctx, func(tx *bolt.Tx) error {
		seq = int64(tx.Bucket(bucketEvents).Sequence())
		return nil
	})
	return seq, err
}

// scan calls fn for up to limit entries of b after the key after.
func scan(b *bolt.Bucket, after string, limit int, fn func(k, v []byte) error) error {
	c := b.Cursor()
	k, v := c.First()
	if after != "" {
		k, v = c.Seek([]byte(after))
		if k != nil && string(k) == after {
			k, v = c.Next()
		}
	}
	for n := 0; k != nil && n < limit; k, v = c.Next() {
		if err := fn(k, v); err != nil {
			return err
		}
		n++
	}
	return nil
}

// scanJSON decodes up to limit entries of b after the key after and
// returns those that keep (nil: all) accepts; keep may fill in more.
func scanJSON[T any](b *bolt.Bucket, after string, limit int, what string, keep func(*T) bool) ([]*T, error) {
	var out []*T
	err := scan(b, after, limit, func(k, v []byte) error {
		x := new(T)
		if err := json.Unmarshal(v, x); err != nil {
			return fmt.Errorf("decode %s %s: %w", what, k, err)
		}
		if keep == nil || keep(x) {
			out = append(out, x)
		}
		return nil
	})
	return out, err
}

// LoadDocuments returns the documents of these ids that exist, in the
// order of ids, with their bodies if withBody is true. It reads them in
// one transaction; the search index uses it to show hits.
func (s *Scanner) LoadDocuments(ctx context.Context, ids []string, withBody bool) ([]*docket.Document, error) {
	var out []*docket.Document
	err := s.db.view(ctx, func(tx *bolt.Tx) error {
		for _, id := range ids {
			var d docket.Document
			if ok, err := getJSON(tx.Bucket(bucketDocs), []byte(id), &d); err != nil {
				return err
			} else if !ok {
				continue
			}
			if withBody {
				text, err := body(tx, &d)
				if err != nil {
					return err
				}
				d.Body = text
			}
			out = append(out, &d)
		}
		return nil
	})
	return out, err
}

// LoadComments returns the comments of these ids that exist and are not
// deleted, in the order of ids, in one transaction.
func (s *Scanner) LoadComments(ctx context.Context, ids []string) ([]*docket.Comment, error) {
	var out []*docket.Comment
	err := s.db.view(ctx, func(tx *bolt.Tx) error {
		for _, id := range ids {
			var c docket.Comment
			if ok, err := getJSON(tx.Bucket(bucketComments), []byte(id), &c); err != nil {
				return err
			} else if ok && !c.Deleted {
				out = append(out, &c)
			}
		}
		return nil
	})
	return out, err
}
