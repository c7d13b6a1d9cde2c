package users_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/sdkauth/sdkauth/users"
)

// TestImportIsolatesALineTheDatabaseRefuses: a row that passes every check
// and is still refused (here by a trigger standing in for a constraint the
// checks do not know) fails alone; the rest of its batch is written.
func TestImportIsolatesALineTheDatabaseRefuses(t *testing.T) {
	t.Parallel()
	e := newEnv(t, cheap, nil)
	ctx := context.Background()
	// DDL, which sqlc does not generate.
	if _, err := e.pool.Exec(ctx, `
		CREATE FUNCTION refuse_one() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN
			IF NEW.username = 'refused-user-01234' THEN
				RAISE EXCEPTION 'refused' USING ERRCODE = '23514';
			END IF;
			RETURN NEW;
		END $$;
		CREATE TRIGGER refuse_one BEFORE INSERT ON users FOR EACH ROW EXECUTE FUNCTION refuse_one();`); err != nil {
		t.Fatal(err)
	}
	var lines []users.ImportLine
	for i := range 2500 {
		lines = append(lines, users.ImportLine{Line: i + 1, Input: users.CreateInput{
			SignUpInput:  users.SignUpInput{Username: fmt.Sprintf("refused-user-%05d", i)},
			PasswordHash: "$2a$04$C4bJbRmjzd5c9ZHRNh2Kpu3Y6MtYYRRhnH9bMeAAmUuUVsMm3OUfu",
		}})
	}
	results := e.svc.Import(ctx, lines)
	for i, r := range results {
		want := users.ImportCreated
		if i == 1234 {
			want = users.ImportFailed
			if r.Err == nil || len(r.Err.Fields) != 1 || r.Err.Fields[0].Name != "line" {
				t.Errorf("the refused line's error: %+v", r.Err)
			}
		}
		if r.Line != i+1 || r.Status != want {
			t.Errorf("line %d: %+v, want %s", i+1, r, want)
		}
	}
	if n := e.count(t, "users"); n != 2499 {
		t.Fatalf("%d users, want 2499", n)
	}
	if n := e.count(t, "provisioning_jobs"); n != 2499 {
		t.Fatalf("%d provisioning jobs, want 2499", n)
	}
}
