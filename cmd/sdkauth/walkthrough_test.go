package main

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sdkauth/sdkauth/db/dbtest"
	"github.com/sdkauth/sdkauth/internal/testkit"
)

// syncBuffer is a bytes.Buffer safe to write from one goroutine and read from
// another.
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

// devRun is a running `sdkauth dev` and what it printed.
type devRun struct {
	printed           string
	sdkauth, emulator string // the addresses the walkthrough names
	envFile           string // the environment file it wrote
}

// devTestEnv sets the environment of an `sdkauth dev` under test: a test
// database, a free port, cheap password hashes and no Vonage platform.
func devTestEnv(t *testing.T) {
	t.Setenv("DATABASE_URL", dbtest.NewURL(t))
	t.Setenv("SDKAUTH_ADDR", "127.0.0.1:0")
	t.Setenv("SDKAUTH_ARGON2_MEMORY_KIB", "64")
	t.Setenv("SDKAUTH_ARGON2_ITERATIONS", "1")
	for _, k := range []string{"VONAGE_API_URL", "VONAGE_APPLICATION_ID", "VONAGE_PRIVATE_KEY", "VONAGE_PRIVATE_KEY_PATH", "VONAGE_API_KEY", "VONAGE_API_SECRET", "SDKAUTH_KEY_ENCRYPTION_KEY"} {
		if v, ok := os.LookupEnv(k); ok {
			t.Setenv(k, v)
			os.Unsetenv(k)
		}
	}
}

// startDev runs `sdkauth dev` in-process, on a test database and with its own
// emulator, until the test ends, and waits for its walkthrough. When dev
// stops, its environment and key files must be gone.
func startDev(t *testing.T) devRun {
	t.Helper()
	devTestEnv(t)
	d := devRun{envFile: filepath.Join(t.TempDir(), devEnvFile)}
	ctx, cancel := context.WithCancel(context.Background())
	var out syncBuffer
	done := make(chan error, 1)
	go func() { done <- runDev(ctx, &out, d.envFile) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("dev: %v", err)
		}
		for _, f := range []string{d.envFile, strings.TrimSuffix(d.envFile, ".env") + ".key"} {
			if _, err := os.Stat(f); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("%s is left after dev stopped (%v)", f, err)
			}
		}
	})
	testkit.WaitFor(t, 30*time.Second, "the walkthrough", func() bool { return strings.Contains(out.String(), "Ctrl-C stops everything.") })
	d.printed = out.String()
	if m := regexp.MustCompile(`sdkauth is running at (\S+)`).FindStringSubmatch(d.printed); m != nil {
		d.sdkauth = m[1]
	}
	if m := regexp.MustCompile(`Vonage API: (\S+)`).FindStringSubmatch(d.printed); m != nil {
		d.emulator = m[1]
	}
	if d.sdkauth == "" || d.emulator == "" {
		t.Fatalf("dev printed no addresses:\n%s", d.printed)
	}
	return d
}

// TestDevWalkthroughRunsAsPrinted starts `sdkauth dev` (on a test database,
// with its in-process emulator), takes the walkthrough it prints, and runs
// every command of it in bash exactly as printed, from a directory whose
// bin/sdkauth is this build and with none of sdkauth's variables set but
// those the environment file gives: the user's flow, the admin API, the
// workshop's chat, and the operator's commands (jwt inspect with the
// signature checked, clients, keys list, users reconcile, keys rotate).
func TestDevWalkthroughRunsAsPrinted(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		t.Fatal("the walkthrough uses curl; install it (apt-get install curl)")
	}
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(buildBinaries(t).sdkauth, filepath.Join(dir, "bin", "sdkauth")); err != nil {
		t.Fatal(err)
	}
	printed := startDev(t).printed
	_, script, _ := strings.Cut(printed, "Try it in another terminal, in this directory:")
	script, _, _ = strings.Cut(script, "Ctrl-C stops everything.")
	var lines []string
	for _, l := range strings.Split(script, "\n") {
		lines = append(lines, strings.TrimPrefix(l, "  "))
	}
	cmd := exec.Command("bash", "-c", "set -eu\n"+strings.Join(lines, "\n"))
	cmd.Dir = dir
	cmd.Env = childEnv(nil)
	var res bytes.Buffer
	cmd.Stdout, cmd.Stderr = &res, &res
	if err := cmd.Run(); err != nil {
		t.Fatalf("walkthrough: %v\n%s", err, res.String())
	}
	got := res.String()
	t.Logf("the walkthrough's output:\n%s", got)
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`"access_token":"ey`),                                                       // 1. sign-up
		regexp.MustCompile(`"_embedded":\{"users":\[\{[^\n]*"name":"new-user"`),                        // 4. the token at Vonage
		regexp.MustCompile(`ok\s+signature\s+verifies with the key \S+\n`),                             // 8. jwt inspect --key
		regexp.MustCompile(`the token is valid\n`),                                                     // 8.
		regexp.MustCompile(`(?m)^\S+\s+backend\s+admin,tokens:admin,tokens:user`),                      // 9. clients list
		regexp.MustCompile(`"token_type":"Bearer"`),                                                    // 9. client_credentials
		regexp.MustCompile(`(?m)CON-[0-9a-f-]{36}$`),                                                   // 11. the conversation
		regexp.MustCompile(`"text":"Hello from A"[^\n]*"text":"Hello from B"`),                         // 13. both messages listed
		regexp.MustCompile(`(?m)^200\n`),                                                               // 14. the reader reads
		regexp.MustCompile(`"code":"system:error:permission"\}\n403\n`),                                // 14. but cannot post
		regexp.MustCompile(`local users: 4, Vonage users: \d+, pending provisioning: \d+\nno drift\n`), // 16. users reconcile
		regexp.MustCompile(`Active key:\s+\S+ \(uploaded to application`),                              // 17. keys rotate
		regexp.MustCompile(`(?m)^\S+\s+previous\s`),                                                    // 17. keys list after it
		regexp.MustCompile(`\n401\n$`),                                                                 // 18. the old key at Vonage
	} {
		if !want.MatchString(got) {
			t.Errorf("the walkthrough's output does not match %s:\n%s", want, got)
		}
	}
}

