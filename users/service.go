package users

import (
	"context"
	"log/slog"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sdkauth/sdkauth"
	"github.com/sdkauth/sdkauth/auth"
	"github.com/sdkauth/sdkauth/db"
)

// ServiceConfig is what a Service is built from.
type ServiceConfig struct {
	Pool        *pgxpool.Pool
	Hasher      *auth.Hasher
	Provisioner *Provisioner
	// Throttle limits password checks; nil applies no limit.
	Throttle *auth.Throttle
	// Audit records what users do; nil records nothing.
	Audit *auth.Audit
	Log   *slog.Logger
	// NameReservation is how long a deleted username stays reserved: the
	// longest lifetime of a token naming it (SDKAUTH_TOKEN_MAX_TTL).
	NameReservation time.Duration
	// DefaultPolicy is the policy of new users (SDKAUTH_DEFAULT_POLICY);
	// empty means the built-in auth.ClientSDK.
	DefaultPolicy string
}

// Service signs users up and in and lets them manage their account. Each
// method owns its transaction.
type Service struct {
	pool     *pgxpool.Pool
	hasher   *auth.Hasher
	prov     *Provisioner
	throttle *auth.Throttle
	audit    *auth.Audit
	log      *slog.Logger
	reserve  time.Duration
	policy   string
}

// NewService returns a Service.
func NewService(c ServiceConfig) *Service {
	if c.DefaultPolicy == "" {
		c.DefaultPolicy = auth.ClientSDK
	}
	return &Service{pool: c.Pool, hasher: c.Hasher, prov: c.Provisioner, throttle: c.Throttle,
		audit: c.Audit, log: c.Log, reserve: c.NameReservation, policy: c.DefaultPolicy}
}

// SignUpInput is what a new user gives at sign-up.
type SignUpInput struct {
	Username    string
	Password    string
	DisplayName string
	ImageURL    string
	// Policy names the user's ACL policy; empty means the service's default. Only
	// admins choose it (Create): SignUp ignores it.
	Policy string
}

// SignUp creates a local user and its provisioning job in one transaction,
// then provisions the Vonage user inline. When Vonage cannot be reached in
// time the user is returned still pending (Provisioning == StatePending) and
// the job is left for the background worker. Sign-ups count against the
// caller's per-IP budget, as each costs a password hash.
// It returns a validation error, CodeRateLimited, CodeUsernameTaken (taken
// locally, reserved after a deletion, or taken at Vonage, with nothing left
// behind), or CodeUnavailable when hashing is saturated.
func (s *Service) SignUp(ctx context.Context, in SignUpInput) (User, error) {
	var fields []sdkauth.FieldError
	if fe := ValidateUsername("username", in.Username); fe != nil {
		fields = append(fields, *fe)
	}
	if fe := ValidatePassword("password", in.Password, in.Username); fe != nil {
		fields = append(fields, *fe)
	}
	if len(fields) > 0 {
		return User{}, sdkauth.Invalid(fields...)
	}
	if err := s.throttle.AllowIP(ctx, auth.OriginFrom(ctx).IP); err != nil {
		return User{}, err
	}
	q := db.New(s.pool)
	// Checked before hashing so a taken name costs no hash; the unique index
	// and the check inside the transaction still decide under a race.
	if err := s.nameFree(ctx, q, in.Username); err != nil {
		return User{}, err
	}
	hash, err := s.hasher.Hash(ctx, in.Password)
	if err != nil {
		return User{}, hashingError(err)
	}
	in.Policy = ""
	return s.create(ctx, in, hash)
}

