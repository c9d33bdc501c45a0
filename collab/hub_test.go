package collab_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	docket "github.com/docket-dev/docket"
	"github.com/docket-dev/docket/bolt"
	"github.com/docket-dev/docket/collab"
	"github.com/docket-dev/docket/collab/ot"
	"golang.org/x/crypto/bcrypt"
)

// fixture is a real data file with one user and space.
type fixture struct {
	db   *bolt.DB
	ctx  context.Context
	docs *bolt.DocumentService
	log  *countingLog
}

// countingLog wraps an op log, counting commit transactions and failing
// them on demand.
type countingLog struct {
	docket.OpLog
	commits atomic.Int64
	fail    atomic.Int64 // fail this many commits
}

func (c *countingLog) CommitOps(ctx context.Context, commits []docket.OpCommit) error {
	if c.fail.Load() > 0 {
		c.fail.Add(-1)
		return errors.New("disk full")
	}
	c.commits.Add(1)
	return c.OpLog.CommitOps(ctx, commits)
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	db := bolt.NewDB(filepath.Join(t.TempDir(), "docket.db"))
	db.PasswordCost = bcrypt.MinCost
	db.SnapshotEvery = 16
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ctx := context.Background()
	u, err := bolt.NewUserService(db).CreateUser(ctx, docket.UserCreate{Name: "Ada", Email: "ada@example.com", Password: "long enough"})
	if err != nil {
		t.Fatal(err)
	}
	ctx = docket.NewContextWithUser(ctx, u)
	if _, err := bolt.NewSpaceService(db).CreateSpace(ctx, "eng", "Eng"); err != nil {
		t.Fatal(err)
	}
	return &fixture{db: db, ctx: ctx, docs: bolt.NewDocumentService(db), log: &countingLog{OpLog: bolt.NewLiveStore(db)}}
}

func (f *fixture) newDoc(t *testing.T, body string) string {
	t.Helper()
	d, err := f.docs.CreateDocument(f.ctx, docket.DocumentCreate{Space: "eng", Title: "T", Body: body})
	if err != nil {
		t.Fatal(err)
	}
	return d.ID
}

func (f *fixture) hub(t *testing.T) *collab.Hub {
	h := collab.New(f.log, collab.Options{RecentOps: 20})
	t.Cleanup(h.Close)
	return h
}

// hubWithDoc returns a hub on the fixture's data, closed when the test
// ends, and a new document with body.
func (f *fixture) hubWithDoc(t *testing.T, body string) (*collab.Hub, string) {
	t.Helper()
	id := f.newDoc(t, body)
	return f.hub(t), id
}

// randomOp makes a random edit of text.
func randomOp(rng *rand.Rand, text string) ot.Op {
	n := ot.Length(text)
	pos := rng.IntN(n + 1)
	alphabet := []string{"a", "b", "ü", "中", "😀", " ", "\n"}
	if n > 0 && rng.IntN(3) == 0 {
		del := 1 + rng.IntN(min(3, n-pos)+1)
		if pos+del > n {
			del = n - pos
		}
		if del > 0 {
			return ot.Normalize(ot.Op{{Skip: pos}, {Delete: del}})
		}
	}
	return ot.InsertAt(pos, alphabet[rng.IntN(len(alphabet))])
}

// TestClientsConverge runs simulated clients that edit from stale versions
// at the same time. Every ack must be consistent: the client's base text
// plus the missed ops plus its transformed op is the server's text at the
// next version. At the end the server's text equals a replay of the log.
func TestClientsConverge(t *testing.T) {
	f := newFixture(t)
	h, id := f.hubWithDoc(t, "hello world")
	var wg sync.WaitGroup
	var mu sync.Mutex
	var failures []string
	for c := 0; c < 8; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(c), 7))
			version, text, err := h.Snapshot(f.ctx, id)
			if err != nil {
				t.Error(err)
				return
			}
			for i := 0; i < 40; i++ {
				op := randomOp(rng, text)
				ack, err := h.Submit(f.ctx, id, collab.Submission{Version: version, Op: op, Src: fmt.Sprint("c", c), Seq: int64(i + 1), Author: "u"})
				if errors.Is(err, collab.ErrNoOp) {
					continue
				}
				if err != nil {
					t.Errorf("client %d op %d %v: %v", c, i, op, err)
					return
				}
				// Catch up as a client would: missed ops, then our own.
				for _, rec := range ack.Missed {
					var o ot.Op
					o.UnmarshalJSON(rec.Op)
					if text, err = ot.Apply(text, o); err != nil {
						t.Error(err)
						return
					}
				}
				if text, err = ot.Apply(text, ack.Op); err != nil {
					t.Error(err)
					return
				}
				version = ack.Version + 1
				want, err := f.docs.DocumentAt(f.ctx, id, version)
				if err != nil || want != text {
					mu.Lock()
					failures = append(failures, fmt.Sprintf("client %d at v%d: %q, server %q (%v)", c, version, text, want, err))
					mu.Unlock()
					return
				}
			}
		}(c)
	}
	wg.Wait()
	for _, f := range failures {
		t.Error(f)
	}
	version, text, err := h.Snapshot(f.ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	// Replay the whole log from nothing.
	ops, err := f.log.LoadOps(f.ctx, id, 0, version)
	if err != nil {
		t.Fatal(err)
	}
	replay := ""
	for _, rec := range ops {
		var o ot.Op
		if err := o.UnmarshalJSON(rec.Op); err != nil {
			t.Fatal(err)
		}
		if replay, err = ot.Apply(replay, o); err != nil {
			t.Fatal(err)
		}
	}
	if replay != text {
		t.Fatalf("replay = %q; hub = %q", replay, text)
	}
	d, _ := f.docs.FindDocumentByID(f.ctx, id)
	if d.Body != text || d.Version != version {
		t.Fatalf("stored = v%d %q; hub = v%d %q", d.Version, d.Body, version, text)
	}
	if n := f.log.commits.Load(); n >= version-1 {
		t.Logf("%d commits for %d ops (no grouping happened this run)", n, version-1)
	}
}

