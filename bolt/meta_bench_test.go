package bolt

import (
	"strings"
	"testing"
	"time"

	docket "github.com/docket-dev/docket"
	"github.com/docket-dev/docket/internal/testenv"
)

// BenchmarkFindDocumentMetaInReview reads the metadata of the largest
// corpus document in review with an approval 50 edits old, as every live
// op's permission check does while the data file changes under it (the
// read cache misses): the read must not replay texts to tell whether the
// approval is stale.
func BenchmarkFindDocumentMetaInReview(b *testing.B) {
	f := newFixture(b)
	ada, bob := f.user("ada"), f.user("bob")
	space := f.space(ada, "eng")
	f.member(ada, space, bob, docket.RoleEditor)
	body := testenv.LargestProposal(b)
	d, err := f.docs.CreateDocument(ada, docket.DocumentCreate{Space: space, Title: "Type parameters", Body: body})
	if err != nil {
		b.Fatal(err)
	}
	dec := NewDecisionService(f.db, nil, NewMinutesService(f.db, nil, func(*docket.MinutesData) string { return "" }))
	if _, err := dec.Transition(ada, d.ID, docket.Transition{To: docket.StatusReview, Due: time.Now().Add(48 * time.Hour), Reviewers: []string{docket.UserIDFromContext(bob)}}); err != nil {
		b.Fatal(err)
	}
	if _, err := dec.AddReview(bob, docket.ReviewCreate{DocID: d.ID, Verdict: docket.VerdictApprove}); err != nil {
		b.Fatal(err)
	}
	for range 50 {
		body = strings.Replace(body, "the ", "teh ", 1)
		if d, err = f.docs.EditDocument(ada, d.ID, docket.Edit{Version: d.Version, Body: &body}); err != nil {
			b.Fatal(err)
		}
	}
	for b.Loop() {
		f.db.gen.Add(1) // a commit elsewhere, as under live editing
		if _, err := f.docs.FindDocumentMeta(ada, d.ID); err != nil {
			b.Fatal(err)
		}
	}
}
