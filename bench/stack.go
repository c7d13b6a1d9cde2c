package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sdkauth/sdkauth/db/pgtemp"
)

// stack is everything the HTTP phases run against: a throwaway Postgres,
// the Vonage emulator and sdkauth, each its own process, all on loopback.
type stack struct {
	dir        string // logs and the application key
	pg         *pgtemp.Cluster
	pgStats    *pgx.Conn // reads pg_stat_wal around each phase
	pgVersion  string
	postmaster int
	emu, srv   *exec.Cmd
	emuURL     string
	baseURL    string
	bin        string   // the sdkauth binary
	env        []string // sdkauth's environment
	signer     string   // what sdkauth logged as its signer
}

type stackOptions struct {
	binDir     string
	signer     string // SDKAUTH_SIGNER
	pgFast     bool
	pgSettings []string // pgtemp.Options.Settings
	logLevel   string
	extraEnv   []string // appended last, so they win
}

// startStack starts the three processes. On error, what was started is
// stopped before it returns.
func startStack(ctx context.Context, o stackOptions) (_ *stack, err error) {
	s := &stack{}
	defer func() {
		if err != nil {
			s.stop()
		}
	}()
	if s.dir, err = os.MkdirTemp("", "sdkauth-bench-"); err != nil {
		return nil, err
	}
	if s.pg, err = pgtemp.Start(ctx, pgtemp.Options{Fast: o.pgFast, Settings: o.pgSettings}); err != nil {
		return nil, err
	}
	if err := s.findPostmaster(ctx); err != nil {
		return nil, err
	}
	if s.pgStats, err = pgx.Connect(ctx, s.pg.URL); err != nil {
		return nil, err
	}

	emuAddr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	const apiKey, apiSecret = "bench", "bench-secret"
	s.emu, err = startProcess(filepath.Join(s.dir, "emulator.log"), filepath.Join(o.binDir, "vonage-emulator"), nil,
		"--addr", emuAddr, "--api-key", apiKey, "--api-secret", apiSecret, "--log-level", "warn")
	if err != nil {
		return nil, err
	}
	s.emuURL = "http://" + emuAddr
	appID, keyPEM, err := createApplication(ctx, s.emuURL, apiKey, apiSecret)
	if err != nil {
		return nil, fmt.Errorf("creating the Vonage application in the emulator: %w (log: %s)", err, tail(filepath.Join(s.dir, "emulator.log")))
	}
	keyPath := filepath.Join(s.dir, "application.key")
	if err := os.WriteFile(keyPath, keyPEM, 0o600); err != nil {
		return nil, err
	}

	srvAddr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	var kek [32]byte
	_, _ = rand.Read(kek[:])
	s.env = append(cleanEnv(),
		"DATABASE_URL="+s.pg.URL,
		"SDKAUTH_ADDR="+srvAddr,
		"VONAGE_APPLICATION_ID="+appID,
		"VONAGE_PRIVATE_KEY_PATH="+keyPath,
		"VONAGE_API_URL="+s.emuURL,
		"VONAGE_API_KEY="+apiKey,
		"VONAGE_API_SECRET="+apiSecret,
		"SDKAUTH_KEY_ENCRYPTION_KEY="+base64.StdEncoding.EncodeToString(kek[:]),
		// All load comes from 127.0.0.1: per-IP limits would measure
		// the limiter, not the server.
		"SDKAUTH_LOGIN_RATE_PER_IP=0",
		"SDKAUTH_SIGNER="+o.signer,
		"SDKAUTH_LOG_LEVEL="+o.logLevel,
	)
	s.env = append(s.env, o.extraEnv...)
	s.bin = filepath.Join(o.binDir, "sdkauth")
	if out, err := s.sdkauth(ctx, s.bin, "migrate", "up"); err != nil {
		return nil, fmt.Errorf("sdkauth migrate up: %w: %s", err, out)
	}
	s.baseURL = "http://" + srvAddr
	if err := s.startServer(ctx); err != nil {
		return nil, err
	}
	s.signer = loggedSigner(filepath.Join(s.dir, "sdkauth.log"))
	return s, nil
}

// startServer starts `sdkauth serve` and waits until it is ready.
func (s *stack) startServer(ctx context.Context) (err error) {
	logPath := filepath.Join(s.dir, "sdkauth.log")
	if s.srv, err = startProcess(logPath, s.bin, s.env, "serve"); err != nil {
		return err
	}
	if err := waitReady(ctx, s.baseURL+"/readyz", s.srv, 30*time.Second); err != nil {
		return fmt.Errorf("sdkauth did not get ready: %w (log: %s)", err, tail(logPath))
	}
	return nil
}

// stopServer stops `sdkauth serve`, leaving Postgres and the emulator
// running; startServer starts it again.
func (s *stack) stopServer() {
	stopProcess(s.srv)
	s.srv = nil
}

// sdkauth runs one sdkauth command with the server's environment.
func (s *stack) sdkauth(ctx context.Context, bin string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = s.env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return append(out, stderr.Bytes()...), err
	}
	return out, nil
}

