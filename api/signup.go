package api

import (
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/sdkauth/sdkauth/auth"
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
	ctx := c.Request.Context()
	u, err := h.Users.SignUp(ctx, users.SignUpInput{
		Username:    req.Username,
		Password:    req.Password,
		DisplayName: req.DisplayName,
		ImageURL:    req.ImageURL,
	})
	if err != nil {
		return err
	}
	refresh, err := h.Sessions.Start(ctx, u.ID, clientOf(c))
	if err != nil {
		return err
	}
	if u.Provisioning != users.StateProvisioned {
		c.Set(ctxSignupResult, u.Provisioning) // pending, or failed when Vonage refused the user for good
		c.Header("Retry-After", strconv.Itoa(2))
		writeToken(c, http.StatusAccepted, tokenBody{RefreshToken: refresh, User: newUserBody(u)})
		return nil
	}
	body, err := h.userToken(c, u, grant{})
	if err != nil {
		return err
	}
	body.RefreshToken = refresh
	c.Set(ctxSignupResult, users.StateProvisioned)
	writeToken(c, http.StatusCreated, body)
	return nil
}

func clientOf(c *gin.Context) auth.Client {
	return auth.Client{IP: c.ClientIP(), UserAgent: c.Request.UserAgent()}
}
