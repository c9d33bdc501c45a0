package bolt

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	docket "github.com/docket-dev/docket"
	"github.com/docket-dev/docket/kv"
	bolt "go.etcd.io/bbolt"
)

// This file moves an install from one engine to another (docket migrate:
// a bbolt file into PostgreSQL) and checks the result.

// storeBuckets are the top-level buckets of a store, every one this
// package writes. kv has no way to list a store's buckets, so Copy and
// Verify walk these; copying a bbolt file also checks that it holds no
// other (checkKnownBuckets), so nothing is left behind unseen.
var storeBuckets = slices.Concat(bucketsV1, [][]byte{bucketRecordings}, bucketsV3, [][]byte{
	bucketVisits, bucketBodyVersions, bucketReminders, bucketTemplates, bucketTemplateSeeds,
	bucketMailOutbox, bucketMailQueue, bucketMailDigest, bucketMailDigestDue, bucketSignups, bucketSignupMails,
	bucketInboxMarks, bucketIdentities,
})

// copyBatch is the number of keys Copy writes in one transaction, so that
// a large file does not become one huge transaction.
const copyBatch = 2000

// ErrNotEmpty is Copy's answer for a destination that already holds data.
var ErrNotEmpty = errors.New("the destination already holds Docket data; copy into an empty store")

// Copy copies everything src holds (every bucket, nested bucket, key and
// bucket sequence) into dst, which must be empty (ErrNotEmpty). src is
// read from one snapshot; dst is written in transactions of at most
// copyBatch keys, so a copy that fails half-way leaves dst partly
// written: empty it before trying again. progress, if not nil, is called
// after each transaction with the keys copied and the total.
func Copy(ctx context.Context, dst, src kv.Store, progress func(done, total int)) error {
	if err := dst.View(checkEmpty); err != nil {
		return err
	}
	if e, ok := src.(*Engine); ok {
		if err := checkKnownBuckets(e.db); err != nil {
			return err
		}
	}
	return src.View(func(tx kv.Tx) error {
		if err := checkSchema(tx); err != nil {
			return fmt.Errorf("source: %w", err)
		}
		total := 0
		if err := walkStore(tx, func(copyItem) error { total++; return nil }); err != nil {
			return err
		}
		done := 0
		batch := make([]copyItem, 0, copyBatch)
		flush := func() error {
			if err := ctx.Err(); err != nil {
				return err
			}
			err := dst.Update(func(tx kv.Tx) error {
				if done == 0 {
					// Again where writers are serialised: of two copies
					// started together, the second stops here.
					if err := checkEmpty(tx); err != nil {
						return err
					}
				}
				return writeItems(tx, batch)
			})
			if errors.Is(err, ErrNotEmpty) {
				return err
			} else if err != nil {
				return fmt.Errorf("copy: %w", err)
			}
			done += len(batch)
			batch = batch[:0]
			if progress != nil {
				progress(done, total)
			}
			return nil
		}
		err := walkStore(tx, func(it copyItem) error {
			batch = append(batch, it)
			if len(batch) == copyBatch {
				return flush()
			}
			return nil
		})
		if err != nil {
			return err
		}
		return flush()
	})
}

// checkEmpty refuses a destination that holds any of Docket's buckets.
func checkEmpty(tx kv.Tx) error {
	for _, name := range storeBuckets {
		if tx.Bucket(name) != nil {
			return fmt.Errorf("%w (it has the bucket %q)", ErrNotEmpty, name)
		}
	}
	return nil
}

// checkKnownBuckets refuses a bbolt file with a top-level bucket that
// storeBuckets does not name.
func checkKnownBuckets(db *bolt.DB) error {
	return db.View(func(tx *bolt.Tx) error {
		return tx.ForEach(func(name []byte, _ *bolt.Bucket) error {
			if !slices.ContainsFunc(storeBuckets, func(b []byte) bool { return bytes.Equal(b, name) }) {
				return fmt.Errorf("source: unknown bucket %q; this docket cannot copy it (is the file from a newer docket?)", name)
			}
			return nil
		})
	})
}

// copyItem is one key to copy: a value, or a bucket with its sequence.
type copyItem struct {
	path   [][]byte // the buckets it is in, from the top
	key    []byte
	value  []byte
	bucket bool
	seq    uint64
}

// walkStore calls fn for every bucket and key of the store, a bucket
// before what it holds. The items own their bytes.
func walkStore(tx kv.Tx, fn func(copyItem) error) error {
	for _, name := range storeBuckets {
		b := tx.Bucket(name)
		if b == nil {
			continue
		}
		if err := fn(copyItem{key: name, bucket: true, seq: b.Sequence()}); err != nil {
			return err
		}
		if err := walkBucket(b, [][]byte{name}, fn); err != nil {
			return err
		}
	}
	return nil
}

