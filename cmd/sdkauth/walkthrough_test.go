package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sdkauth/sdkauth/db/dbtest"
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
}

// startDev runs `sdkauth dev` in-process, on a test database and with its own
// emulator, until the test ends, and waits for its walkthrough.
func startDev(t *testing.T) devRun {
	t.Helper()
	t.Setenv("DATABASE_URL", dbtest.NewURL(t))
	t.Setenv("SDKAUTH_ADDR", "127.0.0.1:0")
	t.Setenv("SDKAUTH_ARGON2_MEMORY_KIB", "64")
	t.Setenv("SDKAUTH_ARGON2_ITERATIONS", "1")
	for _, k := range []string{"VONAGE_API_URL", "VONAGE_APPLICATION_ID", "VONAGE_PRIVATE_KEY", "VONAGE_PRIVATE_KEY_PATH"} {
		if v, ok := os.LookupEnv(k); ok {
			t.Setenv(k, v)
			os.Unsetenv(k)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	var out syncBuffer
	done := make(chan error, 1)
	go func() { done <- runDev(ctx, &out) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("dev: %v", err)
		}
	})
	waitFor(t, 30*time.Second, "the walkthrough", func() bool { return strings.Contains(out.String(), "Ctrl-C stops everything.") })
	d := devRun{printed: out.String()}
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
// with its in-process emulator), takes the walkthrough it prints, runs every
// command of it in bash exactly as printed, and checks what the commands
// answered, the workshop's chat flow included.
func TestDevWalkthroughRunsAsPrinted(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		t.Fatal("the walkthrough uses curl; install it (apt-get install curl)")
	}
	printed := startDev(t).printed
	_, script, _ := strings.Cut(printed, "Try it in another terminal:")
	script, _, _ = strings.Cut(script, "Ctrl-C stops everything.")
	var lines []string
	for _, l := range strings.Split(script, "\n") {
		lines = append(lines, strings.TrimPrefix(l, "  "))
	}
	cmd := exec.Command("bash", "-c", "set -u\n"+strings.Join(lines, "\n"))
	cmd.Dir = "../.."
	var res bytes.Buffer
	cmd.Stdout, cmd.Stderr = &res, &res
	if err := cmd.Run(); err != nil {
		t.Fatalf("walkthrough: %v\n%s", err, res.String())
	}
	got := res.String()
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`"access_token":"ey`),                               // 1. sign-up
		regexp.MustCompile(`"token_type":"Bearer"`),                            // 7. client_credentials
		regexp.MustCompile(`(?m)CON-[0-9a-f-]{36}$`),                           // 9. the conversation
		regexp.MustCompile(`"text":"Hello from A"[^\n]*"text":"Hello from B"`), // 11. both messages listed
		regexp.MustCompile(`(?m)^200\n`),                                       // 12. the reader reads
		regexp.MustCompile(`"code":"system:error:permission"\}\n403\n`),        // 12. but cannot post
	} {
		if !want.MatchString(got) {
			t.Errorf("the walkthrough's output does not match %s:\n%s", want, got)
		}
	}
}

// TestREADMEShowsTheWorkshopFlowAsPrinted keeps the README's chat section the
// same commands as `sdkauth dev` prints (and TestDevWalkthroughRunsAsPrinted
// runs), with the default addresses.
func TestREADMEShowsTheWorkshopFlowAsPrinted(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	flow := strings.NewReplacer("{{BASE}}", "localhost:8080", "{{VONAGE}}", "http://127.0.0.1:8090").Replace(workshopFlow)
	_, flow, _ = strings.Cut(flow, "  # 9.")
	var lines []string
	for _, l := range strings.Split("  # 9."+strings.TrimRight(flow, "\n"), "\n") {
		lines = append(lines, strings.TrimPrefix(l, "  "))
	}
	if want := strings.Join(lines, "\n"); !strings.Contains(string(readme), "```sh\n"+want+"\n```") {
		t.Errorf("README.md lacks the workshop flow as sdkauth dev prints it:\n%s", want)
	}
}
