// Package api is sdkauth's HTTP interface: the Gin router, handlers,
// middleware, request and response bodies, problem+json rendering (one
// adapter, handle), metrics and the API docs. Handlers parse a request,
// call one method of a domain service (users.Tokens for every token), and
// render; the package knows no database.
package api

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/sdkauth/sdkauth"
	"github.com/sdkauth/sdkauth/auth"
	"github.com/sdkauth/sdkauth/keys"
	"github.com/sdkauth/sdkauth/users"
)

// Deps is what the router needs from the rest of the service.
type Deps struct {
	// Ping checks that Postgres answers, for readiness.
	Ping     func(context.Context) error
	Users    *users.Service
	Tokens   *users.Tokens
	Sessions *auth.Sessions
	Clients  *auth.Clients
	// Audit records admin actions; nil records nothing.
	Audit    *auth.Audit
	Policies *auth.Policies
	// PublicKeys lists the keys tokens may be signed with, for JWKS.
	PublicKeys func() []*rsa.PublicKey
	Logger     *slog.Logger
	// MaxBodyBytes bounds request bodies; 0 means 64 KiB.
	MaxBodyBytes int64
	// Metrics, when not nil, are kept and served at /metrics.
	Metrics *Metrics
	// TrustedProxies are the IPs and CIDRs whose X-Forwarded-For header
	// names the client (SDKAUTH_TRUSTED_PROXIES); none when empty.
	TrustedProxies []string
	// Outage recognises an error as a dependency being out of reach (db.Outage
	// does for Postgres) and returns the unavailable error to answer instead
	// of a 500; nil recognises nothing.
	Outage func(error) *sdkauth.Error
	// Provisioner lists and retries provisioning jobs.
	Provisioner *users.Provisioner
	// Console, when not nil, serves the admin console under /console. It
	// runs behind the same middleware as the API (request id, access log,
	// body limit, input checks, the caller's IP for throttling and audit).
	Console http.Handler
}

const (
	ctxRequestID = "sdkauth.request_id"
	ctxOAuth     = "sdkauth.oauth"
	ctxCode      = "sdkauth.code"
	ctxUser      = "sdkauth.user"
	ctxClaims    = "sdkauth.claims"
	ctxOutage    = "sdkauth.outage"
	ctxLogger    = "sdkauth.logger"
	// ctxGrantType and ctxSignupResult are what the token and sign-up
	// handlers leave for their counters.
	ctxGrantType    = "sdkauth.grant_type"
	ctxSignupResult = "sdkauth.signup_result"
)

// NewRouter returns the HTTP handler for the whole API.
func NewRouter(d Deps) http.Handler {
	gin.SetMode(gin.ReleaseMode)
	if d.MaxBodyBytes == 0 {
		d.MaxBodyBytes = 64 << 10
	}
	r := gin.New()
	// X-Forwarded-For is trusted only from the configured proxies (config
	// has validated them); X-Real-IP never is.
	r.RemoteIPHeaders = []string{"X-Forwarded-For"}
	_ = r.SetTrustedProxies(d.TrustedProxies)
	r.Use(requestContext(d.Logger), oauth, recognise(d.Outage), recovery(), limitBody(d.MaxBodyBytes), strictInput(d.MaxBodyBytes), withOrigin)
	r.NoRoute(handle(routeNotFound))
	r.NoMethod(handle(routeNotFound))
	r.HandleMethodNotAllowed = true

	if d.Metrics != nil {
		r.Use(d.Metrics.observe)
		r.GET("/metrics", d.Metrics.handler())
	}
	h := &handlers{Deps: d}
	r.GET("/healthz", h.healthz)
	r.GET("/readyz", h.readyz)
	r.GET("/.well-known/jwks.json", h.jwks)
	r.GET("/openapi.yaml", serveOpenAPI)
	r.GET("/docs", handle(serveDocs))
	r.GET("/docs/docs.js", handle(serveDocs))
	r.GET("/docs/redoc.standalone.js", handle(serveDocs))

	if d.Console != nil {
		// Pages and their forms: GET and POST only.
		for _, method := range []string{http.MethodGet, http.MethodPost} {
			r.Handle(method, "/console", gin.WrapH(d.Console))
			r.Handle(method, "/console/*page", gin.WrapH(d.Console))
		}
	}

	v1 := r.Group("/v1")
	// The counters run around the handler, so they see the code fail
	// recorded for an error the handler returned.
	v1.POST("/signup", d.Metrics.countSignups, handle(h.signup))
	v1.POST("/token", d.Metrics.countTokens, handle(h.token))
	v1.POST("/logout", handle(h.logout))
	me := v1.Group("/me", handle(h.bearer))
	me.GET("", h.getMe)
	me.PATCH("", handle(h.patchMe))
	me.DELETE("", handle(h.deleteMe))
	me.POST("/password", handle(h.changePassword))

	admin := v1.Group("/admin", handle(h.admin(auth.ScopeAdmin)))
	admin.POST("/clients", handle(h.createClient))
	admin.GET("/clients", handle(h.listClients))
	admin.POST("/clients/:id/secret", handle(h.rotateClientSecret))
	admin.DELETE("/clients/:id", handle(h.deleteClient))
	admin.POST("/users", handle(h.adminCreateUser))
	admin.GET("/users", handle(h.adminListUsers))
	admin.POST("/users/import", handle(h.adminImportUsers))
	admin.GET("/users/:id", handle(h.adminGetUser))
	admin.PATCH("/users/:id", handle(h.adminUpdateUser))
	admin.DELETE("/users/:id", handle(h.adminDeleteUser))
	admin.DELETE("/users/:id/sessions", handle(h.adminRevokeSessions))
	admin.GET("/policies", handle(h.listPolicies))
	admin.GET("/policies/:name", handle(h.getPolicy))
	admin.PUT("/policies/:name", handle(h.putPolicy))
	admin.DELETE("/policies/:name", handle(h.deletePolicy))
	admin.GET("/provisioning/jobs", handle(h.adminListJobs))
	admin.POST("/provisioning/jobs/:id/retry", handle(h.adminRetryJob))
	// Backend services acting for a user need tokens:user, not admin.
	v1.POST("/admin/users/:id/token", handle(h.admin(auth.ScopeTokensUser)), handle(h.adminUserToken))
	return r
}

