package main

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sdkauth/sdkauth/auth"
)

// scaleSize is how much -scale adds to the database.
type scaleSize struct {
	on                     bool
	users, sessions, audit int
}

// scaleTables are the tables the fill grows, in the order they are shown.
var scaleTables = []string{"users", "sessions", "refresh_tokens", "audit_log"}

// Dead rows the fill adds for the sweeper: every deadSessionEvery-th
// session ended more than a day ago, and the oldest oldAuditRows audit
// rows are past SDKAUTH_AUDIT_RETENTION (90 days). One sweep deletes at
// most 100 batches of 1,000 audit rows, so these go in one sweep.
const (
	deadSessionEvery = 20
	oldAuditRows     = 90_000
	auditRetention   = 90 * 24 * time.Hour // SDKAUTH_AUDIT_RETENTION's default
	sessionIdle      = 30 * 24 * time.Hour // SDKAUTH_SESSION_IDLE's default
)

// fillHashes is how many distinct argon2id hashes the filled users share:
// real hashes of benchPassword, made by auth.Hasher with the server's
// parameters, so every row holds what sign-up would have stored.
const fillHashes = 16

// fillSQL adds the rows. Ids are derived from the row's number (md5 of a
// label), so sessions can name users and tokens sessions without a join.
// Users were created over the past year; live sessions within the idle
// window, each with its rotation history as RotateFreshRefreshToken leaves
// it (the rotated tokens with rotated_at, the current one without); audit
// rows are in time order, as they are appended, over the retention.
var fillSQL = struct{ users, sessions, audit string }{
	users: `
INSERT INTO users (id, username, password_hash, display_name, vonage_user_id, provisioning, created_at, updated_at)
SELECT md5('user:' || i)::uuid, 'scale-' || lpad(i::text, 7, '0'), ($2::text[])[1 + i % cardinality($2::text[])],
       'Scale user ' || i, 'USR-' || md5('vonage:' || i)::uuid, 'provisioned', t, t
FROM generate_series(0, $1::int - 1) i,
     LATERAL (SELECT now() - make_interval(secs => 365 * 86400.0 * ($1::int - i) / $1::int)) AS c (t)`,
	sessions: `
WITH s AS (
    INSERT INTO sessions (id, user_id, created_at, refreshed_at, refreshed_on, expires_at, ip, user_agent)
    SELECT md5('session:' || i)::uuid, md5('user:' || (i % $2::int))::uuid, c, r, (r AT TIME ZONE 'UTC')::date, c + interval '90 days',
           '10.' || (i >> 16) % 256 || '.' || (i >> 8) % 256 || '.' || i % 256, 'VonageClientSDK/2.0 (Android 14; Pixel 8)'
    FROM generate_series(0, $1::int - 1) i,
         LATERAL (SELECT CASE WHEN i % $3::int = 0
                              THEN now() - interval '92 days' - make_interval(mins => i % 1000)
                              ELSE now() - make_interval(secs => (i::bigint * 7919) % (29 * 86400)) END) AS cc (c),
         LATERAL (SELECT CASE WHEN i % $3::int = 0 THEN c + interval '1 hour'
                              ELSE c + (now() - c) / 2 END) AS rr (r)
    RETURNING id, created_at, refreshed_at
)
INSERT INTO refresh_tokens (token_hash, session_id, created_at, rotated_at)
SELECT sha256(uuid_send(s.id) || int4send(j)), s.id,
       CASE WHEN j = k THEN s.refreshed_at ELSE s.created_at + make_interval(mins => j) END,
       CASE WHEN j < k - 1 THEN s.created_at + make_interval(mins => j + 1) WHEN j = k - 1 THEN s.refreshed_at END
FROM s, LATERAL (SELECT get_byte(uuid_send(s.id), 0) % 3) AS kk (k), generate_series(0, k) j`,
	audit: `
INSERT INTO audit_log (at, event, user_id, username, session_id, ip, user_agent, reason, actor)
SELECT at,
       (ARRAY['token_refreshed', 'token_refreshed', 'token_refreshed', 'token_refreshed', 'token_refreshed',
              'token_refreshed', 'token_refreshed', 'login', 'admin_token_issued', 'login_failed'])[1 + i % 10],
       CASE WHEN i % 10 <> 8 THEN md5('user:' || u)::uuid END,
       CASE WHEN i % 10 <> 8 THEN 'scale-' || lpad(u::text, 7, '0') ELSE '' END,
       CASE WHEN i % 10 < 8 THEN md5('session:' || i % $3::int)::uuid END,
       '10.' || (i >> 16) % 256 || '.' || (i >> 8) % 256 || '.' || i % 256,
       CASE WHEN i % 10 <> 8 THEN 'VonageClientSDK/2.0 (Android 14; Pixel 8)' ELSE 'backend/1.0' END,
       CASE WHEN i % 10 = 9 THEN 'wrong_password' ELSE '' END,
       CASE WHEN i % 10 = 8 THEN 'client:scale-backend' ELSE '' END
FROM generate_series(0, $1::int - 1) i,
     LATERAL (SELECT (i::bigint * 7) % $2::int) AS uu (u),
     LATERAL (SELECT CASE WHEN i < $4::int
                          THEN now() - interval '91 days' + make_interval(secs => i * 0.5)
                          ELSE now() - interval '90 days' + interval '1 hour'
                               + make_interval(secs => (90 * 86400.0 - 7200) * (i - $4::int) / ($1::int - $4::int)) END) AS aa (at)`,
}

