package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/golang-jwt/jwt/v5"
)

// syncBuffer is a log sink safe for the server goroutines and the test.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func writeFile(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "faults.json")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestRunServesAndShutsDown(t *testing.T) {
	t.Parallel()
	faults := writeFile(t, `[{"path":"/v1/users","method":"GET","status":503,"retry_after":3,"count":1}]`)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var logs syncBuffer
	addrc := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"--addr", "127.0.0.1:0", "--api-key", "k", "--api-secret", "s", "--faults", faults},
			&logs, func(a string) { addrc <- a })
	}()
	var addr string
	select {
	case addr = <-addrc:
	case err := <-done:
		t.Fatalf("run returned early: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("server did not start")
	}

	res, err := http.Get("http://" + addr + "/v1/users")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusServiceUnavailable || res.Header.Get("Retry-After") != "3" {
		t.Errorf("fault from file: status %d, Retry-After %q", res.StatusCode, res.Header.Get("Retry-After"))
	}
	req, _ := http.NewRequest("GET", "http://"+addr+"/v2/applications", nil)
	req.SetBasicAuth("k", "s")
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.Contains(string(body), `"total_items":0`) {
		t.Errorf("applications list: %d %s", res.StatusCode, body)
	}

	// The Conversation API and the Client SDK's socket share the address.
	sock := openSessionAt(t, addr)

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("run: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("no graceful shutdown")
	}
	// Shutting down ended the session: the client got the disconnect packet.
	readCtx, stop := context.WithTimeout(context.Background(), 5*time.Second)
	defer stop()
	if _, msg, err := sock.Read(readCtx); err != nil || string(msg) != "41" {
		t.Errorf("at shutdown the session got %q, %v; want the disconnect 41", msg, err)
	}
	if !strings.Contains(logs.String(), "vonage emulator listening") {
		t.Errorf("logs lack the start line: %s", logs.String())
	}
}

func TestRunRejectsBadInput(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cases := map[string][]string{
		"unknown flag":     {"--nope"},
		"extra argument":   {"serve"},
		"bad log level":    {"--log-level", "loud"},
		"missing faults":   {"--faults", filepath.Join(t.TempDir(), "absent.json")},
		"bad fault":        {"--faults", writeFile(t, `[{"status":200}]`)},
		"unknown member":   {"--faults", writeFile(t, `[{"status":503,"retryAfter":1}]`)},
		"not JSON":         {"--faults", writeFile(t, `status: 503`)},
		"unusable address": {"--addr", "256.0.0.1:99999"},
	}
	for name, args := range cases {
		if err := run(ctx, args, io.Discard, nil); err == nil {
			t.Errorf("%s: run(%q) succeeded", name, args)
		}
	}
	if err := run(ctx, []string{"--help"}, io.Discard, nil); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("--help: %v", err)
	}
}

func TestLoadFaultsAcceptsSingleObject(t *testing.T) {
	t.Parallel()
	faults, err := loadFaults(writeFile(t, `{"status":0,"delay_ms":50}`))
	if err != nil || len(faults) != 1 || faults[0].DelayMS != 50 {
		t.Fatalf("loadFaults = %+v, %v", faults, err)
	}
}

// openSessionAt creates an application (its key made by the emulator), a
// user and a conversation at a running emulator, and opens a Client SDK
// session at /v2/rtc on the same address with a user token.
func openSessionAt(t *testing.T, addr string) *websocket.Conn {
	t.Helper()
	base := "http://" + addr
	call := func(method, path, token string, body any, basic bool) map[string]any {
		t.Helper()
		b, _ := json.Marshal(body)
		req, _ := http.NewRequest(method, base+path, bytes.NewReader(b))
		req.Header.Set("Content-Type", "application/json")
		if basic {
			req.SetBasicAuth("k", "s")
		} else {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var out map[string]any
		if err := json.NewDecoder(res.Body).Decode(&out); err != nil || res.StatusCode >= 300 {
			t.Fatalf("%s %s: %d %v", method, path, res.StatusCode, err)
		}
		return out
	}
	app := call("POST", "/v2/applications", "", map[string]any{"name": "chat", "capabilities": map[string]any{"rtc": map[string]any{}}}, true)
	keys, _ := app["keys"].(map[string]any)
	pemKey, _ := keys["private_key"].(string)
	key, err := jwt.ParseRSAPrivateKeyFromPEM([]byte(pemKey))
	if err != nil {
		t.Fatalf("application private key: %v", err)
	}
	mint := func(sub string) string {
		now := time.Now().Unix()
		c := jwt.MapClaims{"application_id": app["id"], "iat": now, "exp": now + 300, "jti": fmt.Sprint(now, sub)}
		if sub != "" {
			c["sub"] = sub
			c["acl"] = map[string]any{"paths": map[string]any{"/*/sessions/**": map[string]any{}, "/*/conversations/**": map[string]any{}}}
		}
		s, err := jwt.NewWithClaims(jwt.SigningMethodRS256, c).SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	call("POST", "/v1/users", mint(""), map[string]any{"name": "new-user"}, false)
	call("POST", "/v0.3/conversations", mint("new-user"), map[string]any{"name": "lobby"}, false)

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, "ws://"+addr+"/v2/rtc/?EIO=4&transport=websocket&token="+mint("new-user"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.CloseNow() })
	read := func() string {
		_, msg, err := conn.Read(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return string(msg)
	}
	if open := read(); !strings.HasPrefix(open, "0{") {
		t.Fatalf("open packet %q", open)
	}
	if err := conn.Write(ctx, websocket.MessageText, []byte("40")); err != nil {
		t.Fatal(err)
	}
	read() // 40{"sid":…}
	if ev := read(); !strings.HasPrefix(ev, `42["session:success"`) {
		t.Fatalf("after connect: %q", ev)
	}
	return conn
}
