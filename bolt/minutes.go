package bolt

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	docket "github.com/docket-dev/docket"
	"github.com/docket-dev/docket/kv"
)

var _ docket.MinutesService = (*MinutesService)(nil)

// WriteMinutesFunc writes minutes as a markdown document
// (markdown.Minutes). It must be safe for concurrent use.
type WriteMinutesFunc func(m *docket.MinutesData) string

// MinutesService implements [docket.MinutesService]. It also freezes the
// minutes at each decision, for the [DecisionService].
type MinutesService struct {
	db      *DB
	actions *ActionService
	write   WriteMinutesFunc
}

// NewMinutesService returns the minutes service over db. actions, if not
// nil, reads the action items of a text whose stored items are behind.
// write writes the minutes as markdown, for MinutesMarkdown and for the
// records frozen at decisions; it must not be nil.
func NewMinutesService(db *DB, actions *ActionService, write WriteMinutesFunc) *MinutesService {
	if write == nil {
		panic("bolt: NewMinutesService without a minutes writer")
	}
	return &MinutesService{db: db, actions: actions, write: write}
}

// CompileMinutes implements [docket.MinutesService].
func (s *MinutesService) CompileMinutes(ctx context.Context, docID string) (*docket.MinutesData, error) {
	return inTx(ctx, s.db.view, func(tx kv.Tx) (*docket.MinutesData, error) {
		d, _, err := readableDoc(ctx, tx, docID)
		if err != nil {
			return nil, err
		}
		return compileMinutes(tx, d, s.db.Now().UTC(), s.actions)
	})
}

// MinutesMarkdown implements [docket.MinutesService].
func (s *MinutesService) MinutesMarkdown(ctx context.Context, docID string) (string, error) {
	m, err := s.CompileMinutes(ctx, docID)
	if err != nil {
		return "", err
	}
	return s.write(m), nil
}

// FindMinutesRecords implements [docket.MinutesService].
func (s *MinutesService) FindMinutesRecords(ctx context.Context, docID string) ([]*docket.MinutesRecord, error) {
	out, err := readDocData(ctx, s.db, docID, findMinutes)
	if err != nil {
		return nil, err
	}
	for _, r := range out {
		r.Markdown = ""
	}
	sort.Slice(out, func(i, j int) bool { return out[i].FrozenAt.After(out[j].FrozenAt) })
	return out, nil
}

// findMinutes reads a document's frozen minutes records, with their text.
func findMinutes(tx kv.Tx, docID string) ([]*docket.MinutesRecord, error) {
	return decodePrefixed[docket.MinutesRecord](tx.Bucket(bucketMinutes), docID, "minutes")
}

// FindMinutesRecord implements [docket.MinutesService].
func (s *MinutesService) FindMinutesRecord(ctx context.Context, docID, id string) (*docket.MinutesRecord, error) {
	return readDocData(ctx, s.db, docID, func(tx kv.Tx, docID string) (*docket.MinutesRecord, error) {
		var r docket.MinutesRecord
		if ok, err := getJSON(tx.Bucket(bucketMinutes), pair(docID, id), &r); err != nil {
			return nil, err
		} else if !ok {
			return nil, docket.Errorf(docket.ENOTFOUND, "Minutes not found.")
		}
		return &r, nil
	})
}

// freeze compiles a document's minutes in the caller's transaction and
// stores them as a record, returning its id. The decision being recorded
// must already be in the lifecycle record.
func (s *MinutesService) freeze(tx kv.Tx, d *docket.Document, outcome docket.Status, now time.Time) (string, error) {
	m, err := compileMinutes(tx, d, now, s.actions)
	if err != nil {
		return "", err
	}
	m.Frozen = true
	r := docket.MinutesRecord{ID: newID(), DocID: d.ID, Version: d.Version, Outcome: outcome, FrozenAt: now, Markdown: s.write(m)}
	if err := putJSON(tx.Bucket(bucketMinutes), pair(d.ID, r.ID), &r); err != nil {
		return "", err
	}
	return r.ID, nil
}

// names resolves user ids to display names within one transaction.
type names struct {
	tx    kv.Tx
	cache map[string]string
}

func (n *names) of(id string) string {
	if id == "" {
		return ""
	}
	if name, ok := n.cache[id]; ok {
		return name
	}
	name := "(deleted user)"
	if u, err := findUser(n.tx, id); err == nil {
		name = u.Name
	}
	n.cache[id] = name
	return name
}

