package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sdkauth/sdkauth"
	"github.com/sdkauth/sdkauth/db"
)

// Scopes a service client may hold.
const (
	ScopeAdmin       = "admin"        // the admin API
	ScopeTokensAdmin = "tokens:admin" // admin JWTs by client_credentials
	ScopeTokensUser  = "tokens:user"  // user tokens minted on a user's behalf
)

// AllScopes lists every scope, in the order they are documented.
var AllScopes = []string{ScopeAdmin, ScopeTokensAdmin, ScopeTokensUser}

// ServiceClient is a backend service or admin tool that authenticates with a
// client id and secret (RFC 6749 §2.3.1).
type ServiceClient struct {
	ID        string    `json:"client_id"`
	Name      string    `json:"name"`
	Scopes    []string  `json:"scopes"`
	CreatedAt time.Time `json:"created_at"`
	RotatedAt time.Time `json:"secret_rotated_at"`
}

// Has reports whether the client holds scope.
func (c ServiceClient) Has(scope string) bool { return slices.Contains(c.Scopes, scope) }

// Clients manages service clients. Secrets are 256-bit random in the
// base64url alphabet, so the raw secret and its RFC 6749 §2.3.1
// form-encoded form are the same; only their SHA-256 hashes are stored:
// they are keys, not passwords, and need no slow hash.
type Clients struct {
	pool     *pgxpool.Pool
	throttle *Throttle
	audit    *Audit
	cache    clientCache
}

// NewClients returns a Clients store. Failed authentications are throttled
// by throttle and recorded by audit; either may be nil.
func NewClients(pool *pgxpool.Pool, throttle *Throttle, audit *Audit) *Clients {
	return &Clients{pool: pool, throttle: throttle, audit: audit}
}

// ValidateScopes returns a validation error naming field unless scopes is a
// non-empty list of known scopes without repeats.
func ValidateScopes(field string, scopes []string) error {
	if len(scopes) == 0 {
		return sdkauth.Invalid(sdkauth.FieldError{Name: field, Reason: "must name at least one of " + strings.Join(AllScopes, ", ")})
	}
	for i, s := range scopes {
		if !slices.Contains(AllScopes, s) {
			return sdkauth.Invalid(sdkauth.FieldError{Name: fmt.Sprintf("%s[%d]", field, i), Reason: fmt.Sprintf("%q is not one of %s", s, strings.Join(AllScopes, ", "))})
		}
		if slices.Contains(scopes[:i], s) {
			return sdkauth.Invalid(sdkauth.FieldError{Name: fmt.Sprintf("%s[%d]", field, i), Reason: fmt.Sprintf("%q is repeated", s)})
		}
	}
	return nil
}

// Create makes a service client and returns it with its secret, which is
// never shown again. It returns a validation error for a bad name or scopes.
func (c *Clients) Create(ctx context.Context, name string, scopes []string) (ServiceClient, string, error) {
	name = strings.TrimSpace(name)
	if name == "" || len(name) > 200 {
		return ServiceClient{}, "", sdkauth.Invalid(sdkauth.FieldError{Name: "name", Reason: "must be 1 to 200 characters"})
	}
	if err := ValidateScopes("scopes", scopes); err != nil {
		return ServiceClient{}, "", err
	}
	var id [12]byte
	_, _ = rand.Read(id[:])
	secret, hash := newSecret()
	var row db.ServiceClient
	err := db.WithTx(ctx, c.pool, func(q *db.Queries) error {
		var err error
		row, err = q.CreateServiceClient(ctx, db.CreateServiceClientParams{
			ID:         "sdkc_" + hex.EncodeToString(id[:]),
			Name:       name,
			SecretHash: hash,
			Scopes:     scopes,
		})
		if err != nil {
			return err
		}
		return c.audit.RecordTx(ctx, q, Event{Type: EventClientCreated, Detail: row.ID + " " + strings.Join(scopes, ",")})
	})
	if err != nil {
		return ServiceClient{}, "", err
	}
	return clientFromRow(row), secret, nil
}

// List returns every service client, oldest first.
func (c *Clients) List(ctx context.Context) ([]ServiceClient, error) {
	rows, err := db.New(c.pool).ListServiceClients(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]ServiceClient, 0, len(rows))
	for _, r := range rows {
		out = append(out, clientFromRow(r))
	}
	return out, nil
}

