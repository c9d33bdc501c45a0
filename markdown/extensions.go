package markdown

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"unicode"

	chromahtml "github.com/alecthomas/chroma/v2/formatters/html"
	"github.com/alecthomas/chroma/v2/lexers"
	"github.com/yuin/goldmark"
	highlighting "github.com/yuin/goldmark-highlighting/v2"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	extast "github.com/yuin/goldmark/extension/ast"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/renderer"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"
)

// linkRel is the rel attribute of every link in rendered documents.
const linkRel = "nofollow noopener noreferrer"

// Classes the renderer puts on task lists, in the style of GitHub, and the
// attribute of a task list item that holds the 1-based line of its
// checkbox in the document's source (front matter counted), the line a
// click on the checkbox ticks.
const (
	taskListClass     = "contains-task-list"
	taskListItemClass = "task-list-item"
	taskLineAttr      = "data-task-line"
)

// lineOffsetKey holds, in the parser context of a render, how many lines
// of the source come before the text parsed (the front matter's).
var lineOffsetKey = parser.NewContextKey()

// linkTransformer is an AST transformer that gives links rel=linkRel and
// marks task lists and their items with classes and source lines.
type linkTransformer struct{}

// Transform implements parser.ASTTransformer.
func (linkTransformer) Transform(doc *ast.Document, reader text.Reader, pc parser.Context) {
	rel := []byte(linkRel)
	var lines lineIndex // built at the first checkbox
	offset, _ := pc.Get(lineOffsetKey).(int)
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch n := n.(type) {
		case *ast.Link, *ast.AutoLink:
			n.SetAttributeString("rel", rel)
		case *extast.TaskCheckBox:
			// ListItem > TextBlock or Paragraph > TaskCheckBox
			if p := n.Parent(); p == nil {
				break
			} else if item, ok := p.Parent().(*ast.ListItem); ok && item.Parent() != nil {
				item.SetAttributeString("class", []byte(taskListItemClass))
				item.Parent().SetAttributeString("class", []byte(taskListClass))
				if p.Lines().Len() > 0 {
					if lines == nil {
						lines = newLineIndex(string(reader.Source()))
					}
					line := offset + lines.line(p.Lines().At(0).Start)
					item.SetAttributeString(taskLineAttr, []byte(strconv.Itoa(line)))
				}
			}
		}
		return ast.WalkContinue, nil
	})
}

// guardedTable is the GFM table extension with a guard against inputs
// that multiply into a huge tree. GFM pads every table row with empty cells
// up to the width of the header, so a header of 100,000 columns followed
// by 100,000 one-character lines would build 10^10 cells from 600 KB of
// text. The guard leaves a paragraph alone (as plain text) when the table
// it could become would have more than about two cells per byte of source;
// real tables, whose cells are separated by pipes, never do. Cells are
// aligned with the align attribute, never with style.
type guardedTable struct{}

// Extend implements goldmark.Extender, registering the parts of
// extension.Table with the table paragraph transformer wrapped.
func (guardedTable) Extend(m goldmark.Markdown) {
	m.Parser().AddOptions(
		parser.WithParagraphTransformers(
			util.Prioritized(tableGuard{extension.NewTableParagraphTransformer()}, 200),
		),
		parser.WithASTTransformers(
			util.Prioritized(extension.NewTableASTTransformer(), 0),
		),
	)
	m.Renderer().AddOptions(renderer.WithNodeRenderers(
		util.Prioritized(extension.NewTableHTMLRenderer(
			extension.WithTableCellAlignMethod(extension.TableCellAlignAttribute),
		), 500),
	))
}

// tableGuard runs the table paragraph transformer only on paragraphs that
// pass the density check of guardedTable.
type tableGuard struct {
	table parser.ParagraphTransformer
}

