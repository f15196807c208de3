package cublaslt

import (
	"fmt"
	"math"
	"os"
	"unsafe"

	"github.com/rlx-go/rlx/backend/cuda/driver"
)

// Tuning: cuBLASLt's heuristic ranks algorithms by a model of the GPU; for
// the large GEMMs of a prefill, the plan times the heuristic's first
// maxCandidates algorithms once on the call's own operands (output to a
// scratch matrix) and keeps the fastest. RLX_CUBLASLT_TUNE=0 keeps the
// heuristic's first choice.

// tuneDefault is the tuning setting of new handles.
var tuneDefault = os.Getenv("RLX_CUBLASLT_TUNE") != "0"

// tuneMinFlops is the smallest GEMM (2·M·N·K·batch) worth timing.
const tuneMinFlops = 1 << 28

// tuneMaxOut is the largest scratch output (bytes) tuning allocates.
const tuneMaxOut = 256 << 20

func tunable(g GEMM) bool {
	f := 2 * float64(g.M) * float64(g.N) * float64(g.K) * float64(max(g.Batch, 1))
	return f >= tuneMinFlops && int64(g.M)*int64(g.N)*int64(max(g.Batch, 1))*int64(g.Out.Size()) <= tuneMaxOut
}

// tune times each candidate of p (one warm-up, then tuneReps runs between
// events) on a and b into a scratch output and sets p.algo to the fastest.
// It does nothing while s is being captured into a graph.
func (hd *Handle) tune(p *plan, g GEMM, a, b driver.Ptr, s driver.Stream) error {
	if on, err := hd.ctx.Capturing(s); err != nil || on {
		return fmt.Errorf("cublaslt: no tuning during a capture")
	}
	const tuneReps = 3
	out, err := hd.ctx.Alloc(int64(g.M) * int64(g.N) * int64(max(g.Batch, 1)) * int64(g.Out.Size()))
	if err != nil {
		return err
	}
	defer hd.ctx.Free(out)
	var ev [2]driver.Event
	for i := range ev {
		if ev[i], err = hd.ctx.NewEvent(); err != nil {
			return err
		}
		defer hd.ctx.DestroyEvent(ev[i])
	}
	best, bestMS := -1, float32(math.Inf(1))
	for i := range p.cands {
		al := &p.cands[i]
		if hd.run(p, al, a, b, out, false, s) != nil {
			continue
		}
		if err := hd.ctx.Record(ev[0], s); err != nil {
			return err
		}
		ok := true
		for range tuneReps {
			ok = ok && hd.run(p, al, a, b, out, false, s) == nil
		}
		if err := hd.ctx.Record(ev[1], s); err != nil {
			return err
		}
		if err := hd.ctx.SyncEvent(ev[1]); err != nil {
			return err
		}
		ms, err := hd.ctx.Elapsed(ev[0], ev[1])
		if err != nil {
			return err
		}
		if ok && ms < bestMS {
			best, bestMS = i, ms
		}
	}
	if best < 0 {
		return fmt.Errorf("cublaslt: no candidate ran")
	}
	p.algo = p.cands[best]
	return nil
}

// attribute enums of cublasLt.h.
const (
	descTransA          = 3 // CUBLASLT_MATMUL_DESC_TRANSA
	descTransB          = 4 // CUBLASLT_MATMUL_DESC_TRANSB
	layoutBatchCount    = 5 // CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT
	layoutBatchStride   = 6 // CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET
	prefMaxWorkspace    = 1 // CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES
	prefMinAlignA       = 5 // CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES (B, C, D follow)
	opN, opT            = 0, 1
	heuristicResultSize = 96 // sizeof(cublasLtMatmulHeuristicResult_t)
	// maxCandidates is how many of the heuristic's algorithms a plan keeps
	// for tuning.
	maxCandidates = 8
)

// plan is the descriptors and chosen algorithm of one GEMM shape.
type plan struct {
	desc, la, lb, lc uintptr
	algo             [8]uint64   // cublasLtMatmulAlgo_t
	cands            [][8]uint64 // the heuristic's algorithms, its best first
}

func (p *plan) destroy() {
	for _, l := range []uintptr{p.la, p.lb, p.lc} {
		if l != 0 {
			call("cublasLtMatrixLayoutDestroy", l)
		}
	}
	if p.desc != 0 {
		call("cublasLtMatmulDescDestroy", p.desc)
	}
}

// plan returns the cached plan for g, building it on first use (and
// timing the heuristic's candidates on a, b when tuning is on). It runs
// with the context current.
func (hd *Handle) plan(key planKey, a, b driver.Ptr, s driver.Stream) (*plan, error) {
	g := key.GEMM
	hd.mu.Lock()
	defer hd.mu.Unlock()
	if hd.plans == nil {
		return nil, fmt.Errorf("cublaslt: handle is closed")
	}
	if p, ok := hd.plans[key]; ok {
		return p, nil
	}
	p := &plan{}
	if err := p.build(key, hd); err != nil {
		p.destroy()
		return nil, fmt.Errorf("%w (GEMM M=%d N=%d K=%d batch=%d %v→%v)", err, g.M, g.N, g.K, g.Batch, g.In, g.Out)
	}
	if hd.tuneOn && tunable(g) && len(p.cands) > 1 {
		if err := hd.tune(p, g, a, b, s); err != nil {
			// The heuristic's first choice stays; tuning is an optimization.
			p.algo = p.cands[0]
		}
	}
	hd.plans[key] = p
	return p, nil
}

