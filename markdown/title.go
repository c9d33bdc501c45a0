package markdown

import (
	"bufio"
	"bytes"
	"context"
	"html"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/parser"
	gmhtml "github.com/yuin/goldmark/renderer/html"
	"github.com/yuin/goldmark/text"
)

// titleParser is the parser [Title] uses, the one of the Renderer
// pipeline. It is built on first use and never changes afterwards, so it
// is shared by all goroutines.
var titleParser = sync.OnceValue(func() parser.Parser {
	return newGoldmark().Parser()
})

// titleBudget bounds the time Title spends parsing a document.
const titleBudget = time.Second

// Title returns the plain text of the first level-1 ATX heading ("# Title")
// at the top level of the markdown document src; without one, that of the
// first ATX heading of any level ("## Proposal: ..."); or "" if there is
// none.
// A front matter block, code blocks and setext ("===") headings are not
// considered, and neither are headings inside lists or block quotes.
// Closing #s are dropped and inline markup is reduced to its text:
// "# The **`go`** tool" gives "The go tool". Whitespace runs become single
// spaces; the result is not otherwise cleaned (see [docket.CleanTitle]).
// A document that [Renderer.Render] would refuse for its nesting, or that
// takes over a second to parse, has no title.
func Title(src string) string {
	return title(titleParser(), src)
}

// title implements Title with the parser p.
func title(p parser.Parser, src string) string {
	if _, body, found, _ := locateFrontMatter(src); found {
		src = body
	}
	if !mayHaveATXHeading(src) || checkNesting(src) != nil {
		return ""
	}
	return firstTitle(p, []byte(src))
}

// Title implements [docket.Renderer]. It returns the title of src's front
// matter if it has a non-empty one, and otherwise [Title](src).
func (r *Renderer) Title(src string) string {
	if fm, _, err := SplitFrontMatter(src); err == nil && strings.TrimSpace(fm.Title) != "" {
		return collapseSpace(fm.Title)
	}
	return title(r.md.Parser(), src)
}

// Validate implements [docket.Renderer]: it checks that src is within the
// input limit, that its front matter, if any, is valid (see
// [SplitFrontMatter]) and that no line nests more than [MaxNesting] block
// quotes or lists. Returns ETOOLARGE or EINVALID.
func (r *Renderer) Validate(src string) error {
	if len(src) > r.maxIn {
		return r.inputTooLarge()
	}
	_, body, err := SplitFrontMatter(src)
	if err != nil {
		return err
	}
	return checkNesting(body)
}

// mayHaveATXHeading is a quick filter: it reports whether some line of src
// starts with up to three spaces, a run of "#" and a blank (or the end of
// the line), so that documents without one are not parsed at all.
func mayHaveATXHeading(src string) bool {
	for line := range strings.Lines(src) {
		line = strings.TrimLeft(line, " ")
		rest := strings.TrimLeft(line, "#")
		if len(rest) < len(line) && (rest == "" || strings.ContainsRune(" \t\r\n", rune(rest[0]))) {
			return true
		}
	}
	return false
}

// firstTitle parses src with p and returns the text of its first
// top-level, non-empty level-1 ATX heading, or else of its first top-level
// ATX heading of any level.
func firstTitle(p parser.Parser, src []byte) string {
	heads := headings(p, string(src))
	for _, h := range heads {
		if h.level == 1 {
			return h.text
		}
	}
	if len(heads) > 0 {
		return heads[0].text
	}
	return ""
}

// heading is a top-level ATX heading: its level and its plain text.
type heading struct {
	level int
	text  string
}

// headings parses src with p and returns its top-level, non-empty ATX
// headings in order; none if parsing panics or takes over titleBudget.
func headings(p parser.Parser, src string) (out []heading) {
	defer func() {
		if recover() != nil { // a goldmark panic or the budget spent
			out = nil
		}
	}()
	b := []byte(defuse(src)) // near-linear, as for Render
	pc := newWatchContext(context.Background(), titleBudget)
	doc := p.Parse(text.NewReader(b), parser.WithContext(pc))
	for n := doc.FirstChild(); n != nil; n = n.NextSibling() {
		h, ok := n.(*ast.Heading)
		if !ok || h.Lines().Len() == 0 || !isATX(b, h) {
			continue
		}
		if t := collapseSpace(plainText(b, h)); t != "" {
			out = append(out, heading{h.Level, t})
		}
	}
	return out
}

// isATX reports whether heading h was written in ATX style: its line
// starts, after up to three spaces, with "#".
func isATX(src []byte, h *ast.Heading) bool {
	seg := h.Lines().At(0)
	start := bytes.LastIndexByte(src[:seg.Start], '\n') + 1
	line := bytes.TrimLeft(src[start:seg.Start], " ")
	return len(line) > 0 && line[0] == '#'
}

// plainText returns the text of the inline nodes under n, without markup.
func plainText(src []byte, n ast.Node) string {
	var b strings.Builder
	var walk func(ast.Node)
	walk = func(n ast.Node) {
		for c := n.FirstChild(); c != nil; c = c.NextSibling() {
			switch c := c.(type) {
			case *ast.Text:
				b.WriteString(unescape(c.Segment.Value(src)))
				if c.SoftLineBreak() || c.HardLineBreak() {
					b.WriteByte(' ')
				}
			case *ast.String:
				b.Write(c.Value)
			case *ast.CodeSpan:
				for t := c.FirstChild(); t != nil; t = t.NextSibling() {
					if t, ok := t.(*ast.Text); ok {
						b.Write(t.Segment.Value(src))
					}
				}
			case *ast.AutoLink:
				b.Write(c.Label(src))
			case *ast.RawHTML:
				// Tags are not text.
			default:
				walk(c)
			}
		}
	}
	walk(n)
	return b.String()
}

// unescape resolves backslash escapes and entity references in markdown
// text, as goldmark does when it renders text.
func unescape(v []byte) string {
	var buf bytes.Buffer
	w := bufio.NewWriter(&buf)
	gmhtml.DefaultWriter.Write(w, v)
	_ = w.Flush()
	return html.UnescapeString(buf.String())
}

// collapseSpace trims s and turns every run of white space into one space.
func collapseSpace(s string) string {
	return strings.Join(strings.FieldsFunc(s, unicode.IsSpace), " ")
}
