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
func (h *handlers) signup(c *gin.Context) {
	var result string // "" = the error code fail recorded
	defer func() { h.Metrics.countSignup(c, result) }()
	var req signupRequest
	if err := decodeJSON(c, &req); err != nil {
		fail(c, err)
		return
	}
	ctx := c.Request.Context()
	u, err := h.Users.SignUp(ctx, users.SignUpInput{
		Username:    req.Username,
		Password:    req.Password,
		DisplayName: req.DisplayName,
		ImageURL:    req.ImageURL,
	})
	if err != nil {
		fail(c, err)
		return
	}
	refresh, err := h.Sessions.Start(ctx, u.ID, clientOf(c))
	if err != nil {
		fail(c, err)
		return
	}
	if u.Provisioning != users.StateProvisioned {
		result = u.Provisioning // pending, or failed when Vonage refused the user for good
		c.Header("Retry-After", strconv.Itoa(2))
		writeToken(c, http.StatusAccepted, tokenBody{RefreshToken: refresh, User: newUserBody(u)})
		return
	}
	body, err := h.userToken(c, u, grant{})
	if err != nil {
		fail(c, err)
		return
	}
	body.RefreshToken = refresh
	result = users.StateProvisioned
	writeToken(c, http.StatusCreated, body)
}

func clientOf(c *gin.Context) auth.Client {
	return auth.Client{IP: c.ClientIP(), UserAgent: c.Request.UserAgent()}
}
