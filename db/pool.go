// Package db holds the Postgres connection pool, the sqlc-generated queries
// (sqlc_*.go and *.sql.go, generated from db/queries by `make generate`), the
// transaction helper and the migration runner.
package db

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Open connects a pool to url and checks that the server answers.
func Open(ctx context.Context, url string) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// pgx errors can echo the connection string, password included.
		return nil, errors.New("DATABASE_URL is not a valid connection string")
	}
	if !strings.Contains(url, "pool_max_conns") {
		// pgx's default (the CPU count, at least 4) leaves requests queueing
		// for a connection while others wait on Postgres and Vonage.
		cfg.MaxConns = int32(max(8, 4*runtime.GOMAXPROCS(0)))
	}
	cfg.AfterConnect = func(_ context.Context, c *pgx.Conn) error {
		RegisterUUID(c.TypeMap())
		return nil
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connecting to Postgres: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connecting to Postgres at %s:%d: %w", cfg.ConnConfig.Host, cfg.ConnConfig.Port, err)
	}
	return pool, nil
}

// WithTx runs fn in a transaction, committing when it returns nil and rolling
// back otherwise. fn must not call out to other services: no transaction
// stays open across an upstream call.
func WithTx(ctx context.Context, pool *pgxpool.Pool, fn func(q *Queries) error) error {
	return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		return fn(New(tx))
	})
}

// IsNotFound reports whether err means a query found no row.
func IsNotFound(err error) bool { return errors.Is(err, pgx.ErrNoRows) }

// IsUniqueViolation reports whether err is a unique-constraint violation,
// optionally of the named constraint or index.
func IsUniqueViolation(err error, constraint string) bool {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "23505" {
		return false
	}
	return constraint == "" || pgErr.ConstraintName == constraint
}

// IsForeignKeyViolation reports whether err is a foreign-key violation: a
// row names another that does not (or no longer) exist.
func IsForeignKeyViolation(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "23503"
}

// IsRowRefused reports whether err is Postgres refusing the values of a row
// (SQLSTATE class 22, data exception, or 23, integrity constraint
// violation): a fault of the data written, not of the database.
func IsRowRefused(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && (strings.HasPrefix(pgErr.Code, "22") || strings.HasPrefix(pgErr.Code, "23"))
}
