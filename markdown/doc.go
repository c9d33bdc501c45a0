// Package markdown turns Docket documents into safe HTML.
//
// A [Renderer] parses GitHub Flavored Markdown (tables, task lists,
// strikethrough, autolinks) plus footnotes with goldmark, gives headings
// ids, highlights fenced code with chroma (CSS classes only, never inline
// styles) and passes the result through a bluemonday allowlist as the very
// last step. Raw HTML in the source is never passed through: goldmark
// replaces it with a comment that the sanitiser then drops. Diagram fences
// (mermaid, graphviz, dot) are emitted as escaped text in
// <pre><code class="language-…"> for a sandboxed client-side renderer.
//
// Every render is bounded: the input is capped at [Options.MaxInputBytes],
// the HTML at [Options.MaxOutputBytes] and the parse at
// [Options.MaxRenderTime] (all answer with a [docket.ETOOLARGE] error); a
// line opening more than [MaxNesting] block quotes or lists is refused
// with [docket.EINVALID]; sparse tables that would multiply into millions
// of empty cells are left as paragraphs; highlighting stops after a few
// hundred blocks; and a panic inside the markdown library becomes a
// [docket.EINVALID] error instead of taking the server down. goldmark is
// super-linear on some inputs (nested brackets, runs of link destinations
// and code span openers, mixed emphasis delimiters, long runs of link
// reference definitions): before parsing, the body is defused, paragraph
// by paragraph, escaping the few characters past limits that real
// documents do not reach ([MaxOpenBrackets], counts and scan budgets;
// see defuse.go), so that rendering stays near-linear in time
// and memory; the time budget is the last resort.
//
// Documents may start with a YAML front matter block, which [SplitFrontMatter]
// separates from the body and parses into a [FrontMatter]. YAML anchors and
// aliases are refused outright, so an alias bomb costs nothing.
// [CheckFrontMatter] validates a document on write, and [Title] finds the
// text of a document's first level-1 heading.
//
// [Minutes] writes the minutes of a document ([docket.MinutesData]) as a
// markdown document, escaping every piece of user text so that it cannot
// add structure. [ActionItems], [Mentions] and [Minutes] are handed to the
// bolt services as functions by cmd/docket: bolt never imports this
// package.
package markdown
