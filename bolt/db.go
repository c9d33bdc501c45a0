// Package bolt stores Docket's data in a single bbolt file, the embedded
// default backend. It implements the service interfaces of the root package
// and enforces the space permissions on every call.
//
// bbolt is the source of truth: every write is one Update transaction that
// is fsynced before it returns (never NoSync), and byte slices read from
// the file never escape their transaction.
package bolt

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	docket "github.com/docket-dev/docket"
	"github.com/docket-dev/docket/kv"
	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
	"golang.org/x/crypto/bcrypt"
)

// SchemaVersion is the version of the bucket layout this code writes.
// Opening a file with an older version runs the migrations in order; a file
// from a newer Docket is refused.
const SchemaVersion = 6

// Bucket names.
var (
	bucketMeta        = []byte("meta")
	bucketUsers       = []byte("users")
	bucketUserEmails  = []byte("user_emails")
	bucketSessions    = []byte("sessions")
	bucketUserSess    = []byte("user_sessions")
	bucketTokens      = []byte("tokens")
	bucketTokenHashes = []byte("token_hashes")
	bucketInvites     = []byte("invites")
	bucketSpaces      = []byte("spaces")
	bucketSpaceSlugs  = []byte("space_slugs")
	bucketMembers     = []byte("members")       // spaceID/userID -> member
	bucketUserSpaces  = []byte("user_spaces")   // userID/spaceID -> role
	bucketDocs        = []byte("docs")          // docID -> metadata
	bucketBodies      = []byte("bodies")        // docID -> current text
	bucketSpaceDocs   = []byte("space_docs")    // spaceID/docID -> nil
	bucketDocSources  = []byte("doc_sources")   // spaceID/source -> docID
	bucketOps         = []byte("ops")           // docID -> bucket of version -> op record
	bucketSnapshots   = []byte("snapshots")     // docID -> bucket of version -> text
	bucketRecordings  = []byte("live_sessions") // docID/recordingID -> recording (name kept for existing files)
	keySchemaVersion  = []byte("schema_version")

	// Schema 3: discussion, decisions and what derives from them.
	bucketThreads        = []byte("threads")         // threadID -> thread (without comments)
	bucketDocThreads     = []byte("doc_threads")     // docID/threadID -> nil
	bucketComments       = []byte("comments")        // commentID -> comment
	bucketThreadComments = []byte("thread_comments") // threadID/u64 n -> commentID
	bucketLifecycles     = []byte("lifecycles")      // docID -> docket.Lifecycle
	bucketReviews        = []byte("reviews")         // docID/u64 n -> review
	bucketHandoffs       = []byte("handoffs")        // docID/u64 n -> handoff
	bucketEvents         = []byte("events")          // u64 seq -> event
	bucketDocEvents      = []byte("doc_events")      // docID/u64 seq -> nil
	bucketSpaceEvents    = []byte("space_events")    // spaceID/u64 seq -> nil
	bucketInbox          = []byte("inbox")           // userID/u64 seq -> inbox item
	bucketActions        = []byte("actions")         // docID -> action items
	bucketUserActions    = []byte("user_actions")    // userID/docID -> nil
	bucketWebhooks       = []byte("webhooks")        // hookID -> webhook
	bucketSpaceWebhooks  = []byte("space_webhooks")  // spaceID/hookID -> nil
	bucketDeliveries     = []byte("deliveries")      // u64 id -> delivery
	bucketDeliveryQueue  = []byte("delivery_queue")  // u64 due unix nanos/u64 id -> nil
	bucketHookDeliveries = []byte("hook_deliveries") // hookID/u64 id -> nil
	bucketMinutes        = []byte("minutes")         // docID/minutesID -> frozen minutes
	bucketsV3            = [][]byte{bucketThreads, bucketDocThreads, bucketComments, bucketThreadComments, bucketLifecycles, bucketReviews, bucketHandoffs, bucketEvents, bucketDocEvents, bucketSpaceEvents, bucketInbox, bucketActions, bucketUserActions, bucketWebhooks, bucketSpaceWebhooks, bucketDeliveries, bucketDeliveryQueue, bucketHookDeliveries, bucketMinutes}

	// Schema 4: what each user last viewed.
	bucketVisits = []byte("visits") // docID/userID -> docket.Visit

	// Schema 5: bodies written less often than every commit.
	bucketBodyVersions = []byte("body_versions") // docID -> u64 version of its stored body, when older than the document

	// Schema 6: reminders sent (see Reminders).
	bucketReminders = []byte("reminders") // docID/deadline/stage -> reminderRecord

	// Created by DB.SetMail (no schema step): the mail outbox and the
	// digests being collected. Readers find them absent in a file where
	// mail was never turned on.
	bucketMailOutbox    = []byte("mail_outbox")     // u64 id -> mailRecord
	bucketMailQueue     = []byte("mail_queue")      // queueKey(due, id) -> nil
	bucketMailDigest    = []byte("mail_digest")     // userID/u64 seq -> inbox item
	bucketMailDigestDue = []byte("mail_digest_due") // u64 due unix nanos/userID -> nil
	bucketSignups       = []byte("signups")         // email -> signupRecord (pending sign-up)
	bucketSignupMails   = []byte("signup_mails")    // email -> []time.Time of sign-up mails sent in the last hour
	// Created on first use (no schema step): read and done marks of
	// computed inbox items.
	bucketInboxMarks = []byte("inbox_marks") // userID/computed item id -> inboxMark
	// Created on first use (no schema step): single sign-on identities
	// linked to accounts.
	bucketIdentities = []byte("identities") // issuer NUL subject -> userID

	// bucketsV1 are the buckets of schema 1.
	bucketsV1       = [][]byte{bucketMeta, bucketUsers, bucketUserEmails, bucketSessions, bucketUserSess, bucketTokens, bucketTokenHashes, bucketInvites, bucketSpaces, bucketSpaceSlugs, bucketMembers, bucketUserSpaces, bucketDocs, bucketBodies, bucketSpaceDocs, bucketDocSources, bucketOps, bucketSnapshots}
	errSchemaTooNew = errors.New("data file was written by a newer version of docket")
	migrations      = []func(tx kv.Tx) error{
		// 0 -> 1: the initial layout.
		func(tx kv.Tx) error { return createBuckets(tx, bucketsV1) },
		// 1 -> 2: recordings of live sessions.
		func(tx kv.Tx) error { return createBuckets(tx, [][]byte{bucketRecordings}) },
		// 2 -> 3: threads, decisions, events, inbox, actions, webhooks, minutes.
		func(tx kv.Tx) error { return createBuckets(tx, bucketsV3) },
		// 3 -> 4: last visits.
		func(tx kv.Tx) error { return createBuckets(tx, [][]byte{bucketVisits}) },
		// 4 -> 5: versions of bodies older than their documents.
		func(tx kv.Tx) error { return createBuckets(tx, [][]byte{bucketBodyVersions}) },
		// 5 -> 6: reminders sent, document templates.
		func(tx kv.Tx) error {
			return createBuckets(tx, [][]byte{bucketReminders, bucketTemplates, bucketTemplateSeeds})
		},
	}
)

