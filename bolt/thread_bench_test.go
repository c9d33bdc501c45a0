package bolt_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	docket "github.com/docket-dev/docket"
	"github.com/docket-dev/docket/bolt"
	"github.com/docket-dev/docket/collab/ot"
	"github.com/docket-dev/docket/markdown"
)

// BenchmarkFindThreads lists 50 threads anchored at version 1 of a
// document with 10,000 ops of history after it. Cold moves every anchor
// through all the ops on every call (the cache is off); warm is the
// steady state, where the first listing stored the moved anchors.
func BenchmarkFindThreads(b *testing.B) {
	const threads, ops = 50, 10_000
	db := mustOpenDB(b)
	ctx := seed(b, db)
	rng := rand.New(rand.NewPCG(9, 9))
	words := []string{"the ", "decision ", "café ", "中文 ", "😀 ", "review\n", "of ", "anchor "}
	var sb strings.Builder
	for sb.Len() < 8000 {
		sb.WriteString(words[rng.IntN(len(words))])
	}
	d, err := bolt.NewDocumentService(db).CreateDocument(ctx, docket.DocumentCreate{Space: "eng", Title: "Long", Body: sb.String()})
	if err != nil {
		b.Fatal(err)
	}
	svc := bolt.NewThreadService(db, markdown.New(markdown.Options{}), markdown.Mentions)
	n := utf8.RuneCountInString(d.Body)
	for i := range threads {
		start := rng.IntN(n - 40)
		if _, err := svc.CreateThread(ctx, docket.ThreadCreate{DocID: d.ID, Anchor: &docket.Anchor{Version: 1, Start: start, End: start + 1 + rng.IntN(40)}, Body: fmt.Sprintf("thread %d", i)}); err != nil {
			b.Fatal(err)
		}
	}
	// 10,000 single edits anywhere, committed in batches as the live hub does.
	live := bolt.NewLiveStore(db)
	text, version := d.Body, d.Version
	for done := 0; done < ops; {
		var batch []docket.OpCommit
		for ; done < ops && len(batch) < 1000; done++ {
			n := utf8.RuneCountInString(text)
			pos := rng.IntN(n)
			var op ot.Op
			if pos > 0 {
				op = append(op, ot.Component{Skip: pos})
			}
			if rng.IntN(2) == 0 || n < 4000 {
				op = append(op, ot.Component{Insert: words[rng.IntN(len(words))]})
			} else {
				op = append(op, ot.Component{Delete: 1 + rng.IntN(min(8, n-pos))})
			}
			next, err := ot.Apply(text, op)
			if err != nil {
				b.Fatal(err)
			}
			raw, _ := op.MarshalJSON()
			batch = append(batch, docket.OpCommit{DocID: d.ID, Text: next, Rec: docket.OpRecord{Version: version, Author: "bench", Time: time.Now().UTC(), Op: raw}})
			text, version = next, version+1
		}
		if err := live.CommitOps(context.Background(), batch); err != nil {
			b.Fatal(err)
		}
	}
	list := func(b *testing.B, svc *bolt.ThreadService) {
		got, err := svc.FindThreads(ctx, d.ID, docket.ThreadFilter{})
		if err != nil || len(got) != threads || got[0].Anchor.Version != version {
			b.Fatalf("FindThreads = %d threads, %v", len(got), err)
		}
	}
	b.Run("cold", func(b *testing.B) {
		cold := bolt.NewThreadService(db, markdown.New(markdown.Options{}), markdown.Mentions)
		cold.MoveCacheAfter = -1
		b.ReportAllocs()
		for b.Loop() {
			list(b, cold)
		}
	})
	b.Run("warm", func(b *testing.B) {
		list(b, svc) // stores the moved anchors
		b.ReportAllocs()
		for b.Loop() {
			list(b, svc)
		}
	})
}
