package auth

import (
	"context"
	"sync"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sdkauth/sdkauth/db"
)

// maxAuditBatch bounds one round trip's worth of audit rows.
const maxAuditBatch = 256

// auditBatcher commits audit rows written outside a transaction in groups:
// rows that arrive while one group is being written go together in the next
// round trip and commit. Each writer still waits until its row is durable,
// so nothing is lost on a crash, but under load many requests share one
// commit (and one WAL flush) instead of paying for their own. Its goroutine
// runs only while there are rows to write.
type auditBatcher struct {
	pool    *pgxpool.Pool
	mu      sync.Mutex
	queue   []pendingAudit
	running bool
}

type pendingAudit struct {
	row  db.InsertAuditEventsParams
	done chan error
}

// write queues row and waits until it is committed. It returns the
// database's error for the group the row was written with.
func (b *auditBatcher) write(row db.InsertAuditEventsParams) error {
	p := pendingAudit{row: row, done: make(chan error, 1)}
	b.mu.Lock()
	b.queue = append(b.queue, p)
	if !b.running {
		b.running = true
		go b.run()
	}
	b.mu.Unlock()
	return <-p.done
}

func (b *auditBatcher) run() {
	for {
		b.mu.Lock()
		n := min(len(b.queue), maxAuditBatch)
		if n == 0 {
			b.running = false
			b.mu.Unlock()
			return
		}
		group := b.queue[:n:n]
		b.queue = b.queue[n:]
		b.mu.Unlock()
		err := b.flush(group)
		for _, p := range group {
			p.done <- err
		}
	}
}

// flush writes a group in one round trip; pgx sends a batch with one Sync,
// so Postgres runs it as one implicit transaction.
func (b *auditBatcher) flush(group []pendingAudit) error {
	rows := make([]db.InsertAuditEventsParams, len(group))
	for i, p := range group {
		rows[i] = p.row
	}
	var first error
	res := db.New(b.pool).InsertAuditEvents(context.Background(), rows)
	res.Exec(func(_ int, err error) {
		if err != nil && first == nil {
			first = err
		}
	})
	if err := res.Close(); err != nil && first == nil {
		first = err
	}
	return first
}
