package main

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/sdkauth/sdkauth/keys"
)

// The floor server must mint what sdkauth's client_credentials grant mints,
// through the load generator's own client, or the comparison is unfair.
func TestFloorServerMintsAdminTokens(t *testing.T) {
	t.Parallel()
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

// The report states each throughput target next to the floor, and gives
// every rate as a share of both the ceiling and the floor.
func TestReportComparesRatesWithTheFloor(t *testing.T) {
	t.Parallel()
	closed := func(name, grant string, ok int) phaseResult {
		return phaseResult{Name: name, Grant: grant, Concurrency: 16, Wall: 10 * time.Second,
			loadResult: loadResult{OK: ok, Window: 10 * time.Second, Latencies: []time.Duration{time.Millisecond}}}
	}
	r := &report{o: options{openLoopPercent: 70, warmup: time.Second}, Ceiling: 4000, CeilingRuns: []float64{4000},
		Phases: []phaseResult{
			closed(floorPhaseName, floorGrant, 25000),
			withRounds(closed("refresh_token", "refresh_token", 14000), 1300, 1400, 1500),
			closed("client_credentials", "client_credentials", 24500),
		}}
	md := r.markdown()
	for _, want := range []string{
		"| floor: bare net/http token server | 16 | 2500 | 62% | 100% |",
		"| refresh_token | 16 | 1400 (1300, 1400, 1500) | 35% | 56% |",
		"| client_credentials | 16 | 2450 | 61% | 98% |",
		"| refresh_token ≥ 45% of the ceiling | 1400/s = 35% (the target is 1800/s, 72% of the floor's 2500/s) | **no** |",
		"| client_credentials ≥ 50% of the ceiling | 2450/s = 61% (the target is 2000/s, 80% of the floor's 2500/s) | yes |",
		"| floor (a bare net/http token server, same signer) ≥ 75% of the ceiling | 2500/s = 62% | **no** |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("the report lacks %q:\n%s", want, md)
		}
	}
}

func withRounds(p phaseResult, rates ...float64) phaseResult {
	p.Rounds = rates
	return p
}
