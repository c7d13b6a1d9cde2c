package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/sdkauth/sdkauth"
	"github.com/sdkauth/sdkauth/auth"
	"github.com/sdkauth/sdkauth/db"
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
	g, err := req.grant()
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
	switch req.GrantType {
	case "password":
		return h.passwordGrant(c, req, g)
	case "refresh_token":
		return h.refreshGrant(c, req, g)
	case "client_credentials":
		return h.clientCredentialsGrant(c, req, g, client)
	case "":
		return sdkauth.Invalid(sdkauth.FieldError{Name: "grant_type", Reason: "is required"})
	default:
		return &sdkauth.Error{
			Code:    sdkauth.CodeUnsupportedGrant,
			Message: "grant_type must be password, refresh_token or client_credentials.",
			Fields:  []sdkauth.FieldError{{Name: "grant_type", Reason: "must be password, refresh_token or client_credentials"}},
		}
	}
}

func (h *handlers) passwordGrant(c *gin.Context, req tokenRequest, g grant) error {
	if err := required(map[string]string{"username": req.Username, "password": req.Password}); err != nil {
		return err
	}
	ctx := c.Request.Context()
	u, err := h.Users.Authenticate(ctx, req.Username, req.Password)
	if err != nil {
		return err
	}
	body, err := h.userToken(c, u, g)
	if err != nil {
		return err
	}
	if body.RefreshToken, err = h.Sessions.Start(ctx, u.ID, clientOf(c)); err != nil {
		return err
	}
	writeToken(c, http.StatusOK, body)
	return nil
}

func (h *handlers) refreshGrant(c *gin.Context, req tokenRequest, g grant) error {
	if err := required(map[string]string{"refresh_token": req.RefreshToken}); err != nil {
		return err
	}
	var acl keys.ACL
	var ttl time.Duration
	grantUnder := func(row db.Policy) error {
		pol, err := h.Policies.FromRow(row)
		if err != nil {
			return err
		}
		acl, ttl, err = h.Policies.Grant(pol, g.TTL, g.ACL)
		return err
	}
	// A ttl or acl may be refused, so such a request is checked against the
	// user's policy before the token rotates, and a refusal leaves the
	// refresh token usable. Without them nothing can be refused (the policy
	// exists by foreign key, and Grant caps the default ttl at the policy's
	// maximum), so the grant is worked out afterwards and Refresh may rotate
	// in a single statement.
	var authorize func(db.User, db.Policy) error
	if g.TTL != 0 || g.ACL != nil {
		authorize = func(_ db.User, pol db.Policy) error { return grantUnder(pol) }
	}
	r, err := h.Sessions.Refresh(c.Request.Context(), req.RefreshToken, authorize)
	if err != nil {
		return err
	}
	if authorize == nil {
		if err := grantUnder(r.Policy); err != nil {
			return err
		}
	}
	body, err := h.mintUserToken(users.FromRow(r.User), acl, ttl)
	if err != nil {
		return err
	}
	body.RefreshToken = r.RefreshToken
	writeToken(c, http.StatusOK, body)
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

// clientCredentialsGrant mints an admin JWT (no sub; an acl only when one
// is asked for) for a service client with the tokens:admin scope. A scope
// may name any of the client's own scopes; the response lists those
// granted (all of them when none is asked for). There is no refresh token:
// the client authenticates again.
func (h *handlers) clientCredentialsGrant(c *gin.Context, req tokenRequest, g grant, cl *auth.ServiceClient) error {
	if cl == nil {
		return auth.ErrInvalidClient()
	}
	if !cl.Has(auth.ScopeTokensAdmin) {
		return sdkauth.Errorf(sdkauth.CodeUnauthorizedClient, "This client lacks the %q scope.", auth.ScopeTokensAdmin)
	}
	granted := cl.Scopes
	if req.Scope != "" {
		granted = strings.Fields(req.Scope)
		for _, s := range granted {
			if !cl.Has(s) {
				return &sdkauth.Error{
					Code:    sdkauth.CodeInvalidScope,
					Message: fmt.Sprintf("This client does not hold the scope %q.", s),
					Fields:  []sdkauth.FieldError{{Name: "scope", Reason: fmt.Sprintf("%q is not one of the client's scopes", s)}},
				}
			}
		}
	}
	ttl := g.TTL
	if ttl == 0 {
		ttl = h.AdminTokenTTL
	}
	tok, claims, err := h.Minter.AdminToken(ttl, g.ACL)
	if err != nil {
		return err
	}
	actAs(c, *cl)
	if err := h.Audit.Require(c.Request.Context(), auth.Event{Type: auth.EventAdminTokenIssued, Detail: "jti=" + claims.ID}); err != nil {
		return err
	}
	body := bearerBody(tok, claims)
	body.Scope = strings.Join(granted, " ")
	writeToken(c, http.StatusOK, body)
	return nil
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

// grant checks the optional ttl and acl of a request.
func (r tokenRequest) grant() (grant, error) {
	var g grant
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

// required returns a validation error naming every empty field.
func required(fields map[string]string) error {
	var bad []sdkauth.FieldError
	for _, name := range []string{"username", "password", "refresh_token"} {
		if v, ok := fields[name]; ok && v == "" {
			bad = append(bad, sdkauth.FieldError{Name: name, Reason: "is required"})
		}
	}
	if len(bad) > 0 {
		return sdkauth.Invalid(bad...)
	}
	return nil
}