// TestDuplicateAckedOnce resubmits an op with the same (src, seq): it is
// acknowledged with its original version and never applied twice, also by
// a new hub after a restart.
func TestDuplicateAckedOnce(t *testing.T) {
	f := newFixture(t)
	id := f.newDoc(t, "abc")
	h := collab.New(f.log, collab.Options{RecentOps: 2})
	sub := collab.Submission{Version: 1, Op: ot.InsertAt(3, "d"), Src: "agent", Seq: 1, Author: "u"}
	first, err := h.Submit(f.ctx, id, sub)
	if err != nil || first.Version != 1 || first.Duplicate {
		t.Fatalf("first = %+v, %v", first, err)
	}
	for i := 0; i < 5; i++ { // push the original out of the in-memory history
		if _, err := h.Submit(f.ctx, id, collab.Submission{Version: -1, Op: ot.InsertAt(0, "x"), Src: "other", Seq: int64(i + 1)}); err != nil {
			t.Fatal(err)
		}
	}
	again, err := h.Submit(f.ctx, id, sub)
	if err != nil || !again.Duplicate || again.Version != 1 {
		t.Fatalf("resubmitted = %+v, %v; want duplicate at version 1", again, err)
	}
	h.Close()
	h2 := f.hub(t)
	again, err = h2.Submit(f.ctx, id, sub)
	if err != nil || !again.Duplicate || again.Version != 1 {
		t.Fatalf("after restart = %+v, %v; want duplicate at version 1", again, err)
	}
	_, text, _ := h2.Snapshot(f.ctx, id)
	if text != "xxxxxabcd" {
		t.Fatalf("text = %q; want the op applied once", text)
	}
}

// TestSeqReuseRefused: an agent's seq names one op. A different op with
// a seq already used is refused and changes nothing, whether it is sent
// at the current version or at the version of the op that used the seq;
// the op itself sent again is acknowledged once.
func TestSeqReuseRefused(t *testing.T) {
	f := newFixture(t)
	id := f.newDoc(t, "abc")
	h := f.hub(t)
	first := collab.Submission{Version: 1, Op: ot.InsertAt(3, "d"), Src: "agent", Seq: 1, Author: "u"}
	if ack, err := h.Submit(f.ctx, id, first); err != nil || ack.Version != 1 {
		t.Fatalf("first = %+v, %v", ack, err)
	}
	if _, err := h.Submit(f.ctx, id, collab.Submission{Version: -1, Op: ot.InsertAt(0, "x"), Src: "other", Seq: 1}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		sub  collab.Submission
	}{
		{"another op at the current version", collab.Submission{Version: 3, Op: ot.InsertAt(0, "Z"), Src: "agent", Seq: 1}},
		{"another op at the first op's version", collab.Submission{Version: 1, Op: ot.InsertAt(0, "Z"), Src: "agent", Seq: 1}},
		{"an older seq at the current version", collab.Submission{Version: 3, Op: ot.InsertAt(0, "Z"), Src: "agent", Seq: 0}},
	} {
		if ack, err := h.Submit(f.ctx, id, tc.sub); docket.ErrorCode(err) != docket.EINVALID {
			t.Errorf("%s: %+v, %v; want EINVALID", tc.name, ack, err)
		}
	}
	if again, err := h.Submit(f.ctx, id, first); err != nil || !again.Duplicate || again.Version != 1 {
		t.Fatalf("resend = %+v, %v; want the duplicate at version 1", again, err)
	}
	if ack, err := h.Submit(f.ctx, id, collab.Submission{Version: 3, Op: ot.InsertAt(0, "n"), Src: "agent", Seq: 2}); err != nil || ack.Version != 3 {
		t.Fatalf("next seq = %+v, %v", ack, err)
	}
	if v, text, _ := h.Snapshot(f.ctx, id); text != "nxabcd" || v != 4 {
		t.Fatalf("doc = %q v%d; want nxabcd v4", text, v)
	}
}

