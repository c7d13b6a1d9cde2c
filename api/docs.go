package api

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/sdkauth/sdkauth"
)

// docsFiles is the /docs page: a shell, Redoc's standalone bundle (vendored
// from npm by scripts/vendor-redoc.sh) and the script that starts it on
// /openapi.yaml. Nothing comes from elsewhere, so the page works offline.
//
//go:embed docs/index.html docs/docs.js docs/vendor/redoc.standalone.js
var docsFiles embed.FS

// docsPolicy allows what Redoc needs and nothing else: its own scripts, the
// inline styles its CSS-in-JS injects, fetching the contract, data: images
// and the blob: worker that builds its search index.
const docsPolicy = "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; " +
	"connect-src 'self'; img-src 'self' data:; worker-src blob:; " +
	"base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// docsAsset is one embedded file of the page with its validator.
type docsAsset struct {
	body        []byte
	contentType string
	etag        string
}

var docsAssets = func() map[string]docsAsset {
	assets := map[string]docsAsset{}
	for route, file := range map[string]string{
		"/docs":                     "docs/index.html",
		"/docs/docs.js":             "docs/docs.js",
		"/docs/redoc.standalone.js": "docs/vendor/redoc.standalone.js",
	} {
		body, err := docsFiles.ReadFile(file)
		if err != nil {
			panic(err) // unreachable: go:embed has checked every file at build time
		}
		ct := "text/html; charset=utf-8"
		if strings.HasSuffix(file, ".js") {
			ct = "text/javascript; charset=utf-8"
		}
		sum := sha256.Sum256(body)
		assets[route] = docsAsset{body, ct, `"` + base64.RawURLEncoding.EncodeToString(sum[:18]) + `"`}
	}
	return assets
}()

// serveDocs serves the reference page and its scripts, revalidated by ETag
// so an upgraded bundle is picked up at once.
func serveDocs(c *gin.Context) error {
	a, ok := docsAssets[c.FullPath()]
	if !ok {
		return notFound()
	}
	h := c.Writer.Header()
	h.Set("Content-Security-Policy", docsPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-cache")
	h.Set("Content-Type", a.contentType)
	h.Set("ETag", a.etag)
	http.ServeContent(c.Writer, c.Request, "", time.Time{}, bytes.NewReader(a.body))
	return nil
}

// serveOpenAPI serves the contract, openapi.yaml.
func serveOpenAPI(c *gin.Context) {
	c.Data(http.StatusOK, "application/yaml", sdkauth.OpenAPI)
}
