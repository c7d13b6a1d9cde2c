package keys

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sdkauth/sdkauth/db"
	"github.com/sdkauth/sdkauth/db/dbtest"
)

// fakeApp is a Vonage application holding one public key, as Vonage does.
type fakeApp struct {
	mu   sync.Mutex
	pem  string
	puts int
	// putErr fails uploads; applied says whether the failed upload still
	// took effect (a timeout after Vonage acted).
	putErr  error
	applied bool
	// inPut, when set, runs during each upload.
	inPut func()
}

func (f *fakeApp) PublicKeyPEM(context.Context) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.pem, nil
}

func (f *fakeApp) SetPublicKeyPEM(_ context.Context, pem string) error {
	if f.inPut != nil {
		f.inPut()
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.puts++
	if f.putErr == nil || f.applied {
		f.pem = pem
	}
	return f.putErr
}

func (f *fakeApp) kid(t *testing.T) string {
	t.Helper()
	pub, err := ParsePublicKeyPEM([]byte(f.pem))
	if err != nil {
		t.Fatal(err)
	}
	return Thumbprint(pub)
}

// rotationFixture is a store with key A active and an application that
// has A's public key.
func rotationFixture(t *testing.T) (*Store, *fakeApp, *pgxpool.Pool) {
	t.Helper()
	pool := dbtest.New(t)
	a, _ := testKeys(t)
	s := NewStore(pool, testCipher(t), nil)
	if _, _, err := s.Import(context.Background(), a); err != nil {
		t.Fatal(err)
	}
	return s, &fakeApp{pem: string(EncodePublicKeyPEM(&a.PublicKey))}, pool
}

func states(t *testing.T, pool *pgxpool.Pool) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, r := range storedRows(t, pool) {
		out[r.ID] = r.State
	}
	return out
}