func (p *plan) build(key planKey, hd *Handle) error {
	g := key.GEMM
	const scaleF32 = 0 // CUDA_R_32F: alpha and beta are float
	if err := check("cublasLtMatmulDescCreate", call("cublasLtMatmulDescCreate",
		uintptr(unsafe.Pointer(&p.desc)), uintptr(g.Compute), scaleF32)); err != nil {
		return err
	}
	// cuBLASLt is column-major: our row-major C [M, N] is its Cᶜ [N, M],
	// computed as Cᶜ = op(Bᶜ)·op(Aᶜ), where Bᶜ and Aᶜ are our B and A read
	// column-major. B [N, K] read so is [K, N] and needs a transpose; B
	// [K, N] is [N, K] as it is. Likewise A [M, K] is [K, M] as it is, and A
	// [K, M] needs a transpose.
	m, n, k := uint64(g.M), uint64(g.N), uint64(g.K)
	ta, tb := int32(opT), int32(opN)
	ra, ca, lda := k, n, int64(k) // cuBLASLt's A = our B
	if g.BKN {
		ta, ra, ca, lda = opN, n, k, int64(n)
	}
	rb, cb, ldb := k, m, int64(k) // cuBLASLt's B = our A
	if g.AKM {
		tb, rb, cb, ldb = opT, m, k, int64(m)
	}
	if err := setAttr("cublasLtMatmulDescSetAttribute", p.desc, descTransA, unsafe.Pointer(&ta), 4); err != nil {
		return err
	}
	if err := setAttr("cublasLtMatmulDescSetAttribute", p.desc, descTransB, unsafe.Pointer(&tb), 4); err != nil {
		return err
	}
	strideA, strideB := int64(g.M*g.K), int64(g.N*g.K)
	if g.SharedA {
		strideA = 0
	}
	if g.SharedB {
		strideB = 0
	}
	var err error
	if p.la, err = layout(g.In, ra, ca, lda, g.Batch, strideB); err != nil {
		return err
	}
	if p.lb, err = layout(g.In, rb, cb, ldb, g.Batch, strideA); err != nil {
		return err
	}
	if p.lc, err = layout(g.Out, n, m, int64(n), g.Batch, int64(g.M*g.N)); err != nil {
		return err
	}
	var pref uintptr
	if err := check("cublasLtMatmulPreferenceCreate", call("cublasLtMatmulPreferenceCreate", uintptr(unsafe.Pointer(&pref)))); err != nil {
		return err
	}
	defer call("cublasLtMatmulPreferenceDestroy", pref)
	ws := uint64(hd.wsSize)
	if err := setAttr("cublasLtMatmulPreferenceSetAttribute", pref, prefMaxWorkspace, unsafe.Pointer(&ws), 8); err != nil {
		return err
	}
	// cuBLASLt's A is our B, its B our A; C and D are both our C.
	for i, al := range []uint32{key.alignB, key.alignA, key.alignC, key.alignC} {
		if err := setAttr("cublasLtMatmulPreferenceSetAttribute", pref, prefMinAlignA+i, unsafe.Pointer(&al), 4); err != nil {
			return err
		}
	}
	const words = heuristicResultSize / 8
	var res [maxCandidates * words]uint64
	var found int32
	if err := check("cublasLtMatmulAlgoGetHeuristic", call("cublasLtMatmulAlgoGetHeuristic",
		hd.h, p.desc, p.la, p.lb, p.lc, p.lc, pref, maxCandidates,
		uintptr(unsafe.Pointer(&res[0])), uintptr(unsafe.Pointer(&found)))); err != nil {
		return err
	}
	for i := range int(min(found, maxCandidates)) {
		r := res[i*words : (i+1)*words]
		// algo [0,64), workspaceSize [64,72), state [72,76): keep the
		// results whose state is CUBLAS_STATUS_SUCCESS.
		if int32(uint32(r[9])) != 0 {
			continue
		}
		var al [8]uint64
		copy(al[:], r[:8])
		p.cands = append(p.cands, al)
	}
	if len(p.cands) == 0 {
		return fmt.Errorf("cublaslt: no algorithm for this GEMM")
	}
	p.algo = p.cands[0]
	return nil
}

func setAttr(fn string, obj uintptr, attr int, v unsafe.Pointer, size int) error {
	return check(fn, call(fn, obj, uintptr(attr), uintptr(v), uintptr(size)))
}

// layout makes a column-major layout of rows×cols with leading dimension
// ld, batched with the given stride (elements) when batch > 1.
func layout(t DType, rows, cols uint64, ld int64, batch int, stride int64) (uintptr, error) {
	var l uintptr
	if err := check("cublasLtMatrixLayoutCreate", call("cublasLtMatrixLayoutCreate",
		uintptr(unsafe.Pointer(&l)), uintptr(t), uintptr(rows), uintptr(cols), uintptr(ld))); err != nil {
		return 0, err
	}
	if batch > 1 {
		b := int32(batch)
		if err := setAttr("cublasLtMatrixLayoutSetAttribute", l, layoutBatchCount, unsafe.Pointer(&b), 4); err != nil {
			call("cublasLtMatrixLayoutDestroy", l)
			return 0, err
		}
		if err := setAttr("cublasLtMatrixLayoutSetAttribute", l, layoutBatchStride, unsafe.Pointer(&stride), 8); err != nil {
			call("cublasLtMatrixLayoutDestroy", l)
			return 0, err
		}
	}
	return l, nil
}
