package main

import (
	"bufio"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sdkauth/sdkauth/db/dbtest"
	"github.com/sdkauth/sdkauth/internal/servertest"
	"github.com/sdkauth/sdkauth/internal/testkit"
	"github.com/sdkauth/sdkauth/keys"
)

// BenchmarkLoginStorm runs `sdkauth serve` as its own process with the
// production argon2id parameters (19 MiB, t=2) and fires 200 concurrent
// password logins at it per iteration. It reports the process's peak
// resident memory (VmHWM): the bounded hashing slots must keep it far
// below 300 MiB, answering the excess with 503 and Retry-After.
//
//	go test -run '^$' -bench BenchmarkLoginStorm -benchtime 3x ./cmd/sdkauth/
func BenchmarkLoginStorm(b *testing.B) {
	bin := buildBinaries(b)
	key := testkit.Key(b, 0)
	emURL, appID := startEmulatorProcess(b, bin, key)
	p := startProcess(b, bin.sdkauth, []string{"serve"}, map[string]string{
		"DATABASE_URL":               dbtest.NewURL(b),
		"SDKAUTH_ADDR":               "127.0.0.1:0",
		"VONAGE_API_URL":             emURL,
		"VONAGE_APPLICATION_ID":      appID,
		"VONAGE_PRIVATE_KEY":         string(keys.EncodePrivateKeyPEM(key)),
		"SDKAUTH_KEY_ENCRYPTION_KEY": keys.NewEncryptionKey(),
		"SDKAUTH_LOGIN_RATE_PER_IP":  "0",
		"SDKAUTH_LOG_LEVEL":          "info",
	}, sdkauthReady)
	base := "http://" + p.Addr
	client := &http.Client{Timeout: time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: 200}}
	if st, body, err := postJSONTo(client, base+"/v1/signup", map[string]string{"username": "new-user", "password": servertest.GoodPassword}); err != nil || st != http.StatusCreated {
		b.Fatalf("signup: %d %v %s", st, err, body)
	}
	before := procStatus(b, p.cmd.Process.Pid, "VmRSS")
	var ok, busy, other atomic.Int64
	for b.Loop() {
		var wg sync.WaitGroup
		for range 200 {
			wg.Go(func() {
				st, _, err := postJSONTo(client, base+"/v1/token", map[string]string{"grant_type": "password", "username": "new-user", "password": servertest.GoodPassword})
				switch {
				case err == nil && st == http.StatusOK:
					ok.Add(1)
				case err == nil && st == http.StatusServiceUnavailable:
					busy.Add(1)
				default:
					other.Add(1)
				}
			})
		}
		wg.Wait()
	}
	if other.Load() > 0 {
		b.Fatalf("%d logins answered neither 200 nor 503", other.Load())
	}
	peak := procStatus(b, p.cmd.Process.Pid, "VmHWM")
	b.ReportMetric(before, "idle-RSS-MiB")
	b.ReportMetric(peak, "peak-RSS-MiB")
	b.ReportMetric(float64(ok.Load())/float64(b.N), "ok/op")
	b.ReportMetric(float64(busy.Load())/float64(b.N), "503/op")
	if peak >= 300 {
		b.Errorf("peak RSS %.0f MiB, want under 300", peak)
	}
}

// procStatus returns a kB field of /proc/PID/status in MiB.
func procStatus(tb testing.TB, pid int, field string) float64 {
	tb.Helper()
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		tb.Skipf("no /proc on this system: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, found := strings.CutPrefix(sc.Text(), field+":"); found {
			kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			if err != nil {
				tb.Fatal(err)
			}
			return kb / 1024
		}
	}
	tb.Fatalf("%s not in /proc/%d/status", field, pid)
	return 0
}
