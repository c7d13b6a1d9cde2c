package api

import (
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

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

// authenticate finds the user of the request's bearer access token
// (users.Tokens.AuthenticateBearer, with its errors).
func (h *handlers) authenticate(c *gin.Context) (users.User, keys.Claims, error) {
	raw, ok := strings.CutPrefix(c.GetHeader("Authorization"), "Bearer ")
	if !ok {
		raw = ""
	}
	return h.Tokens.AuthenticateBearer(c.Request.Context(), raw)
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
	out, err := h.Tokens.ChangePassword(c.Request.Context(), currentUser(c).ID, req.CurrentPassword, req.NewPassword, originOf(c))
	if err != nil {
		return err
	}
	writeToken(c, http.StatusOK, newTokenBody(out))
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
