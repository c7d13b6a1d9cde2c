// Package nodetest runs tests written in JavaScript against Vonage's own npm
// packages (pinned by a committed package-lock.json) from Go tests, so that
// `go test ./...` (and so `make test`) runs them too, on a fresh clone.
package nodetest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// marker records, inside node_modules, the hash of the lockfile it was
// installed from, so a changed lockfile is installed again.
const marker = ".sdkauth-lock-sha256"

// Install runs `npm ci` in dir unless its node_modules already matches its
// package-lock.json. Test binaries of several packages may call it at once:
// an exclusive lock on a file in dir makes one of them install and the others
// wait. It fails the test when node or npm is missing or the install fails.
func Install(t testing.TB, dir string) {
	t.Helper()
	abs, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	lock, err := os.ReadFile(filepath.Join(abs, "package-lock.json"))
	if err != nil {
		t.Fatalf("nodetest: %v (the lockfile is committed; run npm install in %s to make it)", err, dir)
	}
	sum := sha256.Sum256(lock)
	want := hex.EncodeToString(sum[:])

	f, err := os.OpenFile(filepath.Join(abs, ".install.lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	defer syscall.Flock(int(f.Fd()), syscall.LOCK_UN) //nolint:errcheck

	if got, err := os.ReadFile(filepath.Join(abs, "node_modules", marker)); err == nil && strings.TrimSpace(string(got)) == want {
		return
	}
	for _, tool := range []string{"node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("nodetest: %s is not on the PATH; install Node.js 20 or later", tool)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "npm", "ci", "--no-audit", "--no-fund", "--loglevel=error")
	cmd.Dir = abs
	cmd.Env = append(os.Environ(), "npm_config_update_notifier=false")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	if err := cmd.Run(); err != nil {
		t.Fatalf("nodetest: npm ci in %s: %v\n%s", dir, err, out.String())
	}
	t.Logf("nodetest: npm ci in %s took %s", dir, time.Since(start).Round(time.Millisecond))
	if err := os.WriteFile(filepath.Join(abs, "node_modules", marker), []byte(want+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

// Run runs `node --test` on the given test files in dir, with env added to the
// environment, and fails the test (showing node's report) unless every test in
// them passes. It returns node's output.
func Run(t testing.TB, dir string, env map[string]string, files ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	args := append([]string{"--test", "--test-reporter=spec", "--test-concurrency=1"}, files...)
	cmd := exec.CommandContext(ctx, "node", args...)
	cmd.Dir = dir
	cmd.Env = os.Environ()
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if err != nil {
		t.Fatalf("node --test %s: %v\n%s", strings.Join(files, " "), err, out.String())
	}
	if testing.Verbose() {
		t.Log(out.String())
	}
	return out.String()
}
