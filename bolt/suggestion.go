package bolt

import (
	"context"
	"strings"
	"unicode/utf8"

	docket "github.com/docket-dev/docket"
	"github.com/docket-dev/docket/kv"
)

// A suggested change is a thread whose record carries a docket.Suggestion:
// it is anchored, moved and read like any thread. Its first comment says
// the change in words (so the inbox, webhooks, search and the minutes
// read it like any comment) followed by the suggester's own comment.
// Whether an open suggestion is outdated is computed on every read, from
// the text under its moved anchor (markOutdated).

// Interface guard.
var _ docket.SuggestionService = (*ThreadService)(nil)

// CreateSuggestion implements [docket.SuggestionService].
func (s *ThreadService) CreateSuggestion(ctx context.Context, sc docket.SuggestionCreate) (*docket.Thread, error) {
	if _, err := callerID(ctx); err != nil {
		return nil, err
	}
	if sc.Anchor == nil {
		return nil, docket.Errorf(docket.EINVALID, "Anchor required: select the text the suggestion replaces.")
	}
	if err := checkAnchor(sc.Anchor); err != nil {
		return nil, err
	}
	if n := sc.Anchor.End - sc.Anchor.Start; n > docket.MaxQuoteRunes {
		return nil, docket.Errorf(docket.EINVALID, "A suggestion replaces at most %d characters; this selection has %d. Suggest smaller changes.", docket.MaxQuoteRunes, n)
	}
	if err := docket.CheckText("Replacement", sc.Replacement, docket.MaxReplacementBytes); err != nil {
		return nil, err
	}
	comment := strings.TrimSpace(sc.Comment)
	if err := docket.CheckText("Comment", comment, docket.MaxCommentBytes); err != nil {
		return nil, err
	}
	in, err := s.prepareComment(ctx, suggestionBody(sc.Replacement, comment))
	if err != nil {
		return nil, err
	}
	tc := docket.ThreadCreate{DocID: sc.DocID, Anchor: sc.Anchor}
	return inTx(ctx, s.db.update, func(tx kv.Tx) (*docket.Thread, error) {
		return s.createThread(ctx, tx, tc, in, &docket.Suggestion{Replacement: sc.Replacement, State: docket.SuggestionOpen})
	})
}

// checkSuggestion completes a new suggestion with the original text of
// its anchor (made from the text at the anchor's version) and checks it.
func checkSuggestion(a *docket.Anchor, sug *docket.Suggestion) error {
	if a == nil {
		return docket.Errorf(docket.EINVALID, "Anchor required: select the text the suggestion replaces.")
	}
	sug.Original = a.Quote
	if sug.Replacement == sug.Original {
		return docket.Errorf(docket.EINVALID, "The replacement is the same as the selected text; change it to suggest something.")
	}
	return nil
}

// suggestionBody is the first comment of a suggestion: the change in
// words, then the suggester's comment.
func suggestionBody(replacement, comment string) string {
	line := "Suggested change: delete the selected text."
	if r := shorten(collapseSpace(replacement), excerptRunes); r != "" {
		line = "Suggested change: “" + escapeMarkdown(r) + "”"
	}
	if comment != "" {
		return line + "\n\n" + comment
	}
	return line
}