func walkBucket(b kv.Bucket, path [][]byte, fn func(copyItem) error) error {
	c := b.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		key := bytes.Clone(k)
		if v == nil {
			if nb := b.Bucket(k); nb != nil {
				if err := fn(copyItem{path: path, key: key, bucket: true, seq: nb.Sequence()}); err != nil {
					return err
				}
				if err := walkBucket(nb, append(slices.Clip(path), key), fn); err != nil {
					return err
				}
				continue
			}
		}
		if err := fn(copyItem{path: path, key: key, value: append([]byte{}, v...)}); err != nil {
			return err
		}
	}
	return nil
}

// writeItems writes a batch of walkStore's items. A bucket's items may
// come in a later batch than the bucket, so parents are found by path.
func writeItems(tx kv.Tx, items []copyItem) error {
	buckets := map[string]kv.Bucket{}
	parent := func(path [][]byte) (kv.Bucket, error) {
		id := string(bytes.Join(path, []byte{0}))
		if b, ok := buckets[id]; ok {
			return b, nil
		}
		b := tx.Bucket(path[0])
		for _, name := range path[1:] {
			if b == nil {
				break
			}
			b = b.Bucket(name)
		}
		if b == nil {
			return nil, fmt.Errorf("bucket %q missing in the destination", bytes.Join(path, []byte("/")))
		}
		buckets[id] = b
		return b, nil
	}
	for _, it := range items {
		if !it.bucket {
			b, err := parent(it.path)
			if err != nil {
				return err
			}
			if err := b.Put(it.key, it.value); err != nil {
				return fmt.Errorf("put %q: %w", it.key, err)
			}
			continue
		}
		var b kv.Bucket
		var err error
		if len(it.path) == 0 {
			b, err = tx.CreateBucketIfNotExists(it.key)
		} else if p, perr := parent(it.path); perr != nil {
			return perr
		} else {
			b, err = p.CreateBucketIfNotExists(it.key)
		}
		if err != nil {
			return fmt.Errorf("create bucket %q: %w", it.key, err)
		}
		if err := setSequence(b, it.seq); err != nil {
			return err
		}
	}
	return nil
}

// setSequence sets a new bucket's sequence: at once on an engine that
// can (bbolt; any engine with SetSequence), else one NextSequence at a time.
func setSequence(b kv.Bucket, seq uint64) error {
	if s, ok := b.(interface{ SetSequence(uint64) error }); ok {
		return s.SetSequence(seq)
	}
	for b.Sequence() < seq {
		if _, err := b.NextSequence(); err != nil {
			return fmt.Errorf("set sequence: %w", err)
		}
	}
	return nil
}

// SetSequence sets the bucket's sequence, for Copy.
func (b boltBucket) SetSequence(seq uint64) error { return kvError(b.b.SetSequence(seq)) }

// VerifyReport is what Verify found.
type VerifyReport struct {
	// Documents, Minutes and Keys count what the source holds: documents,
	// frozen minutes, and keys and buckets at every depth (what Copy
	// copies).
	Documents, Minutes, Keys int
	// Differences are the first differences between the two stores.
	Differences []string
}

// OK reports whether the stores hold the same.
func (r *VerifyReport) OK() bool { return len(r.Differences) == 0 }

func (r *VerifyReport) differ(format string, args ...any) {
	if len(r.Differences) < maxDifferences {
		r.Differences = append(r.Differences, fmt.Sprintf(format, args...))
	}
}

// maxDifferences bounds the differences a VerifyReport lists.
const maxDifferences = 20

// Verify compares a copy (dst) with its source: the number of keys in
// every bucket and of documents, every document's version and text, and
// every frozen minutes' markdown, byte for byte. An error means a store
// could not be read; differences are in the report.
func Verify(ctx context.Context, dst, src kv.Store) (*VerifyReport, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	r := &VerifyReport{}
	err := src.View(func(stx kv.Tx) error {
		return dst.View(func(dtx kv.Tx) error {
			if err := verifyKeys(r, dtx, stx); err != nil {
				return err
			}
			if err := verifyDocs(ctx, r, dtx, stx); err != nil {
				return err
			}
			return verifyMinutes(r, dtx, stx)
		})
	})
	if err != nil {
		return nil, fmt.Errorf("verify: %w", err)
	}
	return r, nil
}

