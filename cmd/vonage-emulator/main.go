// Command vonage-emulator serves the in-memory Vonage platform emulator (the
// Applications API v2, the Users API v1 and the /_emulator/ fault and statistics
// endpoints) on its own, for running sdkauth or its clients against it.
//
// Usage:
//
//	vonage-emulator [--addr 127.0.0.1:4010] [--api-key KEY] [--api-secret SECRET]
//	                [--faults FILE] [--log-level debug|info|warn|error]
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/sdkauth/sdkauth/emulator"
)

// shutdownTimeout bounds how long in-flight requests may take to finish on exit.
const shutdownTimeout = 10 * time.Second

// main runs the emulator until SIGINT or SIGTERM.
func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stderr, nil); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		fmt.Fprintln(os.Stderr, "vonage-emulator:", err)
		os.Exit(1)
	}
}

// run parses args, serves the emulator until ctx is cancelled and then shuts
// down gracefully. ready, when not nil, is called with the bound address once the
// server accepts connections.
func run(ctx context.Context, args []string, stderr io.Writer, ready func(addr string)) error {
	fs := flag.NewFlagSet("vonage-emulator", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:4010", "listen address `HOST:PORT`")
	apiKey := fs.String("api-key", "sdkauth-dev", "API key accepted by the Applications API v2 (HTTP Basic)")
	apiSecret := fs.String("api-secret", "sdkauth-dev-secret", "API secret accepted by the Applications API v2 (HTTP Basic)")
	faultsFile := fs.String("faults", "", "JSON `FILE` holding an array of faults to inject from the start")
	logLevel := fs.String("log-level", "info", "log level: debug, info, warn or error")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return fmt.Errorf("--log-level: %w", err)
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))

	em := emulator.New(emulator.Config{APIKey: *apiKey, APISecret: *apiSecret, Logger: logger})
	if *faultsFile != "" {
		faults, err := loadFaults(*faultsFile)
		if err != nil {
			return err
		}
		em.SetFaults(faults)
		logger.Info("faults installed", "file", *faultsFile, "count", len(faults))
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           em,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	logger.Info("vonage emulator listening", "addr", ln.Addr().String(), "api_key", *apiKey)
	if ready != nil {
		ready(ln.Addr().String())
	}

	select {
	case err := <-serveErr:
		return err
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	// Release requests held by hang faults so that they do not delay the exit.
	em.ClearFaults()
	shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	err = srv.Shutdown(shutdownCtx)
	em.Close() // Client SDK sessions: Shutdown leaves upgraded connections open
	if err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

// loadFaults reads a JSON array of faults (a single object is accepted too),
// refusing unknown members and invalid faults.
func loadFaults(path string) ([]emulator.Fault, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("--faults: %w", err)
	}
	data = bytes.TrimSpace(data)
	if len(data) > 0 && data[0] == '{' {
		data = append(append([]byte{'['}, data...), ']')
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var faults []emulator.Fault
	if err := dec.Decode(&faults); err != nil {
		return nil, fmt.Errorf("--faults %s: expected a JSON array of faults: %w", path, err)
	}
	for i, f := range faults {
		if err := f.Validate(); err != nil {
			return nil, fmt.Errorf("--faults %s: fault %d: %w", path, i, err)
		}
	}
	return faults, nil
}
