package bolt

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	docket "github.com/docket-dev/docket"
	"github.com/docket-dev/docket/kv"
)

// Interface guard.
var _ docket.DecisionService = (*DecisionService)(nil)

// maxReviewsPerDoc bounds the reviews one document may collect, so that
// listing them stays cheap whatever a commenter does.
const maxReviewsPerDoc = 5000

// DecisionService implements [docket.DecisionService]. A document's
// lifecycle is stored in the lifecycles bucket (a document without a record
// is a draft without reviewers) and its status is mirrored in the
// document's metadata in the same transaction, so that lists and filters
// never see a stale status.
type DecisionService struct {
	db       *DB
	renderer docket.Renderer
	minutes  *MinutesService
}

// NewDecisionService returns the decision service over db. Review bodies
// are rendered with renderer, which must sanitise its output; minutes
// freezes the minutes of a document when a decision is recorded, and must
// not be nil.
func NewDecisionService(db *DB, renderer docket.Renderer, minutes *MinutesService) *DecisionService {
	if minutes == nil {
		panic("bolt: NewDecisionService without a minutes service")
	}
	return &DecisionService{db: db, renderer: renderer, minutes: minutes}
}

// findLifecycle reads a document's lifecycle. A document without a record
// is a draft with no reviewers.
func findLifecycle(tx kv.Tx, docID string) (*docket.Lifecycle, error) {
	var lc docket.Lifecycle
	if ok, err := getJSON(tx.Bucket(bucketLifecycles), []byte(docID), &lc); err != nil {
		return nil, err
	} else if !ok {
		return &docket.Lifecycle{Status: docket.StatusDraft, Round: 1}, nil
	}
	lc.Round = max(lc.Round, 1)
	return &lc, nil
}

// putLifecycle stores a document's lifecycle without what reads fill in.
func putLifecycle(tx kv.Tx, docID string, lc *docket.Lifecycle) error {
	rec := *lc
	rec.Amended, rec.ChangesSinceDecision = false, 0
	rec.Reviewers = make([]*docket.Reviewer, len(lc.Reviewers))
	for i, r := range lc.Reviewers {
		c := *r
		c.ChangesSince, c.Stale = 0, false
		rec.Reviewers[i] = &c
	}
	return putJSON(tx.Bucket(bucketLifecycles), []byte(docID), &rec)
}

// describeLifecycle fills in what a read of lc shows about d at its
// current version: whether it changed after its decision, how many
// versions each verdict is behind, and, with texts, whether each approval
// is stale, which replays the text at the approval's version and at the
// current one (milliseconds for a long document): reads that only need
// the metadata, such as a live op's permission check, leave it out.
func describeLifecycle(tx kv.Tx, d *docket.Document, lc *docket.Lifecycle, texts bool) error {
	lc.Amendment(d.Version)
	if !texts {
		for _, r := range lc.Reviewers {
			r.ChangesSince, r.Stale = changesSince(r, d.Version), false
		}
		return nil
	}
	_, _, err := countApprovals(tx, d, lc, spaceRules(tx, d.SpaceID))
	return err
}

// changesSince is how many versions a reviewer's verdict is behind
// version: 0 without a verdict or a version.
func changesSince(r *docket.Reviewer, version int64) int64 {
	if r.Verdict != "" && r.Version > 0 && r.Version < version {
		return version - r.Version
	}
	return 0
}

// countApprovals fills in ChangesSince and Stale of lc's reviewers for d
// at its current version under rules (an approval is stale when the text
// changed beyond whitespace since), and counts the approvals as
// [docket.CountApprovals] does.
func countApprovals(tx kv.Tx, d *docket.Document, lc *docket.Lifecycle, rules docket.DecisionRules) (approved, stale int, err error) {
	textOf := textsAt(tx, d)
	for _, r := range lc.Reviewers {
		r.ChangesSince, r.Stale = changesSince(r, d.Version), false
		if r.Verdict != docket.VerdictApprove || !rules.ApprovalsResetOnChange || r.ChangesSince == 0 {
			continue
		}
		before, err := textOf(r.Version)
		if err != nil {
			return 0, 0, err
		}
		after, err := textOf(d.Version)
		if err != nil {
			return 0, 0, err
		}
		r.Stale = docket.ChangedBeyondWhitespace(before, after)
	}
	approved, stale = docket.CountApprovals(lc.Reviewers, d.OwnerID, rules)
	return approved, stale, nil
}

