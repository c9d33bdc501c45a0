package oidc_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	docket "github.com/docket-dev/docket"
	"github.com/docket-dev/docket/internal/oidctest"
	"github.com/docket-dev/docket/oidc"
)

// authorize follows the provider's authorization URL as a browser would
// and returns the code and state it sends back to the redirect URI.
func authorize(t *testing.T, authURL string) (code, state string) {
	t.Helper()
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := hc.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	back, err := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusFound || err != nil {
		t.Fatalf("authorize = %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	return back.Query().Get("code"), back.Query().Get("state")
}

func TestExchange(t *testing.T) {
	op := oidctest.Start(t)
	op.SetPerson(oidctest.Person{Subject: "s1", Email: " ada@acme.test ", EmailVerified: true, Name: "Ada"})
	const redirect = "http://127.0.0.1:1/auth/oidc/callback"
	newProvider := func(secret string) *oidc.Provider {
		p, err := oidc.New(oidc.Config{Issuer: op.Issuer, ClientID: op.ClientID, ClientSecret: secret, RedirectURL: redirect})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	ctx := context.Background()
	p := newProvider(op.ClientSecret)
	if p.Name() != "127.0.0.1" {
		t.Errorf("Name() = %q; want the issuer's host", p.Name())
	}
	tests := []struct {
		name     string
		p        *oidc.Provider
		verifier string // "" sends the one of the challenge
		nonce    string // the nonce Exchange expects; "" the one asked for
		wantCode string
	}{
		{"good", p, "", "", ""},
		{"wrong PKCE verifier", p, strings.Repeat("v", 43), "", docket.EUNAUTHORIZED},
		{"wrong client secret", newProvider("guess"), "", "", docket.EUNAUTHORIZED},
		{"nonce of another attempt", p, "", "another-nonce", docket.EUNAUTHORIZED},
	}
	const verifier, nonce = "0123456789012345678901234567890123456789abc", "the-nonce"
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := tt.p.AuthURL(ctx, "st", nonce, verifier)
			if err != nil {
				t.Fatal(err)
			}
			code, state := authorize(t, u)
			if state != "st" || code == "" {
				t.Fatalf("back with code %q, state %q", code, state)
			}
			v, n := verifier, nonce
			if tt.verifier != "" {
				v = tt.verifier
			}
			if tt.nonce != "" {
				n = tt.nonce
			}
			id, err := tt.p.Exchange(ctx, code, v, n)
			if got := docket.ErrorCode(err); got != tt.wantCode {
				t.Fatalf("Exchange = %+v, %v; want code %q", id, err, tt.wantCode)
			}
			if err == nil {
				want := docket.Identity{Issuer: op.Issuer, Subject: "s1", Email: "ada@acme.test", EmailVerified: true, Name: "Ada"}
				if id != want {
					t.Errorf("identity = %+v; want %+v", id, want)
				}
				if _, err := tt.p.Exchange(ctx, code, v, n); docket.ErrorCode(err) != docket.EUNAUTHORIZED {
					t.Errorf("a code redeemed twice: %v; want %s", err, docket.EUNAUTHORIZED)
				}
			}
		})
	}
}

// A provider that cannot be reached is a clear 503-style error, and the
// next attempt discovers again.
func TestUnreachableProvider(t *testing.T) {
	down := httptest.NewServer(http.NotFoundHandler())
	down.Close()
	p, err := oidc.New(oidc.Config{Issuer: down.URL, ClientID: "docket", RedirectURL: "http://127.0.0.1:1/cb", Name: "Acme ID"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.AuthURL(context.Background(), "s", "n", "v")
	if docket.ErrorCode(err) != docket.EUNAVAILABLE || !strings.Contains(docket.ErrorMessage(err), "Acme ID cannot be reached") {
		t.Errorf("AuthURL with the provider down: %v; want %s saying so", err, docket.EUNAVAILABLE)
	}
}

func TestNewRefusesBadConfig(t *testing.T) {
	for _, cfg := range []oidc.Config{
		{Issuer: "", ClientID: "x", RedirectURL: "http://a/cb"},
		{Issuer: "ftp://id.example.com", ClientID: "x", RedirectURL: "http://a/cb"},
		{Issuer: "https://id.example.com", RedirectURL: "http://a/cb"},
		{Issuer: "https://id.example.com", ClientID: "x"},
	} {
		if _, err := oidc.New(cfg); err == nil {
			t.Errorf("oidc.New(%+v) accepted", cfg)
		}
	}
}
