package users

import (
	"context"
	"errors"

	"github.com/sdkauth/sdkauth/auth"
	"github.com/sdkauth/sdkauth/db"
)

// errWrongPassword is checkPassword's one answer for an unknown user, a
// disabled user and a wrong password; callers word it for their endpoint.
var errWrongPassword = errors.New("the username or password is not correct")

// checkPassword is the one gate in front of every password check (login,
// password change, deletion). It draws on the caller's per-IP budget,
// refuses while the account is delayed by earlier failures, verifies the
// password with the same work whether or not the user exists, counts a
// failure against the account name, and records failures in the audit log
// as failEvent (with detail naming the operation).
// It returns the user's row, or errWrongPassword, CodeRateLimited,
// CodeUnavailable (hashing saturated) or the database's error.
func (s *Service) checkPassword(ctx context.Context, username, password, failEvent, detail string) (db.User, error) {
	key := auth.AccountKey(username)
	ev := auth.Event{Type: failEvent, Username: username, Detail: detail}
	if err := s.throttle.AllowIP(ctx, auth.OriginFrom(ctx).IP); err != nil {
		ev.Reason = auth.ReasonRateLimitedIP
		s.audit.Record(ctx, ev)
		return db.User{}, err
	}
	if err := s.throttle.CheckAccount(ctx, key); err != nil {
		ev.Reason = auth.ReasonAccountDelayed
		s.audit.Record(ctx, ev)
		return db.User{}, err
	}
	q := db.New(s.pool)
	row, err := q.GetUserByUsername(ctx, username)
	found := err == nil
	if err != nil && !db.IsNotFound(err) {
		return db.User{}, err
	}
	hash := ""
	if found {
		hash = row.PasswordHash
		ev.UserID, ev.Username = row.ID, row.Username
	}
	rehash, err := s.hasher.Verify(ctx, hash, password)
	switch {
	case errors.Is(err, auth.ErrBusy), errors.Is(err, context.DeadlineExceeded):
		ev.Reason = auth.ReasonHashingBusy
		s.audit.Record(ctx, ev)
		return db.User{}, hashingError(err)
	case errors.Is(err, context.Canceled):
		return db.User{}, err
	case err == nil && found && !row.Disabled:
		if err := s.throttle.Succeeded(ctx, key); err != nil {
			s.log.WarnContext(ctx, "clearing login failures", "user_id", row.ID, "err", err)
		}
		if rehash {
			s.rehash(ctx, row, password)
		}
		return row, nil
	}
	switch {
	case !found:
		ev.Reason = auth.ReasonUnknownUser
	case err == nil: // the right password for a disabled user
		ev.Reason = auth.ReasonDisabled
	case errors.Is(err, auth.ErrMismatch):
		ev.Reason = auth.ReasonWrongPassword
	default:
		ev.Reason = auth.ReasonMalformedHash
		s.log.ErrorContext(ctx, "a stored password hash cannot be read", "user_id", row.ID, "err", err)
	}
	if err := s.throttle.Failed(ctx, key); err != nil {
		s.log.ErrorContext(ctx, "counting a login failure", "err", err)
	}
	s.audit.Record(ctx, ev)
	return db.User{}, errWrongPassword
}

// rehash replaces row's hash by a fresh argon2id hash of password; failing
// that only costs the upgrade, so it is logged, not returned.
func (s *Service) rehash(ctx context.Context, row db.User, password string) {
	h, err := s.hasher.Hash(ctx, password)
	if err == nil {
		err = db.New(s.pool).SetPasswordHash(ctx, db.SetPasswordHashParams{ID: row.ID, PasswordHash: h})
	}
	if err != nil {
		s.log.WarnContext(ctx, "rehash not stored", "user_id", row.ID, "err", err)
	}
}
