package emulator

import (
	"fmt"
	"math"
	"net/http"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Token rules the platform applies.
const (
	// iatLeeway tolerates clocks slightly ahead of the emulator's.
	iatLeeway = 30 * time.Second
	// maxTokenLifetime is the longest exp - iat the platform accepts, in seconds.
	maxTokenLifetime = 86400
)

// caller is the identity a verified bearer token speaks for.
type caller struct {
	appID string
	// user is the token's sub (a user name), empty for admin tokens.
	user string
	// expires is the token's exp; a Client SDK session ends then.
	expires time.Time
}

// tokenError is a refused request: 401 for a bad token, 403 for a token whose
// acl does not allow the request.
type tokenError struct {
	status int
	detail string
	// code is the platform's error code; empty means the status's default
	// (system:error:invalid-token or system:error:permission).
	code string
}

// unauthorized builds a 401 refusal.
func unauthorized(format string, args ...any) *tokenError {
	return &tokenError{status: http.StatusUnauthorized, detail: fmt.Sprintf(format, args...)}
}

// forbidden builds a 403 refusal.
func forbidden(format string, args ...any) *tokenError {
	return &tokenError{status: http.StatusForbidden, detail: fmt.Sprintf(format, args...)}
}

// withToken authenticates and authorizes the request's bearer JWT and hands the
// caller to h, or answers 401/403 in Vonage's problem shape.
func (e *Emulator) withToken(w http.ResponseWriter, r *http.Request, h func(http.ResponseWriter, *http.Request, caller)) {
	c, terr := e.verifyRequest(r)
	if terr != nil {
		e.log.Debug("emulator: token refused", "path", r.URL.Path, "status", terr.status, "reason", terr.detail)
		if terr.status == http.StatusForbidden {
			writeProblem(w, terr.status, terr.errorCode(), "Forbidden.", terr.detail)
		} else {
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
			writeProblem(w, terr.status, terr.errorCode(), "Unauthorized.", terr.detail)
		}
		return
	}
	h(w, r, c)
}

// errorCode is the platform's code for the refusal.
func (t *tokenError) errorCode() string {
	switch {
	case t.code != "":
		return t.code
	case t.status == http.StatusForbidden:
		return codePermission
	default:
		return codeInvalidToken
	}
}

// verifyRequest applies the platform's token rules to the request's bearer JWT.
func (e *Emulator) verifyRequest(r *http.Request) (caller, *tokenError) {
	scheme, raw, found := strings.Cut(r.Header.Get("Authorization"), " ")
	if !found || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(raw) == "" {
		return caller{}, unauthorized("You did not provide a valid token: an Authorization: Bearer <JWT> header is required.")
	}
	return e.verifyToken(strings.TrimSpace(raw), r.Method, r.URL.Path)
}

// verifyToken applies the platform's token rules to a JWT presented for
// method on path: REST requests give theirs; a Client SDK session is checked
// as a request on the sessions API.
func (e *Emulator) verifyToken(raw, method, path string) (caller, *tokenError) {
	unverified, _, err := jwt.NewParser().ParseUnverified(raw, jwt.MapClaims{})
	if err != nil {
		return caller{}, unauthorized("The token is not a well-formed JWT.")
	}
	if alg, _ := unverified.Header["alg"].(string); alg != "RS256" {
		return caller{}, unauthorized("The token's alg %v is not accepted; only RS256 is.", unverified.Header["alg"])
	}
	appID, _ := unverified.Claims.(jwt.MapClaims)["application_id"].(string)
	if appID == "" {
		return caller{}, unauthorized("The token has no application_id claim (a string).")
	}
	key := e.publicKey(appID)
	if key == nil {
		return caller{}, unauthorized("The token's application_id %q names no known application.", appID)
	}

	verified, err := jwt.NewParser(jwt.WithValidMethods([]string{"RS256"}), jwt.WithoutClaimsValidation()).
		Parse(raw, func(*jwt.Token) (any, error) { return key, nil })
	if err != nil {
		return caller{}, unauthorized("The token's signature does not verify with the application's current public key.")
	}
	claims := verified.Claims.(jwt.MapClaims)
	if terr := checkClaims(claims, e.now()); terr != nil {
		return caller{}, terr
	}

	exp, _ := claims["exp"].(float64)
	c := caller{appID: appID, expires: time.Unix(0, int64(exp*1e9))}
	rawSub, hasSub := claims["sub"]
	if !hasSub {
		return c, nil // admin token: unrestricted
	}
	sub, _ := rawSub.(string)
	if sub == "" {
		return caller{}, unauthorized("The token's sub claim must be a non-empty string (a user name).")
	}
	if !e.userExists(appID, sub) {
		return caller{}, unauthorized("The token's sub %q names no user of application %s.", sub, appID)
	}
	c.user = sub
	rawACL, hasACL := claims["acl"]
	if !hasACL {
		return caller{}, forbidden("The user token has no acl claim, so it allows nothing.")
	}
	list, err := parseACL(rawACL)
	if err != nil {
		return caller{}, forbidden("The token's acl is malformed: %v.", err)
	}
	if ok, why := list.check(method, path); !ok {
		return caller{}, forbidden("%s", why)
	}
	return c, nil
}

// checkClaims enforces the time and identity claims every platform token needs:
// iat (a number, not more than the leeway in the future), a non-empty jti, exp
// (a number, not passed, at most 24 h after iat) and no nbf in the future.
func checkClaims(claims jwt.MapClaims, now time.Time) *tokenError {
	nowSec := float64(now.UnixNano()) / 1e9
	iat, terr := numericClaim(claims, "iat")
	if terr != nil {
		return terr
	}
	if iat > nowSec+iatLeeway.Seconds() {
		return unauthorized("The token's iat is in the future.")
	}
	if jti, _ := claims["jti"].(string); jti == "" {
		return unauthorized("The token has no jti claim (a non-empty string).")
	}
	exp, terr := numericClaim(claims, "exp")
	if terr != nil {
		return terr
	}
	if exp <= nowSec {
		terr := unauthorized("The token has expired.")
		terr.code = codeExpiredToken
		return terr
	}
	if exp <= iat {
		return unauthorized("The token's exp is not after its iat.")
	}
	if exp-iat > maxTokenLifetime {
		return unauthorized("The token's lifetime (exp - iat = %.0f s) exceeds %d s.", exp-iat, maxTokenLifetime)
	}
	if _, has := claims["nbf"]; has {
		nbf, terr := numericClaim(claims, "nbf")
		if terr != nil {
			return terr
		}
		if nbf > nowSec {
			return unauthorized("The token is not valid yet (nbf is in the future).")
		}
	}
	return nil
}

// numericClaim returns a required NumericDate claim.
func numericClaim(claims jwt.MapClaims, name string) (float64, *tokenError) {
	raw, ok := claims[name]
	if !ok {
		return 0, unauthorized("The token has no %s claim.", name)
	}
	v, ok := raw.(float64)
	if !ok || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, unauthorized("The token's %s claim must be a number of seconds.", name)
	}
	return v, nil
}