// DB is an open Docket data file.
type DB struct {
	// kv is the engine every service reads and writes through; bdb is
	// the bbolt file behind it when the engine is bbolt (Open), nil
	// when it is another (OpenStore).
	kv  kv.Store
	bdb *bolt.DB

	// Path is the data file.
	Path string
	// LockTimeout bounds the wait for the file lock held by another
	// process; Open then fails with a clear message instead of hanging.
	LockTimeout time.Duration
	// PasswordCost is the bcrypt cost; tests lower it.
	PasswordCost int
	// SessionTTL is how long a browser session lives.
	SessionTTL time.Duration
	// SnapshotEvery is the number of versions between stored snapshots.
	SnapshotEvery int64
	// BodyInline is the size up to which a live commit stores the
	// document's whole text every time (16 KiB). A longer text is stored
	// when BodyLag versions (64) have gone by since it last was; until
	// then reads apply the ops after the stored one, so a commit of a
	// keystroke into a 140 KB document does not write 140 KB.
	BodyInline int
	BodyLag    int64
	// ReadOnly opens the file without taking the write lock exclusively.
	ReadOnly bool
	// Now returns the current time; tests replace it.
	Now func() time.Time

	dummyHash []byte

	// gen counts committed write transactions; reads cache what they
	// found with it (readCache).
	gen    atomic.Uint64
	tokens *readCache[string, docket.User]
	metas  *readCache[metaKey, *docket.Document]

	watchMu  sync.RWMutex
	watchers []func(docket.Change)
	queued   []func() // called after a commit that queued webhook deliveries
	events   []func(docket.Event)
	// signupMail run after a sign-up mail is queued (OnSignupMail).
	signupMail []func()

	// bus, on a node of a cluster, carries the notes of commits
	// (SetBus, cluster.go).
	bus    docket.Bus
	busLog *slog.Logger
}

// NewDB returns a DB for the file at path with default settings. Call Open.
func NewDB(path string) *DB {
	return &DB{
		tokens:        newReadCache[string, docket.User](10_000),
		metas:         newReadCache[metaKey, *docket.Document](10_000),
		Path:          path,
		LockTimeout:   2 * time.Second,
		PasswordCost:  bcrypt.DefaultCost,
		SessionTTL:    30 * 24 * time.Hour,
		SnapshotEvery: 100,
		BodyInline:    16 << 10,
		BodyLag:       64,
		Now:           time.Now,
	}
}