// Transform implements parser.ParagraphTransformer.
func (g tableGuard) Transform(node *ast.Paragraph, reader text.Reader, pc parser.Context) {
	lines := node.Lines()
	if lines.Len() < 2 {
		return
	}
	source := reader.Source()
	size, cols := 0, 0
	for i := 0; i < lines.Len(); i++ {
		seg := lines.At(i)
		v := seg.Value(source)
		size += len(v)
		cols = max(cols, bytes.Count(v, []byte{'|'})+1)
	}
	// cols bounds the width of any table in the paragraph, lines.Len() its
	// height.
	if cols*lines.Len() > 2*size+16 {
		return
	}
	g.table.Transform(node, reader, pc)
}

// diagramLanguages are fence languages drawn by a client-side renderer.
// They are never highlighted, so the browser gets their exact text.
var diagramLanguages = map[string]bool{
	"mermaid":  true,
	"graphviz": true,
	"dot":      true,
}

// Limits on highlighting. Lexing is far slower than parsing markdown,
// some lexers backtrack, and each highlighted block costs chroma some
// 100µs of set-up, so past these limits code is shown as plain text.
const (
	// maxHighlightBlockBytes is the largest code block highlighted.
	maxHighlightBlockBytes = 64 << 10
	// maxHighlightBytes is the most code highlighted in one document.
	maxHighlightBytes = 512 << 10
	// maxHighlightBlocks is the most code blocks highlighted in one
	// document.
	maxHighlightBlocks = 500
)

// codeRenderer renders fenced code blocks: diagram fences, fences in
// languages chroma does not know and very large blocks as escaped text in
// <pre><code class="language-…">, the rest highlighted by
// goldmark-highlighting with chroma's CSS classes.
type codeRenderer struct {
	highlight renderer.NodeRendererFunc
	// languages holds the lower-cased names and aliases of chroma's
	// lexers. Only these are highlighted: for any other name chroma tries
	// every lexer's file name patterns, some 25ms a fence.
	languages map[string]bool
}

// newCodeRenderer returns a codeRenderer around goldmark-highlighting.
func newCodeRenderer() *codeRenderer {
	hl := highlighting.NewHTMLRenderer(
		highlighting.WithGuessLanguage(false),
		highlighting.WithFormatOptions(chromahtml.WithClasses(true)),
		highlighting.WithCodeBlockOptions(func(c highlighting.CodeBlockContext) []chromahtml.Option {
			lang, _ := c.Language()
			return []chromahtml.Option{chromahtml.WithPreWrapper(codeWrapper(lang))}
		}),
	)
	var fr funcRecorder
	hl.RegisterFuncs(&fr)
	if fr.fn == nil {
		panic("markdown: goldmark-highlighting registers no fenced code renderer")
	}
	languages := make(map[string]bool)
	for _, l := range lexers.GlobalLexerRegistry.Lexers {
		cfg := l.Config()
		languages[strings.ToLower(cfg.Name)] = true
		for _, a := range cfg.Aliases {
			languages[strings.ToLower(a)] = true
		}
	}
	return &codeRenderer{highlight: fr.fn, languages: languages}
}

// funcRecorder captures the fenced code renderer of another NodeRenderer.
type funcRecorder struct {
	fn renderer.NodeRendererFunc
}

// Register implements renderer.NodeRendererFuncRegisterer.
func (r *funcRecorder) Register(kind ast.NodeKind, fn renderer.NodeRendererFunc) {
	if kind == ast.KindFencedCodeBlock {
		r.fn = fn
	}
}

// RegisterFuncs implements renderer.NodeRenderer.
func (c *codeRenderer) RegisterFuncs(reg renderer.NodeRendererFuncRegisterer) {
	reg.Register(ast.KindFencedCodeBlock, c.render)
}

