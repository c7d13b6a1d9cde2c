// Package console is the admin console at /console: server-rendered pages
// for admins signed in with a service client that holds the admin scope.
// Every action calls the same domain services as the admin API and is
// recorded in the audit log with the acting client, as the admin API
// records it; the console adds no second set of rules.
//
// The pages are plain HTML forms with no JavaScript, so the
// Content-Security-Policy can refuse every script.
package console

import (
	"embed"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"time"

	"github.com/google/uuid"

	"github.com/sdkauth/sdkauth"
	"github.com/sdkauth/sdkauth/auth"
	"github.com/sdkauth/sdkauth/users"
)

// Deps is what the console needs from the rest of the service.
type Deps struct {
	Sessions     *auth.ConsoleSessions
	Clients      *auth.Clients
	Users        *users.Service
	UserSessions *auth.Sessions
	Policies     *auth.Policies
	Audit        *auth.Audit
	// Tokens mints user tokens, as the admin API's token route does.
	Tokens      *users.Tokens
	Provisioner *users.Provisioner
	Keys        Keys
	// Outage recognises an error as a dependency being out of reach and
	// returns the unavailable error to show; nil recognises nothing.
	Outage func(error) *sdkauth.Error
	Logger *slog.Logger
}

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed static/console.css
var stylesheet []byte

//go:embed static/favicon.svg
var favicon []byte

// pages holds each page parsed with the layout around it.
var pages = func() map[string]*template.Template {
	funcs := template.FuncMap{
		"when": func(t time.Time) string {
			if t.IsZero() {
				return "—"
			}
			return t.UTC().Format("2006-01-02 15:04:05 UTC")
		},
		// known is false for uuid.Nil, which stands for no id.
		"known": func(id uuid.UUID) bool { return id != uuid.Nil },
	}
	m := map[string]*template.Template{}
	for _, name := range []string{"sign-in", "error", "users", "user", "user-delete", "clients", "client-secret", "policies", "policy", "audit", "provisioning", "keys"} {
		m[name] = template.Must(template.New("layout.html").Funcs(funcs).ParseFS(templateFiles, "templates/layout.html", "templates/partials.html", "templates/"+name+".html"))
	}
	return m
}()

// policy refuses every script, frame and plugin; the stylesheet and form
// posts are the page's own.
const policy = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; " +
	"base-uri 'none'; frame-ancestors 'none'"

// Console serves the console's pages.
type Console struct {
	Deps
	mux *http.ServeMux
}

// New returns the console, to be mounted at /console.
func New(d Deps) *Console {
	c := &Console{Deps: d, mux: http.NewServeMux()}
	c.mux.HandleFunc("GET /console/console.css", serveStatic("text/css; charset=utf-8", stylesheet))
	c.mux.HandleFunc("GET /console/favicon.svg", serveStatic("image/svg+xml", favicon))
	c.mux.HandleFunc("GET /console", c.home)
	c.mux.HandleFunc("GET /console/{$}", c.home)
	c.mux.HandleFunc("GET /console/sign-in", c.signInPage)
	c.mux.HandleFunc("POST /console/sign-in", c.signIn)
	c.mux.Handle("POST /console/sign-out", c.signedIn(c.signOut))
	c.mux.Handle("GET /console/users", c.signedIn(c.listUsers))
	c.mux.Handle("GET /console/users/{id}", c.signedIn(c.showUser))
	c.mux.Handle("POST /console/users/{id}/disable", c.signedIn(c.setDisabled(true)))
	c.mux.Handle("POST /console/users/{id}/enable", c.signedIn(c.setDisabled(false)))
	c.mux.Handle("POST /console/users/{id}/revoke-sessions", c.signedIn(c.revokeSessions))
	c.mux.Handle("POST /console/users/{id}/policy", c.signedIn(c.setPolicy))
	c.mux.Handle("GET /console/users/{id}/delete", c.signedIn(c.confirmDelete))
	c.mux.Handle("POST /console/users/{id}/delete", c.signedIn(c.deleteUser))
	c.mux.Handle("POST /console/users/{id}/token", c.signedIn(c.mintToken))
	c.mux.Handle("GET /console/clients", c.signedIn(c.listClients))
	c.mux.Handle("POST /console/clients", c.signedIn(c.createClient))
	c.mux.Handle("POST /console/clients/{id}/rotate", c.signedIn(c.rotateClient))
	c.mux.Handle("POST /console/clients/{id}/delete", c.signedIn(c.deleteClient))
	c.mux.Handle("GET /console/policies", c.signedIn(c.listPolicies))
	c.mux.Handle("POST /console/policies", c.signedIn(c.createPolicy))
	c.mux.Handle("GET /console/policies/{name}", c.signedIn(c.showPolicy))
	c.mux.Handle("POST /console/policies/{name}", c.signedIn(c.editPolicy))
	c.mux.Handle("POST /console/policies/{name}/delete", c.signedIn(c.deletePolicy))
	c.mux.Handle("GET /console/audit", c.signedIn(c.listAudit))
	c.mux.Handle("GET /console/provisioning", c.signedIn(c.listJobs))
	c.mux.Handle("POST /console/provisioning/{id}/retry", c.signedIn(c.retryJob))
	c.mux.Handle("GET /console/keys", c.signedIn(c.listKeys))
	c.mux.Handle("POST /console/keys/rotate", c.signedIn(c.rotateKey))
	c.mux.HandleFunc("/console/", func(w http.ResponseWriter, r *http.Request) {
		c.render(w, r, http.StatusNotFound, "error", view{Title: "Not found", Error: "There is no such page."})
	})
	return c
}

