// Package postgres is the kv engine of cluster mode: package kv's buckets
// of ordered keys kept in one PostgreSQL table, through pgx, so that
// several Docket nodes can share one store.
//
// Every key is a row (bucket path, key, value); a nested bucket is a row
// with a NULL value that also keeps the bucket's sequence. A write
// transaction takes a transaction-level advisory lock before it reads
// anything, so writers are serialised across every node as bbolt's are in
// one process, and it commits with PostgreSQL's durable commit before
// Update returns. A read transaction is REPEATABLE READ READ ONLY: one
// snapshot, taken when it begins, that never waits for writers.
//
// A write whose outcome the transaction already knows (the key was read,
// or a cursor stands on it, or its bucket is new) waits and travels with
// the next query or the COMMIT, so a read-modify-write or a walk that
// deletes as it goes costs no round trip per write.
//
// A failed query (a lost connection, a timeout) poisons its transaction:
// later reads return nothing, writes return the error, and View or Update
// return it, so a failure is never taken for missing data.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/docket-dev/docket"
	"github.com/docket-dev/docket/kv"
)

// Store is a kv.Store on a PostgreSQL database.
type Store struct {
	pool      *pgxpool.Pool
	txTimeout time.Duration
	logger    *slog.Logger
	tracer    pgx.QueryTracer // for the tests

	// writerKey is the advisory lock that serialises write transactions
	// on every node sharing the schema.
	writerKey int64
	// writerIdle ends a write transaction whose node stopped talking in
	// its middle (a crash, a partition), which would otherwise hold the
	// writer lock of every node until TCP gave up on it, hours later.
	writerIdle time.Duration
	// writer serialises this process's write transactions before they
	// take a connection, so writers queued on the advisory lock never
	// hold every connection of the pool while readers wait.
	writer sync.Mutex
}

var _ kv.Store = (*Store)(nil)

// An Option changes how Open sets up a Store.
type Option func(*Store)

// WithTxTimeout bounds every transaction: a View or Update that has not
// finished after d fails (and rolls back). Zero, the default, sets no
// bound; the connection settings' timeouts still apply.
func WithTxTimeout(d time.Duration) Option {
	return func(s *Store) { s.txTimeout = d }
}

// WithLogger sets where Open reports the schema migrations it applies.
func WithLogger(l *slog.Logger) Option {
	return func(s *Store) { s.logger = l }
}

// Open connects to the database at url, a PostgreSQL connection URL or
// keyword/value string (postgres://USER@HOST:PORT/DB?search_path=SCHEMA;
// pgxpool's pool_* parameters set the pool), and brings its schema up to
// date. The tables live in the first schema of the search path.
func Open(ctx context.Context, url string, opts ...Option) (*Store, error) {
	if url == "" {
		return nil, docket.Errorf(docket.EINVALID, "The PostgreSQL URL is empty.")
	}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w: %w", docket.Errorf(docket.EINVALID, "The PostgreSQL URL is not valid."), err)
	}
	s := &Store{logger: slog.New(slog.DiscardHandler), writerIdle: time.Minute}
	for _, opt := range opts {
		opt(s)
	}
	if s.tracer != nil {
		cfg.ConnConfig.Tracer = s.tracer
	}
	s.pool, err = pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, translate("connect", err)
	}
	schema, err := s.migrate(ctx)
	if err != nil {
		s.pool.Close()
		return nil, err
	}
	s.writerKey = lockKey("writer", schema)
	return s, nil
}

// Close closes every connection.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

// Ping checks that the database answers, for health checks.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return translate("ping", err)
	}
	return nil
}

// Size returns the bytes the store's tables take on disk, indexes and
// TOAST included.
func (s *Store) Size(ctx context.Context) (int64, error) {
	var n int64
	err := s.pool.QueryRow(ctx, `SELECT pg_total_relation_size('docket_kv'::regclass)
		+ pg_total_relation_size('docket_schema'::regclass)`).Scan(&n)
	if err != nil {
		return 0, translate("size", err)
	}
	return n, nil
}

// View runs fn in a read transaction on one snapshot.
func (s *Store) View(fn func(kv.Tx) error) error {
	onCommit, err := s.run(false, fn)
	for _, f := range onCommit {
		f()
	}
	return err
}

// Update runs fn in a write transaction, serialised with every other on
// every node, and commits it durably when fn returns nil.
func (s *Store) Update(fn func(kv.Tx) error) error {
	s.writer.Lock()
	onCommit, err := func() ([]func(), error) {
		defer s.writer.Unlock() // even if fn panics
		return s.run(true, fn)
	}()
	// As bbolt does, the functions run once the next writer may begin,
	// so they may write themselves.
	for _, f := range onCommit {
		f()
	}
	return err
}

// rootSQL reads the top-level buckets, which nearly every transaction
// looks up, so that they cost no round trip of their own.
const rootSQL = "SELECT key, seq FROM docket_kv WHERE bucket = '' AND value IS NULL"