// TestREADMEShowsTheWalkthroughAsPrinted keeps the README's walkthrough
// blocks the same text as `sdkauth dev` prints (and
// TestDevWalkthroughRunsAsPrinted runs), with the default addresses, and
// every sdkauth command the README shows in a shell block one of the
// walkthrough's, so that each is run as printed.
func TestREADMEShowsTheWalkthroughAsPrinted(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	sections := walkthroughSections("localhost:8080", "http://127.0.0.1:8090", devEnvFile)
	for _, s := range sections {
		if !strings.Contains(readme, "```sh\n"+s+"\n```") {
			t.Errorf("README.md lacks this block of the walkthrough as sdkauth dev prints it:\n%s", s)
		}
	}
	all := strings.Join(sections, "\n")
	// A command line, or a command substitution, that runs sdkauth itself.
	command := regexp.MustCompile(`(?:^|\$\()\s*(?:\./bin/|go run \./cmd/)?sdkauth\s`)
	for _, block := range regexp.MustCompile("(?s)```sh\n(.*?)```").FindAllStringSubmatch(readme, -1) {
		for _, l := range strings.Split(block[1], "\n") {
			if strings.HasPrefix(strings.TrimSpace(l), "#") || !command.MatchString(l) {
				continue
			}
			if !strings.Contains(all, l) {
				t.Errorf("README.md runs an sdkauth command the walkthrough does not (so no test runs it as printed):\n%s", l)
			}
		}
	}
}

// TestDevRefusesATakenPortBeforeStartingAnything holds the port and starts
// `sdkauth dev` without a database: it must fail at once naming
// SDKAUTH_ADDR, before a throwaway Postgres is started or a file written.
func TestDevRefusesATakenPortBeforeStartingAnything(t *testing.T) {
	held, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	devTestEnv(t)
	t.Setenv("DATABASE_URL", "")
	t.Setenv("SDKAUTH_ADDR", held.Addr().String())
	envFile := filepath.Join(t.TempDir(), devEnvFile)
	var out syncBuffer
	err = runDev(context.Background(), &out, envFile)
	if err == nil || !strings.Contains(err.Error(), "SDKAUTH_ADDR") || !strings.Contains(err.Error(), held.Addr().String()) {
		t.Fatalf("dev on a taken port: %v", err)
	}
	if out.String() != "" {
		t.Errorf("dev started something before it failed:\n%s", out.String())
	}
	if _, err := os.Stat(envFile); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("dev wrote %s before it failed (%v)", envFile, err)
	}
}

// TestDevExitsZeroOnCtrlC runs the built binary, as `make run` does, and
// interrupts it once it prints its walkthrough: it must stop with status 0
// (so make reports no error) and remove its environment file.
func TestDevExitsZeroOnCtrlC(t *testing.T) {
	bin := buildBinaries(t)
	devTestEnv(t)
	envFile := filepath.Join(t.TempDir(), devEnvFile)
	cmd := exec.Command(bin.sdkauth, "dev", "--env-file", envFile)
	cmd.Env = childEnv(map[string]string{
		"DATABASE_URL": os.Getenv("DATABASE_URL"), "SDKAUTH_ADDR": "127.0.0.1:0",
		"SDKAUTH_ARGON2_MEMORY_KIB": "64", "SDKAUTH_ARGON2_ITERATIONS": "1",
	})
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	testkit.WaitFor(t, time.Minute, "the walkthrough", func() bool { return strings.Contains(out.String(), "Ctrl-C stops everything.") })
	if _, err := os.Stat(envFile); err != nil {
		t.Fatalf("dev wrote no environment file: %v", err)
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("dev after Ctrl-C: %v\n%s", err, out.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("dev did not stop within 30 s of Ctrl-C:\n%s", out.String())
	}
	if _, err := os.Stat(envFile); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s is left after Ctrl-C (%v)", envFile, err)
	}
}
