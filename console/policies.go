package console

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sdkauth/sdkauth"
	"github.com/sdkauth/sdkauth/auth"
)

// policyRow is a policy as the listing shows it.
type policyRow struct{ auth.Policy }

// Paths returns the policy's path patterns in order.
func (p policyRow) Paths() []string {
	out := make([]string, 0, len(p.ACL.Paths))
	for k := range p.ACL.Paths {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// Seconds is the policy's max_ttl as the admin API states it.
func (p policyRow) Seconds() int64 { return int64(p.MaxTTL / time.Second) }

// policyForm is the create or edit form of a policy, as typed, with the
// reason each field was refused (keyed name, acl and max_ttl).
type policyForm struct {
	Name, ACL, MaxTTL string
	// New is true for the create form, whose name is typed; an edit keeps
	// the policy's name.
	New     bool
	BuiltIn bool
	Errors  map[string]string
}

type policiesView struct {
	Policies []policyRow
	Form     policyForm
}

var policyNotices = map[string]string{
	"saved":   "The policy is saved. Users on it get the new ACL and maximum lifetime from their next token.",
	"deleted": "The policy is deleted.",
}

// listPolicies lists the named ACL policies (Policies.List, as GET
// /v1/admin/policies) with a form to create one.
func (c *Console) listPolicies(w http.ResponseWriter, r *http.Request, s *auth.ConsoleSession) error {
	form := policyForm{New: true, ACL: "{\"paths\": {\n  \"/*/users/**\": {}\n}}", MaxTTL: "3600"}
	return c.renderPolicies(w, r, s, http.StatusOK, form, policyNotices[r.URL.Query().Get("done")], "")
}

func (c *Console) renderPolicies(w http.ResponseWriter, r *http.Request, s *auth.ConsoleSession, status int, form policyForm, notice, problem string) error {
	list, err := c.Policies.List(r.Context())
	if err != nil {
		return err
	}
	v := policiesView{Form: form}
	for _, p := range list {
		v.Policies = append(v.Policies, policyRow{p})
	}
	c.render(w, r, status, "policies", view{Title: "Policies", Session: s, Notice: notice, Error: problem, Data: v})
	return nil
}

// showPolicy shows a policy's ACL and maximum lifetime in a form to edit
// them, and a button to delete it.
func (c *Console) showPolicy(w http.ResponseWriter, r *http.Request, s *auth.ConsoleSession) error {
	form, err := c.storedPolicy(r)
	if err != nil {
		return err
	}
	c.render(w, r, http.StatusOK, "policy", view{Title: "Policy " + form.Name, Session: s, Notice: policyNotices[r.URL.Query().Get("done")], Data: form})
	return nil
}

// storedPolicy returns the edit form of the policy the path names, filled
// from what is stored, or CodeNotFound.
func (c *Console) storedPolicy(r *http.Request) (policyForm, error) {
	p, err := c.Policies.Get(r.Context(), r.PathValue("name"))
	if err != nil {
		return policyForm{}, err
	}
	acl, err := json.MarshalIndent(p.ACL, "", "  ")
	if err != nil {
		return policyForm{}, err
	}
	return policyForm{Name: p.Name, ACL: string(acl), MaxTTL: strconv.FormatInt(policyRow{p}.Seconds(), 10), BuiltIn: p.BuiltIn}, nil
}

// createPolicy creates a policy from the create form. Policies.Put would
// replace one of the same name, as PUT /v1/admin/policies/{name} does;
// the form says "create", so an existing name is refused on the field.
func (c *Console) createPolicy(w http.ResponseWriter, r *http.Request, s *auth.ConsoleSession) error {
	form := policyForm{Name: strings.TrimSpace(r.PostFormValue("name")), New: true}
	if _, err := c.Policies.Get(r.Context(), form.Name); err == nil {
		form.ACL, form.MaxTTL = r.PostFormValue("acl"), r.PostFormValue("max_ttl")
		form.Errors = map[string]string{"name": "a policy with this name exists; edit it instead"}
		return c.renderPolicies(w, r, s, http.StatusConflict, form, "", "The policy was not created.")
	} else if sdkauth.ErrorCode(err) != sdkauth.CodeNotFound {
		return err
	}
	return c.putPolicy(w, r, s, form)
}

// editPolicy replaces a policy's ACL and maximum lifetime.
func (c *Console) editPolicy(w http.ResponseWriter, r *http.Request, s *auth.ConsoleSession) error {
	return c.putPolicy(w, r, s, policyForm{Name: r.PathValue("name")})
}

// putPolicy stores the form through Policies.Put, the validation and audit
// of PUT /v1/admin/policies/{name}, and shows each refused field's reason
// next to it.
func (c *Console) putPolicy(w http.ResponseWriter, r *http.Request, s *auth.ConsoleSession, form policyForm) error {
	form.ACL, form.MaxTTL = r.PostFormValue("acl"), strings.TrimSpace(r.PostFormValue("max_ttl"))
	in := auth.PolicyInput{ACL: json.RawMessage(strings.TrimSpace(form.ACL))}
	ttl, ttlErr := strconv.ParseInt(form.MaxTTL, 10, 64)
	if ttlErr == nil {
		in.MaxTTL = &ttl
	}
	_, _, err := c.Policies.Put(r.Context(), form.Name, in)
	var e *sdkauth.Error
	if errors.As(err, &e) && e.Code == sdkauth.CodeValidation {
		form.Errors = map[string]string{}
		for _, f := range e.Fields {
			field, reason := f.Name, f.Reason
			if strings.HasPrefix(field, "acl") {
				// The ACL is one field of the form: say where in it.
				field = "acl"
				if f.Name != "acl" {
					reason = f.Name + ": " + f.Reason
				}
			}
			if field == "max_ttl" && ttlErr != nil && form.MaxTTL != "" {
				reason = "must be a whole number of seconds"
			}
			form.Errors[field] = reason
		}
		msg := "The policy was not saved: correct the fields marked below."
		if form.New {
			return c.renderPolicies(w, r, s, http.StatusBadRequest, form, "", msg)
		}
		c.render(w, r, http.StatusBadRequest, "policy", view{Title: "Policy " + form.Name, Session: s, Error: msg, Data: form})
		return nil
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/console/policies/"+form.Name+"?done=saved", http.StatusSeeOther)
	return nil
}

// deletePolicy deletes a policy (Policies.Delete, as DELETE
// /v1/admin/policies/{name}); one that users are still on is refused, and
// the policy's page says so.
func (c *Console) deletePolicy(w http.ResponseWriter, r *http.Request, s *auth.ConsoleSession) error {
	err := c.Policies.Delete(r.Context(), r.PathValue("name"))
	if sdkauth.ErrorCode(err) == sdkauth.CodePolicyInUse {
		form, ferr := c.storedPolicy(r)
		if ferr != nil {
			return ferr
		}
		_, msg := c.explain(r, err)
		c.render(w, r, http.StatusConflict, "policy", view{Title: "Policy " + form.Name, Session: s, Error: "Not deleted: " + msg, Data: form})
		return nil
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/console/policies?done=deleted", http.StatusSeeOther)
	return nil
}