// lifecycleDetail says how much of a document's process state a read
// fills in.
type lifecycleDetail int

const (
	// listDetail: status, deadline and amendment, as lists show them.
	listDetail lifecycleDetail = iota
	// metaDetail adds the reviewers and the decision, without telling
	// whether approvals are stale (FindDocumentMeta).
	metaDetail
	// fullDetail adds whether each approval is stale, which replays texts.
	fullDetail
)

// fillLifecycle copies a document's process state into d as of now, as
// much as detail says.
func fillLifecycle(tx kv.Tx, d *docket.Document, now time.Time, detail lifecycleDetail) error {
	lc, err := findLifecycle(tx, d.ID)
	if err != nil {
		return err
	}
	lc.Amendment(d.Version)
	d.Status, d.Due, d.Overdue = lc.Status, lc.Due, lc.Overdue(now)
	d.Amended, d.ChangesSinceDecision = lc.Amended, lc.ChangesSinceDecision
	if detail == listDetail {
		return nil
	}
	d.Reviewers, d.Decision = lc.Reviewers, lc.Decision
	return describeLifecycle(tx, d, lc, detail == fullDetail)
}

// threadResolved reports whether a thread's record says it is resolved; a
// missing thread counts as unresolved.
func threadResolved(tx kv.Tx, threadID string) bool {
	var th docket.Thread
	ok, err := getJSON(tx.Bucket(bucketThreads), []byte(threadID), &th)
	return err == nil && ok && th.Status == docket.ThreadResolved
}

// putThreadRecord stores a new thread and its comments in the shapes
// the thread service reads: the thread without its comments under its id,
// its document index, the comments, and their places in the thread.
func putThreadRecord(tx kv.Tx, th *docket.Thread, comments ...*docket.Comment) error {
	rec := &threadRecord{Thread: *th}
	rec.Comments = nil
	var err error
	if rec.Seq, err = tx.Bucket(bucketThreads).NextSequence(); err != nil {
		return err
	}
	if err := putThread(tx, rec); err != nil {
		return err
	}
	if err := tx.Bucket(bucketDocThreads).Put(pair(th.DocID, th.ID), nil); err != nil {
		return err
	}
	for _, c := range comments {
		if err := putComment(tx, c, true); err != nil {
			return err
		}
	}
	return nil
}

// findReviews reads a document's reviews, oldest first, with Resolved
// filled in for concerns.
func findReviews(tx kv.Tx, docID string) ([]*docket.Review, error) {
	out, err := decodePrefixed[docket.Review](tx.Bucket(bucketReviews), docID, "review")
	for _, r := range out {
		r.Resolved = r.Verdict == docket.VerdictConcern && threadResolved(tx, r.ThreadID)
	}
	return out, err
}

// openConcerns counts a document's concerns whose threads are not resolved.
func openConcerns(tx kv.Tx, docID string) (int, error) {
	reviews, err := findReviews(tx, docID)
	n := 0
	for _, r := range reviews {
		if r.Verdict == docket.VerdictConcern && !r.Resolved {
			n++
		}
	}
	return n, err
}

// deleteDecisionData removes a document's lifecycle, reviews and handoffs.
func deleteDecisionData(tx kv.Tx, docID string) error {
	if err := tx.Bucket(bucketLifecycles).Delete([]byte(docID)); err != nil {
		return err
	}
	for _, name := range [][]byte{bucketMinutes, bucketReviews, bucketHandoffs} {
		if err := deletePrefix(tx.Bucket(name), docID, nil); err != nil {
			return err
		}
	}
	return nil
}

// quoteRef quotes a user-supplied reference for an error message, cut short.
func quoteRef(s string) string {
	if utf8.RuneCountInString(s) > 80 {
		s = string([]rune(s)[:80]) + "…"
	}
	return fmt.Sprintf("%q", s)
}

// textExcerpt shortens a plain text for an inbox item.
func textExcerpt(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) > 200 {
		s = string([]rune(s)[:200]) + "…"
	}
	return s
}

// resolveReviewers turns user ids or emails into the ids of users who can
// read the space, without duplicates, in the order given.
func resolveReviewers(tx kv.Tx, spaceID string, refs []string) ([]string, error) {
	var ids []string
	seen := map[string]bool{}
	for _, ref := range refs {
		u, err := findUserRef(tx, strings.TrimSpace(ref))
		if err != nil || !canRead(tx, spaceID, u.ID) {
			return nil, docket.Errorf(docket.EINVALID, "Reviewer %s is not a user who can read this space.", quoteRef(ref))
		}
		if !seen[u.ID] {
			seen[u.ID] = true
			ids = append(ids, u.ID)
		}
	}
	return ids, nil
}