// ServeHTTP sets the headers every console response carries and routes.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", policy)
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	// same-origin, not no-referrer: with no-referrer a browser sends
	// "Origin: null" on the console's own form posts, which checkOrigin
	// could not tell from a forgery.
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cache-Control", "no-store")
	c.mux.ServeHTTP(w, r)
}

func serveStatic(contentType string, body []byte) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", contentType)
		w.Header().Set("Cache-Control", "no-cache")
		_, _ = w.Write(body)
	}
}

// view is what every page template gets.
type view struct {
	Title   string
	Session *auth.ConsoleSession
	// Notice says what the last action did; Error what went wrong.
	Notice, Error string
	Data          any
}

func (c *Console) render(w http.ResponseWriter, r *http.Request, status int, page string, v view) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if err := pages[page].Execute(w, v); err != nil {
		c.Logger.ErrorContext(r.Context(), "rendering a console page", "page", page, "err", err)
	}
}

// statusOf maps the domain's error codes to the status a console page
// answers with, as api/problem.go does for the JSON API.
var statusOf = map[string]int{
	sdkauth.CodeValidation:    http.StatusBadRequest,
	sdkauth.CodeNotFound:      http.StatusNotFound,
	sdkauth.CodePolicyInUse:   http.StatusConflict,
	sdkauth.CodeForbidden:     http.StatusForbidden,
	sdkauth.CodeInvalidClient: http.StatusUnauthorized,
	sdkauth.CodeRateLimited:   http.StatusTooManyRequests,
	sdkauth.CodeUnavailable:   http.StatusServiceUnavailable,
}

// explain returns the status and the message to show for err, logging what
// a person must not see.
func (c *Console) explain(r *http.Request, err error) (int, string) {
	var e *sdkauth.Error
	if !errors.As(err, &e) && c.Outage != nil {
		if o := c.Outage(err); o != nil {
			c.Logger.WarnContext(r.Context(), "console request failed: a dependency is unavailable", "path", r.URL.Path, "err", err)
			e = o
		}
	}
	if e == nil {
		c.Logger.ErrorContext(r.Context(), "console request failed", "path", r.URL.Path, "err", err)
		return http.StatusInternalServerError, "Something went wrong on our side."
	}
	status, ok := statusOf[e.Code]
	if !ok {
		status = http.StatusBadRequest
	}
	return status, e.Message
}

// fail renders err as an error page within the signed-in layout.
func (c *Console) fail(w http.ResponseWriter, r *http.Request, s *auth.ConsoleSession, err error) {
	status, msg := c.explain(r, err)
	c.render(w, r, status, "error", view{Title: http.StatusText(status), Session: s, Error: msg})
}

func (c *Console) home(w http.ResponseWriter, r *http.Request) {
	http.Redirect(w, r, "/console/users", http.StatusSeeOther)
}
