// Package browsertest starts the headless Chromium that sdkauth's browser
// tests drive with chromedp, and keeps what a page logged and what it looked
// like for the test to check.
package browsertest

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/chromedp/chromedp"
)

// Chromium is where Debian's chromium package installs the browser; `make
// test` installs it there when it is missing.
const Chromium = "/usr/bin/chromium"

// Browser is a tab in a fresh headless Chromium with an empty profile.
type Browser struct {
	// Ctx runs chromedp actions in the tab; it ends with the test.
	Ctx context.Context

	mu       sync.Mutex
	problems []string
}

// New starts Chromium for t and closes it when t ends. It fails t, never
// skips it, when Chromium is not installed.
func New(t testing.TB) *Browser {
	t.Helper()
	if _, err := os.Stat(Chromium); err != nil {
		t.Fatalf("the browser tests need Chromium at %s: run `make test`, which installs Debian's chromium package as root, or `apt-get install -y --no-install-recommends chromium` (%v)", Chromium, err)
	}
	// The background-networking flags matter here, not only for speed: this
	// machine refuses Chromium's connections to Google's services, and
	// Chromium then stalls before it serves DevTools.
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(Chromium),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(func() { cancel(); cancelAlloc() })

	b := &Browser{Ctx: ctx}
	// Console subscribes before it returns, so nothing the first page logs
	// is lost; the goroutine ends with the context.
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleError || m.IsException() {
				b.note(m.String())
			}
		}
	}()
	return b
}

func (b *Browser) note(s string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.problems = append(b.problems, s)
}

// Problems returns the errors the page has logged so far: uncaught
// exceptions, console errors and the browser's own, such as a refused load
// or a Content-Security-Policy violation.
func (b *Browser) Problems() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.problems...)
}

// Screenshot saves the tab's viewport as name.png in $SDKAUTH_SCREENSHOT_DIR
// (default: sdkauth-screenshots in the system's temporary directory), for a
// person to look at, and logs where.
func (b *Browser) Screenshot(t testing.TB, name string) {
	t.Helper()
	dir := os.Getenv("SDKAUTH_SCREENSHOT_DIR")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "sdkauth-screenshots")
	}
	png, err := chromedp.Run(b.Ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	file := filepath.Join(dir, name+".png")
	if err := os.WriteFile(file, png, 0o644); err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	t.Logf("screenshot: %s", file)
}
