package bolt

import (
	"testing"

	docket "github.com/docket-dev/docket"
	"github.com/docket-dev/docket/kv"
)

// TestTemplatesSeededLazily: a space made before templates existed (no
// seed mark, no templates) gets the defaults when they are first listed,
// by any reader; once seeded, deleting them all leaves none.
func TestTemplatesSeededLazily(t *testing.T) {
	f := newFixture(t)
	space := f.space(f.root, "old")
	reader := f.user("Reader")
	f.member(f.root, space, reader, docket.RoleViewer)
	f.write(func(tx kv.Tx) error { // as a file of schema 5 has it
		if err := deletePrefix(tx.Bucket(bucketTemplates), space, nil); err != nil {
			return err
		}
		return tx.Bucket(bucketTemplateSeeds).Delete([]byte(space))
	})
	ts := NewTemplateService(f.db)
	list, err := ts.FindTemplates(reader, space)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(list), len(docket.DefaultTemplates()); got != want {
		t.Fatalf("templates of an old space = %d; want the %d defaults", got, want)
	}
	for _, tpl := range list {
		if err := ts.DeleteTemplate(f.root, space, tpl.ID); err != nil {
			t.Fatal(err)
		}
	}
	if list, err = ts.FindTemplates(reader, space); err != nil || len(list) != 0 {
		t.Errorf("after deleting every template: %d, %v; want none", len(list), err)
	}
	_, err = ts.FindTemplates(f.user("Stranger"), space)
	wantCode(t, "FindTemplates by a stranger", err, docket.ENOTFOUND)
}