func (c *codeRenderer) render(w util.BufWriter, source []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
	if !entering {
		return ast.WalkContinue, nil
	}
	n := node.(*ast.FencedCodeBlock)
	lang := strings.ToLower(string(n.Language(source)))
	size := 0
	for i := 0; i < n.Lines().Len(); i++ {
		seg := n.Lines().At(i)
		size += seg.Len()
	}
	highlight := c.languages[lang] && !diagramLanguages[lang] && size <= maxHighlightBlockBytes
	if rw, ok := w.(*renderWriter); ok {
		if rw.full() {
			return ast.WalkContinue, nil // the render has failed already
		}
		rw.pc.check()
		highlight = highlight && rw.highlightBlocks < maxHighlightBlocks &&
			rw.highlightBytes+size <= maxHighlightBytes
		if highlight {
			rw.highlightBlocks++
			rw.highlightBytes += size
		}
	}
	if !highlight {
		writePlainCode(w, source, n, lang)
		return ast.WalkContinue, nil
	}
	// Hand goldmark-highlighting a copy of the block whose info string is
	// just the language, so that attribute syntax such as
	// {linenos=table hl_style=…} never reaches chroma.
	start := n.Info.Segment.Start
	clean := ast.NewFencedCodeBlock(ast.NewTextSegment(text.NewSegment(start, start+len(n.Language(source)))))
	clean.SetLines(n.Lines())
	return c.highlight(w, source, clean, true)
}

// writePlainCode writes a code block as escaped text.
func writePlainCode(w util.BufWriter, source []byte, n *ast.FencedCodeBlock, lang string) {
	_, _ = w.WriteString("<pre><code")
	if lang != "" {
		_, _ = w.WriteString(` class="language-`)
		_, _ = w.Write(util.EscapeHTML([]byte(lang)))
		_ = w.WriteByte('"')
	}
	_ = w.WriteByte('>')
	for i := 0; i < n.Lines().Len(); i++ {
		line := n.Lines().At(i)
		_, _ = w.Write(util.EscapeHTML(line.Value(source)))
	}
	_, _ = w.WriteString("</code></pre>\n")
}

// codeWrapper returns chroma's <pre> wrapper for a highlighted block in
// lang: <pre class="chroma"><code class="language-lang">.
func codeWrapper(lang []byte) chromahtml.PreWrapper {
	return preWrapper{lang: strings.ToLower(string(lang))}
}

// preWrapper implements chromahtml.PreWrapper.
type preWrapper struct {
	lang string
}

// Start implements chromahtml.PreWrapper.
func (p preWrapper) Start(code bool, styleAttr string) string {
	if !code {
		return fmt.Sprintf("<pre%s>", styleAttr)
	}
	return fmt.Sprintf(`<pre%s><code class="language-%s">`, styleAttr, util.EscapeHTML([]byte(p.lang)))
}

// End implements chromahtml.PreWrapper.
func (p preWrapper) End(code bool) string {
	if !code {
		return "</pre>"
	}
	return "</code></pre>\n"
}

// maxHeadingIDRunes is the longest heading id generated, in characters.
const maxHeadingIDRunes = 100

// headingIDs generates heading ids in the style of GitHub: the heading's
// text lower-cased, with letters and digits of any script, "-" and "_"
// kept, white space turned into "-" and everything else dropped; repeats
// get "-1", "-2"... It implements parser.IDs for one document.
type headingIDs struct {
	used map[string]bool
	next map[string]int // last suffix tried for a base id
}

// newHeadingIDs returns an empty headingIDs.
func newHeadingIDs() *headingIDs {
	return &headingIDs{used: make(map[string]bool), next: make(map[string]int)}
}

// Generate implements parser.IDs.
func (s *headingIDs) Generate(value []byte, kind ast.NodeKind) []byte {
	var b strings.Builder
	n := 0
	for _, r := range strings.ToLower(string(bytes.TrimSpace(value))) {
		if n == maxHeadingIDRunes {
			break
		}
		switch {
		case unicode.IsLetter(r) || unicode.IsNumber(r) || r == '-' || r == '_':
			b.WriteRune(r)
		case unicode.IsSpace(r):
			b.WriteByte('-')
		default:
			continue
		}
		n++
	}
	base := b.String()
	if base == "" {
		base = "heading"
		if kind != ast.KindHeading {
			base = "id"
		}
	}
	if !s.used[base] {
		s.used[base] = true
		return []byte(base)
	}
	for i := s.next[base] + 1; ; i++ {
		id := base + "-" + strconv.Itoa(i)
		if !s.used[id] {
			s.used[id] = true
			s.next[base] = i
			return []byte(id)
		}
	}
}

// Put implements parser.IDs.
func (s *headingIDs) Put(value []byte) {
	s.used[string(value)] = true
}
