// Package sdkauth holds what every part of the service shares: the error
// type with its stable codes. Domain packages return *Error; api/ maps the
// code to an HTTP status and a problem+json body in one place.
package sdkauth

import (
	"errors"
	"fmt"
	"time"
)

// Stable error codes. Clients branch on these; never rename one.
const (
	CodeValidation          = "validation_failed"
	CodeInvalidCredentials  = "invalid_credentials"
	CodeInvalidGrant        = "invalid_grant"
	CodeInvalidToken        = "invalid_token"
	CodeUsernameTaken       = "username_taken"
	CodeRateLimited         = "rate_limited"
	CodeProvisioningPending = "provisioning_pending"
	CodeRefreshTokenReused  = "refresh_token_reused"
	CodeUnsupportedGrant    = "unsupported_grant_type"
	CodeACLNotAllowed       = "acl_not_allowed"
	CodeInvalidScope        = "invalid_scope"
	CodeRequestTooLarge     = "request_too_large"
	CodeInvalidClient       = "invalid_client"
	CodeForbidden           = "forbidden"
	CodeUnauthorizedClient  = "unauthorized_client"
	CodeNotFound            = "not_found"
	CodePolicyInUse         = "policy_in_use"
	CodeUnavailable         = "unavailable"
	CodeInternal            = "internal"
)

// FieldError names one bad input field, in the shape Vonage's own APIs use.
type FieldError struct {
	Name   string `json:"name"`
	Reason string `json:"reason"`
}

// Error is a domain error with a stable code. Message is safe to show to
// clients; Err is the cause, for logs only.
type Error struct {
	Code       string
	Message    string
	Fields     []FieldError
	RetryAfter time.Duration
	Err        error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return e.Code + ": " + e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// ProvisioningPending is the one answer for a user still being set up at
// Vonage: CodeProvisioningPending, to be tried again after RetryAfter.
func ProvisioningPending() *Error {
	return &Error{
		Code:       CodeProvisioningPending,
		Message:    "The user is still being set up at Vonage; try again shortly.",
		RetryAfter: 2 * time.Second,
	}
}

// Errorf returns an *Error with the code and a formatted client-safe message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Invalid returns a validation error naming the fields at fault.
func Invalid(fields ...FieldError) *Error {
	msg := "The request is not valid."
	if len(fields) == 1 {
		msg = fmt.Sprintf("%s: %s", fields[0].Name, fields[0].Reason)
	}
	return &Error{Code: CodeValidation, Message: msg, Fields: fields}
}

// ErrorCode returns the code of err when it is (or wraps) an *Error, else
// CodeInternal.
func ErrorCode(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeInternal
}
