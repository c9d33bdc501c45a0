package markdown

import (
	"context"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/docket-dev/docket"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/text"
)

// mentionParser is a plain CommonMark parser: without linkify, an address
// such as bob@example.com stays text, so Mentions sees exactly what was
// written. It is built on first use and shared.
var mentionParser = sync.OnceValue(func() parser.Parser {
	return goldmark.New().Parser()
})

// mentionBudget bounds the time Mentions spends parsing a text.
const mentionBudget = time.Second

// Mentions returns the names that src mentions as @name or as
// @name@example.com, lower-cased, each once, in order of first appearance,
// and at most [docket.MaxMentions] of them: "alice" for @Alice and
// "bob@example.com" for @bob@example.com. A name is made of ASCII letters,
// digits and . _ + -; trailing dots and dashes are punctuation, not name.
//
// Only text counts: nothing in code spans, code blocks, raw HTML, autolinks,
// image descriptions or quoted lines (> ..., a reply quoting another, whose
// mentions notified when they were written) is a mention, and neither is an @ inside a word,
// as in bob@example.com, or one escaped as \@. Text the parser cannot
// handle within a second, or that [Renderer.Render] would refuse for its
// nesting, mentions no one.
func Mentions(src string) []string {
	if !strings.Contains(src, "@") || checkNesting(src) != nil {
		return nil
	}
	return mentions(mentionParser(), []byte(src))
}

func mentions(p parser.Parser, src []byte) (out []string) {
	defer func() {
		if recover() != nil { // a goldmark panic or the budget spent
			out = nil
		}
	}()
	pc := newWatchContext(context.Background(), mentionBudget)
	doc := p.Parse(text.NewReader(src), parser.WithContext(pc))
	seen := map[string]bool{}
	// Adjacent text nodes (goldmark splits text at characters such as _
	// that might start markup) are joined back into runs of source text.
	runStart, runStop := -1, -1
	flush := func() {
		if runStart >= 0 {
			for _, name := range scanMentions(src, runStart, runStop) {
				if !seen[name] && len(out) < docket.MaxMentions {
					seen[name] = true
					out = append(out, name)
				}
			}
		}
		runStart, runStop = -1, -1
	}
	ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch n := n.(type) {
		case *ast.CodeSpan, *ast.CodeBlock, *ast.FencedCodeBlock, *ast.HTMLBlock,
			*ast.RawHTML, *ast.AutoLink, *ast.Image, *ast.Blockquote:
			flush()
			return ast.WalkSkipChildren, nil
		case *ast.Text:
			seg := n.Segment
			if seg.Start != runStop {
				flush()
				runStart = seg.Start
			}
			runStop = seg.Stop
			if n.SoftLineBreak() || n.HardLineBreak() {
				flush()
			}
		}
		return ast.WalkContinue, nil
	})
	flush()
	return out
}

// scanMentions finds the mentions in src[start:stop], a run of text.
func scanMentions(src []byte, start, stop int) []string {
	var out []string
	for i := start; i < stop; i++ {
		if src[i] != '@' {
			continue
		}
		if i > 0 && src[i-1] == '\\' {
			continue // escaped
		}
		// Within the run, an @ after a letter or digit is inside a word
		// (an address); at the start of the run, what precedes is markup.
		if i > start {
			if prev, _ := utf8.DecodeLastRune(src[start:i]); isNameByte(src[i-1]) || prev == '@' || prev == '/' ||
				unicode.IsLetter(prev) || unicode.IsDigit(prev) {
				continue
			}
		}
		j := i + 1
		for j < stop && isNameByte(src[j]) {
			j++
		}
		name := strings.TrimRight(string(src[i+1:j]), ".-")
		if name == "" || len(name) > 64 {
			continue
		}
		// @name@example.com names a person by their whole address.
		if k := i + 1 + len(name); k == j && j < stop && src[j] == '@' {
			d := j + 1
			for d < stop && (isAlnum(src[d]) || src[d] == '.' || src[d] == '-') {
				d++
			}
			domain := strings.TrimRight(string(src[j+1:d]), ".-")
			if strings.Contains(domain, ".") && !strings.HasPrefix(domain, ".") {
				name += "@" + domain
				j = j + 1 + len(domain)
			}
		}
		out = append(out, strings.ToLower(name))
		i = j - 1
	}
	return out
}

// isNameByte reports whether c may be part of a mentioned name: the
// characters of the local part of an everyday email address.
func isNameByte(c byte) bool {
	return isAlnum(c) || c == '.' || c == '_' || c == '+' || c == '-'
}
