package users

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sdkauth/sdkauth"
	"github.com/sdkauth/sdkauth/auth"
	"github.com/sdkauth/sdkauth/db"
)

// Service signs users up and in. Each method owns its transaction.
type Service struct {
	pool   *pgxpool.Pool
	hasher *auth.Hasher
	prov   *Provisioner
	log    *slog.Logger
}

// NewService returns a Service.
func NewService(pool *pgxpool.Pool, hasher *auth.Hasher, prov *Provisioner, log *slog.Logger) *Service {
	return &Service{pool: pool, hasher: hasher, prov: prov, log: log}
}

// SignUpInput is what a new user gives at sign-up.
type SignUpInput struct {
	Username    string
	Password    string
	DisplayName string
	ImageURL    string
}

// SignUp creates a local user and its provisioning job in one transaction,
// then provisions the Vonage user inline. When Vonage cannot be reached in
// time the user is returned still pending (Provisioning == StatePending) and
// the job is left for the background worker.
// It returns a validation error, CodeUsernameTaken (locally or at Vonage,
// with nothing left behind), or CodeUnavailable when hashing is saturated.
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
	q := db.New(s.pool)
	// Checked before hashing so a taken name costs no hash; the unique index
	// still decides under a race.
	if _, err := q.GetUserByUsername(ctx, in.Username); err == nil {
		return User{}, errUsernameTaken()
	} else if !db.IsNotFound(err) {
		return User{}, err
	}
	hash, err := s.hasher.Hash(ctx, in.Password)
	if err != nil {
		return User{}, hashingError(err)
	}
	var row db.User
	var jobID int64
	err = db.WithTx(ctx, s.pool, func(q *db.Queries) error {
		var err error
		row, err = q.CreateUser(ctx, db.CreateUserParams{
			ID:           uuid.New(),
			Username:     in.Username,
			PasswordHash: hash,
			DisplayName:  in.DisplayName,
			ImageUrl:     in.ImageURL,
			Policy:       DefaultPolicy,
		})
		if db.IsUniqueViolation(err, "users_username_key") {
			return errUsernameTaken()
		}
		if err != nil {
			return err
		}
		jobID, err = s.prov.enqueue(ctx, q, row.ID, JobCreate)
		return err
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

// Authenticate checks a username and password. An unknown user, a disabled
// user and a wrong password cost the same work and get the same error,
// CodeInvalidCredentials. A hash with outdated parameters (or an imported
// bcrypt hash) is replaced by a fresh argon2id hash.
// It also returns CodeUnavailable when hashing is saturated.
func (s *Service) Authenticate(ctx context.Context, username, password string) (User, error) {
	q := db.New(s.pool)
	row, err := q.GetUserByUsername(ctx, username)
	found := err == nil
	if err != nil && !db.IsNotFound(err) {
		return User{}, err
	}
	hash := ""
	if found {
		hash = row.PasswordHash
	}
	rehash, err := s.hasher.Verify(ctx, hash, password)
	if errors.Is(err, auth.ErrBusy) || errors.Is(err, context.DeadlineExceeded) {
		return User{}, hashingError(err)
	}
	if err != nil || !found || row.Disabled {
		return User{}, &sdkauth.Error{Code: sdkauth.CodeInvalidCredentials, Message: "The username or password is not correct.", Err: err}
	}
	if rehash {
		if h, err := s.hasher.Hash(ctx, password); err == nil {
			if err := q.SetPasswordHash(ctx, db.SetPasswordHashParams{ID: row.ID, PasswordHash: h}); err != nil {
				s.log.WarnContext(ctx, "rehash not stored", "user_id", row.ID, "err", err)
			}
		}
	}
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

func errUsernameTaken() error {
	return &sdkauth.Error{
		Code:    sdkauth.CodeUsernameTaken,
		Message: "That username is taken.",
		Fields:  []sdkauth.FieldError{{Name: "username", Reason: "is taken"}},
	}
}

func hashingError(err error) error {
	return &sdkauth.Error{Code: sdkauth.CodeUnavailable, Message: "The server is busy; try again shortly.", RetryAfter: time.Second, Err: err}
}
