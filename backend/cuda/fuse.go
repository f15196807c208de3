package cuda

import (
	"os"
	"strconv"
	"strings"

	"github.com/rlx-go/rlx/backend"
	"github.com/rlx-go/rlx/backend/cuda/driver"
)

// Launch-list fusion for decode steps.
//
// Inside a CUDA graph a decode step still pays the device's latency per
// kernel (~3–6 µs for a small one), and a decoder layer has ~15 of them.
// Before a launch list runs, fuseLaunches replaces runs of consecutive
// launches that it recognises by single launches of fused kernels:
//
//   - RMSNorm followed by the GEMVs of quantized weights that read its output
//     (q/k/v; gate/up) → a gemvq_prepare_norm launch that normalizes the few
//     decode rows and quantizes them to int8 once, and one gemvqp_multi
//     launch whose blocks each take rows of one of the matrices (with
//     RLX_CUDA_GEMV_PREPARE=0, one gemvq_multi launch whose every block
//     normalizes and quantizes the rows itself in its prologue).
//   - … and when the two GEMVs are gate and up and the next launch is the
//     fused SiLU·up chain on their outputs: a warp takes row j of both
//     matrices and writes silu(gate)·up (pair mode).
//   - RMSNorm of q and of k followed by RoPE of each (Qwen3's q_norm and
//     k_norm) → one rmsnorm_rope_f32 launch (or a single norm → RoPE).
//
// Each fused kernel computes its outputs with the same arithmetic in the
// same order as the launches it replaces. Intermediates (the norm's output,
// gate and up) are still written unless the launch list releases them
// inside the group (backend.Launch.Release: no later launch reads them),
// and a group is left alone when a view it writes overlaps one it reads
// (other than a row rewritten in place by the block that reads it), so
// correctness does not depend on the memory plan. The GEMV groups are
// decode-sized (at most gemvInt8Rows activation rows).
//
// Prefill lists (docs/cuda.md, "Prefill fusions"):
//
//   - the q/k norms and RoPEs of more than 4 tokens → one
//     rmsnorm_rope_rows_f32 launch (a warp per head row);
//   - tensor-core GEMMs of one input (q/k/v, gate/up) split it into half
//     terms once (splitGroup), and the RMSNorm or fused chain (silu·up
//     before down) that makes the input writes the terms itself.
//
// The fused list is made once per graph entry (graph.go: the same launch
// slice, binding and memory generation) and is what both the plain path
// and a graph capture run. RLX_CUDA_FUSE=0 turns the pass off (fuseMode).

// Fusions the pass makes (fuseMode, a bit set).
const (
	fuseRoPE      = 1 << iota // RMSNorm → RoPE
	fuseGEMV                  // sibling GEMVs in one launch
	fuseNorm                  // the RMSNorm folded into the GEMVs' prologue
	fuseSiLU                  // gate/up GEMVs + silu(gate)·up
	fuseDep                   // one-for-one: lone RMSNorms as dependent launches, F16/BF16 GEMVs reading their residual
	fuseRoPERows              // RMSNorm → RoPE for more than fuseMaxTokens tokens (prefill)
	fuseSplit                 // consecutive tensor-core GEMMs of one input split it into half terms once
	fuseSplitNorm             // … and the RMSNorm before them writes the terms itself
	fuseAll       = fuseRoPE | fuseGEMV | fuseNorm | fuseSiLU | fuseDep | fuseRoPERows | fuseSplit | fuseSplitNorm
)

// fuseMode is read once from RLX_CUDA_FUSE: unset or "1" fuses
// everything, "0" nothing, else a comma list of rope, gemv, norm, silu,
// dep, roperows (rope for prefill too), split, splitnorm.
var fuseMode = fuseModeOf(os.Getenv("RLX_CUDA_FUSE"))

