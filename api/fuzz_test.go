package api

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/sdkauth/sdkauth"
)

// decodeAs runs the request guard and then decode on a POST of body with
// the content type, as the router would.
func decodeAs(contentType string, body []byte, decode func(*gin.Context) error) error {
	rec := httptest.NewRecorder()
	c, _ := gin.CreateTestContext(rec)
	c.Request = httptest.NewRequest(http.MethodPost, "/v1/token", bytes.NewReader(body))
	c.Request.Header.Set("Content-Type", contentType)
	c.Request.Body = http.MaxBytesReader(rec, c.Request.Body, 64<<10)
	if err := checkRequest(c, 64<<10); err != nil {
		return err
	}
	return decode(c)
}

// clientError reports whether err is a domain error answered with a 4xx.
func clientError(err error) bool {
	var e *sdkauth.Error
	if !errors.As(err, &e) {
		return false
	}
	status, ok := statusOf[e.Code]
	return ok && status >= 400 && status < 500
}

// clean reports whether s is text Postgres accepts.
func clean(s string) bool { return utf8.ValidString(s) && !strings.ContainsRune(s, 0) }

// FuzzTokenRequest: a token request body of either encoding is refused with
// a 4xx that names what is wrong, or decodes to clean text and a valid ttl
// and acl; it never panics or fails otherwise.
func FuzzTokenRequest(f *testing.F) {
	for _, seed := range []struct {
		form bool
		body string
	}{
		{true, "grant_type=password&username=new-user&password=correct+horse"},
		{true, "grant_type=refresh_token&refresh_token=abc&ttl=600&acl=%7B%22paths%22%3A%7B%7D%7D"},
		{true, "grant_type=client_credentials&client_id=c&client_secret=s&scope=admin"},
		{true, "username=%00&ttl=1e9"},
		{false, `{"grant_type":"password","username":"new-user","password":"x","ttl":60,"acl":{"paths":{"/*/users/**":{}}}}`},
		{false, `{"grant_type":"refresh_token","refresh_token":"\u0000"}`},
		{false, `{"ttl":"sixty"}`},
		{false, "{\"username\":\"\xff\"}"},
		{false, `[1,2]`},
	} {
		f.Add(seed.form, []byte(seed.body))
	}
	f.Fuzz(func(t *testing.T, form bool, body []byte) {
		ct := "application/json"
		if form {
			ct = "application/x-www-form-urlencoded"
		}
		var req tokenRequest
		err := decodeAs(ct, body, func(c *gin.Context) error {
			var err error
			if req, err = readTokenRequest(c); err != nil {
				return err
			}
			_, err = req.ask()
			return err
		})
		if err != nil {
			if !clientError(err) {
				t.Fatalf("%q: %v is not a 4xx domain error", body, err)
			}
			return
		}
		for _, s := range []string{req.GrantType, req.Username, req.Password, req.RefreshToken, req.ClientID, req.ClientSecret, req.Scope} {
			if !clean(s) {
				t.Fatalf("%q: accepted %q", body, s)
			}
		}
	})
}

// FuzzAdminBody: the admin API's JSON bodies are refused with a 4xx naming
// the field, or decode to clean text.
func FuzzAdminBody(f *testing.F) {
	for _, seed := range []string{
		`{"username":"new-user","password":"correct horse battery","display_name":"A","policy":"client-sdk"}`,
		`{"username":"new-user","password_hash":"$2a$10$abcdefghijklmnopqrstuu5Jm7bT5eF7gH8iJ9kL0mN1oP2qR3sT"}`,
		`{"display_name":null,"disabled":true}`, `{"username":7}`, `{"username":"a\u0000"}`, `{"acl":{"paths":{}},"max_ttl":60}`,
		`{"name":"backend","scopes":["admin"]}`, ``, `null`, `"x"`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var create adminCreateUserRequest
		if err := decodeAs("application/json", body, func(c *gin.Context) error { return decodeJSON(c, &create) }); err != nil {
			if !clientError(err) {
				t.Fatalf("%q: %v is not a 4xx domain error", body, err)
			}
			return
		}
		for _, s := range []string{create.Username, create.Password, create.PasswordHash, create.DisplayName, create.ImageURL, create.Policy} {
			if !clean(s) {
				t.Fatalf("%q: accepted %q", body, s)
			}
		}
	})
}
