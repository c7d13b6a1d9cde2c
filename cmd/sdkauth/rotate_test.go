package main

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sdkauth/sdkauth/auth"
	"github.com/sdkauth/sdkauth/db"
	"github.com/sdkauth/sdkauth/internal/servertest"
	"github.com/sdkauth/sdkauth/internal/testkit"
	"github.com/sdkauth/sdkauth/keys"
)

func jwksKids(t *testing.T, s *stack) ([]string, string) {
	t.Helper()
	r := s.Do(http.MethodGet, "/.well-known/jwks.json", "", nil)
	if r.Status != http.StatusOK {
		t.Fatalf("jwks: %d", r.Status)
	}
	var kids []string
	for _, k := range r.JSON(t)["keys"].([]any) {
		kids = append(kids, k.(map[string]any)["kid"].(string))
	}
	return kids, r.Header.Get("Cache-Control")
}

// TestRotationUnderLoadAcrossTwoReplicas is acceptance 2: `sdkauth keys
// rotate` while new users refresh against two replicas, each new access
// token then used on the other replica.
func TestRotationUnderLoadAcrossTwoReplicas(t *testing.T) {
	t.Parallel()
	a := newStack(t, map[string]string{"VONAGE_API_KEY": "key", "VONAGE_API_SECRET": "secret", "SDKAUTH_KEY_POLL": "1s"})
	b := &stack{a.Replica()}
	replicas := []*stack{a, b}
	oldKID := keys.Thumbprint(&a.Key.PublicKey)

	const clients = 4
	refresh := make([]string, clients)
	var before string // an access token minted before the rotation
	for i := range clients {
		body := replicas[i%2].Signup(fmt.Sprintf("new-user-%d", i), "correct horse battery")
		refresh[i] = body["refresh_token"].(string)
		before = body["access_token"].(string)
	}

	var stop atomic.Bool
	var done, failures atomic.Int64
	var firstFailure sync.Once
	var wg sync.WaitGroup
	for i := range clients {
		wg.Go(func() {
			for n := 0; n < 2000 && !stop.Load(); n++ { // bounded, whatever happens
				on, other := replicas[n%2], replicas[(n+1)%2]
				r := on.PostForm("/v1/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh[i]}})
				if r.Status != http.StatusOK {
					failures.Add(1)
					firstFailure.Do(func() { t.Errorf("refresh on replica %d: %d %s", n%2, r.Status, r.Body) })
					return
				}
				body := r.JSON(t)
				refresh[i] = body["refresh_token"].(string)
				me := other.Do(http.MethodGet, "/v1/me", "", nil, "Authorization", "Bearer "+body["access_token"].(string))
				if me.Status != http.StatusOK {
					failures.Add(1)
					firstFailure.Do(func() { t.Errorf("/v1/me on the other replica: %d %s", me.Status, me.Body) })
					return
				}
				done.Add(1)
			}
		})
	}
	testkit.WaitFor(t, 30*time.Second, "a steady stream", func() bool { return done.Load() >= 20 || failures.Load() > 0 })

	var out bytes.Buffer
	if err := runKeysRotate(context.Background(), a.App.Config, slog.New(slog.DiscardHandler), &out); err != nil {
		t.Fatalf("keys rotate: %v", err)
	}
	atRotation := done.Load()
	for _, r := range replicas {
		testkit.WaitFor(t, 5*time.Second, "the replica's switch", func() bool { return r.App.Keys.Ring.KeyID() != oldKID })
	}
	newKID := a.App.Keys.Ring.KeyID()
	if b.App.Keys.Ring.KeyID() != newKID || !strings.Contains(out.String(), newKID) || !strings.Contains(out.String(), oldKID) {
		t.Fatalf("replicas on %s and %s; rotate printed:\n%s", newKID, b.App.Keys.Ring.KeyID(), out.String())
	}
	testkit.WaitFor(t, 30*time.Second, "refreshes after the switch", func() bool { return done.Load() >= atRotation+20 || failures.Load() > 0 })
	stop.Store(true)
	wg.Wait()
	if failures.Load() > 0 {
		t.Fatalf("%d requests failed during the rotation", failures.Load())
	}
	t.Logf("%d refresh-and-verify rounds, %d of them after the rotation", done.Load(), done.Load()-atRotation)
	audited := 0
	for _, e := range a.Audit(auth.EventKeyRotated) {
		if strings.Contains(e.Detail, "new_kid="+newKID) {
			audited++
		}
	}
	if audited != 1 {
		t.Fatalf("%d audit rows for the rotation, want 1", audited)
	}

	// New tokens work at Vonage; tokens from before are refused there, as
	// Vonage keeps one key, but sdkauth accepts them until they expire.
	fresh := a.PostForm("/v1/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh[0]}}).JSON(t)["access_token"].(string)
	if header := servertest.DecodeSegment(t, fresh, 0); header["kid"] != newKID {
		t.Fatalf("a new token is signed by %v", header["kid"])
	}
	if r := a.EmulatorDo(http.MethodGet, "/v1/users", fresh); r.Status != http.StatusOK {
		t.Fatalf("the emulator refuses a new token: %d %s", r.Status, r.Body)
	}
	if r := a.EmulatorDo(http.MethodGet, "/v1/users", before); r.Status != http.StatusUnauthorized {
		t.Fatalf("the emulator accepts a token signed with the old key: %d %s", r.Status, r.Body)
	}
	for i, r := range replicas {
		if me := r.Do(http.MethodGet, "/v1/me", "", nil, "Authorization", "Bearer "+before); me.Status != http.StatusOK {
			t.Fatalf("replica %d refuses a live token signed with the previous key: %d %s", i, me.Status, me.Body)
		}
		kids, cache := jwksKids(t, r)
		if strings.Join(kids, ",") != newKID+","+oldKID || cache != "public, max-age=60" {
			t.Fatalf("replica %d JWKS lists %v with Cache-Control %q", i, kids, cache)
		}
	}

	// Once the previous key's tokens have all expired it is no longer
	// trusted or published; the poll finds that without a notification.
	if err := db.New(a.App.Pool).ExpireSigningKey(context.Background(), db.ExpireSigningKeyParams{ID: oldKID}); err != nil {
		t.Fatal(err)
	}
	for i, r := range replicas {
		testkit.WaitFor(t, 3*a.App.Config.KeyPoll, fmt.Sprintf("replica %d dropping the previous key", i), func() bool {
			kids, _ := jwksKids(t, r)
			return len(kids) == 1
		})
		if me := r.Do(http.MethodGet, "/v1/me", "", nil, "Authorization", "Bearer "+before); me.Status != http.StatusUnauthorized {
			t.Fatalf("replica %d accepts a token of a lapsed key: %d", i, me.Status)
		}
	}
}

// TestRotationKeepsVonageReachable rotates the key while new users sign up
// on two replicas: every sign-up is provisioned inline (201), and once both
// replicas have switched, Vonage (the emulator) refuses none of their admin
// tokens. Before this, a replica kept its cached admin JWT of the retired
// key for minutes, and every sign-up went to 202 pending.
func TestRotationKeepsVonageReachable(t *testing.T) {
	t.Parallel()
	// A generous inline timeout: a sign-up left pending by a slow machine
	// says nothing about the keys, while one whose admin token Vonage
	// refuses is left pending at once, whatever the timeout.
	a := newStack(t, map[string]string{"VONAGE_API_KEY": "key", "VONAGE_API_SECRET": "secret", "SDKAUTH_KEY_POLL": "1s", "SDKAUTH_LOGIN_RATE_PER_IP": "0",
		"SDKAUTH_PROVISION_TIMEOUT": "30s"})
	b := &stack{a.Replica()}
	replicas := []*stack{a, b}
	oldKID := keys.Thumbprint(&a.Key.PublicKey)

	var stop atomic.Bool
	var signups, failures atomic.Int64
	var firstFailure sync.Once
	var started sync.Map // username → when its sign-up was sent
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for n := 0; n < 500 && !stop.Load(); n++ {
				on := replicas[(w+n)%2]
				name := fmt.Sprintf("rotating-%d-%d", w, n)
				started.Store(name, time.Now())
				r := on.PostJSON("/v1/signup", map[string]string{"username": name, "password": "correct horse battery"})
				if r.Status != http.StatusCreated {
					failures.Add(1)
					firstFailure.Do(func() { t.Errorf("sign-up on replica %d: %d %s", (w+n)%2, r.Status, r.Body) })
					return
				}
				signups.Add(1)
			}
		})
	}
	testkit.WaitFor(t, 30*time.Second, "sign-ups before the rotation", func() bool { return signups.Load() >= 10 })
	var out bytes.Buffer
	if err := runKeysRotate(context.Background(), a.App.Config, slog.New(slog.DiscardHandler), &out); err != nil {
		t.Fatalf("keys rotate: %v", err)
	}
	for _, r := range replicas {
		testkit.WaitFor(t, 5*time.Second, "the replica's switch", func() bool { return r.App.Keys.Ring.KeyID() != oldKID })
	}
	switched, atSwitch := time.Now(), signups.Load()
	testkit.WaitFor(t, 30*time.Second, "sign-ups after the switch", func() bool { return signups.Load() >= atSwitch+20 || failures.Load() > 0 })
	stop.Store(true)
	wg.Wait()
	if failures.Load() > 0 {
		t.Fatalf("%d of %d sign-ups were not provisioned at once", failures.Load(), failures.Load()+signups.Load())
	}
	var refusedBefore, refusedAfter int
	for _, req := range a.EmLog.Requests("POST", "/v1/users") {
		if req.Status == http.StatusUnauthorized {
			// A sign-up sent before the switch may carry an old-key token
			// that arrives after it; one sent after must not.
			if at, ok := started.Load(req.Name); ok && at.(time.Time).After(switched) {
				refusedAfter++
			} else {
				refusedBefore++
			}
		}
	}
	if refusedAfter > 0 {
		t.Errorf("the emulator refused %d admin tokens after both replicas switched", refusedAfter)
	}
	t.Logf("%d sign-ups, %d after the switch; the emulator refused %d admin tokens during the switch, each sent again with the new key",
		signups.Load(), signups.Load()-atSwitch, refusedBefore)
}
