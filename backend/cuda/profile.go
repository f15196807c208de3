package cuda

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/rlx-go/rlx/backend"
	"github.com/rlx-go/rlx/backend/cuda/driver"
)

// Device-time profile of launch lists, for finding where a decode step's
// time goes on the GPU (the machines we test on have no nsys).
//
// While profiling, Execute runs every list plainly (no graphs): it first
// queues a spin kernel that holds the stream for ~20 ms, so that the host
// has queued every launch before the GPU reaches them, then records an
// event before and after each node's launches. The time between a node's
// two events is then its device time, launch latency between dependent
// kernels included, not the host's cost of queuing it.

// OpTime is the device time of one op in a profile.
type OpTime struct {
	Op       string
	Launches int           // nodes run
	Total    time.Duration // summed device time
}

// ListProfile is the profile of the launch lists run under one binding.
type ListProfile struct {
	Bind  string // the binding, "name=value …" sorted
	Runs  int
	Total time.Duration // device time from the first node's start to the last node's end, summed over runs
	Ops   []OpTime      // by Total, largest first
}

type profiler struct {
	spin   driver.Function
	events []driver.Event
	lists  map[string]*listProf
}

type listProf struct {
	runs  int
	total time.Duration
	ops   map[string]*OpTime
}

// spinCycles holds the stream long enough for the host to queue a step.
const spinCycles = 40_000_000

// SetProfile turns the device-time profile on (clearing it) or off. While
// it is on, graphs are not used.
func (b *Backend) SetProfile(on bool) error {
	b.exec.Lock()
	defer b.exec.Unlock()
	b.freeProfile()
	if !on {
		return nil
	}
	spin, err := b.ks.Func("qt_spin")
	if err != nil {
		return err
	}
	b.prof = &profiler{spin: spin, lists: map[string]*listProf{}}
	return nil
}

// freeProfile drops the profiler; the caller holds b.exec.
func (b *Backend) freeProfile() {
	if b.prof == nil {
		return
	}
	for _, e := range b.prof.events {
		b.ctx.DestroyEvent(e)
	}
	b.prof = nil
}

// Profile returns the profile gathered since SetProfile(true), lists by
// device time, largest first. The first run of each binding is left out.
func (b *Backend) Profile() []ListProfile {
	b.exec.Lock()
	defer b.exec.Unlock()
	if b.prof == nil {
		return nil
	}
	var out []ListProfile
	for bind, lp := range b.prof.lists {
		if lp.runs == 0 {
			continue
		}
		p := ListProfile{Bind: bind, Runs: lp.runs, Total: lp.total}
		for _, o := range lp.ops {
			p.Ops = append(p.Ops, *o)
		}
		slices.SortFunc(p.Ops, func(a, b OpTime) int { return int(b.Total - a.Total) })
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b ListProfile) int { return int(b.Total - a.Total) })
	return out
}

// String formats a list profile: per run, the step's device time and
// each op's launches and time.
func (p ListProfile) String() string {
	var s strings.Builder
	n := time.Duration(max(p.Runs, 1))
	var kern time.Duration
	for _, o := range p.Ops {
		kern += o.Total
	}
	fmt.Fprintf(&s, "[%s] %d runs: %v device time per run (nodes %v)\n", p.Bind, p.Runs, p.Total/n, kern/n)
	for _, o := range p.Ops {
		fmt.Fprintf(&s, "  %-16s %5.1f nodes %9.1f µs  %4.1f%%\n", o.Op, float64(o.Launches)/float64(n),
			float64(o.Total/n)/1e3, 100*float64(o.Total)/float64(max(kern, 1)))
	}
	return s.String()
}

// bindString is a binding as a stable key.
func bindString(env *backend.Env) string {
	if env == nil {
		return ""
	}
	var s strings.Builder
	for _, k := range slices.Sorted(maps.Keys(env.Bind)) {
		fmt.Fprintf(&s, "%s=%d ", k, env.Bind[k])
	}
	return strings.TrimSpace(s.String())
}

// executeProfiled runs ls plainly with events around every node; the
// caller holds b.exec.
func (b *Backend) executeProfiled(ctx context.Context, env *backend.Env, ls []backend.Launch) error {
	p := b.prof
	for len(p.events) < 2*len(ls) {
		e, err := b.ctx.NewEvent()
		if err != nil {
			return err
		}
		p.events = append(p.events, e)
	}
	if err := b.ctx.Launch(p.spin, driver.Dim3{X: 1}, driver.Dim3{X: 1}, 0, b.stream, int64(spinCycles)); err != nil {
		return err
	}
	for i := range ls {
		if err := ctx.Err(); err != nil {
			return err
		}
		l := &ls[i]
		if err := b.ctx.Record(p.events[2*i], b.stream); err != nil {
			return err
		}
		if err := l.Kernel.Run(env, l.Ins, l.Out); err != nil {
			return fmt.Errorf("%s: %v: %w", b.name, l.Node, err)
		}
		if err := b.ctx.Record(p.events[2*i+1], b.stream); err != nil {
			return err
		}
	}
	if err := b.ctx.SyncStream(b.stream); err != nil {
		return err
	}
	key := bindString(env)
	lp := p.lists[key]
	if lp == nil {
		// The first run of a binding builds what later runs reuse
		// (cuBLASLt plans and their tuning, scratch buffers): it is not
		// counted.
		p.lists[key] = &listProf{ops: map[string]*OpTime{}}
		return nil
	}
	lp.runs++
	ms := func(a, z driver.Event) time.Duration {
		v, err := b.ctx.Elapsed(a, z)
		if err != nil {
			return 0
		}
		return time.Duration(float64(v) * 1e6)
	}
	lp.total += ms(p.events[0], p.events[2*len(ls)-1])
	for i := range ls {
		op := "?"
		if k, ok := ls[i].Kernel.(interface{ fusedName() string }); ok {
			op = k.fusedName() // a fused group (fuse.go)
		} else if ls[i].Node != nil {
			op = ls[i].Node.Op.String()
		}
		o := lp.ops[op]
		if o == nil {
			o = &OpTime{Op: op}
			lp.ops[op] = o
		}
		o.Launches++
		o.Total += ms(p.events[2*i], p.events[2*i+1])
	}
	return nil
}

// profileFromEnv turns the profile on when RLX_CUDA_PROFILE=1; Close then
// logs it (a diagnostic for runs without a profiler).
func (b *Backend) profileFromEnv() {
	if os.Getenv("RLX_CUDA_PROFILE") != "1" {
		return
	}
	if err := b.SetProfile(true); err != nil {
		slog.Warn("cuda: RLX_CUDA_PROFILE", "err", err)
	}
}

// logProfile writes the profile to the default logger (Close).
func (b *Backend) logProfile() {
	for _, p := range b.Profile() {
		slog.Info("cuda device-time profile\n" + p.String())
	}
}