// begin starts a transaction on conn in one round trip and returns it
// with the top-level buckets known.
func (s *Store) begin(ctx context.Context, conn *pgx.Conn, writable bool) (*tx, error) {
	var batch pgx.Batch
	if writable {
		// READ COMMITTED, not REPEATABLE READ: a snapshot would be
		// taken when the lock is asked for, before the writer it waits
		// for commits, and miss that writer's changes. Once the lock is
		// held no one else writes, so each statement sees the latest
		// state.
		batch.Queue("BEGIN ISOLATION LEVEL READ COMMITTED")
		batch.Queue(fmt.Sprintf("SET LOCAL idle_in_transaction_session_timeout = %d", s.writerIdle.Milliseconds()))
		batch.Queue("SELECT pg_advisory_xact_lock($1)", s.writerKey)
	} else {
		// rootSQL takes the snapshot now, as the transaction begins.
		batch.Queue("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
	}
	t := newTx(ctx, conn, writable)
	batch.Queue(rootSQL).Query(func(rows pgx.Rows) error {
		var name []byte
		var seq int64
		_, err := pgx.ForEachRow(rows, []any{&name, &seq}, func() error {
			t.root.values[string(name)] = cached{isBucket: true}
			t.root.remember(name, uint64(seq))
			return nil
		})
		return err
	})
	// Every top-level bucket is now known: a name not among them is
	// missing, not unread.
	t.root.complete = true
	if err := conn.SendBatch(ctx, &batch).Close(); err != nil {
		return nil, translate("begin", err)
	}
	return t, nil
}

// run runs fn in a transaction and returns the functions to run now that
// it committed.
func (s *Store) run(writable bool, fn func(kv.Tx) error) ([]func(), error) {
	ctx, cancel := context.Background(), context.CancelFunc(func() {})
	if s.txTimeout > 0 {
		ctx, cancel = context.WithTimeout(ctx, s.txTimeout)
	}
	defer cancel()
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return nil, translate("connect", err)
	}
	// Release closes a connection left inside a transaction (a failed
	// ROLLBACK), so the pool never hands out a broken one.
	defer conn.Release()
	t, err := s.begin(ctx, conn.Conn(), writable)
	if err != nil {
		return nil, err
	}
	done := false
	defer func() {
		if !done { // fn failed or panicked
			rctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_, _ = conn.Exec(rctx, "ROLLBACK")
		}
	}()
	ferr := fn(t)
	if t.err != nil {
		return nil, t.err
	}
	if ferr != nil {
		return nil, ferr
	}
	if err := t.commit(); err != nil {
		// The outcome of a COMMIT whose answer was lost is unknown; the
		// caller treats it as failed, which is safe for a retry of an
		// idempotent change and reported for any other.
		return nil, err
	}
	done = true
	return t.onCommit, nil
}

// lockKey returns the advisory lock key for purpose in schema, so stores
// in different schemas of one database never wait for each other.
func lockKey(purpose, schema string) int64 {
	h := fnv.New64a()
	fmt.Fprintf(h, "docket %s %s", purpose, schema)
	return int64(h.Sum64())
}

// translate turns an error of pgx into the domain's: a database that
// cannot be reached or does not answer in time is unavailable (clients
// retry), a key PostgreSQL cannot index is too large, anything else is
// internal. The cause stays in the chain for the logs.
func translate(op string, err error) error {
	if err == nil {
		return nil
	}
	var de *docket.Error
	if errors.As(err, &de) {
		return err
	}
	code, msg := docket.EINTERNAL, "Internal error."
	var pgErr *pgconn.PgError
	var netErr net.Error
	switch {
	case errors.As(err, &pgErr):
		switch class := pgErr.Code[:min(2, len(pgErr.Code))]; {
		case class == "08", class == "53", class == "57", class == "40",
			pgErr.Severity == "FATAL", pgErr.Severity == "PANIC":
			// Connection exceptions, insufficient resources, an operator
			// intervention (shutdown, cancel), a serialisation failure;
			// any error that ended the session (such as a timeout).
			code, msg = docket.EUNAVAILABLE, "The database is unavailable; try again shortly."
		case pgErr.Code == "54000":
			code, msg = docket.ETOOLARGE, "A key is too long for the database."
		}
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled), pgconn.Timeout(err),
		errors.As(err, &netErr), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), pgconn.SafeToRetry(err):
		code, msg = docket.EUNAVAILABLE, "The database is unavailable; try again shortly."
	default:
		var connectErr *pgconn.ConnectError
		if errors.As(err, &connectErr) {
			code, msg = docket.EUNAVAILABLE, "The database is unavailable; try again shortly."
		}
	}
	return fmt.Errorf("postgres: %s: %w: %w", op, docket.Errorf(code, "%s", msg), err)
}
