package api

import (
	"github.com/gin-gonic/gin"

	"github.com/sdkauth/sdkauth/auth"
)

// withOrigin puts the caller's IP and user agent in the request context, so
// that throttling and the audit log see them wherever they run. The IP comes
// from X-Forwarded-For only when the peer is a trusted proxy
// (SDKAUTH_TRUSTED_PROXIES); otherwise it is the peer's own address.
func withOrigin(c *gin.Context) {
	ctx := auth.WithOrigin(c.Request.Context(), originOf(c))
	c.Request = c.Request.WithContext(ctx)
	c.Next()
}

// originOf is where the request came from: the caller's IP and user agent.
func originOf(c *gin.Context) auth.Origin {
	return auth.Origin{IP: c.ClientIP(), UserAgent: c.Request.UserAgent()}
}
