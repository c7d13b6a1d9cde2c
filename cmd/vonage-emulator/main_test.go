package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
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

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("run: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("no graceful shutdown")
	}
	if !strings.Contains(logs.String(), "vonage emulator listening") {
		t.Errorf("logs lack the start line: %s", logs.String())
	}
}

func TestRunRejectsBadInput(t *testing.T) {
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
	faults, err := loadFaults(writeFile(t, `{"status":0,"delay_ms":50}`))
	if err != nil || len(faults) != 1 || faults[0].DelayMS != 50 {
		t.Fatalf("loadFaults = %+v, %v", faults, err)
	}
}
