// Package oidctest is a small, honest OpenID provider for tests, served
// on loopback: discovery, its signing keys (JWKS), an authorization
// endpoint that consents at once as the configured person, and a token
// endpoint that checks the client secret, the redirect URI and the PKCE
// verifier (S256 only) before it returns an ID token signed with RS256
// that carries the nonce. Codes are one use and live a minute.
package oidctest

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// Person is who the provider says signs in.
type Person struct {
	Subject       string
	Email         string
	EmailVerified bool
	Name          string
}

// Provider is a running test provider.
type Provider struct {
	// Issuer is the provider's URL (http://127.0.0.1:port).
	Issuer       string
	ClientID     string
	ClientSecret string

	srv *httptest.Server
	key *rsa.PrivateKey
	kid string

	mu     sync.Mutex
	person Person
	deny   bool
	nonce  *string // when set, the nonce put in ID tokens instead of the asked one
	codes  map[string]grant
	// PKCEChecked counts token requests whose verifier matched.
	pkceChecked int
}

type grant struct {
	person    Person
	redirect  string
	challenge string
	nonce     string
	expires   time.Time
}

// Start starts a provider for client id "docket" with a random secret,
// closed when the test ends.
func Start(t testing.TB) *Provider {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	p := &Provider{ClientID: "docket", ClientSecret: rand.Text(), key: key, kid: rand.Text()[:8], codes: map[string]grant{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", p.discovery)
	mux.HandleFunc("GET /keys", p.keys)
	mux.HandleFunc("GET /authorize", p.authorize)
	mux.HandleFunc("POST /token", p.token)
	p.srv = httptest.NewServer(mux)
	p.Issuer = p.srv.URL
	t.Cleanup(p.srv.Close)
	return p
}

// SetPerson makes the next sign-ins come as who.
func (p *Provider) SetPerson(who Person) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.person = who
}

// Deny makes the authorization endpoint answer error=access_denied, as
// when the person declines.
func (p *Provider) Deny(deny bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.deny = deny
}

// ForgeNonce makes ID tokens carry nonce instead of the one asked for;
// "" stops it.
func (p *Provider) ForgeNonce(nonce string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if nonce == "" {
		p.nonce = nil
	} else {
		p.nonce = &nonce
	}
}

// PKCEChecked is how many codes were redeemed with a matching PKCE
// verifier.
func (p *Provider) PKCEChecked() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.pkceChecked
}

func (p *Provider) discovery(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                p.Issuer,
		"authorization_endpoint":                p.Issuer + "/authorize",
		"token_endpoint":                        p.Issuer + "/token",
		"jwks_uri":                              p.Issuer + "/keys",
		"response_types_supported":              []string{"code"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"code_challenge_methods_supported":      []string{"S256"},
		"scopes_supported":                      []string{"openid", "email", "profile"},
		"token_endpoint_auth_methods_supported": []string{"client_secret_basic", "client_secret_post"},
	})
}

func (p *Provider) keys(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, jose.JSONWebKeySet{Keys: []jose.JSONWebKey{
		{Key: &p.key.PublicKey, KeyID: p.kid, Algorithm: string(jose.RS256), Use: "sig"},
	}})
}

// authorize consents at once: it redirects back with a code, or with
// error=access_denied when denying. Bad client requests get a 400 page,
// as a provider shows when it cannot trust the redirect URI.
func (p *Provider) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	redirect := q.Get("redirect_uri")
	back, err := url.Parse(redirect)
	switch {
	case q.Get("client_id") != p.ClientID:
		http.Error(w, "unknown client_id", http.StatusBadRequest)
		return
	case err != nil || redirect == "":
		http.Error(w, "bad redirect_uri", http.StatusBadRequest)
		return
	case q.Get("response_type") != "code" || q.Get("code_challenge_method") != "S256" || len(q.Get("code_challenge")) != 43:
		http.Error(w, "this provider needs response_type=code and a PKCE S256 challenge", http.StatusBadRequest)
		return
	}
	p.mu.Lock()
	deny, person := p.deny, p.person
	code := rand.Text()
	if !deny {
		p.codes[code] = grant{person: person, redirect: redirect, challenge: q.Get("code_challenge"),
			nonce: q.Get("nonce"), expires: time.Now().Add(time.Minute)}
	}
	p.mu.Unlock()
	v := back.Query()
	if deny {
		v.Set("error", "access_denied")
		v.Set("error_description", "The person declined.")
	} else {
		v.Set("code", code)
	}
	v.Set("state", q.Get("state"))
	back.RawQuery = v.Encode()
	http.Redirect(w, r, back.String(), http.StatusFound)
}

// token redeems a code once, checking the client's secret (Basic or in
// the form), the redirect URI and the PKCE verifier.
func (p *Provider) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		tokenError(w, "invalid_request")
		return
	}
	id, secret, ok := r.BasicAuth()
	if ok {
		id, _ = url.QueryUnescape(id)
		secret, _ = url.QueryUnescape(secret)
	} else {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	if id != p.ClientID || subtle.ConstantTimeCompare([]byte(secret), []byte(p.ClientSecret)) != 1 {
		w.Header().Set("WWW-Authenticate", "Basic")
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_client"})
		return
	}
	if r.PostForm.Get("grant_type") != "authorization_code" {
		tokenError(w, "unsupported_grant_type")
		return
	}
	code := r.PostForm.Get("code")
	p.mu.Lock()
	g, ok := p.codes[code]
	delete(p.codes, code)
	sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
	pkce := ok && base64.RawURLEncoding.EncodeToString(sum[:]) == g.challenge
	if pkce {
		p.pkceChecked++
	}
	nonce := g.nonce
	if p.nonce != nil {
		nonce = *p.nonce
	}
	p.mu.Unlock()
	if !ok || time.Now().After(g.expires) || r.PostForm.Get("redirect_uri") != g.redirect || !pkce {
		tokenError(w, "invalid_grant")
		return
	}
	now := time.Now()
	payload, _ := json.Marshal(map[string]any{
		"iss": p.Issuer, "sub": g.person.Subject, "aud": p.ClientID,
		"iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(), "nonce": nonce,
		"email": g.person.Email, "email_verified": g.person.EmailVerified, "name": g.person.Name,
	})
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: p.key, KeyID: p.kid}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	idToken, _ := jws.CompactSerialize()
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string]any{
		"access_token": rand.Text(), "token_type": "Bearer", "expires_in": 300, "id_token": idToken,
	})
}

func tokenError(w http.ResponseWriter, code string) {
	writeJSON(w, http.StatusBadRequest, map[string]string{"error": code})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
