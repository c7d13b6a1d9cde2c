// Package testkit holds what many test packages share: RSA keys generated
// once per test binary, and a wait that polls a condition instead of
// sleeping for a guessed time.
package testkit

import (
	"crypto/rand"
	"crypto/rsa"
	"sync"
	"testing"
	"time"
)

// Keys is how many distinct keys Key hands out.
const Keys = 4

var keys [Keys]struct {
	once sync.Once
	key  *rsa.PrivateKey
	err  error
}

// Key returns RSA-2048 key number i (0 ≤ i < Keys), generated the first
// time it is asked for and shared by every test in the binary after that:
// generating 2048-bit keys is the slowest thing many tests would do.
func Key(t testing.TB, i int) *rsa.PrivateKey {
	t.Helper()
	k := &keys[i]
	k.once.Do(func() { k.key, k.err = rsa.GenerateKey(rand.Reader, 2048) })
	if k.err != nil {
		t.Fatalf("generating test key %d: %v", i, k.err)
	}
	return k.key
}

// pollEvery is how often WaitFor checks its condition.
const pollEvery = 10 * time.Millisecond

// WaitFor checks cond until it holds, failing t with what when within has
// passed first. Tests wait for the state they need rather than sleeping,
// so they neither fail on a slow machine nor idle on a fast one.
func WaitFor(t testing.TB, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	tick := time.NewTicker(pollEvery)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited %s for %s", within, what)
		}
		<-tick.C
	}
}

// NextSecond waits until the wall clock has reached a later whole second
// than when it was called. Rules with whole-second resolution (a JWT's iat
// against a user's tokens_valid_after) need an earlier second, not a
// guessed sleep; this waits half a second on average.
func NextSecond(t testing.TB) {
	t.Helper()
	start := time.Now().Unix()
	WaitFor(t, 2*time.Second, "the next whole second", func() bool { return time.Now().Unix() > start })
}
