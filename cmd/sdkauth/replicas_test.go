package main

import (
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/sdkauth/sdkauth/db/dbtest"
	"github.com/sdkauth/sdkauth/internal/servertest"
	"github.com/sdkauth/sdkauth/internal/testkit"
	"github.com/sdkauth/sdkauth/keys"
	"github.com/sdkauth/sdkauth/vonage"
)

// TestThreeReplicasProvisionEveryUserOnce runs three `sdkauth serve`
// processes on one Postgres and one vonage-emulator process, and sends 300
// sign-ups to them, 16 at a time, during an outage of user creation that
// lasts until every sign-up has been answered. Every user must then exist
// at Vonage, created exactly once.
func TestThreeReplicasProvisionEveryUserOnce(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds and runs processes")
	}
	bin := buildBinaries(t)
	key := testkit.Key(t, 0)
	emURL, appID := startEmulatorProcess(t, bin, key)
	env := map[string]string{
		"DATABASE_URL":               dbtest.NewURL(t),
		"SDKAUTH_ADDR":               "127.0.0.1:0",
		"VONAGE_API_URL":             emURL,
		"VONAGE_APPLICATION_ID":      appID,
		"VONAGE_PRIVATE_KEY":         string(keys.EncodePrivateKeyPEM(key)),
		"SDKAUTH_KEY_ENCRYPTION_KEY": keys.NewEncryptionKey(),
		"SDKAUTH_ARGON2_MEMORY_KIB":  "64",
		"SDKAUTH_ARGON2_ITERATIONS":  "1",
		"SDKAUTH_LOGIN_RATE_PER_IP":  "0",
		"SDKAUTH_LOG_LEVEL":          "info",
	}
	var replicas []string
	for range 3 {
		// One after another: the first imports the key the others then load.
		replicas = append(replicas, "http://"+startProcess(t, bin.sdkauth, []string{"serve"}, env, sdkauthReady).Addr)
	}

	emulatorControl(t, emURL, http.MethodPost, "/_emulator/faults", `{"path": "/v1/users", "method": "POST", "status": 503}`)
	outage := time.Now()
	const n = 300
	statuses := make([]int, n)
	client := &http.Client{Timeout: 30 * time.Second}
	var wg sync.WaitGroup
	sem := make(chan struct{}, 16)
	for i := range n {
		// Round-robin over the replicas.
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			st, body, err := postJSONTo(client, replicas[i%3]+"/v1/signup",
				map[string]string{"username": fmt.Sprintf("new-user-%03d", i), "password": servertest.GoodPassword})
			if err != nil || st != http.StatusAccepted {
				t.Errorf("sign-up %d on replica %d: %d %v %s", i, i%3, st, err, body)
			}
			statuses[i] = st
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	emulatorControl(t, emURL, http.MethodDelete, "/_emulator/faults", "")

	var stats map[string]int
	testkit.WaitFor(t, 60*time.Second, fmt.Sprintf("%d creates at Vonage", n), func() bool {
		stats = emulatorStats(t, emURL)
		return stats["POST /v1/users 201"] >= n
	})
	if stats["POST /v1/users 201"] != n || stats["POST /v1/users 409"] != 0 {
		t.Fatalf("stats %v: want exactly %d successful creates and no duplicate-name answer", stats, n)
	}
	if stats["POST /v1/users 503"] < n {
		t.Fatalf("only %d creates met the outage: the test proves little", stats["POST /v1/users 503"])
	}
	// Stats count answers; the emulator's own listing counts users.
	s := &stack{&servertest.Stack{T: t, EmURL: emURL, AppID: appID, Key: key}}
	count := 0
	if err := s.vonageAdmin().EachUser(t.Context(), vonage.ListUsersParams{PageSize: 100}, func(vonage.User) error { count++; return nil }); err != nil {
		t.Fatal(err)
	}
	if count != n {
		t.Fatalf("%d users at Vonage, want %d", count, n)
	}
	t.Logf("%d sign-ups answered 202 during the outage; all %d created once, %s after it began", n, n, time.Since(outage).Round(time.Second))
}
