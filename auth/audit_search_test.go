package auth_test

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/sdkauth/sdkauth/auth"
	"github.com/sdkauth/sdkauth/db/dbtest"
)

// Search pages the audit log newest first, each matching entry once, and
// each filter narrows it; a user filter by id finds the rows that name
// only the id.
func TestAuditSearchPagesAndFilters(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := dbtest.New(t)
	a := auth.NewAudit(pool, slog.New(slog.DiscardHandler))
	user := uuid.New()
	admin := auth.WithOrigin(ctx, auth.Origin{IP: "192.0.2.1", Actor: "client:an-admin"})
	for i := range 7 {
		a.Record(admin, auth.Event{Type: auth.EventPolicyChanged, Detail: fmt.Sprintf("n=%d", i)})
		a.Record(ctx, auth.Event{Type: auth.EventLogout, UserID: user, Detail: fmt.Sprintf("n=%d", i)})
	}

	search := func(q auth.AuditQuery) (details []string) {
		t.Helper()
		q.PageSize = 3
		for {
			page, more, err := a.Search(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			if len(page) > q.PageSize || (more && len(page) != q.PageSize) {
				t.Fatalf("a page of %d entries, more %v", len(page), more)
			}
			for _, e := range page {
				details = append(details, e.Event+" "+e.Detail)
			}
			if !more {
				return details
			}
			q.Before = page[len(page)-1].ID
		}
	}
	if got := search(auth.AuditQuery{}); len(got) != 14 || got[0] != "logout n=6" || got[13] != "policy_changed n=0" {
		t.Errorf("the whole log, newest first: %q", got)
	}
	if got := search(auth.AuditQuery{Actor: "client:an-admin", Event: auth.EventPolicyChanged}); len(got) != 7 || got[0] != "policy_changed n=6" {
		t.Errorf("by actor and event: %q", got)
	}
	if got := search(auth.AuditQuery{User: user.String()}); len(got) != 7 || got[6] != "logout n=0" {
		t.Errorf("by user id: %q", got)
	}
	if got := search(auth.AuditQuery{Actor: "client:someone-else"}); len(got) != 0 {
		t.Errorf("by another actor: %q", got)
	}
	if got := search(auth.AuditQuery{Until: time.Now().Add(-time.Hour)}); len(got) != 0 {
		t.Errorf("until an hour ago: %q", got)
	}
	if got := search(auth.AuditQuery{Since: time.Now().Add(-time.Hour), Event: auth.EventLogout}); len(got) != 7 {
		t.Errorf("logouts since an hour ago: %q", got)
	}
}
