package auth

import "sync"

// groupCommit runs concurrent calls in groups: calls that arrive while
// earlier groups are being written go together in the next one, so under
// load many requests share one round trip and one commit (one WAL flush)
// instead of paying for their own. A call on an idle groupCommit starts at
// once, so it adds no wait when there is nothing to share. Each caller
// still waits until its own group has finished, so what it was told is
// what is stored. Its goroutines run only while there are calls to serve.
type groupCommit[In, Out any] struct {
	// flush writes one group; it returns one Out per In, in order, or an
	// error for the whole group.
	flush func(group []In) ([]Out, error)
	// max bounds one group; inFlight bounds the groups written at once.
	max, inFlight int

	mu      sync.Mutex
	queue   []pendingCall[In, Out]
	running int
}

type pendingCall[In, Out any] struct {
	in   In
	done chan callResult[Out]
}

type callResult[Out any] struct {
	out Out
	err error
}

// do queues in and waits for the result of the group it is written with.
func (g *groupCommit[In, Out]) do(in In) (Out, error) { return g.start(in)() }

// start queues in and returns a function that waits for the result of the
// group it is written with; the caller may work in between, while the
// group's round trip and commit are under way.
func (g *groupCommit[In, Out]) start(in In) (wait func() (Out, error)) {
	p := pendingCall[In, Out]{in: in, done: make(chan callResult[Out], 1)}
	g.mu.Lock()
	g.queue = append(g.queue, p)
	if g.running < max(g.inFlight, 1) {
		g.running++
		go g.run()
	}
	g.mu.Unlock()
	return func() (Out, error) {
		r := <-p.done
		return r.out, r.err
	}
}

func (g *groupCommit[In, Out]) run() {
	var ins []In
	for {
		g.mu.Lock()
		n := min(len(g.queue), g.max)
		if n == 0 {
			g.running--
			g.mu.Unlock()
			return
		}
		group := g.queue[:n:n]
		g.queue = g.queue[n:]
		g.mu.Unlock()

		ins = ins[:0]
		for _, p := range group {
			ins = append(ins, p.in)
		}
		outs, err := g.flush(ins)
		for i, p := range group {
			var r callResult[Out]
			if err != nil {
				r.err = err
			} else {
				r.out = outs[i]
			}
			p.done <- r
		}
	}
}
