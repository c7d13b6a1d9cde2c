package auth

import (
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
)

// Calls that arrive while a group is being written share the next one; no
// group is larger than max, no more than inFlight are written at once, and
// each caller gets its own result, or its group's error.
func TestGroupCommitGroupsCallsAndBoundsThem(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	var inFlight, maxInFlight, groups atomic.Int32
	var maxGroup atomic.Int32
	g := &groupCommit[int, int]{
		max:      5,
		inFlight: 2,
		flush: func(in []int) ([]int, error) {
			n := inFlight.Add(1)
			defer inFlight.Add(-1)
			for {
				m := maxInFlight.Load()
				if n <= m || maxInFlight.CompareAndSwap(m, n) {
					break
				}
			}
			if int32(len(in)) > maxGroup.Load() {
				maxGroup.Store(int32(len(in)))
			}
			groups.Add(1)
			<-release
			out := make([]int, len(in))
			for i, v := range in {
				if v < 0 {
					return nil, errors.New("negative")
				}
				out[i] = v * 10
			}
			return out, nil
		},
	}
	const n = 40
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			out, err := g.do(i)
			if err != nil || out != i*10 {
				t.Errorf("do(%d) = %d, %v", i, out, err)
			}
		})
	}
	// Let the calls pile up behind the first two groups, then let all go.
	for groups.Load() < 2 {
		runtime.Gosched()
	}
	close(release)
	wg.Wait()
	if maxInFlight.Load() > 2 || maxGroup.Load() > 5 || groups.Load() >= n {
		t.Fatalf("%d groups, at most %d in flight and %d calls in one; want fewer than %d groups, ≤ 2 and ≤ 5",
			groups.Load(), maxInFlight.Load(), maxGroup.Load(), n)
	}

	// A failed group fails each of its calls.
	if _, err := g.do(-1); err == nil {
		t.Fatal("a failed group returned no error")
	}
}