// transitionData is the Data of a doc.transitioned event.
type transitionData struct {
	From         docket.Status `json:"from"`
	To           docket.Status `json:"to"`
	Due          *time.Time    `json:"due,omitempty"`
	Reviewers    []string      `json:"reviewers,omitempty"`
	Summary      string        `json:"summary,omitempty"`
	SupersededBy string        `json:"supersededBy,omitempty"`
	Amend        bool          `json:"amend,omitempty"`
	Round        int           `json:"round,omitempty"`
}

// reviewData is the Data of a review.created event.
type reviewData struct {
	Verdict docket.Verdict `json:"verdict"`
	// Excerpt is the start of the review's new text (without quotes).
	Excerpt string `json:"excerpt,omitempty"`
}

// reviewExcerpt is the excerpt of a review's body, from its HTML when it
// was rendered.
func reviewExcerpt(html, body string) string {
	if html != "" {
		return excerpt(html)
	}
	return textExcerpt(body)
}

// FindLifecycle implements [docket.DecisionService].
func (s *DecisionService) FindLifecycle(ctx context.Context, docID string) (*docket.Lifecycle, error) {
	return inTx(ctx, s.db.view, func(tx kv.Tx) (*docket.Lifecycle, error) {
		d, _, err := readableDoc(ctx, tx, docID)
		if err != nil {
			return nil, err
		}
		lc, err := findLifecycle(tx, d.ID)
		if err != nil {
			return nil, err
		}
		return lc, describeLifecycle(tx, d, lc, true)
	})
}

// readDocData reads with find what a document has, in a read transaction
// after checking that the caller may read the document.
func readDocData[T any](ctx context.Context, db *DB, docID string, find func(tx kv.Tx, docID string) (T, error)) (T, error) {
	return inTx(ctx, db.view, func(tx kv.Tx) (T, error) {
		if _, _, err := readableDoc(ctx, tx, docID); err != nil {
			var zero T
			return zero, err
		}
		return find(tx, docID)
	})
}

// checkTransitionInput refuses input that does not belong with the target
// status, so that nothing sent is silently ignored.
func checkTransitionInput(t *docket.Transition) error {
	if !t.To.Valid() {
		return docket.Errorf(docket.EINVALID, "Unknown status %q.", t.To)
	}
	t.Summary = strings.TrimSpace(t.Summary)
	t.SupersededBy = strings.TrimSpace(t.SupersededBy)
	if err := docket.CheckText("Summary", t.Summary, docket.MaxCommentBytes); err != nil {
		return err
	}
	switch {
	case len(t.Reviewers) > 0 && t.To != docket.StatusReview:
		return docket.Errorf(docket.EINVALID, "Reviewers are named when entering review, not %s.", t.To)
	case t.Amend && t.To != docket.StatusReview:
		return docket.Errorf(docket.EINVALID, "Amending moves a document to review, not %s.", t.To)
	case len(t.Reviewers) > docket.MaxReviewers:
		return docket.Errorf(docket.EINVALID, "At most %d reviewers.", docket.MaxReviewers)
	case !t.Due.IsZero() && t.To != docket.StatusReview && t.To != docket.StatusLastCall:
		return docket.Errorf(docket.EINVALID, "Only review and last-call have a deadline, not %s.", t.To)
	case t.SupersededBy != "" && t.To != docket.StatusSuperseded:
		return docket.Errorf(docket.EINVALID, "supersededBy goes with superseded only.")
	case t.Summary != "" && !t.To.Outcome():
		return docket.Errorf(docket.EINVALID, "A decision summary goes with an outcome, not %s.", t.To)
	}
	return nil
}

