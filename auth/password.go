package auth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
)

// Argon2Params are argon2id cost parameters. The zero value is not valid;
// use OWASPParams outside tests.
type Argon2Params struct {
	MemoryKiB   uint32
	Iterations  uint32
	Parallelism uint8
	SaltLen     uint32
	KeyLen      uint32
}

// OWASPParams are the OWASP Password Storage Cheat Sheet's argon2id minimum:
// m=19 MiB, t=2, p=1.
var OWASPParams = Argon2Params{MemoryKiB: 19 * 1024, Iterations: 2, Parallelism: 1, SaltLen: 16, KeyLen: 32}

// ErrMismatch is returned by Verify when the password does not match.
var ErrMismatch = errors.New("password does not match")

// ErrBusy is returned when no hashing slot frees up in time: the caller
// should answer 503 with Retry-After rather than queue without bound.
var ErrBusy = errors.New("password hashing is saturated")

// Hasher hashes and verifies passwords with argon2id, at most one per slot
// at a time, so a login storm cannot exhaust memory. Each slot keeps its
// own MemoryKiB arena once used, so hashing allocates nothing on the Go
// heap (see argon2.go): the memory stays at slots × MemoryKiB.
type Hasher struct {
	params Argon2Params
	slots  chan *argon2Arena // the free slots
	wait   time.Duration
	dummy  string
}

// NewHasher returns a Hasher with the given parameters and as many slots as
// there are CPUs; a request waits at most wait for a slot.
func NewHasher(p Argon2Params, wait time.Duration) *Hasher {
	n := runtime.GOMAXPROCS(0)
	h := &Hasher{params: p, slots: make(chan *argon2Arena, n), wait: wait}
	for range n {
		h.slots <- &argon2Arena{size: argon2Blocks(p.MemoryKiB, p.Parallelism)}
	}
	// A hash of a random secret, verified for unknown users so they cost the
	// same work as a wrong password.
	var secret [16]byte
	_, _ = rand.Read(secret[:])
	h.dummy = h.hash(nil, secret[:])
	return h
}

// acquire takes a free slot, waiting at most h.wait.
func (h *Hasher) acquire(ctx context.Context) (*argon2Arena, error) {
	select {
	case a := <-h.slots: // no timer when a slot is free
		return a, nil
	default:
	}
	t := time.NewTimer(h.wait)
	defer t.Stop()
	select {
	case a := <-h.slots:
		return a, nil
	case <-t.C:
		return nil, ErrBusy
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (h *Hasher) release(a *argon2Arena) { h.slots <- a }

// Hash returns the argon2id PHC string of password.
// It returns ErrBusy or the context's error when no slot is free in time.
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	a, err := h.acquire(ctx)
	if err != nil {
		return "", err
	}
	defer h.release(a)
	return h.hash(a, []byte(password)), nil
}

// hash hashes password in arena a (nil: in memory of its own).
func (h *Hasher) hash(a *argon2Arena, password []byte) string {
	p := h.params
	salt := make([]byte, p.SaltLen)
	_, _ = rand.Read(salt)
	key := a.idKey(password, salt, p)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.MemoryKiB, p.Iterations, p.Parallelism, b64.EncodeToString(salt), b64.EncodeToString(key))
}

// Verify checks password against an argon2id or bcrypt hash. An empty hash
// (an unknown user) is checked against a dummy hash, so the work and the
// answer are the same as for a wrong password. It reports whether the hash
// should be replaced by a fresh argon2id hash with the current parameters.
// It returns ErrMismatch, ErrBusy, the context's error, or a format error.
func (h *Hasher) Verify(ctx context.Context, encoded, password string) (rehash bool, err error) {
	a, err := h.acquire(ctx)
	if err != nil {
		return false, err
	}
	defer h.release(a)
	if encoded == "" {
		_, _ = verifyArgon2(a, h.dummy, []byte(password))
		return false, ErrMismatch
	}
	if strings.HasPrefix(encoded, "$2") {
		err := bcrypt.CompareHashAndPassword([]byte(encoded), []byte(password))
		if errors.Is(err, bcrypt.ErrMismatchedHashAndPassword) {
			return false, ErrMismatch
		}
		return err == nil, err
	}
	params, err := verifyArgon2(a, encoded, []byte(password))
	if err != nil {
		return false, err
	}
	return params != h.params, nil
}

// verifyArgon2 checks password against a PHC argon2id string, hashing in
// arena a, and returns its parameters. It returns ErrMismatch or a format
// error.
func verifyArgon2(a *argon2Arena, encoded string, password []byte) (Argon2Params, error) {
	p, salt, key, err := ParseArgon2(encoded)
	if err != nil {
		return p, err
	}
	got := a.idKey(password, salt, p)
	if subtle.ConstantTimeCompare(got, key) != 1 {
		return p, ErrMismatch
	}
	return p, nil
}

// ParseArgon2 parses "$argon2id$v=19$m=…,t=…,p=…$salt$key" and checks that
// its parameters are within sane bounds, so an imported hash cannot make a
// login allocate gigabytes.
func ParseArgon2(encoded string) (p Argon2Params, salt, key []byte, err error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return p, nil, nil, errors.New("not an argon2id PHC string")
	}
	if parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return p, nil, nil, errors.New("unsupported argon2 version")
	}
	var m, t, par uint64
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &par); err != nil {
		return p, nil, nil, errors.New("malformed argon2id parameters")
	}
	if m < 8 || m > 1<<20 || t < 1 || t > 16 || par < 1 || par > 16 {
		return p, nil, nil, errors.New("argon2id parameters out of bounds")
	}
	b64 := base64.RawStdEncoding
	if salt, err = b64.DecodeString(parts[4]); err != nil || len(salt) < 8 {
		return p, nil, nil, errors.New("malformed argon2id salt")
	}
	if key, err = b64.DecodeString(parts[5]); err != nil || len(key) < 16 || len(key) > 128 {
		return p, nil, nil, errors.New("malformed argon2id key")
	}
	p = Argon2Params{MemoryKiB: uint32(m), Iterations: uint32(t), Parallelism: uint8(par), SaltLen: uint32(len(salt)), KeyLen: uint32(len(key))}
	return p, salt, key, nil
}
