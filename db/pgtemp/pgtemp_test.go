package pgtemp_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/sdkauth/sdkauth/db/pgtemp"
)

func TestStartStop(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c, err := pgtemp.Start(ctx, pgtemp.Options{Fast: true, Settings: []string{"max_wal_size=2GB"}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Stop()
	conn, err := pgx.Connect(ctx, c.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var v int
	// A literal query: the cluster has no schema for sqlc's statements.
	if err := conn.QueryRow(ctx, "select 40 + 2").Scan(&v); err != nil || v != 42 {
		t.Fatalf("got %d, %v", v, err)
	}
	var walSize string
	if err := conn.QueryRow(ctx, "SHOW max_wal_size").Scan(&walSize); err != nil || walSize != "2GB" {
		t.Fatalf("max_wal_size = %q, %v; want the setting given", walSize, err)
	}
}

func TestSettingsMustBeOneWord(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"max_wal_size", "max_wal_size=2 GB", "a='b'"} {
		if c, err := pgtemp.Start(context.Background(), pgtemp.Options{Fast: true, Settings: []string{s}}); err == nil {
			c.Stop()
			t.Errorf("Start took the setting %q", s)
		}
	}
}
