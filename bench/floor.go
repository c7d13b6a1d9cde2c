package main

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/sdkauth/sdkauth/keys"
)

// The floor phase answers a question the ceiling cannot: how close to
// `openssl speed` can any HTTP token server on this machine come? It runs
// the bench binary again as a bare token server (net/http, no router, no
// database, no client authentication, no logs or metrics) that mints the
// same admin token sdkauth's client_credentials grant mints, with the same
// signer, and drives it with the same load generator and concurrency. What
// it reaches is what HTTP over loopback, the runtime and the kernel leave
// of the ceiling; sdkauth's grants are then also given as a share of it.

// floorGrant names the floor phase's rows in the report.
const floorGrant = "floor"

// floorPhaseName is the floor's row in the tables.
const floorPhaseName = "floor: bare net/http token server"

// floorAppID is the application id of the floor server's tokens: any
// well-formed id will do, since nothing checks them.
const floorAppID = "00000000-0000-4000-8000-00000000f100"

// serveFloor is the bench binary run with -serve-floor: it serves the
// floor's token server on addr until it is killed.
func serveFloor(addr, signerMode string) error {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return err
	}
	newSigner, which, err := keys.SignerFunc(signerMode)
	if err != nil {
		return err
	}
	signer, err := newSigner(key)
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "floor server on %s, signer %s\n", addr, which)
	return http.ListenAndServe(addr, floorHandler(signer))
}

// floorHandler serves POST /v1/token (grant_type=client_credentials only,
// anyone may ask) and GET /readyz.
func floorHandler(signer keys.Signer) http.Handler {
	mint := &keys.Minter{ApplicationID: floorAppID, Signer: signer}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /readyz", func(http.ResponseWriter, *http.Request) {})
	mux.HandleFunc("POST /v1/token", func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil || r.PostForm.Get("grant_type") != "client_credentials" {
			http.Error(w, `{"code":"unsupported_grant_type"}`, http.StatusBadRequest)
			return
		}
		tok, _, err := mint.AdminToken(keys.DefaultTTL, nil)
		if err != nil {
			http.Error(w, `{"code":"internal"}`, http.StatusInternalServerError)
			return
		}
		body := make([]byte, 0, len(tok)+64)
		body = append(body, `{"access_token":"`...)
		body = append(body, tok...)
		body = append(body, `","token_type":"Bearer","expires_in":`...)
		body = strconv.AppendInt(body, int64(keys.DefaultTTL/time.Second), 10)
		body = append(body, '}')
		h := w.Header()
		h["Content-Type"] = []string{"application/json"}
		h["Cache-Control"] = []string{"no-store"}
		_, _ = w.Write(body)
	})
	return mux
}

// floorPhase starts the floor server and measures it as the
// client_credentials phase measures sdkauth.
func (b *bencher) floorPhase(ctx context.Context) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	addr, err := freeAddr()
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "sdkauth-bench-floor-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	logPath := filepath.Join(dir, "floor.log")
	env := append(cleanEnv(), b.o.serverEnv...)
	srv, err := startProcess(logPath, self, env, "-serve-floor", addr, "-signer", b.o.signer)
	if err != nil {
		return err
	}
	defer stopProcess(srv)
	base := "http://" + addr
	if err := waitReady(ctx, base+"/readyz", srv, 30*time.Second); err != nil {
		return fmt.Errorf("floor server: %w: %s", err, tail(logPath))
	}
	a := &api{base: base}
	w := func(int) (call, error) { return clientCredentialsWorker(a, "floor", "unused"), nil }
	_, err = b.closedRounds(ctx, procs{srv: srv, log: logPath}, floorPhaseName, floorGrant,
		loadSpec{concurrency: b.o.concurrency, duration: b.o.duration, newWorker: w})
	return err
}