func TestRotateUploadsThenSwitches(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, app, pool := rotationFixture(t)
	a, _ := testKeys(t)
	old := Thumbprint(&a.PublicKey)
	if err := s.CheckApplication(ctx, app); err != nil {
		t.Fatalf("CheckApplication before: %v", err)
	}
	before := time.Now()
	rot, err := s.Rotate(ctx, app, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if rot.OldKeyID != old || rot.NewKeyID == old || rot.NewKeyID != app.kid(t) || app.puts != 1 {
		t.Fatalf("rotation %+v; the application has %s after %d uploads", rot, app.kid(t), app.puts)
	}
	if d := rot.PreviousExpiresAt.Sub(before); d < time.Hour-time.Minute || d > time.Hour+time.Minute {
		t.Fatalf("the previous key expires %s after the rotation, want an hour", d)
	}
	if st := states(t, pool); st[old] != StatePrevious || st[rot.NewKeyID] != StateActive || len(st) != 2 {
		t.Fatalf("states %v", st)
	}
	if err := s.CheckApplication(ctx, app); err != nil {
		t.Fatalf("CheckApplication after: %v", err)
	}
	r := &Ring{}
	if _, err := s.Load(ctx, r); err != nil {
		t.Fatal(err)
	}
	if r.KeyID() != rot.NewKeyID || len(r.PublicKeys()) != 2 {
		t.Fatalf("ring: %s with %d keys", r.KeyID(), len(r.PublicKeys()))
	}

	// A second rotation once the first previous key has lapsed retires
	// it and erases its private half.
	if err := db.New(pool).ExpireSigningKey(ctx, db.ExpireSigningKeyParams{ID: old, AgoSeconds: 1}); err != nil {
		t.Fatal(err)
	}
	rot2, err := s.Rotate(ctx, app, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	st := states(t, pool)
	if st[old] != StateRetired || st[rot.NewKeyID] != StatePrevious || st[rot2.NewKeyID] != StateActive {
		t.Fatalf("states after the second rotation: %v", st)
	}
	for _, row := range storedRows(t, pool) {
		if row.ID == old && row.PrivateKey != nil {
			t.Fatal("a retired key kept its private half")
		}
	}
}

func TestRotateRefusesWhenTheApplicationHasAnotherKey(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, app, pool := rotationFixture(t)
	_, b := testKeys(t)
	app.pem = string(EncodePublicKeyPEM(&b.PublicKey))
	_, err := s.Rotate(ctx, app, time.Hour)
	var mm *MismatchError
	if !errors.As(err, &mm) || !errors.Is(err, ErrKeyMismatch) || mm.ApplicationKeyID != Thumbprint(&b.PublicKey) {
		t.Fatalf("Rotate: %v", err)
	}
	if err := s.CheckApplication(ctx, app); !errors.As(err, &mm) {
		t.Fatalf("CheckApplication: %v", err)
	}
	if app.puts != 0 || len(storedRows(t, pool)) != 1 {
		t.Fatal("a refused rotation changed something")
	}
}

func TestConcurrentRotationsOneWinsAndTheLoserUploadsNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, app, pool := rotationFixture(t)
	// The first upload waits until the other rotation has given up, so
	// both are truly in flight at once.
	loserDone := make(chan struct{})
	var once sync.Once
	app.inPut = func() { once.Do(func() { <-loserDone }) }
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i := range 2 {
		wg.Go(func() {
			_, errs[i] = NewStore(pool, s.cipher, nil).Rotate(ctx, app, time.Hour)
			if errs[i] != nil {
				close(loserDone)
			}
		})
	}
	wg.Wait()
	var won, lost int
	for _, err := range errs {
		switch {
		case err == nil:
			won++
		case errors.Is(err, ErrRotationInProgress) || errors.Is(err, ErrRotationConflict):
			lost++
		default:
			t.Fatalf("unexpected error: %v", err)
		}
	}
	if won != 1 || lost != 1 || app.puts != 1 {
		t.Fatalf("%d won, %d lost, %d uploads; want 1, 1, 1", won, lost, app.puts)
	}
	if err := s.CheckApplication(ctx, app); err != nil {
		t.Fatalf("after two rotations at once the application and the store disagree: %v", err)
	}
	if len(storedRows(t, pool)) != 2 {
		t.Fatalf("rows left: %v", states(t, pool))
	}
}

func TestRotateAfterAFailedUpload(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	t.Run("not applied: nothing changes", func(t *testing.T) {
		s, app, pool := rotationFixture(t)
		app.putErr = errors.New("503 from Vonage")
		if _, err := s.Rotate(ctx, app, time.Hour); err == nil {
			t.Fatal("Rotate succeeded")
		}
		if len(storedRows(t, pool)) != 1 || s.CheckApplication(ctx, app) != nil {
			t.Fatalf("states %v", states(t, pool))
		}
		app.putErr = nil
		if _, err := s.Rotate(ctx, app, time.Hour); err != nil {
			t.Fatalf("the next rotation: %v", err)
		}
	})
	t.Run("applied: the next run finishes it", func(t *testing.T) {
		s, app, pool := rotationFixture(t)
		app.putErr, app.applied = errors.New("timeout"), true
		if _, err := s.Rotate(ctx, app, time.Hour); err == nil {
			t.Fatal("Rotate succeeded")
		}
		var mm *MismatchError
		if err := s.CheckApplication(ctx, app); !errors.As(err, &mm) || mm.PendingKeyID != app.kid(t) {
			t.Fatalf("CheckApplication does not point at the unfinished rotation: %v", err)
		}
		// Replicas already trust the pending key, but do not publish it.
		r := &Ring{}
		if _, err := s.Load(ctx, r); err != nil {
			t.Fatal(err)
		}
		if len(r.PublicKeys()) != 1 || len(r.VerifyKeys()) != 2 || Thumbprint(r.VerifyKeys()[1]) != app.kid(t) {
			t.Fatalf("ring with a pending key: %d published, %d trusted", len(r.PublicKeys()), len(r.VerifyKeys()))
		}
		app.putErr = nil
		rot, err := s.Rotate(ctx, app, time.Hour)
		if err != nil || !rot.Resumed || rot.NewKeyID != app.kid(t) || app.puts != 1 {
			t.Fatalf("rerun: %+v %v after %d uploads", rot, err, app.puts)
		}
		if st := states(t, pool); st[rot.NewKeyID] != StateActive || len(st) != 2 {
			t.Fatalf("states %v", st)
		}
	})
	t.Run("a stale pending key is replaced", func(t *testing.T) {
		s, app, pool := rotationFixture(t)
		_, b := testKeys(t)
		kid := Thumbprint(&b.PublicKey)
		sealed, _ := s.seal(kid, b)
		if err := db.New(pool).InsertStalePendingKey(ctx, db.InsertStalePendingKeyParams{
			ID: kid, PublicKey: string(EncodePublicKeyPEM(&b.PublicKey)), PrivateKey: sealed, AgeSeconds: 60 * 60,
		}); err != nil {
			t.Fatal(err)
		}
		rot, err := s.Rotate(ctx, app, time.Hour)
		if err != nil || rot.Resumed {
			t.Fatalf("%+v %v", rot, err)
		}
		if st := states(t, pool); st[kid] != "" || len(st) != 2 {
			t.Fatalf("states %v", st)
		}
	})
}
