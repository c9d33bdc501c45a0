package markdown

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"unicode"

	"github.com/docket-dev/docket"
	"golang.org/x/net/html"
)

// forbiddenElements may never appear in rendered HTML.
var forbiddenElements = map[string]bool{
	"script": true, "iframe": true, "object": true, "embed": true, "style": true,
	"frame": true, "frameset": true, "form": true, "link": true, "meta": true,
	"base": true, "svg": true, "math": true, "template": true, "textarea": true,
	"button": true, "select": true, "applet": true, "noscript": true,
}

// urlAttributes are the attributes whose value is fetched or navigated to.
var urlAttributes = map[string]bool{
	"href": true, "src": true, "action": true, "formaction": true, "xlink:href": true,
	"cite": true, "background": true, "poster": true, "srcset": true, "data": true,
}

// dangerousSchemes are URL schemes that run code or carry a document.
var dangerousSchemes = []string{"javascript:", "data:", "vbscript:"}

// unsafeHTML is the safety oracle: it tokenizes s as a browser would and
// returns a description of the first dangerous thing in it, or "".
func unsafeHTML(s string) string {
	z := html.NewTokenizer(strings.NewReader(s))
	for {
		switch z.Next() {
		case html.ErrorToken:
			return ""
		case html.StartTagToken, html.SelfClosingTagToken, html.EndTagToken:
			tok := z.Token()
			if forbiddenElements[tok.Data] {
				return fmt.Sprintf("element <%s>", tok.Data)
			}
			if tok.Data == "input" && !isDisabledCheckbox(tok) {
				return "an input that is not a disabled checkbox"
			}
			for _, a := range tok.Attr {
				key := strings.ToLower(a.Key)
				switch {
				case strings.HasPrefix(key, "on"):
					return fmt.Sprintf("event handler %s=%q on <%s>", a.Key, a.Val, tok.Data)
				case key == "style":
					return fmt.Sprintf("style=%q on <%s>", a.Val, tok.Data)
				case key == "srcdoc":
					return fmt.Sprintf("srcdoc on <%s>", tok.Data)
				case urlAttributes[key]:
					if scheme := dangerousScheme(a.Val); scheme != "" {
						return fmt.Sprintf("%s=%q (%s) on <%s>", a.Key, a.Val, scheme, tok.Data)
					}
				}
			}
		}
	}
}

// isDisabledCheckbox reports whether an input token is a task-list box.
func isDisabledCheckbox(tok html.Token) bool {
	var checkbox, disabled bool
	for _, a := range tok.Attr {
		switch a.Key {
		case "type":
			checkbox = a.Val == "checkbox"
		case "disabled":
			disabled = true
		}
	}
	return checkbox && disabled
}

// dangerousScheme returns the dangerous scheme url starts with, once white
// space and control characters are removed and letters lower-cased as a
// browser does, or "".
func dangerousScheme(url string) string {
	cleaned := strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) || unicode.IsControl(r) || r == '\uFEFF' {
			return -1
		}
		return unicode.ToLower(r)
	}, url)
	for _, s := range dangerousSchemes {
		if strings.HasPrefix(cleaned, s) {
			return s
		}
	}
	return ""
}

// xssVectors are the attacks of SECURITY-RELIABILITY.md rows 17-21, used
// to seed FuzzRender. The golden file testdata/xss.txt holds their exact
// expected output.
var xssVectors = []string{
	"<script>alert(1)</script>",
	"<img src=x onerror=alert(1)>",
	"<iframe src=\"https://evil.example\"></iframe>",
	"<svg onload=alert(1)>",
	"[x](javascript:alert(1))",
	"[x](javascript&colon;alert(1))",
	"[x](&#106;avascript:alert(1))",
	"[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
	"[x](vbscript:msgbox)",
	"[x](java\tscript:alert(1))",
	"[x](java&#9;script:alert(1))",
	"[x](<java\nscript:alert(1)>)",
	"<a style=\"position:fixed;top:0;left:0;width:100%;height:100%\" href=\"https://evil.example\">x</a>",
	"<div style=\"position:fixed\">x</div>",
	"<embed src=\"x.swf\"><object data=\"x.swf\"></object>",
	"![x](javascript:alert(1))",
	"<javascript:alert(1)>",
	"[x][1]\n\n[1]: javascript:alert(1)",
	"```mermaid\ngraph TD; A--><script>alert(1)</script>\n```",
	"```\"><script>alert(1)</script>\nx\n```",
	"# \"><img src=x onerror=alert(1)>",
}

// FuzzRender renders arbitrary markdown and checks the output with the
// safety oracle unsafeHTML. The only errors allowed are the output limit,
// front matter errors and the nesting limit: a panic inside goldmark
// ("Could not render") or a small input that spends the whole time budget
// is a finding.
func FuzzRender(f *testing.F) {
	for _, path := range goldenFiles(f) {
		for _, c := range readGolden(f, path) {
			f.Add(c.input)
		}
	}
	for _, v := range xssVectors {
		f.Add(v)
	}
	r := New(Options{})
	f.Fuzz(func(t *testing.T, src string) {
		out, err := r.Render(context.Background(), src)
		if err != nil {
			msg := docket.ErrorMessage(err)
			switch docket.ErrorCode(err) {
			case docket.ETOOLARGE:
				if msg != "Document is too complex to render." {
					return
				}
			case docket.EINVALID:
				if msg != "Could not render the document." {
					return
				}
			}
			t.Fatalf("Render(%q) error = %v", src, err)
		}
		if msg := unsafeHTML(out); msg != "" {
			t.Fatalf("Render(%q) is unsafe: %s\n%s", src, msg, out)
		}
	})
}