// fillStep is one timed part of the fill.
type fillStep struct {
	What string
	Took time.Duration
}

// fill adds sc's rows to the stack's database while sdkauth is stopped. It
// drops the four tables' indexes and constraints first and builds them
// again after (so each index is built once, sorted, rather than grown a
// row at a time), with synchronous_commit off for its own connections
// only. It returns how long each step took.
func fill(ctx context.Context, url string, sc scaleSize) (steps []fillStep, err error) {
	timed := func(what string, f func() error) error {
		start := time.Now()
		err := f()
		steps = append(steps, fillStep{what, time.Since(start)})
		logf("  %s: %s", what, time.Since(start).Round(100*time.Millisecond))
		return err
	}
	var hashes []string
	err = timed(fmt.Sprintf("%d argon2id hashes (auth.Hasher, the server's parameters)", fillHashes), func() error {
		h := auth.NewHasher(auth.OWASPParams, time.Minute)
		for i := range fillHashes {
			s, err := h.Hash(ctx, benchPassword(3000+i))
			if err != nil {
				return err
			}
			hashes = append(hashes, s)
		}
		return nil
	})
	if err != nil {
		return steps, err
	}
	conns := make([]*pgx.Conn, 2)
	for i := range conns {
		if conns[i], err = pgx.Connect(ctx, url); err != nil {
			return steps, err
		}
		defer conns[i].Close(context.Background())
		if _, err := conns[i].Exec(ctx, "SET synchronous_commit = off; SET maintenance_work_mem = '512MB'; SET work_mem = '64MB'"); err != nil {
			return steps, err
		}
	}
	c := conns[0]
	var ddl schemaDDL
	err = timed("drop the indexes and constraints of "+fmt.Sprint(scaleTables), func() (err error) {
		ddl, err = dropIndexes(ctx, c, scaleTables)
		return err
	})
	if err != nil {
		return steps, err
	}
	// Users, then sessions with their tokens, on one connection; the audit
	// rows at the same time on the other (one core each).
	auditDone := make(chan error, 1)
	var auditTook time.Duration
	go func() {
		start := time.Now()
		_, err := conns[1].Exec(ctx, fillSQL.audit, sc.audit, sc.users, sc.sessions, oldAuditRows)
		auditTook = time.Since(start)
		auditDone <- err
	}()
	err = timed(fmt.Sprintf("insert %d users", sc.users), func() error {
		_, err := c.Exec(ctx, fillSQL.users, sc.users, hashes)
		return err
	})
	if err == nil {
		err = timed(fmt.Sprintf("insert %d sessions and their refresh tokens", sc.sessions), func() error {
			_, err := c.Exec(ctx, fillSQL.sessions, sc.sessions, sc.users, deadSessionEvery)
			return err
		})
	}
	aerr := <-auditDone
	steps = append(steps, fillStep{fmt.Sprintf("insert %d audit rows (at the same time as the two above, on a second connection)", sc.audit), auditTook})
	logf("  audit rows: %s", auditTook.Round(100*time.Millisecond))
	if err == nil {
		err = aerr
	}
	if err != nil {
		return steps, err
	}
	err = timed("build the indexes and constraints again", func() error { return ddl.restore(ctx, c) })
	if err != nil {
		return steps, err
	}
	err = timed("VACUUM (ANALYZE) the four tables", func() error { return vacuum(ctx, c) })
	return steps, err
}

