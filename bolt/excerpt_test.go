package bolt

import "testing"

func TestExcerpt(t *testing.T) {
	for _, tc := range []struct{ name, html, want string }{
		{"plain", "<p>Looks <em>good</em> to me.</p>", "Looks good to me."},
		{"quote first", "<blockquote>\n<p>@ada what about S3?</p>\n</blockquote>\n<p>We keep bolt.</p>", "We keep bolt."},
		{"nested quotes", "<blockquote><blockquote><p>old</p></blockquote><p>older</p></blockquote><p>new &amp; short</p>", "new & short"},
		{"quote between", "<p>Yes.</p><blockquote><p>x</p></blockquote><p>And more.</p>", "Yes. And more."},
		{"only a quote keeps it", "<blockquote><p>+1 to this</p></blockquote>", "+1 to this"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := excerpt(tc.html); got != tc.want {
				t.Errorf("excerpt(%q) = %q; want %q", tc.html, got, tc.want)
			}
		})
	}
}
