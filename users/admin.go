package users

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"golang.org/x/crypto/bcrypt"

	"github.com/sdkauth/sdkauth"
	"github.com/sdkauth/sdkauth/auth"
	"github.com/sdkauth/sdkauth/db"
)

// CreateInput is an admin's new user: SignUpInput with, instead of a
// password, optionally a hash imported from another system.
type CreateInput struct {
	SignUpInput
	// PasswordHash is a bcrypt ($2a$/$2b$/$2y$) or argon2id PHC hash; it is
	// verified at login and then replaced by a fresh argon2id hash.
	PasswordHash string
}

// Create makes a user as an admin asks: with a password or an imported
// hash, provisioned as at sign-up.
// It returns a validation error naming the field, CodeUsernameTaken, or
// CodeUnavailable when hashing is saturated.
func (s *Service) Create(ctx context.Context, in CreateInput) (User, error) {
	if fields := in.check(); len(fields) > 0 {
		return User{}, sdkauth.Invalid(fields...)
	}
	if _, err := db.New(s.pool).GetUserByUsername(ctx, in.Username); err == nil {
		return User{}, errUsernameTaken()
	} else if !db.IsNotFound(err) {
		return User{}, err
	}
	hash := in.PasswordHash
	if hash == "" {
		var err error
		if hash, err = s.hasher.Hash(ctx, in.Password); err != nil {
			return User{}, hashingError(err)
		}
	}
	return s.create(ctx, in.SignUpInput, hash)
}

// check returns what is wrong with in, field by field: the rules of
// Create and Import.
func (in CreateInput) check() []sdkauth.FieldError {
	var fields []sdkauth.FieldError
	if fe := ValidateUsername("username", in.Username); fe != nil {
		fields = append(fields, *fe)
	}
	switch {
	case in.Password != "" && in.PasswordHash != "":
		fields = append(fields, sdkauth.FieldError{Name: "password_hash", Reason: "give password or password_hash, not both"})
	case in.PasswordHash != "":
		if reason := checkImportedHash(in.PasswordHash); reason != "" {
			fields = append(fields, sdkauth.FieldError{Name: "password_hash", Reason: reason})
		}
	default:
		if fe := ValidatePassword("password", in.Password, in.Username); fe != nil {
			fields = append(fields, *fe)
		}
	}
	// Postgres stores no NUL in text, and sees the rest as written.
	for _, f := range []struct{ name, value string }{
		{"password_hash", in.PasswordHash}, {"display_name", in.DisplayName}, {"image_url", in.ImageURL}, {"policy", in.Policy},
	} {
		if strings.ContainsRune(f.value, 0) || !utf8.ValidString(f.value) {
			fields = append(fields, sdkauth.FieldError{Name: f.name, Reason: "must be UTF-8 text without NUL characters"})
		}
	}
	return fields
}

// checkImportedHash says what is wrong with an imported password hash, or
// "" when it is a well-formed bcrypt or argon2id hash.
func checkImportedHash(h string) string {
	switch {
	case strings.HasPrefix(h, "$2a$"), strings.HasPrefix(h, "$2b$"), strings.HasPrefix(h, "$2y$"):
		if _, err := bcrypt.Cost([]byte(h)); err != nil || len(h) != 60 {
			return "is not a well-formed bcrypt hash"
		}
		return ""
	case strings.HasPrefix(h, "$argon2id$"):
		if _, _, _, err := auth.ParseArgon2(h); err != nil {
			return "is not a usable argon2id hash: " + err.Error()
		}
		return ""
	}
	return "must be a bcrypt ($2a$, $2b$, $2y$) or argon2id ($argon2id$) hash"
}

// MaxPageSize is the largest page of an admin listing (users, and the API's
// jobs). ListAllUsersAsc and ListAllUsersDesc read at most MaxPageSize+1
// rows (their constant inner LIMIT), the one past the page telling whether
// there is a next.
const MaxPageSize = 100

// ListParams select and page users. Zero values mean no filter.
type ListParams struct {
	PageSize       int    // 1 to MaxPageSize
	Cursor         string // opaque, from a previous page
	Desc           bool   // newest first
	UsernamePrefix string
	Provisioning   string
	Disabled       *bool
	CreatedAfter   time.Time
	CreatedBefore  time.Time
}

// Page is one page of users and the cursor of the next, "" at the end.
type Page struct {
	Users      []User
	NextCursor string
}

// listCursor is a keyset position: stable under concurrent inserts, unlike
// an offset, since new users sort after every existing one.
type listCursor struct {
	CreatedAt time.Time `json:"t"`
	ID        uuid.UUID `json:"i"`
	Desc      bool      `json:"d,omitempty"`
}

