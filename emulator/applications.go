package emulator

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/subtle"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/google/uuid"
)

// minRSABits is the smallest application key the emulator accepts.
const minRSABits = 2048

// application is a Vonage application: its current public key (the only one
// that verifies its tokens) and its users.
type application struct {
	seq          uint64
	id, name     string
	publicKeyPEM string
	publicKey    *rsa.PublicKey
	capabilities json.RawMessage
	privacy      json.RawMessage

	users   map[string]*user // by id
	byName  map[string]*user
	userSeq uint64

	convs     map[string]*conversation // by id
	convNames map[string]*conversation
	convSeq   uint64
}

// link is a HAL link.
type link struct {
	Href string `json:"href"`
}

// appKeys is the keys member of an application response.
type appKeys struct {
	PublicKey  string `json:"public_key"`
	PrivateKey string `json:"private_key,omitempty"`
}

// appView is the Applications API v2 representation of an application.
type appView struct {
	ID           string          `json:"id"`
	Name         string          `json:"name"`
	Keys         appKeys         `json:"keys"`
	Capabilities json.RawMessage `json:"capabilities"`
	Privacy      json.RawMessage `json:"privacy,omitempty"`
	Links        map[string]link `json:"_links"`
}

// view renders the application; the caller holds e.mu.
func (a *application) view() appView {
	caps := a.capabilities
	if caps == nil {
		caps = json.RawMessage(`{}`)
	}
	return appView{
		ID: a.id, Name: a.name,
		Keys:         appKeys{PublicKey: a.publicKeyPEM},
		Capabilities: caps,
		Privacy:      a.privacy,
		Links:        map[string]link{"self": {Href: "/v2/applications/" + a.id}},
	}
}

// parsePublicKey accepts a PEM "PUBLIC KEY" (PKIX) block holding an RSA key of at
// least 2048 bits.
func parsePublicKey(text string) (*rsa.PublicKey, error) {
	block, _ := pem.Decode([]byte(strings.TrimSpace(text)))
	if block == nil {
		return nil, errors.New("public_key must be a PEM block")
	}
	if block.Type != "PUBLIC KEY" {
		return nil, fmt.Errorf("public_key must be a PKIX \"PUBLIC KEY\" PEM block, not %q", block.Type)
	}
	key, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return nil, errors.New("public_key is not a valid PKIX public key")
	}
	rsaKey, ok := key.(*rsa.PublicKey)
	if !ok {
		return nil, errors.New("public_key must be an RSA key")
	}
	if rsaKey.N.BitLen() < minRSABits {
		return nil, fmt.Errorf("public_key must be at least %d bits", minRSABits)
	}
	return rsaKey, nil
}

// AddApplication registers an application with the given PEM public key
// ("-----BEGIN PUBLIC KEY-----", PKIX, RSA ≥ 2048 bits) and returns its id, a
// lowercase UUID.
func (e *Emulator) AddApplication(name string, publicKeyPEM string) (string, error) {
	if strings.TrimSpace(name) == "" {
		return "", errors.New("emulator: application name is required")
	}
	key, err := parsePublicKey(publicKeyPEM)
	if err != nil {
		return "", fmt.Errorf("emulator: %w", err)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.insertApplicationLocked(name, publicKeyPEM, key, nil, nil).id, nil
}

// insertApplicationLocked stores a new application; the caller holds e.mu.
func (e *Emulator) insertApplicationLocked(name, keyPEM string, key *rsa.PublicKey, caps, privacy json.RawMessage) *application {
	e.appSeq++
	app := &application{
		seq: e.appSeq, id: uuid.NewString(), name: name,
		publicKeyPEM: keyPEM, publicKey: key,
		capabilities: caps, privacy: privacy,
		users: make(map[string]*user), byName: make(map[string]*user),
		convs: make(map[string]*conversation), convNames: make(map[string]*conversation),
	}
	e.apps[app.id] = app
	return app
}

// publicKey returns the current public key of an application, or nil.
func (e *Emulator) publicKey(appID string) *rsa.PublicKey {
	e.mu.Lock()
	defer e.mu.Unlock()
	if app := e.apps[appID]; app != nil {
		return app.publicKey
	}
	return nil
}

// withBasic checks the HTTP Basic api_key:api_secret credentials before calling h.
func (e *Emulator) withBasic(w http.ResponseWriter, r *http.Request, h func(http.ResponseWriter, *http.Request)) {
	key, secret, ok := r.BasicAuth()
	if !ok || e.apiKey == "" ||
		subtle.ConstantTimeCompare([]byte(key), []byte(e.apiKey)) != 1 ||
		subtle.ConstantTimeCompare([]byte(secret), []byte(e.apiSecret)) != 1 {
		w.Header().Set("WWW-Authenticate", `Basic realm="Vonage Applications API"`)
		writeAppProblem(w, http.StatusUnauthorized, "#unauthorized", "Invalid credentials supplied",
			"You did not provide correct credentials.")
		return
	}
	h(w, r)
}

// appInput is a validated create or update body.
type appInput struct {
	name         string
	keyPEM       string
	key          *rsa.PublicKey
	capabilities json.RawMessage
	privacy      json.RawMessage
}

// readAppInput validates an application body: name is required, keys.public_key
// optional, capabilities and privacy optional objects kept as given.
func readAppInput(w http.ResponseWriter, r *http.Request) (appInput, bool) {
	obj, bad := readObject(r)
	if bad != nil {
		writeAppValidation(w, *bad)
		return appInput{}, false
	}
	var v validator
	var in appInput
	name, _, _ := v.str(obj, "name", "name")
	if strings.TrimSpace(name) == "" && v.ok() {
		v.fail("name", "Is required.")
	}
	in.name = name
	if keys, present, _ := v.object(obj, "keys", "keys"); present && keys != nil {
		if raw, has := keys["public_key"]; has && raw != nil {
			if s, isStr := raw.(string); !isStr {
				v.fail("keys.public_key", "must be a string")
			} else if key, err := parsePublicKey(s); err != nil {
				v.fail("keys.public_key", err.Error())
			} else {
				in.keyPEM, in.key = s, key
			}
		}
	}
	in.capabilities = v.rawObject(obj, "capabilities")
	in.privacy = v.rawObject(obj, "privacy")
	if !v.ok() {
		writeAppValidation(w, v.params...)
		return appInput{}, false
	}
	return in, true
}

// writeAppValidation answers 400 in the Applications API's validation shape.
func writeAppValidation(w http.ResponseWriter, params ...invalidParameter) {
	writeAppProblem(w, http.StatusBadRequest, "/application-v2#validation", "Bad Request",
		"The request failed due to validation errors", params...)
}

// createApplication handles POST /v2/applications. Without keys.public_key it
// generates an RSA-2048 pair and returns the private key, once.
func (e *Emulator) createApplication(w http.ResponseWriter, r *http.Request) {
	in, ok := readAppInput(w, r)
	if !ok {
		return
	}
	var privatePEM string
	if in.key == nil {
		priv, err := rsa.GenerateKey(rand.Reader, minRSABits)
		if err != nil {
			writeAppProblem(w, http.StatusInternalServerError, "#internal", "Internal Error", "Key generation failed.")
			return
		}
		der, _ := x509.MarshalPKCS8PrivateKey(priv)
		pub, _ := x509.MarshalPKIXPublicKey(&priv.PublicKey)
		privatePEM = string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
		in.keyPEM = string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}))
		in.key = &priv.PublicKey
	}
	e.mu.Lock()
	app := e.insertApplicationLocked(in.name, in.keyPEM, in.key, in.capabilities, in.privacy)
	view := app.view()
	e.mu.Unlock()
	view.Keys.PrivateKey = privatePEM
	e.log.Info("emulator: application created", "id", view.ID, "generated_key", privatePEM != "")
	writeJSON(w, http.StatusCreated, view)
}

