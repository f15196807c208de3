package cuda

import (
	"fmt"
	"os"
	"sync"

	"github.com/rlx-go/rlx/backend"
	"github.com/rlx-go/rlx/backend/cuda/cublaslt"
	"github.com/rlx-go/rlx/backend/cuda/driver"
	"github.com/rlx-go/rlx/backend/cuda/kernels"
	"github.com/rlx-go/rlx/ir"
	"github.com/rlx-go/rlx/tensor"
)

// Packed weights (kernels/quant.cu).
//
// A matmul whose weight is a GGUF block-quantized constant (OpDequantMatMul)
// or an F16/BF16 constant keeps that weight packed in device memory and
// picks a path per call by the number of activation rows M:
//
//   - M ≤ gemvUpTo (decode): rlx's GEMV kernel decodes the weight on the fly.
//     For quantized weights and M ≤ gemvInt8Rows the activations are
//     rounded to int8 per group of 32 (as llama.cpp's Q8_1) and multiplied
//     with dp4a; otherwise (F16/BF16, or gemvInt8Rows = 0) by the f32
//     activations in f32, with no activation rounding. Every weight byte is
//     read once.
//   - larger M (prefill): the weight is decoded to a half-precision scratch
//     matrix (F16; BF16 weights are used as stored), the activations are
//     rounded to the same type, and cuBLASLt multiplies on the tensor cores
//     with f32 accumulation.
//
// Layout on the device: Q4_K and Q5_K are copied as stored (their 144- and
// 176-byte super-blocks keep 16-byte alignment); Q4_0, Q8_0 and Q6_K are
// split once at upload into quants and a separate array of f16 scales
// (Q4_0: 16 bytes + 2, Q8_0: 32 + 2, Q6_K: 208 + 2 per block), so that every
// quant load is an aligned vector load. The byte count is unchanged.

// gemvMaxM is the most activation rows the GEMV kernel takes (QT_MAX_M in
// quant.cu).
const gemvMaxM = 8

// gemvQuantUpTo and gemvHalfUpTo are the most activation rows sent to the
// GEMV kernel for quantized and F16/BF16 weights; larger products go to the
// tensor cores. BenchmarkGEMV and BenchmarkPackedGEMM on an H100 put the
// crossover near 4 rows for Q4_K and 2–3 for F16 (an 8192×2048 weight).
var gemvQuantUpTo, gemvHalfUpTo = 4, 2

// gemvUpTo is the GEMV row limit for weights of type dt.
func gemvUpTo(dt tensor.DType) int {
	if dt.Quantized() {
		return gemvQuantUpTo
	}
	return gemvHalfUpTo
}

// gemvRun is how many consecutive columns one thread decodes at a time in
// the GEMV kernel, per weight type, for one activation row and for several
// (8, 16 or 32; at most 16 for Q6_K): a longer run decodes a group's
// scales once for more weights, a shorter one keeps a warp's activation
// reads contiguous and needs fewer registers per row. Chosen by
// BenchmarkGEMV on an H100 (docs/cuda.md): 16 is fastest for every type at
// one row, 8 for two rows or more.
var gemvRun = map[tensor.DType][2]int{
	tensor.F16: {16, 8}, tensor.BF16: {16, 8}, tensor.Q8_0: {16, 8}, tensor.Q4_0: {16, 8},
	tensor.Q4_K: {16, 8}, tensor.Q5_K: {16, 8}, tensor.Q6_K: {16, 8},
}

// packedNames maps weight types to their kernel suffix in quant.cu.
var packedNames = map[tensor.DType]string{
	tensor.F16: "f16", tensor.BF16: "bf16",
	tensor.Q8_0: "q8_0", tensor.Q4_0: "q4_0", tensor.Q4_K: "q4_k", tensor.Q5_K: "q5_k", tensor.Q6_K: "q6_k",
}

