// Package oidc is Docket's OpenID Connect adapter: single sign-on through
// an identity provider with the authorization code flow, PKCE (S256) and a
// nonce, and the ID token verified against the provider's published keys
// (go-oidc and x/oauth2). The server keeps the state of each sign-in and
// decides who may sign in; this package only speaks to the provider.
package oidc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	docket "github.com/docket-dev/docket"
	"golang.org/x/oauth2"
)

// Config is the registration of Docket at the provider.
type Config struct {
	// Issuer is the provider's issuer URL, where
	// /.well-known/openid-configuration is served.
	Issuer string
	// ClientID and ClientSecret are Docket's client registration.
	ClientID     string
	ClientSecret string
	// RedirectURL is Docket's callback, BaseURL + "/auth/oidc/callback".
	RedirectURL string
	// Name is the provider's name on the sign-in page; empty takes the
	// issuer's host.
	Name string
	// HTTPClient talks to the provider; nil takes a client with a 15 s
	// timeout.
	HTTPClient *http.Client
	// Logger receives discovery failures.
	Logger *slog.Logger
}

// Provider signs people in through one OpenID provider. Its discovery
// document is read at the first sign-in (and again after a failure), so
// Docket starts while the provider is down.
type Provider struct {
	cfg    Config
	name   string
	client *http.Client

	mu       sync.Mutex
	provider *gooidc.Provider
}

// New checks cfg and returns a provider.
func New(cfg Config) (*Provider, error) {
	u, err := url.Parse(cfg.Issuer)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("the OpenID issuer must be an http(s) URL, not %q", cfg.Issuer)
	}
	if cfg.ClientID == "" {
		return nil, errors.New("an OpenID issuer needs a client id")
	}
	if _, err := url.Parse(cfg.RedirectURL); err != nil || cfg.RedirectURL == "" {
		return nil, fmt.Errorf("bad OpenID redirect URL %q", cfg.RedirectURL)
	}
	name := strings.TrimSpace(cfg.Name)
	if name == "" {
		name = u.Hostname()
	}
	client := cfg.HTTPClient
	if client == nil {
		client = &http.Client{Timeout: 15 * time.Second}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Provider{cfg: cfg, name: name, client: client}, nil
}

// Name is the provider's name for people: "Sign in with <Name>".
func (p *Provider) Name() string { return p.name }

// discover returns the provider's metadata, reading it once.
func (p *Provider) discover(ctx context.Context) (*gooidc.Provider, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.provider != nil {
		return p.provider, nil
	}
	prov, err := gooidc.NewProvider(gooidc.ClientContext(ctx, p.client), p.cfg.Issuer)
	if err != nil {
		p.cfg.Logger.Warn("OpenID discovery failed", slog.String("issuer", p.cfg.Issuer), slog.Any("err", err))
		return nil, docket.Errorf(docket.EUNAVAILABLE, "%s cannot be reached right now; try again in a minute.", p.name)
	}
	p.provider = prov
	return prov, nil
}

func (p *Provider) oauth(prov *gooidc.Provider) *oauth2.Config {
	return &oauth2.Config{
		ClientID: p.cfg.ClientID, ClientSecret: p.cfg.ClientSecret, RedirectURL: p.cfg.RedirectURL,
		Endpoint: prov.Endpoint(), Scopes: []string{gooidc.ScopeOpenID, "email", "profile"},
	}
}

// AuthURL returns the provider's URL that starts a sign-in with state,
// nonce and the PKCE challenge (S256) of verifier.
func (p *Provider) AuthURL(ctx context.Context, state, nonce, verifier string) (string, error) {
	prov, err := p.discover(ctx)
	if err != nil {
		return "", err
	}
	return p.oauth(prov).AuthCodeURL(state, gooidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier)), nil
}

// claims are the ID token's claims Docket reads.
type claims struct {
	Email         string `json:"email"`
	EmailVerified any    `json:"email_verified"`
	Name          string `json:"name"`
}

// verified reads email_verified, which some providers send as a string.
func (c claims) verified() bool {
	switch v := c.EmailVerified.(type) {
	case bool:
		return v
	case string:
		return v == "true"
	}
	return false
}

// Exchange trades the code for tokens with the PKCE verifier, verifies
// the ID token (signature against the provider's keys, issuer, audience,
// expiry) and its nonce, and returns who signed in. Returns EUNAUTHORIZED
// when the provider refuses the code or the token does not verify,
// EUNAVAILABLE when the provider cannot be reached.
func (p *Provider) Exchange(ctx context.Context, code, verifier, nonce string) (docket.Identity, error) {
	prov, err := p.discover(ctx)
	if err != nil {
		return docket.Identity{}, err
	}
	ctx = gooidc.ClientContext(ctx, p.client)
	tok, err := p.oauth(prov).Exchange(ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) {
			return docket.Identity{}, docket.Errorf(docket.EUNAUTHORIZED, "%s refused the sign-in (%s); try again.", p.name, re.ErrorCode)
		}
		p.cfg.Logger.Warn("OpenID token request failed", slog.Any("err", err))
		return docket.Identity{}, docket.Errorf(docket.EUNAVAILABLE, "%s cannot be reached right now; try again in a minute.", p.name)
	}
	raw, ok := tok.Extra("id_token").(string)
	if !ok || raw == "" {
		return docket.Identity{}, docket.Errorf(docket.EUNAUTHORIZED, "%s sent no ID token.", p.name)
	}
	idt, err := prov.Verifier(&gooidc.Config{ClientID: p.cfg.ClientID}).Verify(ctx, raw)
	if err != nil {
		p.cfg.Logger.Warn("OpenID ID token refused", slog.Any("err", err))
		return docket.Identity{}, docket.Errorf(docket.EUNAUTHORIZED, "The sign-in from %s could not be verified; try again.", p.name)
	}
	if idt.Nonce != nonce {
		return docket.Identity{}, docket.Errorf(docket.EUNAUTHORIZED, "The sign-in from %s does not belong to this browser's attempt (wrong nonce); try again.", p.name)
	}
	var c claims
	if err := idt.Claims(&c); err != nil {
		return docket.Identity{}, docket.Errorf(docket.EUNAUTHORIZED, "The ID token from %s cannot be read.", p.name)
	}
	return docket.Identity{
		Issuer: idt.Issuer, Subject: idt.Subject, Email: strings.TrimSpace(c.Email),
		EmailVerified: c.verified(), Name: strings.TrimSpace(c.Name),
	}, nil
}
