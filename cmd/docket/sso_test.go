package main

import (
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"slices"
	"strings"
	"testing"

	"github.com/docket-dev/docket/internal/oidctest"
)

func TestServeOIDCFlags(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		args    []string
		want    oidcFlags
		pwLogin bool
		wantErr string
	}{
		{name: "off", pwLogin: true},
		{
			name: "flags", args: []string{"--oidc-issuer", "https://id.example.com", "--oidc-client-id", "docket", "--oidc-allowed-domains", " Example.com, @acme.test ,", "--password-login=false"},
			want: oidcFlags{Issuer: "https://id.example.com", ClientID: "docket", AllowedDomains: []string{"example.com", "acme.test"}},
		},
		{
			name: "env", env: map[string]string{"DOCKET_OIDC_ISSUER": "https://id.example.com", "DOCKET_OIDC_CLIENT_ID": "docket", "DOCKET_OIDC_CLIENT_SECRET": "s3cret", "DOCKET_OIDC_NAME": "Acme ID", "DOCKET_PASSWORD_LOGIN": "false"},
			want: oidcFlags{Issuer: "https://id.example.com", ClientID: "docket", ClientSecret: "s3cret", Name: "Acme ID"},
		},
		{name: "password off alone", args: []string{"--password-login=false"}, wantErr: "needs --oidc-issuer"},
		{name: "issuer without client", args: []string{"--oidc-issuer", "https://id.example.com"}, wantErr: "needs --oidc-client-id"},
		{name: "domains without issuer", args: []string{"--oidc-allowed-domains", "example.com"}, wantErr: "need --oidc-issuer"},
		{name: "bad env", env: map[string]string{"DOCKET_PASSWORD_LOGIN": "maybe"}, wantErr: "DOCKET_PASSWORD_LOGIN must be true or false"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, k := range []string{"DOCKET_OIDC_ISSUER", "DOCKET_OIDC_CLIENT_ID", "DOCKET_OIDC_CLIENT_SECRET", "DOCKET_OIDC_NAME", "DOCKET_OIDC_ALLOWED_DOMAINS", "DOCKET_PASSWORD_LOGIN"} {
				t.Setenv(k, tt.env[k])
			}
			cfg, err := parseServeFlags(tt.args, io.Discard)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v; want one saying %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := cfg.OIDC
			if got.Issuer != tt.want.Issuer || got.ClientID != tt.want.ClientID || got.ClientSecret != tt.want.ClientSecret ||
				got.Name != tt.want.Name || !slices.Equal(got.AllowedDomains, tt.want.AllowedDomains) || cfg.PasswordLogin != tt.pwLogin {
				t.Errorf("got %+v, password login %v; want %+v, %v", got, cfg.PasswordLogin, tt.want, tt.pwLogin)
			}
		})
	}
}

// docket serve with single sign-on, wired as an operator sets it up (the
// secret in the environment), signs a person in through a real provider
// on loopback and refuses passwords.
func TestServeSingleSignOn(t *testing.T) {
	op := oidctest.Start(t)
	op.SetPerson(oidctest.Person{Subject: "ada", Email: "ada@acme.test", EmailVerified: true, Name: "Ada"})
	ln, err := net.Listen("tcp", "127.0.0.1:0") // a free port, for the base URL
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	t.Setenv("DOCKET_OIDC_CLIENT_SECRET", op.ClientSecret)
	p := startServer(t, t.TempDir(), "--addr", addr, "--base-url", "http://"+addr, "--oidc-issuer", op.Issuer,
		"--oidc-client-id", op.ClientID, "--oidc-name", "Acme ID", "--oidc-allowed-domains", "acme.test", "--password-login=false")
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar}
	resp, err := hc.Get(p.url + "/login?next=/inbox")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(page), "Sign in with Acme ID") || strings.Contains(string(page), `name="password"`) {
		t.Fatalf("login page:\n%s", page)
	}
	resp, err = hc.Get(p.url + "/auth/oidc/login?next=/inbox")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/inbox" {
		t.Fatalf("sign-in landed on %d %s; want 200 /inbox", resp.StatusCode, resp.Request.URL)
	}
	resp, err = hc.Get(p.url + "/api/me")
	if err != nil {
		t.Fatal(err)
	}
	me, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(me), `"email":"ada@acme.test"`) || !strings.Contains(string(me), `"role":"admin"`) {
		t.Errorf("GET /api/me = %d %s; want Ada, the first account, an admin", resp.StatusCode, me)
	}
	if code, body := api(t, p.url, "", "POST", "/api/auth/login", map[string]string{"email": "ada@acme.test", "password": "whatever it is"}); code != http.StatusForbidden {
		t.Errorf("password sign-in = %d %v; want 403", code, body)
	}
	if op.PKCEChecked() != 1 {
		t.Errorf("codes redeemed with a matching PKCE verifier = %d; want 1", op.PKCEChecked())
	}
	p.stop(t)
}
