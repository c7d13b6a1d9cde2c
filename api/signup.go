package api

import (
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/sdkauth/sdkauth/users"
)

type signupRequest struct {
	Username    string `json:"username" binding:"required"`
	Password    string `json:"password" binding:"required"`
	DisplayName string `json:"display_name" binding:"max=200"`
	ImageURL    string `json:"image_url" binding:"omitempty,max=2048,http_url"`
}

// signup creates a user, provisions its Vonage user and starts a session:
// 201 with a token response, or 202 with the user and a refresh token (no
// access token) while Vonage cannot be reached (or, provisioning "failed",
// has refused the user until an admin retries it).
func (h *handlers) signup(c *gin.Context) error {
	var req signupRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	out, err := h.Tokens.SignUp(c.Request.Context(), users.SignUpInput{
		Username:    req.Username,
		Password:    req.Password,
		DisplayName: req.DisplayName,
		ImageURL:    req.ImageURL,
	}, originOf(c))
	if err != nil {
		return err
	}
	body := newTokenBody(out)
	if out.AccessToken == "" {
		c.Set(ctxSignupResult, out.User.Provisioning) // pending, or failed when Vonage refused the user for good
		c.Header("Retry-After", strconv.Itoa(2))
		writeToken(c, http.StatusAccepted, body)
		return nil
	}
	c.Set(ctxSignupResult, users.StateProvisioned)
	writeToken(c, http.StatusCreated, body)
	return nil
}