// Open opens the data file, creating it atomically if it does not exist,
// and migrates its schema.
func (db *DB) Open() error {
	if db.Path == "" {
		return fmt.Errorf("open: path required")
	}
	if err := os.MkdirAll(filepath.Dir(db.Path), 0o700); err != nil {
		return fmt.Errorf("open: %w", err)
	}
	if _, err := os.Stat(db.Path); errors.Is(err, os.ErrNotExist) && !db.ReadOnly {
		if err := createFile(db.Path); err != nil {
			return fmt.Errorf("create data file: %w", err)
		}
	}
	bdb, err := bolt.Open(db.Path, 0o600, &bolt.Options{Timeout: db.LockTimeout, ReadOnly: db.ReadOnly})
	if errors.Is(err, berrors.ErrTimeout) {
		return fmt.Errorf("data file %s is in use by another docket process (lock not released within %s)", db.Path, db.LockTimeout)
	} else if errors.Is(err, berrors.ErrInvalid) || errors.Is(err, berrors.ErrChecksum) || errors.Is(err, berrors.ErrVersionMismatch) {
		return fmt.Errorf("data file %s is corrupt or not a docket file (%v); restore it from a backup", db.Path, err)
	} else if err != nil {
		return fmt.Errorf("open %s: %w", db.Path, err)
	}
	db.bdb, db.kv = bdb, NewEngine(bdb)
	if !db.ReadOnly {
		if err := db.kv.Update(migrate); err != nil {
			db.kv.Close()
			if errors.Is(err, errSchemaTooNew) {
				return fmt.Errorf("open %s: %w", db.Path, err)
			}
			return fmt.Errorf("migrate: %w", err)
		}
	} else if err := db.kv.View(checkSchema); err != nil {
		db.kv.Close()
		return fmt.Errorf("open %s: %w", db.Path, err)
	}
	return db.ready()
}

// OpenStore opens the data kept by engine s instead of a bbolt file
// (cluster mode: package postgres) and migrates its schema. The
// migrations run in one write transaction, which the engine serialises
// across nodes, so nodes starting together migrate once. Close closes s.
func (db *DB) OpenStore(s kv.Store) error {
	if err := s.Update(migrate); err != nil {
		if errors.Is(err, errSchemaTooNew) {
			return fmt.Errorf("open store: %w", err)
		}
		return fmt.Errorf("migrate: %w", err)
	}
	db.kv = s
	return db.ready()
}

// Store returns the engine the data is in (after Open or OpenStore).
func (db *DB) Store() kv.Store { return db.kv }

// ready finishes opening once the engine is there.
func (db *DB) ready() error {
	var err error
	if db.dummyHash, err = bcrypt.GenerateFromPassword([]byte("docket-timing-equaliser"), db.PasswordCost); err != nil {
		db.kv.Close()
		return fmt.Errorf("open: %w", err)
	}
	return nil
}

// createFile creates and initialises a new data file under a temporary name
// and renames it into place, so a crash during the first start never leaves
// a half-initialised file behind.
func createFile(path string) error {
	tmp := path + ".init"
	os.Remove(tmp)
	bdb, err := bolt.Open(tmp, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		return err
	}
	if err := NewEngine(bdb).Update(migrate); err != nil {
		bdb.Close()
		return err
	}
	if err := bdb.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

func createBuckets(tx kv.Tx, names [][]byte) error {
	for _, name := range names {
		if _, err := tx.CreateBucketIfNotExists(name); err != nil {
			return err
		}
	}
	return nil
}

func storedSchema(tx kv.Tx) int {
	meta := tx.Bucket(bucketMeta)
	if meta == nil {
		return 0
	}
	v := meta.Get(keySchemaVersion)
	if len(v) != 8 {
		return 0
	}
	return int(binary.BigEndian.Uint64(v))
}

func checkSchema(tx kv.Tx) error {
	if v := storedSchema(tx); v > SchemaVersion {
		return fmt.Errorf("%w (schema %d, this docket knows %d)", errSchemaTooNew, v, SchemaVersion)
	} else if v < SchemaVersion {
		return fmt.Errorf("data file has schema %d and needs migrating; open it read-write once", v)
	}
	return nil
}

// migrate brings the file's schema up to SchemaVersion, one step at a time,
// in the caller's transaction.
func migrate(tx kv.Tx) error {
	v := storedSchema(tx)
	if v > SchemaVersion {
		return fmt.Errorf("%w (schema %d, this docket knows %d)", errSchemaTooNew, v, SchemaVersion)
	}
	for ; v < SchemaVersion; v++ {
		if err := migrations[v](tx); err != nil {
			return fmt.Errorf("migration %d: %w", v+1, err)
		}
	}
	return tx.Bucket(bucketMeta).Put(keySchemaVersion, u64(uint64(SchemaVersion)))
}

// Close closes the data file.
func (db *DB) Close() error {
	if db.kv != nil {
		return db.kv.Close()
	}
	return nil
}

// errNotBbolt is what the operations of a bbolt file answer when the
// engine is another one.
var errNotBbolt = docket.Errorf(docket.EUNPROCESS, "The data is not in a bbolt file (cluster mode): back it up with the database's own tools, such as pg_dump.")

// Backup writes a consistent copy of the whole data file to w from one read
// transaction, while writers go on. It returns the bytes written.
func (db *DB) Backup(ctx context.Context, w io.Writer) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if db.bdb == nil {
		return 0, errNotBbolt
	}
	var n int64
	err := db.bdb.View(func(tx *bolt.Tx) error {
		var err error
		n, err = tx.WriteTo(w)
		return err
	})
	return n, err
}

