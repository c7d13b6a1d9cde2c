package auth

import (
	"context"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sdkauth/sdkauth"
	"github.com/sdkauth/sdkauth/db"
)

// ThrottleConfig sets the brute-force limits.
type ThrottleConfig struct {
	// PerIPPerMinute is the sustained rate of password checks one IP may
	// make; 0 turns the per-IP limit off (for load tests).
	PerIPPerMinute int
	// Burst is how many checks an IP may make at once before the rate applies.
	Burst int
	// DelayAfter is the number of failures in a row after which the next
	// attempt waits BaseDelay; each further failure doubles the wait.
	// Below 1 it is taken as 1.
	DelayAfter int
	// BaseDelay is the first delay; each further failure doubles it.
	BaseDelay time.Duration
	// MaxDelay caps the delay: an account is slowed down, never locked for
	// good, which would hand anyone a way to lock its owner out.
	MaxDelay time.Duration
	// ResetAfter is how long after its last failure an account starts afresh.
	ResetAfter time.Duration
}

// DefaultThrottle returns the limits DESIGN.md names: perIPPerMinute a
// minute per IP with a burst of half that (60 and 30 by default), and per
// account a delay doubling from 1 s after 5 failures, at most 15 minutes.
func DefaultThrottle(perIPPerMinute int) ThrottleConfig {
	return ThrottleConfig{
		PerIPPerMinute: perIPPerMinute,
		Burst:          max(1, (perIPPerMinute+1)/2),
		DelayAfter:     5,
		BaseDelay:      time.Second,
		MaxDelay:       15 * time.Minute,
		ResetAfter:     12 * time.Hour,
	}
}

// Throttle limits password checks per IP and per account. Its counters live
// in Postgres, so every replica enforces the same budget; each check is one
// statement (no advisory lock), which Postgres-compatible engines also run.
// A nil *Throttle allows everything.
type Throttle struct {
	pool *pgxpool.Pool
	cfg  ThrottleConfig
}

// NewThrottle returns a Throttle with the limits in cfg.
func NewThrottle(pool *pgxpool.Pool, cfg ThrottleConfig) *Throttle {
	return &Throttle{pool: pool, cfg: cfg}
}

// AccountKey is the throttle key of a username: lowercased, as usernames
// are unique regardless of case, and the same whether or not the user
// exists, so that a delay says nothing about existence.
func AccountKey(username string) string {
	return "user:" + strings.ToLower(strings.TrimSpace(username))
}

// AllowIP draws one attempt from ip's budget. It returns CodeRateLimited,
// with the wait as RetryAfter, when the budget is spent, or the database's
// error. An empty ip (a command-line caller) is not limited.
func (t *Throttle) AllowIP(ctx context.Context, ip string) error {
	if t == nil || t.cfg.PerIPPerMinute <= 0 || ip == "" {
		return nil
	}
	interval := 60 / float64(t.cfg.PerIPPerMinute)
	burst := float64(t.cfg.Burst) * interval
	q := db.New(t.pool)
	key := "ip:" + ip
	_, err := q.TakeRateToken(ctx, db.TakeRateTokenParams{Key: key, IntervalSeconds: interval, BurstSeconds: burst})
	if err == nil {
		return nil
	}
	if !db.IsNotFound(err) {
		return err
	}
	ahead, err := q.RateLimitBacklog(ctx, key)
	if err != nil && !db.IsNotFound(err) {
		return err
	}
	return rateLimited(seconds(ahead + interval - burst))
}

// CheckAccount returns CodeRateLimited while account (see AccountKey) must
// wait after earlier failures, or the database's error.
func (t *Throttle) CheckAccount(ctx context.Context, account string) error {
	if t == nil {
		return nil
	}
	wait, err := db.New(t.pool).AccountLockedFor(ctx, account)
	if db.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	return rateLimited(seconds(wait))
}

// Failed counts a failed password check against account and sets the delay
// before its next attempt. It returns the database's error.
func (t *Throttle) Failed(ctx context.Context, account string) error {
	if t == nil {
		return nil
	}
	q := db.New(t.pool)
	n, err := q.RecordLoginFailure(ctx, db.RecordLoginFailureParams{Key: account, ResetSeconds: t.cfg.ResetAfter.Seconds()})
	if err != nil {
		return err
	}
	d := t.delay(int(n))
	if d <= 0 {
		return nil
	}
	return q.LockAccount(ctx, db.LockAccountParams{Key: account, DelaySeconds: d.Seconds()})
}

// delay is the wait after the nth failure in a row: none before the
// DelayAfter-th, BaseDelay after it, doubling with each further one.
func (t *Throttle) delay(n int) time.Duration {
	over := n - max(t.cfg.DelayAfter, 1)
	if over < 0 {
		return 0
	}
	d := t.cfg.BaseDelay << min(over, 30)
	if d <= 0 || d > t.cfg.MaxDelay {
		d = t.cfg.MaxDelay
	}
	return d
}

// Succeeded forgets account's failures. It returns the database's error.
func (t *Throttle) Succeeded(ctx context.Context, account string) error {
	if t == nil {
		return nil
	}
	return db.New(t.pool).ClearLoginFailures(ctx, account)
}

// Sweep deletes counters that no longer hold anything back. It returns the
// database's error.
func (t *Throttle) Sweep(ctx context.Context) error {
	if t == nil {
		return nil
	}
	q := db.New(t.pool)
	if _, err := q.SweepRateLimits(ctx); err != nil {
		return err
	}
	_, err := q.SweepLoginFailures(ctx, t.cfg.ResetAfter.Seconds())
	return err
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

func rateLimited(wait time.Duration) error {
	return &sdkauth.Error{
		Code:       sdkauth.CodeRateLimited,
		Message:    "Too many attempts; try again later.",
		RetryAfter: max(wait, time.Second),
	}
}
