//go:build linux

package kernels

import (
	"os"
	"runtime"
	"testing"

	"github.com/rlx-go/rlx/backend/cpu/cpuinfo"
	"github.com/rlx-go/rlx/tensor"

	"golang.org/x/sys/unix"
)

// threadCPU returns the calling thread's CPU time in nanoseconds.
func threadCPU() int64 {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts); err != nil {
		return 0
	}
	return ts.Nano()
}

// cpuPerOp runs f in batches on one locked thread and returns the smallest
// per-call thread CPU time: on a loaded machine wall-clock benchmarks
// measure the neighbours, thread CPU time mostly measures us.
func cpuPerOp(f func(), batch, rounds int) float64 {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	f()
	best := 0.0
	for r := range rounds {
		t0 := threadCPU()
		for range batch {
			f()
		}
		d := float64(threadCPU()-t0) / float64(batch)
		if r == 0 || d < best {
			best = d
		}
	}
	return best
}

// TestCPUTime prints thread-CPU costs of the hot kernels (serial). It is a
// measuring tool for noisy machines, run with RLX_CPUTIME=1.
func TestCPUTime(t *testing.T) {
	if os.Getenv("RLX_CPUTIME") == "" {
		t.Skip("set RLX_CPUTIME=1")
	}
	for _, ctx := range []int{512, 4096} {
		for _, f16 := range []bool{true, false} {
			c := attnCase{B: 1, Hq: 32, Hkv: 8, Tq: 1, Tk: ctx, D: 64, Past: ctx - 1, Causal: true, F16: f16}
			a, _ := c.build(rng(1))
			ns := cpuPerOp(func() { _ = a.Run(nil) }, 20, 7)
			t.Logf("attention decode llama1b ctx=%d f16=%v: %.0f ns", ctx, f16, ns)
		}
	}
	for _, ctx := range []int{512, 4096} {
		c := attnCase{B: 1, Hq: 16, Hkv: 8, Tq: 1, Tk: ctx, D: 128, Past: ctx - 1, Causal: true, F16: true}
		a, _ := c.build(rng(1))
		t.Logf("attention decode qwen3-0.6b ctx=%d f16: %.0f ns", ctx, cpuPerOp(func() { _ = a.Run(nil) }, 20, 7))
	}
	x, w, bb := randSlice(rng(1), 64*768, 1), randSlice(rng(2), 768, 1), randSlice(rng(3), 768, 1)
	y := make([]float32, len(x))
	for _, l := range levels() {
		setLevel(l)
		t.Logf("%v layernorm 64x768: %.0f ns", l, cpuPerOp(func() { LayerNorm(y, x, w, bb, 768, 1e-5) }, 100, 7))
		t.Logf("%v rmsnorm 64x768: %.0f ns", l, cpuPerOp(func() { RMSNorm(y, x, w, 768, 1e-5, false) }, 100, 7))
		t.Logf("%v silu*b 49152: %.0f ns", l, cpuPerOp(func() { SiLUMul(y, x, x) }, 100, 7))
		t.Logf("%v exp 49152: %.0f ns", l, cpuPerOp(func() { Unary(Exp, y, x) }, 100, 7))
		t.Logf("%v add 49152: %.0f ns", l, cpuPerOp(func() { Binary(Add, y, x, x) }, 100, 7))
	}
	setLevel(cpuinfo.Active)
	logits := randSlice(rng(4), 151936, 1)
	id := make([]int32, 1)
	t.Logf("ArgMax 151936: %.0f ns (scalar %.0f ns)", cpuPerOp(func() { ArgMax(id, logits, len(logits)) }, 20, 7),
		cpuPerOp(func() { argmaxGo(logits) }, 20, 7))
	h := make([]uint16, len(x))
	t.Logf("F32ToF16 49152: %.0f ns", cpuPerOp(func() { F32ToF16(h, x) }, 100, 7))
	t.Logf("tensor.F32ToF16 loop 49152: %.0f ns", cpuPerOp(func() {
		for i, v := range x {
			h[i] = tensor.F32ToF16(v)
		}
	}, 100, 7))
	c := attnCase{B: 1, Hq: 16, Hkv: 8, Tq: 128, Tk: 128, D: 128, Causal: true}
	a, _ := c.build(rng(1))
	t.Logf("attention prefill qwen3-0.6b T=128: %.0f ns", cpuPerOp(func() { _ = a.Run(nil) }, 5, 7))
}
