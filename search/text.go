package search

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

var (
	mdLinkDef   = regexp.MustCompile(`^\s{0,3}\[[^\]]+\]:\s*(\S+).*$`)
	mdAutolink  = regexp.MustCompile(`<((?:https?|mailto|ftp):[^>\s]*)>`)
	mdLinkURL   = regexp.MustCompile(`\]\(([^)]*)\)`)
	urlWords    = regexp.MustCompile(`[^\p{L}\p{N}]+`)
	mdHTMLTag   = regexp.MustCompile(`</?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?/?>`)
	mdListMark  = regexp.MustCompile(`^\s*(?:[-*+]|\d+[.)])\s+(?:\[[ xX]\]\s+)?`)
	mdQuoteMark = regexp.MustCompile(`^\s*(?:>\s?)+`)
	mdHeading   = regexp.MustCompile(`^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$`)
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
	return plainTextOf(md, true)
}

// shownText is the plain text of markdown that fragments are made of:
// [PlainText]'s body, without the cost of finding the words of URLs.
func shownText(md string) string {
	body, _, _ := plainTextOf(md, false)
	return body
}

// plainTextOf is plainText, which finds the words of the URLs if
// withLinks is set.
func plainTextOf(md string, withLinks bool) (body string, headings []string, links string) {
	var b, l strings.Builder
	addURLs := func(s string, re *regexp.Regexp, group int) {
		if !withLinks {
			return
		}
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
		if isFence(trimmed) {
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

// isFence reports whether a line that starts with neither a space nor a
// tab starts a code fence.
func isFence(trimmed string) bool {
	return strings.HasPrefix(trimmed, "```") || strings.HasPrefix(trimmed, "~~~")
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
		s = linkText(s, true, '(', ')')  // images
		s = linkText(s, false, '(', ')') // links
		s = linkText(s, false, '[', ']') // reference links
	}
	if strings.IndexByte(s, '<') >= 0 {
		s = mdAutolink.ReplaceAllString(s, " ")
		s = mdHTMLTag.ReplaceAllString(s, " ")
	}
	if strings.IndexByte(s, '*') >= 0 || strings.IndexByte(s, '`') >= 0 || strings.IndexByte(s, '~') >= 0 {
		s = dropEmphasis(s)
	}
	if strings.IndexByte(s, '_') >= 0 {
		s = dropUnderline(s)
	}
	return s
}

// linkText replaces the links of s by their text: what
// \[([^\]]*)\]\(([^)]*)\) matches by its first group, with open and close
// in place of the parentheses, and a ! before it if image is set. It
// does what regular expressions did, without their cost: TestLinkText
// compares the two.
func linkText(s string, image bool, open, close byte) string {
	var b strings.Builder
	done := 0 // s[:done] is written
	for at := 0; ; {
		i := strings.IndexByte(s[at:], '[')
		if i < 0 {
			break
		}
		i += at
		at = i + 1
		start := i
		if image {
			if i == 0 || s[i-1] != '!' {
				continue
			}
			start--
		}
		j := strings.IndexByte(s[i+1:], ']')
		if j < 0 {
			break
		}
		j += i + 1
		if j+1 >= len(s) || s[j+1] != open {
			continue
		}
		k := strings.IndexByte(s[j+2:], close)
		if k < 0 {
			continue
		}
		k += j + 2
		b.WriteString(s[done:start])
		b.WriteString(s[i+1 : j])
		done, at = k+1, k+1
	}
	if done == 0 {
		return s
	}
	b.WriteString(s[done:])
	return b.String()
}

// dropEmphasis removes runs of emphasis marks: runs of * and `, and of
// two ~ or more. The expressions of emphasis were most of the cost of
// turning text plain; TestDropEmphasis compares this with them.
func dropEmphasis(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		c := s[i]
		if c != '*' && c != '`' && c != '~' {
			j := strings.IndexAny(s[i:], "*`~")
			if j < 0 {
				j = len(s) - i
			}
			b.WriteString(s[i : i+j])
			i += j
			continue
		}
		j := i + 1
		for j < len(s) && s[j] == c {
			j++
		}
		if c == '~' && j-i == 1 {
			b.WriteByte(c)
		}
		i = j
	}
	return b.String()
}

// dropUnderline removes underscores of emphasis:
// runs of _ at the start of s or after a character that is neither a
// letter nor a digit go, and so do those at the end of s or before such
// a character, which stays. TestDropEmphasis compares the two.
func dropUnderline(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	run := func(i int) int { // the end of the run of _ from i
		for i < len(s) && s[i] == '_' {
			i++
		}
		return i
	}
	for i := 0; i < len(s); {
		if s[i] != '_' {
			// Nothing changes before the character in front of the
			// next _ (a rune never ends past a byte that starts one).
			u := strings.IndexByte(s[i:], '_')
			if u < 0 {
				b.WriteString(s[i:])
				break
			}
			p := i + u - 1
			for p > i && !utf8.RuneStart(s[p]) {
				p--
			}
			b.WriteString(s[i:p])
			i = p
		}
		if i == 0 && s[0] == '_' {
			i = run(0)
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if !isWordRune(r) && i+size < len(s) && s[i+size] == '_' {
			b.WriteString(s[i : i+size])
			i = run(i + size)
			continue
		}
		if r == '_' { // one _, with a letter or digit before it
			if i+1 == len(s) {
				break
			}
			if r2, size2 := utf8.DecodeRuneInString(s[i+1:]); !isWordRune(r2) {
				b.WriteString(s[i+1 : i+1+size2])
				i += 1 + size2
				continue
			}
		}
		b.WriteString(s[i : i+size])
		i += size
	}
	return b.String()
}

// isWordRune reports whether r is a letter or a digit (\p{L}, \p{N}).
func isWordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsNumber(r)
}
