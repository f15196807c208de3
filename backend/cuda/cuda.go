// Package cuda is the NVIDIA GPU backend: a backend.Backend whose buffers
// live in device memory and whose kernels are rlx's own CUDA C (compiled at
// run time by NVRTC) and cuBLASLt GEMMs. The CUDA libraries are loaded when
// New is called, so binaries built without cgo run on machines without a
// GPU and report why CUDA is unavailable.
//
// The backend implements a growing subset of the op catalog; compile for
// fallback.New(cudaBackend, cpu.New(...)) to run the rest on the host with
// transfers (see backend/fallback). Supported so far: F32 unary ops
// (every one of the catalog), F32 binary arithmetic with broadcasting, RMSNorm
// with a weight, softmax over the last axis, RoPE, Gather, fused elementwise
// chains (generated CUDA C), and MatMul (any transposes,
// batched, F32 weights or F16/BF16 constant weights widened to F32 on the
// device, exact-shape addend) through cuBLASLt.
package cuda

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"

	"github.com/rlx-go/rlx/backend"
	"github.com/rlx-go/rlx/backend/cuda/cublaslt"
	"github.com/rlx-go/rlx/backend/cuda/driver"
	"github.com/rlx-go/rlx/backend/cuda/kernels"
)

// Options configures a Backend.
type Options struct {
	// Device is the GPU ordinal (cuda:N).
	Device int
	// TF32 lets F32 matmuls round their inputs to TF32 on the tensor cores:
	// several times faster, about 1e-3 relative error.
	TF32 bool
	// HalfActivations rounds the activations of tensor-core matmuls with
	// F16/BF16 weights to the weight's type once (one GEMM; about 5e-4
	// relative error for f16, 4e-3 for bf16) instead of splitting them into
	// half terms that sum to about f32 precision (two GEMMs for f16, three
	// for bf16). Quantized weights always use one f16 term.
	HalfActivations bool
}

// Backend runs programs on one GPU.
type Backend struct {
	ctx    *driver.Context
	ks     *kernels.Set
	blas   *cublaslt.Handle
	stream driver.Stream
	tf32   bool
	name   string
	// halfActs: see Options.HalfActivations.
	halfActs bool
	// scr is temporary device memory of the packed-weight matmuls (quant.go).
	scr scratchSpace
	// errFlag is a device int that kernels set on bad input (a gather id
	// out of range); Sync and Read report and clear it.
	errFlag driver.Ptr
	// flagDirty is set when kernels may have run since the flag was last
	// read: a Sync after a Sync (compile's Sync, then Read of the
	// outputs) skips the read.
	flagDirty atomic.Bool
	// flagSlot is page-locked memory that each Execute, when it has
	// queued its kernels, has the flag copied into (asynchronously);
	// flagQueued says that copy was queued since the last Execute began,
	// so Sync reads the slot instead of copying the flag synchronously.
	flagSlot   []byte
	flagQueued atomic.Bool

	// xq holds activations quantized by prep (gemvq_prepare) for the int8
	// GEMV that follows it on the stream (quant.go).
	xq   driver.Ptr
	prep driver.Function

	mu       sync.Mutex
	owned    []driver.Ptr // device copies made by Prepare (widened weights), xq
	prepared map[string]int
	modules  []driver.Module            // generated kernels (fused chains)
	fusedFns map[string]driver.Function // by generated file name

	// exec serializes Execute (a capture must not take in another
	// session's launches) and guards the graph cache (graph.go).
	exec     sync.Mutex
	graphsOn bool
	graphs   map[graphKey]*graphEntry
	gstats   GraphStats
	// gen moves whenever device memory that a captured graph may name is
	// freed or replaced; graphs of an older generation are not replayed.
	gen atomic.Uint64
	// pinned is a page-locked buffer for large reads (copyOutPinned).
	pinMu     sync.Mutex
	pinned    []byte
	pinFailed bool
	// prof, when set, times every node on the device (profile.go).
	prof *profiler

	// Staged input writes (stage.go): stageMu guards the page-locked ring
	// and capturing, which is set while a graph capture is under way.
	asyncWrites bool
	stageMu     sync.Mutex
	stage       []byte
	ring        stageRing
	stageFailed bool
	capturing   bool

	// hmResident caches, per gemvh_* entry point, the blocks one
	// multiprocessor holds (gemvh.go's grid cap).
	hmResident sync.Map
}

