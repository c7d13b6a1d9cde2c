package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/sdkauth/sdkauth"
)

type logoutRequest struct {
	RefreshToken string `json:"refresh_token"`
	Scope        string `json:"scope" binding:"omitempty,oneof=session global"`
}

// logout ends this session (the refresh token in the body, no bearer
// needed, as RFC 7009 revocation) or, with {"scope":"global"} and the
// bearer access token, every session of the user. It answers 204 even for
// a refresh token it does not know (RFC 7009 §2.2): either way, that token
// no longer works.
func (h *handlers) logout(c *gin.Context) error {
	var req logoutRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	ctx := c.Request.Context()
	switch {
	case req.Scope == "global":
		u, _, err := h.authenticate(c)
		if err != nil {
			return err
		}
		if _, err := h.Sessions.LogoutAll(ctx, u.ID); err != nil {
			return err
		}
	case req.RefreshToken != "":
		if err := h.Sessions.Logout(ctx, req.RefreshToken); err != nil {
			return err
		}
	default:
		return sdkauth.Invalid(sdkauth.FieldError{Name: "refresh_token", Reason: `is required, unless scope is "global" with a bearer access token`})
	}
	c.Header("Cache-Control", "no-store")
	c.Status(http.StatusNoContent)
	return nil
}
