package api

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/sdkauth/sdkauth"
)

// problem is an RFC 9457 problem body with sdkauth's stable code, the
// invalid_parameters list Vonage's APIs use, and (on the token endpoint)
// the RFC 6749 error member.
type problem struct {
	Type              string               `json:"type"`
	Title             string               `json:"title"`
	Status            int                  `json:"status"`
	Detail            string               `json:"detail"`
	Code              string               `json:"code"`
	InvalidParameters []sdkauth.FieldError `json:"invalid_parameters,omitempty"`
	Error             string               `json:"error,omitempty"`
	ErrorDescription  string               `json:"error_description,omitempty"`
	RequestID         string               `json:"request_id,omitempty"`
}

// statusOf maps each code to its HTTP status: the one place that does.
var statusOf = map[string]int{
	sdkauth.CodeValidation:          http.StatusBadRequest,
	sdkauth.CodeInvalidCredentials:  http.StatusBadRequest,
	sdkauth.CodeInvalidGrant:        http.StatusBadRequest,
	sdkauth.CodeRefreshTokenReused:  http.StatusBadRequest,
	sdkauth.CodeUnsupportedGrant:    http.StatusBadRequest,
	sdkauth.CodeACLNotAllowed:       http.StatusBadRequest,
	sdkauth.CodeInvalidScope:        http.StatusBadRequest,
	sdkauth.CodeRequestTooLarge:     http.StatusRequestEntityTooLarge,
	sdkauth.CodeInvalidToken:        http.StatusUnauthorized,
	sdkauth.CodeInvalidClient:       http.StatusUnauthorized,
	sdkauth.CodeForbidden:           http.StatusForbidden,
	sdkauth.CodeUnauthorizedClient:  http.StatusBadRequest,
	sdkauth.CodeNotFound:            http.StatusNotFound,
	sdkauth.CodeUsernameTaken:       http.StatusConflict,
	sdkauth.CodePolicyInUse:         http.StatusConflict,
	sdkauth.CodeRateLimited:         http.StatusTooManyRequests,
	sdkauth.CodeProvisioningPending: http.StatusServiceUnavailable,
	sdkauth.CodeUnavailable:         http.StatusServiceUnavailable,
	sdkauth.CodeInternal:            http.StatusInternalServerError,
}

// oauthErrorOf maps codes to the RFC 6749 §5.2 error member.
var oauthErrorOf = map[string]string{
	sdkauth.CodeValidation:          "invalid_request",
	sdkauth.CodeInvalidCredentials:  "invalid_grant",
	sdkauth.CodeInvalidGrant:        "invalid_grant",
	sdkauth.CodeRefreshTokenReused:  "invalid_grant",
	sdkauth.CodeUnsupportedGrant:    "unsupported_grant_type",
	sdkauth.CodeACLNotAllowed:       "invalid_scope",
	sdkauth.CodeInvalidScope:        "invalid_scope",
	sdkauth.CodeInvalidClient:       "invalid_client",
	sdkauth.CodeForbidden:           "unauthorized_client",
	sdkauth.CodeUnauthorizedClient:  "unauthorized_client",
	sdkauth.CodeProvisioningPending: "temporarily_unavailable",
	sdkauth.CodeUnavailable:         "temporarily_unavailable",
	sdkauth.CodeRateLimited:         "temporarily_unavailable",
	sdkauth.CodeInternal:            "server_error",
}

// handlerFunc is a handler or middleware that returns its error rather
// than rendering it.
type handlerFunc func(*gin.Context) error

// handle adapts f to Gin: a non-nil error from f is rendered by fail, so
// every handler's errors look and are logged alike.
func handle(f handlerFunc) gin.HandlerFunc {
	return func(c *gin.Context) {
		if err := f(c); err != nil {
			fail(c, err)
		}
	}
}

// fail renders err as problem+json and aborts the request. Errors that are
// not *sdkauth.Error are logged with the request id and shown only as a
// generic 500. Handlers return their errors through handle; middleware
// that cannot (recovery) calls fail itself.
func fail(c *gin.Context, err error) {
	log := logger(c)
	var e *sdkauth.Error
	if known := errors.As(err, &e); !known || e.Code == sdkauth.CodeInternal {
		if outage, ok := c.Value(ctxOutage).(func(error) *sdkauth.Error); ok {
			if o := outage(err); o != nil {
				log.WarnContext(c.Request.Context(), "request failed: a dependency is unavailable", "method", c.Request.Method, "path", c.FullPath(), "err", err)
				e, err = o, o
			}
		}
	}
	if !errors.As(err, &e) {
		log.ErrorContext(c.Request.Context(), "request failed", "method", c.Request.Method, "path", c.FullPath(), "err", err)
		e = &sdkauth.Error{Code: sdkauth.CodeInternal, Message: "Something went wrong on our side.", Err: err}
	} else if e.Err != nil {
		log.InfoContext(c.Request.Context(), "request refused", "code", e.Code, "cause", e.Err)
	}
	c.Set(ctxCode, e.Code)
	p := newProblem(e)
	p.RequestID = requestID(c)
	status := p.Status
	// RFC 6749 §5.2: token endpoint errors are application/json, which
	// strict OAuth clients insist on; the problem members stay in the body.
	contentType := "application/problem+json"
	if c.GetBool(ctxOAuth) {
		contentType = "application/json"
		p.Error = oauthErrorOf[e.Code]
		if p.Error == "" {
			p.Error = "invalid_request"
		}
		p.ErrorDescription = e.Message
	}
	if e.RetryAfter > 0 {
		c.Header("Retry-After", strconv.Itoa(int(max(1, e.RetryAfter.Seconds()+0.5))))
	}
	switch e.Code {
	case sdkauth.CodeInvalidToken:
		c.Header("WWW-Authenticate", `Bearer error="invalid_token"`)
	case sdkauth.CodeInvalidClient:
		// RFC 6749 §5.2: a challenge only for a client that authenticated
		// with the Authorization header; strict OAuth clients read one as
		// "authenticate this way" and lose the invalid_client code.
		if c.GetHeader("Authorization") != "" {
			c.Header("WWW-Authenticate", `Basic realm="sdkauth", charset="UTF-8"`)
		}
	}
	c.Header("Cache-Control", "no-store")
	writeJSON(c, status, contentType, p)
	c.Abort()
}

// newProblem renders e as a problem body.
func newProblem(e *sdkauth.Error) problem {
	status, ok := statusOf[e.Code]
	if !ok {
		status = http.StatusBadRequest
	}
	return problem{
		Type:              "urn:sdkauth:problem:" + e.Code,
		Title:             http.StatusText(status),
		Status:            status,
		Detail:            e.Message,
		Code:              e.Code,
		InvalidParameters: e.Fields,
	}
}

var errInternal = &sdkauth.Error{Code: sdkauth.CodeInternal, Message: "Something went wrong on our side."}

func notFound() error { return sdkauth.Errorf(sdkauth.CodeNotFound, "Nothing here.") }
