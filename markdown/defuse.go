package markdown

import (
	"math"
	"strings"

	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"
)

// goldmark's inline parser is quadratic on some runs of brackets: every
// "]" walks the text of the label it may close and copies it, and every
// "](" scans for the end of a link destination (to the end of a run
// without white space) and title (to the end of the paragraph) before it
// gives up. 120 KB of "[a](" took seconds; a megabyte of "[" then "]"
// allocated more than a gigabyte. defuse escapes, paragraph by paragraph,
// the brackets, delimiters and backticks that make this happen, past
// limits that real documents do not reach:
//
//   - an opening bracket when MaxOpenBrackets are already open in the
//     paragraph: it becomes "\[", plain text;
//   - a run of "*", "_" or "~" when the paragraph has had delimiterRuns
//     of them, except at the start of a line (a list item);
//   - the "(" of a "](" once the scans of the paragraph's earlier "]("
//     have cost more than linkScanBudget: it becomes "\(", so that the
//     "]" is not followed by a destination;
//   - a "]" closing a "[" once goldmark's searches for the lines of the
//     labels closed so far (from the paragraph's end back) add up to more
//     than 16 steps per byte: it becomes "\]";
//   - the backticks of a code span opener with no closer once the scans
//     for closers have cost more than linkScanBudget: they become "&#96;".
//
// What is escaped still shows as the same characters (except inside a
// code span of such a paragraph, where the backslash or reference shows). Fenced code
// blocks are left alone. The cost of defuse itself is linear.

// delimiterRuns returns how many runs of emphasis or strikethrough
// delimiters ("*", "_", "~") a paragraph of n bytes may have before more
// are escaped: goldmark looks for the opener of each closer through the
// runs before it, so runs² steps are allowed up to 64 per byte, and 256
// runs in any paragraph.
func delimiterRuns(n int) int {
	return max(256, int(math.Sqrt(64*float64(n))))
}

// MaxOpenBrackets is the most "[" that may be open (not yet closed by "]")
// at once in one paragraph before more are escaped.
const MaxOpenBrackets = 32

// linkScanBudget returns how many bytes goldmark may scan for the link
// destinations and titles of a paragraph of n bytes: a few times the
// paragraph, so that a paragraph of real links never reaches it.
func linkScanBudget(n int) int { return 4*n + 64<<10 }

// defuse returns src with the brackets escaped that would make goldmark
// super-linear, or src itself when there are none.
func defuse(src string) string {
	if !strings.ContainsAny(src, "[]*_~`") {
		return src
	}
	var b strings.Builder
	done := 0 // src[:done] is in b (once b is used)
	fence := ""
	start := -1 // start of the current paragraph, -1 outside one
	flush := func(end int) {
		if start < 0 {
			return
		}
		if esc := defuseParagraph(src[start:end]); esc != nil {
			if b.Len() == 0 {
				b.Grow(len(src) + len(src)/8)
			}
			b.WriteString(src[done:start])
			writeEscaped(&b, src[start:end], esc)
			done = end
		}
		start = -1
	}
	for i := 0; i < len(src); {
		end := strings.IndexByte(src[i:], '\n') + i + 1
		if end == i {
			end = len(src)
		}
		line := src[i:end]
		switch {
		case fence != "":
			if f := fenceOf(line); f != "" && f[0] == fence[0] && len(f) >= len(fence) && strings.TrimSpace(line[strings.Index(line, f)+len(f):]) == "" {
				fence = ""
			}
		case strings.TrimSpace(line) == "":
			flush(i)
		default:
			if f := fenceOf(line); f != "" {
				flush(i)
				fence = f
			} else if start < 0 {
				start = i
			} else if startsBlock(line) {
				flush(i)
				start = i
			}
		}
		i = end
	}
	flush(len(src))
	if b.Len() == 0 {
		return src
	}
	b.WriteString(src[done:])
	return b.String()
}

// fenceOf returns the code fence ("```" or "~~~", three or more) that line
// opens or closes, or "".
func fenceOf(line string) string {
	t := strings.TrimLeft(line, " ")
	if len(line)-len(t) > 3 || len(t) < 3 || (t[0] != '`' && t[0] != '~') {
		return ""
	}
	n := 0
	for n < len(t) && t[n] == t[0] {
		n++
	}
	if n < 3 {
		return ""
	}
	return t[:n]
}

