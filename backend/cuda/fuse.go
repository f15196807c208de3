package cuda

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"

	"github.com/rlx-go/rlx/backend"
	"github.com/rlx-go/rlx/backend/cuda/driver"
	"github.com/rlx-go/rlx/ir"
	"github.com/rlx-go/rlx/tensor"
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

// fuseMaxTokens is the most tokens (batch × tokens) of q/k that the norm
// and RoPE fusion runs with rmsnorm_rope_f32 (a block per head row, the
// decode kernel); more go to rmsnorm_rope_rows_f32 when the head size is at
// most normRoPERowsMaxD (fuseRoPERows), else to rmsnorm_rope_f32 too.
const fuseMaxTokens = 4

// rmsnorm_rope_rows_f32's launch: kernels/rope.cu's NR_MAXD, NR_WARPS·32
// threads and NR_MAXTPB tokens per block at most.
const (
	normRoPERowsMaxD    = 256
	normRoPERowsThreads = 256
	normRoPERowsMaxTPB  = 8
)

// normRoPETokensPerBlock is how many tokens a block of rmsnorm_rope_rows_f32
// takes, for rowsPerToken head rows (q's and k's) of each: enough for about
// two rows per warp (Qwen3-0.6B's 24 heads: one token a block; a single
// 2-head side: 8), within the kernel's (cos, sin) table of
// normRoPERowsMaxTPB·128 pairs.
func normRoPETokensPerBlock(rowsPerToken, pairs int) int {
	tpb := (2*normRoPERowsThreads/32 + rowsPerToken - 1) / max(rowsPerToken, 1)
	tpb = min(max(tpb, 1), normRoPERowsMaxTPB)
	for tpb > 1 && tpb*pairs > normRoPERowsMaxTPB*normRoPERowsMaxD/2 {
		tpb--
	}
	return tpb
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

// qiTypes are quant.cu's QT_* codes of the int8 GEMV's weight types.
var qiTypes = map[tensor.DType]int{tensor.Q8_0: 2, tensor.Q4_0: 3, tensor.Q4_K: 4, tensor.Q5_K: 5, tensor.Q6_K: 6}

const (
	qmSegs     = 3   // QM_SEGS in quant.cu
	qmSegSize  = 48  // sizeof(QMSeg)
	qmArgsSize = 192 // sizeof(QMArgs)
)

// multiGEMV is a gemvq_multi launch with its arguments encoded once, after
// a gemvq_prepare_norm launch when prep is set (gemvqp_multi*).
type multiGEMV struct {
	name     string // for the profile
	b        *Backend
	f        driver.Function
	args     []byte
	blocks   int
	shared   int
	prep     driver.Function
	prepRows int
	prepArgs []any
}

func (k *multiGEMV) fusedName() string { return k.name }

func (k *multiGEMV) Run(*backend.Env, []backend.Tensor, backend.Tensor) error {
	if k.prep != 0 {
		if err := k.b.ctx.LaunchDependent(k.prep, driver.Dim3{X: k.prepRows}, driver.Dim3{X: 256}, 0, k.b.stream, k.prepArgs...); err != nil {
			return err
		}
	}
	return k.b.ctx.LaunchDependent(k.f, driver.Dim3{X: k.blocks}, driver.Dim3{X: 256}, k.shared, k.b.stream, k.args)
}

// isSiluMul reports whether a fused chain is silu(in0)·in1.
func isSiluMul(n *ir.Node) bool {
	at, ok := n.Attr.(*ir.FusedAttr)
	if !ok || len(n.Inputs) != 2 || len(at.Code) != 2 {
		return false
	}
	a, m := at.Code[0], at.Code[1]
	return a.Op == ir.OpSilu && len(a.Args) == 1 && a.Args[0] == 0 &&
		m.Op == ir.OpMul && len(m.Args) == 2 && (m.Args[0] == 2 && m.Args[1] == 1 || m.Args[0] == 1 && m.Args[1] == 2)
}

// fuseNormGEMV matches RMSNorm at ls[i] followed by 1–3 int8 GEMVs of its
// output, or 2–3 such GEMVs of one input at ls[i] (and, for two of them,
// the SiLU·up chain on their outputs). It returns the fused launch, how
// many launches it replaces (0: none) and whether it is gate/up pair mode.
func (b *Backend) fuseNormGEMV(ls []backend.Launch, i int) (backend.Launch, int, bool) {
	if fuseMode&fuseGEMV == 0 {
		return backend.Launch{}, 0, false
	}
	head := func(l backend.Launch) (int, bool) {
		dk, ok := l.Kernel.(*dequantMatMul)
		if !ok {
			return 0, false
		}
		return dk.p.k, true
	}
	seg := func(l backend.Launch, xv backend.Tensor, k, m int) (*packed, bool) {
		dk, ok := l.Kernel.(*dequantMatMul)
		// gemvq_multi's static shared memory (≈2 KiB) comes on top of the
		// quantized rows.
		if !ok || m > gemvInt8Rows || m > 4 || int8Shared(m, k)+4096 > gemvInt8Shared ||
			dk.add || dk.p.gemvQ == 0 || dk.p.k != k || !sameView(l.Ins[0], xv) ||
			m > gemvUpTo(dk.p.dt) || l.Out.Bytes() != int64(m)*int64(dk.p.n)*4 || qiTypes[dk.p.dt] == 0 {
			return nil, false
		}
		return dk.p, true
	}
	g, ok := matchGEMVGroup(ls, i, qmSegs, head, seg, func(p *packed) (tensor.DType, int) { return p.dt, p.n })
	if !ok || g.px%16 != 0 || g.pnw%16 != 0 || g.pxn%16 != 0 {
		return backend.Launch{}, 0, false
	}
	segs, group, m, k, pair := g.segs, g.group, g.m, g.k, g.pact != 0
	prepared := gemvPrepare && b.xq != 0
	f, err := b.ks.Func(gemvMultiName(m, prepared))
	if err != nil {
		return backend.Launch{}, 0, false
	}
	args := make([]byte, qmArgsSize)
	le := binary.LittleEndian
	blocks := 0
	for s, p := range segs {
		wpr, rpb := gemvMultiShape(p.dt, p.n, p.k, pair, prepared)
		o := s * qmSegSize
		le.PutUint64(args[o:], uint64(p.w))
		le.PutUint64(args[o+8:], uint64(p.aux))
		le.PutUint64(args[o+16:], uint64(g.ys[s]))
		le.PutUint32(args[o+24:], uint32(p.n))
		le.PutUint32(args[o+28:], uint32(qiTypes[p.dt]))
		le.PutUint32(args[o+32:], uint32(rpb))
		le.PutUint32(args[o+36:], uint32(wpr))
		le.PutUint32(args[o+40:], uint32(blocks))
		nb := (p.n + rpb - 1) / rpb
		if !pair {
			blocks += nb
		} else if s == 0 {
			blocks = nb
		}
	}
	le.PutUint64(args[144:], uint64(g.px))
	le.PutUint64(args[152:], uint64(g.pnw))
	le.PutUint64(args[160:], uint64(g.pxn))
	le.PutUint64(args[168:], uint64(g.pact))
	le.PutUint32(args[176:], uint32(len(segs)))
	le.PutUint32(args[180:], uint32(m))
	le.PutUint32(args[184:], uint32(k))
	le.PutUint32(args[188:], math.Float32bits(g.eps))
	kern := &multiGEMV{b: b, f: f, args: args, blocks: blocks, shared: int8Shared(m, k), name: g.name()}
	if prepared {
		// The norm and the quantization run once, in their own launch; the
		// GEMVs read its output from b.xq.
		kern.prep, err = b.ks.Func("gemvq_prepare_norm")
		if err != nil {
			return backend.Launch{}, 0, false
		}
		kern.prepRows = m
		kern.prepArgs = []any{g.px, g.pnw, g.pxn, g.eps, b.xq, b.xq + driver.Ptr(m*k), m, k}
		le.PutUint64(args[144:], uint64(b.xq))
		le.PutUint64(args[152:], 0)
		le.PutUint64(args[160:], 0)
		kern.shared = 0
	}
	first, last := group[0], group[len(group)-1]
	return backend.Launch{Node: first.Node, Kernel: kern, Ins: first.Ins, Out: last.Out, Release: releases(group)}, len(group), pair
}

// normRoPE is an rmsnorm_rope_f32 launch with its arguments made once.
type normRoPE struct {
	name    string // for the profile
	b       *Backend
	f       driver.Function
	blocks  int
	threads int
	args    []any
}

func (k *normRoPE) fusedName() string { return k.name }

func (k *normRoPE) Run(*backend.Env, []backend.Tensor, backend.Tensor) error {
	return k.b.ctx.LaunchDependent(k.f, driver.Dim3{X: k.blocks}, driver.Dim3{X: k.threads}, 0, k.b.stream, k.args...)
}

// normRoPESide is one tensor of a norm → RoPE pair; norm is nil for a
// RoPE alone.
type normRoPESide struct {
	norm *backend.Launch
	rope backend.Launch
	eps  float32
}

// fuseNormRoPE matches up to two RMSNorms followed by up to two RoPEs, each
// norm feeding one of the RoPEs (Qwen3's q and k: norm, norm, RoPE, RoPE;
// Llama's q and k: RoPE, RoPE; or one norm → RoPE), at ls[i], and makes
// them one rmsnorm_rope_f32 launch (for a single RoPE alone, a dependent
// launch of the same work).
func (b *Backend) fuseNormRoPE(ls []backend.Launch, i int) (backend.Launch, int) {
	if fuseMode&fuseRoPE == 0 {
		return backend.Launch{}, 0
	}
	j := i
	var norms []int
	for j < len(ls) && len(norms) < 2 {
		if _, ok := ls[j].Kernel.(*rmsnorm); !ok || len(ls[j].Ins) < 2 {
			break
		}
		norms = append(norms, j)
		j++
	}
	var ropes []int
	for j < len(ls) && len(ropes) < 2 {
		if _, ok := ls[j].Kernel.(*rope); !ok || len(ls[j].Ins) < 3 {
			break
		}
		ropes = append(ropes, j)
		j++
	}
	if len(ropes) == 0 {
		return backend.Launch{}, 0
	}
	used := make([]bool, len(norms))
	var sides []normRoPESide
	for _, r := range ropes {
		sd := normRoPESide{rope: ls[r]}
		for ni, n := range norms {
			if !used[ni] && sameView(ls[r].Ins[0], ls[n].Out) {
				sd.norm, sd.eps, used[ni] = &ls[n], ls[n].Kernel.(*rmsnorm).eps, true
				break
			}
		}
		sides = append(sides, sd)
	}
	for _, u := range used {
		if !u { // a norm that feeds something else
			return backend.Launch{}, 0
		}
	}
	r0 := sides[0].rope
	at := r0.Kernel.(*rope).at
	rsh := r0.Out.Shape
	if len(rsh) != 4 || len(r0.Ins[1].Shape) == 0 || len(r0.Ins[1].Shape) > 2 {
		return backend.Launch{}, 0
	}
	d := rsh[3]
	tokens := rsh[0] * rsh[1]
	if d <= 0 || d > 1024 || at.RotaryDim <= 0 || at.RotaryDim > d || at.RotaryDim%2 != 0 || tokens < 1 ||
		(tokens > fuseMaxTokens && fuseMode&fuseRoPERows == 0) {
		return backend.Launch{}, 0
	}
	var reads, writes, inPlace []backend.Tensor
	reads = append(reads, r0.Ins[1], r0.Ins[2])
	for _, s := range sides {
		rs := s.rope.Out.Shape
		ra := s.rope.Kernel.(*rope).at
		if ra != at || len(rs) != 4 || rs[0] != rsh[0] || rs[1] != rsh[1] || rs[3] != d ||
			!sameView(s.rope.Ins[1], r0.Ins[1]) || !sameView(s.rope.Ins[2], r0.Ins[2]) ||
			s.rope.Ins[0].Bytes() != s.rope.Out.Bytes() || s.rope.Ins[1].DType != r0.Ins[1].DType {
			return backend.Launch{}, 0
		}
		if s.norm != nil {
			if s.norm.Ins[0].Bytes() != s.norm.Out.Bytes() || s.norm.Ins[1].Bytes() != int64(d)*4 {
				return backend.Launch{}, 0
			}
			reads = append(reads, s.norm.Ins[0], s.norm.Ins[1])
		} else {
			reads = append(reads, s.rope.Ins[0])
		}
	}
	n := j - i
	group := ls[i:j]
	writeXN := make([]bool, len(sides))
	for si, s := range sides {
		src := s.rope.Ins[0] // the row the block reads
		if s.norm != nil {
			src = s.norm.Ins[0]
		}
		writes = append(writes, s.rope.Out)
		inPlace = append(inPlace, src)
		if s.norm == nil {
			continue
		}
		// The norm's output, unless dead or the RoPE overwrites it anyway.
		writeXN[si] = !released(group, s.norm.Out) && !sameView(s.norm.Out, s.rope.Out)
		if writeXN[si] {
			writes = append(writes, s.norm.Out)
			inPlace = append(inPlace, src)
		} else if overlap(s.norm.Out, s.rope.Out) && !sameView(s.norm.Out, s.rope.Out) {
			return backend.Launch{}, 0
		}
	}
	if !hazardFree(writes, reads, inPlace) {
		return backend.Launch{}, 0
	}
	ok := true
	ptr := viewPtr(&ok)
	le := binary.LittleEndian
	enc := func(si int) ([]byte, int64, float32) {
		buf := make([]byte, 48)
		if si >= len(sides) {
			le.PutUint64(buf[40:], 1)
			return buf, 0, 0
		}
		s := sides[si]
		rs := s.rope.Out.Shape
		if s.norm == nil {
			le.PutUint64(buf[0:], uint64(ptr(s.rope.Ins[0])))
		} else {
			le.PutUint64(buf[0:], uint64(ptr(s.norm.Ins[0])))
			le.PutUint64(buf[8:], uint64(ptr(s.norm.Ins[1])))
		}
		if writeXN[si] {
			le.PutUint64(buf[16:], uint64(ptr(s.norm.Out)))
		}
		le.PutUint64(buf[24:], uint64(ptr(s.rope.Out)))
		rows := int64(rs[0]) * int64(rs[1]) * int64(rs[2])
		le.PutUint64(buf[32:], uint64(rows))
		le.PutUint64(buf[40:], uint64(rs[2]))
		return buf, rows, s.eps
	}
	qa, qrows, qeps := enc(0)
	ka, krows, keps := enc(1)
	pos, inv := ptr(r0.Ins[1]), ptr(r0.Ins[2])
	if !ok || qrows+krows > math.MaxInt32 {
		return backend.Launch{}, 0
	}
	f, err := b.ks.Func("rmsnorm_rope_f32")
	if err != nil {
		return backend.Launch{}, 0
	}
	posRows := int64(0)
	if ps := r0.Ins[1].Shape; len(ps) == 2 {
		posRows = int64(ps[0])
	}
	pos64, inter := 0, 0
	if r0.Ins[1].DType == tensor.I64 {
		pos64 = 1
	}
	if at.Layout == ir.RoPEInterleaved {
		inter = 1
	}
	name := fmt.Sprintf("RoPE×%d", len(sides))
	if len(norms) > 0 {
		name = fmt.Sprintf("RMSNorm×%d+%s", len(norms), name)
	}
	kern := &normRoPE{name: name, b: b, f: f, blocks: int(qrows + krows), threads: threadsFor(d),
		args: []any{qa, ka, pos, pos64, posRows, inv, int64(rsh[1]), d, at.RotaryDim, inter, float32(at.Scale), qeps, keps}}
	if tokens > fuseMaxTokens && d <= normRoPERowsMaxD {
		// Prefill: a warp per row, a block per few tokens sharing the
		// (cos, sin) of each pair across heads.
		if f, err = b.ks.Func("rmsnorm_rope_rows_f32"); err != nil {
			return backend.Launch{}, 0
		}
		tpb := normRoPETokensPerBlock(int(qrows+krows)/tokens, at.RotaryDim/2)
		kern.f, kern.threads, kern.blocks = f, normRoPERowsThreads, (tokens+tpb-1)/tpb
		kern.args = []any{qa, ka, pos, pos64, posRows, inv, int64(rsh[1]), int64(tokens), tpb, d, at.RotaryDim, inter,
			float32(at.Scale), qeps, keps}
	}
	first, last := group[0], group[len(group)-1]
	return backend.Launch{Node: first.Node, Kernel: kern, Ins: first.Ins, Out: last.Out, Release: releases(group)}, n
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

// siluMulOf reports whether ls[j] is the chain silu(gate)·up over the two
// GEMV outputs outs (fuseSiLU on): its output, and whether outs[1] is the
// gate.
func siluMulOf(ls []backend.Launch, j int, outs []backend.Tensor) (act *backend.Tensor, swap bool) {
	if fuseMode&fuseSiLU == 0 || len(outs) != 2 || j >= len(ls) {
		return nil, false
	}
	l := ls[j]
	if _, ok := l.Kernel.(*fused); !ok || !isSiluMul(l.Node) || len(l.Ins) != 2 || l.Out.Bytes() != outs[0].Bytes() {
		return nil, false
	}
	switch {
	case sameView(l.Ins[0], outs[0]) && sameView(l.Ins[1], outs[1]):
		return &ls[j].Out, false
	case sameView(l.Ins[0], outs[1]) && sameView(l.Ins[1], outs[0]):
		return &ls[j].Out, true
	}
	return nil, false
}

// groupWrites decides what a fused norm+GEMV group stores: the normalized
// rows xv unless no later launch reads them, each GEMV output unless pair
// mode makes it dead, and act; ok is false when a write could overlap
// another write or a read.
func groupWrites(group []backend.Launch, norm *backend.Launch, xv backend.Tensor, outs []backend.Tensor, act *backend.Tensor) (writeXN bool, writeOut []bool, ok bool) {
	reads := []backend.Tensor{xv}
	var writes []backend.Tensor
	if norm != nil {
		reads = []backend.Tensor{norm.Ins[0], norm.Ins[1]}
		writeXN = !released(group, xv)
		if writeXN {
			writes = append(writes, xv)
		}
	}
	writeOut = make([]bool, len(outs))
	for s, o := range outs {
		writeOut[s] = act == nil || !released(group, o)
		if writeOut[s] {
			writes = append(writes, o)
		}
	}
	if act != nil {
		writes = append(writes, *act)
	}
	return writeXN, writeOut, hazardFree(writes, reads, nil)
}

// halfGEMVOf returns the weight (as the launch reads it) and the packed
// layout of l when it is an F16/BF16 MatMul without addend that
// matmul.Run sends to gemvh_* for m rows of the k activations xv.
func halfGEMVOf(l backend.Launch, xv backend.Tensor, k, m int) (driver.Ptr, *packed, bool) {
	mk, ok := l.Kernel.(*matmul)
	if !ok || mk.half == nil || mk.add || mk.akm || mk.bkn || len(l.Ins) < 2 || !sameView(l.Ins[0], xv) {
		return 0, nil, false
	}
	p := mk.half
	xs, ws := l.Ins[0].Shape, l.Ins[1].Shape
	if len(ws) != 2 || len(xs) < 2 || xs[len(xs)-1] != k || ws[0] != p.n || ws[1] != k || p.k != k ||
		prod(xs[:len(xs)-1]) != m || m > gemvUpTo(p.dt) || k%32 != 0 || p.gemvH == 0 || !gemvHalfOK(p.dt, k, m) ||
		l.Out.Bytes() != int64(m)*int64(p.n)*4 {
		return 0, nil, false
	}
	w, _, err := view(l.Ins[1])
	if err != nil || w%16 != 0 {
		return 0, nil, false
	}
	return w, p, true
}

// halfMulti is a gemvh_* launch with its arguments encoded once.
type halfMulti struct {
	name string // for the profile
	b    *Backend
	f    driver.Function
	l    hmLaunch
}

func (k *halfMulti) fusedName() string { return k.name }

func (k *halfMulti) Run(*backend.Env, []backend.Tensor, backend.Tensor) error {
	return k.b.ctx.LaunchDependent(k.f, driver.Dim3{X: k.l.blocks}, driver.Dim3{X: hmThreads}, 0, k.b.stream, k.l.args)
}

// fuseNormGEMVHalf is fuseNormGEMV for F16/BF16 weights (gemvh_*):
// RMSNorm at ls[i] followed by 1–3 GEMVs of its output (and, for two of
// them, the SiLU·up chain), or 2–3 such GEMVs of one input at ls[i].
func (b *Backend) fuseNormGEMVHalf(ls []backend.Launch, i int) (backend.Launch, int, bool) {
	if fuseMode&fuseGEMV == 0 || !gemvHalf {
		return backend.Launch{}, 0, false
	}
	head := func(l backend.Launch) (int, bool) {
		if _, ok := l.Kernel.(*matmul); !ok || len(l.Ins[0].Shape) == 0 {
			return 0, false
		}
		return l.Ins[0].Shape[len(l.Ins[0].Shape)-1], true
	}
	seg := func(l backend.Launch, xv backend.Tensor, k, m int) (hmSeg, bool) {
		w, p, ok := halfGEMVOf(l, xv, k, m)
		if !ok {
			return hmSeg{}, false
		}
		return hmSeg{w: w, n: p.n, dt: p.dt}, true
	}
	g, ok := matchGEMVGroup(ls, i, hmSegs, head, seg, func(s hmSeg) (tensor.DType, int) { return s.dt, s.n })
	if !ok || g.px%16 != 0 || g.pnw%16 != 0 {
		return backend.Launch{}, 0, false
	}
	f, err := b.ks.Func(gemvHalfName(g.m, g.pact != 0, g.pnw != 0))
	if err != nil {
		return backend.Launch{}, 0, false
	}
	for s := range g.segs {
		g.segs[s].y = g.ys[s]
	}
	kern := &halfMulti{name: g.name(), b: b, f: f, l: encodeHM(g.segs, g.px, g.pnw, g.pxn, g.pact, 0, g.m, g.k, g.eps, false)}
	first, last := g.group[0], g.group[len(g.group)-1]
	return backend.Launch{Node: first.Node, Kernel: kern, Ins: first.Ins, Out: last.Out, Release: releases(g.group)}, len(g.group), g.pact != 0
}

// gemvGroup is a run of launches that fuseNormGEMV and fuseNormGEMVHalf
// make one launch of: an optional RMSNorm, the 1–3 decode GEMVs of its
// output (2–3 of one input without it) and, for two GEMVs of one type and
// height, the SiLU·up chain on their outputs; with the device addresses
// the fused launch takes.
type gemvGroup[S any] struct {
	group []backend.Launch
	norm  bool
	eps   float32 // the norm's
	k, m  int     // m activation rows of k
	segs  []S
	ys    []driver.Ptr // the GEMVs' outputs; 0 where nothing reads one (pair mode)
	// The input, the norm's weight and the normalized rows (0: not stored),
	// and silu(gate)·up (0: not pair mode).
	px, pnw, pxn, pact driver.Ptr
}

// name is the group's name in the device-time profile.
func (g gemvGroup[S]) name() string {
	name := fmt.Sprintf("GEMV×%d", len(g.segs))
	if g.pact != 0 {
		name = "GEMV×2+SiLU·up"
	}
	if g.norm {
		name = "RMSNorm+" + name
	}
	return name
}

// matchGEMVGroup matches a gemvGroup at ls[i]. head reports whether a
// launch without a norm before it may start a group, and its k; seg
// returns a launch's segment when it is a GEMV of the group's m rows of k
// activations xv; shape gives a segment's type and height (pair mode needs
// both equal). It fails when the group would read what it writes.
func matchGEMVGroup[S any](ls []backend.Launch, i, maxSegs int, head func(backend.Launch) (int, bool),
	seg func(l backend.Launch, xv backend.Tensor, k, m int) (S, bool), shape func(S) (tensor.DType, int)) (gemvGroup[S], bool) {
	var g gemvGroup[S]
	var norm *backend.Launch
	var xv backend.Tensor // the GEMVs' input
	j := i
	if r, ok := ls[i].Kernel.(*rmsnorm); ok && fuseMode&fuseNorm != 0 && len(ls[i].Ins) >= 2 && len(ls[i].Out.Shape) > 0 {
		norm, xv, j, g.eps = &ls[i], ls[i].Out, i+1, r.eps
		g.k = xv.Shape[len(xv.Shape)-1]
		if ls[i].Ins[0].Bytes() != xv.Bytes() || ls[i].Ins[1].Bytes() != int64(g.k)*4 {
			return g, false
		}
	} else if k, ok := head(ls[i]); ok && len(ls[i].Ins) >= 2 {
		xv, g.k = ls[i].Ins[0], k
	} else {
		return g, false
	}
	if g.k <= 0 || xv.Bytes()%(int64(g.k)*4) != 0 {
		return g, false
	}
	if g.m = int(xv.Bytes() / 4 / int64(g.k)); g.m < 1 {
		return g, false
	}
	var outs []backend.Tensor
	for ; j < len(ls) && len(g.segs) < maxSegs && len(ls[j].Ins) >= 2; j++ {
		sg, ok := seg(ls[j], xv, g.k, g.m)
		if !ok {
			break
		}
		g.segs = append(g.segs, sg)
		outs = append(outs, ls[j].Out)
	}
	var act *backend.Tensor
	if len(g.segs) == 2 {
		dt0, n0 := shape(g.segs[0])
		dt1, n1 := shape(g.segs[1])
		var swap bool
		if dt0 == dt1 && n0 == n1 {
			act, swap = siluMulOf(ls, j, outs)
		}
		if act != nil {
			if swap {
				g.segs[0], g.segs[1] = g.segs[1], g.segs[0]
				outs[0], outs[1] = outs[1], outs[0]
			}
			j++
		}
	}
	if len(g.segs) == 0 || (norm == nil && len(g.segs) < 2) {
		return g, false
	}
	g.group, g.norm = ls[i:j], norm != nil
	writeXN, writeOut, ok := groupWrites(g.group, norm, xv, outs, act)
	if !ok {
		return g, false
	}
	ptr := viewPtr(&ok)
	if norm != nil {
		g.px, g.pnw = ptr(norm.Ins[0]), ptr(norm.Ins[1])
		if writeXN {
			g.pxn = ptr(xv)
		}
	} else {
		g.px = ptr(xv)
	}
	if act != nil {
		g.pact = ptr(*act)
	}
	g.ys = make([]driver.Ptr, len(outs))
	for s, o := range outs {
		if writeOut[s] {
			g.ys[s] = ptr(o)
		}
	}
	return g, ok
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

// splitGroup runs consecutive tensor-core GEMM launches that read the same
// activations (q/k/v, gate/up in a prefill) as they would run alone, except
// that the activations are split into half terms (split_half) once and the
// GEMMs reuse the terms (Backend.splitHalf under scr.share): the same terms,
// so the same bits. With norm or chain, the RMSNorm (rmsnorm_split_f32) or
// the fused elementwise chain (fused_split, e.g. silu(gate)·up before the
// down projection) that made the activations is part of the group and
// writes the terms itself.
type splitGroup struct {
	b       *Backend
	members []backend.Launch
	x       driver.Ptr
	n       int64
	parts   int
	bf16    bool
	norm    *splitNorm
	chain   *splitChain
}

// splitNorm is the RMSNorm of a splitGroup: rmsnorm_f32's arguments, the
// output o only when something after the group reads it (else 0).
type splitNorm struct {
	x, w, o    driver.Ptr
	xn         driver.Ptr // the norm's output view, written anyway if a member would read it
	rows, cols int
	threads    int
	eps        float32
}

// splitChain is the fused chain of a splitGroup: its launch, and whether
// something after the group reads its output.
type splitChain struct {
	k     *fused
	ins   []backend.Tensor
	out   backend.Tensor
	write bool
}

func (k *splitGroup) fusedName() string {
	name := fmt.Sprintf("MatMul×%d (one split)", len(k.members))
	switch {
	case k.norm != nil:
		name = "RMSNorm+" + name
	case k.chain != nil:
		name = "Fused+" + name
	}
	return name
}

func (k *splitGroup) Run(env *backend.Env, _ []backend.Tensor, _ backend.Tensor) error {
	if err := k.start(); err != nil {
		return err
	}
	defer func() {
		k.b.scr.mu.Lock()
		k.b.scr.share = nil
		k.b.scr.mu.Unlock()
	}()
	for _, l := range k.members {
		if err := l.Kernel.Run(env, l.Ins, l.Out); err != nil {
			return err
		}
	}
	return nil
}

// start sets the share the members' splitHalf calls see, after queueing
// the norm or chain with the split folded in when the group has one.
func (k *splitGroup) start() error {
	b := k.b
	b.scr.mu.Lock()
	defer b.scr.mu.Unlock()
	sh := &splitShare{x: k.x, n: k.n, parts: k.parts, bf16: k.bf16}
	if k.norm == nil && k.chain == nil {
		b.scr.share = sh
		return nil
	}
	stride := (2*k.n + 255) &^ 255 // as splitHalf lays the terms out
	out, err := b.grow(&b.scr.xs, stride*int64(k.parts))
	if err != nil {
		return err
	}
	bf := 0
	if k.bf16 {
		bf = 1
	}
	// The GEMV-or-GEMM choice is made again in each member's Run
	// (SetGEMVUpTo may have moved since the list was fused): a member
	// that would read the activations gets them.
	allSplit := true
	for _, l := range k.members {
		if _, _, ok := b.halfSplitOf(l); !ok {
			allSplit = false
		}
	}
	if c := k.chain; c != nil {
		o, n, args, err := c.k.launchArgs(c.ins, c.out)
		if err != nil {
			return err
		}
		if n != k.n {
			return fmt.Errorf("cuda: fused chain of %d values before GEMMs of %d", n, k.n)
		}
		if !c.write && allSplit {
			o = 0
		}
		if err := b.ctx.LaunchDependent(c.k.fsplit, grid(n), driver.Dim3{X: 256}, 0, b.stream, o, args, out, stride/2, k.parts, bf); err != nil {
			return err
		}
	} else {
		nm := k.norm
		f, err := b.ks.Func("rmsnorm_split_f32")
		if err != nil {
			return err
		}
		base := nm.o
		if base == 0 && !allSplit {
			base = nm.xn
		}
		for r0 := 0; r0 < nm.rows; r0 += 65535 { // grid.x limit for one launch, as rmsnorm
			nr := min(nm.rows-r0, 65535)
			off := int64(r0) * int64(nm.cols)
			o := base
			if o != 0 {
				o = o.Add(off * 4)
			}
			if err := b.ctx.LaunchDependent(f, driver.Dim3{X: nr}, driver.Dim3{X: nm.threads}, 0, b.stream,
				nm.x.Add(off*4), nm.w, o, out.Add(off*2), nm.cols, nm.eps, stride/2, k.parts, bf); err != nil {
				return err
			}
		}
	}
	sh.out, sh.stride, sh.done = out, stride, true
	b.scr.share = sh
	return nil
}

// halfSplitOf reports whether l is a GEMM whose Run splits its activations
// l.Ins[0] into half terms for the tensor cores (an F16/BF16 MatMul or a
// DequantMatMul of more rows than the GEMV takes, in the [M, K]·[N, K]ᵀ
// layout of a Linear), and into how many terms of which type.
func (b *Backend) halfSplitOf(l backend.Launch) (parts int, bf16, ok bool) {
	if len(l.Ins) < 2 || len(l.Ins[0].Shape) == 0 || l.Ins[0].DType != tensor.F32 {
		return 0, false, false
	}
	var p *packed
	switch k := l.Kernel.(type) {
	case *matmul:
		if k.half == nil || k.akm || k.bkn || len(l.Ins[1].Shape) != 2 {
			return 0, false, false
		}
		p = k.half
	case *dequantMatMul:
		p = k.p
	default:
		return 0, false, false
	}
	xs := l.Ins[0].Shape
	if xs[len(xs)-1] != p.k || prod(xs[:len(xs)-1]) <= gemvUpTo(p.dt) {
		return 0, false, false
	}
	return b.halfParts(p.dt), p.dt == tensor.BF16, true
}

// fuseSplit matches, at ls[i], consecutive GEMMs that split the same
// activations the same way (halfSplitOf) and write nothing over them —
// two or more, or one or more after the RMSNorm or fused chain that makes
// the activations (fuseSplitNorm) — and makes them one splitGroup. It returns the launch
// and how many it replaces (0: none).
func (b *Backend) fuseSplit(ls []backend.Launch, i int) (backend.Launch, int) {
	if fuseMode&fuseSplit == 0 {
		return backend.Launch{}, 0
	}
	j := i
	var head *backend.Launch // the norm or chain that makes the activations
	switch ls[i].Kernel.(type) {
	case *rmsnorm, *fused:
		if fuseMode&fuseSplitNorm != 0 {
			head, j = &ls[i], i+1
		}
	}
	if j >= len(ls) {
		return backend.Launch{}, 0
	}
	parts, bf16, ok := b.halfSplitOf(ls[j])
	if !ok {
		return backend.Launch{}, 0
	}
	xv := ls[j].Ins[0]
	start := j
	for ; j < len(ls); j++ {
		p, bf, ok := b.halfSplitOf(ls[j])
		// A GEMM that wrote over the input would change what the
		// next one splits.
		if !ok || p != parts || bf != bf16 || !sameView(ls[j].Ins[0], xv) || overlap(ls[j].Out, xv) {
			break
		}
	}
	members := ls[start:j]
	group := ls[i:j]
	if len(members) < 2 && head == nil {
		return backend.Launch{}, 0
	}
	x, xb, err := view(xv)
	if err != nil {
		return backend.Launch{}, 0
	}
	kern := &splitGroup{b: b, members: members, x: x, n: xb / 4, parts: parts, bf16: bf16}
	if head != nil {
		// A head that cannot fold stays a launch of its own; the GEMMs
		// after it may still group (fuseSplit at i+1).
		if _, isNorm := head.Kernel.(*rmsnorm); isNorm {
			kern.norm, ok = b.splitNormOf(*head, xv, released(group, xv))
		} else {
			kern.chain, ok = splitChainOf(*head, xv, released(group, xv))
		}
		if !ok {
			return backend.Launch{}, 0
		}
	}
	first, last := group[0], group[len(group)-1]
	return backend.Launch{Node: first.Node, Kernel: kern, Ins: first.Ins, Out: last.Out, Release: releases(group)}, len(group)
}

// splitNormOf returns the rmsnorm_split_f32 launch of the RMSNorm l whose
// output is xv, the activations of a splitGroup: a plain row norm of F32
// rows, written in place or to a view disjoint from its input. dead says
// that nothing after the group reads xv (then only the terms are written).
func (b *Backend) splitNormOf(l backend.Launch, xv backend.Tensor, dead bool) (*splitNorm, bool) {
	nk, ok := l.Kernel.(*rmsnorm)
	if !ok || len(l.Ins) < 2 || len(l.Out.Shape) == 0 || !sameView(l.Out, xv) || l.Out.DType != tensor.F32 {
		return nil, false
	}
	cols := l.Out.Shape[len(l.Out.Shape)-1]
	ok = true
	ptr := viewPtr(&ok)
	x, w, o := ptr(l.Ins[0]), ptr(l.Ins[1]), ptr(l.Out)
	ob := l.Out.Bytes()
	if !ok || cols <= 0 || ob == 0 || l.Ins[0].Bytes() != ob || l.Ins[1].Bytes() != int64(cols)*4 || ob%(int64(cols)*4) != 0 ||
		(overlap(l.Out, l.Ins[0]) && !sameView(l.Out, l.Ins[0])) {
		return nil, false
	}
	xn := o
	if dead {
		o = 0
	}
	return &splitNorm{x: x, w: w, o: o, xn: xn, rows: int(ob / 4 / int64(cols)), cols: cols, threads: threadsFor(cols), eps: nk.eps}, true
}

// splitChainOf returns the fused_split launch of the fused chain l whose
// output is xv, the activations of a splitGroup. dead says that nothing
// after the group reads xv (then only the terms are written).
func splitChainOf(l backend.Launch, xv backend.Tensor, dead bool) (*splitChain, bool) {
	fk, ok := l.Kernel.(*fused)
	if !ok || fk.fsplit == 0 || !sameView(l.Out, xv) || l.Out.DType != tensor.F32 {
		return nil, false
	}
	for _, in := range l.Ins {
		if overlap(in, l.Out) && !sameView(in, l.Out) {
			return nil, false
		}
	}
	return &splitChain{k: fk, ins: l.Ins, out: l.Out, write: !dead}, true
}
