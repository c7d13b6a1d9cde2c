package console

import (
	"crypto/subtle"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/sdkauth/sdkauth"
	"github.com/sdkauth/sdkauth/auth"
)

// cookieName is the session cookie: __Host- where it is Secure, so that it
// is bound to this host and path "/" and no sibling subdomain can plant one.
// On loopback over plain HTTP the prefix is not allowed.
func cookieName(r *http.Request) string {
	if secure(r) {
		return "__Host-sdkauth_console"
	}
	return "sdkauth_console"
}

// secure reports whether the session cookie must be Secure: everywhere but
// a browser on the same machine (localhost, 127.0.0.0/8, ::1), where the
// console is reached over plain HTTP in development. Behind a TLS-ending
// proxy the Host is the public name, so the cookie is Secure there.
func secure(r *http.Request) bool {
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	if strings.EqualFold(host, "localhost") {
		return false
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip == nil || !ip.IsLoopback()
}

func (c *Console) setCookie(w http.ResponseWriter, r *http.Request, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{
		Name:     cookieName(r),
		Value:    value,
		Path:     "/",
		MaxAge:   maxAge,
		HttpOnly: true,
		Secure:   secure(r),
		SameSite: http.SameSiteStrictMode,
	})
}

// checkOrigin refuses a state-changing request that a browser says came
// from another origin. SameSite=Strict keeps the cookie off cross-site
// requests, but another port of the same host is the same site; Fetch
// Metadata and Origin tell the two apart. A client that sends neither (not
// a browser) still needs the session's CSRF token.
func checkOrigin(r *http.Request) error {
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" {
		return errForged()
	}
	if o := r.Header.Get("Origin"); o != "" {
		u, err := url.Parse(o)
		if err != nil || !strings.EqualFold(u.Host, r.Host) {
			return errForged()
		}
	}
	return nil
}

func errForged() error {
	return sdkauth.Errorf(sdkauth.CodeForbidden, "The form was refused: it did not come from this console. Go back, reload the page and try again.")
}

// handler is a console page or action for a signed-in admin.
type handler func(w http.ResponseWriter, r *http.Request, s *auth.ConsoleSession) error

// signedIn runs h for the session the request's cookie names, acting as
// its service client, so every audit row the action writes names that
// client as the admin API's do. Without a live session it sends the browser
// to sign in. A POST must also come from this origin and carry the
// session's CSRF token in its "csrf" field.
func (c *Console) signedIn(h handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cookie, err := r.Cookie(cookieName(r))
		if err != nil {
			http.Redirect(w, r, "/console/sign-in", http.StatusSeeOther)
			return
		}
		s, err := c.Sessions.Resume(r.Context(), cookie.Value)
		if sdkauth.ErrorCode(err) == sdkauth.CodeInvalidToken {
			c.setCookie(w, r, "", -1)
			http.Redirect(w, r, "/console/sign-in?ended=1", http.StatusSeeOther)
			return
		}
		if err != nil {
			c.fail(w, r, nil, err)
			return
		}
		if r.Method == http.MethodPost {
			if err := checkOrigin(r); err != nil {
				c.fail(w, r, &s, err)
				return
			}
			if subtle.ConstantTimeCompare([]byte(r.PostFormValue("csrf")), []byte(s.CSRF)) != 1 {
				c.fail(w, r, &s, sdkauth.Errorf(sdkauth.CodeForbidden, "The form was refused: its CSRF token is missing or stale. Go back, reload the page and try again."))
				return
			}
		}
		r = r.WithContext(auth.ActingAs(r.Context(), s.ClientID))
		if err := h(w, r, &s); err != nil {
			c.fail(w, r, &s, err)
		}
	})
}

type signInForm struct {
	ClientID string
}

func (c *Console) signInPage(w http.ResponseWriter, r *http.Request) {
	v := view{Title: "Sign in", Data: signInForm{}}
	if r.URL.Query().Get("ended") != "" {
		v.Notice = "Your console session has ended. Sign in again."
	}
	c.render(w, r, http.StatusOK, "sign-in", v)
}

// signIn authenticates an admin service client as the admin API does
// (Clients.Authenticate, with its throttling and audit of failures) and
// starts a console session.
func (c *Console) signIn(w http.ResponseWriter, r *http.Request) {
	form := signInForm{ClientID: strings.TrimSpace(r.PostFormValue("client_id"))}
	err := checkOrigin(r)
	var cl auth.ServiceClient
	if err == nil {
		cl, err = c.Clients.Authenticate(r.Context(), form.ClientID, r.PostFormValue("client_secret"))
	}
	var token string
	if err == nil {
		token, _, err = c.Sessions.Start(r.Context(), cl)
	}
	if err != nil {
		status, msg := c.explain(r, err)
		if sdkauth.ErrorCode(err) == sdkauth.CodeInvalidClient {
			msg = "The client id or secret is wrong."
		}
		c.render(w, r, status, "sign-in", view{Title: "Sign in", Error: msg, Data: form})
		return
	}
	c.setCookie(w, r, token, int(c.Sessions.Absolute.Seconds()))
	http.Redirect(w, r, "/console/users", http.StatusSeeOther)
}

func (c *Console) signOut(w http.ResponseWriter, r *http.Request, s *auth.ConsoleSession) error {
	cookie, _ := r.Cookie(cookieName(r)) // signedIn has found it
	if err := c.Sessions.End(r.Context(), cookie.Value, *s); err != nil {
		return err
	}
	c.setCookie(w, r, "", -1)
	http.Redirect(w, r, "/console/sign-in", http.StatusSeeOther)
	return nil
}