// escapeMarkdown escapes the ASCII punctuation of s, so that it reads as
// the plain text it is (no emphasis, links or mentions).
func escapeMarkdown(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r < utf8.RuneSelf && strings.ContainsRune("\\`*_{}[]()#+-.!<>|~@&:=\"'$%^", r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// announceSuggestion records the suggestion.created event of a new
// suggestion whose first comment is cm, and puts it in the inbox of the
// document's owner.
func (s *ThreadService) announceSuggestion(ctx context.Context, tx kv.Tx, d *docket.Document, cm *docket.Comment, data map[string]any) error {
	if data == nil {
		data = map[string]any{}
	}
	rec, err := findThread(tx, cm.ThreadID)
	if err != nil {
		return err
	}
	repl := shorten(collapseSpace(rec.Suggestion.Replacement), excerptRunes)
	data["replacement"] = repl
	ev, err := s.announceComment(ctx, tx, docket.EventSuggestionCreated, d, cm, nil, data)
	if err != nil {
		return err
	}
	text := "“" + shorten(collapseSpace(rec.Suggestion.Original), excerptRunes/2) + "” → “" + shorten(repl, excerptRunes/2) + "”"
	return addInbox(tx, d.OwnerID, ev, &docket.InboxItem{Kind: docket.InboxSuggestion, Text: text})
}

// markOutdated sets the state of every open suggestion of threads (views
// of document d at its current version) whose anchored text is no longer
// the original to outdated. The current text is read only if one needs it.
func markOutdated(tx kv.Tx, d *docket.Document, threads []*docket.Thread) error {
	var text []rune
	for _, t := range threads {
		sug := t.Suggestion
		if sug == nil || sug.State != docket.SuggestionOpen || t.Anchor == nil {
			continue
		}
		if t.Status == docket.ThreadOutdated {
			sug.State = docket.SuggestionOutdated
			continue
		}
		if text == nil {
			b, err := body(tx, d)
			if err != nil {
				return err
			}
			text = []rune(b)
		}
		a := t.Anchor
		if a.End > len(text) || a.Start > a.End || string(text[a.Start:a.End]) != sug.Original {
			sug.State = docket.SuggestionOutdated
		}
	}
	return nil
}

// decidable finds a suggestion that the caller may decide, checked: a
// suggestion thread of a readable document, the caller its owner or an
// editor, not yet applied or rejected. Its anchor is moved to the current
// version and the returned view tells whether it is outdated.
func (s *ThreadService) decidable(ctx context.Context, tx kv.Tx, id, caller string) (*threadRecord, *docket.Document, *docket.Thread, error) {
	rec, d, role, err := readableThread(ctx, tx, id)
	if err == nil && rec.Suggestion == nil {
		err = docket.Errorf(docket.ENOTFOUND, "Suggestion not found: this thread suggests no change.")
	}
	if err != nil {
		return nil, nil, nil, err
	}
	if !role.AtLeast(docket.RoleEditor) && (d.OwnerID != caller || !role.AtLeast(docket.RoleCommenter)) {
		return nil, nil, nil, docket.Errorf(docket.EFORBIDDEN, "Only the document's owner and editors may accept or reject a suggestion.")
	}
	switch rec.Suggestion.State {
	case docket.SuggestionApplied:
		return nil, nil, nil, docket.Errorf(docket.ECONFLICT, "The suggestion was already applied.")
	case docket.SuggestionRejected:
		return nil, nil, nil, docket.Errorf(docket.ECONFLICT, "The suggestion was already rejected.")
	}
	if _, err := moveAnchors(tx, d, []*threadRecord{rec}, -1); err != nil {
		return nil, nil, nil, err
	}
	t := rec.view(d.Version, nil)
	return rec, d, t, markOutdated(tx, d, []*docket.Thread{t})
}

// PrepareAccept implements [docket.SuggestionService].
func (s *ThreadService) PrepareAccept(ctx context.Context, id string) (*docket.Thread, error) {
	caller, err := callerID(ctx)
	if err != nil {
		return nil, err
	}
	return inTx(ctx, s.db.view, func(tx kv.Tx) (*docket.Thread, error) {
		_, _, t, err := s.decidable(ctx, tx, id, caller)
		if err != nil {
			return nil, err
		}
		if t.Suggestion.State == docket.SuggestionOutdated {
			return nil, docket.Errorf(docket.ECONFLICT, "The suggestion is outdated: the text it replaces has changed since it was made. Reject it, or suggest the change again on the current text.")
		}
		return t, nil
	})
}

// MarkApplied implements [docket.SuggestionService].
func (s *ThreadService) MarkApplied(ctx context.Context, id string, version int64) (*docket.Thread, error) {
	return s.decide(ctx, id, docket.SuggestionApplied, "Applied.", "", version)
}

// RejectSuggestion implements [docket.SuggestionService].
func (s *ThreadService) RejectSuggestion(ctx context.Context, id, reason string) (*docket.Thread, error) {
	reason = strings.TrimSpace(reason)
	if err := docket.CheckText("Reason", reason, docket.MaxCommentBytes); err != nil {
		return nil, err
	}
	body := "Rejected."
	if reason != "" {
		body = "Rejected: " + reason
	}
	return s.decide(ctx, id, docket.SuggestionRejected, body, reason, 0)
}

// decide records the decision on a suggestion: its state, who decided and
// when, a comment by the caller saying it (body), the thread resolved,
// the event, and a reply in the suggester's inbox.
func (s *ThreadService) decide(ctx context.Context, id string, to docket.SuggestionState, body, reason string, version int64) (*docket.Thread, error) {
	in, err := s.prepareComment(ctx, body)
	if err != nil {
		return nil, err
	}
	return inTx(ctx, s.db.update, func(tx kv.Tx) (*docket.Thread, error) {
		rec, d, _, err := s.decidable(ctx, tx, id, in.author)
		if err != nil {
			return nil, err
		}
		now := s.db.Now().UTC()
		sug := rec.Suggestion
		sug.State, sug.DecidedBy, sug.DecidedAt, sug.Reason, sug.AppliedVersion = to, in.author, now, reason, version
		rec.Status, rec.UpdatedAt = docket.ThreadResolved, now
		rec.ResolvedBy, rec.ResolvedAt, rec.Resolution = in.author, now, reason
		typ := docket.EventSuggestionRejected
		if to == docket.SuggestionApplied {
			rec.Resolution, typ = "Applied", docket.EventSuggestionApplied
		}
		cm := &docket.Comment{ID: newID(), ThreadID: rec.ID, DocID: d.ID, AuthorID: in.author, Body: in.body, HTML: in.html, CreatedAt: now}
		if err := putComment(tx, cm, true); err != nil {
			return nil, err
		}
		if err := putThread(tx, rec); err != nil {
			return nil, err
		}
		data := map[string]any{"replacement": shorten(collapseSpace(sug.Replacement), excerptRunes)}
		if version > 0 {
			data["version"] = version
		}
		ev, err := s.announceComment(ctx, tx, typ, d, cm, nil, data)
		if err != nil {
			return nil, err
		}
		if err := addInbox(tx, rec.AuthorID, ev, &docket.InboxItem{Kind: docket.InboxReply, Text: excerpt(cm.HTML)}); err != nil {
			return nil, err
		}
		comments, err := threadComments(tx, rec.ID)
		if err != nil {
			return nil, err
		}
		return rec.view(d.Version, comments), nil
	})
}
