package api

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/sdkauth/sdkauth/internal/browsertest"
)

// TestDocsInChromium opens /docs in headless Chromium and reads what a
// person would: the text the page shows (innerText has nothing collapsed,
// hidden or in a shadow root), in the order a newcomer needs it.
func TestDocsInChromium(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(NewRouter(Deps{Logger: slog.New(slog.DiscardHandler)}))
	t.Cleanup(srv.Close)
	b := browsertest.New(t)
	ctx, cancel := context.WithTimeout(b.Ctx, 2*time.Minute)
	defer cancel()

	err := chromedp.Do(ctx,
		chromedp.Navigate(srv.URL+"/docs"),
		chromedp.WaitVisible(chromedp.CSS(`[id="operation/adminRetryProvisioningJob"]`)),
	)
	if err != nil {
		t.Fatalf("render /docs: %v (page logged %q)", err, b.Problems())
	}
	text := evaluate[string](t, ctx, `document.body.innerText`)
	ops := evaluate[map[string]string](t, ctx,
		`Object.fromEntries([...document.querySelectorAll('[id^="operation/"]')].map(e => [e.id.slice(10), e.innerText]))`)
	order := evaluate[[]string](t, ctx, `[...document.querySelectorAll('[id^="operation/"]')].map(e => e.id.slice(10))`)
	shadowRoots := evaluate[int](t, ctx, `[...document.querySelectorAll('*')].filter(e => e.shadowRoot).length`)

	b.Screenshot(t, "docs-top")
	evaluate[bool](t, ctx, `(document.getElementById("operation/token").scrollIntoView(), true)`)
	b.Screenshot(t, "docs-token")
	evaluate[bool](t, ctx, `(document.getElementById("operation/adminImportUsers").scrollIntoView(), true)`)
	b.Screenshot(t, "docs-import")

	contains := func(where, text string, want ...string) {
		t.Helper()
		for _, w := range want {
			if !strings.Contains(text, w) {
				t.Errorf("%s does not show %q", where, w)
			}
		}
	}
	// innerText applies the page's CSS, so the headings read in capitals.
	contains("the token endpoint", ops["token"],
		"grant_type", `Enum: "password" "refresh_token" "client_credentials"`,
		"REQUEST BODY SCHEMA:", "application/x-www-form-urlencoded",
		"grant_type=password: the user's name", "grant_type=refresh_token: the refresh token",
		"grant_type=client_credentials: the service client's secret", "RESPONSE SCHEMA: application/json")
	contains("the import endpoint", ops["adminImportUsers"],
		"REQUEST BODY SCHEMA: application/x-ndjson", "JSON lines, one user per line",
		`{"username":"new-user","password":"correct horse battery"}`,
		`Enum: "created" "exists" "failed"`)
	contains("the policy endpoint", ops["putPolicy"], "max_ttl", "methods")
	contains("the page", text,
		"Getting started",                    // markdown headings rendered
		"grant_type=password: log a user in", // a request example
		`"refresh_token": "3q2-7wAAAAC9WQ0Qm2L8cQxJ1F3kq8w1kYx0hN5bYz4"`, // a response example
		`"code": "validation_failed"`)                                    // a problem example
	if strings.Contains(text, "```") || strings.Contains(text, "**Sign up**") {
		t.Error("the page shows markdown unrendered")
	}
	if shadowRoots != 0 {
		t.Errorf("%d shadow roots: a browser's search does not look inside them", shadowRoots)
	}

	if len(order) < 2 || order[0] != "signup" || order[1] != "token" {
		t.Errorf("the reference does not start with sign-up and the token endpoint: %q", order)
	}
	// Admin operations (HTTP Basic with a service client) come last.
	admin := func(id string) bool { return strings.Contains(ops[id], "AUTHORIZATIONS:\nclientBasic") }
	firstAdmin := slices.IndexFunc(order, admin)
	if firstAdmin < 0 {
		t.Fatalf("no admin operation in %q", order)
	}
	for _, id := range order[firstAdmin:] {
		if !admin(id) {
			t.Errorf("%s comes after the admin API begins (at %s): %q", id, order[firstAdmin], order)
		}
	}

	// Redoc's footer always asks for Redocly's logo from its CDN; the page's
	// policy refuses it, as it refuses anything from elsewhere.
	for _, p := range b.Problems() {
		if !strings.Contains(p, "https://cdn.redoc.ly/") {
			t.Errorf("the page logged %s", p)
		}
	}
}

func evaluate[T any](t *testing.T, ctx context.Context, expression string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expression))
	if err != nil {
		t.Fatalf("%s: %v", expression, err)
	}
	return v
}
