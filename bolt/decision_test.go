package bolt_test

import (
	"context"
	"encoding/json"
	"html"
	"strings"
	"testing"
	"time"

	docket "github.com/docket-dev/docket"
	"github.com/docket-dev/docket/bolt"
	"github.com/docket-dev/docket/internal/testenv"
	"github.com/docket-dev/docket/markdown"
)

// escaper is a Renderer that escapes instead of rendering markdown.
type escaper struct{}

func (escaper) Render(_ context.Context, src string) (string, error) {
	return "<p>" + html.EscapeString(src) + "</p>", nil
}
func (escaper) Validate(string) error { return nil }
func (escaper) Title(string) string   { return "" }

// decisionWorld is a space "eng" with a site admin (ada), an owner who is
// an editor (olga), two reviewers who are commenters (bob, carol), an
// editor who does not own the document (ed) and a viewer (vic), and an RFC
// owned by olga.
type decisionWorld struct {
	db                             *bolt.DB
	clock                          *testenv.Clock
	dec                            *bolt.DecisionService
	docs                           *bolt.DocumentService
	ada, olga, bob, carol, ed, vic context.Context
	adaID, olgaID, bobID, carolID  string
	edID, vicID, spaceID, docID    string
}

func newDecisionWorld(t *testing.T) *decisionWorld {
	t.Helper()
	db := mustOpenDB(t)
	w := &decisionWorld{db: db, clock: testenv.NewClock(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC))}
	db.Now = w.clock.Now
	w.ada = seed(t, db)
	w.adaID = docket.UserIDFromContext(w.ada)
	users, spaces := bolt.NewUserService(db), bolt.NewSpaceService(db)
	sp, err := spaces.FindSpace(w.ada, "eng")
	if err != nil {
		t.Fatal(err)
	}
	w.spaceID = sp.ID
	// The rules before spaces had any: no last call required, one
	// approval; the tests of the rules set their own.
	if _, err := spaces.SetDecisionRules(w.ada, "eng", docket.DecisionRules{MinApprovals: 1, ApprovalsResetOnChange: true}); err != nil {
		t.Fatal(err)
	}
	add := func(name string, role docket.SpaceRole) (context.Context, string) {
		t.Helper()
		u, err := users.CreateUser(context.Background(), docket.UserCreate{Name: name, Email: strings.ToLower(name) + "@example.com", Password: "long enough"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := spaces.SetMember(w.ada, "eng", u.ID, role); err != nil {
			t.Fatal(err)
		}
		return docket.NewContextWithUser(context.Background(), u), u.ID
	}
	w.olga, w.olgaID = add("Olga", docket.RoleEditor)
	w.bob, w.bobID = add("Bob", docket.RoleCommenter)
	w.carol, w.carolID = add("Carol", docket.RoleCommenter)
	w.ed, w.edID = add("Ed", docket.RoleEditor)
	w.vic, w.vicID = add("Vic", docket.RoleViewer)
	w.docs = bolt.NewDocumentService(db)
	w.dec = bolt.NewDecisionService(db, escaper{}, bolt.NewMinutesService(db, nil, markdown.Minutes))
	d, err := w.docs.CreateDocument(w.olga, docket.DocumentCreate{Space: "eng", Title: "RFC 1: Queues", Body: "# Queues\n", Kind: docket.KindRFC})
	if err != nil {
		t.Fatal(err)
	}
	w.docID = d.ID
	return w
}

func wantCode(t *testing.T, what string, err error, code string) {
	t.Helper()
	if got := docket.ErrorCode(err); got != code {
		t.Fatalf("%s: err = %v; want code %q", what, err, code)
	}
}

func mustTransition(t *testing.T, w *decisionWorld, ctx context.Context, tr docket.Transition) *docket.Lifecycle {
	t.Helper()
	lc, err := w.dec.Transition(ctx, w.docID, tr)
	if err != nil {
		t.Fatalf("Transition(%s): %v", tr.To, err)
	}
	return lc
}

// TestDecisionScript runs an RFC through its whole process: drafted,
// reviewed with a concern, the concern blocking the last call until its
// thread is resolved, the decision refused during the last call until
// every reviewer approves or the last call ends, then accepted.
func TestDecisionScript(t *testing.T) {
	w := newDecisionWorld(t)
	start := w.clock.Now()

	lc, err := w.dec.FindLifecycle(w.bob, w.docID)
	if err != nil || lc.Status != docket.StatusDraft || len(lc.Reviewers) != 0 {
		t.Fatalf("FindLifecycle of a new document = %+v, %v; want a draft without reviewers", lc, err)
	}

	// Into review, with two reviewers named by id and by email.
	due := start.Add(7 * 24 * time.Hour)
	lc = mustTransition(t, w, w.olga, docket.Transition{To: docket.StatusReview, Due: due, Reviewers: []string{w.bobID, "Carol@Example.com", w.bobID}})
	if lc.Status != docket.StatusReview || !lc.Due.Equal(due) || !lc.EnteredAt.Equal(start) || len(lc.Reviewers) != 2 ||
		lc.Reviewers[0].UserID != w.bobID || lc.Reviewers[1].UserID != w.carolID {
		t.Fatalf("after review: %+v", lc)
	}
	d, err := w.docs.FindDocumentByID(w.vic, w.docID)
	if err != nil || d.Status != docket.StatusReview || !d.Due.Equal(due) || len(d.Reviewers) != 2 || d.Overdue {
		t.Fatalf("document in review = %+v, %v", d, err)
	}
	for _, id := range []string{w.bobID, w.carolID} {
		items := bolt.InboxOf(w.db, id)
		if len(items) != 1 || items[0].Kind != docket.InboxReviewRequest || !items[0].Due.Equal(due) || items[0].DocID != w.docID {
			t.Fatalf("inbox of reviewer %s = %+v; want one review request due %v", id, items, due)
		}
	}
	if items := bolt.InboxOf(w.db, w.olgaID); len(items) != 0 {
		t.Fatalf("the owner's inbox = %+v; want nothing for her own transition", items)
	}

	// Bob approves, Carol raises a concern: a document-level thread.
	w.clock.Add(time.Hour)
	if _, err := w.dec.AddReview(w.bob, docket.ReviewCreate{DocID: w.docID, Verdict: docket.VerdictApprove}); err != nil {
		t.Fatal(err)
	}
	concern, err := w.dec.AddReview(w.carol, docket.ReviewCreate{DocID: w.docID, Verdict: docket.VerdictConcern, Body: "What happens on <overflow>?"})
	if err != nil {
		t.Fatal(err)
	}
	if concern.ThreadID == "" || concern.HTML != "<p>What happens on &lt;overflow&gt;?</p>" || concern.Version != 1 {
		t.Fatalf("concern = %+v", concern)
	}
	th, err := bolt.ThreadRecord(w.db, concern.ThreadID)
	if err != nil {
		t.Fatal(err)
	}
	if th.DocID != w.docID || th.SpaceID != w.spaceID || th.Anchor != nil || th.Status != docket.ThreadOpen || th.AuthorID != w.carolID ||
		len(th.Comments) != 1 || th.Comments[0].Body != "What happens on <overflow>?" || th.Comments[0].HTML != concern.HTML {
		t.Fatalf("concern thread = %+v", th)
	}
	if items := bolt.InboxOf(w.db, w.olgaID); len(items) != 1 || items[0].Kind != docket.InboxConcern || items[0].ThreadID != th.ID {
		t.Fatalf("owner's inbox = %+v; want the concern", items)
	}

	// The concern blocks the last call; nothing changes.
	before := len(bolt.DocEvents(w.db, w.docID))
	_, err = w.dec.Transition(w.olga, w.docID, docket.Transition{To: docket.StatusLastCall, Due: start.Add(10 * 24 * time.Hour)})
	wantCode(t, "last call with an open concern", err, docket.ECONFLICT)
	if got, want := docket.ErrorMessage(err), "1 unresolved concern blocks the last call."; got != want {
		t.Fatalf("refusal = %q; want %q", got, want)
	}
	if lc, _ := w.dec.FindLifecycle(w.olga, w.docID); lc.Status != docket.StatusReview || !lc.Due.Equal(due) {
		t.Fatalf("refused transition changed the lifecycle: %+v", lc)
	}
	if got := len(bolt.DocEvents(w.db, w.docID)); got != before {
		t.Fatalf("refused transition added %d events", got-before)
	}
	// An outdated thread still blocks; a resolved one does not.
	for _, tc := range []struct {
		status docket.ThreadStatus
		code   string
	}{{docket.ThreadOutdated, docket.ECONFLICT}, {docket.ThreadResolved, ""}} {
		if err := bolt.SetThreadStatus(w.db, th.ID, tc.status); err != nil {
			t.Fatal(err)
		}
		reviews, err := w.dec.FindReviews(w.vic, w.docID)
		if err != nil || len(reviews) != 2 || reviews[1].Resolved != (tc.status == docket.ThreadResolved) {
			t.Fatalf("FindReviews with the thread %s = %+v, %v", tc.status, reviews, err)
		}
		if tc.code == "" {
			break
		}
		_, err = w.dec.Transition(w.olga, w.docID, docket.Transition{To: docket.StatusLastCall, Due: start.Add(10 * 24 * time.Hour)})
		wantCode(t, "last call with an outdated concern", err, tc.code)
	}
	lastCallDue := start.Add(10 * 24 * time.Hour)
	lc = mustTransition(t, w, w.olga, docket.Transition{To: docket.StatusLastCall, Due: lastCallDue})
	if lc.Status != docket.StatusLastCall || !lc.Due.Equal(lastCallDue) {
		t.Fatalf("after last call: %+v", lc)
	}

	// Accepting during the last call needs every reviewer approving; Carol's
	// latest verdict is still her concern.
	_, err = w.dec.Transition(w.olga, w.docID, docket.Transition{To: docket.StatusAccepted, Summary: "Ship it."})
	wantCode(t, "accept during the last call", err, docket.ECONFLICT)
	if !strings.Contains(docket.ErrorMessage(err), "runs until 2026-12-11T09:00:00Z") {
		t.Fatalf("refusal = %q", docket.ErrorMessage(err))
	}

	// The deadline passes: overdue shows; the decision may be recorded,
	// with a summary.
	w.clock.Add(10 * 24 * time.Hour)
	if d, _ := w.docs.FindDocumentMeta(w.vic, w.docID); !d.Overdue {
		t.Fatalf("document past its last call = %+v; want overdue", d)
	}
	list, _, err := w.docs.FindDocuments(w.vic, docket.DocumentFilter{Space: "eng", Status: docket.StatusLastCall})
	if err != nil || len(list) != 1 || !list[0].Overdue || !list[0].Due.Equal(lastCallDue) || list[0].Reviewers != nil {
		t.Fatalf("list of documents in last call = %+v, %v; want one, overdue, with due and without reviewers", list, err)
	}
	_, err = w.dec.Transition(w.olga, w.docID, docket.Transition{To: docket.StatusAccepted})
	wantCode(t, "accept without summary", err, docket.EINVALID)
	decidedAt := w.clock.Now()
	lc = mustTransition(t, w, w.olga, docket.Transition{To: docket.StatusAccepted, Summary: "  Ship it; overflow is handled by back-pressure.  "})
	want := docket.Decision{Outcome: docket.StatusAccepted, Summary: "Ship it; overflow is handled by back-pressure.", By: w.olgaID, At: decidedAt, Version: 1, Round: 1}
	if lc.Decision != nil {
		if lc.Decision.MinutesID == "" {
			t.Errorf("decision without frozen minutes")
		}
		want.MinutesID = lc.Decision.MinutesID
	}
	if lc.Status != docket.StatusAccepted || !lc.Due.IsZero() || lc.Decision == nil || *lc.Decision != want {
		t.Fatalf("accepted lifecycle = %+v, decision %+v; want %+v", lc, lc.Decision, want)
	}
	d, _ = w.docs.FindDocumentByID(w.vic, w.docID)
	if d.Status != docket.StatusAccepted || d.Overdue || d.Decision == nil || d.Decision.Summary != want.Summary {
		t.Fatalf("accepted document = %+v", d)
	}
	if status, _, _, _ := bolt.StoredStatus(w.db, w.docID); status != docket.StatusAccepted {
		t.Fatalf("stored status = %q; want accepted", status)
	}
	for _, id := range []string{w.bobID, w.carolID} {
		items := bolt.InboxOf(w.db, id)
		if last := items[len(items)-1]; last.Kind != docket.InboxDecision || !strings.Contains(last.Text, "back-pressure") {
			t.Fatalf("reviewer %s's last inbox item = %+v; want the decision", id, last)
		}
	}

	// The event log tells the story in order.
	var got []string
	for _, ev := range bolt.DocEvents(w.db, w.docID) {
		got = append(got, string(ev.Type)+" "+string(ev.Data))
	}
	wantEvents := []string{
		`doc.created {"kind":"rfc"}`,
		`doc.transitioned {"from":"draft","to":"review","due":"2026-12-08T09:00:00Z","reviewers":["` + w.bobID + `","` + w.carolID + `"],"round":1}`,
		`review.created {"verdict":"approve"}`,
		`review.created {"verdict":"concern","excerpt":"What happens on \u003coverflow\u003e?"}`,
		`doc.transitioned {"from":"review","to":"last-call","due":"2026-12-11T09:00:00Z","reviewers":["` + w.bobID + `","` + w.carolID + `"],"round":1}`,
		`doc.transitioned {"from":"last-call","to":"accepted","reviewers":["` + w.bobID + `","` + w.carolID + `"],"summary":"Ship it; overflow is handled by back-pressure.","round":1}`,
	}
	if strings.Join(got, "\n") != strings.Join(wantEvents, "\n") {
		t.Fatalf("events:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(wantEvents, "\n"))
	}
}

// TestAcceptWhenAllApprove records a decision during review, before any
// deadline, because every reviewer approved.
func TestAcceptWhenAllApprove(t *testing.T) {
	w := newDecisionWorld(t)
	mustTransition(t, w, w.olga, docket.Transition{To: docket.StatusReview, Due: w.clock.Now().Add(time.Hour), Reviewers: []string{w.bobID, w.carolID}})
	if _, err := w.dec.AddReview(w.bob, docket.ReviewCreate{DocID: w.docID, Verdict: docket.VerdictApprove}); err != nil {
		t.Fatal(err)
	}
	_, err := w.dec.Transition(w.olga, w.docID, docket.Transition{To: docket.StatusAccepted, Summary: "Yes."})
	wantCode(t, "accept with one of two approving", err, docket.ECONFLICT)
	// A comment does not replace an answer already given.
	if _, err := w.dec.AddReview(w.bob, docket.ReviewCreate{DocID: w.docID, Verdict: docket.VerdictComment, Body: "Nit: typo."}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.dec.AddReview(w.carol, docket.ReviewCreate{DocID: w.docID, Verdict: docket.VerdictApprove, Body: "LGTM"}); err != nil {
		t.Fatal(err)
	}
	lc := mustTransition(t, w, w.olga, docket.Transition{To: docket.StatusAccepted, Summary: "Yes."})
	for _, r := range lc.Reviewers {
		if r.Verdict != docket.VerdictApprove {
			t.Fatalf("reviewer %s verdict = %q; want approve", r.UserID, r.Verdict)
		}
	}
}

// TestTransitionInput checks the input a transition refuses, and that a
// refusal changes nothing.
func TestTransitionInput(t *testing.T) {
	w := newDecisionWorld(t)
	other, err := w.docs.CreateDocument(w.olga, docket.DocumentCreate{Space: "eng", Title: "RFC 2", Body: "x"})
	if err != nil {
		t.Fatal(err)
	}
	spaces := bolt.NewSpaceService(w.db)
	if _, err := spaces.CreateSpace(w.ada, "ops", "Ops"); err != nil {
		t.Fatal(err)
	}
	elsewhere, err := w.docs.CreateDocument(w.ada, docket.DocumentCreate{Space: "ops", Title: "Ops doc", Body: "x"})
	if err != nil {
		t.Fatal(err)
	}
	outsider, err := bolt.NewUserService(w.db).CreateUser(context.Background(), docket.UserCreate{Name: "Out", Email: "out@example.com", Password: "long enough"})
	if err != nil {
		t.Fatal(err)
	}
	due := w.clock.Now().Add(24 * time.Hour)
	for _, tc := range []struct {
		name string
		tr   docket.Transition
		code string
		msg  string
	}{
		{"unknown status", docket.Transition{To: "done"}, docket.EINVALID, `Unknown status "done".`},
		{"unknown reviewer", docket.Transition{To: docket.StatusReview, Due: due, Reviewers: []string{w.bobID, "nobody@example.com"}},
			docket.EINVALID, `Reviewer "nobody@example.com" is not a user who can read this space.`},
		{"reviewer outside the space", docket.Transition{To: docket.StatusReview, Due: due, Reviewers: []string{outsider.ID}},
			docket.EINVALID, `Reviewer "` + outsider.ID + `" is not a user`},
		{"too many reviewers", docket.Transition{To: docket.StatusReview, Due: due, Reviewers: make([]string, docket.MaxReviewers+1)},
			docket.EINVALID, "At most 50 reviewers."},
		{"reviewers with withdrawn", docket.Transition{To: docket.StatusWithdrawn, Reviewers: []string{w.bobID}}, docket.EINVALID, "Reviewers are named when entering review"},
		{"deadline with withdrawn", docket.Transition{To: docket.StatusWithdrawn, Due: due}, docket.EINVALID, "Only review and last-call have a deadline"},
		{"summary with review", docket.Transition{To: docket.StatusReview, Due: due, Reviewers: []string{w.bobID}, Summary: "x"}, docket.EINVALID, "goes with an outcome"},
		{"supersededBy with withdrawn", docket.Transition{To: docket.StatusWithdrawn, SupersededBy: other.ID}, docket.EINVALID, "supersededBy goes with superseded"},
		{"summary too large", docket.Transition{To: docket.StatusWithdrawn, Summary: strings.Repeat("x", docket.MaxCommentBytes+1)}, docket.ETOOLARGE, ""},
		{"deadline in the past", docket.Transition{To: docket.StatusReview, Due: w.clock.Now().Add(-time.Minute), Reviewers: []string{w.bobID}}, docket.EINVALID, "in the future"},
		{"no reviewers", docket.Transition{To: docket.StatusReview, Due: due}, docket.EINVALID, "at least one reviewer"},
		{"draft to accepted", docket.Transition{To: docket.StatusAccepted, Summary: "x"}, docket.ECONFLICT, "A draft document cannot move to accepted."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := w.dec.Transition(w.olga, w.docID, tc.tr)
			wantCode(t, tc.name, err, tc.code)
			if !strings.Contains(docket.ErrorMessage(err), tc.msg) {
				t.Fatalf("message = %q; want %q", docket.ErrorMessage(err), tc.msg)
			}
			if status, lifecycle, _, _ := bolt.StoredStatus(w.db, w.docID); status != docket.StatusDraft || lifecycle {
				t.Fatalf("refused transition stored status %q, lifecycle %v", status, lifecycle)
			}
		})
	}

	// Superseding: by a readable document of the same space, not itself.
	mustTransition(t, w, w.olga, docket.Transition{To: docket.StatusReview, Due: due, Reviewers: []string{w.bobID}})
	if _, err := w.dec.AddReview(w.bob, docket.ReviewCreate{DocID: w.docID, Verdict: docket.VerdictApprove}); err != nil {
		t.Fatal(err)
	}
	mustTransition(t, w, w.olga, docket.Transition{To: docket.StatusAccepted, Summary: "ok"})
	for _, by := range []string{w.docID, elsewhere.ID, "zzzzzzzzzzzzzzzz", "../x"} {
		_, err := w.dec.Transition(w.olga, w.docID, docket.Transition{To: docket.StatusSuperseded, SupersededBy: by})
		wantCode(t, "superseded by "+by, err, docket.EINVALID)
	}
	lc := mustTransition(t, w, w.olga, docket.Transition{To: docket.StatusSuperseded, SupersededBy: other.ID})
	if lc.Decision == nil || lc.Decision.Outcome != docket.StatusSuperseded || lc.Decision.SupersededBy != other.ID {
		t.Fatalf("superseded lifecycle decision = %+v", lc.Decision)
	}
	_, err = w.dec.Transition(w.olga, w.docID, docket.Transition{To: docket.StatusReview, Due: due})
	wantCode(t, "superseded to review", err, docket.ECONFLICT)
}

// TestDecisionPermissions checks who may move, review and hand over a
// document at the service level.
func TestDecisionPermissions(t *testing.T) {
	w := newDecisionWorld(t)
	outsiderUser, err := bolt.NewUserService(w.db).CreateUser(context.Background(), docket.UserCreate{Name: "Out", Email: "out@example.com", Password: "long enough"})
	if err != nil {
		t.Fatal(err)
	}
	outsider := docket.NewContextWithUser(context.Background(), outsiderUser)
	due := w.clock.Now().Add(24 * time.Hour)
	withdraw := docket.Transition{To: docket.StatusWithdrawn}
	for _, tc := range []struct {
		name string
		ctx  context.Context
		code string
	}{
		{"outsider", outsider, docket.ENOTFOUND},
		{"anonymous", context.Background(), docket.ENOTFOUND},
		{"viewer", w.vic, docket.EFORBIDDEN},
		{"commenter", w.bob, docket.EFORBIDDEN},
		{"editor not owner", w.ed, docket.EFORBIDDEN},
	} {
		_, err := w.dec.Transition(tc.ctx, w.docID, withdraw)
		wantCode(t, "Transition as "+tc.name, err, tc.code)
		_, err = w.dec.SetOwner(tc.ctx, w.docID, w.edID)
		wantCode(t, "SetOwner as "+tc.name, err, tc.code)
	}
	// Reviews: the viewer is a reviewer, so she may approve; a commenter
	// who is not may only comment; verdicts need a document in review.
	mustTransition(t, w, w.olga, docket.Transition{To: docket.StatusReview, Due: due, Reviewers: []string{w.vicID, w.carolID}})
	for _, tc := range []struct {
		name    string
		ctx     context.Context
		verdict docket.Verdict
		body    string
		code    string
	}{
		{"reviewer viewer approves", w.vic, docket.VerdictApprove, "", ""},
		{"reviewer viewer comments", w.vic, docket.VerdictComment, "hm", ""},
		{"commenter not reviewer approves", w.bob, docket.VerdictApprove, "", docket.EFORBIDDEN},
		{"commenter not reviewer raises a concern", w.bob, docket.VerdictConcern, "no", docket.EFORBIDDEN},
		{"commenter not reviewer comments", w.bob, docket.VerdictComment, "fine", ""},
		{"owner approves own", w.olga, docket.VerdictApprove, "", docket.ECONFLICT},
		{"outsider comments", outsider, docket.VerdictComment, "x", docket.ENOTFOUND},
		{"concern without body", w.carol, docket.VerdictConcern, " \n", docket.EINVALID},
		{"comment without body", w.bob, docket.VerdictComment, "", docket.EINVALID},
		{"unknown verdict", w.carol, "veto", "x", docket.EINVALID},
		{"body too large", w.carol, docket.VerdictConcern, strings.Repeat("x", docket.MaxCommentBytes+1), docket.ETOOLARGE},
		{"body not UTF-8", w.carol, docket.VerdictComment, "\xff", docket.EINVALID},
	} {
		_, err := w.dec.AddReview(tc.ctx, docket.ReviewCreate{DocID: w.docID, Verdict: tc.verdict, Body: tc.body})
		wantCode(t, tc.name, err, tc.code)
	}
	mustTransition(t, w, w.ada, docket.Transition{To: docket.StatusDraft}) // a site admin moves it back
	_, err = w.dec.AddReview(w.carol, docket.ReviewCreate{DocID: w.docID, Verdict: docket.VerdictApprove})
	wantCode(t, "approve a draft", err, docket.ECONFLICT)
	if _, err := w.dec.AddReview(w.bob, docket.ReviewCreate{DocID: w.docID, Verdict: docket.VerdictComment, Body: "later"}); err != nil {
		t.Fatalf("comment on a draft: %v", err)
	}
	reviews, err := w.dec.FindReviews(w.vic, w.docID)
	if err != nil || len(reviews) != 4 {
		t.Fatalf("FindReviews = %d reviews, %v; want 4", len(reviews), err)
	}
	if _, err := w.dec.FindReviews(outsider, w.docID); docket.ErrorCode(err) != docket.ENOTFOUND {
		t.Fatalf("FindReviews as outsider: %v; want ENOTFOUND", err)
	}
	if _, err := w.dec.FindLifecycle(outsider, w.docID); docket.ErrorCode(err) != docket.ENOTFOUND {
		t.Fatalf("FindLifecycle as outsider: %v; want ENOTFOUND", err)
	}
}

// TestHandoff hands a document over and checks what the new and the old
// owner may do afterwards.
func TestHandoff(t *testing.T) {
	w := newDecisionWorld(t)
	for _, tc := range []struct {
		user, msg string
	}{
		{"", "User required"},
		{"bob@example.com", `User "bob@example.com" is not someone who can edit in this space.`},
		{"vic@example.com", "is not someone who can edit"},
		{"nobody@example.com", "is not someone who can edit"},
		{w.olgaID, "Olga already owns this document."},
	} {
		_, err := w.dec.SetOwner(w.olga, w.docID, tc.user)
		wantCode(t, "SetOwner "+tc.user, err, docket.EINVALID)
		if !strings.Contains(docket.ErrorMessage(err), tc.msg) {
			t.Fatalf("SetOwner(%q) message = %q; want %q", tc.user, docket.ErrorMessage(err), tc.msg)
		}
	}
	w.clock.Add(time.Minute)
	h, err := w.dec.SetOwner(w.olga, w.docID, "ED@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if want := (docket.Handoff{From: w.olgaID, To: w.edID, By: w.olgaID, At: w.clock.Now()}); *h != want {
		t.Fatalf("handoff = %+v; want %+v", h, want)
	}
	d, _ := w.docs.FindDocumentMeta(w.vic, w.docID)
	if d.OwnerID != w.edID {
		t.Fatalf("owner = %s; want %s", d.OwnerID, w.edID)
	}
	if items := bolt.InboxOf(w.db, w.edID); len(items) != 1 || items[0].Kind != docket.InboxHandoff || items[0].ActorID != w.olgaID {
		t.Fatalf("new owner's inbox = %+v; want the handoff", items)
	}
	// The old owner is now just an editor; the new one moves the document.
	_, err = w.dec.Transition(w.olga, w.docID, docket.Transition{To: docket.StatusWithdrawn})
	wantCode(t, "old owner transitions", err, docket.EFORBIDDEN)
	mustTransition(t, w, w.ed, docket.Transition{To: docket.StatusReview, Due: w.clock.Now().Add(time.Hour), Reviewers: []string{w.olgaID}})
	// A space admin hands it back.
	if _, err := w.dec.SetOwner(w.ada, w.docID, w.olgaID); err != nil {
		t.Fatal(err)
	}
	hs, err := w.dec.FindHandoffs(w.vic, w.docID)
	if err != nil || len(hs) != 2 || hs[0].To != w.edID || hs[1].To != w.olgaID || hs[1].By != w.adaID {
		t.Fatalf("FindHandoffs = %+v, %v", hs, err)
	}
	var types []string
	for _, ev := range bolt.DocEvents(w.db, w.docID) {
		if ev.Type == docket.EventOwnerChanged {
			types = append(types, string(ev.Data))
		}
	}
	if want := `{"from":"` + w.olgaID + `","to":"` + w.edID + `"}`; len(types) != 2 || types[0] != want {
		t.Fatalf("owner events = %v; want first %s", types, want)
	}
}

// TestDeleteRemovesDecisionData checks that deleting a document takes its
// lifecycle, reviews and handoffs with it.
func TestDeleteRemovesDecisionData(t *testing.T) {
	w := newDecisionWorld(t)
	mustTransition(t, w, w.olga, docket.Transition{To: docket.StatusReview, Due: w.clock.Now().Add(time.Hour), Reviewers: []string{w.bobID}})
	if _, err := w.dec.AddReview(w.bob, docket.ReviewCreate{DocID: w.docID, Verdict: docket.VerdictComment, Body: "x"}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.dec.SetOwner(w.olga, w.docID, w.edID); err != nil {
		t.Fatal(err)
	}
	if _, lc, rv, ho := bolt.StoredStatus(w.db, w.docID); !lc || !rv || !ho {
		t.Fatalf("before delete: lifecycle %v, reviews %v, handoffs %v", lc, rv, ho)
	}
	if err := w.docs.DeleteDocument(w.ed, w.docID); err != nil {
		t.Fatal(err)
	}
	if _, lc, rv, ho := bolt.StoredStatus(w.db, w.docID); lc || rv || ho {
		t.Fatalf("after delete: lifecycle %v, reviews %v, handoffs %v", lc, rv, ho)
	}
}

// TestStatusKeptWithDocument checks that the status stored with the
// document's metadata follows the lifecycle through edits and patches,
// and that the process state is not stored in the metadata.
func TestStatusKeptWithDocument(t *testing.T) {
	w := newDecisionWorld(t)
	mustTransition(t, w, w.olga, docket.Transition{To: docket.StatusReview, Due: w.clock.Now().Add(time.Hour), Reviewers: []string{w.bobID}})
	title := "Renamed"
	d, err := w.docs.UpdateDocument(w.olga, w.docID, docket.DocumentUpdate{Title: &title})
	if err != nil || d.Status != docket.StatusReview || len(d.Reviewers) != 1 {
		t.Fatalf("UpdateDocument = %+v, %v; want status review with the reviewer", d, err)
	}
	body := "# Queues\n\nmore"
	if d, err = w.docs.EditDocument(w.olga, w.docID, docket.Edit{Version: 1, Body: &body}); err != nil || d.Status != docket.StatusReview || d.Due.IsZero() {
		t.Fatalf("EditDocument = %+v, %v", d, err)
	}
	if status, _, _, _ := bolt.StoredStatus(w.db, w.docID); status != docket.StatusReview {
		t.Fatalf("stored status = %q; want review", status)
	}
	if meta := bolt.StoredMeta(w.db, w.docID); strings.Contains(meta, "reviewers") || strings.Contains(meta, `"due"`) {
		t.Fatalf("stored metadata = %s; want the process state kept out of it", meta)
	}
	list, n, err := w.docs.FindDocuments(w.vic, docket.DocumentFilter{Status: docket.StatusReview})
	if err != nil || n != 1 || list[0].ID != w.docID {
		t.Fatalf("FindDocuments(status review) = %d, %v", n, err)
	}
	raw, _ := json.Marshal(list[0])
	if !strings.Contains(string(raw), `"due":"2026-12-01T10:00:00Z"`) {
		t.Fatalf("listed document JSON = %s; want its due", raw)
	}
}

// TestMinutesFrozenWithLiveSession records a decision while a live
// session is still running, with Vic only reading along and Olga's edit
// not yet in the stored counts, and checks the frozen minutes tell it as
// it stood at the decision: in progress, not "now" or "live"; only
// editors as participants; the outdated and open threads called out; the
// reviews with their bodies, Bob's approval stale at the decision and
// Carol's not (the text changed in white space only after it); the
// overdue action item.
func TestMinutesFrozenWithLiveSession(t *testing.T) {
	w := newDecisionWorld(t)
	// Approvals keep counting after a change here; the minutes still say
	// which ones the text outgrew.
	if _, err := bolt.NewSpaceService(w.db).SetDecisionRules(w.ada, "eng", docket.DecisionRules{MinApprovals: 1}); err != nil {
		t.Fatal(err)
	}
	minutes := bolt.NewMinutesService(w.db, bolt.NewActionService(w.db, markdown.ActionItems), markdown.Minutes)
	dec := bolt.NewDecisionService(w.db, escaper{}, minutes)
	threads := bolt.NewThreadService(w.db, escaper{}, nil)
	edit := func(body string) {
		t.Helper()
		d, err := w.docs.FindDocumentMeta(w.olga, w.docID)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.docs.EditDocument(w.olga, w.docID, docket.Edit{Version: d.Version, Body: &body}); err != nil {
			t.Fatal(err)
		}
	}
	body := "# Queues\n\nWe use one queue per space.\n\nRetries back off.\n\n- [ ] @Bob size the queue due:2026-12-02\n"
	edit(body)
	thread := func(quote, comment string) {
		t.Helper()
		d, err := w.docs.FindDocumentByID(w.olga, w.docID)
		if err != nil {
			t.Fatal(err)
		}
		start := len([]rune(body[:strings.Index(body, quote)]))
		a := &docket.Anchor{Version: d.Version, Start: start, End: start + len([]rune(quote))}
		if _, err := threads.CreateThread(w.carol, docket.ThreadCreate{DocID: w.docID, Anchor: a, Body: comment}); err != nil {
			t.Fatal(err)
		}
	}
	thread("one queue per space", "Why not one per document?")
	thread("Retries back off.", "With jitter?")

	mustTransition(t, w, w.olga, docket.Transition{To: docket.StatusReview, Due: w.clock.Now().Add(72 * time.Hour), Reviewers: []string{w.bobID, w.carolID}})
	w.clock.Add(time.Hour)
	if _, err := dec.AddReview(w.bob, docket.ReviewCreate{DocID: w.docID, Verdict: docket.VerdictApprove, Body: "Ship it."}); err != nil {
		t.Fatal(err)
	}
	// The retry passage goes; its thread is outdated. Bob's approval was
	// given before this change.
	body = "# Queues\n\nWe use one queue per space.\n\n- [ ] @Bob size the queue due:2026-12-02\n"
	edit(body)
	if _, err := dec.AddReview(w.carol, docket.ReviewCreate{DocID: w.docID, Verdict: docket.VerdictApprove, Body: "Fine by me;\nthe retry part was the only doubt."}); err != nil {
		t.Fatal(err)
	}

	// A live session runs at the decision: Olga editing, Vic reading.
	w.clock.Add(2 * 24 * time.Hour)
	started := w.clock.Now().Add(-10 * time.Minute)
	d, err := w.docs.FindDocumentMeta(w.olga, w.docID)
	if err != nil {
		t.Fatal(err)
	}
	rec := &docket.Recording{DocID: w.docID, StartedAt: started, StartVersion: d.Version, EndVersion: d.Version, Participants: []docket.RecordingParticipant{
		{UserID: w.olgaID, JoinedAt: started, Joins: 1},
		{UserID: w.vicID, JoinedAt: started, Joins: 1},
	}}
	if err := bolt.NewRecordingService(w.db).SaveRecording(w.ada, rec); err != nil {
		t.Fatal(err)
	}
	edit(body + "\n") // version 4, in the session, before its counts are saved
	lc, err := dec.Transition(w.olga, w.docID, docket.Transition{To: docket.StatusAccepted, Summary: "One queue per space."})
	if err != nil {
		t.Fatal(err)
	}
	r, err := minutes.FindMinutesRecord(w.vic, w.docID, lc.Decision.MinutesID)
	if err != nil {
		t.Fatal(err)
	}
	md := r.Markdown

	at := started.Format(docket.MinutesTimeLayout)
	testenv.FrozenMinutes(t, md, []string{
		"**Accepted with 1 open thread and 1 outdated thread** by Olga",
		"- **Frozen:** " + w.clock.Now().Format(docket.MinutesTimeLayout) + ", with the decision\n",
		"- In progress at the decision (started " + at + ", 1 editor so far), versions 3 to 4: Olga (1 edit); read along: 1 person\n",
		"## Participants\n\nOlga, Bob, Carol\n",
		"**Bob**: approve at version 2, ",
		" (stale at the decision: the text changed after it):\n\n> Ship it.\n",
		"**Carol**: approve at version 3, " + w.clock.Now().Add(-48*time.Hour).Format(docket.MinutesTimeLayout) + ":\n\n> Fine by me;\n> the retry part was the only doubt.\n",
		"## Outdated threads\n\n### 1. On a passage\n\n> Retries back off.\n",
		"Outdated at the decision: the passage it was on was removed",
		"## Open threads\n\n### 1. On a passage\n\n> one queue per space\n",
		"Still open at the decision.",
		"- [ ] size the queue (owner Bob, due 2 Dec 2026, **overdue**)\n",
	}, []string{"Vic", "(0 edits)", "T09:00:00Z"})
}

// TestMinutesOfAmendedRound decides an RFC, amends it and decides it
// again: the second frozen minutes tell the round, give each reviewer's
// verdict in it (Bob gave none) and mark the reviews of the first round.
func TestMinutesOfAmendedRound(t *testing.T) {
	w := newDecisionWorld(t)
	minutes := bolt.NewMinutesService(w.db, nil, markdown.Minutes)
	dec := bolt.NewDecisionService(w.db, escaper{}, minutes)
	move := func(ctx context.Context, tr docket.Transition) *docket.Lifecycle {
		t.Helper()
		lc, err := dec.Transition(ctx, w.docID, tr)
		if err != nil {
			t.Fatalf("Transition(%s): %v", tr.To, err)
		}
		return lc
	}
	approve := func(ctx context.Context) {
		t.Helper()
		w.clock.Add(time.Minute)
		if _, err := dec.AddReview(ctx, docket.ReviewCreate{DocID: w.docID, Verdict: docket.VerdictApprove}); err != nil {
			t.Fatal(err)
		}
	}
	move(w.olga, docket.Transition{To: docket.StatusReview, Due: w.clock.Now().Add(time.Hour), Reviewers: []string{w.bobID, w.carolID}})
	approve(w.bob)
	approve(w.carol)
	w.clock.Add(time.Minute)
	move(w.olga, docket.Transition{To: docket.StatusAccepted, Summary: "Queues it is."})

	body := "# Queues\n\nWith a dead letter queue.\n"
	if _, err := w.docs.EditDocument(w.olga, w.docID, docket.Edit{Version: 1, Body: &body}); err != nil {
		t.Fatal(err)
	}
	w.clock.Add(time.Minute)
	move(w.olga, docket.Transition{To: docket.StatusReview, Amend: true, Due: w.clock.Now().Add(time.Hour)})
	approve(w.carol)
	move(w.olga, docket.Transition{To: docket.StatusLastCall, Due: w.clock.Now().Add(time.Hour)})
	w.clock.Add(2 * time.Hour)
	lc := move(w.olga, docket.Transition{To: docket.StatusAccepted, Summary: "With the dead letter queue."})

	r, err := minutes.FindMinutesRecord(w.olga, w.docID, lc.Decision.MinutesID)
	if err != nil {
		t.Fatal(err)
	}
	testenv.FrozenMinutes(t, r.Markdown, []string{
		"- **Round of review:** 2, after the document was amended\n",
		": accepted → review (amended) by Olga, due ",
		"## Reviewers\n\n- **Bob**: no verdict in round 2\n- **Carol**: approve at version 2 in round 2, ",
		"## Reviews\n\n**Bob**: approve at version 1 in round 1, ",
		" (stale at the decision: the text changed after it).\n\n**Carol**: approve at version 1 in round 1, ",
	}, []string{"**Bob**: approve at version 1, "})
}

// pass runs one reminder pass and checks how many reminders it sent.
func pass(t *testing.T, r *bolt.Reminders, want int) {
	t.Helper()
	n, err := r.Pass(context.Background())
	if err != nil || n != want {
		t.Fatalf("Pass = %d, %v; want %d", n, err, want)
	}
}

// kinds lists "kind: text" of a user's stored inbox items, oldest first.
func kinds(db *bolt.DB, userID string) []string {
	var out []string
	for _, it := range bolt.InboxOf(db, userID) {
		out = append(out, string(it.Kind)+": "+it.Text)
	}
	return out
}

// reminderEvents returns "type waiting=n" of a document's reminder
// events.
func reminderEvents(db *bolt.DB, docID string) []string {
	var out []string
	for _, ev := range bolt.DocEvents(db, docID) {
		switch ev.Type {
		case docket.EventDocDueSoon, docket.EventDocOverdue, docket.EventActionOverdue:
			var data struct {
				Waiting     []string `json:"waiting"`
				DecisionDue bool     `json:"decisionDue"`
			}
			json.Unmarshal(ev.Data, &data)
			s := string(ev.Type) + " " + strings.Join(data.Waiting, ",")
			if data.DecisionDue {
				s += " decision due"
			}
			if ev.ActorID != "" {
				s += " actor " + ev.ActorID
			}
			out = append(out, s)
		}
	}
	return out
}

func wantList(t *testing.T, what string, got, want []string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("%s:\n got %q\nwant %q", what, got, want)
	}
}

// TestRemindersReview: a day before its end a review reminds the
// reviewer who has not answered and the owner, not the one who has; at
// its end both again, once; the computed overdue item gives way to the
// stored reminder.
func TestRemindersReview(t *testing.T) {
	w := newDecisionWorld(t)
	due := w.clock.Now().Add(72 * time.Hour) // 2026-12-04 09:00
	mustTransition(t, w, w.olga, docket.Transition{To: docket.StatusReview, Due: due, Reviewers: []string{w.bobID, w.carolID}})
	r := bolt.NewReminders(w.db, bolt.RemindersOptions{})
	pass(t, r, 0)
	if _, err := w.dec.AddReview(w.bob, docket.ReviewCreate{DocID: w.docID, Verdict: docket.VerdictApprove}); err != nil {
		t.Fatal(err)
	}
	w.clock.Add(47 * time.Hour)
	pass(t, r, 0) // 25 hours before
	w.clock.Add(time.Hour + time.Minute)
	pass(t, r, 1)
	pass(t, r, 0)
	w.clock.Add(24 * time.Hour)
	pass(t, r, 1)
	pass(t, r, 0)

	wantList(t, "carol's inbox", kinds(w.db, w.carolID), []string{
		"review_request: ",
		"due_soon: Your review is due within a day, by 2026-12-04 09:00 UTC.",
		"overdue: Your review was due 2026-12-04 09:00 UTC.",
	})
	wantList(t, "olga's inbox", kinds(w.db, w.olgaID), []string{
		"due_soon: The review ends within a day, at 2026-12-04 09:00 UTC. 1 of 2 reviewers have not answered.",
		"overdue: The review ended 2026-12-04 09:00 UTC; move the document on. 1 of 2 reviewers have not answered.",
	})
	wantList(t, "bob's inbox", kinds(w.db, w.bobID), []string{"review_request: "})
	wantList(t, "events", reminderEvents(w.db, w.docID), []string{"doc.due_soon " + w.carolID, "doc.overdue " + w.carolID})

	// The inbox shows the deadline once: the stored reminder stands for
	// the item computed on read.
	items, _, _, err := bolt.NewInboxService(w.db).FindInbox(w.carol, docket.InboxFilter{})
	if err != nil {
		t.Fatal(err)
	}
	overdue := 0
	for _, it := range items {
		if it.Kind == docket.InboxOverdue {
			overdue++
			if strings.HasPrefix(it.ID, "overdue:") {
				t.Errorf("the computed item is shown: %+v", it)
			}
		}
	}
	if overdue != 1 {
		t.Errorf("carol's inbox has %d overdue items; want 1: %+v", overdue, items)
	}
}

// TestRemindersLastCall: a last call that ended while the server was
// down tells the owner a decision is due and the reviewer without a
// verdict that it ended, without the "a day before" reminder it missed.
func TestRemindersLastCall(t *testing.T) {
	w := newDecisionWorld(t)
	mustTransition(t, w, w.olga, docket.Transition{To: docket.StatusReview, Due: w.clock.Now().Add(72 * time.Hour), Reviewers: []string{w.bobID, w.carolID}})
	if _, err := w.dec.AddReview(w.bob, docket.ReviewCreate{DocID: w.docID, Verdict: docket.VerdictApprove}); err != nil {
		t.Fatal(err)
	}
	end := w.clock.Now().Add(48 * time.Hour)
	mustTransition(t, w, w.olga, docket.Transition{To: docket.StatusLastCall, Due: end})
	r := bolt.NewReminders(w.db, bolt.RemindersOptions{})
	pass(t, r, 0)
	w.clock.Add(50 * time.Hour)
	pass(t, r, 1)
	pass(t, r, 0)
	wantList(t, "olga's inbox", kinds(w.db, w.olgaID), []string{"overdue: The last call ended 2026-12-03 09:00 UTC; a decision is due."})
	wantList(t, "carol's inbox", kinds(w.db, w.carolID), []string{
		"review_request: ", "overdue: The last call ended 2026-12-03 09:00 UTC without your verdict.",
	})
	wantList(t, "events", reminderEvents(w.db, w.docID), []string{"doc.overdue " + w.carolID + " decision due"})
	if keys := bolt.SentReminders(w.db, w.docID); len(keys) != 1 || !strings.HasSuffix(keys[0], "/due") {
		t.Errorf("recorded %q; want the due reminder only", keys)
	}
}

// TestRemindersRestart closes and reopens the data file with a new
// scheduler between passes: nothing is sent twice, and what came due
// while it was closed is sent at the next pass. A moved deadline makes
// new reminders.
func TestRemindersRestart(t *testing.T) {
	w := newDecisionWorld(t)
	needsFile(t, w.db)
	due := w.clock.Now().Add(72 * time.Hour)
	mustTransition(t, w, w.olga, docket.Transition{To: docket.StatusReview, Due: due, Reviewers: []string{w.bobID}})
	restart := func() *bolt.Reminders {
		t.Helper()
		if err := w.db.Close(); err != nil {
			t.Fatal(err)
		}
		if err := w.db.Open(); err != nil {
			t.Fatal(err)
		}
		return bolt.NewReminders(w.db, bolt.RemindersOptions{})
	}
	w.clock.Add(49 * time.Hour)
	pass(t, restart(), 1)
	pass(t, restart(), 0)
	w.clock.Add(30 * time.Hour) // down past the deadline
	r := restart()
	pass(t, r, 1)
	pass(t, restart(), 0)
	wantList(t, "bob's inbox", kinds(w.db, w.bobID), []string{
		"review_request: ",
		"due_soon: Your review is due within a day, by 2026-12-04 09:00 UTC.",
		"overdue: Your review was due 2026-12-04 09:00 UTC.",
	})

	// Back to draft and into review again with a later deadline.
	mustTransition(t, w, w.olga, docket.Transition{To: docket.StatusDraft})
	mustTransition(t, w, w.olga, docket.Transition{To: docket.StatusReview, Due: w.clock.Now().Add(48 * time.Hour), Reviewers: []string{w.bobID}})
	pass(t, r, 0)
	w.clock.Add(25 * time.Hour)
	pass(t, r, 1)
	if got := kinds(w.db, w.bobID); len(got) != 5 || !strings.HasPrefix(got[4], "due_soon: Your review is due within a day, by 2026-12-06 16:00 UTC") {
		t.Errorf("bob's inbox after the new deadline: %q", got)
	}
}

// TestRemindersSkipShortDeadline: a deadline set less than a day ahead
// gets no "a day before" reminder, only the one at its end.
func TestRemindersSkipShortDeadline(t *testing.T) {
	w := newDecisionWorld(t)
	mustTransition(t, w, w.olga, docket.Transition{To: docket.StatusReview, Due: w.clock.Now().Add(3 * time.Hour), Reviewers: []string{w.bobID}})
	r := bolt.NewReminders(w.db, bolt.RemindersOptions{})
	w.clock.Add(time.Hour)
	pass(t, r, 0)
	w.clock.Add(2 * time.Hour)
	pass(t, r, 1)
}

// TestRemindersActionOverdue: an overdue action item reminds its owner
// once a day; the inbox shows the latest reminder only, next to the
// action item itself.
func TestRemindersActionOverdue(t *testing.T) {
	w := newActionWorld(t, fakeParse)
	bob := w.addUser(t, "bob", "bob@example.com", docket.RoleEditor)
	now := time.Date(2026, 6, 9, 12, 0, 0, 0, time.UTC)
	w.db.Now = func() time.Time { return now }
	d := w.create(t, "- [ ] @bob write the plan due:2026-06-09\n- [x] @bob done due:2026-06-01\n- [ ] nobody's due:2026-06-01\n"+
		"- [ ] @bob write the plan due:2026-06-09\n") // the same line again: one reminder
	if err := w.actions.Refresh(context.Background(), d.ID); err != nil {
		t.Fatal(err)
	}
	r := bolt.NewReminders(w.db, bolt.RemindersOptions{})
	pass(t, r, 0) // due today: not overdue yet
	now = time.Date(2026, 6, 10, 9, 0, 0, 0, time.UTC)
	pass(t, r, 1)
	now = now.Add(9 * time.Hour)
	pass(t, r, 0) // the same day
	now = time.Date(2026, 6, 11, 8, 0, 0, 0, time.UTC)
	pass(t, r, 1)
	wantList(t, "bob's stored items", kinds(w.db, bob.ID), []string{"overdue: write the plan", "overdue: write the plan"})
	wantList(t, "events", reminderEvents(w.db, d.ID), []string{"action.overdue ", "action.overdue "})
	var data struct {
		DaysOverdue int    `json:"daysOverdue"`
		UserID      string `json:"userId"`
	}
	evs := bolt.DocEvents(w.db, d.ID)
	json.Unmarshal(evs[len(evs)-1].Data, &data)
	if data.DaysOverdue != 2 || data.UserID != bob.ID {
		t.Errorf("event data %s", evs[len(evs)-1].Data)
	}

	items, _, unread, err := bolt.NewInboxService(w.db).FindInbox(w.as("bob"), docket.InboxFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, it := range items {
		got = append(got, string(it.Kind)+": "+it.Text)
	}
	wantList(t, "bob's inbox", got, []string{"overdue: write the plan", "action: write the plan", "action: write the plan"})
	if unread != 3 {
		t.Errorf("unread = %d; want 3", unread)
	}
}

// TestRemindersWebhooks: reminder events reach the webhooks of the space
// that want them.
func TestRemindersWebhooks(t *testing.T) {
	w := newDecisionWorld(t)
	hooks := bolt.NewWebhookService(w.db, func(raw string, _ bool) (string, error) { return raw, nil })
	h, _, err := hooks.CreateWebhook(w.ada, docket.WebhookCreate{Space: "eng", URL: "https://hooks.example.com/x",
		Events: []docket.EventType{docket.EventDocDueSoon, docket.EventDocOverdue}})
	if err != nil {
		t.Fatal(err)
	}
	mustTransition(t, w, w.olga, docket.Transition{To: docket.StatusReview, Due: w.clock.Now().Add(72 * time.Hour), Reviewers: []string{w.bobID}})
	r := bolt.NewReminders(w.db, bolt.RemindersOptions{})
	w.clock.Add(50 * time.Hour)
	pass(t, r, 1)
	w.clock.Add(50 * time.Hour)
	pass(t, r, 1)
	tasks, err := hooks.DueDeliveries(context.Background(), w.clock.Now(), 10, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, tk := range tasks {
		if tk.Hook.ID == h.ID {
			got = append(got, string(tk.Event.Type))
		}
	}
	wantList(t, "deliveries", got, []string{"doc.due_soon", "doc.overdue"})
}

// TestRemindersRun runs the scheduler as serve does and moves the clock.
func TestRemindersRun(t *testing.T) {
	w := newDecisionWorld(t)
	mustTransition(t, w, w.olga, docket.Transition{To: docket.StatusReview, Due: w.clock.Now().Add(72 * time.Hour), Reviewers: []string{w.bobID}})
	r := bolt.NewReminders(w.db, bolt.RemindersOptions{Every: 10 * time.Millisecond, Batch: 1})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); r.Run(ctx) }()
	defer func() { cancel(); <-done }()
	w.clock.Add(80 * time.Hour)
	waitFor(t, "the overdue reminders", func() bool { return len(bolt.InboxOf(w.db, w.olgaID)) == 1 && len(bolt.InboxOf(w.db, w.bobID)) == 2 })
}
