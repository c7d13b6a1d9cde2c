package keys

import (
	"fmt"
	"runtime"
	"syscall"
	"testing"
	"time"
)

// The signers' benchmarks, each run for every signer (go, openssl). Compare
// with
//
//	go test -run '^$' -bench 'Sign|UserToken|Claims' -benchmem ./keys
//
// and with `openssl speed rsa2048` on the same machine. cpu-µs/op is the
// process's CPU time (user and system, every thread, the OpenSSL signer's C
// threads included) per operation: on a shared machine it is steadier than
// ns/op, and ns/op alone hides work moved to other threads.

func benchClaims() Claims {
	acl := DefaultACL()
	iat := time.Unix(time.Now().Unix(), 0)
	return Claims{ApplicationID: testAppID, Subject: "new-user", ACL: &acl, IssuedAt: iat, ExpiresAt: iat.Add(DefaultTTL),
		ID: "6f1c3c0e-5a3b-4c7e-9d2a-0b8e6f4a1c2d"}
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU adds cpu-µs/op, the CPU spent since cpu0 per operation.
func reportCPU(b *testing.B, cpu0 time.Duration) {
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N), "cpu-µs/op")
}

// benchEachSigner runs f as a sub-benchmark for every signer kind.
func benchEachSigner(b *testing.B, f func(b *testing.B, s Signer)) {
	key, _ := testKeys(b)
	for _, kind := range signerKinds(b) {
		b.Run(kind.name, func(b *testing.B) {
			s := newTestSigner(b, kind, key)
			b.ReportAllocs()
			cpu0 := cpuTime()
			f(b, s)
			reportCPU(b, cpu0)
		})
	}
}

// BenchmarkSign is one signature at a time.
func BenchmarkSign(b *testing.B) {
	c := benchClaims()
	benchEachSigner(b, func(b *testing.B, s Signer) {
		for b.Loop() {
			if _, err := s.Sign(c); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkSignParallel is the in-process signing rate: one shared signer
// on every core, with one goroutine per core and with eight, as a busy
// server has more requests in flight than cores.
func BenchmarkSignParallel(b *testing.B) {
	c := benchClaims()
	for _, perProc := range []int{1, 8} {
		b.Run(fmt.Sprintf("goroutines=%d", perProc*runtime.GOMAXPROCS(0)), func(b *testing.B) {
			benchEachSigner(b, func(b *testing.B, s Signer) {
				b.SetParallelism(perProc)
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if _, err := s.Sign(c); err != nil {
							b.Error(err)
							return
						}
					}
				})
			})
		})
	}
}

// BenchmarkUserToken is a whole mint as the token endpoint does it, on
// every core: ttl and ACL checks, claims with a fresh jti, and the
// signature.
func BenchmarkUserToken(b *testing.B) {
	acl := DefaultACL()
	benchEachSigner(b, func(b *testing.B, s Signer) {
		m := Minter{ApplicationID: testAppID, Signer: s}
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, _, err := m.UserToken("new-user", acl, DefaultTTL); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}

// BenchmarkMinterClaims is claim building without the signature: the clock
// and a random UUID v4 for jti.
func BenchmarkMinterClaims(b *testing.B) {
	m := Minter{ApplicationID: testAppID}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.claims(DefaultTTL); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkACLNarrow is the work a token request that narrows its ACL adds.
func BenchmarkACLNarrow(b *testing.B) {
	pol := DefaultACL()
	req := ACL{Paths: map[string]ACLRule{"/*/users/**": {Methods: []string{"GET"}}, "/*/conversations/**": {}}}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := pol.Narrow(req); err != nil {
			b.Fatal(err)
		}
	}
}
