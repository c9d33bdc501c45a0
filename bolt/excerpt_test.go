package bolt

import "testing"

func TestNewExcerpt(t *testing.T) {
	for _, tc := range []struct{ html, want string }{
		{"<p>Plain words.</p>", "Plain words."},
		{"<blockquote>\n<p>What about backups?</p>\n</blockquote>\n<p>They run nightly.</p>", "They run nightly."},
		{"<p>Before</p><blockquote><p>a</p><blockquote><p>b</p></blockquote><p>c</p></blockquote><p>after</p>", "Before after"},
		{"<blockquote><p>Only a quote</p></blockquote>", "Only a quote"},
		{"<p>Unclosed</p><blockquote><p>quote", "Unclosed"},
	} {
		if got := newExcerpt(tc.html); got != tc.want {
			t.Errorf("newExcerpt(%q) = %q; want %q", tc.html, got, tc.want)
		}
	}
}
