package server

import (
	"context"
	"html/template"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	docket "github.com/docket-dev/docket"
	"github.com/docket-dev/docket/collab/ot"
)

// The history replay: a version's text with the change that made it.
// A version v > 0 is made by the op at v-1, so the text of v-1 and that op
// give both the text of v and what the op inserted and deleted. Both
// reads start from the nearest snapshot (every 100 versions), so a
// version of a 10,000-version document costs what one of a short one does.

// segment is a piece of a version's markdown: Kind is '=' (kept from the
// version before), '+' (inserted by the version's op) or '-' (deleted by
// it; not part of the text).
type segment struct {
	Kind byte
	Text string
}

// Class names the segment for the templates: same, ins or del.
func (s segment) Class() string {
	switch s.Kind {
	case '+':
		return "ins"
	case '-':
		return "del"
	}
	return "same"
}

// changeSegments walks op over before and returns the text it makes, cut
// into kept, inserted and deleted pieces; adjacent pieces of one kind are
// merged.
func changeSegments(before string, op ot.Op) ([]segment, error) {
	var out []segment
	add := func(kind byte, text string) {
		if text == "" {
			return
		}
		if n := len(out); n > 0 && out[n-1].Kind == kind {
			out[n-1].Text += text
			return
		}
		out = append(out, segment{kind, text})
	}
	i := 0
	take := func(n int) (string, error) {
		j := i
		for ; n > 0; n-- {
			if j >= len(before) {
				return "", docket.Errorf(docket.EINVALID, "The op reaches past the end of the text.")
			}
			_, size := utf8.DecodeRuneInString(before[j:])
			j += size
		}
		s := before[i:j]
		i = j
		return s, nil
	}
	for _, c := range op {
		switch c.Kind() {
		case ot.KindSkip:
			s, err := take(c.Len())
			if err != nil {
				return nil, err
			}
			add('=', s)
		case ot.KindInsert:
			add('+', c.Insert)
		case ot.KindDelete:
			s, err := take(c.Len())
			if err != nil {
				return nil, err
			}
			add('-', s)
		}
	}
	add('=', before[i:])
	return out, nil
}

// versionView is one version as the history page and the replay API show
// it: the markdown with the change that made it, who made it and when.
type versionView struct {
	Version  int64
	Latest   int64
	Author   string // "" for version 0
	Time     time.Time
	Source   string
	Segments []segment
	Added    int // code points
	Removed  int
	HTML     template.HTML // set when asked for
}

// Changed reports whether the version's op changed anything visible.
func (v *versionView) Changed() bool { return v.Added+v.Removed > 0 }

// loadVersion reads version v of doc (metadata only needed) with the op
// that made it; withHTML also renders it.
func (s *Server) loadVersion(ctx context.Context, doc *docket.Document, v int64, withHTML bool) (*versionView, error) {
	if v < 0 || v > doc.Version {
		return nil, docket.Errorf(docket.EINVALID, "Version must be between 0 and %d.", doc.Version)
	}
	out := &versionView{Version: v, Latest: doc.Version}
	if v > 0 {
		before, err := s.svc.Documents.DocumentAt(ctx, doc.ID, v-1)
		if err != nil {
			return nil, err
		}
		ops, err := s.svc.Documents.FindOps(ctx, doc.ID, v-1, v, 1)
		if err != nil {
			return nil, err
		}
		if len(ops) != 1 {
			return nil, docket.Errorf(docket.EINTERNAL, "The op of version %d is missing.", v)
		}
		rec := ops[0]
		out.Author, out.Time = rec.Author, rec.Time
		var op ot.Op
		if err := op.UnmarshalJSON(rec.Op); err != nil {
			return nil, err
		}
		if out.Segments, err = changeSegments(before, op); err != nil {
			return nil, err
		}
	}
	var src strings.Builder
	for _, seg := range out.Segments {
		switch seg.Kind {
		case '=':
			src.WriteString(seg.Text)
		case '+':
			src.WriteString(seg.Text)
			out.Added += utf8.RuneCountInString(seg.Text)
		case '-':
			out.Removed += utf8.RuneCountInString(seg.Text)
		}
	}
	out.Source = src.String()
	if withHTML {
		var err error
		if v == doc.Version {
			full := *doc
			full.Body = out.Source
			out.HTML, err = s.docHTML(ctx, &full)
		} else {
			var h string
			h, err = s.renderMarkdown(ctx, out.Source)
			out.HTML = template.HTML(h)
		}
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// replayPart is a segment in the API: kept and inserted text are given
// by their length in UTF-16 code units (the client slices them from the
// body), deleted text in full.
type replayPart struct {
	Kind string `json:"k"`
	N    int    `json:"n,omitempty"`
	Text string `json:"t,omitempty"`
}

// apiParts turns segments into the API's parts.
func apiParts(segs []segment) []replayPart {
	out := make([]replayPart, 0, len(segs))
	for _, seg := range segs {
		p := replayPart{Kind: string(seg.Kind)}
		if seg.Kind == '-' {
			p.Text = seg.Text
		} else {
			p.N = utf16Len(seg.Text)
		}
		out = append(out, p)
	}
	return out
}

// utf16Len is the length of s in UTF-16 code units, as JavaScript counts.
func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}