// getApplication handles GET /v2/applications/{id}.
func (e *Emulator) getApplication(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	app := e.apps[r.PathValue("id")]
	var view appView
	if app != nil {
		view = app.view()
	}
	e.mu.Unlock()
	if app == nil {
		appNotFound(w, r.PathValue("id"))
		return
	}
	writeJSON(w, http.StatusOK, view)
}

// updateApplication handles PUT /v2/applications/{id}. A new keys.public_key
// replaces the old one at once: tokens signed with the old key stop verifying.
// Members left out (keys, capabilities, privacy) keep their current values.
func (e *Emulator) updateApplication(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	in, ok := readAppInput(w, r)
	if !ok {
		return
	}
	e.mu.Lock()
	app := e.apps[id]
	var view appView
	if app != nil {
		app.name = in.name
		if in.key != nil {
			app.publicKeyPEM, app.publicKey = in.keyPEM, in.key
		}
		if in.capabilities != nil {
			app.capabilities = in.capabilities
		}
		if in.privacy != nil {
			app.privacy = in.privacy
		}
		view = app.view()
	}
	e.mu.Unlock()
	if app == nil {
		appNotFound(w, id)
		return
	}
	e.log.Info("emulator: application updated", "id", id, "key_replaced", in.key != nil)
	writeJSON(w, http.StatusOK, view)
}

// deleteApplication handles DELETE /v2/applications/{id}; its users go with it.
func (e *Emulator) deleteApplication(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	e.mu.Lock()
	_, found := e.apps[id]
	delete(e.apps, id)
	e.mu.Unlock()
	if !found {
		appNotFound(w, id)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// listApplications handles GET /v2/applications?page=&page_size=, oldest first.
func (e *Emulator) listApplications(w http.ResponseWriter, r *http.Request) {
	var v validator
	q := v.query(r)
	pageSize := v.intParam(q, "page_size", 10, 1, 100)
	page := v.intParam(q, "page", 1, 1, math.MaxInt32)
	if !v.ok() {
		writeAppValidation(w, v.params...)
		return
	}
	e.mu.Lock()
	all := make([]*application, 0, len(e.apps))
	for _, app := range e.apps {
		all = append(all, app)
	}
	sort.Slice(all, func(i, j int) bool { return all[i].seq < all[j].seq })
	total := len(all)
	views := []appView{}
	for i := (page - 1) * pageSize; i < total && i < page*pageSize; i++ {
		views = append(views, all[i].view())
	}
	e.mu.Unlock()

	totalPages := (total + pageSize - 1) / pageSize
	href := func(p int) link {
		return link{Href: "/v2/applications?page_size=" + strconv.Itoa(pageSize) + "&page=" + strconv.Itoa(p)}
	}
	links := map[string]link{"self": href(page), "first": href(1), "last": href(max(totalPages, 1))}
	if page < totalPages {
		links["next"] = href(page + 1)
	}
	if page > 1 && page <= totalPages {
		links["prev"] = href(page - 1)
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"page_size":   pageSize,
		"page":        page,
		"total_items": total,
		"total_pages": totalPages,
		"_embedded":   map[string]any{"applications": views},
		"_links":      links,
	})
}

// appNotFound answers 404 for an unknown application id.
func appNotFound(w http.ResponseWriter, id string) {
	writeAppProblem(w, http.StatusNotFound, "#not-found", "Not Found",
		fmt.Sprintf("Application %s does not exist, or you do not have access.", id))
}
