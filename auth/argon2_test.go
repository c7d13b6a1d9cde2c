package auth

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/argon2"
)

// RFC 9106 section 5.3: argon2id with a secret and associated data, 4 lanes.
func TestIDKeyInRFC9106Vector(t *testing.T) {
	password := bytes.Repeat([]byte{0x01}, 32)
	salt := bytes.Repeat([]byte{0x02}, 16)
	secret := bytes.Repeat([]byte{0x03}, 8)
	data := bytes.Repeat([]byte{0x04}, 12)
	const want = "0d640df58d78766c08c037a34a8b53c9d01ef0452d75b65eb52520e96b01e659"
	arena := make([]argonBlock, argon2Blocks(32, 4))
	for i := range 2 { // a fresh arena, then a used one
		got := idKeyIn(arena, password, salt, secret, data, 3, 32, 4, 32)
		if hex.EncodeToString(got) != want {
			t.Fatalf("run %d: tag %x, want %s", i, got, want)
		}
	}
}

// The arena path gives argon2.IDKey's output for every shape of parameters
// a stored hash may have, in one arena reused across them (larger, then
// smaller memory; lane counts that do and do not divide it).
func TestIDKeyInMatchesXCrypto(t *testing.T) {
	if !linkedArgon2() {
		t.Fatal("the arena path disagrees with argon2.IDKey in this binary")
	}
	arena := make([]argonBlock, argon2Blocks(4096, 1))
	cases := []struct {
		time, memory uint32
		threads      uint8
		keyLen       uint32
	}{
		{2, 4096, 1, 32}, {1, 64, 1, 32}, {3, 1000, 1, 16}, {2, 8, 1, 32},
		{1, 7, 1, 32}, {2, 256, 2, 32}, {3, 333, 3, 64}, {4, 1024, 8, 32},
		{2, 4096, 4, 128}, {1, 9, 2, 20},
	}
	for _, c := range cases {
		pw := []byte(fmt.Sprintf("pw-%d-%d-%d", c.time, c.memory, c.threads))
		salt := []byte("a salt of sixteen")
		want := argon2.IDKey(pw, salt, c.time, c.memory, c.threads, c.keyLen)
		got := idKeyIn(arena, pw, salt, nil, nil, c.time, c.memory, c.threads, c.keyLen)
		if !bytes.Equal(got, want) {
			t.Errorf("t=%d m=%d p=%d: %x, want %x", c.time, c.memory, c.threads, got, want)
		}
	}
}

// A Hasher's hashes are standard argon2id (argon2.IDKey verifies them), it
// verifies argon2.IDKey's, and hashes with more memory than its arenas hold
// still verify.
func TestHasherArenasInteroperate(t *testing.T) {
	p := Argon2Params{MemoryKiB: 256, Iterations: 2, Parallelism: 1, SaltLen: 16, KeyLen: 32}
	h := NewHasher(p, time.Second)
	ctx := context.Background()
	for i := range 3 {
		enc, err := h.Hash(ctx, "a new user's password")
		if err != nil {
			t.Fatal(err)
		}
		got, salt, key, err := ParseArgon2(enc)
		if err != nil || got != p {
			t.Fatalf("hash %d: %q parses as %+v, %v", i, enc, got, err)
		}
		if !bytes.Equal(argon2.IDKey([]byte("a new user's password"), salt, 2, 256, 1, 32), key) {
			t.Fatalf("hash %d: argon2.IDKey does not reproduce %q", i, enc)
		}
	}
	b64 := base64.RawStdEncoding
	salt := []byte("0123456789abcdef")
	for _, q := range []Argon2Params{p, {MemoryKiB: 1024, Iterations: 1, Parallelism: 2, SaltLen: 16, KeyLen: 32}} {
		key := argon2.IDKey([]byte("imported"), salt, q.Iterations, q.MemoryKiB, q.Parallelism, q.KeyLen)
		enc := fmt.Sprintf("$argon2id$v=19$m=%d,t=%d,p=%d$%s$%s", q.MemoryKiB, q.Iterations, q.Parallelism, b64.EncodeToString(salt), b64.EncodeToString(key))
		rehash, err := h.Verify(ctx, enc, "imported")
		if err != nil || rehash != (q != p) {
			t.Errorf("m=%d p=%d: rehash %v, err %v", q.MemoryKiB, q.Parallelism, rehash, err)
		}
		if _, err := h.Verify(ctx, enc, "not it"); !errors.Is(err, ErrMismatch) {
			t.Errorf("m=%d p=%d, wrong password: %v, want ErrMismatch", q.MemoryKiB, q.Parallelism, err)
		}
	}
}

// Concurrent hashes never share an arena: under the race detector, many
// goroutines over few slots all get correct hashes, and the excess waits
// or is refused with ErrBusy.
func TestHasherSlotsConcurrent(t *testing.T) {
	p := Argon2Params{MemoryKiB: 128, Iterations: 1, Parallelism: 1, SaltLen: 16, KeyLen: 32}
	h := NewHasher(p, time.Minute)
	ctx := context.Background()
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			pw := strings.Repeat("x", i+1)
			enc, err := h.Hash(ctx, pw)
			if err != nil {
				t.Error(err)
				return
			}
			if _, err := h.Verify(ctx, enc, pw); err != nil {
				t.Errorf("goroutine %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	if len(h.slots) != cap(h.slots) {
		t.Fatalf("%d of %d slots free after the hashes", len(h.slots), cap(h.slots))
	}

	busy := NewHasher(p, 10*time.Millisecond)
	var held []*argon2Arena
	for range cap(busy.slots) {
		a, err := busy.acquire(ctx)
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, a)
	}
	if _, err := busy.Hash(ctx, "waits"); !errors.Is(err, ErrBusy) {
		t.Fatalf("every slot held: %v, want ErrBusy", err)
	}
	for _, a := range held {
		busy.release(a)
	}
}

// TestHashesInArenasWithThePinnedCrypto fails when an upgrade of
// golang.org/x/crypto changes the argon2 internals auth/argon2.go reaches:
// hashing would still be correct (it falls back to argon2.IDKey), but the
// fallback's cost should be a decision, not a surprise.
func TestHashesInArenasWithThePinnedCrypto(t *testing.T) {
	t.Parallel()
	if !HashesInArenas() {
		t.Fatal("x/crypto's argon2 internals differ from auth/argon2.go's declarations: hashing falls back to argon2.IDKey")
	}
}