var _ backend.Backend = (*Backend)(nil)

// halfActsFromEnv applies RLX_CUDA_HALF_ACTIVATIONS=1 or 0, which overrides
// Options.HalfActivations (A/B measurements).
func halfActsFromEnv(opt bool) bool {
	switch os.Getenv("RLX_CUDA_HALF_ACTIVATIONS") {
	case "1":
		return true
	case "0":
		return false
	}
	return opt
}

// New opens GPU o.Device, compiles (or loads from the cache) the kernels
// and creates a cuBLASLt handle.
func New(o Options) (*Backend, error) {
	c, err := driver.Open(o.Device)
	if err != nil {
		return nil, err
	}
	b := &Backend{ctx: c, tf32: o.TF32, halfActs: halfActsFromEnv(o.HalfActivations), name: fmt.Sprintf("cuda:%d", o.Device), prepared: map[string]int{}, fusedFns: map[string]driver.Function{},
		graphs: map[graphKey]*graphEntry{}, graphsOn: graphsDefault(), asyncWrites: asyncWritesDefault()}
	if b.ks, err = kernels.Load(c); err != nil {
		b.Close()
		return nil, err
	}
	if b.blas, err = cublaslt.New(c); err != nil {
		b.Close()
		return nil, err
	}
	if b.stream, err = c.NewStream(); err != nil {
		b.Close()
		return nil, err
	}
	if b.errFlag, err = c.Alloc(4); err == nil {
		err = c.Memset(b.errFlag, 0, 4)
	}
	if err != nil {
		b.Close()
		return nil, err
	}
	// The activations that gemvq_prepare quantizes for the next int8 GEMV:
	// one buffer of the most any of them takes, allocated here so that its
	// address never changes under a captured graph.
	if b.prep, err = b.ks.Func("gemvq_prepare"); err == nil {
		b.xq, err = c.Alloc(gemvInt8Shared)
	}
	if err != nil {
		b.Close()
		return nil, err
	}
	b.owned = append(b.owned, b.xq)
	if b.asyncWrites {
		// Optional: without it Sync reads the flag synchronously.
		b.flagSlot, _ = c.HostAlloc(64)
	}
	b.profileFromEnv()
	return b, nil
}

// Prepared counts, per op name, the nodes this backend made kernels for.
func (b *Backend) Prepared() map[string]int {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make(map[string]int, len(b.prepared))
	for k, v := range b.prepared {
		out[k] = v
	}
	return out
}

// Device describes the GPU.
func (b *Backend) Device() *driver.Device { return b.ctx.Device }

// Close releases everything New and Prepare made. Buffers from Alloc and
// Wrap must be freed before.
func (b *Backend) Close() error {
	var first error
	keep := func(err error) {
		if err != nil && first == nil {
			first = err
		}
	}
	if b.stream != 0 {
		keep(b.ctx.SyncStream(b.stream))
	}
	b.logProfile()
	b.exec.Lock()
	b.dropGraphs()
	b.freeProfile()
	b.exec.Unlock()
	b.mu.Lock()
	for _, p := range b.owned {
		keep(b.ctx.Free(p))
	}
	b.owned = nil
	for _, m := range b.modules {
		keep(b.ctx.Unload(m))
	}
	b.modules = nil
	b.mu.Unlock()
	keep(b.freeScratch())
	if b.blas != nil {
		keep(b.blas.Close())
		b.blas = nil
	}
	if b.ks != nil {
		keep(b.ks.Close())
		b.ks = nil
	}
	if b.stream != 0 {
		keep(b.ctx.DestroyStream(b.stream))
		b.stream = 0
	}
	b.pinMu.Lock()
	if b.pinned != nil {
		keep(b.ctx.HostFree(b.pinned))
		b.pinned = nil
	}
	b.pinMu.Unlock()
	keep(b.freeStage())
	if b.flagSlot != nil {
		keep(b.ctx.HostFree(b.flagSlot))
		b.flagSlot = nil
	}
	if b.errFlag != 0 {
		keep(b.ctx.Free(b.errFlag))
		b.errFlag = 0
	}
	keep(b.ctx.Close())
	return first
}

