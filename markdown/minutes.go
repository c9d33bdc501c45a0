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
// (status, owner, decision), then the sections that have something to say:
// decision, status timeline, ownership, participants, reviewers, resolved
// threads, open threads, action items and live sessions. Open threads and
// action items say "None." when empty; the other sections are left out.
// Times are UTC in ISO 8601 (2026-03-01T09:00:00Z); due dates of action
// items are dates (2026-12-01).
//
// Everything users wrote (titles, names, quotes, comments, summaries,
// notes, item texts) is escaped so that it reads as text and cannot add
// structure: markdown punctuation gets a backslash, one-line fields have
// their line breaks folded, and quotes and summaries become block quotes
// with every line prefixed and no line able to open a block.
func Minutes(m *docket.MinutesData) string {
	w := &minutesWriter{}
	title := inlineText(m.Title)
	if title == "" {
		title = "Untitled"
	}
	w.line("# Minutes: " + title)
	w.blank()

	w.line("- **Status:** " + string(m.Status))
	if m.Kind != "" {
		w.line("- **Kind:** " + string(m.Kind))
	}
	if m.Owner != "" {
		w.line("- **Owner:** " + inlineText(m.Owner))
	}
	if !m.CreatedAt.IsZero() {
		created := "- **Created:** " + isoTime(m.CreatedAt)
		if m.CreatedBy != "" {
			created += " by " + inlineText(m.CreatedBy)
		}
		w.line(created)
	}
	if d := m.Decision; d != nil {
		w.line("- **Decision:** " + string(d.Outcome) + decisionByline(d))
	} else {
		w.line("- **Decision:** none recorded yet")
	}
	doc := "- **Document:** " + inlineText(m.DocID)
	if m.Version > 0 {
		doc += fmt.Sprintf(", version %d", m.Version)
	}
	w.line(doc)
	if !m.CompiledAt.IsZero() {
		w.line("- **Compiled:** " + isoTime(m.CompiledAt))
	}

	if d := m.Decision; d != nil {
		w.section("Decision")
		outcome := string(d.Outcome)
		if outcome != "" {
			outcome = strings.ToUpper(outcome[:1]) + outcome[1:]
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

	if len(m.Timeline) > 0 {
		w.section("Status timeline")
		for _, t := range m.Timeline {
			s := "- " + isoTime(t.At) + ": "
			if t.From == "" {
				s += "created as " + string(t.To)
			} else {
				s += string(t.From) + " → " + string(t.To)
			}
			if t.By != "" {
				s += " by " + inlineText(t.By)
			}
			if !t.Due.IsZero() {
				s += ", due " + isoTime(t.Due)
			}
			w.line(s)
		}
	}

	if len(m.Handoffs) > 0 {
		w.section("Ownership")
		for _, h := range m.Handoffs {
			s := "- " + isoTime(h.At) + ": " + inlineText(h.From) + " → " + inlineText(h.To)
			if h.By != "" && h.By != h.From {
				s += " (by " + inlineText(h.By) + ")"
			}
			w.line(s)
		}
	}

	if len(m.Participants) > 0 {
		w.section("Participants")
		names := make([]string, len(m.Participants))
		for i, p := range m.Participants {
			names[i] = inlineText(p)
		}
		w.line(strings.Join(names, ", "))
	}

	if len(m.Reviewers) > 0 {
		w.section("Reviewers")
		for _, r := range m.Reviewers {
			s := "- **" + inlineText(r.Name) + "**: "
			if len(r.Verdicts) == 0 {
				s += "no verdict"
			} else {
				last := r.Verdicts[len(r.Verdicts)-1]
				s += string(last.Verdict) + " (" + isoTime(last.At) + ")"
				if len(r.Verdicts) > 1 {
					var earlier []string
					for _, v := range r.Verdicts[:len(r.Verdicts)-1] {
						earlier = append(earlier, string(v.Verdict)+" ("+isoTime(v.At)+")")
					}
					s += "; earlier " + strings.Join(earlier, ", ")
				}
			}
			w.line(s)
		}
	}

	if len(m.ResolvedThreads) > 0 {
		w.section("Resolved threads")
		for i, t := range m.ResolvedThreads {
			w.thread(i+1, &t)
		}
	}

	w.section("Open threads")
	if len(m.OpenThreads) == 0 {
		w.line("None.")
	}
	for i, t := range m.OpenThreads {
		w.thread(i+1, &t)
	}

	w.section("Action items")
	if len(m.Actions) == 0 {
		w.line("None.")
	}
	for _, a := range m.Actions {
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
			meta = append(meta, "due "+a.Due.UTC().Format(time.DateOnly))
		}
		if len(meta) > 0 {
			s += " (" + strings.Join(meta, ", ") + ")"
		}
		w.line(strings.TrimRight(s, " "))
	}

	if len(m.Sessions) > 0 {
		w.section("Live sessions")
		for _, s := range m.Sessions {
			line := "- " + isoTime(s.StartedAt) + " to "
			if s.EndedAt.IsZero() {
				line += "now (live)"
			} else {
				line += isoTime(s.EndedAt)
			}
			line += fmt.Sprintf(", versions %d to %d", s.StartVersion, s.EndVersion)
			var people []string
			for _, p := range s.Participants {
				people = append(people, fmt.Sprintf("%s (%d %s)", inlineText(p.Name), p.Ops, plural(p.Ops, "edit", "edits")))
			}
			if len(people) > 0 {
				line += ": " + strings.Join(people, ", ")
			}
			w.line(line)
		}
	}
	return w.b.String()
}

// decisionByline is " by NAME on TIME at version N", with what is known.
func decisionByline(d *docket.MinutesDecision) string {
	s := ""
	if d.By != "" {
		s += " by " + inlineText(d.By)
	}
	if !d.At.IsZero() {
		s += " on " + isoTime(d.At)
	}
	if d.Version > 0 {
		s += fmt.Sprintf(" at version %d", d.Version)
	}
	return s
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

// thread writes the nth thread of a section under a level-3 heading.
func (w *minutesWriter) thread(n int, t *docket.MinutesThread) {
	if n > 1 {
		w.blank()
	}
	heading := fmt.Sprintf("### %d. On a passage", n)
	if t.Quote == "" {
		heading = fmt.Sprintf("### %d. On the whole document", n)
	}
	if t.Status == docket.ThreadOutdated {
		heading += " (outdated: its text was deleted)"
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
		s += ", " + isoTime(t.CreatedAt)
	}
	s += ": " + inlineText(excerpt(t.FirstComment, minutesExcerptRunes))
	if t.Comments > 1 {
		s += fmt.Sprintf(" (%d comments)", t.Comments)
	}
	w.line(strings.TrimRight(s, " "))
	if t.Status == docket.ThreadResolved {
		w.blank()
		r := "Resolved"
		if t.ResolvedBy != "" {
			r += " by " + inlineText(t.ResolvedBy)
		}
		if !t.ResolvedAt.IsZero() {
			r += " on " + isoTime(t.ResolvedAt)
		}
		if note := inlineText(t.Resolution); note != "" {
			r += ": " + note
		} else {
			r += "."
		}
		w.line(r)
	}
}

// isoTime formats t in UTC as ISO 8601 to the second.
func isoTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

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
