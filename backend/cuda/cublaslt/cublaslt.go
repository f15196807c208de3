// Package cublaslt runs matrix multiplications through NVIDIA's cuBLASLt,
// loaded at run time without cgo. It offers the one product rlx's graphs
// need, in their layout: C = A·Bᵀ with row-major A [M, K] (activations) and
// B [N, K] (an nn.Linear weight), optionally batched and accumulating into C.
package cublaslt

import (
	"errors"
	"fmt"
	"sync"
	"unsafe"

	"github.com/rlx-go/rlx/backend/cuda/driver"
	"github.com/rlx-go/rlx/backend/cuda/internal/dl"
)

// ErrNotFound is wrapped by errors of Load when no libcublasLt opens.
var ErrNotFound = errors.New("no cuBLASLt library found (install the CUDA toolkit or set CUDA_HOME or RLX_CUBLASLT)")

var (
	loadOnce sync.Once
	loadErr  error
	libPath  string
	// fns holds the entry points by name once Load has succeeded.
	fns map[string]uintptr
)

var names = []string{
	"cublasLtCreate", "cublasLtDestroy", "cublasLtGetVersion",
	"cublasLtMatmulDescCreate", "cublasLtMatmulDescDestroy", "cublasLtMatmulDescSetAttribute",
	"cublasLtMatrixLayoutCreate", "cublasLtMatrixLayoutDestroy", "cublasLtMatrixLayoutSetAttribute",
	"cublasLtMatmulPreferenceCreate", "cublasLtMatmulPreferenceDestroy", "cublasLtMatmulPreferenceSetAttribute",
	"cublasLtMatmulAlgoGetHeuristic", "cublasLtMatmul",
}

// optionalNames are the status strings, which appeared in later releases;
// without them errors carry the status number alone.
var optionalNames = []string{"cublasLtGetStatusName", "cublasLtGetStatusString"}

// candidates lists where libcublasLt may be: RLX_CUBLASLT (a file), the
// dynamic linker's path, then CUDA_HOME, CUDA_PATH and /usr/local/cuda.
func candidates() []string {
	return dl.ToolkitCandidates("RLX_CUBLASLT", "libcublasLt.so", "libcublasLt.so.13", "libcublasLt.so.12", "libcublasLt.so.11")
}

// Load opens libcublasLt. It is safe to call many times.
func Load() error {
	loadOnce.Do(func() {
		if !dl.Has16 {
			loadErr = fmt.Errorf("cublaslt: calling cublasLtMatmul needs linux/amd64 for now")
			return
		}
		libPath, fns, loadErr = dl.Bind(dl.Library{
			Candidates: candidates(),
			Required:   names,
			Optional:   optionalNames,
			NotFound:   ErrNotFound,
		})
	})
	return loadErr
}

// Path returns the library Load opened.
func Path() string { return libPath }

// Version returns cuBLASLt's version (major*10000 + minor*100 + patch).
func Version() (int, error) {
	if err := Load(); err != nil {
		return 0, err
	}
	return int(call("cublasLtGetVersion")), nil
}

// Pointer arguments are converted with uintptr(unsafe.Pointer(p)) in the
// call expression, so uintptrescapes moves their targets to the heap: a
// goroutine stack that grows before the C call cannot leave them stale.
//
//go:uintptrescapes
func call(name string, args ...uintptr) uintptr { return dl.Call(fns[name], args...) }

// Error is a failed cuBLASLt call.
type Error struct {
	Call   string
	Status int
	Name   string
	Msg    string
}

func (e *Error) Error() string {
	if e.Name == "" {
		return fmt.Sprintf("cublaslt: %s: status %d", e.Call, e.Status)
	}
	return fmt.Sprintf("cublaslt: %s: %s (%d): %s", e.Call, e.Name, e.Status, e.Msg)
}

func check(name string, r uintptr) error {
	st := int(int32(r))
	if st == 0 {
		return nil
	}
	e := &Error{Call: name, Status: st}
	if p, ok := fns["cublasLtGetStatusName"]; ok {
		e.Name = dl.GoString(dl.Call(p, r))
	}
	if p, ok := fns["cublasLtGetStatusString"]; ok {
		e.Msg = dl.GoString(dl.Call(p, r))
	}
	return e
}

// DType is an element type of the matrices.
type DType int

// Element types, valued as CUDA's cudaDataType.
const (
	F32  DType = 0
	F16  DType = 2
	BF16 DType = 14
)

func (d DType) String() string {
	switch d {
	case F32:
		return "f32"
	case F16:
		return "f16"
	case BF16:
		return "bf16"
	}
	return fmt.Sprintf("DType(%d)", int(d))
}

// Size is the element size in bytes.
func (d DType) Size() int {
	if d == F32 {
		return 4
	}
	return 2
}

// Compute selects the arithmetic of the products.
type Compute int

// Compute modes, valued as cublasComputeType_t.
const (
	// ComputeF32 accumulates in f32 with f32 products (for f16/bf16 inputs
	// the products of the 16-bit values are exact in f32).
	ComputeF32 Compute = 68
	// ComputeTF32 rounds f32 inputs to TF32 (10-bit mantissa) for the
	// tensor cores and accumulates in f32.
	ComputeTF32 Compute = 77
)

// GEMM describes C[b] = A[b]·B[b]ᵀ (+ C[b] when Accumulate), row-major:
// A is [M, K], B is [N, K], C is [M, N]. AKM and BKN switch the storage of
// A to [K, M] and of B to [K, N] (the product is the same).
type GEMM struct {
	M, N, K  int
	AKM, BKN bool
	// Batch is the number of products (0 means 1); A, B and C advance by a
	// matrix per batch, except a SharedA or SharedB operand (one matrix for
	// every batch).
	Batch            int
	SharedA, SharedB bool
	// In is the type of A and B; Out the type of C.
	In, Out DType
	Compute Compute
	// Accumulate adds the product to C's current content (a residual or
	// bias the compiler folded into the matmul).
	Accumulate bool
}