// vacuum runs VACUUM (ANALYZE) on the filled tables, as autovacuum would
// after a large change, so that no measured phase shares the cores with it.
func vacuum(ctx context.Context, c *pgx.Conn) error {
	for _, t := range scaleTables {
		if _, err := c.Exec(ctx, "VACUUM (ANALYZE) "+pgx.Identifier{t}.Sanitize()); err != nil {
			return err
		}
	}
	return nil
}

// schemaDDL is what dropIndexes removed, to put back in the same form.
type schemaDDL struct {
	keys, indexes, foreign []string
}

// dropIndexes drops every index, primary key, unique and foreign key of
// tables (and foreign keys pointing at them), and returns the statements
// that create them again, read from the catalog.
func dropIndexes(ctx context.Context, c *pgx.Conn, tables []string) (d schemaDDL, err error) {
	type object struct{ table, name, def string }
	collect := func(sql string) ([]object, error) {
		rows, err := c.Query(ctx, sql, tables)
		if err != nil {
			return nil, err
		}
		return pgx.CollectRows(rows, func(r pgx.CollectableRow) (o object, err error) {
			err = r.Scan(&o.table, &o.name, &o.def)
			return o, err
		})
	}
	fks, err := collect(`SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint
		WHERE contype = 'f' AND (conrelid::regclass::text = ANY($1) OR confrelid::regclass::text = ANY($1))`)
	if err != nil {
		return d, err
	}
	keys, err := collect(`SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint
		WHERE contype IN ('p', 'u') AND conrelid::regclass::text = ANY($1)`)
	if err != nil {
		return d, err
	}
	idx, err := collect(`SELECT i.indrelid::regclass::text, i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i
		WHERE i.indrelid::regclass::text = ANY($1) AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)`)
	if err != nil {
		return d, err
	}
	var drop []string
	for _, o := range append(fks, keys...) {
		drop = append(drop, fmt.Sprintf("ALTER TABLE %s DROP CONSTRAINT %s", o.table, pgx.Identifier{o.name}.Sanitize()))
	}
	for _, o := range idx {
		drop = append(drop, "DROP INDEX "+o.name)
		d.indexes = append(d.indexes, o.def)
	}
	for _, o := range keys {
		d.keys = append(d.keys, fmt.Sprintf("ALTER TABLE %s ADD CONSTRAINT %s %s", o.table, pgx.Identifier{o.name}.Sanitize(), o.def))
	}
	for _, o := range fks {
		d.foreign = append(d.foreign, fmt.Sprintf("ALTER TABLE %s ADD CONSTRAINT %s %s", o.table, pgx.Identifier{o.name}.Sanitize(), o.def))
	}
	for _, s := range drop {
		if _, err := c.Exec(ctx, s); err != nil {
			return d, fmt.Errorf("%s: %w", s, err)
		}
	}
	return d, nil
}

// restore creates the keys, then the other indexes, then the foreign keys
// (which need the keys they reference, and check every row).
func (d schemaDDL) restore(ctx context.Context, c *pgx.Conn) error {
	for _, group := range [][]string{d.keys, d.indexes, d.foreign} {
		for _, s := range group {
			if _, err := c.Exec(ctx, s); err != nil {
				return fmt.Errorf("%s: %w", s, err)
			}
		}
	}
	return nil
}
