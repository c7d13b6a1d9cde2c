package api_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/sdkauth/sdkauth/internal/nodetest"
)

// TestGoOAuth2Library drives the token endpoint with golang.org/x/oauth2: the
// password grant as a public client, refresh through a TokenSource, client
// credentials in both authentication styles with a scope, and every error as
// the library reports it (*oauth2.RetrieveError).
func TestGoOAuth2Library(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	s.Signup("oauth-user", "correct horse battery")
	id, secret := s.NewClient("admin,tokens:admin")
	ctx := context.Background()
	endpoint := oauth2.Endpoint{TokenURL: s.URL + "/v1/token", AuthStyle: oauth2.AuthStyleInParams}

	// A public client: its client_id is sent and ignored.
	app := oauth2.Config{ClientID: "a-mobile-app", Endpoint: endpoint}
	tok, err := app.PasswordCredentialsToken(ctx, "oauth-user", "correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	if tok.AccessToken == "" || tok.RefreshToken == "" || tok.TokenType != "Bearer" || !tok.Valid() {
		t.Fatalf("password grant: %+v", tok)
	}
	expired := *tok
	expired.Expiry = time.Now().Add(-time.Minute)
	fresh, err := app.TokenSource(ctx, &expired).Token()
	if err != nil {
		t.Fatal(err)
	}
	if fresh.AccessToken == tok.AccessToken || fresh.RefreshToken == tok.RefreshToken {
		t.Error("the TokenSource did not refresh")
	}

	wantCode := func(name string, err error, status int, code string) {
		t.Helper()
		var re *oauth2.RetrieveError
		if !errors.As(err, &re) {
			t.Fatalf("%s: %v is not a *oauth2.RetrieveError", name, err)
		}
		if re.ErrorCode != code || re.Response.StatusCode != status {
			t.Errorf("%s: %d %q, want %d %q (%s)", name, re.Response.StatusCode, re.ErrorCode, status, code, re.Body)
		}
		if www := re.Response.Header.Get("WWW-Authenticate"); www != "" && re.Response.Request.Header.Get("Authorization") == "" {
			t.Errorf("%s: a challenge (%q) to a client that sent no Authorization header", name, www)
		}
	}
	_, err = app.PasswordCredentialsToken(ctx, "oauth-user", "not the password")
	wantCode("wrong password", err, http.StatusBadRequest, "invalid_grant")
	unknown := oauth2.Token{RefreshToken: "not-a-refresh-token", Expiry: time.Now().Add(-time.Minute)}
	_, err = app.TokenSource(ctx, &unknown).Token()
	wantCode("unknown refresh token", err, http.StatusBadRequest, "invalid_grant")
	// Basic with an empty password is a public client too; a wrong secret is
	// refused on the user grants as well.
	inHeader := oauth2.Config{ClientID: "a-mobile-app", Endpoint: oauth2.Endpoint{TokenURL: endpoint.TokenURL, AuthStyle: oauth2.AuthStyleInHeader}}
	if _, err := inHeader.PasswordCredentialsToken(ctx, "oauth-user", "correct horse battery"); err != nil {
		t.Errorf("public client by Basic with no password: %v", err)
	}
	wrong := oauth2.Config{ClientID: id, ClientSecret: "not-the-secret", Endpoint: endpoint}
	_, err = wrong.PasswordCredentialsToken(ctx, "oauth-user", "correct horse battery")
	wantCode("wrong secret on the password grant", err, http.StatusUnauthorized, "invalid_client")
	scoped := oauth2.Config{ClientID: "a-mobile-app", Endpoint: endpoint, Scopes: []string{"admin"}}
	_, err = scoped.PasswordCredentialsToken(ctx, "oauth-user", "correct horse battery")
	wantCode("scope on a user grant", err, http.StatusBadRequest, "invalid_scope")

	for _, style := range []oauth2.AuthStyle{oauth2.AuthStyleInHeader, oauth2.AuthStyleInParams} {
		cc := clientcredentials.Config{ClientID: id, ClientSecret: secret, TokenURL: s.URL + "/v1/token", AuthStyle: style}
		tok, err := cc.Token(ctx)
		if err != nil {
			t.Fatalf("client credentials (style %d): %v", style, err)
		}
		if tok.AccessToken == "" || tok.RefreshToken != "" || tok.Extra("scope") != "admin tokens:admin" {
			t.Errorf("client credentials (style %d): %+v scope %v", style, tok, tok.Extra("scope"))
		}
		cc.Scopes = []string{"admin"}
		if tok, err := cc.Token(ctx); err != nil || tok.Extra("scope") != "admin" {
			t.Errorf("scope=admin (style %d): %v, scope %v", style, err, tok.Extra("scope"))
		}
		cc.Scopes = []string{"tokens:user"}
		_, err = cc.Token(ctx)
		wantCode("a scope the client lacks", err, http.StatusBadRequest, "invalid_scope")
		cc.Scopes, cc.ClientSecret = nil, "not-the-secret"
		_, err = cc.Token(ctx)
		wantCode("wrong secret", err, http.StatusUnauthorized, "invalid_client")
	}
}

// TestOpenIDClientLibrary drives the token endpoint with openid-client 6
// (interop/oauth.test.mjs), built on oauth4webapi, the strictest OAuth client
// in wide use.
func TestOpenIDClientLibrary(t *testing.T) {
	t.Parallel()
	nodetest.Install(t, "../interop")
	s := newStack(t, nil)
	s.Signup("oauth-user", "correct horse battery")
	id, secret := s.NewClient("admin,tokens:admin")
	nodetest.Run(t, "../interop", map[string]string{
		"SDKAUTH_URL":   s.URL,
		"CLIENT_ID":     id,
		"CLIENT_SECRET": secret,
		"USERNAME":      "oauth-user",
		"PASSWORD":      "correct horse battery",
	}, "oauth.test.mjs")
}