// Size returns the size of the data file in bytes, or of the engine's
// tables when it can tell (postgres.Store), else 0.
func (db *DB) Size() int64 {
	var n int64
	if db.bdb != nil {
		db.bdb.View(func(tx *bolt.Tx) error { n = tx.Size(); return nil })
	} else if s, ok := db.kv.(interface {
		Size(context.Context) (int64, error)
	}); ok {
		n, _ = s.Size(context.Background())
	}
	return n
}

// Check verifies the consistency of the file's pages and returns the first
// problems found.
func (db *DB) Check() error {
	if db.bdb == nil {
		return errNotBbolt
	}
	return db.bdb.View(func(tx *bolt.Tx) error {
		var errs []error
		for err := range tx.Check() {
			errs = append(errs, err)
			if len(errs) > 10 {
				break
			}
		}
		return errors.Join(errs...)
	})
}

// countKeys returns the number of keys in b: from bbolt's page
// statistics, else from the engine when it can count (KeyCount), else by
// walking the keys.
func countKeys(b kv.Bucket) int {
	switch b := b.(type) {
	case boltBucket:
		return b.b.Stats().KeyN
	case interface{ KeyCount() int }:
		return b.KeyCount()
	}
	n := 0
	c := b.Cursor()
	for k, _ := c.First(); k != nil; k, _ = c.Next() {
		n++
	}
	return n
}

// view runs fn in a read transaction after checking ctx.
func (db *DB) view(ctx context.Context, fn func(tx kv.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return db.kv.View(fn)
}

// update runs fn in a write transaction after checking ctx. The change is
// durable when update returns nil.
func (db *DB) update(ctx context.Context, fn func(tx kv.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	defer db.gen.Add(1) // after the commit: see readCache
	return db.kv.Update(db.inCluster(fn))
}

// inTx runs fn in a transaction of run (db.view or db.update) and returns
// what fn returns, or the zero value and the error if fn or the
// transaction fails.
func inTx[T any](ctx context.Context, run func(context.Context, func(kv.Tx) error) error, fn func(tx kv.Tx) (T, error)) (T, error) {
	var out T
	err := run(ctx, func(tx kv.Tx) (err error) {
		out, err = fn(tx)
		return err
	})
	if err != nil {
		var zero T
		return zero, err
	}
	return out, nil
}

func u64(v uint64) []byte {
	b := make([]byte, 8)
	binary.BigEndian.PutUint64(b, v)
	return b
}

// pair joins two ids into a composite key.
func pair(a, b string) []byte { return []byte(a + "/" + b) }

var idEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// newID returns a random 16-character id (80 bits).
func newID() string { return docket.NewID() }

// newSecret returns a random secret with 256 bits of entropy.
func newSecret(prefix string) string {
	b := make([]byte, 32)
	rand.Read(b)
	return prefix + idEncoding.EncodeToString(b)
}

func getJSON(b kv.Bucket, key []byte, v any) (bool, error) {
	data := b.Get(key)
	if data == nil {
		return false, nil
	}
	if err := json.Unmarshal(data, v); err != nil {
		return false, fmt.Errorf("decode %s: %w", key, err)
	}
	return true, nil
}

// findByID reads the record of id from bucket. An id that is malformed
// or not there is ENOTFOUND with the message notFound.
func findByID[T any](tx kv.Tx, bucket []byte, id, notFound string) (*T, error) {
	v := new(T)
	if !docket.ValidID(id) {
		return nil, docket.Errorf(docket.ENOTFOUND, "%s", notFound)
	}
	if ok, err := getJSON(tx.Bucket(bucket), []byte(id), v); err != nil {
		return nil, err
	} else if !ok {
		return nil, docket.Errorf(docket.ENOTFOUND, "%s", notFound)
	}
	return v, nil
}

func putJSON(b kv.Bucket, key []byte, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return b.Put(key, data)
}

// lowerTrim normalises an email address for lookups.
func lowerTrim(s string) string { return strings.ToLower(strings.TrimSpace(s)) }
