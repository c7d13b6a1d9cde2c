package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rsa"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sdkauth/sdkauth/keys"
)

// binaries are the two commands built for tests that run real processes.
type binaries struct{ sdkauth, emulator string }

// buildBinaries builds sdkauth and vonage-emulator into a temporary
// directory (without -race: they are the system under test, not the test).
func buildBinaries(tb testing.TB) binaries {
	tb.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil && os.Getenv("GOROOT") != "" {
		goBin, err = filepath.Join(os.Getenv("GOROOT"), "bin", "go"), nil
	}
	if err != nil {
		tb.Fatalf("the go command is needed to build the binaries under test: %v", err)
	}
	dir := tb.TempDir()
	out := binaries{sdkauth: filepath.Join(dir, "sdkauth"), emulator: filepath.Join(dir, "vonage-emulator")}
	for target, pkg := range map[string]string{out.sdkauth: ".", out.emulator: "../vonage-emulator"} {
		cmd := exec.Command(goBin, "build", "-o", target, pkg)
		if b, err := cmd.CombinedOutput(); err != nil {
			tb.Fatalf("go build %s: %v\n%s", pkg, err, b)
		}
	}
	return out
}

// process is a child process started by a test.
type process struct {
	cmd  *exec.Cmd
	Addr string
	mu   sync.Mutex
	log  bytes.Buffer
}

// Log returns what the process has written to stderr so far.
func (p *process) Log() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.log.String()
}

// childEnv is this process's environment without sdkauth's and Vonage's
// variables, plus vars.
func childEnv(vars map[string]string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "SDKAUTH_") || strings.HasPrefix(kv, "VONAGE_") || strings.HasPrefix(kv, "DATABASE_URL") {
			continue
		}
		env = append(env, kv)
	}
	for k, v := range vars {
		env = append(env, k+"="+v)
	}
	return env
}

// startProcess runs path with args and env and waits (at most a minute)
// until its stderr matches ready, whose first group is the address it
// listens on. The process gets SIGTERM when tb ends, and SIGKILL if it has
// not exited 15 s later.
func startProcess(tb testing.TB, path string, args []string, env map[string]string, ready *regexp.Regexp) *process {
	tb.Helper()
	p := &process{cmd: exec.Command(path, args...)}
	p.cmd.Env = childEnv(env)
	stderr, err := p.cmd.StderrPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	addr := make(chan string, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			p.mu.Lock()
			p.log.WriteString(line + "\n")
			p.mu.Unlock()
			if m := ready.FindStringSubmatch(line); m != nil {
				select {
				case addr <- m[1]:
				default:
				}
			}
		}
	}()
	tb.Cleanup(func() {
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		exited := make(chan struct{})
		go func() { _ = p.cmd.Wait(); close(exited) }()
		select {
		case <-exited:
		case <-time.After(15 * time.Second):
			_ = p.cmd.Process.Kill()
			<-exited
			tb.Errorf("%s did not stop within 15 s of SIGTERM", filepath.Base(path))
		}
		<-done
	})
	select {
	case p.Addr = <-addr:
	case <-done:
		tb.Fatalf("%s exited before it was ready:\n%s", filepath.Base(path), p.Log())
	case <-time.After(time.Minute):
		tb.Fatalf("%s was not ready within a minute:\n%s", filepath.Base(path), p.Log())
	}
	return p
}

var (
	emulatorReady = regexp.MustCompile(`vonage emulator listening.* addr=(127\.0\.0\.1:\d+)`)
	sdkauthReady  = regexp.MustCompile(`"msg":"sdkauth listening".*"addr":"(127\.0\.0\.1:\d+)"`)
)

// startEmulatorProcess runs vonage-emulator on a free loopback port and
// creates an application with key's public half; it returns the base URL
// and the application id.
func startEmulatorProcess(tb testing.TB, bin binaries, key *rsa.PrivateKey) (string, string) {
	tb.Helper()
	p := startProcess(tb, bin.emulator, []string{"--addr", "127.0.0.1:0", "--api-key", "key", "--api-secret", "secret"}, nil, emulatorReady)
	base := "http://" + p.Addr
	body, _ := json.Marshal(map[string]any{"name": "test", "keys": map[string]string{"public_key": string(keys.EncodePublicKeyPEM(&key.PublicKey))}})
	req, _ := http.NewRequest(http.MethodPost, base+"/v2/applications", bytes.NewReader(body))
	req.SetBasicAuth("key", "secret")
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer res.Body.Close()
	var app struct {
		ID string `json:"id"`
	}
	if err := json.NewDecoder(res.Body).Decode(&app); err != nil || res.StatusCode != http.StatusCreated {
		tb.Fatalf("creating the application: %d %v", res.StatusCode, err)
	}
	return base, app.ID
}

// emulatorControl calls one of the emulator's /_emulator/ endpoints.
func emulatorControl(tb testing.TB, base, method, path, body string) []byte {
	tb.Helper()
	req, _ := http.NewRequestWithContext(context.Background(), method, base+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode >= 300 {
		tb.Fatalf("%s %s: %d %s", method, path, res.StatusCode, b)
	}
	return b
}

// emulatorStats reads /_emulator/stats.
func emulatorStats(tb testing.TB, base string) map[string]int {
	tb.Helper()
	var stats map[string]int
	if err := json.Unmarshal(emulatorControl(tb, base, http.MethodGet, "/_emulator/stats", ""), &stats); err != nil {
		tb.Fatal(err)
	}
	return stats
}

// postJSONTo sends a JSON body to url and returns the status and body.
func postJSONTo(client *http.Client, url string, v any) (int, []byte, error) {
	b, _ := json.Marshal(v)
	res, err := client.Post(url, "application/json", bytes.NewReader(b))
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	return res.StatusCode, body, err
}
