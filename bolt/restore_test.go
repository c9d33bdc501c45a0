package bolt_test

import (
	"context"
	"fmt"
	"testing"

	docket "github.com/docket-dev/docket"
	"github.com/docket-dev/docket/bolt"
)

// TestRestoreVersions exports a document of 20 versions from one data file
// and restores it into another that keeps snapshots at other versions:
// every version reads the same.
func TestRestoreVersions(t *testing.T) {
	src := mustOpenDB(t)
	ctx, d := seedDoc(t, src, "Log", "v1\n")
	docs := bolt.NewDocumentService(src)
	var err error
	for i := 2; i <= 20; i++ {
		body := fmt.Sprintf("v%d\n", i)
		if d, err = docs.EditDocument(ctx, d.ID, docket.Edit{Version: d.Version, Body: &body}); err != nil {
			t.Fatal(err)
		}
	}
	sys := docket.NewSystemContext(context.Background())
	rec, err := src.ExportDocument(sys, d.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := src.ExportDocument(docket.NewContextWithUser(context.Background(), &docket.User{ID: "nobody"}), d.ID); docket.ErrorCode(err) != docket.ENOTFOUND {
		t.Errorf("export by a non-member: %v; want ENOTFOUND", err)
	}

	dst := bolt.OpenTestDB(t)
	dst.SnapshotEvery = 5
	seed(t, dst)
	sp, err := bolt.NewSpaceService(dst).FindSpace(sys, "eng")
	if err != nil {
		t.Fatal(err)
	}
	users, _ := src.ExportUsers(sys, []string{d.OwnerID})
	ada, err := dst.RestoreUser(sys, users[0])
	if err != nil || ada.Deactivated {
		t.Fatalf("restore Ada = %+v, %v; want the existing account", ada, err)
	}
	ids := map[string]string{d.SpaceID: sp.ID, d.OwnerID: ada.ID}
	got, err := dst.RestoreDocument(sys, rec, ids)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID == d.ID || got.SpaceID != sp.ID || got.OwnerID != ada.ID || got.Version != 20 || !got.UpdatedAt.Equal(d.UpdatedAt) {
		t.Errorf("restored = %+v; want a new id in the target space, Ada's, at version 20 of %v", got, d.UpdatedAt)
	}
	for v := int64(1); v <= 20; v++ {
		want, _ := docs.DocumentAt(sys, d.ID, v)
		if got, err := bolt.NewDocumentService(dst).DocumentAt(sys, got.ID, v); err != nil || got != want {
			t.Errorf("version %d = %q, %v; want %q", v, got, err, want)
		}
	}
}

func TestRestoreRefuses(t *testing.T) {
	db := mustOpenDB(t)
	ctx, d := seedDoc(t, db, "One", "text\n")
	sys := docket.NewSystemContext(context.Background())
	rec, err := db.ExportDocument(sys, d.ID)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		ctx  context.Context
		edit func(r *docket.DocumentRecord)
		code string
	}{
		{"a user, even an admin", ctx, func(*docket.DocumentRecord) {}, docket.EFORBIDDEN},
		{"an op missing", sys, func(r *docket.DocumentRecord) { r.Document.Version = 2 }, docket.EINVALID},
		{"ops misnumbered", sys, func(r *docket.DocumentRecord) { r.Ops[0].Version = 1 }, docket.EINVALID},
		{"no such space", sys, func(r *docket.DocumentRecord) { r.Document.SpaceID = "nosuchspace00000" }, docket.ENOTFOUND},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := docket.RemapIDs(rec, nil)
			if err != nil {
				t.Fatal(err)
			}
			tt.edit(r)
			_, err = db.RestoreDocument(tt.ctx, r, nil)
			wantCode(t, "restore", err, tt.code)
		})
	}
	if _, err := db.RestoreUser(ctx, &docket.User{Name: "Eve", Email: "eve@example.com"}); docket.ErrorCode(err) != docket.EFORBIDDEN {
		t.Errorf("restore a user as a user: %v; want EFORBIDDEN", err)
	}
}
