package server

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sdkauth/sdkauth/auth"
	"github.com/sdkauth/sdkauth/keys"
	"github.com/sdkauth/sdkauth/users"
	"github.com/sdkauth/sdkauth/vonage"
)

// Accounts is the wiring of everything about end users: sign-up and login
// with their throttle and audit log, sessions, and provisioning to Vonage
// with its background worker.
type Accounts struct {
	Audit       *auth.Audit
	Throttle    *auth.Throttle
	Sessions    *auth.Sessions
	Provisioner *users.Provisioner
	Users       *users.Service
	Worker      *users.Worker
	// auditRetention is how long audit rows are kept (SDKAUTH_AUDIT_RETENTION).
	auditRetention time.Duration
}

func newAccounts(cfg Config, pool *pgxpool.Pool, client *vonage.Client, hasher *auth.Hasher, policies *auth.Policies, log *slog.Logger) *Accounts {
	audit := auth.NewAudit(pool, log)
	throttle := auth.NewThrottle(pool, auth.DefaultThrottle(cfg.LoginRatePerIP))
	prov := users.NewProvisioner(users.ProvisionerConfig{
		Pool:        pool,
		Vonage:      client,
		Timeout:     cfg.ProvisionTimeout,
		MaxAttempts: cfg.ProvisioningMaxAttempts,
		Log:         log,
		Audit:       audit,
	})
	return &Accounts{
		Audit:       audit,
		Throttle:    throttle,
		Sessions:    auth.NewSessions(pool, auth.SessionConfig{Idle: cfg.SessionIdle, Max: cfg.SessionMax, Grace: cfg.RefreshGrace, Throttle: throttle, Log: log, Policies: policies}, audit),
		Provisioner: prov,
		Users: users.NewService(users.ServiceConfig{
			Pool:        pool,
			Hasher:      hasher,
			Provisioner: prov,
			Throttle:    throttle,
			Audit:       audit,
			Log:         log,
			// Until every token naming the user has expired: at most
			// SDKAUTH_TOKEN_MAX_TTL under client-sdk, but an admin policy
			// may allow up to Vonage's 24 h, so the longer of the two.
			NameReservation: max(cfg.TokenMaxTTL, keys.MaxTTL),
			DefaultPolicy:   cfg.DefaultPolicy,
		}),
		Worker:         users.NewWorker(prov, users.WorkerConfig{}),
		auditRetention: cfg.AuditRetention,
	}
}

// sweepEvery is how often expired throttle counters, sessions, name
// reservations and audit rows are deleted.
const sweepEvery = time.Minute

// RunBackground starts the provisioning worker and the sweeper; the
// returned stop cancels them and waits until the jobs in hand have finished.
func (a *Accounts) RunBackground(ctx context.Context, log *slog.Logger) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { a.Worker.Run(ctx) })
	wg.Go(func() {
		t := time.NewTicker(sweepEvery)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			for _, sweep := range []func(context.Context) error{a.Throttle.Sweep, a.Sessions.Sweep, a.Users.Sweep, a.SweepAudit} {
				if err := sweep(ctx); err != nil && ctx.Err() == nil {
					log.WarnContext(ctx, "sweeping expired rows", "err", err)
				}
			}
		}
	})
	return func() {
		cancel()
		wg.Wait()
	}
}

// SweepAudit deletes the audit rows older than the retention, a bounded
// number of small batches at a time.
func (a *Accounts) SweepAudit(ctx context.Context) error {
	_, err := a.Audit.Sweep(ctx, auth.Retention{Keep: a.auditRetention})
	return err
}