// fuseRowsScale and fusePairRowsScale multiply the rows per block of the
// fused GEMVs (q/k/v; gate/up pairs) over gemvInt8Shape's choice for each
// matrix alone (the per-row arithmetic does not change): half the blocks,
// each doing twice the rows, made a Qwen3-0.6B layer's fused launches ~8%
// faster and a Llama-3.2-1B one ~2% on an H100 (BenchmarkFuseLayer: 1 vs 2
// vs 4). RLX_CUDA_FUSE_ROWS and RLX_CUDA_FUSE_PAIR_ROWS override them.
var fuseRowsScale, fusePairRowsScale = envInt("RLX_CUDA_FUSE_ROWS", 2), envInt("RLX_CUDA_FUSE_PAIR_ROWS", 2)

// envInt reads a positive integer setting, def when unset or invalid.
func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

func fuseModeOf(v string) int {
	switch v {
	case "", "1", "all":
		return fuseAll
	case "0", "none":
		return 0
	}
	m := 0
	for _, f := range strings.Split(v, ",") {
		switch strings.TrimSpace(f) {
		case "rope":
			m |= fuseRoPE
		case "gemv":
			m |= fuseGEMV
		case "norm":
			m |= fuseNorm | fuseGEMV
		case "silu":
			m |= fuseSiLU | fuseGEMV
		case "dep":
			m |= fuseDep
		case "roperows":
			m |= fuseRoPERows | fuseRoPE
		case "split":
			m |= fuseSplit
		case "splitnorm":
			m |= fuseSplit | fuseSplitNorm
		}
	}
	return m
}

// FuseStats counts the groups the fusion pass made for one launch list.
type FuseStats struct {
	NormGEMV int // RMSNorm + GEMVs (gemvq_multi)
	GateUp   int // of which also SiLU·up (pair mode)
	NormRoPE int // RMSNorm + RoPE (rmsnorm_rope_f32)
	Removed  int // launches saved
	// Relaunched counts launches replaced one for one: a lone RMSNorm
	// launched as a dependent launch, an F16/BF16 GEMV reading its
	// residual in the kernel.
	Relaunched int
	// SplitShared counts groups of tensor-core GEMMs of one input that
	// split it into half terms once (splitGroup), SplitNorm and SplitChain
	// those of them whose RMSNorm or fused chain writes the terms itself,
	// SplitsSaved the split_half launches that saves.
	SplitShared, SplitNorm, SplitChain, SplitsSaved int
}

// fuseLaunches returns the list to run for ls: the entry's fused list,
// made on first use. The caller holds b.exec.
func (b *Backend) fuseLaunches(env *backend.Env, ls []backend.Launch) []backend.Launch {
	if fuseMode == 0 || len(ls) < 2 {
		return ls
	}
	e := b.entry(env, ls)
	if !e.fuseDone {
		e.fused, e.fstats = b.fuseList(ls)
		e.fuseDone = true
	}
	if e.fused == nil {
		return ls
	}
	return e.fused
}

// Fusions sums the fusion pass's groups over the launch lists the backend
// holds now (their graph entries).
func (b *Backend) Fusions() FuseStats {
	b.exec.Lock()
	defer b.exec.Unlock()
	var st FuseStats
	for _, e := range b.graphs {
		st.NormGEMV += e.fstats.NormGEMV
		st.GateUp += e.fstats.GateUp
		st.NormRoPE += e.fstats.NormRoPE
		st.Removed += e.fstats.Removed
		st.Relaunched += e.fstats.Relaunched
		st.SplitShared += e.fstats.SplitShared
		st.SplitNorm += e.fstats.SplitNorm
		st.SplitChain += e.fstats.SplitChain
		st.SplitsSaved += e.fstats.SplitsSaved
	}
	return st
}

