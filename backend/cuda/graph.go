package cuda

import (
	"context"
	"fmt"
	"maps"
	"os"

	"github.com/rlx-go/rlx/backend"
	"github.com/rlx-go/rlx/backend/cuda/driver"
)

// CUDA graphs for repeated launch lists.
//
// A decode step runs the same launch list (the compiler reuses it while the
// binding is unchanged) with the same views: its inputs are written into
// the same device buffers and everything that changes from step to step
// (the past length, positions) is read by the kernels from device memory.
// Every kernel's Run then queues the same launches with the same arguments,
// so the whole step can be captured once and replayed with one
// cuGraphLaunch instead of hundreds of cuLaunchKernel calls.
//
// A list is identified by its first element's address and length, the
// environment's binding, and the backend's generation, which moves whenever
// device memory that a captured launch might name is freed or replaced
// (Free, a scratch buffer growing). The first execution of a key runs
// plainly (lazy set-up such as scratch growth and uploads happens there),
// the second is captured and replayed, later ones replay. A capture that
// fails (a host fallback node synchronizes, a kernel does a blocking copy)
// is thrown away, the list runs plainly, and the key is not captured again.

// maxGraphs bounds the captured lists a backend keeps.
const maxGraphs = 32

// graphKey identifies a launch list.
type graphKey struct {
	first *backend.Launch
	n     int
}

type graphEntry struct {
	bind   map[string]int
	gen    uint64
	seen   int // executions of this key so far
	g      *driver.Graph
	failed bool
	// The fusion pass's list for this key (fuse.go; nil: as compiled),
	// made once.
	fused    []backend.Launch
	fstats   FuseStats
	fuseDone bool
}

// GraphStats counts what Execute did with launch lists.
type GraphStats struct {
	Captured int // lists captured into a graph
	Replayed int // executions that replayed a graph
	Failed   int // captures that failed (the list then runs plainly)
	Plain    int // executions that launched kernel by kernel
}

// Graphs returns the counts of captures and replays so far.
func (b *Backend) Graphs() GraphStats {
	b.exec.Lock()
	defer b.exec.Unlock()
	return b.gstats
}

// SetGraphs turns graph capture and replay on or off (on by default where
// the driver supports it, unless RLX_CUDA_GRAPHS=0). Turning it off drops
// every captured graph.
func (b *Backend) SetGraphs(on bool) {
	b.exec.Lock()
	defer b.exec.Unlock()
	b.graphsOn = on && driver.HasGraphs()
	b.dropGraphs()
}

// graphsDefault is the initial setting: on unless RLX_CUDA_GRAPHS=0.
func graphsDefault() bool {
	return os.Getenv("RLX_CUDA_GRAPHS") != "0" && driver.HasGraphs()
}

// invalidate makes every captured graph stale: device memory one of them
// may name is about to be freed or replaced.
func (b *Backend) invalidate() { b.gen.Add(1) }

// dropGraphs destroys every graph; the caller holds b.exec.
func (b *Backend) dropGraphs() {
	for k, e := range b.graphs {
		if e.g != nil {
			b.ctx.DestroyGraph(e.g)
		}
		delete(b.graphs, k)
	}
}

// entry finds or makes the entry of ls under env, resetting one whose
// binding or generation moved; the caller holds b.exec.
func (b *Backend) entry(env *backend.Env, ls []backend.Launch) *graphEntry {
	k := graphKey{&ls[0], len(ls)}
	gen := b.gen.Load()
	var bind map[string]int
	if env != nil {
		bind = env.Bind
	}
	e, ok := b.graphs[k]
	if ok && (e.gen != gen || !maps.Equal(e.bind, bind)) {
		if e.g != nil {
			b.ctx.DestroyGraph(e.g)
		}
		ok = false
	}
	if !ok {
		if len(b.graphs) >= maxGraphs {
			b.dropGraphs()
		}
		e = &graphEntry{bind: maps.Clone(bind), gen: gen}
		b.graphs[k] = e
	}
	return e
}

// executeGraph runs ls through a graph when it can; the caller holds
// b.exec.
func (b *Backend) executeGraph(ctx context.Context, env *backend.Env, ls []backend.Launch) error {
	e := b.entry(env, ls)
	if e.g != nil {
		b.gstats.Replayed++
		return b.ctx.LaunchGraph(e.g, b.stream)
	}
	e.seen++
	if e.failed || e.seen < 2 {
		b.gstats.Plain++
		return b.launchAll(ctx, env, ls)
	}
	g, err := b.capture(ctx, env, ls)
	if err != nil {
		if cerr := ctx.Err(); cerr != nil {
			// Cancelled during the capture: nothing ran, and the list
			// may still be captured next time.
			e.seen--
			return cerr
		}
		// Nothing captured ran: run the list plainly. A kernel's own
		// error comes back from there.
		e.failed = true
		b.gstats.Failed++
		b.gstats.Plain++
		return b.launchAll(ctx, env, ls)
	}
	e.g = g
	b.gstats.Captured++
	b.gstats.Replayed++
	return b.ctx.LaunchGraph(g, b.stream)
}

// capture records ls on the stream into an instantiated graph.
func (b *Backend) capture(ctx context.Context, env *backend.Env, ls []backend.Launch) (*driver.Graph, error) {
	// Set before the capture begins: a staged Write (another goroutine's,
	// or a host node's) then copies synchronously, which fails the
	// capture as before, rather than being recorded into the graph.
	b.setCapturing(true)
	defer b.setCapturing(false)
	if err := b.ctx.BeginCapture(b.stream); err != nil {
		return nil, err
	}
	runErr := b.launchAll(ctx, env, ls)
	g, err := b.ctx.EndCapture(b.stream)
	if runErr != nil {
		if g != nil {
			b.ctx.DestroyGraph(g)
		}
		return nil, runErr
	}
	if err != nil {
		return nil, fmt.Errorf("cuda: graph capture: %w", err)
	}
	return g, nil
}

// launchAll queues every launch of ls (host kernels run in place), after
// the fusion pass (fuse.go).
func (b *Backend) launchAll(ctx context.Context, env *backend.Env, ls []backend.Launch) error {
	ls = b.fuseLaunches(env, ls)
	done := ctx.Done()
	for i := range ls {
		if done != nil {
			select {
			case <-done:
				return ctx.Err()
			default:
			}
		}
		l := &ls[i]
		if err := l.Kernel.Run(env, l.Ins, l.Out); err != nil {
			return fmt.Errorf("%s: %v: %w", b.name, l.Node, err)
		}
	}
	return nil
}