// compileMinutes gathers everything the minutes of d say as of now, from
// the records of one transaction. Action items come from storage, or,
// when the stored ones are behind the text and actions is set, from the
// text. Reviews are stale when the text changed beyond white space
// between their version and the decision's (the current one while
// undecided); threads whose passage is gone are outdated; who only read
// along in a live session is not a participant.
func compileMinutes(tx kv.Tx, d *docket.Document, now time.Time, actions *ActionService) (*docket.MinutesData, error) {
	nm := &names{tx: tx, cache: map[string]string{}}
	lc, err := findLifecycle(tx, d.ID)
	if err != nil {
		return nil, err
	}
	m := &docket.MinutesData{
		DocID: d.ID, Title: d.Title, Kind: d.Kind, Status: lc.Status,
		Owner: nm.of(d.OwnerID), CreatedBy: nm.of(d.CreatedBy), CreatedAt: d.CreatedAt,
		Version: d.Version, CompiledAt: now,
	}
	seen := map[string]bool{}
	participant := func(id string) {
		if id != "" && !seen[id] {
			seen[id] = true
			m.Participants = append(m.Participants, nm.of(id))
		}
	}
	participant(d.CreatedBy)
	participant(d.OwnerID)

	// The status timeline, from the transition events.
	for seq := range prefixed(tx.Bucket(bucketDocEvents), d.ID) {
		var ev docket.Event
		if ok, err := getJSON(tx.Bucket(bucketEvents), seq, &ev); err != nil {
			return nil, err
		} else if !ok || ev.Type != docket.EventDocTransitioned {
			continue
		}
		var data transitionData
		if err := json.Unmarshal(ev.Data, &data); err != nil {
			return nil, err
		}
		t := docket.MinutesTransition{From: data.From, To: data.To, At: ev.Time, By: nm.of(ev.ActorID), Amend: data.Amend}
		if data.Due != nil {
			t.Due = *data.Due
		}
		m.Timeline = append(m.Timeline, t)
		participant(ev.ActorID)
	}

	handoffs, err := findHandoffs(tx, d.ID)
	if err != nil {
		return nil, err
	}
	for _, h := range handoffs {
		m.Handoffs = append(m.Handoffs, docket.MinutesHandoff{From: nm.of(h.From), To: nm.of(h.To), By: nm.of(h.By), At: h.At})
	}

	// Reviewers with every verdict they gave, listed reviewers first.
	reviews, err := findReviews(tx, d.ID)
	if err != nil {
		return nil, err
	}
	byUser := map[string]*docket.MinutesReviewer{}
	var order []string
	reviewer := func(id string) *docket.MinutesReviewer {
		if r := byUser[id]; r != nil {
			return r
		}
		r := &docket.MinutesReviewer{Name: nm.of(id)}
		byUser[id] = r
		order = append(order, id)
		return r
	}
	for _, r := range lc.Reviewers {
		reviewer(r.UserID)
		participant(r.UserID)
	}
	stale, err := staleness(tx, d, lc)
	if err != nil {
		return nil, err
	}
	if lc.Round > 1 {
		m.Round = lc.Round
	}
	for _, rv := range reviews {
		v := docket.MinutesVerdict{Verdict: rv.Verdict, At: rv.CreatedAt, Version: rv.Version, Resolved: rv.Resolved, Round: reviewRound(lc, rv)}
		if rv.Verdict != docket.VerdictComment {
			if v.Stale, err = stale(rv.Version); err != nil {
				return nil, err
			}
		}
		m.Reviews = append(m.Reviews, docket.MinutesReview{Name: nm.of(rv.AuthorID), MinutesVerdict: v, Body: rv.Body})
		participant(rv.AuthorID)
		if rv.Verdict == docket.VerdictComment && byUser[rv.AuthorID] == nil {
			continue
		}
		r := reviewer(rv.AuthorID)
		if v.Round == m.Round {
			r.Verdicts = append(r.Verdicts, v)
		}
	}
	for _, id := range order {
		m.Reviewers = append(m.Reviewers, *byUser[id])
	}

	if dec := lc.Decision; dec != nil {
		md := &docket.MinutesDecision{Outcome: dec.Outcome, Summary: dec.Summary, By: nm.of(dec.By), At: dec.At, Version: dec.Version}
		if dec.SupersededBy != "" {
			md.SupersededBy = dec.SupersededBy
			if other, err := findDoc(tx, dec.SupersededBy); err == nil {
				md.SupersededBy = other.Title
			}
		}
		m.Decision = md
	}

	threads, err := docThreads(tx, d.ID)
	if err != nil {
		return nil, err
	}
	// Where the anchors are at this version, to tell the outdated
	// threads; the moves are not cached (this may be a read).
	if _, err := moveAnchors(tx, d, threads, -1); err != nil {
		return nil, err
	}
	for _, th := range threads {
		comments, err := threadComments(tx, th.ID)
		if err != nil {
			return nil, err
		}
		mt := docket.MinutesThread{Status: th.view(d.Version, nil).Status, Author: nm.of(th.AuthorID), CreatedAt: th.CreatedAt}
		if sug := th.Suggestion; sug != nil {
			switch sug.State {
			case docket.SuggestionApplied:
				m.SuggestionsApplied++
			case docket.SuggestionRejected:
				m.SuggestionsRejected++
			default:
				m.SuggestionsOpen++
			}
		}
		if th.Anchor != nil {
			mt.Quote = th.Anchor.Quote
		}
		for i, cm := range comments {
			if cm.Deleted {
				continue
			}
			if i == 0 {
				// Plain text of the rendered comment: its markdown would
				// show escaped in the minutes.
				mt.FirstComment = excerpt(cm.HTML)
			}
			mt.Comments++
			participant(cm.AuthorID)
		}
		switch mt.Status {
		case docket.ThreadResolved:
			mt.ResolvedBy, mt.ResolvedAt, mt.Resolution = nm.of(th.ResolvedBy), th.ResolvedAt, th.Resolution
			m.ResolvedThreads = append(m.ResolvedThreads, mt)
		case docket.ThreadOutdated:
			m.OutdatedThreads = append(m.OutdatedThreads, mt)
		default:
			m.OpenThreads = append(m.OpenThreads, mt)
		}
	}

	var items []*docket.ActionItem
	if _, err := getJSON(tx.Bucket(bucketActions), []byte(d.ID), &items); err != nil {
		return nil, err
	}
	if actions != nil && (len(items) == 0 || items[0].Version != d.Version) {
		text, err := body(tx, d)
		if err != nil {
			return nil, err
		}
		items = actions.derive(d, text)
	}
	members := newMemberIndex(tx, d.SpaceID)
	for _, it := range items {
		owner := it.Assignee
		if id := members.resolve(it.Assignee); id != "" {
			owner = nm.of(id)
		}
		m.Actions = append(m.Actions, docket.MinutesAction{Text: it.Text, Owner: owner, Due: it.Due, Done: it.Done, Overdue: it.OverdueAt(now)})
	}

	recordings, err := findRecordings(tx, d.ID)
	if err != nil {
		return nil, err
	}
	sort.Slice(recordings, func(i, j int) bool { return recordings[i].StartedAt.Before(recordings[j].StartedAt) })
	for _, r := range recordings {
		ms := docket.MinutesSession{StartedAt: r.StartedAt, EndedAt: r.EndedAt, StartVersion: r.StartVersion, EndVersion: r.EndVersion}
		var counted map[string]int
		if r.EndedAt.IsZero() && r.StartVersion < d.Version {
			// A running session's counts are stored a few seconds
			// behind its ops: whoever edited since it started is an
			// editor, whatever the stored count says.
			if counted, err = opsByAuthor(tx, d.ID, r.StartVersion, d.Version); err != nil {
				return nil, err
			}
			ms.EndVersion = d.Version
		}
		for _, p := range r.Participants {
			p.Ops = max(p.Ops, counted[p.UserID])
			ms.Participants = append(ms.Participants, docket.MinutesSessionParticipant{Name: nm.of(p.UserID), Ops: p.Ops})
			if p.Ops > 0 {
				participant(p.UserID)
			}
		}
		m.Sessions = append(m.Sessions, ms)
	}
	return m, nil
}

