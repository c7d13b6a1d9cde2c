package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
)

// A call is one request of a worker; it returns nil on success. Each worker
// owns its call (and whatever state it carries, such as a refresh-token
// chain), so calls need not be safe for concurrent use.
type call func(ctx context.Context) error

// loadSpec is one measured phase.
type loadSpec struct {
	name        string
	concurrency int
	duration    time.Duration
	// rate, when positive, makes the phase open-loop: requests are due at
	// fixed intervals whatever the server does, and latency counts from
	// when a request was due, so a stalled server shows in the tail
	// (no coordinated omission).
	rate      float64
	newWorker func(i int) (call, error)
}

// loadResult is what a phase measured, successes and failures apart.
type loadResult struct {
	OK, Failed int
	ErrorKinds map[string]int
	Latencies  []time.Duration // of successful requests, sorted
	Window     time.Duration   // the recorded interval
}

// Rate is successful requests per second over the recorded window.
func (r loadResult) Rate() float64 {
	if r.Window <= 0 {
		return 0
	}
	return float64(r.OK) / r.Window.Seconds()
}

// Percentile returns the p-th percentile (0 < p ≤ 100) of successful
// latencies by the nearest-rank method, or 0 when there are none.
func (r loadResult) Percentile(p float64) time.Duration {
	return percentile(r.Latencies, p)
}

func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(p/100*float64(len(sorted)) + 0.999999999)
	rank = min(max(rank, 1), len(sorted))
	return sorted[rank-1]
}

// sample is what a worker records; merged once the phase ends.
type sample struct {
	ok        []time.Duration
	failed    int
	errorKind map[string]int
}

func (s *sample) record(lat time.Duration, err error) {
	if err == nil {
		s.ok = append(s.ok, lat)
		return
	}
	s.failed++
	if s.errorKind == nil {
		s.errorKind = map[string]int{}
	}
	s.errorKind[errorKind(err)]++
}

// errorKind reduces an error to a short label for the report.
func errorKind(err error) string {
	var se *statusError
	var ne net.Error
	switch {
	case errors.As(err, &se):
		return se.kind()
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	}
	s := err.Error()
	if i := strings.LastIndex(s, ": "); i >= 0 {
		s = s[i+2:]
	}
	if len(s) > 60 {
		s = s[:60]
	}
	return s
}

// run drives spec against the server and returns what it measured. ctx
// ending stops the phase early; what was measured so far is returned.
func run(ctx context.Context, spec loadSpec) (loadResult, error) {
	calls := make([]call, spec.concurrency)
	for i := range calls {
		c, err := spec.newWorker(i)
		if err != nil {
			return loadResult{}, fmt.Errorf("%s: preparing worker %d: %w", spec.name, i, err)
		}
		calls[i] = c
	}
	start := time.Now()
	end := start.Add(spec.duration)
	ctx, cancel := context.WithDeadline(ctx, end.Add(30*time.Second))
	defer cancel()
	samples := make([]sample, spec.concurrency)
	var dropped sample // owned by the dispatcher
	var wg sync.WaitGroup
	if spec.rate <= 0 {
		for i, c := range calls {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for ctx.Err() == nil {
					t0 := time.Now()
					if !t0.Before(end) {
						return
					}
					err := c(ctx)
					samples[i].record(time.Since(t0), err)
				}
			}()
		}
	} else {
		due := make(chan time.Time, 1<<16)
		for i, c := range calls {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for t := range due {
					if ctx.Err() != nil {
						samples[i].record(0, ctx.Err())
						continue
					}
					err := c(ctx)
					samples[i].record(time.Since(t), err)
				}
			}()
		}
		interval := time.Duration(float64(time.Second) / spec.rate)
		for t := start; t.Before(end) && ctx.Err() == nil; t = t.Add(interval) {
			if d := time.Until(t); d > 0 {
				time.Sleep(d)
			}
			select {
			case due <- t:
			default:
				// 65536 requests behind: the server has stalled; count
				// the request as failed rather than block the schedule.
				dropped.record(0, errors.New("over 65536 requests behind schedule"))
			}
		}
		close(due)
	}
	wg.Wait()
	var res loadResult
	// Requests started within the duration count; the last ones finish a
	// little after it.
	res.Window = min(time.Since(start), spec.duration)
	res.ErrorKinds = map[string]int{}
	for _, s := range append(samples, dropped) {
		res.OK += len(s.ok)
		res.Failed += s.failed
		res.Latencies = append(res.Latencies, s.ok...)
		for k, n := range s.errorKind {
			res.ErrorKinds[k] += n
		}
	}
	slices.Sort(res.Latencies)
	return res, ctx.Err()
}

// describeErrors lists error kinds, most frequent first.
func describeErrors(kinds map[string]int) string {
	if len(kinds) == 0 {
		return ""
	}
	type kv struct {
		k string
		n int
	}
	var all []kv
	for k, n := range kinds {
		all = append(all, kv{k, n})
	}
	sort.Slice(all, func(i, j int) bool { return all[i].n > all[j].n || all[i].n == all[j].n && all[i].k < all[j].k })
	var parts []string
	for _, e := range all {
		parts = append(parts, fmt.Sprintf("%d× %s", e.n, e.k))
	}
	return strings.Join(parts, ", ")
}

// newHTTPClient returns a client keeping up to conns connections to the
// server alive, for the set-up calls (sign-ups); the measured token calls
// go through rawClient, one connection per worker.
func newHTTPClient(conns int) *http.Client {
	return &http.Client{
		Timeout: 30 * time.Second,
		Transport: &http.Transport{
			Proxy:               nil,
			DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConns:        conns,
			MaxIdleConnsPerHost: conns,
			IdleConnTimeout:     90 * time.Second,
			DisableCompression:  true,
		},
	}
}
