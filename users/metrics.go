package users

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/sdkauth/sdkauth/db"
)

// metrics counts this process's provisioning work. The /metrics endpoint
// reads them through Stats.
type metrics struct {
	attempts  atomic.Int64
	succeeded atomic.Int64
	create    atomic.Int64
	update    atomic.Int64
	delete    atomic.Int64
}

func (m *metrics) failed(kind string) {
	switch kind {
	case JobCreate:
		m.create.Add(1)
	case JobUpdate:
		m.update.Add(1)
	case JobDelete:
		m.delete.Add(1)
	}
}

// Stats describes the provisioning outbox: the queue, shared by every
// replica, and this process's counters since it started.
type Stats struct {
	// Depth is how many jobs wait in the outbox to be tried (all replicas).
	Depth int64
	// OldestAge is how long the oldest of them has waited.
	OldestAge time.Duration
	// FailedJobs is how many jobs have ended as failed and wait for a
	// person to retry them (all replicas).
	FailedJobs int64
	// Attempts is how many job attempts this process sent to Vonage (one
	// attempt may take two calls: a look-up and the change).
	Attempts int64
	// Succeeded is how many jobs this process completed.
	Succeeded int64
	// Failures counts this process's failed attempts by job kind.
	Failures map[string]int64
}

// Stats reads the queue and the counters. It returns the database's error.
func (p *Provisioner) Stats(ctx context.Context) (Stats, error) {
	row, err := db.New(p.pool).ProvisioningQueueStats(ctx)
	if err != nil {
		return Stats{}, err
	}
	return Stats{
		Depth:      row.Depth,
		OldestAge:  time.Duration(row.OldestAgeSeconds * float64(time.Second)),
		FailedJobs: row.Failed,
		Attempts:   p.metrics.attempts.Load(),
		Succeeded:  p.metrics.succeeded.Load(),
		Failures: map[string]int64{
			JobCreate: p.metrics.create.Load(),
			JobUpdate: p.metrics.update.Load(),
			JobDelete: p.metrics.delete.Load(),
		},
	}, nil
}
