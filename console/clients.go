package console

import (
	"net/http"
	"slices"

	"github.com/sdkauth/sdkauth/auth"
)

type clientsView struct {
	Clients   []auth.ServiceClient
	AllScopes []string
	// Name and Scopes refill the create form after a validation error.
	Name   string
	Scopes []string
}

func (v clientsView) Checked(scope string) bool { return slices.Contains(v.Scopes, scope) }

// listClients lists the service clients with a form to create one.
func (c *Console) listClients(w http.ResponseWriter, r *http.Request, s *auth.ConsoleSession) error {
	notice := ""
	if r.URL.Query().Get("done") == "deleted" {
		notice = "The client is deleted; its secret no longer works."
	}
	return c.renderClients(w, r, s, http.StatusOK, clientsView{}, notice, "")
}

func (c *Console) renderClients(w http.ResponseWriter, r *http.Request, s *auth.ConsoleSession, status int, v clientsView, notice, problem string) error {
	list, err := c.Clients.List(r.Context())
	if err != nil {
		return err
	}
	v.Clients, v.AllScopes = list, auth.AllScopes
	c.render(w, r, status, "clients", view{Title: "Service clients", Session: s, Notice: notice, Error: problem, Data: v})
	return nil
}

// secretView is a client's secret, shown on this one response and never
// again: the page is not cached and no URL leads back to it.
type secretView struct {
	Client auth.ServiceClient
	Secret string
	// Rotated is true for a new secret of an existing client.
	Rotated bool
}

// createClient creates a service client (Clients.Create, as POST
// /v1/admin/clients) and shows its secret once.
func (c *Console) createClient(w http.ResponseWriter, r *http.Request, s *auth.ConsoleSession) error {
	v := clientsView{Name: r.PostFormValue("name"), Scopes: r.PostForm["scopes"]}
	cl, secret, err := c.Clients.Create(r.Context(), v.Name, v.Scopes)
	if err != nil {
		status, msg := c.explain(r, err)
		return c.renderClients(w, r, s, status, v, "", msg)
	}
	c.render(w, r, http.StatusCreated, "client-secret", view{Title: "Client created", Session: s, Data: secretView{Client: cl, Secret: secret}})
	return nil
}

// rotateClient replaces a client's secret (Clients.RotateSecret, as POST
// /v1/admin/clients/{id}/secret) and shows the new one once. Rotating the
// client this session signed in with ends the session: the old secret no
// longer vouches for it.
func (c *Console) rotateClient(w http.ResponseWriter, r *http.Request, s *auth.ConsoleSession) error {
	cl, secret, err := c.Clients.RotateSecret(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	c.render(w, r, http.StatusOK, "client-secret", view{Title: "Secret rotated", Session: s, Data: secretView{Client: cl, Secret: secret, Rotated: true}})
	return nil
}

// deleteClient deletes a client (Clients.Delete, as DELETE
// /v1/admin/clients/{id}); its secret stops working at once.
func (c *Console) deleteClient(w http.ResponseWriter, r *http.Request, s *auth.ConsoleSession) error {
	id := r.PathValue("id")
	if err := c.Clients.Delete(r.Context(), id); err != nil {
		return err
	}
	if id == s.ClientID {
		// Deleting it ended this session with it.
		c.setCookie(w, r, "", -1)
		http.Redirect(w, r, "/console/sign-in?ended=1", http.StatusSeeOther)
		return nil
	}
	http.Redirect(w, r, "/console/clients?done=deleted", http.StatusSeeOther)
	return nil
}
