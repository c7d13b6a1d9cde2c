package api_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
)

// BenchmarkAdminList drives GET /v1/admin/users through sdkauth's handler
// as `serve` wires it, like BenchmarkTokenEndpoint: the first page, and a
// page after a cursor, which also decodes the cursor, encodes the next one
// and builds the Link header. make bench's admin list phase pages through
// the users, so on its nearly empty database half its pages are first
// pages, and on the filled one (make bench-scale) almost none are.
//
//	go test -run '^$' -bench AdminList -benchmem ./api/
func BenchmarkAdminList(b *testing.B) {
	s := newStack(b, nil)
	admin := s.AdminAuth("admin")
	for i := range 60 {
		if r := s.PostJSON("/v1/admin/users", map[string]string{"username": fmt.Sprintf("new-user-%02d", i), "password": "correct horse battery"}, "Authorization", admin); r.Status != http.StatusCreated {
			b.Fatalf("create: %d %s", r.Status, r.Body)
		}
	}
	get := func(b *testing.B, path string) string {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		req.Header.Set("Authorization", admin)
		w := httptest.NewRecorder()
		s.App.Handler.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatalf("%s: %d %s", path, w.Code, w.Body)
		}
		return w.Body.String()
	}
	const first = "/v1/admin/users?page_size=20&order=asc"
	next := first + "&cursor=" + url.QueryEscape(jsonString(get(b, first), "next_cursor"))
	for _, page := range []struct{ name, path string }{{"first_page", first}, {"after_a_cursor", next}} {
		b.Run(page.name, func(b *testing.B) {
			b.ReportAllocs()
			defer reportCPU(b)()
			for b.Loop() {
				get(b, page.path)
			}
		})
	}
}
