package api

import (
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/sdkauth/sdkauth"
	"github.com/sdkauth/sdkauth/keys"
	"github.com/sdkauth/sdkauth/users"
)

// bearer is the middleware form of authenticate: it stores the user and
// the claims for the handlers of /v1/me.
func (h *handlers) bearer(c *gin.Context) error {
	u, claims, err := h.authenticate(c)
	if err != nil {
		return err
	}
	c.Set(ctxUser, u)
	c.Set(ctxClaims, claims)
	return nil
}

// authenticate finds the user of the request's bearer access token: a
// Vonage JWT verified against our keys and application, whose sub names a
// user that existed when it was issued (a deleted name registered again
// must not inherit the old user's live tokens) and that has not logged out
// everywhere or changed password since. Admin tokens (no sub) are refused.
// It returns CodeInvalidToken, or the database's error.
func (h *handlers) authenticate(c *gin.Context) (users.User, keys.Claims, error) {
	raw, ok := strings.CutPrefix(c.GetHeader("Authorization"), "Bearer ")
	if !ok || raw == "" {
		return users.User{}, keys.Claims{}, errInvalidToken("A bearer access token is required.")
	}
	claims, err := h.Verifier.Verify(strings.TrimSpace(raw))
	if err != nil {
		return users.User{}, claims, &sdkauth.Error{Code: sdkauth.CodeInvalidToken, Message: "The access token is not valid.", Err: err}
	}
	if claims.Subject == "" {
		return users.User{}, claims, errInvalidToken("The access token names no user.")
	}
	u, err := h.Users.GetByUsername(c.Request.Context(), claims.Subject)
	if sdkauth.ErrorCode(err) == sdkauth.CodeNotFound {
		return u, claims, errInvalidToken("The access token's user no longer exists.")
	}
	if err != nil {
		return u, claims, err
	}
	// iat has whole seconds; created_at has microseconds, and
	// TokensValidAfter is already whole seconds.
	if claims.IssuedAt.Before(u.CreatedAt.Truncate(1e9)) || claims.IssuedAt.Before(u.TokensValidAfter) || u.Disabled {
		return u, claims, errInvalidToken("The access token is not valid for this user.")
	}
	return u, claims, nil
}

func errInvalidToken(msg string) error {
	return sdkauth.Errorf(sdkauth.CodeInvalidToken, "%s", msg)
}

func currentUser(c *gin.Context) users.User { return c.MustGet(ctxUser).(users.User) }

func (h *handlers) getMe(c *gin.Context) {
	c.Header("Cache-Control", "no-store")
	writeJSON(c, http.StatusOK, "application/json", newUserBody(currentUser(c)))
}

type profileRequest struct {
	DisplayName *string `json:"display_name" binding:"omitempty,max=200"`
	ImageURL    *string `json:"image_url" binding:"omitempty,max=2048"`
}

// patchMe changes the display name or image; the Vonage user follows
// through the provisioning outbox.
func (h *handlers) patchMe(c *gin.Context) error {
	var req profileRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	u, err := h.Users.UpdateProfile(c.Request.Context(), currentUser(c).ID, users.ProfileUpdate{DisplayName: req.DisplayName, ImageURL: req.ImageURL})
	if err != nil {
		return err
	}
	c.Header("Cache-Control", "no-store")
	writeJSON(c, http.StatusOK, "application/json", newUserBody(u))
	return nil
}

type passwordRequest struct {
	CurrentPassword string `json:"current_password" binding:"required"`
	NewPassword     string `json:"new_password" binding:"required"`
}

// changePassword sets a new password, ends every session of the user, and
// answers with a fresh token response (a new session) for the caller.
func (h *handlers) changePassword(c *gin.Context) error {
	var req passwordRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	ctx := c.Request.Context()
	u, err := h.Users.ChangePassword(ctx, currentUser(c).ID, req.CurrentPassword, req.NewPassword)
	if err != nil {
		return err
	}
	refresh, err := h.Sessions.Start(ctx, u.ID, clientOf(c))
	if err != nil {
		return err
	}
	body := tokenBody{User: newUserBody(u)}
	if u.Provisioning == users.StateProvisioned {
		if body, err = h.userToken(c, u, grant{}); err != nil {
			return err
		}
	}
	body.RefreshToken = refresh
	writeToken(c, http.StatusOK, body)
	return nil
}

type deleteMeRequest struct {
	Password string `json:"password" binding:"required"`
}

// deleteMe deletes the user, every session, and (through the outbox) the
// Vonage user. The name stays reserved while tokens naming it may live.
func (h *handlers) deleteMe(c *gin.Context) error {
	var req deleteMeRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if err := h.Users.Delete(c.Request.Context(), currentUser(c).ID, req.Password); err != nil {
		return err
	}
	c.Header("Cache-Control", "no-store")
	c.Status(http.StatusNoContent)
	return nil
}