// Transition implements [docket.DecisionService].
func (s *DecisionService) Transition(ctx context.Context, docID string, t docket.Transition) (*docket.Lifecycle, error) {
	if err := checkTransitionInput(&t); err != nil {
		return nil, err
	}
	caller := docket.UserIDFromContext(ctx)
	return inTx(ctx, s.db.update, func(tx kv.Tx) (*docket.Lifecycle, error) {
		d, err := manageableDoc(ctx, tx, docID, "Only the owner or a space admin may move this document.")
		if err != nil {
			return nil, err
		}
		lc, err := findLifecycle(tx, d.ID)
		if err != nil {
			return nil, err
		}
		ids, err := resolveReviewers(tx, d.SpaceID, t.Reviewers)
		if err != nil {
			return nil, err
		}
		open, err := openConcerns(tx, d.ID)
		if err != nil {
			return nil, err
		}
		now := s.db.Now().UTC()
		rules := spaceRules(tx, d.SpaceID)
		st := docket.TransitionState{
			From: lc.Status, Due: lc.Due, Now: now, EnteredAt: lc.EnteredAt, OpenConcerns: open,
			Reviewers: len(lc.Reviewers), Owner: d.OwnerID, Rules: rules,
		}
		if st.Approved, st.Stale, err = countApprovals(tx, d, lc, rules); err != nil {
			return nil, err
		}
		check := t
		check.Reviewers = ids
		if len(ids) == 0 && t.To == docket.StatusReview {
			for _, r := range lc.Reviewers {
				check.Reviewers = append(check.Reviewers, r.UserID)
			}
		}
		if err := docket.CheckTransition(st, check); err != nil {
			return nil, err
		}
		if t.To == docket.StatusSuperseded {
			other, _, err := readableDoc(ctx, tx, t.SupersededBy)
			if err != nil || other.SpaceID != d.SpaceID {
				return nil, docket.Errorf(docket.EINVALID, "supersededBy must be a document of the same space.")
			} else if other.ID == d.ID {
				return nil, docket.Errorf(docket.EINVALID, "A document cannot supersede itself.")
			}
		}

		from := lc.Status
		if lc.Decision != nil {
			// The decision stays on record; reopening it starts a new
			// round in which every reviewer answers again.
			lc.Earlier = append(lc.Earlier, lc.Decision)
			if t.To == docket.StatusReview || t.To == docket.StatusDraft {
				lc.Round++
				for _, r := range lc.Reviewers {
					r.Verdict, r.VerdictAt, r.Version = "", time.Time{}, 0
				}
			}
		}
		// Everyone asked to review this round: all reviewers when a review
		// starts, those newly added when it goes back from last call.
		var requested []string
		if t.To == docket.StatusReview {
			if len(ids) > 0 {
				old := map[string]*docket.Reviewer{}
				for _, r := range lc.Reviewers {
					old[r.UserID] = r
				}
				list := make([]*docket.Reviewer, 0, len(ids))
				for _, id := range ids {
					r := old[id]
					if r == nil {
						r = &docket.Reviewer{UserID: id}
						if from == docket.StatusLastCall {
							requested = append(requested, id)
						}
					}
					list = append(list, r)
				}
				lc.Reviewers = list
			}
			if from != docket.StatusLastCall {
				for _, r := range lc.Reviewers {
					requested = append(requested, r.UserID)
				}
			}
		}
		lc.Status, lc.EnteredAt, lc.Due = t.To, now, time.Time{}
		if t.To == docket.StatusReview || t.To == docket.StatusLastCall {
			lc.Due = t.Due.UTC()
		}
		lc.Decision = nil
		if t.To.Outcome() {
			lc.Decision = &docket.Decision{
				Outcome: t.To, Summary: t.Summary, By: caller, At: now, Version: d.Version, SupersededBy: t.SupersededBy,
				Round: lc.Round,
			}
		}
		if err := putLifecycle(tx, d.ID, lc); err != nil {
			return nil, err
		}
		d.Status, d.UpdatedAt = t.To, now
		if err := putDoc(tx, d); err != nil {
			return nil, err
		}

		reviewers := make([]string, 0, len(lc.Reviewers))
		for _, r := range lc.Reviewers {
			reviewers = append(reviewers, r.UserID)
		}
		data := transitionData{From: from, To: t.To, Reviewers: reviewers, Summary: t.Summary, SupersededBy: t.SupersededBy, Amend: t.Amend, Round: lc.Round}
		if !lc.Due.IsZero() {
			data.Due = &lc.Due
		}
		ev := &docket.Event{Type: docket.EventDocTransitioned, SpaceID: d.SpaceID, DocID: d.ID, Title: d.Title, Data: eventData(data)}
		if err := s.db.appendEvent(ctx, tx, ev); err != nil {
			return nil, err
		}
		if lc.Decision != nil {
			// The minutes are frozen with the decision, this transition
			// included: later edits to the document do not change them.
			if lc.Decision.MinutesID, err = s.minutes.freeze(tx, d, t.To, now); err != nil {
				return nil, err
			}
			if err := putLifecycle(tx, d.ID, lc); err != nil {
				return nil, err
			}
		}
		if err := addInboxes(tx, ev, docket.InboxItem{Kind: docket.InboxReviewRequest, Due: lc.Due}, requested); err != nil {
			return nil, err
		}
		if t.To.Outcome() {
			text := string(t.To)
			if t.Summary != "" {
				text += ": " + textExcerpt(t.Summary)
			}
			if err := addInboxes(tx, ev, docket.InboxItem{Kind: docket.InboxDecision, Text: text}, append(reviewers, d.OwnerID)); err != nil {
				return nil, err
			}
		}
		s.db.notify(tx, docket.Change{Kind: docket.ChangeMeta, DocID: d.ID, SpaceID: d.SpaceID})
		return lc, describeLifecycle(tx, d, lc, true)
	})
}

