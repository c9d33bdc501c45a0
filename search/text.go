package search

import (
	"regexp"
	"strings"
)

var (
	mdImage     = regexp.MustCompile(`!\[([^\]]*)\]\([^)]*\)`)
	mdLink      = regexp.MustCompile(`\[([^\]]*)\]\([^)]*\)`)
	mdRefLink   = regexp.MustCompile(`\[([^\]]*)\]\[[^\]]*\]`)
	mdLinkDef   = regexp.MustCompile(`^\s{0,3}\[[^\]]+\]:\s*(\S+).*$`)
	mdAutolink  = regexp.MustCompile(`<((?:https?|mailto|ftp):[^>\s]*)>`)
	mdLinkURL   = regexp.MustCompile(`\]\(([^)]*)\)`)
	urlWords    = regexp.MustCompile(`[^\p{L}\p{N}]+`)
	mdHTMLTag   = regexp.MustCompile(`</?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?/?>`)
	mdEmphasis  = regexp.MustCompile("\\*+|`+|~~+")
	mdUnderline = regexp.MustCompile(`(^|[^\p{L}\p{N}])_+|_+([^\p{L}\p{N}]|$)`)
	mdListMark  = regexp.MustCompile(`^\s*(?:[-*+]|\d+[.)])\s+(?:\[[ xX]\]\s+)?`)
	mdQuoteMark = regexp.MustCompile(`^\s*(?:>\s?)+`)
	mdHeading   = regexp.MustCompile(`^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$`)
	mdFence     = regexp.MustCompile("^\\s*(?:```|~~~)")
	mdRule      = regexp.MustCompile(`^\s*(?:[-*_=]\s*){3,}$`)
	mdTableRule = regexp.MustCompile(`^\s*\|?(?:\s*:?-+:?\s*\|)+\s*(?::?-+:?\s*)?$`)
)

// PlainText turns markdown into the words a reader sees: code fence
// markers, link and image URLs, HTML tags and emphasis marks are dropped;
// the text of links, code and headings is kept. It also returns the text
// of the ATX headings separately, so they can be boosted.
func PlainText(md string) (body string, headings []string) {
	body, headings, _ = plainText(md)
	return body, headings
}

// plainText is [PlainText] that also returns the words of the link and
// image URLs, separated by spaces, so that they can be indexed apart from
// the text shown in fragments.
func plainText(md string) (body string, headings []string, links string) {
	var b, l strings.Builder
	addURLs := func(s string, re *regexp.Regexp, group int) {
		for _, m := range re.FindAllStringSubmatch(s, -1) {
			l.WriteString(urlWords.ReplaceAllString(m[group], " "))
			l.WriteByte(' ')
		}
	}
	b.Grow(len(md))
	inFence := false
	for line := range strings.SplitSeq(md, "\n") {
		line = strings.TrimRight(line, "\r")
		trimmed := strings.TrimLeft(line, " \t")
		first := byte(0)
		if trimmed != "" {
			first = trimmed[0]
		}
		if (first == '`' || first == '~') && mdFence.MatchString(line) {
			inFence = !inFence
			b.WriteByte('\n')
			continue
		}
		if inFence {
			b.WriteString(line)
			b.WriteByte('\n')
			continue
		}
		if first == '[' && mdLinkDef.MatchString(line) {
			addURLs(line, mdLinkDef, 1)
			b.WriteByte('\n')
			continue
		}
		if strings.IndexByte("-*_=", first) >= 0 && first != 0 && mdRule.MatchString(line) {
			b.WriteByte('\n')
			continue
		}
		if first == '|' {
			// A table: the delimiter row goes, the cells' pipes become
			// spaces (snippets showed "| a | b |").
			if mdTableRule.MatchString(line) {
				b.WriteByte('\n')
				continue
			}
			line = strings.ReplaceAll(line, "|", " ")
			first = ' '
			if t := strings.TrimLeft(line, " \t"); t != "" {
				first = t[0]
			}
		}
		if strings.Contains(line, "](") {
			addURLs(line, mdLinkURL, 1)
		}
		if strings.IndexByte(line, '<') >= 0 {
			addURLs(line, mdAutolink, 1)
		}
		text, isHeading := "", false
		if first == '#' {
			text, isHeading = heading(line)
		}
		if isHeading {
			line = inlineText(text)
			if h := strings.TrimSpace(line); h != "" {
				headings = append(headings, h)
			}
		} else {
			if first == '>' {
				line = mdQuoteMark.ReplaceAllString(line, "")
				if t := strings.TrimLeft(line, " \t"); t != "" {
					first = t[0]
				}
			}
			if strings.IndexByte("-*+0123456789", first) >= 0 && first != 0 {
				if loc := mdListMark.FindStringIndex(line); loc != nil {
					line = line[loc[1]:]
				}
			}
			line = inlineText(line)
		}
		b.WriteString(line)
		b.WriteByte('\n')
	}
	return b.String(), headings, l.String()
}

// heading returns the text of an ATX heading line, as mdHeading would
// find it, without its cost: a search spends more time on this
// expression than on anything else of PlainText.
func heading(line string) (string, bool) {
	const space = "\t\n\f\r "
	rest := line
	for i := 0; i < 3 && rest != "" && rest[0] == ' '; i++ {
		rest = rest[1:]
	}
	n := 0
	for n < len(rest) && rest[n] == '#' {
		n++
	}
	if n == 0 || n > 6 || n == len(rest) || !strings.ContainsRune(space, rune(rest[n])) {
		return "", false
	}
	text := strings.TrimLeft(rest[n:], space)
	text = strings.TrimRight(text, space)
	text = strings.TrimRight(text, "#")
	return strings.TrimRight(text, space), true
}

// inlineText strips inline markdown from one line.
func inlineText(s string) string {
	if strings.IndexByte(s, '[') >= 0 {
		s = mdImage.ReplaceAllString(s, "$1")
		s = mdLink.ReplaceAllString(s, "$1")
		s = mdRefLink.ReplaceAllString(s, "$1")
	}
	if strings.IndexByte(s, '<') >= 0 {
		s = mdAutolink.ReplaceAllString(s, " ")
		s = mdHTMLTag.ReplaceAllString(s, " ")
	}
	if strings.IndexByte(s, '*') >= 0 || strings.IndexByte(s, '`') >= 0 || strings.IndexByte(s, '~') >= 0 {
		s = mdEmphasis.ReplaceAllString(s, "")
	}
	if strings.IndexByte(s, '_') >= 0 {
		s = mdUnderline.ReplaceAllString(s, "$1$2")
	}
	return s
}
