package api_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sdkauth/sdkauth/internal/servertest"
)

// BenchmarkTokenEndpoint drives POST /v1/token through sdkauth's handler as
// `serve` wires it (Gin, middleware, metrics, the real Postgres, the signer
// SDKAUTH_SIGNER picks) with no network in the way, so that -benchmem and
// -cpuprofile show sdkauth's own work per token. The stack's logger
// discards, so the access-log line is not in it. make bench measures the
// same grants over loopback.
//
//	go test -run '^$' -bench TokenEndpoint -benchmem ./api/
func BenchmarkTokenEndpoint(b *testing.B) {
	s := newStack(b, map[string]string{"SDKAUTH_LOGIN_RATE_PER_IP": "0"})
	id, secret := s.NewClient("tokens:admin")
	refresh := s.Signup("new-user", servertest.GoodPassword)["refresh_token"].(string)

	post := func(b *testing.B, body, authorization string) string {
		req := httptest.NewRequest(http.MethodPost, "/v1/token", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if authorization != "" {
			req.Header.Set("Authorization", authorization)
		}
		w := httptest.NewRecorder()
		s.App.Handler.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatalf("%s: %d %s", body, w.Code, w.Body)
		}
		return w.Body.String()
	}
	b.Run("client_credentials", func(b *testing.B) {
		authorization := servertest.Basic(id, secret)
		b.ReportAllocs()
		defer reportCPU(b)()
		for b.Loop() {
			post(b, "grant_type=client_credentials", authorization)
		}
	})
	b.Run("refresh_token", func(b *testing.B) {
		b.ReportAllocs()
		defer reportCPU(b)()
		for b.Loop() {
			refresh = jsonString(post(b, "grant_type=refresh_token&refresh_token="+refresh, ""), "refresh_token")
		}
	})

	// The same with 16 requests in flight, as make bench sends them, so
	// that concurrent requests share commits as they do in production.
	const inFlight = 16
	parallelism := max(1, inFlight/runtime.GOMAXPROCS(0))
	b.Run("client_credentials_parallel", func(b *testing.B) {
		authorization := servertest.Basic(id, secret)
		b.ReportAllocs()
		b.SetParallelism(parallelism)
		defer reportCPU(b)()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				post(b, "grant_type=client_credentials", authorization)
			}
		})
	})
	chains := make(chan string, parallelism*runtime.GOMAXPROCS(0))
	for i := range cap(chains) {
		chains <- s.Signup(fmt.Sprintf("new-user-%d", i), servertest.GoodPassword)["refresh_token"].(string)
	}
	b.Run("refresh_token_parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.SetParallelism(parallelism)
		defer reportCPU(b)()
		b.RunParallel(func(pb *testing.PB) {
			tok := <-chains // each goroutine follows its own rotation chain
			defer func() { chains <- tok }()
			for pb.Next() {
				tok = jsonString(post(b, "grant_type=refresh_token&refresh_token="+tok, ""), "refresh_token")
			}
		})
	})
}

// reportCPU reports this process's CPU time (user and system) per
// operation as cpu-µs/op when the function it returns is called: ns/op is
// wall time, which includes waiting for Postgres to commit.
func reportCPU(b *testing.B) func() {
	cpu := func() time.Duration {
		var ru syscall.Rusage
		if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
			b.Fatal(err)
		}
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	start := cpu()
	return func() {
		b.ReportMetric(float64((cpu()-start)/time.Microsecond)/float64(b.N), "cpu-µs/op")
	}
}

// jsonString returns the string member name of a flat JSON object, without
// the cost of decoding the whole answer inside a timed loop.
func jsonString(body, name string) string {
	_, rest, ok := strings.Cut(body, `"`+name+`":"`)
	if !ok {
		return ""
	}
	v, _, _ := strings.Cut(rest, `"`)
	return v
}
