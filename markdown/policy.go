package markdown

import (
	"regexp"
	"slices"
	"strings"

	"github.com/alecthomas/chroma/v2"
	"github.com/microcosm-cc/bluemonday"
)

// newPolicy returns the sanitiser policy applied to every render, last.
//
// It starts from bluemonday's UGCPolicy, which allows the elements of user
// written text (paragraphs, headings, lists, tables, links, images, code,
// emphasis, del, sup...) but no script, style, iframe, embed, object, form
// or input, and no style or on* attributes; URLs must parse and be
// relative or http, https or mailto, and links get rel="nofollow". On top
// of that it allows only what the markdown renderer itself produces:
//
//   - class on the code-highlighting elements: span with chroma's token
//     classes, pre with "chroma", code with "language-…";
//   - the footnote markup: class footnote-ref/footnote-backref and the
//     doc-noteref/doc-backlink roles on a, class "footnotes" and the
//     doc-endnotes role on div, id fnref:N on sup and fn:N on li;
//   - ids on headings;
//   - task lists: class contains-task-list on ul/ol, task-list-item on li,
//     data-task-line (a line number) on li, and input limited to
//     type="checkbox" with checked and disabled;
//   - start on ol, and rel="nofollow noopener noreferrer" on links
//     (rel="noreferrer" is also enforced).
func newPolicy() *bluemonday.Policy {
	p := bluemonday.UGCPolicy()
	p.RequireNoFollowOnLinks(true)
	p.RequireNoReferrerOnLinks(true)
	p.AllowAttrs("rel").Matching(regexp.MustCompile(`^` + linkRel + `$`)).OnElements("a")

	// Code blocks.
	p.AllowAttrs("class").Matching(chromaClasses()).OnElements("span")
	p.AllowAttrs("class").Matching(regexp.MustCompile(`^chroma$`)).OnElements("pre")
	p.AllowAttrs("tabindex").Matching(regexp.MustCompile(`^0$`)).OnElements("pre")
	p.AllowAttrs("class").Matching(regexp.MustCompile(`^language-[\p{L}\p{N}_+#.-]{1,64}$`)).OnElements("code")

	// Headings.
	p.AllowAttrs("id").Matching(regexp.MustCompile(`^[\p{L}\p{N}_-]{1,256}$`)).
		OnElements("h1", "h2", "h3", "h4", "h5", "h6")

	// Footnotes.
	p.AllowAttrs("id").Matching(regexp.MustCompile(`^fnref[0-9]*:[0-9]+$`)).OnElements("sup")
	p.AllowAttrs("id").Matching(regexp.MustCompile(`^fn:[0-9]+$`)).OnElements("li")
	p.AllowAttrs("class").Matching(regexp.MustCompile(`^footnote-(ref|backref)$`)).OnElements("a")
	p.AllowAttrs("role").Matching(regexp.MustCompile(`^doc-(noteref|backlink)$`)).OnElements("a")
	p.AllowAttrs("class").Matching(regexp.MustCompile(`^footnotes$`)).OnElements("div")
	p.AllowAttrs("role").Matching(regexp.MustCompile(`^doc-endnotes$`)).OnElements("div")

	// Task lists.
	p.AllowAttrs("class").Matching(regexp.MustCompile(`^`+taskListClass+`$`)).OnElements("ul", "ol")
	p.AllowAttrs("class").Matching(regexp.MustCompile(`^` + taskListItemClass + `$`)).OnElements("li")
	p.AllowAttrs(taskLineAttr).Matching(regexp.MustCompile(`^[1-9][0-9]{0,8}$`)).OnElements("li")
	p.AllowAttrs("type").Matching(regexp.MustCompile(`^checkbox$`)).OnElements("input")
	p.AllowAttrs("checked", "disabled").Matching(regexp.MustCompile(`^$`)).OnElements("input")

	// Ordered lists that do not start at 1.
	p.AllowAttrs("start").Matching(bluemonday.Integer).OnElements("ol")
	return p
}

// chromaClasses matches a class attribute made of chroma's token classes.
func chromaClasses() *regexp.Regexp {
	var names []string
	for _, c := range chroma.StandardTypes {
		if c != "" {
			names = append(names, regexp.QuoteMeta(c))
		}
	}
	slices.Sort(names)
	names = slices.Compact(names)
	one := `(?:` + strings.Join(names, "|") + `)`
	return regexp.MustCompile(`^` + one + `(?: ` + one + `)*$`)
}
