package users

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/sdkauth/sdkauth/db"
)

// WorkerConfig tunes the background provisioning worker. Zero fields take
// the defaults shown.
type WorkerConfig struct {
	// Poll is how often the outbox is checked for due jobs (1 s).
	Poll time.Duration
	// Batch is how many jobs one claim takes, run side by side (10).
	Batch int
	// JobTimeout bounds one job's calls to Vonage (10 s).
	JobTimeout time.Duration
	// Lease is how long a claimed job is hidden from other workers; it must
	// outlast JobTimeout, and a crashed worker's jobs come due after it (60 s).
	Lease time.Duration
}

// Worker runs the provisioning outbox in the background. Any number of
// workers, in one process or in many replicas, may run on one database:
// each claim takes due jobs with FOR UPDATE SKIP LOCKED and leases them, so
// no job is run twice at once and a user's jobs run in order.
type Worker struct {
	prov *Provisioner
	cfg  WorkerConfig
	log  *slog.Logger
}

// NewWorker returns a Worker running prov's jobs.
func NewWorker(prov *Provisioner, cfg WorkerConfig) *Worker {
	if cfg.Poll <= 0 {
		cfg.Poll = time.Second
	}
	if cfg.Batch <= 0 {
		cfg.Batch = 10
	}
	if cfg.JobTimeout <= 0 {
		cfg.JobTimeout = 10 * time.Second
	}
	if cfg.Lease <= cfg.JobTimeout {
		cfg.Lease = max(60*time.Second, 2*cfg.JobTimeout)
	}
	return &Worker{prov: prov, cfg: cfg, log: prov.log}
}

// Run works the outbox until ctx ends, then returns once the jobs in hand
// have finished (each is bounded by JobTimeout), so shutdown loses nothing:
// a job interrupted by a crash instead comes due again when its lease ends.
func (w *Worker) Run(ctx context.Context) {
	t := time.NewTicker(w.cfg.Poll)
	defer t.Stop()
	for {
		n, err := w.RunOnce(ctx)
		if err != nil && ctx.Err() == nil {
			w.log.ErrorContext(ctx, "claiming provisioning jobs", "err", err)
		}
		if n == w.cfg.Batch && ctx.Err() == nil {
			continue // more may be due
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-w.prov.wake:
		}
	}
}

// RunOnce claims the jobs that are due (up to Batch) and runs them side by
// side, returning how many it claimed. While Vonage's Retry-After holds (on
// any replica) it claims nothing. It returns the database's error from the claim; jobs'
// own failures are recorded on them.
func (w *Worker) RunOnce(ctx context.Context) (int, error) {
	if ctx.Err() != nil || w.prov.held(ctx) > 0 {
		return 0, nil
	}
	jobs, err := db.New(w.prov.pool).ClaimProvisioningJobs(ctx, db.ClaimProvisioningJobsParams{
		LeaseSeconds: w.cfg.Lease.Seconds(),
		MaxJobs:      int32(w.cfg.Batch),
	})
	if err != nil {
		return 0, err
	}
	var wg sync.WaitGroup
	for _, job := range jobs {
		wg.Go(func() {
			// Not cancelled with ctx: a job in hand finishes, within its
			// timeout, so its outcome is recorded.
			jctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), w.cfg.JobTimeout)
			defer cancel()
			if err := w.prov.Run(jctx, job); err != nil {
				w.log.DebugContext(jctx, "provisioning job failed", "job_id", job.ID, "kind", job.Kind, "user_id", job.UserID, "err", err)
			}
		})
	}
	wg.Wait()
	return len(jobs), nil
}