// quantSupported says whether OpDequantMatMul n runs on the device.
func quantSupported(n *ir.Node) string {
	at := n.Attr.(*ir.MatMulAttr)
	x, w := n.Inputs[0], n.Inputs[1]
	switch {
	case x.DType != tensor.F32 || n.DType != tensor.F32:
		return "F32 activations only"
	case packedNames[w.DType] == "" || !w.DType.Quantized():
		return fmt.Sprintf("no CUDA kernel for %v weights (Q4_0, Q8_0, Q4_K, Q5_K, Q6_K)", w.DType)
	case !isConst(w):
		return "a quantized weight must be a constant"
	case at.TransA || !at.TransB || len(w.Shape) != 2:
		return "quantized weights must be [N, K] with untransposed activations"
	case at.Add && !addendOK(n):
		return "a broadcast addend must be F32 with an output of rank ≤ 6"
	}
	return ""
}

// packWeight lays out an [n, k] weight of type dt for quant.cu: the bytes
// of the quants and, for the types that keep their scales apart, the f16
// scales.
func packWeight(dt tensor.DType, n, k int, data []byte) (main, aux []byte, err error) {
	want, err := dt.RowBytes(int64(n) * int64(k))
	if err != nil {
		return nil, nil, err
	}
	if k%dt.BlockSize() != 0 || int64(len(data)) != want {
		return nil, nil, fmt.Errorf("%v weight [%d, %d]: %d bytes, want %d (K a multiple of %d)", dt, n, k, len(data), want, dt.BlockSize())
	}
	split := func(bb, qoff, qlen, doff int) {
		blocks := len(data) / bb
		main = make([]byte, blocks*qlen)
		aux = make([]byte, blocks*2)
		for i := range blocks {
			b := data[i*bb : (i+1)*bb]
			copy(main[i*qlen:], b[qoff:qoff+qlen])
			copy(aux[2*i:], b[doff:doff+2])
		}
	}
	switch dt {
	case tensor.Q8_0:
		split(34, 2, 32, 0)
	case tensor.Q4_0:
		split(18, 2, 16, 0)
	case tensor.Q6_K:
		split(210, 0, 208, 208)
	case tensor.Q4_K, tensor.Q5_K, tensor.F16, tensor.BF16:
		main = data
	default:
		return nil, nil, fmt.Errorf("no CUDA layout for %v weights", dt)
	}
	return main, aux, nil
}

// packed is a weight kept in its stored type on the device.
type packed struct {
	dt     tensor.DType
	n, k   int
	w, aux driver.Ptr         // device copies; w is 0 for a half weight used in place
	run    [2]int             // gemvRun: one row, several rows
	gemv   [2]driver.Function // the GEMV kernels of those runs
	gemv1  driver.Function    // gemv1_*_r16: one row, runs of 16
	deq    driver.Function
	split  driver.Function // split_half, for the activations
	// The int8-activation GEMVs (quantized types only): gemvq_* for up to
	// gemvInt8Rows rows, gemvq1_* for one; gemvqp_*/gemvqp1_* read
	// activations that gemvq_prepare quantized.
	gemvQ, gemvQ1, gemvQP, gemvQP1 driver.Function
	// gemvh_2 and gemvh_1 (F16/BF16 only, gemvh.go).
	gemvH, gemvH1 driver.Function
}

// upload packs and copies a constant [n, k] weight; keep reports whether
// the device copy is needed (false: the weight input's view serves, as for
// F16/BF16 weights stored as is).
func (b *Backend) packed(dt tensor.DType, n, k int, t *tensor.Tensor, upload bool) (*packed, error) {
	name := packedNames[dt]
	if name == "" {
		return nil, fmt.Errorf("cuda: no packed layout for %v", dt)
	}
	p := &packed{dt: dt, n: n, k: k, run: gemvRun[dt]}
	var err error
	for i, r := range p.run {
		if p.gemv[i], err = b.ks.Func(fmt.Sprintf("gemv_%s_r%d", name, r)); err != nil {
			return nil, err
		}
	}
	if p.gemv1, err = b.ks.Func("gemv1_" + name + "_r16"); err != nil {
		return nil, err
	}
	if p.deq, err = b.ks.Func("dequant_" + name); err != nil {
		return nil, err
	}
	if p.split, err = b.ks.Func("split_half"); err != nil {
		return nil, err
	}
	if dt.Quantized() {
		for _, f := range []struct {
			dst    *driver.Function
			prefix string
		}{{&p.gemvQ, "gemvq_"}, {&p.gemvQ1, "gemvq1_"}, {&p.gemvQP, "gemvqp_"}, {&p.gemvQP1, "gemvqp1_"}} {
			if *f.dst, err = b.ks.Func(f.prefix + name); err != nil {
				return nil, err
			}
		}
	}
	if _, ok := hmTypes[dt]; ok {
		if p.gemvH, err = b.ks.Func(gemvHalfName(2, false, false)); err != nil {
			return nil, err
		}
		if p.gemvH1, err = b.ks.Func(gemvHalfName(1, false, false)); err != nil {
			return nil, err
		}
	}
	if !upload {
		return p, nil
	}
	main, aux, err := packWeight(dt, n, k, t.Data)
	if err != nil {
		return nil, err
	}
	for _, c := range []struct {
		dst  *driver.Ptr
		data []byte
	}{{&p.w, main}, {&p.aux, aux}} {
		if len(c.data) == 0 {
			continue
		}
		ptr, err := b.ctx.Alloc(int64(len(c.data)))
		if err != nil {
			return nil, err
		}
		b.mu.Lock()
		b.owned = append(b.owned, ptr)
		b.mu.Unlock()
		if err := b.copyIn(ptr, c.data); err != nil {
			return nil, err
		}
		*c.dst = ptr
	}
	return p, nil
}

