package bolt

import "testing"

// TestExcerpt checks that excerpts are what was said: quotes are left out
// unless there is nothing else.
func TestExcerpt(t *testing.T) {
	for html, want := range map[string]string{
		"<p>Looks <em>good</em> to me.</p>":                                                              "Looks good to me.",
		"<blockquote>\n<p>@ada what about S3?</p>\n</blockquote>\n<p>We keep bolt.</p>":                  "We keep bolt.",
		"<blockquote><blockquote><p>old</p></blockquote><p>older</p></blockquote><p>new &amp; short</p>": "new & short",
		"<p>Yes.</p><blockquote><p>x</p></blockquote><p>And more.</p>":                                   "Yes. And more.",
		"<blockquote><p>+1 to this</p></blockquote>":                                                     "+1 to this",
	} {
		if got := excerpt(html); got != want {
			t.Errorf("excerpt(%q) = %q; want %q", html, got, want)
		}
	}
}