// RotateSecret replaces a client's secret and returns the new one; the old
// one stops working at once on this replica and within clientCacheTTL on
// the others. It returns CodeNotFound for an unknown id.
func (c *Clients) RotateSecret(ctx context.Context, id string) (ServiceClient, string, error) {
	defer c.cache.evict(id) // after the commit, so no reader re-caches the old row
	secret, hash := newSecret()
	var row db.ServiceClient
	err := db.WithTx(ctx, c.pool, func(q *db.Queries) error {
		var err error
		row, err = q.RotateServiceClientSecret(ctx, db.RotateServiceClientSecretParams{ID: id, SecretHash: hash})
		if db.IsNotFound(err) {
			return errNoClient()
		}
		if err != nil {
			return err
		}
		return c.audit.RecordTx(ctx, q, Event{Type: EventClientSecretRotated, Detail: id})
	})
	if err != nil {
		return ServiceClient{}, "", err
	}
	return clientFromRow(row), secret, nil
}

// Delete removes a client; like a rotated secret, its secret stops working
// at once here and within clientCacheTTL elsewhere. It returns
// CodeNotFound for an unknown id.
func (c *Clients) Delete(ctx context.Context, id string) error {
	defer c.cache.evict(id) // after the commit, so no reader re-caches the row
	return db.WithTx(ctx, c.pool, func(q *db.Queries) error {
		n, err := q.DeleteServiceClient(ctx, id)
		if err != nil {
			return err
		}
		if n == 0 {
			return errNoClient()
		}
		return c.audit.RecordTx(ctx, q, Event{Type: EventClientDeleted, Detail: id})
	})
}

// Authenticate checks a client id and secret in constant time. An unknown
// id is compared against a dummy hash, so it answers as a wrong secret does.
// A valid secret is never throttled (it is a 256-bit key, and this is the
// client_credentials hot path); a failure draws on the caller's per-IP
// budget and delays further failures for that client id.
// It returns CodeInvalidClient, CodeRateLimited or the database's error.
func (c *Clients) Authenticate(ctx context.Context, id, secret string) (ServiceClient, error) {
	cl, err := c.verify(ctx, id, secret)
	if sdkauth.ErrorCode(err) != sdkauth.CodeInvalidClient {
		return cl, err
	}
	c.audit.Record(ctx, Event{Type: EventClientAuthFailed, Detail: Truncate(id, 100)})
	account := "client:" + id
	if err := c.throttle.CheckAccount(ctx, account); err != nil {
		return ServiceClient{}, err
	}
	if err := c.throttle.AllowIP(ctx, OriginFrom(ctx).IP); err != nil {
		return ServiceClient{}, err
	}
	if err := c.throttle.Failed(ctx, account); err != nil {
		return ServiceClient{}, err
	}
	return ServiceClient{}, ErrInvalidClient()
}

func (c *Clients) verify(ctx context.Context, id, secret string) (ServiceClient, error) {
	now := time.Now()
	row, found := c.cache.get(id, now)
	if !found {
		var err error
		row, err = db.New(c.pool).GetServiceClient(ctx, id)
		found = err == nil
		if err != nil && !db.IsNotFound(err) {
			return ServiceClient{}, err
		}
		if found {
			c.cache.put(row, now)
		}
	}
	want := row.SecretHash
	if !found {
		want = make([]byte, sha256.Size)
	}
	got := sha256.Sum256([]byte(secret))
	if subtle.ConstantTimeCompare(got[:], want) != 1 || !found {
		return ServiceClient{}, ErrInvalidClient()
	}
	return clientFromRow(row), nil
}

// ErrInvalidClient is the one answer to every failed client authentication.
func ErrInvalidClient() error {
	return sdkauth.Errorf(sdkauth.CodeInvalidClient, "Client authentication failed.")
}

func errNoClient() error { return sdkauth.Errorf(sdkauth.CodeNotFound, "No such client.") }

func newSecret() (string, []byte) {
	var b [32]byte
	_, _ = rand.Read(b[:])
	secret := base64.RawURLEncoding.EncodeToString(b[:])
	h := sha256.Sum256([]byte(secret))
	return secret, h[:]
}

func clientFromRow(r db.ServiceClient) ServiceClient {
	return ServiceClient{ID: r.ID, Name: r.Name, Scopes: r.Scopes, CreatedAt: r.CreatedAt.UTC(), RotatedAt: r.RotatedAt.UTC()}
}
