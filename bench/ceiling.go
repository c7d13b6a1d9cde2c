package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/argon2"

	"github.com/sdkauth/sdkauth/auth"
	"github.com/sdkauth/sdkauth/keys"
)

// opensslCeiling runs `openssl speed -seconds S -multi N rsa2048` and
// returns its total RSA-2048 signs per second: the most this machine can
// sign with every core busy and nothing else in the way.
func opensslCeiling(ctx context.Context, seconds, procs int) (float64, string, error) {
	bin, err := exec.LookPath("openssl")
	if err != nil {
		return 0, "", errors.New("the openssl command is not installed (Debian: apt-get install openssl)")
	}
	args := []string{"speed", "-seconds", strconv.Itoa(seconds), "-multi", strconv.Itoa(procs), "rsa2048"}
	out, err := exec.CommandContext(ctx, bin, args...).CombinedOutput()
	cmdline := "openssl " + strings.Join(args, " ")
	if err != nil {
		return 0, cmdline, fmt.Errorf("%s: %w: %s", cmdline, err, lastLines(string(out), 5))
	}
	rate, err := parseSpeedSigns(string(out))
	return rate, cmdline, err
}

// parseSpeedSigns finds the sign/s column of the "rsa 2048 bits" row of
// `openssl speed` output. The columns differ between OpenSSL versions (3.2
// added encrypt and decrypt), so the header names the column.
func parseSpeedSigns(out string) (float64, error) {
	var header []string
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if slices.Contains(f, "sign/s") {
			header = f
			continue
		}
		if header == nil || len(f) < 4 || f[0] != "rsa" || f[1] != "2048" || !strings.HasPrefix(f[2], "bits") {
			continue
		}
		values := f[3:]
		for i, h := range header {
			if h == "sign/s" && i < len(values) {
				v, err := strconv.ParseFloat(values[i], 64)
				if err != nil {
					return 0, fmt.Errorf("openssl speed: sign/s %q is not a number", values[i])
				}
				return v, nil
			}
		}
	}
	return 0, errors.New("openssl speed: no rsa 2048 sign/s in its output")
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}

// onAllCores runs f on goroutines goroutines for d and returns the rate of
// successful calls and the first error.
func onAllCores(d time.Duration, goroutines int, f func() error) (float64, error) {
	var n atomic.Int64
	var firstErr error
	var once sync.Once
	var wg sync.WaitGroup
	start := time.Now()
	deadline := start.Add(d)
	for range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
				if err := f(); err != nil {
					once.Do(func() { firstErr = err })
					return
				}
				n.Add(1)
			}
		}()
	}
	wg.Wait()
	return float64(n.Load()) / time.Since(start).Seconds(), firstErr
}

// argon2Rate is how many argon2id hashes per second the server's
// parameters allow on every core: the bound of the password grant, which
// verifies one hash per request.
func argon2Rate(d time.Duration, p auth.Argon2Params) (float64, error) {
	salt := make([]byte, p.SaltLen)
	_, _ = rand.Read(salt)
	return onAllCores(d, runtime.GOMAXPROCS(0), func() error {
		argon2.IDKey([]byte("correct horse battery staple"), salt, p.Iterations, p.MemoryKiB, p.Parallelism, p.KeyLen)
		return nil
	})
}

// mintGoroutinesPerCore is how many goroutines per core the first mint
// row runs. With one, each core idles between signatures: a goroutine
// returning from the ~0.2 ms cgo call must win back its P, which sysmon
// handed off during the call, and the in-process rate reads 20–30% low on
// 2 cores. The second row runs as many goroutines as the HTTP phases have
// workers (-concurrency), the requests a busy server has in flight: with
// more threads than cores in the signature, a core that finishes one finds
// the next thread ready instead of waiting for the scheduler
// (BenchmarkSignParallel in keys shows the same on its own).
const mintGoroutinesPerCore = 2

// mintRate is the in-process rate of whole user-token mints (claims, ACL
// check, jti, signature) with the signer of mode on goroutines goroutines.
// which says what SignerFunc picked.
func mintRate(d time.Duration, mode string, goroutines int) (rate float64, which string, err error) {
	k, err := keys.GenerateKey()
	if err != nil {
		return 0, "", err
	}
	newSigner, which, err := keys.SignerFunc(mode)
	if err != nil {
		return 0, "", err
	}
	s, err := newSigner(k)
	if err != nil {
		return 0, "", err
	}
	if c, ok := s.(io.Closer); ok {
		defer c.Close()
	}
	m := &keys.Minter{ApplicationID: "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee", Signer: s}
	acl := keys.DefaultACL()
	rate, err = onAllCores(d, goroutines, func() error {
		_, _, err := m.UserToken("bench-user", acl, keys.DefaultTTL)
		return err
	})
	return rate, which, err
}
