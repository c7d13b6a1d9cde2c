package db

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"

	"github.com/sdkauth/sdkauth/migrations"
)

// Migrator runs the embedded migrations. Goose runs each migration in its
// own transaction; no advisory lock is taken, so the SQL stays within what
// Postgres-compatible distributed engines share.
type Migrator struct {
	p *goose.Provider
}

// NewMigrator returns a Migrator over pool.
func NewMigrator(pool *pgxpool.Pool) (*Migrator, error) {
	p, err := goose.NewProvider(goose.DialectPostgres, stdlib.OpenDBFromPool(pool), migrations.FS)
	if err != nil {
		return nil, fmt.Errorf("loading migrations: %w", err)
	}
	return &Migrator{p: p}, nil
}

// Up applies every pending migration and returns the versions applied.
func (m *Migrator) Up(ctx context.Context) ([]int64, error) {
	res, err := m.p.Up(ctx)
	var applied []int64
	for _, r := range res {
		applied = append(applied, r.Source.Version)
	}
	return applied, err
}

// Down rolls back the newest applied migration.
func (m *Migrator) Down(ctx context.Context) (int64, error) {
	r, err := m.p.Down(ctx)
	if err != nil {
		return 0, err
	}
	return r.Source.Version, nil
}

// Status lists every known migration and whether it is applied.
func (m *Migrator) Status(ctx context.Context) ([]*goose.MigrationStatus, error) {
	return m.p.Status(ctx)
}

// CheckCurrent returns an error saying how far behind the schema is when any
// migration is pending; `serve` refuses to start on such a schema.
func (m *Migrator) CheckCurrent(ctx context.Context) error {
	current, target, err := m.p.GetVersions(ctx)
	if err != nil {
		return fmt.Errorf("reading the schema version: %w", err)
	}
	if current < target {
		return fmt.Errorf("the database schema is at version %d but this binary needs %d: run `sdkauth migrate up` first", current, target)
	}
	return nil
}
