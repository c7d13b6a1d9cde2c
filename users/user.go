package users

import (
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/sdkauth/sdkauth"
	"github.com/sdkauth/sdkauth/auth"
	"github.com/sdkauth/sdkauth/db"
)

// Provisioning states of a user.
const (
	StatePending        = "pending"
	StateProvisioned    = "provisioned"
	StateDeprovisioning = "deprovisioning"
	// StateFailed: the user's create job ended as failed (see
	// Provisioner.RetryJob); like a pending user it gets no access token.
	StateFailed = "failed"
)

// States are the provisioning states of a user, as the admin API filters on.
var States = []string{StatePending, StateProvisioned, StateDeprovisioning, StateFailed}

// User is a local user as the rest of the service sees it.
type User struct {
	ID           uuid.UUID
	Username     string
	DisplayName  string
	ImageURL     string
	VonageUserID string
	Provisioning string
	Policy       string
	Disabled     bool
	CreatedAt    time.Time
	UpdatedAt    time.Time
	// TokensValidAfter, when not zero, is when the user last logged out
	// everywhere or changed password: sdkauth refuses access tokens issued
	// before it.
	TokensValidAfter time.Time
}

// FromRow converts a database row; it never carries the password hash.
func FromRow(r db.User) User {
	u := User{
		ID:           r.ID,
		Username:     r.Username,
		DisplayName:  r.DisplayName,
		ImageURL:     r.ImageUrl,
		Provisioning: r.Provisioning,
		Policy:       r.Policy,
		Disabled:     r.Disabled,
		CreatedAt:    r.CreatedAt,
		UpdatedAt:    r.UpdatedAt,
	}
	if r.VonageUserID != nil {
		u.VonageUserID = *r.VonageUserID
	}
	if r.TokensValidAfter != nil {
		u.TokensValidAfter = *r.TokensValidAfter
	}
	return u
}

// usernamePattern keeps names safe in a URL path, a JWT `sub` and a Vonage
// user name: letters, digits and . _ @ + -, starting with a letter or digit.
var usernamePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._@+-]{2,63}$`)

// Password length bounds (NIST SP 800-63B: at least 8 characters; a cap
// keeps hashing cost bounded).
const (
	MinPasswordChars = 8
	MaxPasswordBytes = 1024
)

// ValidateUsername returns a validation error naming field when name is not
// an acceptable username.
func ValidateUsername(field, name string) *sdkauth.FieldError {
	if !usernamePattern.MatchString(name) {
		return &sdkauth.FieldError{Name: field, Reason: "must be 3 to 64 characters: letters, digits and . _ @ + -, starting with a letter or digit"}
	}
	return nil
}

// ValidatePassword returns a validation error naming field when password
// breaks the password policy of NIST SP 800-63B: at least 8 characters, at
// most 1024 bytes (hashing cost stays bounded), not the username, not one
// of the 10,000 most common passwords, and not easy to guess from common
// passwords, words, names, keyboard patterns, dates and the username, with
// the variants guessing tools try (auth.PasswordWeakness). Nothing else is
// asked of it (no composition rules): length and rarity are what resist
// guessing. The reason never repeats the password.
func ValidatePassword(field, password, username string) *sdkauth.FieldError {
	switch {
	case utf8.RuneCountInString(password) < MinPasswordChars:
		return &sdkauth.FieldError{Name: field, Reason: "must be at least 8 characters"}
	case len(password) > MaxPasswordBytes:
		return &sdkauth.FieldError{Name: field, Reason: "must be at most 1024 bytes"}
	case username != "" && strings.EqualFold(password, username):
		return &sdkauth.FieldError{Name: field, Reason: "must not be the username"}
	case auth.IsCommonPassword(password):
		return &sdkauth.FieldError{Name: field, Reason: "is one of the 10,000 most common passwords; choose one that is harder to guess"}
	}
	if why := auth.PasswordWeakness(password, username); why != "" {
		return &sdkauth.FieldError{Name: field, Reason: why}
	}
	return nil
}
