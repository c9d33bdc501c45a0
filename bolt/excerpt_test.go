package bolt

import (
	"slices"
	"testing"
)

// TestNewExcerpt: the excerpt of a reply leaves out what it quotes.
func TestNewExcerpt(t *testing.T) {
	quoted := "<blockquote>\n<p>What about backups?</p>\n</blockquote>\n<p>They run nightly.</p>"
	nested := "<p>Before</p><blockquote><p>a</p><blockquote><p>b</p></blockquote><p>c</p></blockquote><p>after</p>"
	got := []string{newExcerpt("<p>Plain words.</p>"), newExcerpt(quoted), newExcerpt(nested),
		newExcerpt("<blockquote><p>Only a quote</p></blockquote>"), newExcerpt("<p>Unclosed</p><blockquote><p>quote")}
	if want := []string{"Plain words.", "They run nightly.", "Before after", "Only a quote", "Unclosed"}; !slices.Equal(got, want) {
		t.Errorf("excerpts %q; want %q", got, want)
	}
}
