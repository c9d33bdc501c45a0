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
// entities decoded, white space collapsed. What the comment quotes (its
// blockquotes) is left out, so the excerpt is what was said; a comment
// that is nothing but a quote keeps it.
func excerpt(h string) string {
	if s := plainText(h, true); s != "" {
		return s
	}
	return plainText(h, false)
}

// plainText is excerpt, without what blockquotes hold when skipQuotes.
func plainText(h string, skipQuotes bool) string {
	var b strings.Builder
	quotes := 0 // depth of blockquotes being skipped
	for len(h) > 0 && b.Len() < 8*excerptRunes {
		i := strings.IndexByte(h, '<')
		if i < 0 {
			if quotes == 0 {
				b.WriteString(h)
			}
			break
		}
		if quotes == 0 {
			b.WriteString(h[:i])
		}
		j := strings.IndexByte(h[i:], '>')
		if j < 0 {
			break
		}
		closing := strings.HasPrefix(h[i+1:], "/")
		name := strings.TrimPrefix(h[i+1:i+j], "/")
		if k := strings.IndexAny(name, " /"); k >= 0 {
			name = name[:k]
		}
		if skipQuotes && name == "blockquote" {
			if closing {
				quotes = max(quotes-1, 0)
			} else {
				quotes++
			}
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
