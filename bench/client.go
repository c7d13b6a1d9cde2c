package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
)

// statusError is an HTTP answer other than the one expected.
type statusError struct {
	status int
	code   string // the problem+json code, when there is one
}

func (e *statusError) Error() string { return e.kind() }

func (e *statusError) kind() string {
	if e.code != "" {
		return fmt.Sprintf("%d %s", e.status, e.code)
	}
	return fmt.Sprintf("%d", e.status)
}

// api talks to one sdkauth server.
type api struct {
	base   string
	client *http.Client
}

// do sends a request and returns the body of an answer with status want.
// The body is read into buf, which the caller reuses, and always to the
// end, so that the connection is reused.
func (a *api) do(ctx context.Context, req *http.Request, want int, buf *bytes.Buffer) ([]byte, error) {
	resp, err := a.client.Do(req.WithContext(ctx))
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	buf.Reset()
	if _, err := buf.ReadFrom(resp.Body); err != nil {
		return nil, err
	}
	if resp.StatusCode != want {
		var p struct {
			Code string `json:"code"`
		}
		_ = json.Unmarshal(buf.Bytes(), &p)
		return nil, &statusError{status: resp.StatusCode, code: p.Code}
	}
	return buf.Bytes(), nil
}

// tokenCaller posts form bodies to /v1/token, as OAuth client libraries do.
// It keeps the load generator's own CPU per request small, since it shares
// the cores with the server: a rawClient rather than net/http, no
// url.Values, no JSON decoding of answers, no allocation but the refresh
// token returned.
type tokenCaller struct {
	base  string
	basic string // an Authorization header value, or ""
	raw   *rawClient
}

func newTokenCaller(a *api, basic string) *tokenCaller {
	return &tokenCaller{base: a.base, basic: basic}
}

// post sends the body, given in parts (see rawClient.post), and returns the
// refresh token of the answer, "" when it has none.
func (t *tokenCaller) post(ctx context.Context, body ...string) (refresh string, err error) {
	if t.raw == nil {
		var header []string
		if t.basic != "" {
			header = append(header, "Authorization: "+t.basic)
		}
		if t.raw, err = newRawClient(t.base+"/v1/token", header...); err != nil {
			return "", err
		}
	}
	status, b, err := t.raw.post(ctx, body...)
	if err != nil {
		return "", err
	}
	if status != http.StatusOK {
		var p struct {
			Code string `json:"code"`
		}
		_ = json.Unmarshal(b, &p)
		return "", &statusError{status: status, code: p.Code}
	}
	if len(jsonMemberBytes(b, "access_token")) == 0 {
		return "", fmt.Errorf("token response without access_token")
	}
	return jsonMember(b, "refresh_token"), nil
}

// jsonMember returns the string member name of a flat JSON answer whose
// strings need no unescaping (tokens are base64url), or "" when absent.
func jsonMember(b []byte, name string) string {
	return string(jsonMemberBytes(b, name))
}

// jsonMemberBytes is jsonMember without the copy, nil when absent.
func jsonMemberBytes(b []byte, name string) []byte {
	key := `"` + name + `":`
	i := bytes.Index(b, []byte(key))
	if i < 0 {
		return nil
	}
	rest := bytes.TrimLeft(b[i+len(key):], " ")
	if len(rest) == 0 || rest[0] != '"' {
		return nil
	}
	end := bytes.IndexByte(rest[1:], '"')
	if end < 0 {
		return nil
	}
	return rest[1 : 1+end]
}

// signup creates a user and returns its first refresh token. The user has
// a display name, as the users -scale fills in have, so that an admin page
// weighs the same on the empty and the filled database.
func (a *api) signup(ctx context.Context, username, password string) (string, error) {
	body, _ := json.Marshal(map[string]string{"username": username, "password": password, "display_name": "Bench user " + username})
	req, err := http.NewRequest(http.MethodPost, a.base+"/v1/signup", bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/json")
	var buf bytes.Buffer
	b, err := a.do(ctx, req, http.StatusCreated, &buf)
	if err != nil {
		return "", fmt.Errorf("signing %s up: %w", username, err)
	}
	var tr struct {
		RefreshToken string `json:"refresh_token"`
	}
	if err := json.Unmarshal(b, &tr); err != nil || tr.RefreshToken == "" {
		return "", fmt.Errorf("signing %s up: no refresh token in the answer", username)
	}
	return tr.RefreshToken, nil
}

// refreshWorker follows one rotation chain: each answer's refresh token is
// the next request's. The chain's current token lives in *tok, so that a
// later phase continues the chain. Refresh tokens are base64url, so they
// need no form escaping.
func refreshWorker(a *api, tok *string) call {
	t := newTokenCaller(a, "")
	return func(ctx context.Context) error {
		next, err := t.post(ctx, "grant_type=refresh_token&refresh_token=", *tok)
		if err != nil {
			return err
		}
		if next == "" {
			return fmt.Errorf("refresh answer without refresh_token")
		}
		*tok = next
		return nil
	}
}

// clientCredentialsWorker authenticates with HTTP Basic, as RFC 6749 §2.3.1
// prefers.
func clientCredentialsWorker(a *api, id, secret string) call {
	t := newTokenCaller(a, "Basic "+base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(id)+":"+url.QueryEscape(secret))))
	return func(ctx context.Context) error {
		_, err := t.post(ctx, "grant_type=client_credentials")
		return err
	}
}

func passwordWorker(a *api, username, password string) call {
	t := newTokenCaller(a, "")
	body := url.Values{"grant_type": {"password"}, "username": {username}, "password": {password}}.Encode()
	return func(ctx context.Context) error {
		_, err := t.post(ctx, body)
		return err
	}
}

// listPageSize is the admin list's page_size (the API's default).
const listPageSize = 20

// adminListGrant names the admin list phases' kind in the report.
const adminListGrant = "admin list"

// adminListWorker pages through GET /v1/admin/users, oldest first or newest
// first, following next_cursor and starting over after the last page. It
// authenticates as the admin client with HTTP Basic, as backends do.
func adminListWorker(a *api, id, secret string, newestFirst bool) call {
	first := a.base + "/v1/admin/users?page_size=" + strconv.Itoa(listPageSize) + "&order=asc"
	if newestFirst {
		first = a.base + "/v1/admin/users?page_size=" + strconv.Itoa(listPageSize) + "&order=desc"
	}
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(id)+":"+url.QueryEscape(secret)))
	next := first
	var buf bytes.Buffer
	return func(ctx context.Context) error {
		req, err := http.NewRequest(http.MethodGet, next, nil)
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", basic)
		b, err := a.do(ctx, req, http.StatusOK, &buf)
		if err != nil {
			next = first
			return err
		}
		var page struct {
			Users      []json.RawMessage `json:"users"`
			NextCursor *string           `json:"next_cursor"`
		}
		if err := json.Unmarshal(b, &page); err != nil {
			return fmt.Errorf("admin list: %w", err)
		}
		if len(page.Users) == 0 {
			return fmt.Errorf("admin list: an empty page")
		}
		next = first
		if page.NextCursor != nil {
			next = first + "&cursor=" + url.QueryEscape(*page.NextCursor)
		}
		return nil
	}
}