func (g GEMM) check() error {
	if g.M <= 0 || g.N <= 0 || g.K <= 0 || g.Batch < 0 {
		return fmt.Errorf("cublaslt: bad GEMM shape M=%d N=%d K=%d batch=%d", g.M, g.N, g.K, g.Batch)
	}
	ok := (g.In == F32 && g.Out == F32) || ((g.In == F16 || g.In == BF16) && (g.Out == g.In || g.Out == F32))
	if !ok {
		return fmt.Errorf("cublaslt: unsupported types %v×%v→%v", g.In, g.In, g.Out)
	}
	if g.Compute == ComputeTF32 && g.In != F32 {
		return fmt.Errorf("cublaslt: TF32 compute takes f32 inputs, not %v", g.In)
	}
	if g.Compute != ComputeF32 && g.Compute != ComputeTF32 {
		return fmt.Errorf("cublaslt: unknown compute mode %d", g.Compute)
	}
	return nil
}

// Handle is a cuBLASLt context bound to one device context, with a
// workspace and a cache of planned shapes.
type Handle struct {
	ctx    *driver.Context
	h      uintptr
	ws     driver.Ptr
	wsSize int64

	mu    sync.Mutex
	plans map[planKey]*plan
	// tuneOn: plans of large GEMMs time the heuristic's candidates (plan.go).
	tuneOn bool
}

// planKey is a GEMM and the alignment of its pointers: cuBLASLt's
// heuristic assumes 256-byte aligned matrices unless told otherwise, and
// views into an arena can start anywhere.
type planKey struct {
	GEMM
	alignA, alignB, alignC uint32
}

// alignment is the largest power of two up to 256 dividing p.
func alignment(p driver.Ptr) uint32 {
	a := uint32(256)
	for a > 1 && uint64(p)%uint64(a) != 0 {
		a >>= 1
	}
	return a
}

// New creates a handle on ctx with a workspace of 32 MiB (what Hopper's
// kernels ask for; older GPUs use less of it).
func New(ctx *driver.Context) (*Handle, error) {
	if err := Load(); err != nil {
		return nil, err
	}
	hd := &Handle{ctx: ctx, wsSize: 32 << 20, plans: map[planKey]*plan{}, tuneOn: tuneDefault}
	err := ctx.Do(func() error {
		return check("cublasLtCreate", call("cublasLtCreate", uintptr(unsafe.Pointer(&hd.h))))
	})
	if err != nil {
		return nil, err
	}
	if hd.ws, err = ctx.Alloc(hd.wsSize); err != nil {
		hd.Close()
		return nil, err
	}
	return hd, nil
}

// Close frees the plans, the workspace and the handle.
func (hd *Handle) Close() error {
	hd.mu.Lock()
	defer hd.mu.Unlock()
	for _, p := range hd.plans {
		p.destroy()
	}
	hd.plans = nil
	var first error
	if hd.ws != 0 {
		first = hd.ctx.Free(hd.ws)
		hd.ws = 0
	}
	if hd.h != 0 {
		err := hd.ctx.Do(func() error { return check("cublasLtDestroy", call("cublasLtDestroy", hd.h)) })
		if first == nil {
			first = err
		}
		hd.h = 0
	}
	return first
}

// MatMulT queues C = A·Bᵀ (see GEMM) on stream s. a, b and c are device
// addresses of the row-major matrices.
func (hd *Handle) MatMulT(g GEMM, a, b, c driver.Ptr, s driver.Stream) error {
	if g.Batch == 0 {
		g.Batch = 1
	}
	if err := g.check(); err != nil {
		return err
	}
	return hd.ctx.Do(func() error {
		p, err := hd.plan(planKey{g, alignment(a), alignment(b), alignment(c)}, a, b, s)
		if err != nil {
			return err
		}
		return hd.run(p, &p.algo, a, b, c, g.Accumulate, s)
	})
}

// SetTuning turns the timing of candidate algorithms for new plans on or
// off (plans already made keep their algorithm) and returns the previous
// setting.
func (hd *Handle) SetTuning(on bool) (was bool) {
	hd.mu.Lock()
	defer hd.mu.Unlock()
	was, hd.tuneOn = hd.tuneOn, on
	return was
}

// run queues one cublasLtMatmul of plan p with algorithm al; the context
// is current.
func (hd *Handle) run(p *plan, al *[8]uint64, a, b, c driver.Ptr, accumulate bool, s driver.Stream) error {
	alpha, beta := float32(1), float32(0)
	if accumulate {
		beta = 1
	}
	// Row-major C[M,N] = A·Bᵀ is column-major Cᶜ[N,M] = Bᶜᵀ·Aᶜ, where
	// Bᶜ [K,N] and Aᶜ [K,M] are the same bytes read column-major: the
	// "TN" product cuBLASLt is fastest at.
	r := dl.Call16(fns["cublasLtMatmul"], hd.h, p.desc,
		uintptr(unsafe.Pointer(&alpha)), uintptr(b), p.la, uintptr(a), p.lb,
		uintptr(unsafe.Pointer(&beta)), uintptr(c), p.lc, uintptr(c), p.lc,
		uintptr(unsafe.Pointer(&al[0])), uintptr(hd.ws), uintptr(hd.wsSize), uintptr(s))
	return check("cublasLtMatmul", r)
}