// create stores a new user with the given password hash and its create
// job in one transaction, then provisions the Vonage user inline (see
// SignUp, and Create for admins). It returns CodeUsernameTaken when the
// name is in use, reserved or taken at Vonage, or the database's error.
func (s *Service) create(ctx context.Context, in SignUpInput, hash string) (User, error) {
	policy := in.Policy
	if policy == "" {
		policy = s.policy
	}
	var row db.User
	var jobID int64
	err := db.WithTx(ctx, s.pool, func(q *db.Queries) error {
		var err error
		row, err = q.CreateUser(ctx, db.CreateUserParams{
			ID:           uuid.New(),
			Username:     in.Username,
			PasswordHash: hash,
			DisplayName:  in.DisplayName,
			ImageUrl:     in.ImageURL,
			Policy:       policy,
		})
		if db.IsUniqueViolation(err, "users_username_key") {
			return errUsernameTaken()
		}
		if db.IsForeignKeyViolation(err) { // the policy was deleted since the caller checked it
			return sdkauth.Invalid(sdkauth.FieldError{Name: "policy", Reason: "names no policy"})
		}
		if err != nil {
			return err
		}
		// After the insert, which waited for any deletion of this name in
		// flight, so a reservation that deletion made is seen here.
		if reserved, err := q.UsernameReserved(ctx, in.Username); err != nil || reserved {
			return cmpErr(err, errUsernameTaken())
		}
		if jobID, err = enqueue(ctx, q, row.ID, JobCreate, nil, s.prov.inlineDelay()); err != nil {
			return err
		}
		return s.audit.RecordTx(ctx, q, auth.Event{Type: auth.EventSignup, UserID: row.ID, Username: row.Username})
	})
	if err != nil {
		return User{}, err
	}
	row, err = s.prov.Provision(ctx, row, jobID)
	if sdkauth.ErrorCode(err) == sdkauth.CodeUsernameTaken {
		return User{}, err
	}
	if err != nil {
		s.log.WarnContext(ctx, "provisioning deferred", "user_id", row.ID, "err", err)
	}
	return FromRow(row), nil
}

// nameFree returns CodeUsernameTaken when name is in use or reserved.
func (s *Service) nameFree(ctx context.Context, q *db.Queries, name string) error {
	if _, err := q.GetUserByUsername(ctx, name); err == nil {
		return errUsernameTaken()
	} else if !db.IsNotFound(err) {
		return err
	}
	reserved, err := q.UsernameReserved(ctx, name)
	if err != nil {
		return err
	}
	if reserved {
		return errUsernameTaken()
	}
	return nil
}

// Authenticate checks a username and password. An unknown user, a disabled
// user and a wrong password cost the same work and get the same error,
// CodeInvalidCredentials; each failure counts against the account (by
// name, whether or not it exists) and every attempt against the caller's
// IP. A hash with outdated parameters (or an imported bcrypt hash) is
// replaced by a fresh argon2id hash.
// It also returns CodeRateLimited, and CodeUnavailable when hashing is
// saturated.
func (s *Service) Authenticate(ctx context.Context, username, password string) (User, error) {
	row, err := s.checkPassword(ctx, username, password, auth.EventLoginFailed, "")
	if err == errWrongPassword {
		return User{}, &sdkauth.Error{Code: sdkauth.CodeInvalidCredentials, Message: "The username or password is not correct."}
	}
	if err != nil {
		return User{}, err
	}
	s.audit.Record(ctx, auth.Event{Type: auth.EventLoginSucceeded, UserID: row.ID, Username: row.Username})
	return FromRow(row), nil
}

// Get returns the user with id, or CodeNotFound.
func (s *Service) Get(ctx context.Context, id uuid.UUID) (User, error) {
	row, err := db.New(s.pool).GetUser(ctx, id)
	if db.IsNotFound(err) {
		return User{}, sdkauth.Errorf(sdkauth.CodeNotFound, "No such user.")
	}
	return FromRow(row), err
}

// GetByUsername returns the user named username (any case), or CodeNotFound.
func (s *Service) GetByUsername(ctx context.Context, username string) (User, error) {
	row, err := db.New(s.pool).GetUserByUsername(ctx, strings.TrimSpace(username))
	if db.IsNotFound(err) {
		return User{}, sdkauth.Errorf(sdkauth.CodeNotFound, "No such user.")
	}
	return FromRow(row), err
}

// Sweep deletes name reservations that have run out. It returns the
// database's error.
func (s *Service) Sweep(ctx context.Context) error {
	_, err := db.New(s.pool).SweepUsernameReservations(ctx)
	return err
}

func errUsernameTaken() *sdkauth.Error {
	return &sdkauth.Error{
		Code:    sdkauth.CodeUsernameTaken,
		Message: "That username is taken.",
		Fields:  []sdkauth.FieldError{{Name: "username", Reason: "is taken"}},
	}
}

func hashingError(err error) *sdkauth.Error {
	return &sdkauth.Error{Code: sdkauth.CodeUnavailable, Message: "The server is busy; try again shortly.", RetryAfter: time.Second, Err: err}
}

// cmpErr returns err when it is not nil, else alt.
func cmpErr(err, alt error) error {
	if err != nil {
		return err
	}
	return alt
}
