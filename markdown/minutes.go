package markdown

import (
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/docket-dev/docket"
)

// minutesExcerptRunes is the longest excerpt of a comment in the minutes.
const minutesExcerptRunes = 280

// Minutes writes the minutes m as a markdown document: a title, a summary
// (status, owner, decision and the threads it left open), then the
// sections that have something to say: decision, status timeline,
// ownership, participants, reviewers, reviews, resolved threads,
// outdated threads, open threads, action items and editing sessions.
// Open threads and action items say "None." when empty; the other
// sections are left out. Times a person reads are UTC, to the minute
// (6 Dec 2026, 14:02 UTC); due dates of action items are days (1 Dec
// 2026). A session running at CompiledAt is written as in progress at
// the decision (or when compiled), never as running now; people who only
// read along are counted apart from its editors.
//
// Everything users wrote (titles, names, quotes, comments, summaries,
// notes, review bodies, item texts) is escaped so that it reads as text
// and cannot add structure: markdown punctuation gets a backslash,
// one-line fields have their line breaks folded, and quotes, summaries
// and review bodies become block quotes with every line prefixed and no
// line able to open a block.
func Minutes(m *docket.MinutesData) string {
	w := &minutesWriter{}
	title := inlineText(m.Title)
	if title == "" {
		title = "Untitled"
	}
	w.line("# Minutes: " + title)
	w.blank()
	w.summary(m)
	w.decision(m)
	w.timeline(m)
	w.handoffs(m.Handoffs)
	if len(m.Participants) > 0 {
		w.section("Participants")
		w.line(joinNames(m.Participants))
	}
	w.reviewers(m)
	w.reviews(m)
	w.threads("Resolved threads", m.ResolvedThreads, false, m)
	w.threads("Outdated threads", m.OutdatedThreads, false, m)
	w.threads("Open threads", m.OpenThreads, true, m)
	w.actions(m.Actions)
	w.sessions(m)
	return w.b.String()
}

// summary writes the list under the title.
func (w *minutesWriter) summary(m *docket.MinutesData) {
	w.line("- **Status:** " + string(m.Status))
	if m.Kind != "" {
		w.line("- **Kind:** " + string(m.Kind))
	}
	if m.Owner != "" {
		w.line("- **Owner:** " + inlineText(m.Owner))
	}
	if !m.CreatedAt.IsZero() {
		created := "- **Created:** " + humanTime(m.CreatedAt)
		if m.CreatedBy != "" {
			created += " by " + inlineText(m.CreatedBy)
		}
		w.line(created)
	}
	if d := m.Decision; d != nil {
		s := "- **Decision:** " + string(d.Outcome) + decisionByline(d)
		if left := leftOpen(m); left != "" {
			s += ", with " + left
		}
		w.line(s)
	} else {
		w.line("- **Decision:** none recorded yet")
	}
	if m.Round > 0 {
		w.line(fmt.Sprintf("- **Round of review:** %d, after the document was amended", m.Round))
	}
	if th := threadCounts(m); th != "" {
		w.line("- **Threads:** " + th)
	}
	if sc := suggestionCounts(m); sc != "" {
		w.line("- **Suggested changes:** " + sc)
	}
	doc := "- **Document:** " + inlineText(m.DocID)
	if m.Version > 0 {
		doc += fmt.Sprintf(", version %d", m.Version)
	}
	w.line(doc)
	if !m.CompiledAt.IsZero() {
		if m.Frozen {
			w.line("- **Frozen:** " + humanTime(m.CompiledAt) + ", with the decision")
		} else {
			w.line("- **Compiled:** " + humanTime(m.CompiledAt))
		}
	}
}

// leftOpen is "N open threads and M outdated threads" when the decision
// left threads unresolved, else "". Only frozen minutes know what the
// decision left: compiled later, threads may have moved on.
func leftOpen(m *docket.MinutesData) string {
	if !m.Frozen {
		return ""
	}
	var parts []string
	if n := len(m.OpenThreads); n > 0 {
		parts = append(parts, count(n, "open thread", "open threads"))
	}
	if n := len(m.OutdatedThreads); n > 0 {
		parts = append(parts, count(n, "outdated thread", "outdated threads"))
	}
	return strings.Join(parts, " and ")
}

// tally is a count with what it counts, for [counted].
type tally struct {
	n    int
	name string
}

// counted joins the non-zero tallies as "2 resolved, 1 open", or "" when
// all are zero. With a noun, the first one names it: "3 suggestions
// applied, 1 rejected".
func counted(noun string, ts ...tally) string {
	var parts []string
	for _, t := range ts {
		switch {
		case t.n == 0:
		case noun != "" && len(parts) == 0:
			parts = append(parts, docket.Plural(t.n, noun)+" "+t.name)
		default:
			parts = append(parts, fmt.Sprintf("%d %s", t.n, t.name))
		}
	}
	return strings.Join(parts, ", ")
}

