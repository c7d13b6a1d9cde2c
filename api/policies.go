package api

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/sdkauth/sdkauth/auth"
	"github.com/sdkauth/sdkauth/keys"
)

// policyBody is a named ACL policy as the admin API shows it.
type policyBody struct {
	Name    string   `json:"name"`
	ACL     keys.ACL `json:"acl"`
	MaxTTL  int64    `json:"max_ttl"`
	BuiltIn bool     `json:"built_in"`
}

func newPolicyBody(p auth.Policy) policyBody {
	return policyBody{Name: p.Name, ACL: p.ACL, MaxTTL: int64(p.MaxTTL / time.Second), BuiltIn: p.BuiltIn}
}

func (h *handlers) listPolicies(c *gin.Context) error {
	list, err := h.Policies.List(c.Request.Context())
	if err != nil {
		return err
	}
	out := make([]policyBody, len(list))
	for i, p := range list {
		out[i] = newPolicyBody(p)
	}
	writeJSON(c, http.StatusOK, "application/json", gin.H{"policies": out})
	return nil
}

func (h *handlers) getPolicy(c *gin.Context) error {
	p, err := h.Policies.Get(c.Request.Context(), c.Param("name"))
	if err != nil {
		return err
	}
	writeJSON(c, http.StatusOK, "application/json", newPolicyBody(p))
	return nil
}

// putPolicy creates (201) or replaces (200) a policy; users on it get the
// new ACL and max_ttl from their next token.
func (h *handlers) putPolicy(c *gin.Context) error {
	var in auth.PolicyInput
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	p, created, err := h.Policies.Put(c.Request.Context(), c.Param("name"), in)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	writeJSON(c, status, "application/json", newPolicyBody(p))
	return nil
}

func (h *handlers) deletePolicy(c *gin.Context) error {
	if err := h.Policies.Delete(c.Request.Context(), c.Param("name")); err != nil {
		return err
	}
	c.Status(http.StatusNoContent)
	return nil
}
