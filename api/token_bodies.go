package api

import (
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/sdkauth/sdkauth/users"
)

// userBody is a user as the API shows it.
type userBody struct {
	ID           string    `json:"id"`
	Username     string    `json:"username"`
	DisplayName  string    `json:"display_name"`
	ImageURL     string    `json:"image_url"`
	VonageUserID string    `json:"vonage_user_id,omitempty"`
	Provisioning string    `json:"provisioning"`
	CreatedAt    time.Time `json:"created_at"`
}

func newUserBody(u users.User) *userBody {
	return &userBody{
		ID:           u.ID.String(),
		Username:     u.Username,
		DisplayName:  u.DisplayName,
		ImageURL:     u.ImageURL,
		VonageUserID: u.VonageUserID,
		Provisioning: u.Provisioning,
		CreatedAt:    u.CreatedAt.UTC(),
	}
}

// tokenBody is the token response of RFC 6749 §5.1 plus the user.
type tokenBody struct {
	AccessToken  string `json:"access_token,omitempty"`
	TokenType    string `json:"token_type,omitempty"`
	ExpiresIn    int64  `json:"expires_in,omitempty"`
	RefreshToken string `json:"refresh_token,omitempty"`
	// Scope lists the scopes granted to a service client (RFC 6749 §5.1).
	Scope string    `json:"scope,omitempty"`
	User  *userBody `json:"user,omitempty"`
}

// newTokenBody is the token response for what the domain issued: the
// RFC 6749 §5.1 fields when there is an access token, the refresh token
// when there is one, the user when the tokens are a user's, and the
// scopes granted to a service client.
func newTokenBody(i users.Issued) tokenBody {
	var body tokenBody
	if i.AccessToken != "" {
		body = tokenBody{
			AccessToken: i.AccessToken,
			TokenType:   "Bearer",
			ExpiresIn:   int64(i.Claims.ExpiresAt.Sub(i.Claims.IssuedAt) / time.Second),
		}
	}
	body.RefreshToken = i.RefreshToken
	if i.HasUser() {
		body.User = newUserBody(i.User)
	}
	if i.Scopes != nil {
		body.Scope = strings.Join(i.Scopes, " ")
	}
	return body
}

// writeToken sends a token response, which must never be cached (RFC 6749
// §5.1).
func writeToken(c *gin.Context, status int, body tokenBody) {
	c.Header("Cache-Control", "no-store")
	c.Header("Pragma", "no-cache")
	writeJSON(c, status, "application/json", body)
}
