package users

import (
	"context"
	"encoding/json"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/sdkauth/sdkauth"
	"github.com/sdkauth/sdkauth/auth"
	"github.com/sdkauth/sdkauth/db"
)

// ProfileUpdate holds the profile fields to change; nil leaves one alone,
// and a pointer to "" clears it.
type ProfileUpdate struct {
	DisplayName *string
	ImageURL    *string
}

// validate returns a validation error naming each bad field.
func (p ProfileUpdate) validate() error {
	var fields []sdkauth.FieldError
	if p.DisplayName != nil && utf8.RuneCountInString(*p.DisplayName) > 200 {
		fields = append(fields, sdkauth.FieldError{Name: "display_name", Reason: "must be at most 200 characters"})
	}
	if p.ImageURL != nil && *p.ImageURL != "" {
		u, err := url.Parse(*p.ImageURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || len(*p.ImageURL) > 2048 {
			fields = append(fields, sdkauth.FieldError{Name: "image_url", Reason: "must be an absolute http or https URL (or empty to clear it)"})
		}
	}
	if len(fields) > 0 {
		return sdkauth.Invalid(fields...)
	}
	return nil
}

// UpdateProfile changes the display name or image of user id and queues
// the change for its Vonage user, in one transaction; the worker sends it
// with PATCH. It returns a validation error, CodeNotFound, or the
// database's error.
func (s *Service) UpdateProfile(ctx context.Context, id uuid.UUID, in ProfileUpdate) (User, error) {
	if err := in.validate(); err != nil {
		return User{}, err
	}
	if in.DisplayName == nil && in.ImageURL == nil {
		return s.Get(ctx, id)
	}
	var row db.User
	err := db.WithTx(ctx, s.pool, func(q *db.Queries) error {
		var err error
		row, err = q.UpdateUserProfile(ctx, db.UpdateUserProfileParams{ID: id, DisplayName: in.DisplayName, ImageUrl: in.ImageURL})
		if db.IsNotFound(err) {
			return sdkauth.Errorf(sdkauth.CodeNotFound, "No such user.")
		}
		if err != nil {
			return err
		}
		if _, err := enqueue(ctx, q, id, JobUpdate, nil, 0); err != nil {
			return err
		}
		var changed []string
		if in.DisplayName != nil {
			changed = append(changed, "display_name")
		}
		if in.ImageURL != nil {
			changed = append(changed, "image_url")
		}
		return s.audit.RecordTx(ctx, q, auth.Event{Type: auth.EventProfileUpdated, UserID: id, Username: row.Username, Detail: strings.Join(changed, ",")})
	})
	if err != nil {
		return User{}, err
	}
	s.prov.Nudge()
	return FromRow(row), nil
}

// ChangePassword replaces the password of user id after checking the
// current one (throttled like a login), ends every session of the user and
// refuses its earlier access tokens, in one transaction. The caller starts
// the new session it hands back.
// It returns a validation error naming new_password, CodeInvalidCredentials
// naming current_password, CodeRateLimited, CodeUnavailable, CodeNotFound,
// or the database's error.
func (s *Service) ChangePassword(ctx context.Context, id uuid.UUID, current, next string) (User, error) {
	row, err := s.getRow(ctx, id)
	if err != nil {
		return User{}, err
	}
	if fe := ValidatePassword("new_password", next, row.Username); fe != nil {
		return User{}, sdkauth.Invalid(*fe)
	}
	if _, err := s.checkPassword(ctx, row.Username, current, auth.EventPasswordFailed, "password_change"); err != nil {
		return User{}, wrongCurrentPassword(err, "current_password")
	}
	hash, err := s.hasher.Hash(ctx, next)
	if err != nil {
		return User{}, hashingError(err)
	}
	err = db.WithTx(ctx, s.pool, func(q *db.Queries) error {
		if err := q.SetPasswordHash(ctx, db.SetPasswordHashParams{ID: id, PasswordHash: hash}); err != nil {
			return err
		}
		n, err := auth.RevokeAll(ctx, q, id)
		if err != nil {
			return err
		}
		if row, err = q.GetUser(ctx, id); err != nil {
			return err
		}
		return s.audit.RecordTx(ctx, q, auth.Event{Type: auth.EventPasswordChanged, UserID: id, Username: row.Username,
			Detail: "sessions_revoked=" + strconv.FormatInt(n, 10)})
	})
	if err != nil {
		return User{}, err
	}
	return FromRow(row), nil
}

// Delete deletes user id after checking its password (throttled like a
// login); see Remove. It returns CodeInvalidCredentials naming password,
// CodeRateLimited, CodeUnavailable, CodeNotFound, or the database's error.
func (s *Service) Delete(ctx context.Context, id uuid.UUID, password string) error {
	row, err := s.getRow(ctx, id)
	if err != nil {
		return err
	}
	if _, err := s.checkPassword(ctx, row.Username, password, auth.EventPasswordFailed, "delete"); err != nil {
		return wrongCurrentPassword(err, "password")
	}
	return s.Remove(ctx, id)
}

// Remove deletes user id with its sessions, reserves its name for as long
// as tokens naming it may live, and queues the deletion of its Vonage user,
// all in one transaction; it does not check a password (admins use it).
// It returns CodeNotFound or the database's error.
func (s *Service) Remove(ctx context.Context, id uuid.UUID) error {
	err := db.WithTx(ctx, s.pool, func(q *db.Queries) error {
		row, err := q.GetUser(ctx, id)
		if db.IsNotFound(err) {
			return sdkauth.Errorf(sdkauth.CodeNotFound, "No such user.")
		}
		if err != nil {
			return err
		}
		if err := q.DeleteUser(ctx, id); err != nil {
			return err
		}
		if err := q.ReserveUsername(ctx, db.ReserveUsernameParams{Username: row.Username, UserID: id, Seconds: s.reserve.Seconds()}); err != nil {
			return err
		}
		pl := deletePayload{Username: row.Username}
		if row.VonageUserID != nil {
			pl.VonageUserID = *row.VonageUserID
		}
		payload, _ := json.Marshal(pl)
		if _, err := enqueue(ctx, q, id, JobDelete, payload, 0); err != nil {
			return err
		}
		return s.audit.RecordTx(ctx, q, auth.Event{Type: auth.EventUserDeleted, UserID: id, Username: row.Username})
	})
	if err != nil {
		return err
	}
	s.prov.Nudge()
	return nil
}

// getRow returns user id's row, or CodeNotFound.
func (s *Service) getRow(ctx context.Context, id uuid.UUID) (db.User, error) {
	row, err := db.New(s.pool).GetUser(ctx, id)
	if db.IsNotFound(err) {
		return row, sdkauth.Errorf(sdkauth.CodeNotFound, "No such user.")
	}
	return row, err
}

// wrongCurrentPassword words checkPassword's refusal for an account
// operation, naming field; other errors pass through.
func wrongCurrentPassword(err error, field string) error {
	if err != errWrongPassword {
		return err
	}
	return &sdkauth.Error{
		Code:    sdkauth.CodeInvalidCredentials,
		Message: "The password is not correct.",
		Fields:  []sdkauth.FieldError{{Name: field, Reason: "is not correct"}},
	}
}