// gemvBlock picks threads per weight row (32, 64 or 128: whole warps)
// and so rows per 128-thread block: more threads per row while there are
// few rows (fewer than 16384 warps in all) and each thread still gets at
// least four runs, so that small matrices spread over every SM.
func gemvBlock(n, k, run int) (rowsPerBlock int) {
	runs := k / run
	tpr := 32
	for tpr < 128 && n*(tpr/32) < 16384 && runs >= 4*tpr {
		tpr *= 2
	}
	return 128 / tpr
}

// gemvInt8Rows is the most activation rows that the int8-activation GEMV
// (gemvq_* in quant.cu, QI_MAX_M) takes for quantized weights; 0 sends
// every GEMV to the exact f32-activation kernel. The int8 kernel rounds
// each activation to 8 bits per group of 32 (error ≤ amax/254 per value)
// and multiplies with dp4a: an H100 runs it at several times the f32
// kernel's rate, which was bound by decoding and FMAs rather than memory.
var gemvInt8Rows = 4

// gemvInt8Shared is the most dynamic shared memory (bytes) the int8 GEMV
// asks for: the default per-block limit, needing no opt-in attribute.
const gemvInt8Shared = 48 << 10

// int8Shared is the shared memory of the int8 GEMV for m rows of k
// activations: the int8 values and a (scale, scale·sum) pair per 32.
func int8Shared(m, k int) int { return m*k + m*(k/32)*8 }

// gemvInt8Shape picks the warps per weight row (1, 2, 4 or 8) and rows per
// 256-thread block of the int8 GEMV for an [n, k] weight of type dt.
// BenchmarkGEMVInt8Shape on an H100 (docs/cuda.md) put the best shapes at
// about 4096 warps in all — more warps share a row of a short, wide
// matrix (1024×3072: 4; 2048×8192: 2), as long as each lane gets at least
// half a piece of it — and about 512 blocks, each block taking more rounds
// of rows (up to 8) as n grows, so that its quantization prologue serves
// more rows (151936×1024: 8 rounds). gemvInt8WPR and gemvInt8Rounds
// override the choice when non-zero (benchmarks, tests).
func gemvInt8Shape(dt tensor.DType, n, k int) (warpsPerRow, rowsPerBlock int) {
	pieces := k / 32 // pieces of a row that a lane takes at a time
	wpr := 1
	for wpr < 8 && n*wpr*2 <= 4096 && pieces >= 32*wpr {
		wpr *= 2
	}
	if gemvInt8WPR > 0 {
		wpr = gemvInt8WPR
	}
	slots := 8 / wpr
	rounds := min(8, max(1, n/(slots*512)))
	if gemvInt8Rounds > 0 {
		rounds = gemvInt8Rounds
	}
	return wpr, slots * rounds
}

// gemvRowsScale multiplies the rows per block of a decode launch of the
// int8 GEMV (RLX_CUDA_GEMV_ROWS; the per-row arithmetic does not change):
// fewer blocks, each quantizing the activations once for more rows.
var gemvRowsScale = envInt("RLX_CUDA_GEMV_ROWS", 1)

