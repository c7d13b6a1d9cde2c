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
	c, err := pgtemp.Start(ctx, pgtemp.Options{Fast: true})
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
}
