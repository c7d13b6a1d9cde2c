package vonage

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
)

// Application is a Vonage application (Applications API v2). Capabilities
// and Privacy are kept as decoded JSON, and members this package does not
// model are kept in Extra, so that GetApplication followed by
// UpdateApplication (a PUT, which replaces the whole application) does not
// drop configuration sdkauth knows nothing about.
type Application struct {
	ID           string
	Name         string
	Keys         ApplicationKeys
	Capabilities map[string]any
	Privacy      map[string]any
	Extra        map[string]json.RawMessage
}

// ApplicationKeys are the application's key pair. Vonage stores only the
// public key; it returns a private key once, from a create without a public
// key.
type ApplicationKeys struct {
	PublicKey  string `json:"public_key,omitempty"`
	PrivateKey string `json:"private_key,omitempty"`
}

// MarshalJSON writes the Vonage shape, Extra first so the modelled fields
// win over stale copies of them.
func (a Application) MarshalJSON() ([]byte, error) {
	m := make(map[string]any, len(a.Extra)+5)
	for k, v := range a.Extra {
		m[k] = v
	}
	if a.ID != "" {
		m["id"] = a.ID
	}
	m["name"] = a.Name
	if a.Keys != (ApplicationKeys{}) {
		m["keys"] = a.Keys
	}
	if a.Capabilities != nil {
		m["capabilities"] = a.Capabilities
	}
	if a.Privacy != nil {
		m["privacy"] = a.Privacy
	}
	return json.Marshal(m)
}

// UnmarshalJSON reads the Vonage shape. HAL _links are dropped: they
// describe the response, not the application.
func (a *Application) UnmarshalJSON(data []byte) error {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(data, &m); err != nil {
		return err
	}
	var out Application
	for k, dst := range map[string]any{
		"id": &out.ID, "name": &out.Name, "keys": &out.Keys,
		"capabilities": &out.Capabilities, "privacy": &out.Privacy,
	} {
		if raw, ok := m[k]; ok {
			if err := json.Unmarshal(raw, dst); err != nil {
				return fmt.Errorf("application %s: %w", k, err)
			}
			delete(m, k)
		}
	}
	delete(m, "_links")
	if len(m) > 0 {
		out.Extra = m
	}
	*a = out
	return nil
}

// GetApplication returns the application with the given ID. An unknown ID
// is an *Error for which IsNotFound is true; missing API credentials are an
// error before any request is made.
func (c *Client) GetApplication(ctx context.Context, id string) (Application, error) {
	if id == "" {
		return Application{}, errEmptyID
	}
	var out Application
	err := c.do(ctx, http.MethodGet, appPath(id), basicAuth, nil, &out)
	return out, err
}

// CreateApplication creates a. When a.Keys.PublicKey is empty Vonage
// generates a key pair and the result carries the private key, the only
// time it is ever returned. Errors are *Error answers (invalid_parameters
// name the bad fields) or transport errors.
func (c *Client) CreateApplication(ctx context.Context, a Application) (Application, error) {
	var out Application
	err := c.do(ctx, http.MethodPost, "/v2/applications", basicAuth, forWrite(a), &out)
	return out, err
}

// UpdateApplication replaces the application with the given ID by a (PUT),
// which is how its public key is rotated. Send back what GetApplication
// returned, modified, so nothing is lost. Errors are as for
// CreateApplication and GetApplication.
func (c *Client) UpdateApplication(ctx context.Context, id string, a Application) (Application, error) {
	if id == "" {
		return Application{}, errEmptyID
	}
	var out Application
	err := c.do(ctx, http.MethodPut, appPath(id), basicAuth, forWrite(a), &out)
	return out, err
}

// DeleteApplication deletes the application with the given ID. Errors are
// as for GetApplication.
func (c *Client) DeleteApplication(ctx context.Context, id string) error {
	if id == "" {
		return errEmptyID
	}
	return c.do(ctx, http.MethodDelete, appPath(id), basicAuth, nil, nil)
}

// forWrite drops what must not be sent: the id is in the URL, and a
// private key never needs to leave this process.
func forWrite(a Application) Application {
	a.ID = ""
	a.Keys.PrivateKey = ""
	if a.Extra != nil {
		extra := make(map[string]json.RawMessage, len(a.Extra))
		for k, v := range a.Extra {
			if k != "id" && k != "_links" {
				extra[k] = v
			}
		}
		a.Extra = extra
	}
	return a
}

func appPath(id string) string { return "/v2/applications/" + url.PathEscape(id) }