// startsBlock reports whether line, indented by at most three spaces,
// is a heading or starts a list item with text, which ends the paragraph
// before it: goldmark parses its inlines apart. A block quote marker does
// not end a paragraph in a block quote, and an empty list item none.
func startsBlock(line string) bool {
	t := strings.TrimLeft(line, " ")
	if len(line)-len(t) > 3 || t == "" {
		return false
	}
	switch t[0] {
	case '#':
		n := 0
		for n < len(t) && n < 7 && t[n] == '#' {
			n++
		}
		return n <= 6 && spaceAt(t, n)
	case '-', '+', '*':
		return hasItemText(t, 1)
	case '1':
		return len(t) > 1 && (t[1] == '.' || t[1] == ')') && hasItemText(t, 2)
	}
	return false
}

// hasItemText reports whether a list marker ending before i in t is
// followed by a space and some text.
func hasItemText(t string, i int) bool {
	return i < len(t) && (t[i] == ' ' || t[i] == '\t') && strings.TrimSpace(t[i:]) != ""
}

// writeEscaped writes p to b with the bytes at the offsets in esc
// (ascending) neutralised: a backtick becomes the character reference
// "&#96;" (a backslash before it would leave a backtick that closes code
// spans), anything else gets a backslash before it.
func writeEscaped(b *strings.Builder, p string, esc []int) {
	last := 0
	for _, i := range esc {
		b.WriteString(p[last:i])
		if p[i] == '`' {
			b.WriteString("&#96;")
			last = i + 1
			continue
		}
		b.WriteByte('\\')
		last = i
	}
	b.WriteString(p[last:])
}

// defuseParagraph returns the offsets in p, ascending, of the bytes to
// neutralise (see writeEscaped), or nil.
func defuseParagraph(p string) []int {
	var esc, spans []int // spans: start and end of each code span
	if strings.IndexByte(p, '`') >= 0 {
		spans, esc = codeSpans(p)
	}
	open := 0
	links := 0
	runs, maxRuns := 0, delimiterRuns(len(p))
	lineStart := true
	// Every "]" that closes a "[" but not an inline link makes goldmark
	// look for the line of the label from the paragraph's last line back:
	// lineSteps counts those steps against lineBudget. Telling inline
	// links apart takes destinationEnds, only done where the closers
	// could reach the budget.
	lines := strings.Count(p, "\n") + 1
	line, lineSteps, lineBudget := 0, 0, 16*len(p)+1<<20
	var ends []int32
	if strings.Count(p, "]")*lines > lineBudget {
		ends = destinationEnds(p)
	}
	span := spans
	for i := 0; i < len(p); i++ {
		if end := skipSpan(&span, i); end > i { // what a code span holds opens nothing
			line += strings.Count(p[i:end], "\n")
			i = end - 1
			lineStart = false
			continue
		}
		first := lineStart
		lineStart = p[i] == '\n' || (lineStart && (p[i] == ' ' || p[i] == '>'))
		switch c := p[i]; c {
		case '\n':
			line++
		case '\\':
			if i+1 < len(p) && p[i+1] == '\n' {
				line++
			}
			i++
		case '*', '_', '~':
			j := i
			for j+1 < len(p) && p[j+1] == c {
				j++
			}
			if !(first && spaceAt(p, j+1)) {
				if runs >= maxRuns {
					esc = append(esc, i)
				}
				runs++
			}
			i = j
		case '[':
			if open >= MaxOpenBrackets {
				esc = append(esc, i)
			} else {
				open++
			}
		case ']':
			if open > 0 {
				if !inlineLink(p, i, ends) {
					if lineSteps += lines - line; lineSteps > lineBudget {
						esc = append(esc, i)
						break
					}
				}
				open--
			}
			if i+1 < len(p) && p[i+1] == '(' {
				links++
			}
		}
	}
	// Each "](" scans at most the rest of the paragraph: only a paragraph
	// where that could add up to more than the budget is looked at.
	if links > 0 && links*len(p) > linkScanBudget(len(p)) {
		esc = mergeSorted(esc, linkEscapes(p, spans))
	}
	return esc
}

// inlineLink reports whether the "]" at i is followed by an inline link's
// destination in parentheses (without a title), by the destination ends
// of p (false if ends is nil).
func inlineLink(p string, i int, ends []int32) bool {
	if ends == nil || i+2 >= len(p) || p[i+1] != '(' {
		return false
	}
	e := ends[i+2]
	return int(e) < len(p) && p[e] == ')'
}