// threadCounts is "2 resolved, 1 open, 1 outdated", or "" without threads.
func threadCounts(m *docket.MinutesData) string {
	return counted("", tally{len(m.ResolvedThreads), "resolved"}, tally{len(m.OpenThreads), "open"}, tally{len(m.OutdatedThreads), "outdated"})
}

// suggestionCounts is "3 suggestions applied, 1 rejected, 2 open", or ""
// when there were none.
func suggestionCounts(m *docket.MinutesData) string {
	return counted("suggestion", tally{m.SuggestionsApplied, "applied"}, tally{m.SuggestionsRejected, "rejected"}, tally{m.SuggestionsOpen, "open"})
}

// decision writes the decision section, if decided.
func (w *minutesWriter) decision(m *docket.MinutesData) {
	d := m.Decision
	if d == nil {
		return
	}
	w.section("Decision")
	outcome := string(d.Outcome)
	if outcome != "" {
		outcome = strings.ToUpper(outcome[:1]) + outcome[1:]
	}
	if left := leftOpen(m); left != "" {
		outcome += " with " + left
	}
	w.line("**" + outcome + "**" + decisionByline(d) + ".")
	if d.SupersededBy != "" {
		w.blank()
		w.line("Superseded by " + inlineText(d.SupersededBy) + ".")
	}
	if strings.TrimSpace(d.Summary) != "" {
		w.blank()
		w.quote(d.Summary)
	}
}

// listSection writes a section of one line per item, made by line, or
// nothing when there are no items.
func listSection[T any](w *minutesWriter, title string, items []T, line func(T) string) {
	if len(items) == 0 {
		return
	}
	w.section(title)
	for _, it := range items {
		w.line(line(it))
	}
}

// timeline writes the moves of the document's status.
func (w *minutesWriter) timeline(m *docket.MinutesData) {
	listSection(w, "Status timeline", m.Timeline, func(t docket.MinutesTransition) string {
		s := "- " + humanTime(t.At) + ": "
		if t.From == "" {
			s += "created as " + string(t.To)
		} else {
			s += string(t.From) + " → " + string(t.To)
		}
		if t.Amend {
			s += " (amended)"
		}
		if t.By != "" {
			s += " by " + inlineText(t.By)
		}
		if !t.Due.IsZero() {
			s += ", due " + humanTime(t.Due)
		}
		return s
	})
}

// handoffs writes the changes of owner.
func (w *minutesWriter) handoffs(hs []docket.MinutesHandoff) {
	listSection(w, "Ownership", hs, func(h docket.MinutesHandoff) string {
		s := "- " + humanTime(h.At) + ": " + inlineText(h.From) + " → " + inlineText(h.To)
		if h.By != "" && h.By != h.From {
			s += " (by " + inlineText(h.By) + ")"
		}
		return s
	})
}

// reviewers writes each reviewer's standing verdict, with the earlier
// ones.
func (w *minutesWriter) reviewers(m *docket.MinutesData) {
	listSection(w, "Reviewers", m.Reviewers, func(r docket.MinutesReviewer) string {
		s := "- **" + inlineText(r.Name) + "**: "
		if len(r.Verdicts) == 0 {
			s += "no verdict"
			if m.Round > 0 {
				s += fmt.Sprintf(" in round %d", m.Round)
			}
			return s
		}
		s += verdictLine(m, r.Verdicts[len(r.Verdicts)-1])
		if len(r.Verdicts) > 1 {
			var earlier []string
			for _, v := range r.Verdicts[:len(r.Verdicts)-1] {
				earlier = append(earlier, string(v.Verdict)+" ("+humanTime(v.At)+")")
			}
			s += "; earlier " + strings.Join(earlier, ", ")
		}
		return s
	})
}

// verdictLine is "approve at version 12, 6 Dec 2026, 14:02 UTC", with a
// note when a concern's thread is resolved or the text changed after it.
func verdictLine(m *docket.MinutesData, v docket.MinutesVerdict) string {
	s := string(v.Verdict)
	if v.Version > 0 {
		s += fmt.Sprintf(" at version %d", v.Version)
	}
	if v.Round > 0 {
		s += fmt.Sprintf(" in round %d", v.Round)
	}
	if !v.At.IsZero() {
		s += ", " + humanTime(v.At)
	}
	var notes []string
	if v.Resolved && v.Verdict == docket.VerdictConcern {
		notes = append(notes, "its thread resolved")
	}
	if v.Stale {
		if m.Decision != nil {
			notes = append(notes, "stale at the decision: the text changed after it")
		} else {
			notes = append(notes, "stale: the text changed after it")
		}
	}
	if len(notes) > 0 {
		s += " (" + strings.Join(notes, "; ") + ")"
	}
	return s
}

