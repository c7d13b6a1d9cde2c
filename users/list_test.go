package users_test

import (
	"context"
	"testing"

	"github.com/sdkauth/sdkauth/users"
)

// A full page of users.MaxPageSize still tells whether there is a next
// one: the plain listing's queries read at most MaxPageSize+1 rows (their
// constant inner LIMIT), which must stay one more than the largest page.
func TestAFullLargestPageHasANextPage(t *testing.T) {
	t.Parallel()
	e := newEnv(t, cheap, nil)
	ctx := context.Background()
	if _, err := e.pool.Exec(ctx, `
INSERT INTO users (id, username, password_hash, created_at)
SELECT md5('user:' || i)::uuid, 'listed-' || i, 'x', now() - make_interval(secs => 1000 - i)
FROM generate_series(1, $1::int) i`, users.MaxPageSize+1); err != nil {
		t.Fatal(err)
	}
	for _, desc := range []bool{false, true} {
		first, err := e.svc.List(ctx, users.ListParams{PageSize: users.MaxPageSize, Desc: desc})
		if err != nil {
			t.Fatal(err)
		}
		if len(first.Users) != users.MaxPageSize || first.NextCursor == "" {
			t.Fatalf("desc=%v: the first page has %d users and next cursor %q, want %d and one", desc, len(first.Users), first.NextCursor, users.MaxPageSize)
		}
		last, err := e.svc.List(ctx, users.ListParams{PageSize: users.MaxPageSize, Desc: desc, Cursor: first.NextCursor})
		if err != nil {
			t.Fatal(err)
		}
		if len(last.Users) != 1 || last.NextCursor != "" {
			t.Fatalf("desc=%v: the last page has %d users and next cursor %q, want 1 and none", desc, len(last.Users), last.NextCursor)
		}
	}
	if _, err := e.svc.List(ctx, users.ListParams{PageSize: users.MaxPageSize + 1}); err == nil {
		t.Fatal("List took a page larger than MaxPageSize")
	}
}
