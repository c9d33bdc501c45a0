package markdown

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"time"

	"github.com/docket-dev/docket"
	"github.com/microcosm-cc/bluemonday"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/renderer"
	"github.com/yuin/goldmark/util"
)

// DefaultMaxOutputBytes is the default cap on the HTML of one render.
const DefaultMaxOutputBytes = 8 << 20

// Options configures a [Renderer]. The zero value gives the defaults.
type Options struct {
	// MaxInputBytes is the largest markdown source accepted, front matter
	// included. Zero or less means [docket.MaxDocumentBytes].
	MaxInputBytes int
	// MaxOutputBytes is the largest HTML a render may produce. Zero or less
	// means [DefaultMaxOutputBytes].
	MaxOutputBytes int
	// MaxRenderTime bounds the time spent parsing one document, so that
	// input on which the markdown parser is super-linear cannot hold a CPU
	// for minutes. Zero or less means [DefaultMaxRenderTime].
	MaxRenderTime time.Duration
}

// Renderer renders markdown to sanitised HTML. It implements
// [docket.Renderer]. Build one with [New] and share it: it is safe for
// concurrent use, and building it (the markdown pipeline and the sanitiser
// policy) is the expensive part.
type Renderer struct {
	maxIn   int
	maxOut  int
	maxTime time.Duration
	md      goldmark.Markdown
	policy  *bluemonday.Policy
}

// Interface guards.
var _ docket.Renderer = (*Renderer)(nil)

// New returns a Renderer configured by opts.
func New(opts Options) *Renderer {
	if opts.MaxInputBytes <= 0 {
		opts.MaxInputBytes = docket.MaxDocumentBytes
	}
	if opts.MaxOutputBytes <= 0 {
		opts.MaxOutputBytes = DefaultMaxOutputBytes
	}
	if opts.MaxRenderTime <= 0 {
		opts.MaxRenderTime = DefaultMaxRenderTime
	}
	return &Renderer{
		maxIn:   opts.MaxInputBytes,
		maxOut:  opts.MaxOutputBytes,
		maxTime: opts.MaxRenderTime,
		md:      newGoldmark(),
		policy:  newPolicy(),
	}
}

// newGoldmark builds the markdown pipeline. Raw HTML stays off (no
// html.WithUnsafe): goldmark replaces it with a comment.
func newGoldmark() goldmark.Markdown {
	return goldmark.New(
		goldmark.WithParser(newParser(parser.DefaultInlineParsers()...)),
		goldmark.WithExtensions(
			extension.NewLinkify(extension.WithLinkifyAllowedProtocols([]string{
				"http:", "https:", "mailto:",
			})),
			guardedTable{},
			extension.Strikethrough,
			extension.TaskList,
			extension.NewFootnote(),
		),
		goldmark.WithParserOptions(
			parser.WithAutoHeadingID(),
			parser.WithASTTransformers(util.Prioritized(linkTransformer{}, 100)),
		),
		goldmark.WithRendererOptions(
			renderer.WithNodeRenderers(util.Prioritized(newCodeRenderer(), 100)),
		),
	)
}

// Render returns the sanitised HTML of the markdown document src. A leading
// front matter block is not part of the output. Returns ctx.Err() if ctx is
// done before or during parsing; ETOOLARGE when src is larger than
// MaxInputBytes, its front matter too large, the HTML larger than
// MaxOutputBytes or parsing takes longer than MaxRenderTime; EINVALID for
// invalid front matter (see [SplitFrontMatter]), a line nesting more than
// [MaxNesting] block quotes or lists, or a document the markdown library
// cannot handle.
func (r *Renderer) Render(ctx context.Context, src string) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	if len(src) > r.maxIn {
		return "", r.inputTooLarge()
	}
	_, body, err := SplitFrontMatter(src)
	if err != nil {
		return "", err
	}
	if err := checkNesting(body); err != nil {
		return "", err
	}
	// defuse escapes characters within lines, so lines stay where they are.
	fmLines := strings.Count(src[:len(src)-len(body)], "\n")
	body = defuse(body)
	var buf bytes.Buffer
	buf.Grow(min(2*len(body)+64, r.maxOut))
	pc := newWatchContext(ctx, r.maxTime)
	pc.Set(lineOffsetKey, fmLines)
	if err := r.convert([]byte(body), newRenderWriter(&buf, r.maxOut, pc), pc); err != nil {
		return "", err
	}
	if err := ctx.Err(); err != nil {
		return "", err
	}
	out := r.policy.SanitizeReader(&buf)
	if out.Len() > r.maxOut {
		return "", r.tooLarge()
	}
	return out.String(), nil
}

// convert runs goldmark with the parser context pc, turning a panic into
// an error.
func (r *Renderer) convert(src []byte, w *renderWriter, pc *watchContext) (err error) {
	defer func() {
		p := recover()
		if p == nil {
			return
		}
		switch a, _ := p.(abort); {
		case a.err == errTooComplex:
			err = docket.Errorf(docket.ETOOLARGE, "Document is too complex to render.")
		case a.err != nil:
			err = a.err // the caller's context is done
		default:
			err = docket.Errorf(docket.EINVALID, "Could not render the document.")
		}
	}()
	if err := r.md.Convert(src, w, parser.WithContext(pc)); err != nil {
		if errors.Is(err, errOutputTooLarge) {
			return r.tooLarge()
		}
		return docket.Errorf(docket.EINVALID, "Could not render the document.")
	}
	return nil
}

func (r *Renderer) inputTooLarge() error {
	return docket.Errorf(docket.ETOOLARGE, "Document is larger than %d bytes.", r.maxIn)
}

func (r *Renderer) tooLarge() error {
	return docket.Errorf(docket.ETOOLARGE, "Rendered document is larger than %d bytes.", r.maxOut)
}

// renderWriter is the writer goldmark renders one document into. It
// implements util.BufWriter, so goldmark uses it as is, which lets node
// renderers reach the state of the render through it.
type renderWriter struct {
	*bufio.Writer
	limit *limitWriter
	pc    *watchContext
	// highlightBlocks and highlightBytes count the code highlighted so far.
	highlightBlocks, highlightBytes int
}

// newRenderWriter returns a renderWriter that writes at most max bytes to
// w, for the render whose parser context is pc.
func newRenderWriter(w io.Writer, max int, pc *watchContext) *renderWriter {
	limit := &limitWriter{w: w, n: max}
	return &renderWriter{Writer: bufio.NewWriterSize(limit, 16<<10), limit: limit, pc: pc}
}

// full reports whether the output limit has been reached.
func (w *renderWriter) full() bool { return w.limit.n < 0 }

// errOutputTooLarge is returned by limitWriter once its budget is spent.
var errOutputTooLarge = errors.New("markdown: output too large")

// limitWriter writes to w until n bytes have been written, then fails every
// later write with errOutputTooLarge, so that goldmark's buffered writer
// stops copying output.
type limitWriter struct {
	w io.Writer
	n int
}

// Write implements io.Writer.
func (l *limitWriter) Write(p []byte) (int, error) {
	if len(p) > l.n {
		l.n = -1
		return 0, errOutputTooLarge
	}
	l.n -= len(p)
	return l.w.Write(p)
}
