package db_test

import (
	"context"
	"slices"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/sdkauth/sdkauth/db"
	"github.com/sdkauth/sdkauth/db/dbtest"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// Ids must reach Postgres and come back unchanged whichever way pgx sends
// them: binary (prepared statements, the default), text (the simple
// protocol), one by one, as pointers (nil is NULL) and as uuid[].
func TestUUIDsRoundTripInEveryFormat(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	ctx := context.Background()
	a, b := uuid.New(), uuid.New()
	for _, mode := range []pgx.QueryExecMode{pgx.QueryExecModeCacheStatement, pgx.QueryExecModeSimpleProtocol, pgx.QueryExecModeExec} {
		t.Run(mode.String(), func(t *testing.T) {
			var text string
			var got, fromText uuid.UUID
			var some, none *uuid.UUID
			untouched := uuid.New()
			kept := untouched
			// Literal values, no table: this tests the uuid codec that sqlc's
			// generated code relies on.
			if err := pool.QueryRow(ctx, `SELECT $1::uuid::text, $1::uuid, $2::text::uuid, $3::uuid, $4::uuid, NULL::uuid`,
				mode, a, b.String(), &b, (*uuid.UUID)(nil)).Scan(&text, &got, &fromText, &some, &none, &kept); err != nil {
				t.Fatal(err)
			}
			if text != a.String() || got != a || fromText != b || some == nil || *some != b || none != nil || kept != untouched {
				t.Fatalf("got text %s, %s, %s, %v, %v, %s; want %s, %s, %s, %s, nil, %s (a NULL leaves a uuid.UUID as it was)",
					text, got, fromText, some, none, kept, a, a, b, b, untouched)
			}
			var ids []uuid.UUID
			var n int
			if err := pool.QueryRow(ctx, `SELECT array_agg(x ORDER BY o), count(*) FILTER (WHERE x IS NULL)
				FROM unnest($1::uuid[]) WITH ORDINALITY AS u(x, o)`, mode, []uuid.UUID{a, uuid.Nil, b}).Scan(&ids, &n); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(ids, []uuid.UUID{a, uuid.Nil, b}) || n != 0 {
				t.Fatalf("uuid[] came back as %v (%d NULLs)", ids, n)
			}
		})
	}
	var bad uuid.UUID
	// A literal value, no table, as above.
	if err := pool.QueryRow(ctx, `SELECT '\x0102'::bytea`).Scan(&bad); err == nil {
		t.Fatal("a bytea scanned into a uuid.UUID")
	}
}

// BenchmarkEncodeUUIDArray is the audit log's uuid[] parameters: compare
// pgx's own handling (driver.Valuer per element) with RegisterUUID's.
//
//	go test -run '^$' -bench EncodeUUIDArray -benchmem ./db/
func BenchmarkEncodeUUIDArray(b *testing.B) {
	ids := make([]uuid.UUID, 8)
	for i := range ids {
		if i%2 == 0 {
			ids[i] = uuid.New()
		}
	}
	for _, tc := range []struct {
		name     string
		register bool
	}{{"pgx", false}, {"registered", true}} {
		b.Run(tc.name, func(b *testing.B) {
			m := pgtype.NewMap()
			if tc.register {
				db.RegisterUUID(m)
			}
			var buf []byte
			b.ReportAllocs()
			for b.Loop() {
				var err error
				if buf, err = m.Encode(pgtype.UUIDArrayOID, pgtype.BinaryFormatCode, ids, buf[:0]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
