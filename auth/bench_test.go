package auth_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/crypto/argon2"

	"github.com/sdkauth/sdkauth/auth"
	"github.com/sdkauth/sdkauth/db"
	"github.com/sdkauth/sdkauth/db/dbtest"
)

// Password hashing at the parameters the server runs with. Each operation
// works in the argon2id memory (19 MiB) its slot keeps, so it allocates next
// to nothing; the Hasher bounds how many run at once. Compare with `make
// bench`, whose password phase should approach the parallel rate.
//
//	go test -run '^$' -bench . -benchmem ./auth

const benchPassword = "correct horse battery staple"

func BenchmarkHashOWASP(b *testing.B) {
	h := auth.NewHasher(auth.OWASPParams, time.Minute)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := h.Hash(ctx, benchPassword); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyOWASP(b *testing.B) {
	h := auth.NewHasher(auth.OWASPParams, time.Minute)
	ctx := context.Background()
	enc, err := h.Hash(ctx, benchPassword)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := h.Verify(ctx, enc, benchPassword); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyOWASPParallel oversubscribes the Hasher (b.RunParallel runs
// GOMAXPROCS goroutines; SetParallelism makes it 4× that): its slots keep
// the number of concurrent hashes, and so the memory, at GOMAXPROCS.
func BenchmarkVerifyOWASPParallel(b *testing.B) {
	h := auth.NewHasher(auth.OWASPParams, time.Minute)
	ctx := context.Background()
	enc, err := h.Hash(ctx, benchPassword)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetParallelism(4)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := h.Verify(ctx, enc, benchPassword); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkIDKeyOWASPParallel is argon2.IDKey alone on GOMAXPROCS
// goroutines, as `make bench` measures the argon2id rate: it allocates the
// 19 MiB per call that the Hasher's slots keep (compare its B/op and
// ns/op with BenchmarkVerifyOWASPParallel's).
func BenchmarkIDKeyOWASPParallel(b *testing.B) {
	p := auth.OWASPParams
	salt := make([]byte, p.SaltLen)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			argon2.IDKey([]byte(benchPassword), salt, p.Iterations, p.MemoryKiB, p.Parallelism, p.KeyLen)
		}
	})
}

// benchSession starts a session for a new provisioned user and returns its
// refresh token.
func benchSession(b *testing.B, pool *pgxpool.Pool, s *auth.Sessions) string {
	b.Helper()
	ctx := context.Background()
	q := db.New(pool)
	u, err := q.CreateUser(ctx, db.CreateUserParams{ID: uuid.New(), Username: "bench-" + uuid.NewString()[:8], PasswordHash: "x", Policy: "client-sdk"})
	if err != nil {
		b.Fatal(err)
	}
	vid := "USR-" + uuid.NewString()
	if _, err := q.MarkUserProvisioned(ctx, db.MarkUserProvisionedParams{ID: u.ID, VonageUserID: &vid}); err != nil {
		b.Fatal(err)
	}
	tok, err := s.Start(ctx, u.ID, auth.Origin{IP: "127.0.0.1", UserAgent: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	return tok
}

// BenchmarkSessionsRefresh is one rotation as the refresh grant does it,
// audit record included, against the test Postgres (fsync off): its time is
// mostly round trips: a fresh token rotates in one statement (see
// Sessions.Refresh).
func BenchmarkSessionsRefresh(b *testing.B) {
	pool := dbtest.New(b)
	s := auth.NewSessions(pool, auth.SessionConfig{Idle: time.Hour, Max: 24 * time.Hour, Grace: 10 * time.Second},
		auth.NewAudit(pool, slog.New(slog.NewTextHandler(io.Discard, nil))))
	tok := benchSession(b, pool, s)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		r, err := s.Refresh(ctx, tok, nil)
		if err != nil {
			b.Fatal(err)
		}
		tok = r.RefreshToken
	}
}

// BenchmarkSessionsRefreshParallel runs one rotation chain per goroutine.
func BenchmarkSessionsRefreshParallel(b *testing.B) {
	pool := dbtest.New(b)
	s := auth.NewSessions(pool, auth.SessionConfig{Idle: time.Hour, Max: 24 * time.Hour, Grace: 10 * time.Second},
		auth.NewAudit(pool, slog.New(slog.NewTextHandler(io.Discard, nil))))
	ctx := context.Background()
	b.ReportAllocs()
	b.SetParallelism(4)
	b.RunParallel(func(pb *testing.PB) {
		tok := benchSession(b, pool, s)
		for pb.Next() {
			r, err := s.Refresh(ctx, tok, nil)
			if err != nil {
				b.Error(err)
				return
			}
			tok = r.RefreshToken
		}
	})
}

// BenchmarkRotationGroupPlans rotates groups of 8 fresh refresh tokens in
// one statement (the refresh grant's common path) on a single connection,
// and reports the Postgres backend's CPU per refresh, read from /proc, with
// the plan cache left to choose and with Postgres's generic plan forced.
func BenchmarkRotationGroupPlans(b *testing.B) {
	url := dbtest.NewURL(b)
	for _, mode := range []string{"auto", "force_generic_plan", "force_custom_plan"} {
		b.Run(mode, func(b *testing.B) {
			ctx := context.Background()
			cfg, err := pgxpool.ParseConfig(url)
			if err != nil {
				b.Fatal(err)
			}
			cfg.MaxConns = 1
			cfg.ConnConfig.RuntimeParams["plan_cache_mode"] = mode
			pool, err := pgxpool.NewWithConfig(ctx, cfg)
			if err != nil {
				b.Fatal(err)
			}
			defer pool.Close()
			s := auth.NewSessions(pool, auth.SessionConfig{Idle: time.Hour, Max: 24 * time.Hour, Grace: 10 * time.Second},
				auth.NewAudit(pool, slog.New(slog.NewTextHandler(io.Discard, nil))))
			pairs := make([][2]string, 8)
			for i := range pairs {
				pairs[i][0] = benchSession(b, pool, s)
			}
			// The connection's first rotations are single ones, as at a
			// quiet moment.
			for range 10 {
				next := uuid.NewString()
				if _, err := s.RotateGroup([][2]string{{pairs[0][0], next}}); err != nil {
					b.Fatal(err)
				}
				pairs[0][0] = next
			}
			var pid int
			if err := pool.QueryRow(ctx, "SELECT pg_backend_pid()").Scan(&pid); err != nil {
				b.Fatal(err)
			}
			start := procCPU(b, pid)
			n := 0
			for b.Loop() {
				for i := range pairs {
					pairs[i][1] = uuid.NewString()
				}
				rotated, err := s.RotateGroup(pairs)
				if err != nil {
					b.Fatal(err)
				}
				for i, ok := range rotated {
					if !ok {
						b.Fatalf("token %d did not rotate", i)
					}
					pairs[i][0] = pairs[i][1]
				}
				n += len(pairs)
			}
			b.ReportMetric(float64((procCPU(b, pid)-start)/time.Microsecond)/float64(n), "pg-cpu-µs/refresh")
		})
	}
}

// procCPU is the user and system CPU time of process pid.
func procCPU(b *testing.B, pid int) time.Duration {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		b.Fatal(err)
	}
	f := strings.Fields(string(raw[bytes.LastIndexByte(raw, ')')+2:]))
	utime, _ := strconv.Atoi(f[11])
	stime, _ := strconv.Atoi(f[12])
	return time.Duration(utime+stime) * 10 * time.Millisecond // USER_HZ is 100
}
