package api

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/sdkauth/sdkauth"
	"github.com/sdkauth/sdkauth/auth"
)

// basicCredentials reads HTTP Basic client credentials, form-decoding each
// half as RFC 6749 §2.3.1 requires. ok is false when the request carries no
// Basic credentials (a bearer token included).
func basicCredentials(c *gin.Context) (id, secret string, ok bool) {
	h := c.GetHeader("Authorization")
	if len(h) < 6 || !strings.EqualFold(h[:6], "basic ") {
		return "", "", false
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(h[6:]))
	if err != nil {
		return "", "", false
	}
	id, secret, found := strings.Cut(string(raw), ":")
	if !found {
		return "", "", false
	}
	if id, err = url.QueryUnescape(id); err != nil {
		return "", "", false
	}
	if secret, err = url.QueryUnescape(secret); err != nil {
		return "", "", false
	}
	return id, secret, id != ""
}

// admin authenticates a service client by HTTP Basic only and requires
// scope. A bearer JWT is never an admin credential: anyone holding the
// application key can mint one.
func (h *handlers) admin(scope string) handlerFunc {
	return func(c *gin.Context) error {
		id, secret, ok := basicCredentials(c)
		if !ok {
			return auth.ErrInvalidClient()
		}
		cl, err := h.Clients.Authenticate(c.Request.Context(), id, secret)
		if err != nil {
			return err
		}
		if !cl.Has(scope) {
			return sdkauth.Errorf(sdkauth.CodeForbidden, "This client lacks the %q scope.", scope)
		}
		actAs(c, cl)
		return nil
	}
}

// actAs makes cl the actor of every audit row the request writes.
func actAs(c *gin.Context, cl auth.ServiceClient) {
	c.Request = c.Request.WithContext(auth.ActingAs(c.Request.Context(), cl.ID))
}

type createClientRequest struct {
	Name   string   `json:"name" binding:"required,max=200"`
	Scopes []string `json:"scopes" binding:"required"`
}

// clientWithSecret is a service client as shown once, at creation or
// rotation.
type clientWithSecret struct {
	auth.ServiceClient
	Secret string `json:"client_secret"`
}

func (h *handlers) createClient(c *gin.Context) error {
	var req createClientRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	cl, secret, err := h.Clients.Create(c.Request.Context(), req.Name, req.Scopes)
	if err != nil {
		return err
	}
	c.Header("Cache-Control", "no-store")
	writeJSON(c, http.StatusCreated, "application/json", clientWithSecret{cl, secret})
	return nil
}

func (h *handlers) listClients(c *gin.Context) error {
	list, err := h.Clients.List(c.Request.Context())
	if err != nil {
		return err
	}
	writeJSON(c, http.StatusOK, "application/json", gin.H{"clients": list})
	return nil
}

func (h *handlers) rotateClientSecret(c *gin.Context) error {
	cl, secret, err := h.Clients.RotateSecret(c.Request.Context(), c.Param("id"))
	if err != nil {
		return err
	}
	c.Header("Cache-Control", "no-store")
	writeJSON(c, http.StatusOK, "application/json", clientWithSecret{cl, secret})
	return nil
}

func (h *handlers) deleteClient(c *gin.Context) error {
	if err := h.Clients.Delete(c.Request.Context(), c.Param("id")); err != nil {
		return err
	}
	c.Status(http.StatusNoContent)
	return nil
}
