package server_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	docket "github.com/docket-dev/docket"
	"github.com/docket-dev/docket/bolt"
	"github.com/docket-dev/docket/collab/ot"
	"github.com/docket-dev/docket/internal/testenv"
)

// BenchmarkReplayVersion serves what the history slider asks for while it
// moves: GET /api/docs/:id/versions/:v?change=1 (and &html=1 for the
// rendered text) at random versions of the largest corpus document with
// 10,000 versions, snapshots every 100 as in production.
func BenchmarkReplayVersion(b *testing.B) {
	body := testenv.LargestProposal(b)
	const versions = 10_000
	e := newEnv(b)
	e.db.SnapshotEvery = 100
	ada := e.signup("Ada")
	ada.createSpace("eng")
	id := ada.createDoc("eng", "Type parameters", body)
	token := ada.must(201, "POST", "/api/tokens", map[string]string{"name": "bench"}).str("token")

	// 9,999 one-character edits at spread-out places, committed 500 to a
	// transaction.
	store := bolt.NewLiveStore(e.db)
	text := []rune(body)
	var batch []docket.OpCommit
	for v := int64(1); v < versions; v++ {
		pos := int(v*7919) % len(text)
		op := ot.InsertAt(pos, "x")
		raw, _ := op.MarshalJSON()
		text = append(text[:pos], append([]rune("x"), text[pos:]...)...)
		batch = append(batch, docket.OpCommit{DocID: id, Text: string(text),
			Rec: docket.OpRecord{Version: v, Author: ada.id(), Time: time.Now(), Op: raw}})
		if len(batch) == 500 || v == versions-1 {
			if err := store.CommitOps(context.Background(), batch); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	h := e.srv.Handler()
	get := func(b *testing.B, path string) {
		req := httptest.NewRequest("GET", path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("GET %s: status %d: %s", path, rec.Code, rec.Body)
		}
	}
	for _, q := range []string{"change=1", "change=1&html=1"} {
		b.Run(q, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				get(b, fmt.Sprintf("/api/docs/%s/versions/%d?%s", id, 1+rand.IntN(versions-1), q))
			}
		})
	}
	// The document page of a reader who last saw version 1: the notice
	// counts the 9,999 changes since (by the reader, so none is shown;
	// the op log is read all the same).
	b.Run("doc-page-since-v1", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			ada.must(http.StatusOK, "POST", "/api/docs/"+id+"/visit", map[string]any{"version": 1})
			b.StartTimer()
			get(b, "/d/"+id)
		}
	})
	b.Run("doc-page-no-change", func(b *testing.B) {
		for b.Loop() {
			get(b, "/d/"+id)
		}
	})
}