// Name implements backend.Backend.
func (b *Backend) Name() string { return b.name }

// Buffer is device memory.
type Buffer struct {
	p driver.Ptr
	n int64
}

// Size implements backend.Buffer.
func (x *Buffer) Size() int64 { return x.n }

// Alloc implements backend.Backend: zeroed device memory.
func (b *Backend) Alloc(n int64) (backend.Buffer, error) {
	if n < 0 {
		return nil, fmt.Errorf("cuda: cannot allocate %d bytes", n)
	}
	if n == 0 {
		return &Buffer{}, nil
	}
	p, err := b.ctx.Alloc(n)
	if err != nil {
		return nil, err
	}
	if err := b.ctx.MemsetAsync(p, 0, n, b.stream); err != nil {
		b.ctx.Free(p)
		return nil, err
	}
	return &Buffer{p: p, n: n}, nil
}

// Wrap implements backend.Backend: a device copy of data.
func (b *Backend) Wrap(data []byte) (backend.Buffer, error) {
	if len(data) == 0 {
		return &Buffer{}, nil
	}
	p, err := b.ctx.Alloc(int64(len(data)))
	if err != nil {
		return nil, err
	}
	if err := b.copyIn(p, data); err != nil {
		b.ctx.Free(p)
		return nil, err
	}
	return &Buffer{p: p, n: int64(len(data))}, nil
}

// Free implements backend.Backend.
func (b *Backend) Free(x backend.Buffer) {
	buf, ok := x.(*Buffer)
	if !ok || buf.p == 0 {
		return
	}
	// Kernels queued on the stream may still read it, and graphs may name it.
	b.invalidate()
	b.ctx.SyncStream(b.stream)
	b.ctx.Free(buf.p)
	buf.p = 0
}

// Sync implements backend.Backend. It reports bad input that a kernel
// flagged since the last check.
func (b *Backend) Sync() error {
	mark := b.stageMark()
	// Read before waiting: the slot holds the flag only if its copy was
	// queued before the wait began.
	slotted := b.flagQueued.Load()
	if err := b.ctx.SyncStream(b.stream); err != nil {
		return err
	}
	b.stageRetire(mark)
	if !b.flagDirty.Swap(false) {
		return nil
	}
	if slotted {
		return b.checkFlagSlot()
	}
	return b.checkFlag()
}

// queueFlagRead ends an Execute: it marks the flag dirty and, where there
// is a page-locked slot, queues a copy of the flag into it after the
// kernels just queued.
func (b *Backend) queueFlagRead() {
	b.flagDirty.Store(true)
	if b.flagSlot == nil {
		return
	}
	if b.ctx.CopyDtoHAsync(b.flagSlot[:4], b.errFlag, b.stream) == nil {
		b.flagQueued.Store(true)
	}
}

// checkFlagSlot is checkFlag for a flag already copied into flagSlot; the
// stream must be idle.
func (b *Backend) checkFlagSlot() error {
	if [4]byte(b.flagSlot[:4]) == [4]byte{} {
		return nil
	}
	clear(b.flagSlot[:4])
	if err := b.ctx.Memset(b.errFlag, 0, 4); err != nil {
		return err
	}
	return ErrBadIndex
}

// ErrBadIndex is reported by Sync and Read after a kernel met an index out
// of range (a gather id); the affected values are NaN.
var ErrBadIndex = errors.New("cuda: an index was out of range (gather id): results hold NaNs")

// checkFlag reads and clears the error flag; the stream must be idle.
func (b *Backend) checkFlag() error {
	var f [4]byte
	if err := b.ctx.CopyDtoH(f[:], b.errFlag); err != nil {
		return err
	}
	if f == [4]byte{} {
		return nil
	}
	if err := b.ctx.Memset(b.errFlag, 0, 4); err != nil {
		return err
	}
	return ErrBadIndex
}

// view returns the device address of a view after checking its bounds.
func view(t backend.Tensor) (driver.Ptr, int64, error) {
	buf, ok := t.Buf.(*Buffer)
	if !ok {
		return 0, 0, fmt.Errorf("cuda: buffer %T is not a CUDA buffer", t.Buf)
	}
	n := t.Bytes()
	if t.Off < 0 || n < 0 || t.Off+n > buf.n {
		return 0, 0, fmt.Errorf("cuda: view [%d, +%d) outside a buffer of %d bytes", t.Off, n, buf.n)
	}
	return buf.p.Add(t.Off), n, nil
}

