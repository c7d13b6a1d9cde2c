//go:build cgo

package keys

import (
	"crypto/sha256"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"testing"
)

// The dispatch designs issue 16 weighed for the OpenSSL signer, all signing
// with the same C function, so that only the way a goroutine reaches C
// differs:
//
//   - pool-N: the signer as built, N C threads fed by a queue, completions
//     through an eventfd read in the netpoller;
//   - blocking: each goroutine makes one blocking cgo call per signature,
//     as the golang-fips/openssl binding did;
//   - locked: GOMAXPROCS goroutines locked to their threads take requests
//     from a channel and make the blocking call;
//   - batch: like locked, but each call signs every request waiting, up to 8;
//   - combine: no worker at all: a caller that finds one of GOMAXPROCS
//     lanes free signs every request waiting (its own among them), up to 8
//     in one blocking call, and wakes their callers; the others wait.
//
// Compare with alternating runs, for example
//
//	go test -c -o /tmp/keys.test ./keys
//	for i in 1 2 3; do /tmp/keys.test -test.run '^$' -test.bench SignDesigns -test.benchtime 3s; done
//
// cpu-µs/op is the process's CPU time (user and system, every thread) per
// signature: ns/op alone hides work moved to other threads.

type designRequest struct {
	digest [32]byte
	sig    []byte
	err    error
	done   chan struct{}
}

// channelSigner hands digests to worker goroutines.
type channelSigner struct{ reqs chan *designRequest }

func (s channelSigner) signDigest(digest []byte) ([]byte, error) {
	r := &designRequest{done: make(chan struct{})}
	copy(r.digest[:], digest)
	s.reqs <- r
	<-r.done
	return r.sig, r.err
}

// startWorkers starts n goroutines locked to their threads, each signing
// up to batch waiting requests per cgo call, until stop is closed.
func startWorkers(o *opensslSigner, n, batch int, stop chan struct{}) channelSigner {
	s := channelSigner{reqs: make(chan *designRequest, 256)}
	for range n {
		go func() {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			reqs := make([]*designRequest, 0, batch)
			digests := make([][32]byte, 0, batch)
			for {
				select {
				case r := <-s.reqs:
					reqs = append(reqs[:0], r)
				case <-stop:
					return
				}
			more:
				for len(reqs) < batch {
					select {
					case r := <-s.reqs:
						reqs = append(reqs, r)
					default:
						break more
					}
				}
				digests = digests[:0]
				for _, r := range reqs {
					digests = append(digests, r.digest)
				}
				sigs, err := o.signBlocking(digests)
				for i, r := range reqs {
					if err == nil {
						r.sig = sigs[i]
					}
					r.err = err
					close(r.done)
				}
			}
		}()
	}
	return s
}

// combiningSigner is the combine design: callers queue their digests, and
// at most len(lanes) of them at a time sign what is queued for everyone.
type combiningSigner struct {
	o     *opensslSigner
	lanes chan struct{}
	mu    sync.Mutex
	queue []*designRequest
}

func (s *combiningSigner) signDigest(digest []byte) ([]byte, error) {
	r := &designRequest{done: make(chan struct{})}
	copy(r.digest[:], digest)
	s.mu.Lock()
	s.queue = append(s.queue, r)
	s.mu.Unlock()
	var digests [][32]byte
	for {
		select {
		case <-r.done:
			return r.sig, r.err
		case s.lanes <- struct{}{}:
		}
		s.mu.Lock()
		n := min(len(s.queue), 8)
		batch := slices.Clone(s.queue[:n])
		s.queue = s.queue[n:]
		s.mu.Unlock()
		if n > 0 {
			digests = digests[:0]
			for _, q := range batch {
				digests = append(digests, q.digest)
			}
			sigs, err := s.o.signBlocking(digests)
			for i, q := range batch {
				if err == nil {
					q.sig = sigs[i]
				}
				q.err = err
				close(q.done)
			}
		}
		<-s.lanes
	}
}

type blockingSigner struct{ o *opensslSigner }

func (s blockingSigner) signDigest(digest []byte) ([]byte, error) {
	sigs, err := s.o.signBlocking([][32]byte{[32]byte(digest)})
	if err != nil {
		return nil, err
	}
	return sigs[0], nil
}

func BenchmarkSignDesigns(b *testing.B) {
	if _, err := loadLibcrypto(); err != nil {
		b.Skipf("OpenSSL signer unavailable here: %v", err)
	}
	key, _ := testKeys(b)
	procs := runtime.GOMAXPROCS(0)
	type design struct {
		name string
		// start returns the digest signer and a function that stops it.
		start func() (digestSigner, func())
	}
	designs := []design{}
	for _, n := range []int{1, procs, procs + 1, 2 * procs} {
		designs = append(designs, design{fmt.Sprintf("pool-%d", n), func() (digestSigner, func()) {
			o, err := newOpenSSLSigner(key, n)
			if err != nil {
				b.Fatal(err)
			}
			return o, func() { o.Close() }
		}})
	}
	// The other designs use a pool of one thread only for its key.
	for _, d := range []struct {
		name         string
		locked, size int
	}{{"blocking", 0, 0}, {"locked", procs, 1}, {"batch", procs, 8}} {
		designs = append(designs, design{d.name, func() (digestSigner, func()) {
			o, err := newOpenSSLSigner(key, 1)
			if err != nil {
				b.Fatal(err)
			}
			if d.locked == 0 {
				return blockingSigner{o}, func() { o.Close() }
			}
			stop := make(chan struct{})
			return startWorkers(o, d.locked, d.size, stop), func() { close(stop); o.Close() }
		}})
	}
	designs = append(designs, design{"combine", func() (digestSigner, func()) {
		o, err := newOpenSSLSigner(key, 1)
		if err != nil {
			b.Fatal(err)
		}
		return &combiningSigner{o: o, lanes: make(chan struct{}, procs)}, func() { o.Close() }
	}})
	header := encodedHeader(Thumbprint(&key.PublicKey))
	c := benchClaims()
	for _, perProc := range []int{1, 8} {
		for _, d := range designs {
			b.Run(fmt.Sprintf("%s/goroutines=%d", d.name, perProc*procs), func(b *testing.B) {
				ds, stop := d.start()
				defer stop()
				b.SetParallelism(perProc)
				b.ReportAllocs()
				cpu0 := cpuTime()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if _, err := sign(c, header, ds); err != nil {
							b.Error(err)
							return
						}
					}
				})
				reportCPU(b, cpu0)
			})
		}
	}
}

// TestSignDesignsMatch keeps the benchmarked designs honest: each must
// produce the Go signer's signature.
func TestSignDesignsMatch(t *testing.T) {
	if _, err := loadLibcrypto(); err != nil {
		t.Skipf("OpenSSL signer unavailable here: %v", err)
	}
	key, _ := testKeys(t)
	o, err := newOpenSSLSigner(key, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	stop := make(chan struct{})
	defer close(stop)
	digest := sha256.Sum256(nil)
	want, err := NewGoSigner(key).(*goSigner).signDigest(digest[:])
	if err != nil {
		t.Fatal(err)
	}
	for name, ds := range map[string]digestSigner{
		"blocking": blockingSigner{o}, "batch": startWorkers(o, 2, 8, stop),
		"combine": &combiningSigner{o: o, lanes: make(chan struct{}, 2)},
	} {
		got, err := ds.signDigest(digest[:])
		if err != nil || string(got) != string(want) {
			t.Errorf("%s: signature differs (err %v)", name, err)
		}
	}
}
