package auth_test

import (
	"context"
	"testing"
	"time"

	"github.com/sdkauth/sdkauth"
	"github.com/sdkauth/sdkauth/auth"
	"github.com/sdkauth/sdkauth/db/dbtest"
	"github.com/sdkauth/sdkauth/internal/testkit"
)

// Two Clients on one database stand for two replicas: a rotation on one
// stops the old secret at once there and within a second on the other.
func TestRotatedSecretStopsWorkingOnEveryReplica(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := dbtest.New(t)
	here, there := auth.NewClients(pool, nil, nil), auth.NewClients(pool, nil, nil)
	cl, old, err := here.Create(ctx, "a backend service", []string{auth.ScopeTokensAdmin})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := there.Authenticate(ctx, cl.ID, old); err != nil {
		t.Fatalf("the new secret: %v", err)
	}
	_, fresh, err := here.RotateSecret(ctx, cl.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := here.Authenticate(ctx, cl.ID, old); sdkauth.ErrorCode(err) != sdkauth.CodeInvalidClient {
		t.Fatalf("the old secret on the rotating replica: %v", err)
	}
	// The other replica trusts its cached row for a second (clientCacheTTL);
	// 2 s leaves room for a slow machine, and a cache that never expires fails.
	testkit.WaitFor(t, 2*time.Second, "the old secret to stop working on another replica", func() bool {
		_, err := there.Authenticate(ctx, cl.ID, old)
		return sdkauth.ErrorCode(err) == sdkauth.CodeInvalidClient
	})
	if _, err := there.Authenticate(ctx, cl.ID, fresh); err != nil {
		t.Fatalf("the new secret on another replica: %v", err)
	}
	if err := here.Delete(ctx, cl.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := here.Authenticate(ctx, cl.ID, fresh); sdkauth.ErrorCode(err) != sdkauth.CodeInvalidClient {
		t.Fatalf("a deleted client: %v", err)
	}
}