// reviews writes every review in the order given, with its body.
func (w *minutesWriter) reviews(m *docket.MinutesData) {
	if len(m.Reviews) == 0 {
		return
	}
	w.section("Reviews")
	for i, r := range m.Reviews {
		if i > 0 {
			w.blank()
		}
		name := inlineText(r.Name)
		if name == "" {
			name = "Someone"
		}
		body := strings.TrimSpace(r.Body)
		s := "**" + name + "**: " + verdictLine(m, r.MinutesVerdict)
		if body == "" {
			w.line(s + ".")
			continue
		}
		w.line(s + ":")
		w.blank()
		w.quote(body)
	}
}

// threads writes a section of threads; "None." if there are none and
// always is set, else nothing.
func (w *minutesWriter) threads(title string, ts []docket.MinutesThread, always bool, m *docket.MinutesData) {
	if len(ts) == 0 && !always {
		return
	}
	w.section(title)
	if len(ts) == 0 {
		w.line("None.")
	}
	for i, t := range ts {
		w.thread(i+1, &t, m)
	}
}

// actions writes the action items.
func (w *minutesWriter) actions(as []docket.MinutesAction) {
	w.section("Action items")
	if len(as) == 0 {
		w.line("None.")
	}
	for _, a := range as {
		box := "[ ]"
		if a.Done {
			box = "[x]"
		}
		s := "- " + box + " " + inlineText(a.Text)
		var meta []string
		if a.Owner != "" {
			meta = append(meta, "owner "+inlineText(a.Owner))
		}
		if !a.Due.IsZero() {
			meta = append(meta, "due "+humanDate(a.Due))
		}
		if a.Overdue {
			meta = append(meta, "**overdue**")
		}
		if len(meta) > 0 {
			s += " (" + strings.Join(meta, ", ") + ")"
		}
		w.line(strings.TrimRight(s, " "))
	}
}

// sessions writes the live editing sessions: who edited how much, how
// many only read along, and, for one still running, how it stood.
func (w *minutesWriter) sessions(m *docket.MinutesData) {
	if len(m.Sessions) == 0 {
		return
	}
	w.section("Editing sessions")
	for _, s := range m.Sessions {
		var editors []string
		readers := 0
		for _, p := range s.Participants {
			if p.Ops == 0 {
				readers++
				continue
			}
			editors = append(editors, fmt.Sprintf("%s (%s)", inlineText(p.Name), count(p.Ops, "edit", "edits")))
		}
		var line string
		if s.EndedAt.IsZero() {
			when := "when compiled"
			if m.Frozen {
				when = "at the decision"
			}
			so := "no edits so far"
			if len(editors) > 0 {
				so = count(len(editors), "editor", "editors") + " so far"
			}
			line = fmt.Sprintf("- In progress %s (started %s, %s), %s", when, humanTime(s.StartedAt), so, versions(s))
		} else {
			line = "- " + humanTime(s.StartedAt) + " to " + humanTime(s.EndedAt) + ", " + versions(s)
		}
		if len(editors) > 0 {
			line += ": " + strings.Join(editors, ", ")
		} else if !s.EndedAt.IsZero() {
			line += ": no edits"
		}
		if readers > 0 {
			line += "; read along: " + count(readers, "person", "people")
		}
		w.line(line)
	}
}

// versions is "versions 3 to 9" or "at version 3".
func versions(s docket.MinutesSession) string {
	if s.EndVersion > s.StartVersion {
		return fmt.Sprintf("versions %d to %d", s.StartVersion, s.EndVersion)
	}
	return fmt.Sprintf("at version %d", s.StartVersion)
}

// decisionByline is " by NAME on TIME at version N", with what is known.
func decisionByline(d *docket.MinutesDecision) string {
	s := ""
	if d.By != "" {
		s += " by " + inlineText(d.By)
	}
	if !d.At.IsZero() {
		s += " on " + humanTime(d.At)
	}
	if d.Version > 0 {
		s += fmt.Sprintf(" at version %d", d.Version)
	}
	return s
}

// joinNames joins names with commas, each escaped.
func joinNames(names []string) string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = inlineText(n)
	}
	return strings.Join(out, ", ")
}