// codeSpans returns where the code spans of p start and end (pairs of
// offsets, ascending), and the offsets of the backticks of openers
// without a closer that goldmark would scan past the paragraph's link
// scan budget for: it looks for a closing run of as many backticks up to
// the end of the paragraph, so each such opener costs the rest of it.
// This follows goldmark: an opener preceded by a backslash loses its
// first backtick, closers are any run, and what a code span holds opens
// nothing; where goldmark might not open one, none is opened.
func codeSpans(p string) (spans, esc []int) {
	type run struct {
		start, n int
		opens    bool
	}
	var all []run
	byLen := map[int][]int{} // run length -> starts, ascending
	// A run after a "<" not yet closed by ">" may be in raw HTML or an
	// autolink, one after "](" before white space or ")" in a link
	// destination: goldmark opens no code span there. Such a run is not
	// taken for an opener, so that a paragraph cannot hide text from
	// defuse in what only looks like a code span.
	tag, dest := false, false
	for i := 0; i < len(p); i++ {
		switch c := p[i]; {
		case c == '<':
			tag = true
		case c == '>':
			tag = false
		case c == ']' && i+1 < len(p) && p[i+1] == '(':
			dest = true
		case c == ')' || isSpace(c):
			dest = false
		}
		if p[i] != '`' {
			continue
		}
		j := i
		for j < len(p) && p[j] == '`' {
			j++
		}
		all = append(all, run{i, j - i, !tag && !dest})
		byLen[j-i] = append(byLen[j-i], i)
		i = j - 1
	}
	budget := linkScanBudget(len(p))
	check := len(all)*len(p) > budget // else the budget cannot run out
	resume := 0                       // the end of the last code span
	for _, r := range all {
		s, n := r.start, r.n
		if s < resume {
			continue
		}
		if s > 0 && p[s-1] == '\\' {
			s, n = s+1, n-1
		}
		if n == 0 {
			continue
		}
		closers := byLen[n]
		for len(closers) > 0 && closers[0] <= s {
			closers = closers[1:]
		}
		byLen[n] = closers
		// A run that opens no span here still costs its scan if goldmark
		// does open one.
		if len(closers) > 0 {
			budget -= closers[0] - s
			if r.opens {
				resume = closers[0] + n
				spans = append(spans, s, resume)
			}
			continue
		}
		if cost := len(p) - s; !check || cost <= budget {
			budget -= cost
			continue
		}
		for k := s; k < s+n; k++ {
			esc = append(esc, k)
		}
	}
	return spans, esc
}

// skipSpan returns the end of the code span of spans (start and end
// pairs, ascending) that starts at i, or i. It drops the spans before i
// from *spans: offsets must be asked in ascending order.
func skipSpan(spans *[]int, i int) int {
	for len(*spans) > 0 && (*spans)[0] < i {
		*spans = (*spans)[2:]
	}
	if len(*spans) > 0 && (*spans)[0] == i {
		return (*spans)[1]
	}
	return i
}

// linkEscapes returns the offsets of the "(" of the "](" in p, outside
// the code spans, whose scans would take the paragraph over its link scan
// budget.
func linkEscapes(p string, spans []int) []int {
	ends := destinationEnds(p)
	closers := nextClosers(p)
	budget := linkScanBudget(len(p))
	var esc []int
	for i := 0; i+1 < len(p); i++ {
		if end := skipSpan(&spans, i); end > i {
			i = end - 1
			continue
		}
		if p[i] == '\\' {
			i++
			continue
		}
		if p[i] != ']' || p[i+1] != '(' {
			continue
		}
		cost := linkScanCost(p, i+2, ends, closers)
		if cost > budget {
			esc = append(esc, i+1)
			continue
		}
		budget -= cost
	}
	return esc
}

// linkScanCost returns how many bytes goldmark scans for the destination
// and title of a link whose "(" ends before s: the destination (to its
// closing ">" or the end of the line when it starts with "<", else to
// white space or an unbalanced ")"), and from the title's opening quote or
// parenthesis to its closer.
func linkScanCost(p string, s int, ends []int32, closers *[4][]int32) int {
	i := s
	for i < len(p) && isSpace(p[i]) {
		i++
	}
	if i >= len(p) {
		return i - s
	}
	var end int
	if p[i] == '<' {
		end = int(closers[3][i])
	} else {
		end = int(ends[i])
	}
	j := end
	for j < len(p) && isSpace(p[j]) {
		j++
	}
	cost := j - s
	if j < len(p) {
		if k := strings.IndexByte(`"')`, titleCloser(p[j])); k >= 0 {
			cost += int(closers[k][min(j+1, len(p))]) - j
		}
	}
	return cost
}

