package bolt

import (
	"context"
	"encoding/json"
	"fmt"

	docket "github.com/docket-dev/docket"
	bolt "go.etcd.io/bbolt"
)

// Scanner walks every document and comment in id order, a page per read
// transaction, for rebuilding derived data such as the search index. It
// checks no permissions: only trusted in-process code holds one.
type Scanner struct{ db *DB }

// NewScanner returns a Scanner over db.
func NewScanner(db *DB) *Scanner { return &Scanner{db: db} }

// ScanDocuments returns up to limit documents whose ids sort after the
// given one, with their bodies if withBody is set.
func (s *Scanner) ScanDocuments(ctx context.Context, after string, limit int, withBody bool) ([]*docket.Document, error) {
	var out []*docket.Document
	err := s.db.view(ctx, func(tx *bolt.Tx) error {
		return scan(tx.Bucket(bucketDocs), after, limit, func(k, v []byte) error {
			var d docket.Document
			if err := json.Unmarshal(v, &d); err != nil {
				return fmt.Errorf("decode document %s: %w", k, err)
			}
			if withBody {
				d.Body = body(tx, d.ID)
			}
			out = append(out, &d)
			return nil
		})
	})
	return out, err
}

// ScanComments returns up to limit comments whose ids sort after the
// given one, leaving out deleted ones.
func (s *Scanner) ScanComments(ctx context.Context, after string, limit int) ([]*docket.Comment, error) {
	var out []*docket.Comment
	err := s.db.view(ctx, func(tx *bolt.Tx) error {
		return scan(tx.Bucket(bucketComments), after, limit, func(k, v []byte) error {
			var c docket.Comment
			if err := json.Unmarshal(v, &c); err != nil {
				return fmt.Errorf("decode comment %s: %w", k, err)
			}
			if !c.Deleted {
				out = append(out, &c)
			}
			return nil
		})
	})
	return out, err
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
				d.Body = body(tx, d.ID)
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
