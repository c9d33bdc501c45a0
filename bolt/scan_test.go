package bolt_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	bbolt "go.etcd.io/bbolt"

	docket "github.com/docket-dev/docket"
	"github.com/docket-dev/docket/bolt"
)

// TestLoadForSearch reads documents and comments by id, as search does
// to show hits: missing and deleted ones are left out.
func TestLoadForSearch(t *testing.T) {
	comments := []docket.Comment{
		{ID: "c1", ThreadID: "t1", DocID: "d1", AuthorID: "u1", Body: "first"},
		{ID: "c2", ThreadID: "t1", DocID: "d1", AuthorID: "u1", Body: "gone", Deleted: true},
	}
	path := newRawFile(t, func(tx *bbolt.Tx) error {
		for _, c := range comments {
			v, err := json.Marshal(c)
			if err != nil {
				return err
			}
			if err := tx.Bucket([]byte("comments")).Put([]byte(c.ID), v); err != nil {
				return err
			}
		}
		return nil
	})
	db := bolt.NewDB(path)
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := seed(t, db)
	docs := bolt.NewDocumentService(db)
	a, err := docs.CreateDocument(ctx, docket.DocumentCreate{Space: "eng", Title: "A", Body: "body of a"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := docs.CreateDocument(ctx, docket.DocumentCreate{Space: "eng", Title: "B", Body: "body of b"})
	if err != nil {
		t.Fatal(err)
	}
	s := bolt.NewScanner(db)
	sys := context.Background()

	got, err := s.LoadDocuments(sys, []string{b.ID, "nosuchdoc", a.ID}, true)
	if err != nil {
		t.Fatal(err)
	}
	var titles, bodies []string
	for _, d := range got {
		titles, bodies = append(titles, d.Title), append(bodies, d.Body)
	}
	if diff := cmp.Diff([]string{"B", "A"}, titles); diff != "" {
		t.Errorf("LoadDocuments titles (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"body of b", "body of a"}, bodies); diff != "" {
		t.Errorf("LoadDocuments bodies (-want +got):\n%s", diff)
	}
	got, err = s.LoadDocuments(sys, []string{a.ID}, false)
	if err != nil || len(got) != 1 || got[0].Body != "" || got[0].SpaceID != a.SpaceID {
		t.Errorf("LoadDocuments without body = %+v, %v", got, err)
	}

	cs, err := s.LoadComments(sys, []string{"c2", "c1", "c3"})
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 1 || cs[0].ID != "c1" || cs[0].DocID != "d1" || cs[0].ThreadID != "t1" || cs[0].Body != "first" {
		t.Errorf("LoadComments = %+v; want c1 only", cs)
	}
	cancelled, cancel := context.WithCancel(sys)
	cancel()
	if _, err := s.LoadDocuments(cancelled, []string{a.ID}, true); err == nil {
		t.Error("LoadDocuments with a cancelled context succeeded")
	}
}

// BenchmarkLoadDocuments reads the 20 documents of a page of search hits,
// bodies of 2.3 KB included, as search does to make their fragments.
func BenchmarkLoadDocuments(b *testing.B) {
	db := mustOpenDB(b)
	ctx := seed(b, db)
	docs := bolt.NewDocumentService(db)
	var ids []string
	for i := range 20 {
		d, err := docs.CreateDocument(ctx, docket.DocumentCreate{Space: "eng", Title: fmt.Sprintf("Doc %d", i), Body: strings.Repeat("Some words of a document. ", 90)})
		if err != nil {
			b.Fatal(err)
		}
		ids = append(ids, d.ID)
	}
	s := bolt.NewScanner(db)
	for b.Loop() {
		if got, err := s.LoadDocuments(context.Background(), ids, true); err != nil || len(got) != 20 {
			b.Fatal(len(got), err)
		}
	}
}
