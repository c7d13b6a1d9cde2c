// Package vonage is a typed client for the parts of the Vonage platform
// sdkauth uses: the Users API v1 (authenticated with an admin JWT) and the
// Applications API v2 (authenticated with the account's API key and
// secret).
//
// The client never retries a failure: provisioning retries from its outbox,
// with backoff, and uses IsRetryable and Error.RetryAfter to decide when. The
// one exception is an admin token Vonage refuses because the application's
// key has just changed (WithTokenRefused).
package vonage

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// TokenSource returns an admin JWT for the Users API. It is called once per
// request, so it should hand out a cached token while that is fresh.
type TokenSource func() (string, error)

// Client calls Vonage. It is safe for concurrent use.
type Client struct {
	baseURL   string
	token     TokenSource
	http      *http.Client
	apiKey    string
	apiSecret string
	userAgent string
	now       func() time.Time
	refused   func(ctx context.Context, token string) bool
}

// Option configures a Client.
type Option func(*Client)

// WithHTTPClient sets the HTTP client, for its transport and timeout. The
// default has a 30 s timeout, so that a caller without a context deadline
// still cannot hang forever.
func WithHTTPClient(h *http.Client) Option {
	return func(c *Client) {
		if h != nil {
			c.http = h
		}
	}
}

// WithBasicAuth sets the API key and secret the Applications API needs.
func WithBasicAuth(apiKey, apiSecret string) Option {
	return func(c *Client) { c.apiKey, c.apiSecret = apiKey, apiSecret }
}

// WithTokenRefused sets what the client does when Vonage refuses an admin
// token (401): refused, given the token Vonage refused, lets the token
// source catch up with a key rotation (the application's one public key has
// just been replaced) and reports whether it now signs with another key, in
// which case the request is sent once more with a fresh token.
func WithTokenRefused(refused func(ctx context.Context, token string) bool) Option {
	return func(c *Client) { c.refused = refused }
}

// WithUserAgent sets the User-Agent header.
func WithUserAgent(ua string) Option {
	return func(c *Client) { c.userAgent = ua }
}

// New returns a client for the API at baseURL, such as
// "https://api.nexmo.com"; a trailing slash is ignored. token supplies the
// admin JWTs for the Users API and may be nil when only the Applications
// API is used.
func New(baseURL string, token TokenSource, opts ...Option) *Client {
	c := &Client{
		baseURL:   strings.TrimRight(baseURL, "/"),
		token:     token,
		http:      &http.Client{Timeout: 30 * time.Second},
		userAgent: "sdkauth",
		now:       time.Now,
	}
	for _, o := range opts {
		o(c)
	}
	return c
}

// maxBody bounds how much of a response is read: the largest legitimate
// answer (a page of 100 users) is far smaller.
const maxBody = 1 << 20

// errNoCredentials is returned before any request is made when the needed
// credentials were not configured.
var errNoCredentials = errors.New("vonage: no credentials configured")

type authKind int

const (
	bearerAuth authKind = iota // Users API: admin JWT
	basicAuth                  // Applications API: API key and secret
)

// do sends one request to target (a path under the base URL, or an
// absolute URL as Vonage's HAL links give) and decodes a 2xx JSON body into
// out when out is non-nil. Non-2xx answers become *Error; failures to get
// an answer become retryable transport errors.
func (c *Client) do(ctx context.Context, method, target string, auth authKind, in, out any) error {
	sent, err := c.doOnce(ctx, method, target, auth, in, out)
	var e *Error
	if auth == bearerAuth && c.refused != nil && errors.As(err, &e) && e.Status == http.StatusUnauthorized && c.refused(ctx, sent) {
		_, err = c.doOnce(ctx, method, target, auth, in, out)
	}
	return err
}

// doOnce is one attempt of do; it returns the admin token it sent, if any.
func (c *Client) doOnce(ctx context.Context, method, target string, auth authKind, in, out any) (token string, err error) {
	u, err := c.resolve(target)
	if err != nil {
		return "", err
	}
	op := method + " " + u.Path
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return token, fmt.Errorf("vonage: %s: encoding request: %w", op, err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), body)
	if err != nil {
		return token, fmt.Errorf("vonage: %s: %w", op, err)
	}
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.userAgent != "" {
		req.Header.Set("User-Agent", c.userAgent)
	}
	if token, err = c.authorize(req, auth); err != nil {
		return token, fmt.Errorf("vonage: %s: %w", op, err)
	}

	resp, err := c.http.Do(req)
	if err != nil {
		return token, &transportError{op: op, err: err}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return token, &transportError{op: op, err: fmt.Errorf("reading response: %w", err)}
	}
	if len(data) > maxBody {
		return token, fmt.Errorf("vonage: %s: response body exceeds %d bytes", op, maxBody)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return token, newError(resp, data, method, u.Path, c.now())
	}
	if out == nil || len(bytes.TrimSpace(data)) == 0 {
		return token, nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return token, fmt.Errorf("vonage: %s: decoding %d response: %w", op, resp.StatusCode, err)
	}
	return token, nil
}

func (c *Client) resolve(target string) (*url.URL, error) {
	if strings.HasPrefix(target, "/") && !strings.HasPrefix(target, "//") {
		target = c.baseURL + target
	} else if base, err := url.Parse(c.baseURL + "/"); err == nil {
		// HAL links are absolute, but resolving keeps a relative one
		// working too.
		if ref, err := url.Parse(target); err == nil {
			target = base.ResolveReference(ref).String()
		}
	}
	u, err := url.Parse(target)
	if err != nil {
		return nil, fmt.Errorf("vonage: bad URL %q: %w", target, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("vonage: URL %q is not http(s); check the base URL", target)
	}
	return u, nil
}

// authorize sets the request's credentials; it returns the admin token it
// used, if any.
func (c *Client) authorize(req *http.Request, auth authKind) (string, error) {
	switch auth {
	case basicAuth:
		if c.apiKey == "" || c.apiSecret == "" {
			return "", fmt.Errorf("%w: the Applications API needs an API key and secret (WithBasicAuth)", errNoCredentials)
		}
		req.SetBasicAuth(c.apiKey, c.apiSecret)
		return "", nil
	default:
		if c.token == nil {
			return "", fmt.Errorf("%w: the Users API needs a TokenSource", errNoCredentials)
		}
		tok, err := c.token()
		if err != nil {
			return "", fmt.Errorf("getting admin token: %w", err)
		}
		req.Header.Set("Authorization", "Bearer "+tok)
		return tok, nil
	}
}