func TestBadSubmissionsChangeNothing(t *testing.T) {
	f := newFixture(t)
	h, id := f.hubWithDoc(t, "abc")
	for _, tc := range []struct {
		name string
		sub  collab.Submission
		code string
	}{
		{"skip past end", collab.Submission{Version: 1, Op: ot.Op{{Skip: 10}, {Insert: "x"}}}, docket.EINVALID},
		{"delete past end", collab.Submission{Version: 1, Op: ot.Op{{Skip: 2}, {Delete: 5}}}, docket.EINVALID},
		{"trailing skip", collab.Submission{Version: 1, Op: ot.Op{{Insert: "x"}, {Skip: 1}}}, docket.EINVALID},
		{"version ahead", collab.Submission{Version: 9, Op: ot.InsertAt(0, "x")}, docket.ECONFLICT},
		{"no-op", collab.Submission{Version: 1, Op: ot.Op{}}, docket.EUNPROCESS},
		{"too large", collab.Submission{Version: 1, Op: ot.InsertAt(0, string(make([]byte, docket.MaxDocumentBytes)))}, docket.ETOOLARGE},
		{"unknown document", collab.Submission{Version: 1, Op: ot.InsertAt(0, "x")}, docket.ENOTFOUND},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc := id
			if tc.name == "unknown document" {
				doc = "nosuchdocument00"
			}
			_, err := h.Submit(f.ctx, doc, tc.sub)
			if got := docket.ErrorCode(err); got != tc.code {
				t.Fatalf("err = %v (%s); want %s", err, got, tc.code)
			}
			if v, text, _ := h.Snapshot(f.ctx, id); v != 1 || text != "abc" {
				t.Fatalf("document changed: v%d %q", v, text)
			}
		})
	}
}

// TestCommitFailureRollsBack fails the durable write: the submitter gets an
// error, the hub's state is unchanged, and the next submission works.
func TestCommitFailureRollsBack(t *testing.T) {
	f := newFixture(t)
	h, id := f.hubWithDoc(t, "abc")
	f.log.fail.Store(1)
	if _, err := h.Submit(f.ctx, id, collab.Submission{Version: 1, Op: ot.InsertAt(0, "x"), Src: "a", Seq: 1}); err == nil {
		t.Fatal("submission acknowledged although the commit failed")
	}
	if v, text, _ := h.Snapshot(f.ctx, id); v != 1 || text != "abc" {
		t.Fatalf("after failed commit: v%d %q", v, text)
	}
	// The client resends the same op: it is applied once.
	ack, err := h.Submit(f.ctx, id, collab.Submission{Version: 1, Op: ot.InsertAt(0, "x"), Src: "a", Seq: 1})
	if err != nil || ack.Duplicate || ack.Version != 1 {
		t.Fatalf("resend = %+v, %v", ack, err)
	}
	if d, _ := f.docs.FindDocumentByID(f.ctx, id); d.Body != "xabc" || d.Version != 2 {
		t.Fatalf("stored v%d %q", d.Version, d.Body)
	}
}

// TestLengthFollowsEdits checks the document length (in code points) the
// hub checks ops against: after inserts and deletes of astral and CJK text,
// and after a commit that failed and was rolled back, an op that walks
// over exactly the whole document is applied and one a code point longer
// is refused.
func TestLengthFollowsEdits(t *testing.T) {
	f := newFixture(t)
	h, id := f.hubWithDoc(t, "a😀b")
	v := int64(1)
	submit := func(op ot.Op) error {
		t.Helper()
		ack, err := h.Submit(f.ctx, id, collab.Submission{Version: v, Op: op, Src: "a", Seq: v})
		if err == nil {
			v = ack.Version + 1
		}
		return err
	}
	for _, op := range []ot.Op{
		ot.InsertAt(1, "漢字🎉"),    // a漢字🎉😀b
		ot.DeleteAt(0, 2),        // 字🎉😀b
		ot.InsertAt(4, "𝄞x"),     // 字🎉😀b𝄞x
		{{Skip: 2}, {Delete: 2}}, // 字🎉𝄞x
	} {
		if err := submit(op); err != nil {
			t.Fatalf("submit %v: %v", op, err)
		}
	}
	f.log.fail.Store(1)
	if err := submit(ot.InsertAt(0, "lost")); err == nil {
		t.Fatal("acknowledged although the commit failed")
	}
	const want = "字🎉𝄞x"
	n := ot.Length(want)
	if err := submit(ot.Op{{Skip: n}, {Insert: "!"}}); err != nil {
		t.Fatalf("insert at the end (%d): %v", n, err)
	}
	if err := submit(ot.Op{{Skip: n + 2}, {Insert: "?"}}); docket.ErrorCode(err) != docket.EINVALID {
		t.Fatalf("insert past the end = %v; want %s", err, docket.EINVALID)
	}
	if err := submit(ot.DeleteAt(0, n+1)); err != nil {
		t.Fatalf("delete everything: %v", err)
	}
	if gotV, got, _ := h.Snapshot(f.ctx, id); got != "" || gotV != v {
		t.Fatalf("snapshot v%d %q; want v%d empty", gotV, got, v)
	}
}

