package markdown

import (
	"strings"

	"github.com/docket-dev/docket"
	"go.yaml.in/yaml/v3"
)

// MaxFrontMatterBytes is the largest front matter block accepted, counted
// from the line after the opening "---" to the closing "---".
const MaxFrontMatterBytes = 64 << 10

// FrontMatter is the metadata a document may declare in a leading YAML
// block delimited by "---" lines:
//
//	---
//	title: Type parameters
//	tags: [generics, language]
//	status: draft
//	---
type FrontMatter struct {
	// Title is the value of the "title" key.
	Title string
	// Tags is the value of the "tags" key: a YAML sequence of scalars, or a
	// single comma-separated scalar. It is nil when the key is absent. The
	// tags are returned as written; callers clean them with
	// [docket.CleanTags].
	Tags []string
	// Extra holds every other top-level key whose value is a scalar (a null
	// value is ""). Keys with sequence or mapping values are ignored. It is
	// nil when there are no such keys.
	Extra map[string]string
}

// SplitFrontMatter separates a leading YAML front matter block from the
// markdown body that follows it. The block starts at the first line, which
// must be "---" (optionally preceded by a UTF-8 byte order mark), and ends
// at the next "---" line; lines may end in "\n" or "\r\n". When src has no
// such block, fm is empty and body is src unchanged.
//
// YAML anchors and aliases are rejected before anything is decoded, so an
// alias bomb ("billion laughs") fails at once without allocating. Returns
// ETOOLARGE when the block is larger than [MaxFrontMatterBytes] and EINVALID
// when it is not valid YAML, not a mapping, uses anchors or aliases, repeats
// a key, or has a title or tags of the wrong shape.
func SplitFrontMatter(src string) (fm FrontMatter, body string, err error) {
	block, body, found, tooLarge := locateFrontMatter(src)
	if !found {
		return FrontMatter{}, src, nil
	}
	if tooLarge {
		return FrontMatter{}, "", docket.Errorf(docket.ETOOLARGE,
			"Front matter is larger than %d bytes.", MaxFrontMatterBytes)
	}
	fm, err = parseFrontMatter(block)
	if err != nil {
		return FrontMatter{}, "", err
	}
	return fm, body, nil
}

// CheckFrontMatter validates the front matter of a document, if it has one,
// and returns the error [SplitFrontMatter] would return, or nil. It is
// meant for document writes, so that a document whose front matter cannot
// be rendered is refused when it is saved.
func CheckFrontMatter(src string) error {
	_, _, err := SplitFrontMatter(src)
	return err
}

// locateFrontMatter finds the front matter block at the start of src
// without parsing it. found reports whether src starts with a complete
// block; block is its YAML text and body what follows the closing line.
// tooLarge reports that the block exceeds MaxFrontMatterBytes.
func locateFrontMatter(src string) (block, body string, found, tooLarge bool) {
	s := strings.TrimPrefix(src, "\uFEFF")
	first, rest, ok := cutLine(s)
	if !ok || !isDelimiter(first) {
		return "", "", false, false
	}
	for off := 0; ; {
		line, next, ok := cutLine(rest[off:])
		if isDelimiter(line) {
			block = rest[:off]
			return block, next, true, len(block) > MaxFrontMatterBytes
		}
		if !ok {
			// No closing delimiter: the leading "---" is a thematic break.
			return "", "", false, false
		}
		off = len(rest) - len(next)
	}
}

// cutLine returns the first line of s without its line ending, and the
// rest after it. ok is false when s has no line ending.
func cutLine(s string) (line, rest string, ok bool) {
	line, rest, ok = strings.Cut(s, "\n")
	return strings.TrimSuffix(line, "\r"), rest, ok
}

// isDelimiter reports whether line is a front matter delimiter, "---"
// followed by nothing but spaces or tabs.
func isDelimiter(line string) bool {
	return strings.TrimRight(line, " \t") == "---"
}

// frontMatterError returns an EINVALID error about the front matter.
func frontMatterError(format string, args ...any) error {
	return docket.Errorf(docket.EINVALID, "Front matter: "+format, args...)
}

// parseFrontMatter decodes the YAML text of a front matter block. It goes
// through yaml.Node so that anchors and aliases can be refused before any
// alias is expanded.
func parseFrontMatter(text string) (fm FrontMatter, err error) {
	defer func() {
		// The YAML library has panicked on hostile input before; never let
		// that reach the caller.
		if p := recover(); p != nil {
			fm, err = FrontMatter{}, frontMatterError("invalid YAML.")
		}
	}()
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(text), &doc); err != nil {
		msg := strings.TrimPrefix(err.Error(), "yaml: ")
		return FrontMatter{}, frontMatterError("invalid YAML: %s.", strings.TrimSuffix(msg, "."))
	}
	if hasAlias(&doc) {
		return FrontMatter{}, frontMatterError("aliases are not allowed.")
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return FrontMatter{}, nil // empty or comments only
	}
	root := doc.Content[0]
	if root.Kind == yaml.ScalarNode && root.ShortTag() == "!!null" {
		return FrontMatter{}, nil
	}
	if root.Kind != yaml.MappingNode {
		return FrontMatter{}, frontMatterError("must be a YAML mapping of keys to values.")
	}
	seen := make(map[string]bool, len(root.Content)/2)
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			return FrontMatter{}, frontMatterError("keys must be plain strings.")
		}
		key := k.Value
		if seen[key] {
			return FrontMatter{}, frontMatterError("key %q appears more than once.", key)
		}
		seen[key] = true
		switch key {
		case "title":
			if v.Kind != yaml.ScalarNode {
				return FrontMatter{}, frontMatterError("title must be a string.")
			}
			fm.Title = scalarValue(v)
		case "tags":
			tags, err := tagValues(v)
			if err != nil {
				return FrontMatter{}, err
			}
			fm.Tags = tags
		default:
			if v.Kind != yaml.ScalarNode {
				continue
			}
			if fm.Extra == nil {
				fm.Extra = make(map[string]string)
			}
			fm.Extra[key] = scalarValue(v)
		}
	}
	return fm, nil
}

// hasAlias reports whether the tree under n declares an anchor or uses an
// alias. It never follows an alias, so it visits each node once.
func hasAlias(n *yaml.Node) bool {
	if n.Kind == yaml.AliasNode || n.Anchor != "" || n.Alias != nil {
		return true
	}
	for _, c := range n.Content {
		if hasAlias(c) {
			return true
		}
	}
	return false
}

// scalarValue returns the string value of a scalar node, "" for null.
func scalarValue(n *yaml.Node) string {
	if n.ShortTag() == "!!null" {
		return ""
	}
	return n.Value
}

// tagValues decodes the "tags" value: a sequence of scalars or one
// comma-separated scalar. Empty entries are dropped.
func tagValues(v *yaml.Node) ([]string, error) {
	var tags []string
	switch v.Kind {
	case yaml.ScalarNode:
		for _, t := range strings.Split(scalarValue(v), ",") {
			if t = strings.TrimSpace(t); t != "" {
				tags = append(tags, t)
			}
		}
	case yaml.SequenceNode:
		for _, item := range v.Content {
			if item.Kind != yaml.ScalarNode {
				return nil, frontMatterError("tags must be a list of strings.")
			}
			if t := strings.TrimSpace(scalarValue(item)); t != "" {
				tags = append(tags, t)
			}
		}
	default:
		return nil, frontMatterError("tags must be a list of strings.")
	}
	if tags == nil {
		tags = []string{}
	}
	return tags, nil
}