// verifyKeys compares the keys each top-level bucket holds at every
// depth, and its sequence.
func verifyKeys(r *VerifyReport, dtx, stx kv.Tx) error {
	// count returns the keys under every top-level bucket at every depth,
	// the sum of its nested buckets' sequences, and the keys and buckets
	// of the store.
	type counts struct {
		keys map[string]int
		seqs map[string]uint64
		all  int
	}
	count := func(tx kv.Tx) (counts, error) {
		c := counts{keys: map[string]int{}, seqs: map[string]uint64{}}
		err := walkStore(tx, func(it copyItem) error {
			c.all++
			if len(it.path) > 0 {
				c.keys[string(it.path[0])]++
				c.seqs[string(it.path[0])] += it.seq
			}
			return nil
		})
		return c, err
	}
	sc, err := count(stx)
	if err != nil {
		return fmt.Errorf("source: %w", err)
	}
	dc, err := count(dtx)
	if err != nil {
		return fmt.Errorf("destination: %w", err)
	}
	r.Keys = sc.all
	for _, name := range storeBuckets {
		if s, d := sc.keys[string(name)], dc.keys[string(name)]; s != d {
			r.differ("bucket %s: %d keys in the source, %d in the copy", name, s, d)
		}
		if s, d := sc.seqs[string(name)], dc.seqs[string(name)]; s != d {
			r.differ("bucket %s: the sequences of its buckets add up to %d in the source, %d in the copy", name, s, d)
		}
		switch sb, db := stx.Bucket(name), dtx.Bucket(name); {
		case sb != nil && db == nil:
			r.differ("bucket %s is missing from the copy", name)
		case sb == nil && db != nil:
			r.differ("bucket %s is in the copy only", name)
		case sb != nil && sb.Sequence() != db.Sequence():
			r.differ("bucket %s: sequence %d in the source, %d in the copy", name, sb.Sequence(), db.Sequence())
		}
	}
	return nil
}

// verifyDocs compares every document's version and current text.
func verifyDocs(ctx context.Context, r *VerifyReport, dtx, stx kv.Tx) error {
	sdocs, ddocs := stx.Bucket(bucketDocs), dtx.Bucket(bucketDocs)
	if sdocs == nil {
		return errors.New("source: no documents bucket")
	}
	if ddocs == nil {
		r.differ("the copy has no documents bucket")
		return nil
	}
	if s, d := countKeys(sdocs), countKeys(ddocs); s != d {
		r.differ("%d documents in the source, %d in the copy", s, d)
	}
	c := sdocs.Cursor()
	for k, _ := c.First(); k != nil; k, _ = c.Next() {
		if err := ctx.Err(); err != nil {
			return err
		}
		r.Documents++
		id := string(k)
		sd, err := findDoc(stx, id)
		if err != nil {
			return fmt.Errorf("source: document %s: %w", id, err)
		}
		stext, err := body(stx, sd)
		if err != nil {
			return fmt.Errorf("source: document %s: %w", id, err)
		}
		dd, err := findDoc(dtx, id)
		if docket.ErrorCode(err) == docket.ENOTFOUND {
			r.differ("document %s (%q) is missing from the copy", id, sd.Title)
			continue
		} else if err != nil {
			return fmt.Errorf("destination: document %s: %w", id, err)
		}
		if dd.Version != sd.Version {
			r.differ("document %s (%q): version %d in the source, %d in the copy", id, sd.Title, sd.Version, dd.Version)
			continue
		}
		dtext, err := body(dtx, dd)
		if err != nil {
			r.differ("document %s (%q): text unreadable in the copy: %v", id, sd.Title, err)
			continue
		}
		if dtext != stext {
			r.differ("document %s (%q): text differs at byte %d", id, sd.Title, firstDifference(stext, dtext))
		}
	}
	return nil
}

// verifyMinutes compares every frozen minutes' markdown.
func verifyMinutes(r *VerifyReport, dtx, stx kv.Tx) error {
	sm, dm := stx.Bucket(bucketMinutes), dtx.Bucket(bucketMinutes)
	if sm == nil {
		return nil
	}
	return sm.ForEach(func(k, v []byte) error {
		r.Minutes++
		var s, d docket.MinutesRecord
		if err := json.Unmarshal(v, &s); err != nil {
			return fmt.Errorf("source: minutes %s: %w", k, err)
		}
		var dv []byte
		if dm != nil {
			dv = dm.Get(k)
		}
		if dv == nil {
			r.differ("minutes %s are missing from the copy", k)
			return nil
		}
		if err := json.Unmarshal(dv, &d); err != nil {
			r.differ("minutes %s are unreadable in the copy: %v", k, err)
			return nil
		}
		if d.Markdown != s.Markdown {
			r.differ("minutes %s: markdown differs at byte %d", k, firstDifference(s.Markdown, d.Markdown))
		}
		return nil
	})
}

// firstDifference returns the offset of the first byte where a and b
// differ.
func firstDifference(a, b string) int {
	n := min(len(a), len(b))
	for i := range n {
		if a[i] != b[i] {
			return i
		}
	}
	return n
}

// String summarises the report in a line, then one line a difference.
func (r *VerifyReport) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d documents, %d frozen minutes, %d keys", r.Documents, r.Minutes, r.Keys)
	if r.OK() {
		b.WriteString(": the copy matches")
		return b.String()
	}
	fmt.Fprintf(&b, ": %d differences", len(r.Differences))
	if len(r.Differences) == maxDifferences {
		b.WriteString(" (the first shown)")
	}
	for _, d := range r.Differences {
		b.WriteString("\n  " + d)
	}
	return b.String()
}
