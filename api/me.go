package api

import (
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/sdkauth/sdkauth"
	"github.com/sdkauth/sdkauth/keys"
	"github.com/sdkauth/sdkauth/users"
)

// bearer authenticates a user by the access token sdkauth issued: a Vonage
// JWT verified against our keys and application, whose sub names a user
// that existed when it was issued (a deleted name registered again must not
// inherit the old user's live tokens). Admin tokens (no sub) are refused.
func (h *handlers) bearer(c *gin.Context) {
	raw, ok := strings.CutPrefix(c.GetHeader("Authorization"), "Bearer ")
	if !ok || raw == "" {
		fail(c, errInvalidToken("A bearer access token is required."))
		return
	}
	claims, err := h.Verifier.Verify(strings.TrimSpace(raw))
	if err != nil {
		fail(c, &sdkauth.Error{Code: sdkauth.CodeInvalidToken, Message: "The access token is not valid.", Err: err})
		return
	}
	if claims.Subject == "" {
		fail(c, errInvalidToken("The access token names no user."))
		return
	}
	u, err := h.Users.GetByUsername(c.Request.Context(), claims.Subject)
	if sdkauth.ErrorCode(err) == sdkauth.CodeNotFound {
		fail(c, errInvalidToken("The access token's user no longer exists."))
		return
	}
	if err != nil {
		fail(c, err)
		return
	}
	// iat has whole seconds; created_at has microseconds.
	if claims.IssuedAt.Before(u.CreatedAt.Truncate(1e9)) || u.Disabled {
		fail(c, errInvalidToken("The access token is not valid for this user."))
		return
	}
	c.Set(ctxUser, u)
	c.Set(ctxClaims, claims)
	c.Next()
}

func errInvalidToken(msg string) error {
	return sdkauth.Errorf(sdkauth.CodeInvalidToken, "%s", msg)
}

func currentUser(c *gin.Context) users.User { return c.MustGet(ctxUser).(users.User) }

func currentClaims(c *gin.Context) keys.Claims { return c.MustGet(ctxClaims).(keys.Claims) }

func (h *handlers) getMe(c *gin.Context) {
	c.Header("Cache-Control", "no-store")
	writeJSON(c, http.StatusOK, "application/json", newUserBody(currentUser(c)))
}
