package keys

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Channel is the Postgres notification channel on which a rotation
// announces the new key.
const Channel = "sdkauth_keys"

// ListenerName is the application_name of the connection that listens on
// Channel, so operators (and tests) can find it in pg_stat_activity.
const ListenerName = "sdkauth key listener"

// DefaultPoll is how often keys are reloaded regardless of notifications:
// short, since it is how replicas on engines without LISTEN/NOTIFY (and
// any replica whose listener is reconnecting) learn of a rotation.
const DefaultPoll = 5 * time.Second

// LISTEN is not a statement sqlc generates.
const listenSQL = "LISTEN " + Channel

// WatchOptions tune Store.Watch.
type WatchOptions struct {
	// Poll is how often to reload regardless of notifications; 0 turns
	// the poll off.
	Poll time.Duration
	// NoListen turns LISTEN off, for engines that accept it but never
	// deliver notifications (and for tests of the poll).
	NoListen bool
	Log      *slog.Logger
}

// Watch keeps r in step with the store until ctx ends: it reloads on every
// notification on Channel, over a dedicated connection that is reopened
// when it drops, and every poll interval regardless. A failed reload is
// logged and leaves r as it was, so the replica goes on signing with the
// key it has. Watch returns when ctx ends.
func (s *Store) Watch(ctx context.Context, r *Ring, o WatchOptions) {
	log := o.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var wg sync.WaitGroup
	if !o.NoListen {
		wg.Go(func() { s.listen(ctx, r, log) })
	}
	if o.Poll > 0 {
		wg.Go(func() {
			t := time.NewTicker(o.Poll)
			defer t.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case <-t.C:
					s.reload(ctx, r, log)
				}
			}
		})
	}
	wg.Wait()
}

// listen holds the listening connection open, reconnecting with backoff.
// It gives up only on an engine that does not support LISTEN, leaving the
// poll to do the work.
func (s *Store) listen(ctx context.Context, r *Ring, log *slog.Logger) {
	backoff := 100 * time.Millisecond
	for {
		err := s.listenOnce(ctx, r, log, func() { backoff = 100 * time.Millisecond })
		if ctx.Err() != nil {
			return
		}
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "0A000" { // feature_not_supported
			log.Warn("this database does not support LISTEN; key changes are found by polling", "err", err)
			return
		}
		log.Warn("key change listener disconnected; reconnecting", "err", err, "retry_in", backoff)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 10*time.Second)
	}
}

// listenOnce opens a connection, listens, and reloads on each
// notification until the connection fails or ctx ends.
func (s *Store) listenOnce(ctx context.Context, r *Ring, log *slog.Logger, connected func()) error {
	cfg := s.pool.Config().ConnConfig.Copy()
	if cfg.RuntimeParams == nil {
		cfg.RuntimeParams = map[string]string{}
	}
	cfg.RuntimeParams["application_name"] = ListenerName
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return err
	}
	defer func() {
		closeCtx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = conn.Close(closeCtx)
	}()
	if _, err := conn.Exec(ctx, listenSQL); err != nil {
		return err
	}
	connected()
	// A rotation made while nothing listened would otherwise wait for the
	// poll.
	s.reload(ctx, r, log)
	for {
		if _, err := conn.WaitForNotification(ctx); err != nil {
			return err
		}
		s.reload(ctx, r, log)
	}
}

func (s *Store) reload(ctx context.Context, r *Ring, log *slog.Logger) {
	changed, err := s.Load(ctx, r)
	if err != nil {
		if ctx.Err() == nil {
			log.Error("reloading signing keys failed; still signing with the loaded key", "kid", r.KeyID(), "err", err)
		}
		return
	}
	if changed {
		log.Info("signing keys reloaded", "active_kid", r.KeyID(), "trusted", len(r.VerifyKeys()))
	}
}
