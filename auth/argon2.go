package auth

import (
	"bytes"
	"encoding/binary"
	"sync"
	_ "unsafe" // go:linkname

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/blake2b"
)

// argon2id in memory the caller keeps.
//
// argon2.IDKey allocates its memory (19 MiB at the OWASP parameters) on
// every call, and no API of golang.org/x/crypto/argon2 takes it from the
// caller. In a server those blocks are most of what it allocates: the Go
// heap goal then grows by 19 MiB every hash, a collection runs every two or
// three hashes and marks the whole live heap, and pages the runtime gave
// back are faulted in again. Each slot of a Hasher therefore keeps one
// arena and derives its keys there, with x/crypto's own block processing
// (its SSE4 assembly on amd64): only the first blocks and the arena are
// ours. The internal functions are reached by go:linkname, so an upgrade
// of x/crypto that changes them must be caught: linkedArgon2 compares this
// path with argon2.IDKey once per process and, if they differ, every hash
// falls back to argon2.IDKey; the tests compare them for many parameters
// and against RFC 9106's argon2id test vector.

// argonBlock is one 1 KiB argon2 block, as x/crypto lays it out.
type argonBlock [128]uint64

const (
	argon2idMode = 2 // x/crypto's argon2id mode constant
	syncPoints   = 4 // argon2's slices per pass
)

//go:linkname argon2InitHash golang.org/x/crypto/argon2.initHash
func argon2InitHash(password, salt, key, data []byte, time, memory, threads, keyLen uint32, mode int) [blake2b.Size + 8]byte

//go:linkname argon2Blake2bHash golang.org/x/crypto/argon2.blake2bHash
func argon2Blake2bHash(out []byte, in []byte)

//go:linkname argon2ProcessBlocks golang.org/x/crypto/argon2.processBlocks
func argon2ProcessBlocks(B []argonBlock, time, memory, threads uint32, mode int)

//go:linkname argon2ExtractKey golang.org/x/crypto/argon2.extractKey
func argon2ExtractKey(B []argonBlock, memory, threads, keyLen uint32) []byte

// argon2Blocks is how many blocks argon2id uses for memory KiB and threads
// lanes: memory rounded down to a multiple of 4·threads, at least 8·threads.
func argon2Blocks(memory uint32, threads uint8) uint32 {
	unit := syncPoints * uint32(threads)
	m := memory / unit * unit
	return max(m, 2*unit)
}

// idKeyIn is argon2.IDKey with secret and associated data (RFC 9106's K
// and X, nil outside tests), computed in arena, which must hold at least
// argon2Blocks(memory, threads) blocks; it is overwritten.
func idKeyIn(arena []argonBlock, password, salt, secret, data []byte, time, memory uint32, threads uint8, keyLen uint32) []byte {
	h0 := argon2InitHash(password, salt, secret, data, time, memory, uint32(threads), keyLen, argon2idMode)
	m := argon2Blocks(memory, threads)
	B := arena[:m]
	// x/crypto's first pass XORs each new block into the old one, so the
	// memory must start zeroed, as a fresh allocation is.
	clear(B)
	var block0 [1024]byte
	lanes := m / uint32(threads)
	for lane := range uint32(threads) {
		binary.LittleEndian.PutUint32(h0[blake2b.Size+4:], lane)
		for i := range uint32(2) {
			binary.LittleEndian.PutUint32(h0[blake2b.Size:], i)
			argon2Blake2bHash(block0[:], h0[:])
			b := &B[lane*lanes+i]
			for j := range b {
				b[j] = binary.LittleEndian.Uint64(block0[j*8:])
			}
		}
	}
	argon2ProcessBlocks(B, time, m, uint32(threads), argon2idMode)
	return argon2ExtractKey(B, m, uint32(threads), keyLen)
}

// linkedArgon2 reports whether idKeyIn agrees with argon2.IDKey in this
// binary (see the comment at the top of this file).
var linkedArgon2 = sync.OnceValue(func() bool {
	pw, salt := []byte("sdkauth self-check"), []byte("0123456789abcdef")
	arena := make([]argonBlock, argon2Blocks(64, 2))
	ok := true
	for range 2 { // the second time in a used arena
		ok = ok && bytes.Equal(idKeyIn(arena, pw, salt, nil, nil, 2, 64, 2, 32), argon2.IDKey(pw, salt, 2, 64, 2, 32))
	}
	return ok
})

// HashesInArenas reports whether password hashes are computed in each
// slot's kept memory; false means x/crypto's internals no longer match this
// file and every hash allocates its memory through argon2.IDKey (correct,
// but with the garbage collection and page faults described above), which
// start-up logs as a warning.
func HashesInArenas() bool { return linkedArgon2() }

// argon2Arena is one hashing slot's memory, allocated on first use and
// kept for the life of the Hasher.
type argon2Arena struct {
	blocks []argonBlock
	size   uint32 // blocks to allocate: those of the Hasher's parameters
}

// idKey is argon2.IDKey(password, salt, p…) computed in the arena when it
// is large enough for p (hashes imported with more memory than the
// configured parameters allocate their own, as argon2.IDKey does).
func (a *argon2Arena) idKey(password, salt []byte, p Argon2Params) []byte {
	need := argon2Blocks(p.MemoryKiB, p.Parallelism)
	if a == nil || need > a.size || !linkedArgon2() {
		return argon2.IDKey(password, salt, p.Iterations, p.MemoryKiB, p.Parallelism, p.KeyLen)
	}
	if a.blocks == nil {
		a.blocks = make([]argonBlock, a.size)
	}
	return idKeyIn(a.blocks, password, salt, nil, nil, p.Iterations, p.MemoryKiB, p.Parallelism, p.KeyLen)
}
