package users_test

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sdkauth/sdkauth/auth"
	"github.com/sdkauth/sdkauth/db"
	"github.com/sdkauth/sdkauth/db/dbtest"
	"github.com/sdkauth/sdkauth/emulator"
	"github.com/sdkauth/sdkauth/internal/testkit"
	"github.com/sdkauth/sdkauth/keys"
	"github.com/sdkauth/sdkauth/users"
	"github.com/sdkauth/sdkauth/vonage"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// env is the users domain wired to a fresh database and its own Vonage
// emulator over real HTTP.
type env struct {
	pool   *pgxpool.Pool
	em     *emulator.Emulator
	appID  string
	client *vonage.Client
	prov   *users.Provisioner
	svc    *users.Service
	worker *users.Worker
}

// cheap are argon2id parameters that keep tests fast.
var cheap = auth.Argon2Params{MemoryKiB: 64, Iterations: 1, Parallelism: 1, SaltLen: 16, KeyLen: 32}

func newEnv(t testing.TB, hashing auth.Argon2Params, throttle *auth.ThrottleConfig) *env {
	t.Helper()
	em := emulator.New(emulator.Config{APIKey: "key", APISecret: "secret"})
	srv := httptest.NewServer(em)
	t.Cleanup(srv.Close)
	key := testkit.Key(t, 0)
	appID, err := em.AddApplication("test", string(keys.EncodePublicKeyPEM(&key.PublicKey)))
	if err != nil {
		t.Fatal(err)
	}
	minter := &keys.Minter{ApplicationID: appID, Signer: keys.NewGoSigner(key)}
	client := vonage.New(srv.URL, func() (string, error) {
		tok, _, err := minter.AdminToken(10*time.Minute, nil)
		return tok, err
	})
	pool := dbtest.New(t)
	log := slog.New(slog.DiscardHandler)
	audit := auth.NewAudit(pool, log)
	prov := users.NewProvisioner(users.ProvisionerConfig{Pool: pool, Vonage: client, Timeout: 2 * time.Second, Log: log, Audit: audit})
	var th *auth.Throttle
	if throttle != nil {
		th = auth.NewThrottle(pool, *throttle)
	}
	svc := users.NewService(users.ServiceConfig{
		Pool: pool, Hasher: auth.NewHasher(hashing, 2*time.Second), Provisioner: prov,
		Throttle: th, Audit: audit, Log: log, NameReservation: time.Hour,
	})
	return &env{pool: pool, em: em, appID: appID, client: client, prov: prov, svc: svc,
		worker: users.NewWorker(prov, users.WorkerConfig{})}
}

// makeDue makes every waiting job due now, in place of waiting out backoff.
func (e *env) makeDue(t testing.TB) {
	t.Helper()
	if err := db.New(e.pool).MakeJobsDue(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// count returns the number of rows in table.
func (e *env) count(t testing.TB, table string) int {
	t.Helper()
	return dbtest.Count(t, e.pool, table)
}

// pendingJobs returns the number of jobs still being tried.
func (e *env) pendingJobs(t testing.TB) int {
	t.Helper()
	return dbtest.Count(t, e.pool, "pending_jobs")
}
