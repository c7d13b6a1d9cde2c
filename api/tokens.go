package api

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/sdkauth/sdkauth"
	"github.com/sdkauth/sdkauth/keys"
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

// grant is what a token request asks for beyond the defaults.
type grant struct {
	TTL time.Duration
	ACL *keys.ACL
}

// tokens mints user tokens as every route that hands one out does.
func (h *handlers) tokens() users.Tokens {
	return users.Tokens{Policies: h.Policies, Minter: h.Minter, Audit: h.Audit}
}

// userToken mints a Client SDK token for u under u's policy, narrowed by g
// (users.Tokens.Mint, with its errors).
func (h *handlers) userToken(c *gin.Context, u users.User, g grant) (tokenBody, error) {
	tok, claims, err := h.tokens().Mint(c.Request.Context(), u, g.TTL, g.ACL)
	if err != nil {
		return tokenBody{}, err
	}
	return userTokenBody(u, tok, claims), nil
}

// userTokenBody is the token response for u's token.
func userTokenBody(u users.User, tok string, claims keys.Claims) tokenBody {
	body := bearerBody(tok, claims)
	body.User = newUserBody(u)
	return body
}

// mintUserToken signs u's token with the ACL and lifetime already granted.
func (h *handlers) mintUserToken(u users.User, acl keys.ACL, ttl time.Duration) (tokenBody, error) {
	tok, claims, err := h.Minter.UserToken(u.Username, acl, ttl)
	if err != nil {
		return tokenBody{}, err
	}
	return userTokenBody(u, tok, claims), nil
}

// bearerBody is the RFC 6749 §5.1 part of a token response.
func bearerBody(tok string, claims keys.Claims) tokenBody {
	return tokenBody{
		AccessToken: tok,
		TokenType:   "Bearer",
		ExpiresIn:   int64(claims.ExpiresAt.Sub(claims.IssuedAt) / time.Second),
	}
}

// writeToken sends a token response, which must never be cached (RFC 6749
// §5.1).
func writeToken(c *gin.Context, status int, body tokenBody) {
	c.Header("Cache-Control", "no-store")
	c.Header("Pragma", "no-cache")
	writeJSON(c, status, "application/json", body)
}

var errInternal = &sdkauth.Error{Code: sdkauth.CodeInternal, Message: "Something went wrong on our side."}

func notFound() error { return sdkauth.Errorf(sdkauth.CodeNotFound, "Nothing here.") }

func serveOpenAPI(c *gin.Context) {
	c.Data(http.StatusOK, "application/yaml", sdkauth.OpenAPI)
}
