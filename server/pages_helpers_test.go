package server_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// htmlPage is a page as a browser gets it.
type htmlPage struct {
	status   int
	header   http.Header
	body     string
	location string
	logged   bool // the body was logged for a failure
}

// noFollow returns an HTTP client sharing c's cookies that does not
// follow redirects, so tests see the 303 of a form post.
func (c *client) noFollow() *http.Client {
	return &http.Client{Jar: c.hc.Jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}
}

// page fetches a page without following redirects.
func (c *client) page(path string) *htmlPage {
	c.e.t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), "GET", c.e.http.URL+path, nil)
	if err != nil {
		c.e.t.Fatal(err)
	}
	req.Header.Set("Accept", "text/html")
	return c.send(req)
}

// pageOK fetches a page and fails the test unless it is 200.
func (c *client) pageOK(path string) *htmlPage {
	c.e.t.Helper()
	p := c.page(path)
	if p.status != http.StatusOK {
		c.e.t.Fatalf("GET %s = %d; want 200\n%s", path, p.status, p.body)
	}
	return p
}

func (c *client) send(req *http.Request) *htmlPage {
	c.e.t.Helper()
	resp, err := c.noFollow().Do(req)
	if err != nil {
		c.e.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return &htmlPage{status: resp.StatusCode, header: resp.Header, body: string(body), location: resp.Header.Get("Location")}
}

var pageCSRFRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf returns the CSRF token of the page's forms.
func (p *htmlPage) csrf(t testing.TB) string {
	t.Helper()
	m := pageCSRFRE.FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("no csrf field in the page:\n%s", p.body)
	}
	return m[1]
}

// submit sends a form as a browser on this site would, with the CSRF token
// of the page at from (fetched first).
func (c *client) submit(from, path string, vals url.Values) *htmlPage {
	c.e.t.Helper()
	vals.Set("csrf", c.pageOK(from).csrf(c.e.t))
	return c.submitRaw(path, vals)
}

// submitRaw sends a form as it is.
func (c *client) submitRaw(path string, vals url.Values) *htmlPage {
	c.e.t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), "POST", c.e.http.URL+path, strings.NewReader(vals.Encode()))
	if err != nil {
		c.e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", c.e.http.URL)
	return c.send(req)
}

// mustSeeOther fails the test unless a form post answered 303 to a path
// starting with want.
func (p *htmlPage) mustSeeOther(t testing.TB, want string) {
	t.Helper()
	if p.status != http.StatusSeeOther || !strings.HasPrefix(p.location, want) {
		t.Fatalf("form post = %d to %q; want 303 to %q\n%s", p.status, p.location, want, p.body)
	}
}

// has fails the test unless the page contains every one of wants.
func (p *htmlPage) has(t testing.TB, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(p.body, w) {
			t.Errorf("page does not contain %q", w)
		}
	}
	if t.Failed() && !p.logged {
		p.logged = true
		t.Logf("page:\n%s", p.body)
	}
}

// hasNot fails the test if the page contains any of bads.
func (p *htmlPage) hasNot(t testing.TB, bads ...string) {
	t.Helper()
	for _, b := range bads {
		if strings.Contains(p.body, b) {
			t.Errorf("page contains %q", b)
		}
	}
}

func formValues(kv ...string) url.Values {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Add(kv[i], kv[i+1])
	}
	return v
}
