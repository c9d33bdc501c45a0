package markdown

import (
	"bytes"
	"context"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/docket-dev/docket"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	extast "github.com/yuin/goldmark/extension/ast"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"
)

// actionsParser is the parser [ActionItems] uses: the block parsers and
// paragraph transformers of the Renderer pipeline, so that a line is an
// action item exactly when it renders as a task list item, but of the
// inline parsers only the task list checkbox: links, emphasis and the
// rest cannot make or unmake a checkbox, which starts its item, and
// parsing them took most of the time (and, on hostile text, seconds). It
// is built on first use and shared.
var actionsParser = sync.OnceValue(func() parser.Parser {
	p := newParser(util.Prioritized(extension.NewTaskCheckBoxParser(), 0))
	p.AddOptions(
		parser.WithBlockParsers(util.Prioritized(extension.NewFootnoteBlockParser(), 999)),
		parser.WithParagraphTransformers(util.Prioritized(tableGuard{extension.NewTableParagraphTransformer()}, 200)),
	)
	return p
})

// actionsBudget bounds the time ActionItems spends parsing a document:
// the render budget, so that a document that renders has its items.
const actionsBudget = DefaultMaxRenderTime

// ActionItems returns the task-list items of the markdown document src in
// text order, such as "- [ ] @alice write the migration plan
// due:2026-12-01", "* [x] send the notes" or "1. [ ] book a room",
// anywhere in the document: in lists, nested lists and block quotes, but
// not in code blocks (fenced or indented) or a front matter block. An item
// is what goldmark's task-list extension turns into a checkbox, the same
// as the rendered page shows.
//
// Line is the 1-based line of the checkbox in src (front matter counted).
// Text is the first paragraph of the item after the checkbox, as written
// (markdown included), with its lines joined, runs of white space made one
// space, and the assignee and due tokens taken out. Done is set by [x] or
// [X]. Assignee is the first word that starts with "@": either a full
// email address (@alice@example.com) or a name of letters, digits and
// "._-" (@alice), without the "@" and without trailing dots; a ":" or ","
// right after it, or punctuation ending its word, goes with it. Due is the first due:YYYY-MM-DD word with a
// real date (years 1900 to 9999) as midnight UTC; a due: word with
// anything else stays in the text. An item with no text, assignee or due
// date is left out. DocID, UserID, Version and Overdue are left to the
// caller.
//
// ActionItems never fails: a document the renderer would refuse (larger
// than [docket.MaxDocumentBytes], nesting more than [MaxNesting] containers
// on a line) or whose parse takes longer than [DefaultMaxRenderTime] has no items, and so
// has one on which the markdown library panics.
func ActionItems(src string) []docket.ActionItem {
	if len(src) > docket.MaxDocumentBytes || !mayHaveCheckbox(src) {
		return nil
	}
	body := src
	if _, b, found, _ := locateFrontMatter(src); found {
		body = b
	}
	if checkNesting(body) != nil {
		return nil
	}
	return parseActions(actionsParser(), []byte(body), len(src)-len(body), src)
}

// mayHaveCheckbox is a quick filter: it reports whether src has "[ ]",
// "[x]" or "[X]" (or white space other than a space between the brackets)
// anywhere, so that documents without one are not parsed at all.
func mayHaveCheckbox(src string) bool {
	for i := 0; ; {
		j := strings.IndexByte(src[i:], '[')
		if j < 0 {
			return false
		}
		i += j
		if i+2 < len(src) && src[i+2] == ']' && strings.IndexByte(" \t\n\f\rxX", src[i+1]) >= 0 {
			return true
		}
		i++
	}
}

// parseActions parses body, which starts at byte offset off of src, and
// returns its action items.
func parseActions(p parser.Parser, body []byte, off int, src string) (items []docket.ActionItem) {
	defer func() {
		if recover() != nil { // a goldmark panic or the budget spent
			items = nil
		}
	}()
	pc := newWatchContext(context.Background(), actionsBudget)
	doc := p.Parse(text.NewReader(body), parser.WithContext(pc))
	lines := newLineIndex(src)
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		box, ok := n.(*extast.TaskCheckBox)
		if !ok {
			return ast.WalkContinue, nil
		}
		block := box.Parent()
		if block == nil || block.Type() != ast.TypeBlock || block.Lines().Len() == 0 {
			return ast.WalkContinue, nil
		}
		first := block.Lines().At(0)
		item := docket.ActionItem{Line: lines.line(off + first.Start), Done: box.IsChecked}
		var raw strings.Builder
		for i := 0; i < block.Lines().Len(); i++ {
			seg := block.Lines().At(i)
			v := seg.Value(body)
			if i == 0 {
				v = stripCheckbox(v)
			}
			raw.Write(v)
			raw.WriteByte(' ')
		}
		item.Text, item.Assignee, item.Due = actionFields(raw.String())
		if item.Text != "" || item.Assignee != "" || !item.Due.IsZero() {
			items = append(items, item)
		}
		return ast.WalkSkipChildren, nil
	})
	return items
}

