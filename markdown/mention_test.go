package markdown

import (
	"fmt"
	"strings"
	"testing"

	"github.com/docket-dev/docket"
	"github.com/google/go-cmp/cmp"
)

func TestMentions(t *testing.T) {
	for _, tc := range []struct {
		name string
		src  string
		want []string
	}{
		{"none", "no one here", nil},
		{"one", "thanks @alice", []string{"alice"}},
		{"case folded", "@Alice and @ALICE", []string{"alice"}},
		{"order and dedup", "@bob, @alice and @bob again", []string{"bob", "alice"}},
		{"start of text", "@carol: look", []string{"carol"}},
		{"sentence end", "ask @dave.", []string{"dave"}},
		{"dots and dashes inside", "@jean-luc.picard-", []string{"jean-luc.picard"}},
		{"underscore", "@jane_doe please", []string{"jane_doe"}},
		{"whole address", "cc @bob@example.com.", []string{"bob@example.com"}},
		{"address without a dot is a name", "@bob@localhost", []string{"bob"}},
		{"email in a word", "write to bob@example.com", nil},
		{"address in a path", "see https://example.com/@alice", nil},
		{"escaped", `not \@alice`, nil},
		{"lone at", "meet @ noon, @@x", nil},
		{"code span", "run `@alice` or ``@bob``", nil},
		{"code block", "```\n@alice\n```\n\n    @bob\n\nbut @carol", []string{"carol"}},
		{"tilde fence in a list", "- item\n\n  ~~~\n  @alice\n  ~~~\n- @bob", []string{"bob"}},
		{"raw html", "<span title=\"@alice\">x</span> @bob", []string{"bob"}},
		{"autolink", "<mailto:x@alice.com> <https://example.com/@bob>", nil},
		{"not an autolink", "<@bob>", []string{"bob"}},
		{"image alt", "![@alice](x.png)", nil},
		{"link text", "[@alice](https://example.com)", []string{"alice"}},
		{"emphasis", "**@alice** and _@bob_", []string{"alice", "bob"}},
		{"after punctuation", "(@alice) \"@bob\" x,@carol", []string{"alice", "bob", "carol"}},
		{"line break between", "hi\n@alice", []string{"alice"}},
		{"block quote", "> @alice said", nil},
		{"reply quoting a mention", "> @alice, can you look?\n> -- bob\n\n@carol agrees", []string{"carol"}},
		{"nested quote", "> > @alice\n> @bob\n\nok", nil},
		{"quote in a list", "- > @alice\n- @bob", []string{"bob"}},
		{"after a quote", "> quoted\n\n@bob, see above", []string{"bob"}},
		{"lazy line is quoted", "> quoted\n@bob", nil},
		{"unicode around", "merci @élise é@bob 😀@carol", []string{"carol"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Mentions(tc.src)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Mentions(%q) mismatch (-want +got):\n%s", tc.src, diff)
			}
		})
	}
}

func TestMentionsCapped(t *testing.T) {
	var b strings.Builder
	for i := range docket.MaxMentions + 10 {
		fmt.Fprintf(&b, "@user%d ", i)
	}
	got := Mentions(b.String())
	if len(got) != docket.MaxMentions || got[0] != "user0" {
		t.Fatalf("Mentions of %d names = %d names starting %q; want %d", docket.MaxMentions+10, len(got), got[0], docket.MaxMentions)
	}
	if got := Mentions(strings.Repeat("> ", MaxNesting+1) + "@alice"); got != nil {
		t.Errorf("Mentions(deep nesting) = %q; want none", got)
	}
}