// titleCloser returns the byte that closes a link title opened by c, or 0.
func titleCloser(c byte) byte {
	switch c {
	case '"', '\'':
		return c
	case '(':
		return ')'
	}
	return 0
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

// destinationEnds returns, for each offset i of p, where a link
// destination starting at i ends: at the first white space or at the first
// ")" that closes more parentheses than were opened since i. It works from
// the end of p with the depth of parentheses so far, in linear time.
func destinationEnds(p string) []int32 {
	n := len(p)
	depth := make([]int32, n+1) // depth[i]: "(" minus ")" in p[:i]
	for i := 0; i < n; i++ {
		depth[i+1] = depth[i]
		switch p[i] {
		case '\\':
			if i+1 < n {
				depth[i+2] = depth[i]
				i++
			}
		case '(':
			depth[i+1]++
		case ')':
			depth[i+1]--
		}
	}
	// at[d+n] is the smallest offset seen so far of a ")" after which the
	// depth is d.
	at := make([]int32, 2*n+2)
	for i := range at {
		at[i] = int32(n)
	}
	ends := make([]int32, n+1)
	ends[n] = int32(n)
	for i := n - 1; i >= 0; i-- {
		if p[i] == ')' && (i == 0 || p[i-1] != '\\') {
			at[int(depth[i+1])+n] = int32(i)
		}
		ends[i] = ends[i+1]
		if isSpace(p[i]) {
			ends[i] = int32(i)
		}
		ends[i] = min(ends[i], at[int(depth[i])-1+n])
	}
	return ends
}

// closerSets are the bytes that end the scans of linkScanCost: a title
// opened by '"', '\” or '(', and a destination opened by '<'.
var closerSets = [4]string{`"`, `'`, `)`, ">\n"}

// nextClosers returns, for each of closerSets, the offset at or after each
// offset of p of the next byte of the set (len(p) if none).
func nextClosers(p string) *[4][]int32 {
	var next [4][]int32
	for k, set := range closerSets {
		next[k] = make([]int32, len(p)+1)
		next[k][len(p)] = int32(len(p))
		for i := len(p) - 1; i >= 0; i-- {
			next[k][i] = next[k][i+1]
			if strings.IndexByte(set, p[i]) >= 0 {
				next[k][i] = int32(i)
			}
		}
	}
	return &next
}

// mergeSorted merges two ascending slices.
func mergeSorted(a, b []int) []int {
	if len(a) == 0 {
		return b
	}
	out := make([]int, 0, len(a)+len(b))
	for len(a) > 0 && len(b) > 0 {
		if a[0] <= b[0] {
			out, a = append(out, a[0]), a[1:]
		} else {
			out, b = append(out, b[0]), b[1:]
		}
	}
	return append(append(out, a...), b...)
}

// refChunk is how many lines of a paragraph chunkedRefs hands to
// goldmark's link reference definition parser at once.
const refChunk = 64

// chunkedRefs wraps goldmark's link reference definition transformer,
// which copies the rest of a paragraph's lines for every definition it
// takes out: 60,000 definitions in a row took seconds. It hands a long
// paragraph to it refChunk lines at a time, in a paragraph of its own,
// until one takes no definition.
type chunkedRefs struct{ parser.ParagraphTransformer }

// Transform implements parser.ParagraphTransformer.
func (t chunkedRefs) Transform(node *ast.Paragraph, reader text.Reader, pc parser.Context) {
	lines := node.Lines()
	if lines.Len() <= refChunk {
		t.ParagraphTransformer.Transform(node, reader, pc)
		return
	}
	rest := lines.Sliced(0, lines.Len())
	first := true
	for len(rest) > 0 {
		n := min(refChunk, len(rest))
		chunk := ast.NewParagraph()
		chunk.Lines().AppendAll(rest[:n])
		chunk.SetBlankPreviousLines(first && node.HasBlankPreviousLines())
		node.Parent().InsertBefore(node.Parent(), node, chunk)
		t.ParagraphTransformer.Transform(chunk, reader, pc)
		left := 0
		if chunk.Parent() != nil {
			left = chunk.Lines().Len()
			chunk.Parent().RemoveChild(chunk.Parent(), chunk)
		}
		if left == n {
			break
		}
		rest = rest[n-left:]
		first = false
	}
	if len(rest) == 0 {
		node.Parent().RemoveChild(node.Parent(), node)
		return
	}
	var kept text.Segments
	kept.AppendAll(rest)
	node.SetLines(&kept)
}

// newParser returns goldmark's default parser with chunkedRefs in place
// of its link reference definition transformer and the inline parsers
// given (extensions add theirs).
func newParser(inlines ...util.PrioritizedValue) parser.Parser {
	var pts []util.PrioritizedValue
	for _, v := range parser.DefaultParagraphTransformers() {
		if v.Value == parser.LinkReferenceParagraphTransformer {
			v.Value = chunkedRefs{parser.LinkReferenceParagraphTransformer}
		}
		pts = append(pts, v)
	}
	return parser.NewParser(
		parser.WithBlockParsers(parser.DefaultBlockParsers()...),
		parser.WithInlineParsers(inlines...),
		parser.WithParagraphTransformers(pts...),
	)
}
