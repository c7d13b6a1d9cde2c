package users

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sdkauth/sdkauth/db"
)

// upstreamVonage names the Vonage hold in upstream_holds.
const upstreamVonage = "vonage"

// holdRefresh is how stale a replica's view of another replica's hold may
// be: the shared hold is read at most this often, so checking it costs no
// database round trip per call to Vonage.
const holdRefresh = time.Second

// hold is the Retry-After hold on calls to Vonage. Vonage rate-limits the
// account, not one replica, so a hold that one replica is given is stored
// in Postgres and every replica honours it: a replica learns of another's
// hold within holdRefresh, and of its own at once. Only provisioning
// consults it; token requests never do.
type hold struct {
	pool  *pgxpool.Pool
	log   *slog.Logger
	until atomic.Int64 // unix nanoseconds on this process's clock

	mu     sync.Mutex // serialises reads of the shared hold
	readAt time.Time
}

func newHold(pool *pgxpool.Pool, log *slog.Logger) *hold {
	return &hold{pool: pool, log: log}
}

// remaining is how long no replica may call Vonage. When the shared hold
// cannot be read, what this process knows is used.
func (h *hold) remaining(ctx context.Context) time.Duration {
	h.mu.Lock()
	if time.Since(h.readAt) >= holdRefresh {
		h.readAt = time.Now()
		rctx, cancel := context.WithTimeout(ctx, holdRefresh)
		secs, err := db.New(h.pool).UpstreamHoldRemaining(rctx, upstreamVonage)
		cancel()
		if err != nil {
			h.log.DebugContext(ctx, "reading the shared Vonage hold", "err", err)
		} else {
			h.raise(time.Duration(secs * float64(time.Second)))
		}
	}
	h.mu.Unlock()
	return max(0, time.Until(time.Unix(0, h.until.Load())))
}

// extend holds every replica off Vonage for d from now, unless a longer
// hold is in place. The hold is stored as a duration from the database's
// now, so replicas need not agree on the time; a failure to store it is
// logged, and this process holds off all the same.
func (h *hold) extend(ctx context.Context, d time.Duration) {
	h.raise(d)
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	err := db.New(h.pool).ExtendUpstreamHold(ctx, db.ExtendUpstreamHoldParams{Upstream: upstreamVonage, Seconds: d.Seconds()})
	if err != nil {
		h.log.WarnContext(ctx, "storing Vonage's Retry-After for the other replicas", "retry_after", d, "err", err)
	}
}

// raise moves this process's hold to d from now, unless it already ends
// later.
func (h *hold) raise(d time.Duration) {
	if d <= 0 {
		return
	}
	until := time.Now().Add(d).UnixNano()
	for {
		cur := h.until.Load()
		if cur >= until || h.until.CompareAndSwap(cur, until) {
			return
		}
	}
}
