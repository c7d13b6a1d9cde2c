package keys

import (
	"context"
	"testing"
	"time"

	"github.com/sdkauth/sdkauth/db"
	"github.com/sdkauth/sdkauth/internal/testkit"
)

// watching starts a replica's ring on s and returns it, loaded.
func watching(t *testing.T, s *Store, o WatchOptions) *Ring {
	t.Helper()
	r := &Ring{}
	if _, err := s.Load(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Watch(ctx, r, o); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return r
}

// TestReplicasLearnOfARotationAtOnce has the poll off, so only
// LISTEN/NOTIFY can tell the replica, including after its listening
// connection was killed.
func TestReplicasLearnOfARotationAtOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, app, pool := rotationFixture(t)
	replica := watching(t, NewStore(pool, s.cipher, nil), WatchOptions{})
	listening := func() bool {
		name := ListenerName
		n, _ := db.New(pool).CountListeners(ctx, &name)
		return n == 1
	}
	testkit.WaitFor(t, 5*time.Second, "listening", listening)

	rot, err := s.Rotate(ctx, app, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	testkit.WaitFor(t, time.Second, "the switch to the new key", func() bool { return replica.KeyID() == rot.NewKeyID })
	if len(replica.PublicKeys()) != 2 {
		t.Fatalf("the replica trusts %d keys, want the active and the previous", len(replica.PublicKeys()))
	}

	name := ListenerName
	if err := db.New(pool).TerminateListeners(ctx, &name); err != nil {
		t.Fatal(err)
	}
	rot2, err := s.Rotate(ctx, app, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	testkit.WaitFor(t, 5*time.Second, "the switch after the listener reconnected", func() bool { return replica.KeyID() == rot2.NewKeyID })
	testkit.WaitFor(t, 5*time.Second, "listening again", listening)
}

// TestReplicasWithoutNotificationsLearnByPolling is the path for
// Postgres-compatible engines that lack LISTEN/NOTIFY.
func TestReplicasWithoutNotificationsLearnByPolling(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, app, pool := rotationFixture(t)
	replica := watching(t, NewStore(pool, s.cipher, nil), WatchOptions{Poll: 200 * time.Millisecond, NoListen: true})
	rot, err := s.Rotate(ctx, app, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	testkit.WaitFor(t, 2*time.Second, "the switch by polling", func() bool { return replica.KeyID() == rot.NewKeyID })
}