// copyIn and copyOut go through the backend's stream so they are ordered
// with its kernels, and wait, so the host slice is free on return.
func (b *Backend) copyIn(p driver.Ptr, src []byte) error {
	if err := b.ctx.CopyHtoDAsync(p, src, b.stream); err != nil {
		return err
	}
	return b.ctx.SyncStream(b.stream)
}

func (b *Backend) copyOut(dst []byte, p driver.Ptr) error {
	if len(dst) >= pinnedMin {
		if done, err := b.copyOutPinned(dst, p); done {
			return err
		}
	}
	if err := b.ctx.CopyDtoHAsync(dst, p, b.stream); err != nil {
		return err
	}
	return b.Sync()
}

// pinnedMin is the smallest read that goes through the page-locked
// buffer: a decode step's logits (150k floats) come back ~10× faster than
// into pageable memory, which the driver stages in small pieces.
const pinnedMin = 64 << 10

// copyOutPinned reads through the backend's page-locked buffer (grown on
// demand). done is false when no such buffer can be had; the caller then
// copies directly.
func (b *Backend) copyOutPinned(dst []byte, p driver.Ptr) (done bool, err error) {
	b.pinMu.Lock()
	defer b.pinMu.Unlock()
	if len(b.pinned) < len(dst) {
		if b.pinFailed {
			return false, nil
		}
		if b.pinned != nil {
			b.ctx.HostFree(b.pinned)
			b.pinned = nil
		}
		buf, err := b.ctx.HostAlloc((int64(len(dst)) + 1<<20 - 1) &^ (1<<20 - 1))
		if err != nil {
			b.pinFailed = true
			return false, nil
		}
		b.pinned = buf
	}
	if err := b.ctx.CopyDtoHAsync(b.pinned[:len(dst)], p, b.stream); err != nil {
		return true, err
	}
	if err := b.Sync(); err != nil {
		return true, err
	}
	copy(dst, b.pinned)
	return true, nil
}

// Write implements backend.Backend. A small write is queued on the stream
// from a page-locked copy and not waited for (stage.go); src is free on
// return either way.
func (b *Backend) Write(dst backend.Tensor, src []byte) error {
	if dst.Buf == nil {
		return fmt.Errorf("cuda: write into a nil buffer")
	}
	p, n, err := view(dst)
	if err != nil {
		return err
	}
	if int64(len(src)) != n {
		return fmt.Errorf("cuda: write of %d bytes into %v%v (%d bytes)", len(src), dst.DType, dst.Shape, n)
	}
	if n == 0 {
		return nil
	}
	if done, err := b.writeStaged(p, src); done {
		return err
	}
	return b.copyIn(p, src)
}

// Read implements backend.Backend.
func (b *Backend) Read(src backend.Tensor, dst []byte) error {
	p, n, err := view(src)
	if err != nil {
		return err
	}
	if int64(len(dst)) != n {
		return fmt.Errorf("cuda: read of %v%v (%d bytes) into %d bytes", src.DType, src.Shape, n, len(dst))
	}
	if n == 0 {
		return nil
	}
	return b.copyOut(dst, p)
}

// Execute implements backend.Backend: device kernels are queued on the
// stream; a host kernel (a fallback) runs in place and synchronizes itself.
// A list executed again with the same views and binding (a decode step) is
// captured into a CUDA graph and replayed from then on (graph.go).
func (b *Backend) Execute(ctx context.Context, env *backend.Env, ls []backend.Launch) error {
	if len(ls) == 0 {
		return ctx.Err()
	}
	b.exec.Lock()
	defer b.exec.Unlock()
	// Set again on return: a host node's Read inside the list may have
	// checked (and cleared) the flag before later kernels ran. Until the
	// list is queued, a Sync (a host node's) reads the flag itself.
	b.flagQueued.Store(false)
	defer b.queueFlagRead()
	if b.prof != nil {
		return b.executeProfiled(ctx, env, b.fuseLaunches(env, ls))
	}
	if !b.graphsOn {
		b.gstats.Plain++
		return b.launchAll(ctx, env, ls)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return b.executeGraph(ctx, env, ls)
}
