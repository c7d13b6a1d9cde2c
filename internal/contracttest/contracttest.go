// Package contracttest checks real HTTP responses against openapi.yaml, so
// the contract cannot drift from what the server does.
package contracttest

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/sdkauth/sdkauth"
)

var (
	once    sync.Once
	router  routers.Router
	loadErr error
)

func load() (routers.Router, error) {
	once.Do(func() {
		// An HTML page and its scripts are checked for their status and
		// content type only.
		openapi3filter.RegisterBodyDecoder("text/html", openapi3filter.FileBodyDecoder)
		openapi3filter.RegisterBodyDecoder("text/javascript", openapi3filter.FileBodyDecoder)
		doc, err := openapi3.NewLoader().LoadFromData(sdkauth.OpenAPI)
		if err != nil {
			loadErr = err
			return
		}
		if loadErr = doc.Validate(context.Background()); loadErr != nil {
			return
		}
		// Match on paths only: tests run on random ports.
		doc.Servers = nil
		router, loadErr = gorillamux.NewRouter(doc)
	})
	return router, loadErr
}

// Transport wraps base (nil = http.DefaultTransport) and fails t when a
// response's status, headers or body do not match openapi.yaml, or when the
// request's path and method are not in it.
func Transport(t testing.TB, base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	r, err := load()
	if err != nil {
		t.Fatalf("openapi.yaml: %v", err)
	}
	return &transport{t: t, base: base, router: r}
}

type transport struct {
	t      testing.TB
	base   http.RoundTripper
	router routers.Router
}

// IsConsole reports whether path is the admin console's: HTML pages and
// forms for a browser, outside the API contract and checked by their own
// browser and HTTP tests.
func IsConsole(path string) bool { return path == "/console" || strings.HasPrefix(path, "/console/") }

func (tr *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	res, err := tr.base.RoundTrip(req)
	if err != nil {
		return res, err
	}
	if IsConsole(req.URL.Path) {
		return res, nil
	}
	route, params, err := tr.router.FindRoute(req)
	if err != nil {
		tr.t.Errorf("contract: %s %s is not in openapi.yaml: %v", req.Method, req.URL.Path, err)
		return res, nil
	}
	body, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		return nil, err
	}
	res.Body = io.NopCloser(bytes.NewReader(body))
	opts := &openapi3filter.Options{
		IncludeResponseStatus: true,
		MultiError:            true,
		AuthenticationFunc:    openapi3filter.NoopAuthenticationFunc,
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route, Options: opts},
		Status:                 res.StatusCode,
		Header:                 res.Header,
		Options:                opts,
	}
	in.SetBodyBytes(body)
	if err := openapi3filter.ValidateResponse(req.Context(), in); err != nil {
		tr.t.Errorf("contract: %s %s → %d does not match openapi.yaml: %v\nbody: %s", req.Method, req.URL.Path, res.StatusCode, err, body)
	}
	return res, nil
}