// reviewRound is the round of review rv was given in, when lc had more
// than one, else 0: one more than the earlier decisions taken before it.
func reviewRound(lc *docket.Lifecycle, rv *docket.Review) int {
	if lc.Round <= 1 {
		return 0
	}
	round := 1
	for _, d := range lc.Earlier {
		if d.At.Before(rv.CreatedAt) {
			round++
		}
	}
	return min(round, lc.Round)
}

// staleness returns a test of whether a review given at a version is
// stale: the text changed beyond white space between that version and
// the decision's, or the current one while undecided. Texts are read
// once per version.
func staleness(tx kv.Tx, d *docket.Document, lc *docket.Lifecycle) (func(version int64) (bool, error), error) {
	at := d.Version
	if lc.Decision != nil && lc.Decision.Version <= d.Version {
		at = lc.Decision.Version
	}
	text := textsAt(tx, d)
	final, err := text(at)
	if err != nil {
		return nil, err
	}
	return func(v int64) (bool, error) {
		if v == at || v < 0 || v > d.Version {
			return false, nil
		}
		t, err := text(v)
		if err != nil {
			return false, err
		}
		return docket.ChangedBeyondWhitespace(t, final), nil
	}, nil
}

// opsByAuthor counts a document's ops from version from up to version to
// (excluded) by author.
func opsByAuthor(tx kv.Tx, docID string, from, to int64) (map[string]int, error) {
	out := map[string]int{}
	ops := tx.Bucket(bucketOps).Bucket([]byte(docID))
	if ops == nil {
		return out, nil
	}
	c := ops.Cursor()
	for k, v := c.Seek(u64(uint64(from))); k != nil && int64(binary.BigEndian.Uint64(k)) < to; k, v = c.Next() {
		var rec struct {
			Author string `json:"author"`
		}
		if err := json.Unmarshal(v, &rec); err != nil {
			return nil, fmt.Errorf("decode op %s@%d: %w", docID, binary.BigEndian.Uint64(k), err)
		}
		out[rec.Author]++
	}
	return out, nil
}