// TestGroupCommit submits to many documents at once; the committer writes
// them in fewer transactions than ops.
func TestGroupCommit(t *testing.T) {
	f := newFixture(t)
	h := f.hub(t)
	var ids []string
	for i := 0; i < 40; i++ {
		ids = append(ids, f.newDoc(t, ""))
	}
	var wg sync.WaitGroup
	const perDoc = 10
	for _, id := range ids {
		wg.Add(1)
		go func(id string) {
			defer wg.Done()
			for i := 0; i < perDoc; i++ {
				if _, err := h.Submit(f.ctx, id, collab.Submission{Version: -1, Op: ot.InsertAt(0, "x"), Src: id, Seq: int64(i + 1)}); err != nil {
					t.Error(err)
				}
			}
		}(id)
	}
	wg.Wait()
	ops := int64(len(ids) * perDoc)
	if n := f.log.commits.Load(); n >= ops {
		t.Errorf("%d transactions for %d ops; want grouping", n, ops)
	} else {
		t.Logf("%d transactions for %d ops", n, ops)
	}
	for _, id := range ids {
		if d, _ := f.docs.FindDocumentByID(f.ctx, id); d.Version != perDoc+1 {
			t.Fatalf("doc %s at v%d; want %d", id, d.Version, perDoc+1)
		}
	}
}

// Close stops every document, also one that a request opens while Close
// is stopping the others: it returns promptly instead of waiting for that
// document to idle out.
func TestHubCloseWhileOpening(t *testing.T) {
	f := newFixture(t)
	var ids []string
	for range 40 {
		ids = append(ids, f.newDoc(t, "abc"))
	}
	late := f.newDoc(t, "late")
	h := collab.New(f.log, collab.Options{})
	for _, id := range ids {
		if _, _, err := h.Snapshot(f.ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	stop := make(chan struct{})
	opened := make(chan struct{})
	go func() {
		defer close(opened)
		for {
			select {
			case <-stop:
				return
			default:
			}
			// A request that reaches a document just as it stops goes to
			// a reloaded one, or fails once the hub is closed.
			ctx, cancel := context.WithTimeout(f.ctx, time.Second)
			h.Snapshot(ctx, late)
			cancel()
		}
	}()
	closed := make(chan struct{})
	go func() { h.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Error("Close still waiting after 10s")
	}
	close(stop)
	<-opened
	if t.Failed() {
		t.FailNow()
	}
	if _, _, err := h.Snapshot(f.ctx, late); docket.ErrorCode(err) != docket.EUNAVAILABLE {
		t.Fatalf("Snapshot after Close = %v", err)
	}
}

// Requests that reach a document just as it unloads (idle) are answered by
// the document loaded again, never left waiting, and each op is applied
// once. It runs in a synctest bubble: a request sent after waiting the
// idle timeout on the bubble's clock starts at the very moment the
// document's idle timer fires, and races its unloading.
func TestRequestsDuringUnload(t *testing.T) { synctest.Test(t, testRequestsDuringUnload) }

func testRequestsDuringUnload(t *testing.T) {
	f := newMemFixture()
	id := f.newDoc("")
	h := f.hub(t, collab.Options{IdleTimeout: time.Millisecond})
	rng := rand.New(rand.NewPCG(1, 2))
	const n = 300
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(f.ctx, 5*time.Second)
			defer cancel()
			_, err := h.Submit(ctx, id, collab.Submission{Version: -1, Op: ot.InsertAt(0, "x"), Src: fmt.Sprint("s", i), Seq: 1, Author: "ada"})
			if err == nil {
				_, _, err = h.Snapshot(ctx, id)
			}
			errs <- err
		}()
		// No gap (the document is busy), the idle timeout (it is
		// unloading) or longer (it is gone): on the bubble's clock.
		time.Sleep(time.Duration(rng.IntN(3)) * time.Millisecond)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	_, text, err := h.Snapshot(f.ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(text), n; got != want {
		t.Fatalf("text has %d characters; want %d (each op once)", got, want)
	}
}