// findPostmaster reads the postmaster's pid from its data directory, so
// that Postgres's CPU can be summed over it and its backends.
func (s *stack) findPostmaster(ctx context.Context) error {
	conn, err := pgx.Connect(ctx, s.pg.URL)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	var dataDir string
	if err := conn.QueryRow(ctx, "SHOW data_directory").Scan(&dataDir); err != nil {
		return err
	}
	if err := conn.QueryRow(ctx, "SHOW server_version").Scan(&s.pgVersion); err != nil {
		return err
	}
	b, err := os.ReadFile(filepath.Join(dataDir, "postmaster.pid"))
	if err != nil {
		return fmt.Errorf("reading the postmaster's pid: %w", err)
	}
	first, _, _ := strings.Cut(string(b), "\n")
	if s.postmaster, err = strconv.Atoi(strings.TrimSpace(first)); err != nil {
		return fmt.Errorf("postmaster.pid: %w", err)
	}
	return nil
}

// stop ends every process the stack started and removes its files. It is
// safe to call more than once and on a partly started stack.
func (s *stack) stop() {
	if s == nil {
		return
	}
	s.stopServer()
	stopProcess(s.emu)
	s.emu = nil
	if s.pgStats != nil {
		s.pgStats.Close(context.Background())
		s.pgStats = nil
	}
	s.pg.Stop()
	if s.dir != "" {
		os.RemoveAll(s.dir)
		s.dir = ""
	}
}

// startProcess starts bin in its own process group with output to logPath.
// Pdeathsig kills it should the bench itself be killed outright.
func startProcess(logPath, bin string, env []string, args ...string) (*exec.Cmd, error) {
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Env = env
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("starting %s: %w", bin, err)
	}
	go func() {
		_ = cmd.Wait()
		logf.Close()
	}()
	return cmd, nil
}

// stopProcess asks the process group to stop, then kills it after 10 s.
func stopProcess(cmd *exec.Cmd) {
	if cmd == nil || cmd.Process == nil {
		return
	}
	pid := cmd.Process.Pid
	_ = syscall.Kill(-pid, syscall.SIGTERM)
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if syscall.Kill(pid, 0) != nil {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	_ = syscall.Kill(-pid, syscall.SIGKILL)
}

// exited reports whether cmd's process is gone.
func exited(cmd *exec.Cmd) bool {
	return cmd.Process == nil || syscall.Kill(cmd.Process.Pid, 0) != nil
}

func waitReady(ctx context.Context, url string, cmd *exec.Cmd, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	c := &http.Client{Timeout: time.Second}
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := c.Do(req)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("%s answered %d", url, resp.StatusCode)
		}
		if exited(cmd) {
			return errors.New("the process exited")
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return err
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// createApplication creates a Vonage application with a generated key pair
// through the emulator's Applications API v2, waiting for it to listen.
func createApplication(ctx context.Context, base, key, secret string) (id string, privateKey []byte, err error) {
	deadline := time.Now().Add(15 * time.Second)
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+"/v2/applications",
			strings.NewReader(`{"name":"sdkauth-bench"}`))
		req.Header.Set("Content-Type", "application/json")
		req.SetBasicAuth(key, secret)
		var resp *http.Response
		resp, err = http.DefaultClient.Do(req)
		if err == nil {
			defer resp.Body.Close()
			var app struct {
				ID   string `json:"id"`
				Keys struct {
					PrivateKey string `json:"private_key"`
				} `json:"keys"`
			}
			if resp.StatusCode != http.StatusCreated {
				b, _ := io.ReadAll(resp.Body)
				return "", nil, fmt.Errorf("POST /v2/applications: %d %s", resp.StatusCode, b)
			}
			if err := json.NewDecoder(resp.Body).Decode(&app); err != nil {
				return "", nil, err
			}
			if app.ID == "" || app.Keys.PrivateKey == "" {
				return "", nil, errors.New("POST /v2/applications: no id or private key in the answer")
			}
			return app.ID, []byte(app.Keys.PrivateKey), nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return "", nil, err
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// loggedSigner finds the signer sdkauth says it runs in its start-up log.
func loggedSigner(logPath string) string {
	b, _ := os.ReadFile(logPath)
	for _, line := range strings.Split(string(b), "\n") {
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) != nil {
			continue
		}
		if s, ok := rec["signer"].(string); ok {
			return s
		}
	}
	return "not logged"
}

// cleanEnv is this process's environment without sdkauth's and Vonage's
// variables, so that nothing from the caller's shell leaks into the run.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "SDKAUTH_") || strings.HasPrefix(name, "VONAGE_") || name == "DATABASE_URL" {
			continue
		}
		env = append(env, kv)
	}
	return env
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// tail returns the last lines of a log, for error messages.
func tail(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "(no log)"
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) > 15 {
		lines = lines[len(lines)-15:]
	}
	return "\n" + strings.Join(lines, "\n")
}
