package search

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/docket-dev/docket"
)

func TestParseQuery(t *testing.T) {
	day := time.Date(2024, 1, 31, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want Query
	}{
		{"hello world", Query{Clauses: []Clause{{Any: []Term{{Text: "hello"}}}, {Any: []Term{{Text: "world"}}}}}},
		{`"exact  phrase" -nope -"not this"`, Query{Clauses: []Clause{
			{Any: []Term{{Text: "exact phrase", Phrase: true}}},
			{Any: []Term{{Text: "nope"}}, Not: true},
			{Any: []Term{{Text: "not this", Phrase: true}}, Not: true},
		}}},
		{"a OR b c", Query{Clauses: []Clause{{Any: []Term{{Text: "a"}, {Text: "b"}}}, {Any: []Term{{Text: "c"}}}}}},
		{"Type:Comment status:LAST-CALL kind:rfc space:s1 author:u1 owner:u2 tag:Go in:title x", Query{InTitle: true, Clauses: []Clause{
			{Any: []Term{{Field: "type", Text: "comment"}}},
			{Any: []Term{{Field: "status", Text: "last-call"}}},
			{Any: []Term{{Field: "kind", Text: "rfc"}}},
			{Any: []Term{{Field: "space", Text: "s1"}}},
			{Any: []Term{{Field: "author", Text: "u1"}}},
			{Any: []Term{{Field: "owner", Text: "u2"}}},
			{Any: []Term{{Field: "tag", Text: "go"}}},
			{Any: []Term{{Text: "x"}}},
		}}},
		{"before:2024-01-31 gc", Query{Clauses: []Clause{{Any: []Term{{Field: "before", Text: "2024-01-31", Date: day}}}, {Any: []Term{{Text: "gc"}}}}}},
		{"gener* colr~ colr~1", Query{Clauses: []Clause{{Any: []Term{{Text: "gener", Prefix: true}}}, {Any: []Term{{Text: "colr", Fuzzy: 1}}}, {Any: []Term{{Text: "colr", Fuzzy: 1}}}}}},
		{"搜索 café 🚀", Query{Clauses: []Clause{{Any: []Term{{Text: "搜索"}}}, {Any: []Term{{Text: "café"}}}, {Any: []Term{{Text: "🚀"}}}}}},
	}
	for _, tc := range tests {
		got, err := ParseQuery(tc.in)
		if err != nil {
			t.Errorf("ParseQuery(%q): %v", tc.in, err)
			continue
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("ParseQuery(%q) (-want +got):\n%s", tc.in, diff)
		}
	}
}

func TestParseQueryInvalid(t *testing.T) {
	tests := []struct {
		name, in, msg string
	}{
		{"empty", "", "empty"},
		{"blank", "   \t ", "empty"},
		{"only excluded", "-foo -bar", "not excluded"},
		{"too long", strings.Repeat("a ", 300), "too long"},
		{"too many clauses", strings.Repeat("w ", MaxClauses+1), "too many terms"},
		{"long word", strings.Repeat("x", MaxTermLength+1), "too long"},
		{"unclosed quote", `"open phrase`, "not closed"},
		{"empty phrase", `""`, "empty"},
		{"punctuation phrase", `"!!!"`, "no words"},
		{"quote inside word", `ab"cd"`, "quote"},
		{"no space after phrase", `"ab"cd`, "space after"},
		{"leading wildcard", "*foo", "only at the end"},
		{"inner wildcard", "fo*o", "only at the end"},
		{"question mark", "fo?o", "only at the end"},
		{"lone star", "*", "no letters"},
		{"short prefix", "a*", "at least 2"},
		{"fuzziness 2", "color~2", "at most one edit"},
		{"double tilde", "color~~", "at most one edit"},
		{"short fuzzy", "ab~", "3 to 40 characters"},
		{"long fuzzy", strings.Repeat("a", 41) + "~", "3 to 40 characters"},
		{"regex", "/fo.*/", "only at the end"},
		{"lone dash", "foo -", "followed by"},
		{"dash space", "foo - bar", "followed by"},
		{"leading OR", "OR foo", "each side"},
		{"trailing OR", "foo OR", "each side"},
		{"double OR", "foo OR OR bar", "each side"},
		{"OR with exclusion", "foo OR -bar", "excluded"},
		{"excluded OR", "-foo OR bar", "excluded"},
		{"unknown type", "type:wiki", "Unknown type"},
		{"unknown status", "status:done", "Unknown status"},
		{"unknown kind", "kind:essay", "Unknown kind"},
		{"bad in", "in:body", "in:title"},
		{"bad date", "before:2024-13-01", "YYYY-MM-DD"},
		{"bad date format", "after:yesterday", "YYYY-MM-DD"},
		{"ancient date", "after:0000-01-01", "between 1900 and 2200"},
		{"far date", "before:9999-12-31", "between 1900 and 2200"},
		{"empty filter", "tag:", "needs a value"},
		{"wildcard filter", "tag:go*", "without wildcards"},
		{"only punctuation", "!!! ???", "no letters"},
		{"invalid utf8", "abc\xff", "UTF-8"},
		{"excluded in:title", "foo -in:title", "cannot be excluded"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseQuery(tc.in)
			if docket.ErrorCode(err) != docket.EINVALID {
				t.Fatalf("ParseQuery(%q) = %v; want EINVALID", tc.in, err)
			}
			if msg := docket.ErrorMessage(err); !strings.Contains(msg, tc.msg) {
				t.Errorf("ParseQuery(%q) message %q; want it to contain %q", tc.in, msg, tc.msg)
			}
		})
	}
}

// FuzzParseQuery checks that the parser never panics, that it accepts or
// rejects with EINVALID only, and that what it accepts stays within the
// caps and runs against an index without error.
func FuzzParseQuery(f *testing.F) {
	for _, s := range []string{"hello world", `"a b" -c OR d`, "type:comment tag:x* in:title", "before:2024-01-01 after:2023-01-01",
		"gener* colr~", "搜索平均响应时间", "-", "OR", `"`, "a~1", "*", "x:y:z", "🚀 café"} {
		f.Add(s)
	}
	x := smallIndex(f)
	f.Fuzz(func(t *testing.T, s string) {
		q, err := ParseQuery(s)
		if err != nil {
			if docket.ErrorCode(err) != docket.EINVALID {
				t.Fatalf("ParseQuery(%q) = %v; want EINVALID", s, err)
			}
			return
		}
		n := 0
		for _, c := range q.Clauses {
			n += len(c.Any)
			for _, term := range c.Any {
				if term.Fuzzy > 1 || strings.ContainsAny(term.Text, "*?~") && term.Field == "" && !term.Phrase {
					t.Fatalf("ParseQuery(%q): bad term %+v", s, term)
				}
			}
		}
		if n > MaxClauses || n == 0 {
			t.Fatalf("ParseQuery(%q): %d terms", s, n)
		}
		q.ReadableSpaces = []string{"pub"}
		if _, err := x.Search(t.Context(), q); err != nil {
			t.Fatalf("Search(%q): %v", s, err)
		}
	})
}