// gemvInt8WPR and gemvInt8Rounds, when non-zero, fix the warps per row and
// the rounds of rows per block of the int8 GEMV (BenchmarkGEMVInt8Shape;
// RLX_CUDA_GEMV_WPR and RLX_CUDA_GEMV_ROUNDS for whole-model experiments).
var gemvInt8WPR, gemvInt8Rounds = envInt("RLX_CUDA_GEMV_WPR", 0), envInt("RLX_CUDA_GEMV_ROUNDS", 0)

// gemvOneRow sends one-row products to the gemvq1_* and gemv1_* kernels,
// which keep one accumulator per thread instead of QI_MAX_M or QT_MAX_M
// (RLX_CUDA_GEMV_M1=0: off).
var gemvOneRow = os.Getenv("RLX_CUDA_GEMV_M1") != "0"

// gemvPrepare quantizes the activations of a lone int8 GEMV once, in a
// gemvq_prepare launch ahead of it, instead of in every block of the GEMV
// (RLX_CUDA_GEMV_PREPARE=0: off). The extra launch costs less than the
// blocks' prologues: on an H100, Llama-3.2-1B's 2048×8192 Q6_K down
// projection takes 12.4 µs instead of 16.9 (ncu), and decode of
// Llama-3.2-1B Q4_K_M ran at 810 t/s instead of 765.
var gemvPrepare = os.Getenv("RLX_CUDA_GEMV_PREPARE") != "0"

// gemvMultiName is the fused GEMV kernel (quant.cu gemvq_multi) for m
// rows, reading prepared activations or quantizing them itself.
func gemvMultiName(m int, prepared bool) string {
	name := "gemvq_multi"
	if prepared {
		name = "gemvqp_multi"
	}
	if m == 1 && gemvOneRow {
		name += "1"
	}
	return name
}

// gemvMultiShape is the warps per row and rows per block of one matrix of
// a fused GEMV launch (fuse.go). Reading prepared activations, a block has
// no prologue to share, and one warp a row (fuseWPR) with gemvInt8Shape's
// rounds of rows is fastest: on an H100 (ncu), Llama-3.2-1B's q/k/v launch
// 11.3 → 8.5 µs and its gate/up pair 18.6 → 18.2 µs against gemvInt8Shape's
// warps per row with twice the rows. A block that quantizes the
// activations itself takes gemvInt8Shape's rows scaled by fuseRowsScale
// (q/k/v) or fusePairRowsScale (gate/up pairs).
func gemvMultiShape(dt tensor.DType, n, k int, pair, prepared bool) (warpsPerRow, rowsPerBlock int) {
	wpr, rpb := gemvInt8Shape(dt, n, k)
	if prepared {
		rounds := max(1, rpb*wpr/8)
		return fuseWPR, rounds * (8 / fuseWPR)
	}
	if pair {
		return wpr, rpb * max(1, fusePairRowsScale)
	}
	return wpr, rpb * max(1, fuseRowsScale)
}

// fuseWPR is the warps per row of fused GEMVs on prepared activations:
// 1, 2, 4 or 8 (RLX_CUDA_FUSE_WPR).
var fuseWPR = fuseWPROf(envInt("RLX_CUDA_FUSE_WPR", 1))

func fuseWPROf(w int) int {
	switch w {
	case 2, 4, 8:
		return w
	}
	return 1
}

// launchGEMV queues y[m, n] (+)= x[m, :]·W[n, :] for m ≤ gemvMaxM rows; w
// overrides p.w (a weight used in place).
func (b *Backend) launchGEMV(p *packed, w, x, y driver.Ptr, m int, accumulate bool) error {
	return b.launchGEMVAdd(p, w, x, y, 0, m, accumulate)
}

