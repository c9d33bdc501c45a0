package markdown

import (
	"path"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// genericHeadings are section headings of proposal templates (Rust RFCs,
// EIPs, Go proposals, ADRs) that never name a document.
var genericHeadings = map[string]bool{}

func init() {
	for _, h := range strings.Split("summary|simple summary|abstract|motivation|background|introduction|overview|"+
		"context|specification|rationale|detailed design|design|guide-level explanation|reference-level explanation|"+
		"drawbacks|alternatives|rationale and alternatives|prior art|unresolved questions|future possibilities|"+
		"proposal|implementation|compatibility|backwards compatibility|security considerations|test cases|"+
		"reference implementation|copyright|table of contents|contents|status|goals|non-goals|decision|"+
		"consequences|problem|solution|discussion|open issues|open questions|references|appendix|changelog|"+
		"description|examples|example|usage|how we teach this|unresolved issues", "|") {
		genericHeadings[h] = true
	}
}

// IsGenericHeading reports whether a heading is a template's section
// heading, such as "Summary" or "2. Motivation:", rather than a name.
func IsGenericHeading(h string) bool {
	h = strings.ToLower(strings.TrimSpace(h))
	h = strings.TrimLeft(h, "0123456789. ")
	h = strings.TrimRight(h, ": ")
	return genericHeadings[h]
}

// nameLine matches a template's name line: "- Feature Name: `foo_bar`",
// "**Title:** Shared cache", "Title: Shared cache".
var nameLine = regexp.MustCompile(`(?i)^\s{0,3}(?:[-*+]\s+)?(?:\*\*|__)?(?:feature[ -]name|title)\s*(?::\s*(?:\*\*|__)|(?:\*\*|__)?\s*:)\s*(.*)$`)

// ImportTitle returns the title of an imported markdown file: its front
// matter title; else its first level-1 heading that is not a template's
// section heading ([IsGenericHeading]); else the value of a "Feature
// Name:" or "Title:" line; else its first other heading that is not a
// section heading; else the file name made readable ([ReadableName]).
func ImportTitle(src, fileName string) string {
	fm, body, err := SplitFrontMatter(src)
	if err == nil && strings.TrimSpace(fm.Title) != "" {
		return collapseSpace(fm.Title)
	}
	if err != nil {
		_, body, _, _ = locateFrontMatter(src)
	}
	var heads []heading
	if mayHaveATXHeading(body) && checkNesting(body) == nil {
		heads = headings(titleParser(), body)
	}
	for _, h := range heads {
		if h.level == 1 && !IsGenericHeading(h.text) {
			return h.text
		}
	}
	if t := templateName(body); t != "" {
		return t
	}
	for _, h := range heads {
		if !IsGenericHeading(h.text) {
			return h.text
		}
	}
	return ReadableName(fileName)
}

// templateName returns the value of the first "Feature Name:" or "Title:"
// line outside code blocks, an identifier such as foo_bar made readable,
// or "" if there is none or it is a placeholder such as "(fill me in)".
func templateName(src string) string {
	fence := ""
	for line := range strings.Lines(src) {
		trimmed := strings.TrimSpace(line)
		if fence != "" {
			if strings.HasPrefix(trimmed, fence) {
				fence = ""
			}
			continue
		}
		if strings.HasPrefix(trimmed, "```") || strings.HasPrefix(trimmed, "~~~") {
			fence = trimmed[:3]
			continue
		}
		m := nameLine.FindStringSubmatch(strings.TrimRight(line, "\r\n"))
		if m == nil {
			continue
		}
		v := strings.Trim(strings.TrimSpace(m[1]), "`*_\"'")
		switch low := strings.ToLower(v); {
		case v == "", strings.HasPrefix(v, "("), strings.HasPrefix(v, "["), strings.HasPrefix(v, "<"), low == "n/a", low == "none", low == "tbd":
			return ""
		case !strings.ContainsAny(v, " \t"):
			return ReadableName(v)
		}
		return collapseSpace(v)
	}
	return ""
}

// codeName matches a name that is a series code and a number, such as
// "eip-1559" or "ADR_7".
var codeName = regexp.MustCompile(`^([A-Za-z]{2,5})[-_ ]?([0-9]+)$`)

// numberPrefix matches a leading number of a file name: "0042-", "eip-1.".
var numberPrefix = regexp.MustCompile(`^[0-9]+[-_. ]+`)

// ReadableName makes a file name or identifier readable as a title: the
// directory, the extension and a leading number go, dashes and
// underscores become spaces, the first letter is upper case:
// "rfcs/0042-my-great-idea.md" gives "My great idea", "foo_bar" "Foo bar".
// A name of only a number keeps it ("1234.md" gives "1234"), and a
// series code with a number is written as such ("eip-1559.md" gives
// "EIP-1559").
func ReadableName(name string) string {
	name = path.Base(strings.ReplaceAll(name, `\`, "/"))
	if ext := path.Ext(name); ext != "" && !strings.ContainsAny(ext, " _-") {
		name = strings.TrimSuffix(name, ext)
	}
	if m := codeName.FindStringSubmatch(name); m != nil {
		return strings.ToUpper(m[1]) + "-" + m[2]
	}
	if rest := numberPrefix.ReplaceAllString(name, ""); rest != "" {
		name = rest
	}
	name = collapseSpace(strings.NewReplacer("-", " ", "_", " ").Replace(name))
	r, size := utf8.DecodeRuneInString(name)
	if r == utf8.RuneError {
		return name
	}
	return string(unicode.ToUpper(r)) + name[size:]
}
