package bolt_test

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"strings"
	"testing"
	"time"

	docket "github.com/docket-dev/docket"
	"github.com/docket-dev/docket/bolt"
	"github.com/docket-dev/docket/collab/ot"
	bbolt "go.etcd.io/bbolt"
)

// rawBody reads, with the DB closed, a document's stored text and the
// version it is at when that is older than the document (-1: current).
func rawBody(t *testing.T, path, id string) (string, int64) {
	t.Helper()
	raw, err := bbolt.Open(path, 0o600, &bbolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	text, at := "", int64(-1)
	raw.View(func(tx *bbolt.Tx) error {
		text = string(tx.Bucket([]byte("bodies")).Get([]byte(id)))
		if v := tx.Bucket([]byte("body_versions")).Get([]byte(id)); v != nil {
			at = int64(binary.BigEndian.Uint64(v))
		}
		return nil
	})
	return text, at
}

// A long document's text is not written with every live commit: the
// stored one lags by fewer than BodyLag versions, every read (the
// document, the hub's load, the text at a version, scans) applies the ops
// after it, also after a reopen, and an edit outside the hub or reaching
// the lag writes it whole again.
func TestLiveBodyLag(t *testing.T) {
	db := mustOpenDB(t)
	needsFile(t, db)
	db.BodyInline, db.BodyLag = 64, 5
	ctx := seed(t, db)
	docs := bolt.NewDocumentService(db)
	start := strings.Repeat("long text ", 10) // 100 bytes, past BodyInline
	d, err := docs.CreateDocument(ctx, docket.DocumentCreate{Space: "eng", Title: "Long", Body: start})
	if err != nil {
		t.Fatal(err)
	}
	texts := []string{"", start} // by version
	live := bolt.NewLiveStore(db)
	// commit makes n live ops in one commit, each inserting a character
	// (an astral one every third) at a spot that moves along.
	commit := func(n int) {
		t.Helper()
		var cs []docket.OpCommit
		for range n {
			v := int64(len(texts) - 1)
			cur := []rune(texts[v])
			pos := int(v*7) % (len(cur) + 1)
			ins := "x"
			if v%3 == 0 {
				ins = "😀"
			}
			op, _ := json.Marshal(ot.InsertAt(pos, ins))
			next := string(cur[:pos]) + ins + string(cur[pos:])
			cs = append(cs, docket.OpCommit{DocID: d.ID, Rec: docket.OpRecord{Version: v, Author: d.CreatedBy, Time: time.Now(), Op: op}, Text: next})
			texts = append(texts, next)
		}
		if err := live.CommitOps(context.Background(), cs); err != nil {
			t.Fatal(err)
		}
	}
	check := func(when string) {
		t.Helper()
		want := texts[len(texts)-1]
		got, err := docs.FindDocumentByID(ctx, d.ID)
		if err != nil || got.Body != want || got.Version != int64(len(texts)-1) {
			t.Fatalf("%s: document v%d %q, %v; want v%d %q", when, got.Version, got.Body, err, len(texts)-1, want)
		}
		if v, text, err := live.LoadDocument(context.Background(), d.ID); err != nil || text != want || v != got.Version {
			t.Fatalf("%s: hub load v%d %q, %v; want %q", when, v, text, err, want)
		}
		for v := range int64(len(texts)) {
			if text, err := docs.DocumentAt(ctx, d.ID, v); err != nil || text != texts[v] {
				t.Fatalf("%s: text at v%d %q, %v; want %q", when, v, text, err, texts[v])
			}
		}
		scanned, err := bolt.NewScanner(db).LoadDocuments(ctx, []string{d.ID}, true)
		if err != nil || len(scanned) != 1 || scanned[0].Body != want {
			t.Fatalf("%s: scanner %v, %v; want the current text", when, scanned, err)
		}
	}
	reopen := func() (string, int64) {
		t.Helper()
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		text, at := rawBody(t, db.Path, d.ID)
		if err := db.Open(); err != nil {
			t.Fatal(err)
		}
		return text, at
	}

	commit(1)
	commit(2) // v4; the stored text is still v1's
	check("lagging")
	if text, at := reopen(); text != start || at != 1 {
		t.Fatalf("stored %q at v%d; want the text of v1", text, at)
	}
	check("lagging, reopened")

	commit(1) // v5: 4 behind
	if text, at := reopen(); text != start || at != 1 {
		t.Fatalf("stored %q at v%d; want the text of v1", text, at)
	}
	commit(1) // v6: 5 behind, written
	if text, at := reopen(); text != texts[6] || at != -1 {
		t.Fatalf("stored %q at v%d; want the text of v6, current", text, at)
	}
	check("written")

	commit(2) // v8, lagging from v6
	body := texts[8] + " edited"
	if _, err := docs.EditDocument(ctx, d.ID, docket.Edit{Version: 8, Body: &body}); err != nil {
		t.Fatal(err)
	}
	texts = append(texts, body)
	if text, at := reopen(); text != body || at != -1 {
		t.Fatalf("after an edit: stored %q at v%d; want the edit, current", text, at)
	}
	check("edited")

	commit(1) // lagging again; deleting leaves nothing behind
	if err := docs.DeleteDocument(ctx, d.ID); err != nil {
		t.Fatal(err)
	}
	if text, at := reopen(); text != "" || at != -1 {
		t.Fatalf("after delete: stored %q at v%d; want nothing", text, at)
	}
}

// A short document's text is written with every commit.
func TestLiveBodyShortWritten(t *testing.T) {
	db := mustOpenDB(t)
	needsFile(t, db)
	_, d := seedDoc(t, db, "Short", "abc")
	rec := docket.OpRecord{Version: 1, Author: d.CreatedBy, Time: time.Now(), Op: json.RawMessage(`[3,"d"]`)}
	if err := bolt.NewLiveStore(db).CommitOps(context.Background(), []docket.OpCommit{{DocID: d.ID, Rec: rec, Text: "abcd"}}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if text, at := rawBody(t, db.Path, d.ID); text != "abcd" || at != -1 {
		t.Fatalf("stored %q at v%d; want abcd, current", text, at)
	}
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
}