// stripCheckbox removes the leading "[ ]" or "[x]" and the white space
// after it from the first line of a task-list item, as goldmark does.
func stripCheckbox(v []byte) []byte {
	v = bytes.TrimLeft(v, " \t")
	if len(v) >= 3 && v[0] == '[' && v[2] == ']' {
		v = v[3:]
	}
	return v
}

// lineIndex maps byte offsets of a text to 1-based line numbers.
type lineIndex []int // the offsets at which lines start

func newLineIndex(s string) lineIndex {
	idx := lineIndex{0}
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' {
			idx = append(idx, i+1)
		}
	}
	return idx
}

// line returns the 1-based line of the byte at offset off.
func (idx lineIndex) line(off int) int {
	return sort.Search(len(idx), func(i int) bool { return idx[i] > off })
}

// actionFields splits the raw text of an item into its tidied text, its
// assignee and its due date.
func actionFields(raw string) (text, assignee string, due time.Time) {
	words := strings.FieldsFunc(raw, unicode.IsSpace)
	kept := words[:0]
	for _, w := range words {
		if assignee == "" {
			if name, rest, ok := parseAssignee(w); ok {
				assignee = name
				if rest != "" {
					kept = append(kept, rest)
				}
				continue
			}
		}
		if due.IsZero() {
			if d, ok := parseDue(w); ok {
				due = d
				continue
			}
		}
		kept = append(kept, w)
	}
	return strings.Join(kept, " "), assignee, due
}

// parseAssignee reads "@name" or "@local@domain.tld" at the start of the
// word w. It returns the name without the "@" and what follows it in the
// word, less a ":" or "," right after the name, or nothing when only
// punctuation follows it.
func parseAssignee(w string) (name, rest string, ok bool) {
	if !strings.HasPrefix(w, "@") {
		return "", "", false
	}
	s := w[1:]
	n := emailPrefix(s)
	if n == 0 {
		for n < len(s) {
			r, size := utf8.DecodeRuneInString(s[n:])
			if !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '.' && r != '_' && r != '-' {
				break
			}
			n += size
		}
		for n > 0 && s[n-1] == '.' {
			n--
		}
	}
	if n == 0 {
		return "", "", false
	}
	if r, _ := utf8.DecodeRuneInString(s); !unicode.IsLetter(r) && !unicode.IsDigit(r) {
		return "", "", false
	}
	name, rest = s[:n], s[n:]
	if strings.Trim(rest, ".,:;") == "" {
		rest = ""
	} else if rest[0] == ':' || rest[0] == ',' {
		rest = rest[1:]
	}
	return name, rest, true
}

// emailPrefix returns the length of the email address at the start of s,
// or 0: a local part of letters, digits and "._%+-", an "@", and a domain
// of labels of letters, digits and "-" with at least one dot; trailing
// dots are not part of it.
func emailPrefix(s string) int {
	at := 0
	for at < len(s) && (isAlnum(s[at]) || strings.IndexByte("._%+-", s[at]) >= 0) {
		at++
	}
	if at == 0 || at >= len(s) || s[at] != '@' {
		return 0
	}
	end := at + 1
	for end < len(s) && (isAlnum(s[end]) || s[end] == '.' || s[end] == '-') {
		end++
	}
	for end > at+1 && s[end-1] == '.' {
		end--
	}
	domain := s[at+1 : end]
	if !strings.Contains(domain, ".") || strings.HasPrefix(domain, ".") || strings.Contains(domain, "..") {
		return 0
	}
	return end
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// parseDue reads a word "due:YYYY-MM-DD" ("due" in any case), allowing a
// trailing ".", "," or ";".
func parseDue(w string) (time.Time, bool) {
	if len(w) < 4 || !strings.EqualFold(w[:4], "due:") {
		return time.Time{}, false
	}
	d := strings.TrimRight(w[4:], ".,;")
	if len(d) != len("2006-01-02") {
		return time.Time{}, false
	}
	t, err := time.Parse(time.DateOnly, d)
	if err != nil || t.Year() < 1900 {
		return time.Time{}, false
	}
	return t.UTC(), true
}
