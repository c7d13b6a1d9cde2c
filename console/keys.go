package console

import (
	"context"
	"net/http"
	"time"

	"github.com/sdkauth/sdkauth/auth"
	"github.com/sdkauth/sdkauth/keys"
)

// Keys is the application's signing keys as the console manages them.
type Keys interface {
	// List returns every stored key, newest first.
	List(ctx context.Context) ([]keys.StoredKey, error)
	// Rotatable reports whether Rotate can upload a key to the Vonage
	// application here.
	Rotatable() bool
	// Rotate rotates the signing key as `sdkauth keys rotate` does,
	// recorded in the audit log with the acting client.
	Rotate(ctx context.Context) (keys.Rotation, error)
}

// keyRow is a stored key as the page shows it.
type keyRow struct {
	keys.StoredKey
	now time.Time
}

// Age is how long ago the key was made, to the minute.
func (k keyRow) Age() string { return ago(k.now.Sub(k.CreatedAt)) }

// Left is how long a previous key still verifies, to the minute.
func (k keyRow) Left() string {
	if k.ExpiresAt == nil {
		return ""
	}
	return ago(k.ExpiresAt.Sub(k.now))
}

func ago(d time.Duration) string {
	d = max(d, 0).Truncate(time.Minute)
	if d == 0 {
		return "under a minute"
	}
	s := d.String()
	return s[:len(s)-2] // "1h5m0s" reads as "1h5m"
}

type keysView struct {
	Keys      []keyRow
	Rotatable bool
}

// listKeys lists the signing keys with their thumbprints (the kid of
// every token and of the JWKS), states and ages.
func (c *Console) listKeys(w http.ResponseWriter, r *http.Request, s *auth.ConsoleSession) error {
	list, err := c.Keys.List(r.Context())
	if err != nil {
		return err
	}
	v := keysView{Rotatable: c.Keys.Rotatable()}
	now := time.Now()
	for _, k := range list {
		if k.State != keys.StateRetired {
			v.Keys = append(v.Keys, keyRow{k, now})
		}
	}
	notice := ""
	if r.URL.Query().Get("done") == "rotated" {
		notice = "The signing key is rotated: new tokens are signed with the active key below, and Vonage no longer accepts tokens of the previous one."
	}
	c.render(w, r, http.StatusOK, "keys", view{Title: "Signing keys", Session: s, Notice: notice, Data: v})
	return nil
}

// rotateKey generates a key, uploads its public half to the Vonage
// application and signs with it from now on, on every replica. It answers
// with a redirect, so reloading the page does not rotate again.
func (c *Console) rotateKey(w http.ResponseWriter, r *http.Request, s *auth.ConsoleSession) error {
	if _, err := c.Keys.Rotate(r.Context()); err != nil {
		return err
	}
	http.Redirect(w, r, "/console/keys?done=rotated", http.StatusSeeOther)
	return nil
}