// fuseList builds the fused list of ls, or nil when nothing fuses.
func (b *Backend) fuseList(ls []backend.Launch) ([]backend.Launch, FuseStats) {
	var st FuseStats
	out := make([]backend.Launch, 0, len(ls))
	for i := 0; i < len(ls); {
		l, n, pair := b.fuseNormGEMVHalf(ls, i)
		if n == 0 {
			l, n, pair = b.fuseNormGEMV(ls, i)
		}
		if n > 0 {
			out = append(out, l)
			st.NormGEMV++
			if pair {
				st.GateUp++
			}
			st.Removed += n - 1
			i += n
			continue
		}
		if l, n := b.fuseNormRoPE(ls, i); n > 0 {
			out = append(out, l)
			if n > 1 {
				st.NormRoPE++
				st.Removed += n - 1
			} else {
				st.Relaunched++
			}
			i += n
			continue
		}
		if l, n := b.fuseSplit(ls, i); n > 0 {
			out = append(out, l)
			st.SplitShared++
			st.SplitsSaved += n - 1
			switch sg := l.Kernel.(*splitGroup); {
			case sg.norm != nil:
				st.SplitNorm++
			case sg.chain != nil:
				st.SplitChain++
			}
			i += n
			continue
		}
		if l, ok := b.fuseHalfAdd(ls[i]); ok && fuseMode&fuseDep != 0 {
			out = append(out, l)
			st.Relaunched++
			i++
			continue
		}
		if l, ok := b.relaunchNorm(ls[i]); ok && fuseMode&fuseDep != 0 {
			out = append(out, l)
			st.Relaunched++
			i++
			continue
		}
		out = append(out, ls[i])
		i++
	}
	if st.Removed == 0 && st.Relaunched == 0 && st.SplitShared == 0 {
		return nil, st
	}
	return out, st
}

// sameView reports whether two views are the same bytes of one buffer.
func sameView(a, b backend.Tensor) bool {
	return a.Buf != nil && a.Buf == b.Buf && a.Off == b.Off && a.Bytes() == b.Bytes()
}

// overlap reports whether two views share any byte.
func overlap(a, b backend.Tensor) bool {
	if a.Buf == nil || a.Buf != b.Buf {
		return false
	}
	an, bn := a.Bytes(), b.Bytes()
	return an > 0 && bn > 0 && a.Off < b.Off+bn && b.Off < a.Off+an
}

// released reports whether t is released by one of the group's launches:
// no launch after the group reads it.
func released(group []backend.Launch, t backend.Tensor) bool {
	for _, l := range group {
		for _, r := range l.Release {
			if sameView(r, t) {
				return true
			}
		}
	}
	return false
}

// releases is the union of the group's Release lists.
func releases(group []backend.Launch) []backend.Tensor {
	var rs []backend.Tensor
	for _, l := range group {
		rs = append(rs, l.Release...)
	}
	return rs
}

// hazardFree reports whether every written view is disjoint from every
// other written view and from every read view, except that writes[i] may
// be exactly inPlace[i] (a row rewritten by the thread block that reads
// it), when inPlace is given.
func hazardFree(writes, reads []backend.Tensor, inPlace []backend.Tensor) bool {
	for i, w := range writes {
		for j := i + 1; j < len(writes); j++ {
			if overlap(w, writes[j]) {
				return false
			}
		}
		for _, r := range reads {
			if !overlap(w, r) {
				continue
			}
			if inPlace != nil && sameView(w, inPlace[i]) && sameView(r, inPlace[i]) {
				continue
			}
			return false
		}
	}
	return true
}

// normDep is rmsnorm_f32 as the rmsnorm kernel launches it, but launched
// with LaunchDependent.
type normDep struct {
	b          *Backend
	f          driver.Function
	x, w, o    driver.Ptr
	rows, cols int
	threads    int
	eps        float32
}

func (k *normDep) fusedName() string { return "RMSNorm" }

func (k *normDep) Run(*backend.Env, []backend.Tensor, backend.Tensor) error {
	for r0 := 0; r0 < k.rows; r0 += 65535 { // grid.x limit for one launch
		nr := min(k.rows-r0, 65535)
		off := int64(r0) * int64(k.cols) * 4
		if err := k.b.ctx.LaunchDependent(k.f, driver.Dim3{X: nr}, driver.Dim3{X: k.threads}, 0, k.b.stream,
			k.x.Add(off), k.w, k.o.Add(off), k.cols, k.eps); err != nil {
			return err
		}
	}
	return nil
}

