package api

import (
	"github.com/gin-gonic/gin"

	"github.com/sdkauth/sdkauth/auth"
)

// withClient puts the caller's IP and user agent in the request context, so
// that throttling and the audit log see them wherever they run. The IP comes
// from X-Forwarded-For only when the peer is a trusted proxy
// (SDKAUTH_TRUSTED_PROXIES); otherwise it is the peer's own address.
func withClient(c *gin.Context) {
	ctx := auth.WithClient(c.Request.Context(), clientOf(c))
	c.Request = c.Request.WithContext(ctx)
	c.Next()
}