// count is "1 thing" or "n things".
func count(n int, one, many string) string {
	return fmt.Sprintf("%d %s", n, plural(n, one, many))
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// minutesWriter builds the markdown of minutes.
type minutesWriter struct{ b strings.Builder }

func (w *minutesWriter) line(s string) { w.b.WriteString(s); w.b.WriteByte('\n') }

func (w *minutesWriter) blank() { w.b.WriteByte('\n') }

// section starts a level-2 section.
func (w *minutesWriter) section(title string) {
	w.blank()
	w.line("## " + title)
	w.blank()
}

// quote writes s as a block quote, each line prefixed and escaped.
func (w *minutesWriter) quote(s string) {
	s = strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\r", "\n")
	lines := strings.Split(strings.TrimSpace(s), "\n")
	for _, l := range lines {
		if l = blockLine(l); l == "" {
			w.line(">")
		} else {
			w.line("> " + l)
		}
	}
}

// thread writes the nth thread of a section under a level-3 heading,
// ending with how it ended: resolved (by whom, with the note), outdated
// (its passage removed, the quote kept) or still open.
func (w *minutesWriter) thread(n int, t *docket.MinutesThread, m *docket.MinutesData) {
	if n > 1 {
		w.blank()
	}
	heading := fmt.Sprintf("### %d. On a passage", n)
	if t.Quote == "" {
		heading = fmt.Sprintf("### %d. On the whole document", n)
	}
	w.line(heading)
	w.blank()
	if t.Quote != "" {
		w.quote(t.Quote)
		w.blank()
	}
	s := "**" + inlineText(t.Author) + "**"
	if t.Author == "" {
		s = "**Someone**"
	}
	if !t.CreatedAt.IsZero() {
		s += ", " + humanTime(t.CreatedAt)
	}
	s += ": " + inlineText(excerpt(t.FirstComment, minutesExcerptRunes))
	if t.Comments > 1 {
		s += fmt.Sprintf(" (%d comments)", t.Comments)
	}
	w.line(strings.TrimRight(s, " "))
	w.blank()
	at := ""
	if m.Frozen && m.Decision != nil {
		at = " at the decision"
	}
	switch t.Status {
	case docket.ThreadResolved:
		r := "Resolved"
		if t.ResolvedBy != "" {
			r += " by " + inlineText(t.ResolvedBy)
		}
		if !t.ResolvedAt.IsZero() {
			r += " on " + humanTime(t.ResolvedAt)
		}
		if note := inlineText(t.Resolution); note != "" {
			r += ": " + note
		} else {
			r += "."
		}
		w.line(r)
	case docket.ThreadOutdated:
		w.line("Outdated" + at + ": the passage it was on was removed; the quote above is what it said.")
	default:
		w.line("Still open" + at + ".")
	}
}

// humanTime formats t as a person reads it, in UTC to the minute:
// 6 Dec 2026, 14:02 UTC.
func humanTime(t time.Time) string { return t.UTC().Format(docket.MinutesTimeLayout) }

// humanDate formats a day (a due date, midnight UTC): 1 Dec 2026.
func humanDate(t time.Time) string { return t.UTC().Format("2 Jan 2006") }

// excerpt shortens s to at most n runes, at a word boundary when it can,
// with an ellipsis.
func excerpt(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)[:n]
	cut := string(r)
	if i := strings.LastIndexByte(cut, ' '); i > len(cut)/2 {
		cut = cut[:i]
	}
	return strings.TrimRight(cut, " ") + "…"
}

// markdownPunct are the characters that can make inline markup in
// markdown (GFM) wherever they are, or close a heading: they get a
// backslash in user text. Parentheses and "!" need none once brackets
// have one; ">" matters at the start of a line only (see blockLine).
const markdownPunct = "\\`*_[]<|~#&"

// inlineText makes s safe as inline text on one line: control characters
// and line breaks become spaces, runs of spaces one, and markdown
// punctuation is escaped.
func inlineText(s string) string {
	s = strings.Join(strings.FieldsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }), " ")
	return escapeInline(s)
}

// escapeInline puts a backslash before markdown punctuation and drops
// control characters.
func escapeInline(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r < 128 && strings.ContainsRune(markdownPunct, r):
			b.WriteByte('\\')
			b.WriteRune(r)
		case unicode.IsControl(r) && r != '\t':
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// blockLine makes one line of user text safe inside a block quote: no
// leading white space (which could make code), markdown punctuation
// escaped, and a leading character that could open a block (a list
// marker, a heading underline, a thematic break, a nested quote, an
// ordered list number) escaped too.
func blockLine(l string) string {
	l = strings.TrimSpace(strings.Map(func(r rune) rune {
		if r == '\t' {
			return ' '
		}
		return r
	}, l))
	l = escapeInline(l)
	if l == "" {
		return ""
	}
	switch l[0] {
	case '-', '+', '=', '>':
		return "\\" + l
	}
	// "1. x" or "1) x" opens an ordered list.
	i := 0
	for i < len(l) && i < 10 && l[i] >= '0' && l[i] <= '9' {
		i++
	}
	if i > 0 && i < len(l) && (l[i] == '.' || l[i] == ')') {
		return l[:i] + "\\" + l[i:]
	}
	return l
}