// launchGEMVAdd is launchGEMV with an addend of y's shape read by the
// kernel (y = add + x·Wᵀ, the bits of a copy of add accumulated into)
// when add is not 0: no separate copy. The GEMV kernels are launched
// with LaunchDependent (they wait for the previous kernel before reading
// anything).
func (b *Backend) launchGEMVAdd(p *packed, w, x, y, add driver.Ptr, m int, accumulate bool) error {
	if w == 0 {
		w = p.w
	}
	if m < 1 || m > gemvMaxM {
		return fmt.Errorf("cuda: GEMV of %d rows (1 to %d)", m, gemvMaxM)
	}
	acc := 0
	if accumulate {
		acc = 1
	}
	if p.gemvQ != 0 && m <= gemvInt8Rows && int8Shared(m, p.k) <= gemvInt8Shared {
		wpr, rpb := gemvInt8Shape(p.dt, p.n, p.k)
		rpb *= gemvRowsScale
		grid := driver.Dim3{X: (p.n + rpb - 1) / rpb}
		one := m == 1 && gemvOneRow
		if gemvPrepare && b.xq != 0 {
			// Quads of activations, 256 threads a block, up to 64 blocks.
			quads := m * p.k / 4
			if err := b.ctx.LaunchDependent(b.prep, driver.Dim3{X: min(64, (quads+255)/256)}, driver.Dim3{X: 256}, 0, b.stream,
				x, b.xq, b.xq+driver.Ptr(m*p.k), m, p.k); err != nil {
				return err
			}
			f := p.gemvQP
			if one {
				f = p.gemvQP1
			}
			return b.ctx.LaunchDependent(f, grid, driver.Dim3{X: 256}, 0, b.stream,
				w, p.aux, b.xq, b.xq+driver.Ptr(m*p.k), y, m, p.n, p.k, rpb, wpr, acc, add)
		}
		f := p.gemvQ
		if one {
			f = p.gemvQ1
		}
		return b.ctx.LaunchDependent(f, grid, driver.Dim3{X: 256}, int8Shared(m, p.k), b.stream,
			w, p.aux, x, y, m, p.n, p.k, rpb, wpr, acc, add)
	}
	if p.gemvH != 0 && gemvHalfOK(p.dt, p.k, m) && x%16 == 0 {
		return b.launchGEMVHalf(p, w, x, y, add, m, accumulate)
	}
	v := 0
	if m > 1 {
		v = 1
	}
	rpb := gemvBlock(p.n, p.k, p.run[v])
	f := p.gemv[v]
	if m == 1 && gemvOneRow && p.run[0] == 16 {
		f = p.gemv1
	}
	return b.ctx.LaunchDependent(f, driver.Dim3{X: (p.n + rpb - 1) / rpb}, driver.Dim3{X: 128}, 0, b.stream,
		w, p.aux, x, y, m, p.n, p.k, rpb, acc, add)
}

// scratch is device memory reused by every kernel of the backend that needs
// temporary space (dequantized weights, rounded activations). Kernels take
// scratchMu for the whole of their queued sequence, so that two sessions
// sharing the backend cannot interleave their use of it.
type scratch struct {
	p driver.Ptr
	n int64
}

// scratchSpace is the backend's set of scratch buffers.
type scratchSpace struct {
	mu         sync.Mutex
	weight, xs scratch
	// share, while a splitGroup runs (fuse.go), lets the GEMMs of one
	// input reuse the half terms the first of them wrote to xs.
	share *splitShare
}

// splitShare is the split a group of GEMMs of one input shares: the input
// (address and f32 count), the terms asked for, and where splitHalf wrote
// them once done.
type splitShare struct {
	x      driver.Ptr
	n      int64
	parts  int
	bf16   bool
	done   bool
	out    driver.Ptr
	stride int64
}

// grow returns at least n bytes of s; the caller holds the scratch lock.
func (b *Backend) grow(s *scratch, n int64) (driver.Ptr, error) {
	if s.n >= n {
		return s.p, nil
	}
	if s.p != 0 {
		// Queued kernels may still read the old buffer, and captured
		// graphs name it.
		b.invalidate()
		if err := b.ctx.SyncStream(b.stream); err != nil {
			return 0, err
		}
		if err := b.ctx.Free(s.p); err != nil {
			return 0, err
		}
		s.p, s.n = 0, 0
	}
	n = (n + 1<<20 - 1) &^ (1<<20 - 1)
	p, err := b.ctx.Alloc(n)
	if err != nil {
		return 0, err
	}
	s.p, s.n = p, n
	return p, nil
}

