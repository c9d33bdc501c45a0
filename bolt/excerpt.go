package bolt

import (
	"html"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Plain-text excerpts of what users wrote, for events, inbox items and
// the minutes.

// excerptRunes is the length of the excerpts of comments put in events
// and inbox items.
const excerptRunes = 200

// excerpt returns the start of a comment's sanitised HTML as plain text,
// for events and inbox items: tags are dropped (block tags leave a space),
// entities decoded, white space collapsed.
func excerpt(h string) string {
	var b strings.Builder
	for len(h) > 0 && b.Len() < 8*excerptRunes {
		i := strings.IndexByte(h, '<')
		if i < 0 {
			b.WriteString(h)
			break
		}
		b.WriteString(h[:i])
		j := strings.IndexByte(h[i:], '>')
		if j < 0 {
			break
		}
		name := strings.TrimPrefix(h[i+1:i+j], "/")
		if k := strings.IndexAny(name, " /"); k >= 0 {
			name = name[:k]
		}
		if !inlineTags[name] {
			b.WriteByte(' ')
		}
		h = h[i+j+1:]
	}
	return shorten(collapseSpace(html.UnescapeString(b.String())), excerptRunes)
}

// inlineTags are the HTML elements that do not separate words.
var inlineTags = map[string]bool{
	"a": true, "abbr": true, "b": true, "code": true, "del": true, "em": true, "i": true,
	"kbd": true, "mark": true, "s": true, "small": true, "span": true, "strong": true,
	"sub": true, "sup": true, "u": true,
}

// collapseSpace trims s and turns every run of white space into a space.
func collapseSpace(s string) string {
	return strings.Join(strings.FieldsFunc(s, unicode.IsSpace), " ")
}

// shorten cuts s to at most n code points, marking a cut with an ellipsis.
func shorten(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return strings.TrimSpace(string(r[:n-1])) + "…"
}

// newExcerpt is the excerpt of what a comment's sanitised HTML says that
// is new: its block quotes (the lines a reply quotes with ">") are left
// out. A comment that is all quote keeps its whole excerpt.
func newExcerpt(h string) string {
	if s := excerpt(dropQuotes(h)); s != "" {
		return s
	}
	return excerpt(h)
}

// dropQuotes removes the blockquote elements, nested ones included, from
// sanitised HTML.
func dropQuotes(h string) string {
	const open, closing = "<blockquote", "</blockquote>"
	var b strings.Builder
	depth := 0
	for h != "" {
		i, j := strings.Index(h, open), strings.Index(h, closing)
		if i < 0 && j < 0 {
			if depth == 0 {
				b.WriteString(h)
			}
			break
		}
		next := i
		if i < 0 || (j >= 0 && j < i) {
			next = j
		}
		if depth == 0 {
			b.WriteString(h[:next])
		}
		if next == i {
			depth++
			h = h[i+len(open):]
		} else {
			depth = max(depth-1, 0)
			h = h[j+len(closing):]
		}
	}
	return b.String()
}
