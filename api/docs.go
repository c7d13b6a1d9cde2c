package api

import (
	"bytes"
	"context"
	"html/template"
	"net/http"
	"sort"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/gin-gonic/gin"

	"github.com/sdkauth/sdkauth"
)

// docsPage renders openapi.yaml as a self-contained HTML reference: no
// scripts or fonts from elsewhere, so it works offline and under a strict
// content security policy.
var docsPage = sync.OnceValues(func() ([]byte, error) {
	doc, err := openapi3.NewLoader().LoadFromData(sdkauth.OpenAPI)
	if err != nil {
		return nil, err
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, err
	}
	type response struct{ Status, Description string }
	type operation struct {
		Method, Path, Summary, Description string
		Auth                               string
		Responses                          []response
	}
	var ops []operation
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			o := operation{Method: method, Path: path, Summary: op.Summary, Description: op.Description}
			if op.Security != nil {
				for _, req := range *op.Security {
					for name := range req {
						o.Auth = name
					}
				}
			}
			for status, r := range op.Responses.Map() {
				desc := ""
				if r.Value != nil && r.Value.Description != nil {
					desc = *r.Value.Description
				}
				o.Responses = append(o.Responses, response{status, desc})
			}
			sort.Slice(o.Responses, func(i, j int) bool { return o.Responses[i].Status < o.Responses[j].Status })
			ops = append(ops, o)
		}
	}
	sort.Slice(ops, func(i, j int) bool {
		if ops[i].Path != ops[j].Path {
			return ops[i].Path < ops[j].Path
		}
		return ops[i].Method < ops[j].Method
	})
	var buf bytes.Buffer
	err = docsTemplate.Execute(&buf, map[string]any{"Info": doc.Info, "Ops": ops})
	return buf.Bytes(), err
})

var docsTemplate = template.Must(template.New("docs").Funcs(template.FuncMap{"lower": strings.ToLower}).Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Info.Title}} API</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}
code,.path{font-family:ui-monospace,monospace}
.op{border:1px solid #ddd;border-radius:6px;margin:1rem 0;padding:.6rem 1rem}
.m{display:inline-block;min-width:4.5rem;font-weight:700;text-transform:uppercase}
.get{color:#0a7}.post{color:#06c}.patch{color:#a60}.put{color:#a60}.delete{color:#c22}
.auth{float:right;color:#777;font-size:.85em}ul{margin:.3rem 0}
</style></head><body>
<h1>{{.Info.Title}} <small>{{.Info.Version}}</small></h1>
<p>{{.Info.Description}}</p>
<p>The machine-readable contract is at <a href="/openapi.yaml">/openapi.yaml</a>.</p>
{{range .Ops}}<div class="op" id="{{lower .Method}}-{{.Path}}">
<span class="m {{lower .Method}}">{{.Method}}</span> <span class="path">{{.Path}}</span>{{if .Auth}}<span class="auth">{{.Auth}}</span>{{end}}
<div>{{.Summary}}</div>{{if .Description}}<p>{{.Description}}</p>{{end}}
<ul>{{range .Responses}}<li><code>{{.Status}}</code> {{.Description}}</li>{{end}}</ul>
</div>
{{end}}</body></html>
`))

func serveDocs(c *gin.Context) {
	page, err := docsPage()
	if err != nil {
		fail(c, err)
		return
	}
	c.Header("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	c.Data(http.StatusOK, "text/html; charset=utf-8", page)
}