type handlers struct{ Deps }

// requestContext gives each request an id (echoed as X-Request-Id) and a
// logger that names it, and writes one access-log line when it ends. Query
// strings are not logged: they could carry credentials.
func requestContext(log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		id := c.GetHeader("X-Request-Id")
		if id == "" || len(id) > 64 {
			var b [8]byte
			_, _ = rand.Read(b[:])
			id = hex.EncodeToString(b[:])
		}
		c.Set(ctxRequestID, id)
		c.Set(ctxLogger, log)
		c.Header("X-Request-Id", id)
		c.Header("X-Content-Type-Options", "nosniff")
		start := time.Now()
		c.Next()
		log.LogAttrs(c.Request.Context(), slog.LevelInfo, "http",
			slog.String("request_id", id),
			slog.String("method", c.Request.Method),
			slog.String("path", c.Request.URL.Path),
			slog.Int("status", c.Writer.Status()),
			slog.Duration("duration", time.Since(start)),
			slog.String("ip", c.ClientIP()))
	}
}

func requestID(c *gin.Context) string { return c.GetString(ctxRequestID) }

// logger is the request's logger: Deps.Logger (or the default logger outside
// a request that requestContext began) with the request id. It is made when
// something is logged, not for every request: With costs allocations that
// the token endpoint's successful requests need not pay.
func logger(c *gin.Context) *slog.Logger {
	log, ok := c.Value(ctxLogger).(*slog.Logger)
	if !ok {
		return slog.Default()
	}
	return log.With("request_id", requestID(c))
}

// recognise makes outage available to fail, which turns the errors it
// recognises into 503 unavailable rather than 500.
func recognise(outage func(error) *sdkauth.Error) gin.HandlerFunc {
	return func(c *gin.Context) {
		if outage != nil {
			c.Set(ctxOutage, outage)
		}
	}
}

func recovery() gin.HandlerFunc {
	return gin.CustomRecoveryWithWriter(nil, func(c *gin.Context, v any) {
		logger(c).ErrorContext(c.Request.Context(), "panic", "panic", v)
		fail(c, errInternal)
	})
}

func limitBody(n int64) gin.HandlerFunc {
	return func(c *gin.Context) {
		limit := n
		if c.FullPath() == importPath {
			limit = maxImportBytes
		}
		c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, limit)
		c.Next()
	}
}

// tokenPath is the OAuth 2.0 token endpoint.
const tokenPath = "/v1/token"

// oauth marks the token endpoint, whose errors are RFC 6749 errors, before
// any other middleware can refuse the request.
func oauth(c *gin.Context) {
	if c.FullPath() == tokenPath {
		c.Set(ctxOAuth, true)
	}
}

func writeJSON(c *gin.Context, status int, contentType string, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		logger(c).ErrorContext(c.Request.Context(), "encoding a response", "err", err)
		c.Status(http.StatusInternalServerError)
		return
	}
	c.Data(status, contentType, b)
}

func (h *handlers) healthz(c *gin.Context) {
	writeJSON(c, http.StatusOK, "application/json", gin.H{"status": "ok"})
}

// readyz is ready when Postgres answers and a signing key is loaded.
func (h *handlers) readyz(c *gin.Context) {
	ctx, cancel := context.WithTimeout(c.Request.Context(), 2*time.Second)
	defer cancel()
	checks := gin.H{"postgres": "ok", "signing_key": "ok"}
	status := http.StatusOK
	if err := h.Ping(ctx); err != nil {
		checks["postgres"], status = "unreachable", http.StatusServiceUnavailable
	}
	if h.Tokens.Minter == nil || h.Tokens.Minter.Signer == nil {
		checks["signing_key"], status = "missing", http.StatusServiceUnavailable
	}
	writeJSON(c, status, "application/json", gin.H{"status": map[bool]string{true: "ok", false: "unavailable"}[status == http.StatusOK], "checks": checks})
}

// jwks lists the active key and the previous keys still in use. The cache
// lifetime is short because tokens signed with a new key appear the moment
// a rotation switches; verifiers that meet an unknown kid should refetch.
func (h *handlers) jwks(c *gin.Context) {
	c.Header("Cache-Control", "public, max-age=60")
	writeJSON(c, http.StatusOK, "application/json", keys.NewJWKSet(h.PublicKeys()...))
}

// routeNotFound answers a path or method no route serves.
func routeNotFound(*gin.Context) error { return notFound() }
