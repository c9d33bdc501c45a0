package markdown

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/docket-dev/docket"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/parser"
)

// MaxNesting is the most block containers (block quotes and list items)
// one line may open. goldmark spends time quadratic in the number of
// containers on a line, so a line such as "> > > > …" a megabyte long would
// take minutes; real documents stay far below this.
const MaxNesting = 32

// DefaultMaxRenderTime is the default time budget of one render.
const DefaultMaxRenderTime = 3 * time.Second

// errTooComplex is the cause of an abort when the time budget is spent.
var errTooComplex = errors.New("markdown: render time budget spent")

// abort is the panic value a watchContext uses to stop goldmark.
type abort struct{ err error }

// watchContext is the parser context of one render. goldmark calls its
// methods all through parsing, including inside the loops that are
// super-linear on hostile input (nested containers, link destinations,
// delimiter runs), so it checks there that the caller's context is not
// done and the time budget not spent, and stops the parse with a panic
// (recovered by Renderer.convert) when it is. Nothing is shared between
// renders, so abandoning a parse halfway leaves no state behind.
type watchContext struct {
	parser.Context
	ctx      context.Context
	deadline time.Time
	n        uint
}

// newWatchContext returns a parser context that enforces ctx and budget.
func newWatchContext(ctx context.Context, budget time.Duration) *watchContext {
	return &watchContext{
		Context:  parser.NewContext(parser.WithIDs(newHeadingIDs())),
		ctx:      ctx,
		deadline: time.Now().Add(budget),
	}
}

// tick checks ctx and the deadline every 32 calls.
func (c *watchContext) tick() {
	c.n++
	if c.n%32 == 0 {
		c.check()
	}
}

// check stops the render if ctx is done or the deadline has passed.
func (c *watchContext) check() {
	if err := c.ctx.Err(); err != nil {
		panic(abort{err})
	}
	if time.Now().After(c.deadline) {
		panic(abort{errTooComplex})
	}
}

// Get implements parser.Context.
func (c *watchContext) Get(key parser.ContextKey) any {
	c.tick()
	return c.Context.Get(key)
}

// ComputeIfAbsent implements parser.Context.
func (c *watchContext) ComputeIfAbsent(key parser.ContextKey, f func() any) any {
	c.tick()
	return c.Context.ComputeIfAbsent(key, f)
}

// AddReference implements parser.Context.
func (c *watchContext) AddReference(ref parser.Reference) {
	c.tick()
	c.Context.AddReference(ref)
}

// Reference implements parser.Context.
func (c *watchContext) Reference(label string) (parser.Reference, bool) {
	c.tick()
	return c.Context.Reference(label)
}

// SetBlockOffset implements parser.Context.
func (c *watchContext) SetBlockOffset(v int) {
	c.tick()
	c.Context.SetBlockOffset(v)
}

// LastOpenedBlock implements parser.Context.
func (c *watchContext) LastOpenedBlock() parser.Block {
	c.tick()
	return c.Context.LastOpenedBlock()
}

// PushDelimiter implements parser.Context.
func (c *watchContext) PushDelimiter(d *parser.Delimiter) {
	c.tick()
	c.Context.PushDelimiter(d)
}

// RemoveDelimiter implements parser.Context.
func (c *watchContext) RemoveDelimiter(d *parser.Delimiter) {
	c.tick()
	c.Context.RemoveDelimiter(d)
}

// ClearDelimiters implements parser.Context.
func (c *watchContext) ClearDelimiters(bottom ast.Node) {
	c.tick()
	c.Context.ClearDelimiters(bottom)
}

// IsInLinkLabel implements parser.Context.
func (c *watchContext) IsInLinkLabel() bool {
	c.tick()
	return c.Context.IsInLinkLabel()
}

// checkNesting returns EINVALID if a line of src opens more than
// MaxNesting block containers.
func checkNesting(src string) error {
	for line := range strings.Lines(src) {
		if lineNesting(line) > MaxNesting {
			return docket.Errorf(docket.EINVALID,
				"Document nests more than %d block quotes or lists on one line.", MaxNesting)
		}
	}
	return nil
}

// lineNesting counts the block quote markers (">") and list markers ("-",
// "+", "*", "1." or "1)" followed by white space) at the start of line.
// It stops at a thematic break such as "- - -" or "* * *", which is not a
// list.
func lineNesting(line string) int {
	n := 0
	i := 0
	for {
		for i < len(line) && (line[i] == ' ' || line[i] == '\t') {
			i++
		}
		if i >= len(line) {
			return n
		}
		switch c := line[i]; {
		case c == '>':
			i++
		case c == '-' || c == '+' || c == '*':
			if !spaceAt(line, i+1) || (c != '+' && isThematicBreak(line[i:], c)) {
				return n
			}
			i++
		case c >= '0' && c <= '9':
			j := i
			for j < len(line) && j-i < 10 && line[j] >= '0' && line[j] <= '9' {
				j++
			}
			if j >= len(line) || (line[j] != '.' && line[j] != ')') || !spaceAt(line, j+1) {
				return n
			}
			i = j + 1
		default:
			return n
		}
		n++
		if n > MaxNesting {
			return n
		}
	}
}

// spaceAt reports whether line has white space or its end at i.
func spaceAt(line string, i int) bool {
	return i >= len(line) || line[i] == ' ' || line[i] == '\t' || line[i] == '\n' || line[i] == '\r'
}

// isThematicBreak reports whether s is made of c and white space only,
// with at least three c: a thematic break rather than list markers.
func isThematicBreak(s string, c byte) bool {
	count := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case c:
			count++
		case ' ', '\t', '\n', '\r':
		default:
			return false
		}
	}
	return count >= 3
}