// AddReview implements [docket.DecisionService].
func (s *DecisionService) AddReview(ctx context.Context, rc docket.ReviewCreate) (*docket.Review, error) {
	if !rc.Verdict.Valid() {
		return nil, docket.Errorf(docket.EINVALID, "Verdict must be approve, concern or comment.")
	}
	if err := docket.CheckText("Review", rc.Body, docket.MaxCommentBytes); err != nil {
		return nil, err
	}
	if strings.TrimSpace(rc.Body) == "" {
		rc.Body = ""
		switch rc.Verdict {
		case docket.VerdictConcern:
			return nil, docket.Errorf(docket.EINVALID, "A concern needs a body saying what is wrong.")
		case docket.VerdictComment:
			return nil, docket.Errorf(docket.EINVALID, "A comment needs a body.")
		}
	}
	var html string
	if rc.Body != "" && s.renderer != nil {
		var err error
		if html, err = s.renderer.Render(ctx, rc.Body); err != nil {
			return nil, err
		}
	}
	caller := docket.UserIDFromContext(ctx)
	return inTx(ctx, s.db.update, func(tx kv.Tx) (*docket.Review, error) {
		d, role, err := readableDoc(ctx, tx, rc.DocID)
		if err != nil {
			return nil, err
		}
		lc, err := findLifecycle(tx, d.ID)
		if err != nil {
			return nil, err
		}
		var me *docket.Reviewer
		for _, r := range lc.Reviewers {
			if caller != "" && r.UserID == caller {
				me = r
			}
		}
		switch rc.Verdict {
		case docket.VerdictApprove, docket.VerdictConcern:
			if rc.Verdict == docket.VerdictApprove && caller == d.OwnerID && !spaceRules(tx, d.SpaceID).OwnerMayApprove {
				return nil, docket.Errorf(docket.ECONFLICT, "The owner cannot approve their own document.")
			}
			if me == nil {
				return nil, docket.Errorf(docket.EFORBIDDEN, "Only the document's reviewers approve or raise concerns; add a comment instead.")
			}
			if lc.Status != docket.StatusReview && lc.Status != docket.StatusLastCall {
				return nil, docket.Errorf(docket.ECONFLICT, "The document is %s; verdicts are given during review and last call.", lc.Status)
			}
		default:
			if me == nil && !role.AtLeast(docket.RoleCommenter) {
				return nil, docket.Errorf(docket.EFORBIDDEN, "You need the commenter role in this space to comment.")
			}
		}
		reviews := tx.Bucket(bucketReviews)
		count := 0
		for range prefixed(reviews, d.ID) {
			count++
		}
		if count >= maxReviewsPerDoc {
			return nil, docket.Errorf(docket.ETOOLARGE, "This document has %d reviews, the most it may hold.", count)
		}
		now := s.db.Now().UTC()
		r := &docket.Review{
			ID: newID(), DocID: d.ID, AuthorID: caller, Verdict: rc.Verdict, Body: rc.Body, HTML: html,
			Version: d.Version, CreatedAt: now,
		}
		var comment *docket.Comment
		if rc.Verdict == docket.VerdictConcern {
			th := &docket.Thread{
				ID: newID(), DocID: d.ID, SpaceID: d.SpaceID, Status: docket.ThreadOpen,
				AuthorID: caller, CreatedAt: now, UpdatedAt: now,
			}
			comment = &docket.Comment{
				ID: newID(), ThreadID: th.ID, DocID: d.ID, AuthorID: caller, Body: rc.Body, HTML: html, CreatedAt: now,
			}
			if err := putThreadRecord(tx, th, comment); err != nil {
				return nil, err
			}
			r.ThreadID = th.ID
		}
		if err := appendJSON(reviews, d.ID, r); err != nil {
			return nil, err
		}
		if me != nil && (rc.Verdict != docket.VerdictComment || me.Verdict == "") {
			me.Verdict, me.VerdictAt, me.Version = rc.Verdict, now, d.Version
			if err := putLifecycle(tx, d.ID, lc); err != nil {
				return nil, err
			}
			s.db.notify(tx, docket.Change{Kind: docket.ChangeMeta, DocID: d.ID, SpaceID: d.SpaceID})
		}
		ev := &docket.Event{
			Type: docket.EventReviewCreated, SpaceID: d.SpaceID, DocID: d.ID, ThreadID: r.ThreadID, Title: d.Title,
			Data: eventData(reviewData{Verdict: rc.Verdict, Excerpt: reviewExcerpt(html, rc.Body)}),
		}
		if comment != nil {
			ev.CommentID = comment.ID
		}
		if err := s.db.appendEvent(ctx, tx, ev); err != nil {
			return nil, err
		}
		if comment != nil {
			if err := addInbox(tx, d.OwnerID, ev, &docket.InboxItem{Kind: docket.InboxConcern, Text: textExcerpt(rc.Body)}); err != nil {
				return nil, err
			}
			s.db.notify(tx, docket.Change{Kind: docket.ChangeThread, DocID: d.ID, SpaceID: d.SpaceID, ThreadID: r.ThreadID, CommentID: comment.ID})
		}
		return r, nil
	})
}

