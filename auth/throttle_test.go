package auth_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/sdkauth/sdkauth"
	"github.com/sdkauth/sdkauth/auth"
	"github.com/sdkauth/sdkauth/db"
	"github.com/sdkauth/sdkauth/db/dbtest"
)

// retryAfter returns err's RetryAfter, failing t unless err is CodeRateLimited.
func retryAfter(t *testing.T, err error) time.Duration {
	t.Helper()
	var e *sdkauth.Error
	if !errors.As(err, &e) || e.Code != sdkauth.CodeRateLimited {
		t.Fatalf("want rate_limited, got %v", err)
	}
	if e.RetryAfter <= 0 {
		t.Fatalf("rate_limited without RetryAfter")
	}
	return e.RetryAfter
}

func TestPerIPLimitAllowsABurstThenTheRate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := dbtest.New(t)
	cfg := auth.DefaultThrottle(60) // one a second, burst 30
	cfg.Burst = 3
	// Two Throttles on one database stand for two replicas: they share the budget.
	a, b := auth.NewThrottle(pool, cfg), auth.NewThrottle(pool, cfg)
	for i, th := range []*auth.Throttle{a, b, a} {
		if err := th.AllowIP(ctx, "192.0.2.1"); err != nil {
			t.Fatalf("request %d within the burst: %v", i+1, err)
		}
	}
	wait := retryAfter(t, b.AllowIP(ctx, "192.0.2.1"))
	if wait > 1100*time.Millisecond {
		t.Fatalf("Retry-After %s, want about one interval (1s)", wait)
	}
	if err := a.AllowIP(ctx, "192.0.2.2"); err != nil {
		t.Fatalf("another IP is limited too: %v", err)
	}
	if err := a.AllowIP(ctx, ""); err != nil {
		t.Fatalf("a caller without an IP (the CLI) is limited: %v", err)
	}
	if err := auth.NewThrottle(pool, auth.DefaultThrottle(0)).AllowIP(ctx, "192.0.2.1"); err != nil {
		t.Fatalf("rate 0 should turn the limit off: %v", err)
	}
	var nilThrottle *auth.Throttle
	if err := nilThrottle.AllowIP(ctx, "192.0.2.1"); err != nil {
		t.Fatalf("a nil Throttle limits: %v", err)
	}
}

func TestDefaultThrottleIsSixtyAMinuteWithABurstOfThirty(t *testing.T) {
	t.Parallel()
	cfg := auth.DefaultThrottle(60)
	if cfg.PerIPPerMinute != 60 || cfg.Burst != 30 || cfg.MaxDelay <= 0 {
		t.Fatalf("%+v", cfg)
	}
}

func TestAccountDelayGrowsButNeverLocksForGood(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := dbtest.New(t)
	th := auth.NewThrottle(pool, auth.ThrottleConfig{DelayAfter: 3, BaseDelay: time.Second, MaxDelay: 8 * time.Second, ResetAfter: time.Hour})
	key := auth.AccountKey("New-User")
	if key != auth.AccountKey("  new-user ") {
		t.Fatal("account keys depend on case or spaces")
	}
	for range 2 {
		if err := th.Failed(ctx, key); err != nil {
			t.Fatal(err)
		}
	}
	if err := th.CheckAccount(ctx, key); err != nil {
		t.Fatalf("delayed within the free failures: %v", err)
	}
	var last time.Duration
	for i := range 10 {
		if err := th.Failed(ctx, key); err != nil {
			t.Fatal(err)
		}
		wait := retryAfter(t, th.CheckAccount(ctx, key))
		if i < 3 && wait <= last {
			t.Fatalf("failure %d: delay %s did not grow from %s", i+3, wait, last)
		}
		if wait > 8*time.Second {
			t.Fatalf("delay %s passes the cap", wait)
		}
		last = wait
	}
	if err := th.CheckAccount(ctx, auth.AccountKey("another-user")); err != nil {
		t.Fatalf("another account is delayed: %v", err)
	}
	if err := th.Succeeded(ctx, key); err != nil {
		t.Fatal(err)
	}
	if err := th.CheckAccount(ctx, key); err != nil {
		t.Fatalf("still delayed after a success: %v", err)
	}
	if err := th.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestAccountDelayEnds(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := dbtest.New(t)
	th := auth.NewThrottle(pool, auth.ThrottleConfig{DelayAfter: 1, BaseDelay: 300 * time.Millisecond, MaxDelay: time.Minute, ResetAfter: time.Hour})
	key := auth.AccountKey("new-user")
	if err := th.Failed(ctx, key); err != nil {
		t.Fatal(err)
	}
	retryAfter(t, th.CheckAccount(ctx, key))
	// The delay's end is kept in Postgres: age it past the 300 ms.
	if err := db.New(pool).AgeLoginFailures(ctx, db.AgeLoginFailuresParams{Key: key, Seconds: 0.4}); err != nil {
		t.Fatal(err)
	}
	if err := th.CheckAccount(ctx, key); err != nil {
		t.Fatalf("the delay did not end: %v", err)
	}
}