// encode renders the cursor as clients see it: URL-safe base64 of its JSON.
func (c listCursor) encode() string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

// decodeListCursor reads a cursor of a listing in the given order. It
// returns a validation error naming cursor for anything List did not make:
// bad base64 or JSON, no id, the other order, or a time Postgres cannot
// store (so a forged cursor never reaches SQL as an error).
func decodeListCursor(s string, desc bool) (listCursor, error) {
	var c listCursor
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err == nil {
		err = json.Unmarshal(b, &c)
	}
	if err != nil || c.ID == uuid.Nil || c.Desc != desc || c.CreatedAt.Year() < 1 || c.CreatedAt.Year() > 9999 {
		return listCursor{}, sdkauth.Invalid(sdkauth.FieldError{Name: "cursor", Reason: "is not a cursor from this listing"})
	}
	return c, nil
}

// List returns a page of users in creation order.
// It returns a validation error naming cursor for a cursor it did not make.
func (s *Service) List(ctx context.Context, p ListParams) (Page, error) {
	if p.PageSize < 1 || p.PageSize > MaxPageSize {
		return Page{}, sdkauth.Invalid(sdkauth.FieldError{Name: "page_size", Reason: "must be an integer from 1 to " + strconv.Itoa(MaxPageSize)})
	}
	arg := db.ListUsersAscParams{PageLimit: int32(p.PageSize + 1)}
	if p.Cursor != "" {
		c, err := decodeListCursor(p.Cursor, p.Desc)
		if err != nil {
			return Page{}, err
		}
		arg.AfterCreatedAt, arg.AfterID = &c.CreatedAt, &c.ID
	}
	if p.UsernamePrefix != "" {
		like := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(strings.ToLower(p.UsernamePrefix)) + "%"
		arg.UsernameLike = &like
	}
	if p.Provisioning != "" {
		arg.Provisioning = &p.Provisioning
	}
	arg.Disabled = p.Disabled
	if !p.CreatedAfter.IsZero() {
		arg.CreatedAfter = &p.CreatedAfter
	}
	if !p.CreatedBefore.IsZero() {
		arg.CreatedBefore = &p.CreatedBefore
	}
	q := db.New(s.pool)
	var rows []db.User
	var err error
	filtered := arg.UsernameLike != nil || arg.Provisioning != nil || arg.Disabled != nil || arg.CreatedAfter != nil || arg.CreatedBefore != nil
	all := db.ListAllUsersAscParams{AfterCreatedAt: arg.AfterCreatedAt, AfterID: arg.AfterID, PageLimit: arg.PageLimit}
	switch {
	case filtered && p.Desc:
		rows, err = q.ListUsersDesc(ctx, db.ListUsersDescParams(arg))
	case filtered:
		rows, err = q.ListUsersAsc(ctx, arg)
	case p.Desc:
		rows, err = q.ListAllUsersDesc(ctx, db.ListAllUsersDescParams(all))
	default:
		rows, err = q.ListAllUsersAsc(ctx, all)
	}
	if err != nil {
		return Page{}, err
	}
	var page Page
	if len(rows) > p.PageSize {
		rows = rows[:p.PageSize]
		last := rows[len(rows)-1]
		page.NextCursor = listCursor{CreatedAt: last.CreatedAt, ID: last.ID, Desc: p.Desc}.encode()
	}
	page.Users = make([]User, 0, len(rows))
	for _, r := range rows {
		page.Users = append(page.Users, FromRow(r))
	}
	return page, nil
}

// SetDisabled disables or re-enables a user; a disabled user cannot log in
// or refresh. The change and its audit record (user_updated, by the actor in
// ctx) commit together. It returns CodeNotFound for an unknown id.
func (s *Service) SetDisabled(ctx context.Context, id uuid.UUID, disabled bool) (User, error) {
	var row db.User
	err := db.WithTx(ctx, s.pool, func(q *db.Queries) error {
		var err error
		row, err = q.SetUserDisabled(ctx, db.SetUserDisabledParams{ID: id, Disabled: disabled})
		if db.IsNotFound(err) {
			return sdkauth.Errorf(sdkauth.CodeNotFound, "No such user.")
		}
		if err != nil {
			return err
		}
		return s.audit.RecordTx(ctx, q, auth.Event{Type: auth.EventUserUpdated, UserID: row.ID, Username: row.Username, Detail: "disabled=" + strconv.FormatBool(disabled)})
	})
	if err != nil {
		return User{}, err
	}
	return FromRow(row), nil
}