// freeScratch releases the scratch buffers (Close).
func (b *Backend) freeScratch() error {
	var first error
	for _, s := range []*scratch{&b.scr.weight, &b.scr.xs} {
		if s.p != 0 {
			if err := b.ctx.Free(s.p); err != nil && first == nil {
				first = err
			}
		}
		*s = scratch{}
	}
	return first
}

// splitHalf writes the n f32 values at x as `parts` half-precision terms
// (f16, or bf16 when bf16) whose sum approximates x, in scratch: term i at
// the returned address + i·stride bytes. The caller holds the scratch lock.
//
// Inside a splitGroup (b.scr.share set) the split of the group's input is
// made once: a later call for the same input and terms returns the first
// call's scratch without a launch (nothing but splitHalf writes xs, and the
// group's GEMMs do not write their input), and a split of anything else
// makes the shared one stale.
func (b *Backend) splitHalf(f driver.Function, x driver.Ptr, n int64, parts int, bf16 bool) (driver.Ptr, int64, error) {
	sh := b.scr.share
	if sh != nil && (sh.x != x || sh.n != n || sh.parts != parts || sh.bf16 != bf16) {
		sh.done = false // xs is about to hold another split
		sh = nil
	}
	if sh != nil && sh.done {
		return sh.out, sh.stride, nil
	}
	stride := (2*n + 255) &^ 255
	out, err := b.grow(&b.scr.xs, stride*int64(parts))
	if err != nil {
		return 0, 0, err
	}
	isBF := 0
	if bf16 {
		isBF = 1
	}
	if err := b.ctx.Launch(f, grid(n), driver.Dim3{X: 256}, 0, b.stream, x, out, n, stride/2, parts, isBF); err != nil {
		return 0, 0, err
	}
	if sh != nil {
		sh.out, sh.stride, sh.done = out, stride, true
	}
	return out, stride, nil
}

// halfParts is how many half-precision terms the activations of a GEMM
// with weights of type dt are split into: enough for about f32 precision
// (f16: 2 × 11 significant bits, bf16: 3 × 8), or one when the weights are
// quantized (their own error dominates) or Options.HalfActivations is set.
func (b *Backend) halfParts(dt tensor.DType) int {
	switch {
	case b.halfActs || dt.Quantized():
		return 1
	case dt == tensor.BF16:
		return 3
	}
	return 2
}

// dequantMatMul is OpDequantMatMul on the device.
type dequantMatMul struct {
	b     *Backend
	p     *packed
	add   bool
	bcast driver.Function // binary_f32, to broadcast an addend into the output
}

func (b *Backend) dequantMatMul(n *ir.Node, consts []*tensor.Tensor) (backend.Kernel, error) {
	w := n.Inputs[1]
	if len(consts) < 2 || consts[1] == nil {
		return nil, fmt.Errorf("cuda: quantized weight %q of %v is not a constant", w.Name, n)
	}
	t := consts[1]
	if len(t.Shape) != 2 {
		return nil, fmt.Errorf("cuda: quantized weight %q has shape %v, want [N, K]", w.Name, t.Shape)
	}
	p, err := b.packed(t.DType, t.Shape[0], t.Shape[1], t, true)
	if err != nil {
		return nil, fmt.Errorf("cuda: weight %q: %w", w.Name, err)
	}
	k := &dequantMatMul{b: b, p: p, add: n.Attr.(*ir.MatMulAttr).Add}
	if k.add {
		if k.bcast, err = b.ks.Func("binary_f32"); err != nil {
			return nil, err
		}
	}
	return k, nil
}

// addendOK says whether the addend of a MatMul/DequantMatMul with Add can
// initialise the output: the output's own shape, or (broadcast by
// binary_f32) any F32 shape that broadcasts to it, such as a bias [N].
func addendOK(n *ir.Node) bool {
	c := n.Inputs[2]
	return c.Shape.Equal(n.Shape) || (c.DType == tensor.F32 && len(n.Shape) <= kernels.MaxRank)
}

