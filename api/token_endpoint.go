package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/sdkauth/sdkauth"
	"github.com/sdkauth/sdkauth/auth"
	"github.com/sdkauth/sdkauth/keys"
	"github.com/sdkauth/sdkauth/users"
)

// tokenRequest is a POST /v1/token body, JSON or form-encoded (RFC 6749).
type tokenRequest struct {
	GrantType    string          `json:"grant_type"`
	Username     string          `json:"username"`
	Password     string          `json:"password"`
	RefreshToken string          `json:"refresh_token"`
	ClientID     string          `json:"client_id"`
	ClientSecret string          `json:"client_secret"`
	Scope        string          `json:"scope"`
	TTL          *int64          `json:"ttl"`
	ACL          json.RawMessage `json:"acl"`
}

// token is the OAuth 2.0 token endpoint.
func (h *handlers) token(c *gin.Context) error {
	req, err := readTokenRequest(c)
	c.Set(ctxGrantType, req.GrantType)
	if err != nil {
		return err
	}
	ask, err := req.ask()
	if err != nil {
		return err
	}
	client, err := h.tokenClient(c, req)
	if err != nil {
		return err
	}
	if req.GrantType != "client_credentials" && req.Scope != "" {
		return &sdkauth.Error{
			Code:    sdkauth.CodeInvalidScope,
			Message: "User tokens carry no OAuth scope: they are scoped by the user's ACL policy, which acl may narrow.",
			Fields:  []sdkauth.FieldError{{Name: "scope", Reason: "is not accepted with this grant; use acl"}},
		}
	}
	ctx := c.Request.Context()
	var out users.Issued
	switch req.GrantType {
	case "password":
		if err := required(field{"username", req.Username}, field{"password", req.Password}); err != nil {
			return err
		}
		out, err = h.Tokens.Password(ctx, req.Username, req.Password, ask, originOf(c))
	case "refresh_token":
		if err := required(field{"refresh_token", req.RefreshToken}); err != nil {
			return err
		}
		out, err = h.Tokens.Refresh(ctx, req.RefreshToken, ask)
	case "client_credentials":
		out, err = h.Tokens.ClientCredentials(ctx, client, req.Scope, ask)
	case "":
		return sdkauth.Invalid(sdkauth.FieldError{Name: "grant_type", Reason: "is required"})
	default:
		return &sdkauth.Error{
			Code:    sdkauth.CodeUnsupportedGrant,
			Message: "grant_type must be password, refresh_token or client_credentials.",
			Fields:  []sdkauth.FieldError{{Name: "grant_type", Reason: "must be password, refresh_token or client_credentials"}},
		}
	}
	if err != nil {
		return err
	}
	writeToken(c, http.StatusOK, newTokenBody(out))
	return nil
}

// tokenClient authenticates the client of a token request when it presents
// a secret, by HTTP Basic or in the body (not both; RFC 6749 §2.3.1). A
// client_id without a secret, in the body or as Basic with an empty
// password, is a public client (§2.1) and is not authenticated: the result
// is nil. A wrong secret is invalid_client whichever way it came.
func (h *handlers) tokenClient(c *gin.Context, req tokenRequest) (*auth.ServiceClient, error) {
	id, secret, basic := basicCredentials(c)
	if basic && (req.ClientID != "" || req.ClientSecret != "") {
		return nil, sdkauth.Invalid(sdkauth.FieldError{Name: "client_id", Reason: "send client credentials by HTTP Basic or in the body, not both"})
	}
	if !basic {
		id, secret = req.ClientID, req.ClientSecret
	}
	if secret == "" {
		return nil, nil
	}
	if id == "" {
		return nil, auth.ErrInvalidClient()
	}
	cl, err := h.Clients.Authenticate(c.Request.Context(), id, secret)
	if err != nil {
		return nil, err
	}
	return &cl, nil
}

// readTokenRequest decodes a JSON or form body. In a form, acl is a JSON
// string and ttl a decimal string.
func readTokenRequest(c *gin.Context) (tokenRequest, error) {
	var req tokenRequest
	if !strings.HasPrefix(c.ContentType(), "application/x-www-form-urlencoded") {
		return req, decodeJSON(c, &req)
	}
	if err := c.Request.ParseForm(); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return req, tooLarge(tooBig.Limit)
		}
		return req, sdkauth.Invalid(sdkauth.FieldError{Name: "body", Reason: "is not a valid form"})
	}
	f := c.Request.PostForm
	req.GrantType = f.Get("grant_type")
	req.Username = f.Get("username")
	req.Password = f.Get("password")
	req.RefreshToken = f.Get("refresh_token")
	req.ClientID = f.Get("client_id")
	req.ClientSecret = f.Get("client_secret")
	req.Scope = f.Get("scope")
	if s := f.Get("ttl"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return req, sdkauth.Invalid(sdkauth.FieldError{Name: "ttl", Reason: "must be an integer number of seconds"})
		}
		req.TTL = &n
	}
	if s := f.Get("acl"); s != "" {
		req.ACL = json.RawMessage(s)
	}
	return req, nil
}

// ask checks the optional ttl and acl of a request.
func (r tokenRequest) ask() (users.Ask, error) {
	var g users.Ask
	if r.TTL != nil {
		if *r.TTL < int64(keys.MinTTL/time.Second) || *r.TTL > int64(keys.MaxTTL/time.Second) {
			return g, sdkauth.Invalid(sdkauth.FieldError{Name: "ttl", Reason: "must be between 30 and 86400 seconds"})
		}
		g.TTL = time.Duration(*r.TTL) * time.Second
	}
	if len(r.ACL) > 0 && string(r.ACL) != "null" {
		acl, err := keys.ParseACL(r.ACL)
		if err != nil {
			var ae *keys.ACLError
			if errors.As(err, &ae) {
				return g, sdkauth.Invalid(sdkauth.FieldError{Name: ae.Field, Reason: ae.Reason})
			}
			return g, sdkauth.Invalid(sdkauth.FieldError{Name: "acl", Reason: "must be an object like {\"paths\": {…}}"})
		}
		g.ACL = &acl
	}
	return g, nil
}

// field is a request field's name and value.
type field struct{ name, value string }

// required returns a validation error naming every empty one of fields.
func required(fields ...field) error {
	var bad []sdkauth.FieldError
	for _, f := range fields {
		if f.value == "" {
			bad = append(bad, sdkauth.FieldError{Name: f.name, Reason: "is required"})
		}
	}
	if len(bad) > 0 {
		return sdkauth.Invalid(bad...)
	}
	return nil
}
