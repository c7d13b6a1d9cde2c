// Package dbtest gives each test its own migrated Postgres database on a real
// server: the one DATABASE_URL names, or a throwaway cluster it starts.
package dbtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sdkauth/sdkauth/db"
	"github.com/sdkauth/sdkauth/db/pgtemp"
)

var (
	adminURL string
	template string
	setupMu  sync.Mutex
)

// Main wraps testing.M for packages whose tests need Postgres: it starts a
// throwaway cluster when DATABASE_URL is unset, builds a migrated template
// database once, runs the tests, and removes what it made.
func Main(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	ctx := context.Background()
	adminURL = os.Getenv("DATABASE_URL")
	if adminURL == "" {
		c, err := pgtemp.Start(ctx, pgtemp.Options{Fast: true})
		if err != nil {
			fmt.Fprintln(os.Stderr, "dbtest:", err)
			return 1
		}
		defer c.Stop()
		adminURL = c.URL
	}
	template = "sdkauth_tpl_" + randomSuffix()
	if err := createTemplate(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "dbtest: preparing the template database:", err)
		return 1
	}
	defer exec(context.Background(), "DROP DATABASE IF EXISTS "+template)
	return m.Run()
}

// URL returns the server's admin connection string (for tests that start
// whole processes against their own database, see NewURL).
func URL() string { return adminURL }

// NewURL creates a fresh migrated database for t, dropped when t ends, and
// returns its connection string.
func NewURL(t testing.TB) string {
	t.Helper()
	name := "sdkauth_t_" + randomSuffix()
	setupMu.Lock() // CREATE DATABASE … TEMPLATE needs the template idle
	err := exec(context.Background(), fmt.Sprintf("CREATE DATABASE %s TEMPLATE %s", name, template))
	setupMu.Unlock()
	if err != nil {
		t.Fatalf("creating test database: %v", err)
	}
	t.Cleanup(func() {
		_ = exec(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	})
	return withDatabase(adminURL, name)
}

// New returns a pool on a fresh migrated database for t, closed and dropped
// when t ends.
func New(t testing.TB) *pgxpool.Pool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pool, err := db.Open(ctx, NewURL(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// Conn returns one connection, set up as the pool's are (db.RegisterUUID),
// on a fresh migrated database for t, closed and dropped when t ends: for
// tests that need every statement on the same Postgres session.
func Conn(t testing.TB) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, NewURL(t))
	if err != nil {
		t.Fatal(err)
	}
	db.RegisterUUID(c.TypeMap())
	t.Cleanup(func() { c.Close(context.Background()) })
	return c
}

func createTemplate(ctx context.Context) error {
	if err := exec(ctx, "CREATE DATABASE "+template); err != nil {
		return err
	}
	pool, err := db.Open(ctx, withDatabase(adminURL, template))
	if err != nil {
		return err
	}
	defer pool.Close()
	m, err := db.NewMigrator(pool)
	if err != nil {
		return err
	}
	_, err = m.Up(ctx)
	return err
}

// exec runs DDL that names a database (CREATE and DROP DATABASE), which
// sqlc cannot express.
func exec(ctx context.Context, sql string) error {
	conn, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, sql)
	return err
}

func withDatabase(raw, name string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" {
		// A keyword/value string: a later dbname wins.
		return raw + " dbname=" + name
	}
	u.Path = "/" + name
	return u.String()
}

func randomSuffix() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Count returns the number of rows in table, one of those db.RowCounts
// counts ("users", "sessions", "provisioning_jobs",
// "pending_jobs", "console_sessions").
func Count(t testing.TB, pool *pgxpool.Pool, table string) int {
	t.Helper()
	c, err := db.New(pool).RowCounts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	n, ok := map[string]int64{
		"users": c.Users, "sessions": c.Sessions,
		"provisioning_jobs": c.ProvisioningJobs, "pending_jobs": c.PendingJobs, "console_sessions": c.ConsoleSessions,
	}[table]
	if !ok {
		t.Fatalf("dbtest.Count: RowCounts does not count %q", table)
	}
	return int(n)
}
