package db_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/sdkauth/sdkauth/db"
	"github.com/sdkauth/sdkauth/db/dbtest"
)

// The plain admin listing pages through users on one plan that Postgres
// keeps, where the filtered listing is planned for every page. On a table
// of tens of thousands of users Postgres judges the filtered query's
// generic plan (its optional conditions cannot be index conditions) far
// dearer than a custom one, and so plans every execution; the plain
// listing's generic plan is as cheap as a custom one and is kept after the
// five custom plans Postgres always makes first.
func TestThePlainAdminListingKeepsOnePlan(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := dbtest.Conn(t)
	if _, err := c.Exec(ctx, `
INSERT INTO users (id, username, password_hash, display_name, created_at)
SELECT md5('user:' || i)::uuid, 'plan-' || i, 'x', 'A new user', now() - make_interval(secs => 20000 - i)
FROM generate_series(1, 20000) i`); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Exec(ctx, "ANALYZE users"); err != nil {
		t.Fatal(err)
	}
	q := db.New(c)
	const pages = 8
	asc := db.ListAllUsersAscParams{PageLimit: 21}
	desc := db.ListAllUsersDescParams{PageLimit: 21}
	filtered := db.ListUsersAscParams{PageLimit: 21}
	for i := range pages {
		up, err := q.ListAllUsersAsc(ctx, asc)
		if err != nil {
			t.Fatal(err)
		}
		down, err := q.ListAllUsersDesc(ctx, desc)
		if err != nil {
			t.Fatal(err)
		}
		old, err := q.ListUsersAsc(ctx, filtered)
		if err != nil {
			t.Fatal(err)
		}
		if len(up) != 21 || len(down) != 21 || len(old) != 21 {
			t.Fatalf("page %d: %d, %d and %d rows, want 21", i, len(up), len(down), len(old))
		}
		if i == 0 && (up[0].Username != "plan-1" || down[0].Username != "plan-20000") {
			t.Fatalf("first pages start at %s and %s", up[0].Username, down[0].Username)
		}
		if i > 0 && (!up[0].CreatedAt.After(*asc.AfterCreatedAt) || !down[0].CreatedAt.Before(*desc.AfterCreatedAt)) {
			t.Fatalf("page %d does not follow its cursor", i)
		}
		asc.AfterCreatedAt, asc.AfterID = cursor(up[19])
		desc.AfterCreatedAt, desc.AfterID = cursor(down[19])
		filtered.AfterCreatedAt, filtered.AfterID = cursor(old[19])
	}
	for name, wantGeneric := range map[string]bool{"ListAllUsersAsc": true, "ListAllUsersDesc": true, "ListUsersAsc": false} {
		var generic, custom int64
		err := c.QueryRow(ctx, "SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE statement LIKE $1",
			"-- name: "+name+" %").Scan(&generic, &custom)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if wantGeneric && (custom != 5 || generic != pages-5) {
			t.Errorf("%s: %d custom and %d generic plans over %d pages, want 5 and %d", name, custom, generic, pages, pages-5)
		}
		if !wantGeneric && custom != pages {
			t.Errorf("%s: %d custom plans over %d pages; if Postgres now keeps its generic plan, ListAllUsersAsc may no longer be needed", name, custom, pages)
		}
	}
}

func cursor(u db.User) (*time.Time, *uuid.UUID) { return &u.CreatedAt, &u.ID }