// relaunchNorm makes a lone RMSNorm a dependent launch of the same kernel
// with the same arguments (so it overlaps the kernel before it).
func (b *Backend) relaunchNorm(l backend.Launch) (backend.Launch, bool) {
	nk, ok := l.Kernel.(*rmsnorm)
	if !ok || len(l.Ins) < 2 || len(l.Out.Shape) == 0 {
		return backend.Launch{}, false
	}
	cols := l.Out.Shape[len(l.Out.Shape)-1]
	x, xb, err1 := view(l.Ins[0])
	w, wb, err2 := view(l.Ins[1])
	o, ob, err3 := view(l.Out)
	if err1 != nil || err2 != nil || err3 != nil || cols <= 0 || ob == 0 || xb != ob || wb != int64(cols)*4 || ob%(int64(cols)*4) != 0 {
		return backend.Launch{}, false
	}
	l.Kernel = &normDep{b: b, f: nk.f, x: x, w: w, o: o, rows: int(ob / 4 / int64(cols)), cols: cols, threads: threadsFor(cols), eps: nk.eps}
	return l, true
}

// gemvAdd is a decode GEMV of an F16/BF16 weight with an addend (the
// residual), queued as matmul's Run would but with the addend read by the
// GEMV kernel instead of copied into the output first.
type gemvAdd struct {
	b            *Backend
	p            *packed
	w, x, y, add driver.Ptr
	m            int
}

func (k *gemvAdd) fusedName() string { return "MatMul+residual" }

func (k *gemvAdd) Run(*backend.Env, []backend.Tensor, backend.Tensor) error {
	if k.add == k.y {
		return k.b.launchGEMV(k.p, k.w, k.x, k.y, k.m, true)
	}
	return k.b.launchGEMVAdd(k.p, k.w, k.x, k.y, k.add, k.m, false)
}

// fuseHalfAdd replaces a MatMul of an F16/BF16 weight with an addend of the
// output's shape, when matmul's Run would take the GEMV, by a gemvAdd.
func (b *Backend) fuseHalfAdd(l backend.Launch) (backend.Launch, bool) {
	k, ok := l.Kernel.(*matmul)
	if !ok || k.half == nil || !k.add || k.akm || k.bkn || len(l.Ins) < 3 {
		return backend.Launch{}, false
	}
	xs, ws := l.Ins[0].Shape, l.Ins[1].Shape
	if len(xs) < 2 || len(ws) != 2 {
		return backend.Launch{}, false
	}
	m := prod(xs[:len(xs)-1])
	kk, n := xs[len(xs)-1], ws[0]
	p := k.half
	x, _, err1 := view(l.Ins[0])
	w, _, err2 := view(l.Ins[1])
	y, yb, err3 := view(l.Out)
	c, cb, err4 := view(l.Ins[2])
	if err1 != nil || err2 != nil || err3 != nil || err4 != nil || m < 1 || m > gemvUpTo(p.dt) || kk != p.k || n != p.n ||
		kk%32 != 0 || x%16 != 0 || w%16 != 0 || yb != int64(m)*int64(n)*4 || cb != yb ||
		(c != y && c < y+driver.Ptr(yb) && y < c+driver.Ptr(cb)) {
		return backend.Launch{}, false
	}
	l.Kernel = &gemvAdd{b: b, p: p, w: w, x: x, y: y, add: c, m: m}
	return l, true
}

// viewPtr returns a function giving a view's device address that clears
// *ok when the view has none, so a fused launch can take several
// addresses and check once.
func viewPtr(ok *bool) func(backend.Tensor) driver.Ptr {
	return func(t backend.Tensor) driver.Ptr {
		p, _, err := view(t)
		if err != nil {
			*ok = false
		}
		return p
	}
}