// FindReviews implements [docket.DecisionService].
func (s *DecisionService) FindReviews(ctx context.Context, docID string) ([]*docket.Review, error) {
	return readDocData(ctx, s.db, docID, findReviews)
}

// SetOwner implements [docket.DecisionService].
func (s *DecisionService) SetOwner(ctx context.Context, docID, user string) (*docket.Handoff, error) {
	user = strings.TrimSpace(user)
	if user == "" {
		return nil, docket.Errorf(docket.EINVALID, "User required (an id or an email).")
	}
	return inTx(ctx, s.db.update, func(tx kv.Tx) (*docket.Handoff, error) {
		d, err := manageableDoc(ctx, tx, docID, "Only the owner or a space admin may hand this document over.")
		if err != nil {
			return nil, err
		}
		u, err := findUserRef(tx, user)
		if err != nil || !userRole(tx, d.SpaceID, u.ID).AtLeast(docket.RoleEditor) {
			return nil, docket.Errorf(docket.EINVALID, "User %s is not someone who can edit in this space.", quoteRef(user))
		}
		if u.ID == d.OwnerID {
			return nil, docket.Errorf(docket.EINVALID, "%s already owns this document.", u.Name)
		}
		now := s.db.Now().UTC()
		h := &docket.Handoff{From: d.OwnerID, To: u.ID, By: docket.UserIDFromContext(ctx), At: now}
		if err := appendJSON(tx.Bucket(bucketHandoffs), d.ID, h); err != nil {
			return nil, err
		}
		d.OwnerID, d.UpdatedAt = u.ID, now
		if err := putDoc(tx, d); err != nil {
			return nil, err
		}
		ev := &docket.Event{
			Type: docket.EventOwnerChanged, SpaceID: d.SpaceID, DocID: d.ID, Title: d.Title,
			Data: eventData(map[string]string{"from": h.From, "to": h.To}),
		}
		if err := s.db.announce(ctx, tx, ev, docket.ChangeMeta); err != nil {
			return nil, err
		}
		return h, addInbox(tx, u.ID, ev, &docket.InboxItem{Kind: docket.InboxHandoff})
	})
}

// findHandoffs reads a document's handoffs, oldest first.
func findHandoffs(tx kv.Tx, docID string) ([]*docket.Handoff, error) {
	return decodePrefixed[docket.Handoff](tx.Bucket(bucketHandoffs), docID, "handoff")
}

// FindHandoffs implements [docket.DecisionService].
func (s *DecisionService) FindHandoffs(ctx context.Context, docID string) ([]*docket.Handoff, error) {
	return readDocData(ctx, s.db, docID, findHandoffs)
}