// initAddend initialises the output with the addend (the product then
// accumulates into it) and reports whether the product must accumulate. An
// addend of the output's size is copied; a smaller one (a bias) is
// broadcast by bcast (binary_f32 computing max(c, c) = c).
func (b *Backend) initAddend(add bool, bcast driver.Function, ins []backend.Tensor, out backend.Tensor, o driver.Ptr, ob int64) (bool, error) {
	if !add {
		return false, nil
	}
	c, cb, err := view(ins[2])
	if err != nil {
		return false, err
	}
	if cb != ob {
		if ins[2].DType != tensor.F32 || bcast == 0 {
			return false, fmt.Errorf("matmul addend %v%v does not match the output %v", ins[2].DType, ins[2].Shape, out.Shape)
		}
		enc, err := kernels.Broadcast(out.Shape, ins[2].Shape, ins[2].Shape)
		if err != nil {
			return false, fmt.Errorf("matmul addend: %w", err)
		}
		n := ob / 4
		return true, b.ctx.Launch(bcast, grid(n), driver.Dim3{X: 256}, 0, b.stream, c, c, o, n, kernels.BinaryMax, enc)
	}
	if c != o {
		if err := b.ctx.CopyDtoDAsync(o, c, ob, b.stream); err != nil {
			return false, err
		}
	}
	return true, nil
}

func (k *dequantMatMul) Run(_ *backend.Env, ins []backend.Tensor, out backend.Tensor) error {
	x, xb, err := view(ins[0])
	if err != nil {
		return err
	}
	o, ob, err := view(out)
	if err != nil {
		return err
	}
	if ob == 0 {
		return nil
	}
	p := k.p
	m := int(xb / 4 / int64(p.k))
	if int64(m)*int64(p.n)*4 != ob || int64(m)*int64(p.k)*4 != xb {
		return fmt.Errorf("quantized matmul of %v by [%d, %d] into %v", ins[0].Shape, p.n, p.k, out.Shape)
	}
	gemv := m <= gemvUpTo(p.dt) && x%16 == 0
	if gemv && k.add {
		// An addend of the output's size (the residual) is read by the
		// kernel instead of copied into the output first.
		if c, cb, err := view(ins[2]); err == nil && cb == ob && (c == o || c+driver.Ptr(cb) <= o || o+driver.Ptr(ob) <= c) {
			if c == o {
				return k.b.launchGEMV(p, 0, x, o, m, true)
			}
			return k.b.launchGEMVAdd(p, 0, x, o, c, m, false)
		}
	}
	acc, err := k.b.initAddend(k.add, k.bcast, ins, out, o, ob)
	if err != nil {
		return err
	}
	if gemv {
		return k.b.launchGEMV(p, 0, x, o, m, acc)
	}
	return k.b.halfGEMM(p, p.w, true, x, o, m, acc)
}

// halfGEMM queues y[m, n] (+)= x·Wᵀ through cuBLASLt in half precision:
// the weight is decoded to f16 scratch first when decode is set (else w
// already holds F16/BF16 [n, k] values), the activations are split into
// half terms, one GEMM per term.
func (b *Backend) halfGEMM(p *packed, w driver.Ptr, decode bool, x, y driver.Ptr, m int, accumulate bool) error {
	b.scr.mu.Lock()
	defer b.scr.mu.Unlock()
	in, bf := cublaslt.F16, false
	if p.dt == tensor.BF16 {
		in, bf = cublaslt.BF16, true
	}
	if decode {
		dst, err := b.grow(&b.scr.weight, int64(p.n)*int64(p.k)*2)
		if err != nil {
			return err
		}
		units := int64(p.n) * int64(p.k/32)
		if err := b.ctx.Launch(p.deq, grid(units), driver.Dim3{X: 256}, 0, b.stream, w, p.aux, dst, p.n, p.k, 0); err != nil {
			return err
		}
		w = dst
	}
	parts := b.halfParts(p.dt)
	xs, stride, err := b.splitHalf(p.split, x, int64(m)*int64(p.k), parts, bf)
	if err != nil {
		return err
	}
	for i := range parts {
		g := cublaslt.GEMM{M: m, N: p.n, K: p.k, In: in, Out: cublaslt.F32, Compute: cublaslt.ComputeF32, Accumulate: accumulate || i > 0}
		if err := b.blas.MatMulT(g, xs.Add(int64(i)*stride), w, y, b.stream); err != nil {
			return err
		}
	}
	return nil
}
