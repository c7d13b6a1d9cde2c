package keys

import (
	"bytes"
	"context"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sdkauth/sdkauth/db"
	"github.com/sdkauth/sdkauth/db/dbtest"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// storedRow is a signing_keys row as the database holds it.
type storedRow struct {
	ID, State, PublicKey string
	PrivateKey           []byte
}

func storedRows(t *testing.T, pool *pgxpool.Pool) []storedRow {
	t.Helper()
	rows, err := db.New(pool).ListSealedKeys(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var out []storedRow
	for _, r := range rows {
		out = append(out, storedRow(r))
	}
	return out
}

func TestImportStoresTheFirstKeyOnly(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := dbtest.New(t)
	s := NewStore(pool, testCipher(t), nil)
	a, b := testKeys(t)

	if _, _, err := s.Import(ctx, nil); !errors.Is(err, ErrNoKeyStored) {
		t.Fatalf("Import(nil) on an empty store: %v", err)
	}
	kid, imported, err := s.Import(ctx, a)
	if err != nil || !imported || kid != Thumbprint(&a.PublicKey) {
		t.Fatalf("first import: %s %v %v", kid, imported, err)
	}
	// Afterwards the stored key is authoritative: a different key in the
	// environment is not used.
	kid, imported, err = s.Import(ctx, b)
	if err != nil || imported || kid != Thumbprint(&a.PublicKey) {
		t.Fatalf("second import: %s %v %v", kid, imported, err)
	}
	if kid, _, err := s.Import(ctx, nil); err != nil || kid != Thumbprint(&a.PublicKey) {
		t.Fatalf("Import(nil) with a stored key: %s %v", kid, err)
	}
	r := &Ring{}
	if changed, err := s.Load(ctx, r); err != nil || !changed {
		t.Fatalf("Load: %v %v", changed, err)
	}
	if r.KeyID() != Thumbprint(&a.PublicKey) || len(r.PublicKeys()) != 1 {
		t.Fatalf("the ring holds %s and %d keys", r.KeyID(), len(r.PublicKeys()))
	}
	if changed, err := s.Load(ctx, r); err != nil || changed {
		t.Fatalf("a second Load with nothing changed: %v %v", changed, err)
	}
}

func TestConcurrentImportsAgreeOnOneKey(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := dbtest.New(t)
	a, b := testKeys(t)
	kids := make([]string, 2)
	var wg sync.WaitGroup
	for i, k := range []*rsa.PrivateKey{a, b} {
		wg.Go(func() {
			kid, _, err := NewStore(pool, testCipher(t), nil).Import(ctx, k)
			if err != nil {
				t.Error(err)
			}
			kids[i] = kid
		})
	}
	wg.Wait()
	if kids[0] != kids[1] || len(storedRows(t, pool)) != 1 {
		t.Fatalf("two replicas starting at once disagree: %v, %d rows", kids, len(storedRows(t, pool)))
	}
}

// TestStoredPrivateKeyIsNotReadableWithoutTheEncryptionKey inspects the
// table: no PEM, no key material in clear, and only the right encryption
// key opens it.
func TestStoredPrivateKeyIsNotReadableWithoutTheEncryptionKey(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := dbtest.New(t)
	a, _ := testKeys(t)
	if _, _, err := NewStore(pool, testCipher(t), nil).Import(ctx, a); err != nil {
		t.Fatal(err)
	}
	rows := storedRows(t, pool)
	if len(rows) != 1 || rows[0].State != StateActive {
		t.Fatalf("rows: %+v", rows)
	}
	sealed := rows[0].PrivateKey
	pkcs8, _ := x509.MarshalPKCS8PrivateKey(a)
	secrets := map[string][]byte{
		"a PEM header":    []byte("PRIVATE KEY"),
		"the PKCS#8 DER":  pkcs8[:64],
		"the PKCS#1 DER":  x509.MarshalPKCS1PrivateKey(a)[:64],
		"the exponent d":  a.D.Bytes()[:32],
		"the prime p":     a.Primes[0].Bytes()[:32],
		"the prime q":     a.Primes[1].Bytes()[:32],
		"the modulus n":   a.N.Bytes()[:32], // bound in only through the kid
		"the public PEM":  []byte("PUBLIC KEY"),
		"base64 of the d": []byte(x509KeyBase64(a)),
	}
	for what, b := range secrets {
		if bytes.Contains(sealed, b) {
			t.Errorf("the stored private_key contains %s", what)
		}
	}
	if !bytes.Contains([]byte(rows[0].PublicKey), []byte("BEGIN PUBLIC KEY")) {
		t.Error("the public half is not stored as PEM")
	}

	// Another encryption key cannot open it, and trying changes nothing.
	other := NewStore(pool, testCipher(t), nil)
	_, err := other.Load(ctx, &Ring{})
	if !errors.Is(err, ErrWrongEncryptionKey) || !bytes.Contains([]byte(err.Error()), []byte("SDKAUTH_KEY_ENCRYPTION_KEY")) {
		t.Fatalf("Load with the wrong encryption key: %v", err)
	}
	if _, imported, err := other.Import(ctx, a); err != nil || imported {
		t.Fatalf("Import with the wrong encryption key: %v %v", imported, err)
	}
	if after := storedRows(t, pool); len(after) != 1 || !bytes.Equal(after[0].PrivateKey, sealed) {
		t.Fatal("a start-up with the wrong encryption key changed the stored key")
	}
}

// x509KeyBase64 is how the private key would look in a PEM body.
func x509KeyBase64(k *rsa.PrivateKey) string {
	pem := EncodePrivateKeyPEM(k)
	lines := bytes.Split(pem, []byte("\n"))
	return string(lines[3]) // a full line of the body
}
