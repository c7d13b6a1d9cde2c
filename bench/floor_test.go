package main

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http/httptest"
	"testing"

	"github.com/sdkauth/sdkauth/keys"
)

// The floor server must mint what sdkauth's client_credentials grant mints,
// through the load generator's own client, or the comparison is unfair.
func TestFloorServerMintsAdminTokens(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(floorHandler(keys.NewGoSigner(key)))
	defer srv.Close()
	ctx := context.Background()

	c, err := newRawClient(srv.URL + "/v1/token")
	if err != nil {
		t.Fatal(err)
	}
	defer c.close()
	status, body, err := c.post(ctx, "grant_type=client_credentials")
	if err != nil || status != 200 {
		t.Fatalf("client_credentials: %d %s, %v", status, body, err)
	}
	var tr struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
		ExpiresIn   int    `json:"expires_in"`
	}
	if err := json.Unmarshal(body, &tr); err != nil || tr.TokenType != "Bearer" || tr.ExpiresIn != 900 {
		t.Fatalf("answer %s: %v", body, err)
	}
	v := &keys.Verifier{ApplicationID: floorAppID, Keys: func() []*rsa.PublicKey { return []*rsa.PublicKey{&key.PublicKey} }}
	claims, err := v.Verify(tr.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	if claims.Subject != "" || claims.ACL != nil || claims.ID == "" {
		t.Fatalf("claims %+v, want an admin token's", claims)
	}

	// The worker the phase uses, over the same kind of connection.
	if err := clientCredentialsWorker(&api{base: srv.URL}, "floor", "unused")(ctx); err != nil {
		t.Fatal(err)
	}
	if status, _, err = c.post(ctx, "grant_type=password"); err != nil || status != 400 {
		t.Fatalf("password grant: %d, %v; want 400", status, err)
	}
}
