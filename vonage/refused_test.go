package vonage

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"
)

// TestRefusedTokenIsSentAgainOnceAfterCatchingUp: a 401 on a Users API call
// asks the token source to catch up with a rotation; when it has a new key,
// the call goes once more with a new token, and otherwise it fails as before.
func TestRefusedTokenIsSentAgainOnceAfterCatchingUp(t *testing.T) {
	t.Parallel()
	f := newFake(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer new-key-token" {
			writeProblem(w, http.StatusUnauthorized, `{"code":"system:error:invalid-token"}`)
			return
		}
		writeJSON(w, http.StatusCreated, map[string]any{"id": "USR-1", "name": "new-user"})
	})
	for _, caughtUp := range []bool{true, false} {
		var token atomic.Value
		token.Store("old-key-token")
		var asked atomic.Int32
		c := New(f.URL, func() (string, error) { return token.Load().(string), nil },
			WithTokenRefused(func(_ context.Context, refused string) bool {
				if refused != "old-key-token" {
					t.Errorf("refused token %q", refused)
				}
				asked.Add(1)
				if caughtUp {
					token.Store("new-key-token")
				}
				return caughtUp
			}))
		before := len(f.requests())
		_, err := c.CreateUser(context.Background(), User{Name: "new-user"})
		sent := len(f.requests()) - before
		switch {
		case caughtUp && (err != nil || sent != 2):
			t.Errorf("after catching up: %v, %d requests (want success in 2)", err, sent)
		case !caughtUp && (err == nil || sent != 1):
			t.Errorf("without a new key: %v, %d requests (want the 401, once)", err, sent)
		}
		if asked.Load() != 1 {
			t.Errorf("the token source was asked to catch up %d times", asked.Load())
		}
	}
}
