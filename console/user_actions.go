package console

import (
	"net/http"

	"github.com/sdkauth/sdkauth"
	"github.com/sdkauth/sdkauth/auth"
	"github.com/sdkauth/sdkauth/users"
)

// setPolicy puts a user on another policy, from its next token on, as
// PATCH /v1/admin/users/{id} with "policy" does.
func (c *Console) setPolicy(w http.ResponseWriter, r *http.Request, s *auth.ConsoleSession) error {
	u, err := c.pathUser(r)
	if err != nil {
		return err
	}
	if name := r.PostFormValue("policy"); name != u.Policy {
		if err := c.Policies.SetUserPolicy(r.Context(), u.ID, name); err != nil {
			return err
		}
	}
	http.Redirect(w, r, "/console/users/"+u.ID.String()+"?done=policy", http.StatusSeeOther)
	return nil
}

// confirmDelete asks whether to delete a user; nothing changes until the
// form it shows is posted.
func (c *Console) confirmDelete(w http.ResponseWriter, r *http.Request, s *auth.ConsoleSession) error {
	u, err := c.pathUser(r)
	if err != nil {
		return err
	}
	c.render(w, r, http.StatusOK, "user-delete", view{Title: "Delete " + u.Username + "?", Session: s, Data: u})
	return nil
}

// deleteUser deletes a user, its sessions and (through the outbox) its
// Vonage user, as DELETE /v1/admin/users/{id} does, and goes back to the
// list.
func (c *Console) deleteUser(w http.ResponseWriter, r *http.Request, s *auth.ConsoleSession) error {
	u, err := c.pathUser(r)
	if err != nil {
		return err
	}
	if err := c.Users.Remove(r.Context(), u.ID); err != nil {
		return err
	}
	http.Redirect(w, r, "/console/users?done=deleted", http.StatusSeeOther)
	return nil
}

// mintToken mints a token for the user within its policy, for debugging,
// as POST /v1/admin/users/{id}/token does: the acting client must hold
// tokens:user, and the issue is audited. The token is shown in this
// response only (the console's pages are never cached).
func (c *Console) mintToken(w http.ResponseWriter, r *http.Request, s *auth.ConsoleSession) error {
	if !s.Has(auth.ScopeTokensUser) {
		return sdkauth.Errorf(sdkauth.CodeForbidden, "Minting a user token needs the %q scope, and the client this console is signed in as (%s) lacks it. Sign in with a client that holds it.", auth.ScopeTokensUser, s.ClientName)
	}
	u, err := c.pathUser(r)
	if err != nil {
		return err
	}
	out, err := c.Tokens.MintOnBehalf(r.Context(), u, users.Ask{})
	if err != nil {
		return err
	}
	return c.renderUser(w, r, s, userView{User: u, Token: out.AccessToken, Expires: out.Claims.ExpiresAt}, "A token for "+u.Username+" is minted. Copy it now: it is shown this once.")
}
