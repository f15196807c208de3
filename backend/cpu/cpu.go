// Package cpu is the CPU backend: host buffers, a kernel for every op of
// the IR catalog (dispatched on op and dtypes when a program is compiled),
// and an executor that runs a program's launches on the persistent worker
// pool, checking for cancellation between launches.
//
// Heavy kernels (matmul, attention, norms, rope, elementwise, softmax) come
// from backend/cpu/kernels, backend/cpu/gemm and quant; data movement and
// the rarer ops are written here directly.
package cpu

import (
	"context"
	"fmt"
	"runtime"
	"unsafe"

	"github.com/rlx-go/rlx/backend"
	"github.com/rlx-go/rlx/backend/cpu/gemm"
	"github.com/rlx-go/rlx/backend/cpu/parallel"
	"github.com/rlx-go/rlx/internal/offheap"
	"github.com/rlx-go/rlx/ir"
	"github.com/rlx-go/rlx/quant"
	"github.com/rlx-go/rlx/tensor"
)

// Options configures a CPU backend.
type Options struct {
	// Pool runs the kernels; nil means parallel.Default().
	Pool *parallel.Pool
	// Poison overwrites every activation buffer with NaN bytes (0xFF) right
	// after its last use, so a memory plan that lets a later kernel read a
	// dead buffer produces NaNs instead of plausible numbers. For tests.
	Poison bool
	// PackHalfWeights packs F16/BF16 matmul weights into float32 panels
	// at compile time: twice the weight memory of an F16 file. By default
	// they are packed into 16-bit strips of their own size where the CPU
	// has kernels for them (AVX-512), and kept as stored elsewhere.
	PackHalfWeights bool
}

// Backend runs programs on the host CPU.
type Backend struct {
	pool     *parallel.Pool
	poison   bool
	packHalf bool
}

// New returns a CPU backend.
func New(o Options) *Backend {
	p := o.Pool
	if p == nil {
		p = parallel.Default()
	}
	return &Backend{pool: p, poison: o.Poison, packHalf: o.PackHalfWeights}
}

var _ backend.Backend = (*Backend)(nil)

// Name implements backend.Backend.
func (b *Backend) Name() string { return "cpu" }

// Pool is the worker pool kernels run on.
func (b *Backend) Pool() *parallel.Pool { return b.pool }

// Buffer is host memory.
type Buffer struct {
	data  []byte
	block *offheap.Block // data's own mapping, returned by Free; nil: heap
}

// Size implements backend.Buffer.
func (b *Buffer) Size() int64 { return int64(len(b.data)) }

// Bytes exposes the memory.
func (b *Buffer) Bytes() []byte { return b.data }

// Alloc implements backend.Backend: zeroed memory aligned to 64 bytes.
func (b *Backend) Alloc(n int64) (backend.Buffer, error) {
	if n < 0 || n > 1<<46 {
		return nil, fmt.Errorf("cpu: cannot allocate %d bytes", n)
	}
	// Large buffers (a session's activation arena, its KV cache) live in
	// mappings of their own that Free returns at once: on the heap a closed
	// session's memory would stay resident beside the next session's until
	// a collection, and would buy the collector's headroom on top.
	if n >= mappedFrom {
		k, err := offheap.Map(int(n))
		if err != nil {
			return nil, fmt.Errorf("cpu: cannot allocate %d bytes: %w", n, err)
		}
		if k != nil {
			buf := &Buffer{data: k.Bytes(), block: k}
			// A buffer dropped without Free is unmapped by the collector.
			runtime.AddCleanup(buf, (*offheap.Block).Free, k)
			return buf, nil
		}
	}
	return &Buffer{data: alignedBytes(int(n))}, nil
}

func alignedBytes(n int) []byte {
	raw := make([]byte, n+64)
	off := 0
	if n > 0 {
		off = int(-uintptr(unsafe.Pointer(&raw[0])) & 63)
	}
	return raw[off : off+n : off+n]
}

// Wrap implements backend.Backend: data is used in place when it is
// 8-byte aligned (mmapped weights stay zero-copy), copied otherwise.
func (b *Backend) Wrap(data []byte) (backend.Buffer, error) {
	if len(data) == 0 || uintptr(unsafe.Pointer(&data[0]))&7 == 0 {
		return &Buffer{data: data}, nil
	}
	c := alignedBytes(len(data))
	copy(c, data)
	return &Buffer{data: c}, nil
}

// mappedFrom is the size from which Alloc maps a buffer of its own: a
// layer's K or V cache of a small model (Qwen3-0.6B at 640 tokens: 1.3 MB)
// included, a few dozen mappings a session.
const mappedFrom = 1 << 20

// Free implements backend.Backend: a buffer with a mapping of its own (see
// Alloc) is unmapped now; the collector reclaims the rest.
func (b *Backend) Free(x backend.Buffer) {
	if buf, ok := x.(*Buffer); ok && buf.block != nil {
		buf.block.Free()
		buf.block, buf.data = nil, nil
	}
}

// Sync implements backend.Backend; CPU kernels are synchronous.
func (b *Backend) Sync() error { return nil }

// Write implements backend.Backend.
func (b *Backend) Write(dst backend.Tensor, src []byte) error {
	d, err := bytesOf(dst)
	if err != nil {
		return err
	}
	if len(src) != len(d) {
		return fmt.Errorf("cpu: write of %d bytes into %v%v (%d bytes)", len(src), dst.DType, dst.Shape, len(d))
	}
	copy(d, src)
	return nil
}

// Read implements backend.Backend.
func (b *Backend) Read(src backend.Tensor, dst []byte) error {
	s, err := bytesOf(src)
	if err != nil {
		return err
	}
	if len(s) != len(dst) {
		return fmt.Errorf("cpu: read of %v%v (%d bytes) into %d bytes", src.DType, src.Shape, len(s), len(dst))
	}
	copy(dst, s)
	return nil
}

// Execute implements backend.Backend. A kernel that panics (a bug: the
// compiler checked every shape) is reported as an error naming the node
// rather than taking the process down.
func (b *Backend) Execute(ctx context.Context, env *backend.Env, ls []backend.Launch) (err error) {
	cur := -1
	defer func() {
		if r := recover(); r != nil {
			node := "?"
			if cur >= 0 {
				node = ls[cur].Node.String()
			}
			err = fmt.Errorf("cpu: internal error in kernel for %s: %v", node, r)
		}
	}()
	done := ctx.Done()
	for i := 0; i < len(ls); {
		cur = i
		l := &ls[i]
		if done != nil {
			select {
			case <-done:
				return ctx.Err()
			default:
			}
		}
		n := 1
		if g := siblingMatMuls(ls[i:]); g > 1 {
			if err := b.runMatMulGroup(ls[i : i+g]); err != nil {
				return fmt.Errorf("cpu: %v: %w", l.Node, err)
			}
			n = g
		} else if err := l.Kernel.Run(env, l.Ins, l.Out); err != nil {
			return fmt.Errorf("cpu: %v: %w", l.Node, err)
		}
		if b.poison {
			for _, l := range ls[i : i+n] {
				for _, r := range l.Release {
					d, _ := bytesOf(r)
					for j := range d {
						d[j] = 0xFF
					}
				}
			}
		}
		i += n
	}
	return nil
}

// groupMaxInput is the largest input (elements) for which consecutive
// quantized matmuls are grouped: decode-sized, where a fork/join per
// matrix costs as much as a good share of the matrix. Larger inputs go
// through each matrix's own MatMul.
const groupMaxInput = 1 << 14

// siblingMatMuls returns how many launches at the start of ls are
// matmuls without an epilogue that read the same decode-sized input (a
// layer's q/k/v projections, its gate/up projections) and can run as one
// parallel call: quantized weights (quant.MatMulGroup) or packed float
// weights (gemm.MatMulGroup), not mixed. Their outputs are distinct live
// values (each is read after the group, so the planner gave them disjoint
// memory), and none reads another's output.
func siblingMatMuls(ls []backend.Launch) int {
	if len(ls) < 2 {
		return 1
	}
	kind, cols, most := groupable(ls[0].Kernel)
	if kind == 0 {
		return 1
	}
	x := ls[0].Ins[0]
	nx := tensor.NumElements(x.Shape)
	if nx == 0 || nx > groupMaxInput {
		return 1
	}
	n := 1
	for n < len(ls) && n < most {
		k, c, _ := groupable(ls[n].Kernel)
		if k != kind || c != cols {
			break
		}
		y := ls[n].Ins[0]
		if y.Buf != x.Buf || y.Off != x.Off || y.DType != x.DType || tensor.NumElements(y.Shape) != nx {
			break
		}
		n++
	}
	return n
}

// groupable says whether a kernel may join a group of sibling matmuls:
// its kind (0: no, 1: quantized, 2: packed float weight), its reduction
// depth and the largest group of its kind.
func groupable(k backend.Kernel) (kind, cols, most int) {
	switch d := k.(type) {
	case *dequantMatMul:
		if !d.add {
			return 1, d.m.Cols(), quant.MaxGroup
		}
	case *matmul:
		if d.packed != nil && !d.add && !d.transA {
			return 2, d.k, gemm.MaxGroup
		}
	}
	return 0, 0, 0
}

// runMatMulGroup runs sibling matmuls (see siblingMatMuls) as one
// quant.MatMulGroup or gemm.MatMulGroup call: one fork/join for all of
// them.
func (b *Backend) runMatMulGroup(ls []backend.Launch) error {
	x := f32(ls[0].Ins[0])
	if mm, ok := ls[0].Kernel.(*matmul); ok {
		var ws [gemm.MaxGroup]*gemm.PackedB
		var cs [gemm.MaxGroup]gemm.Matrix
		for i, l := range ls {
			ws[i], cs[i] = l.Kernel.(*matmul).packed, gemm.Matrix{Data: f32(l.Out)}
		}
		return gemm.MatMulGroup(b.pool, ws[:len(ls)], cs[:len(ls)], gemm.Matrix{Data: x}, len(x)/mm.k)
	}
	var ms [quant.MaxGroup]*quant.Matrix
	var ys [quant.MaxGroup][]float32
	for i, l := range ls {
		ms[i], ys[i] = l.Kernel.(*dequantMatMul).m, f32(l.Out)
	}
	return quant.MatMulGroup(b.pool, ms[:len(ls)], ys[:len(ls)], x)
}

// bytesOf returns the bytes of a view.
func bytesOf(t backend.Tensor) ([]byte, error) {
	buf, ok := t.Buf.(*Buffer)
	if !ok {
		return nil, fmt.Errorf("cpu: buffer %T is not a CPU buffer", t.Buf)
	}
	var n int64
	if bs := t.DType.BlockSize(); bs == 1 {
		n = int64(t.DType.BlockBytes())
		for _, d := range t.Shape {
			n *= int64(d)
		}
	} else {
		var err error
		if n, err = tensor.Bytes(t.DType, t.Shape); err != nil {
			return nil, err
		}
	}
	if t.Off < 0 || t.Off+n > int64(len(buf.data)) {
		return nil, fmt.Errorf("cpu: view [%d, +%d) outside a buffer of %d bytes", t.Off, n, len(buf.data))
	}
	return buf.data[t.Off : t.Off+n : t.Off+n], nil
}

// view helpers for kernels; the compiler guarantees dtypes and sizes, so
// they do not return errors (a mismatch would be a compiler bug).

func raw(t backend.Tensor) []byte {
	d, err := bytesOf(t)
	if err != nil {
		panic(err)
	}
	return d
}

func f32(t backend.Tensor) []float32 {
	d := raw(t)
	if len(d) == 0 {
		return nil
	}
	return unsafe.Slice((*float32)(unsafe.Pointer(&d[0])), len(d)/4)
}

func u16(t backend.Tensor) []uint16 {
	d := raw(t)
	if len(d) == 0 {
		return nil
	}
	return unsafe.Slice((*uint16)(unsafe.Pointer(&d[0])), len(d)/2)
}

func i32(t backend.Tensor) []int32 {
	d := raw(t)
	if len(d) == 0 {
		return nil
	}
	return unsafe.Slice((*int32)(unsafe.Pointer(&d[0])), len(d)/4)
}

func i64(t backend.Tensor) []int64 {
	d := raw(t)
	if len(d) == 0 {
		return nil
	}
	return unsafe.Slice((*int64)(unsafe.Pointer(&d[0])), len(d)/8)
}

// kernelFunc adapts a function to backend.Kernel.
type kernelFunc func(env *backend.Env, ins []backend.Tensor, out backend.Tensor) error

// Run implements backend.Kernel.
func (f kernelFunc) Run(env *backend.Env, ins []backend.Tensor, out backend.Tensor) error {
	return f(env, ins, out)
}

// Supports implements backend.Backend.
func (b *Backend) Supports(n *ir.Node) error {
	why := supports(n)
	if why == "" {
		return nil
	}
	return backend.Unsupported("cpu", n, why)
}

func scalarType(dt tensor.DType) bool {
	return dt.Valid() && !dt.Quantized() && dt != tensor.F8E4M3 && dt != tensor.F8E5M2
}

// supports returns "" when a kernel exists for n, or the reason.
func supports(n *ir.Node) string {
	in := func(i int) tensor.DType { return n.Inputs[i].DType }
	switch k := n.Op.Kind(); {
	case k == ir.KindUnary:
		if n.DType != tensor.F32 {
			return "unary ops compute in F32 only"
		}
		return ""
	case k == ir.KindBinary || k == ir.KindCompare:
		switch in(0) {
		case tensor.F32, tensor.I32, tensor.I64:
			return ""
		}
		return "binary ops take F32, I32 or I64"
	}
	switch n.Op {
	case ir.OpWhere:
		if !scalarType(n.DType) {
			return "where of this dtype"
		}
	case ir.OpCast:
		if !scalarType(in(0)) || !scalarType(n.DType) {
			return "cast between these types"
		}
	case ir.OpFused:
		if n.DType != tensor.F32 {
			return "fused chains compute in F32 only"
		}
		for _, x := range n.Inputs {
			if !scalarType(x.DType) {
				return "fused input type"
			}
		}
	case ir.OpMatMul:
		if in(0) != tensor.F32 || !(in(1) == tensor.F32 || in(1) == tensor.F16 || in(1) == tensor.BF16) {
			return "matmul needs F32 activations and F32/F16/BF16 weights"
		}
	case ir.OpDequantMatMul:
		if in(0) != tensor.F32 || !canDequant(in(1)) || n.Attr.(*ir.MatMulAttr).TransA {
			return "no dequantizer for this weight type"
		}
	case ir.OpSoftmax, ir.OpReduceSum, ir.OpReduceMean, ir.OpReduceMax, ir.OpArgMax, ir.OpConv1D, ir.OpConv2D:
		for i := range n.Inputs {
			if in(i) != tensor.F32 {
				return "F32 only"
			}
		}
	case ir.OpLayerNorm, ir.OpRMSNorm:
		if in(0) != tensor.F32 {
			return "F32 activations only"
		}
		for i := 1; i < len(n.Inputs); i++ {
			if in(i) != tensor.F32 && n.Inputs[i].Op != ir.OpParam && n.Inputs[i].Op != ir.OpConst {
				return "non-constant norm weights must be F32"
			}
		}
	case ir.OpRoPE:
		if in(0) != tensor.F32 {
			return "F32 only"
		}
	case ir.OpAttention:
		a := n.Attr.(*ir.AttentionAttr)
		if in(0) != tensor.F32 {
			return "F32 queries only"
		}
		if a.Window > 0 && !a.Causal {
			return "a sliding window needs causal attention"
		}
		if a.Cached {
			end := len(n.Inputs)
			if a.PerRow {
				end--
			}
			for _, c := range n.Inputs[end-2 : end] {
				if c.DType != tensor.F32 && c.DType != tensor.F16 {
					return "KV caches are F32 or F16"
				}
			}
		}
		if a.Masked {
			m := n.Inputs[3].Shape
			if c, ok := m[len(m)-1].Const(); ok && c == 1 {
				if s, ok := n.Inputs[1].Shape[1].Const(); !a.Cached && ok && s == 1 {
					return ""
				}
				return "a mask broadcast along the key axis"
			}
		}
	case ir.OpGather:
		t := in(0)
		if !(t == tensor.F32 || t == tensor.F16 || t == tensor.BF16 || t == tensor.I32 || t == tensor.I64 || canDequant(t)) {
			return "gather from this table type"
		}
	case ir.OpConcat, ir.OpSlice, ir.OpPermute, ir.OpExpand, ir.OpPad, ir.OpAssign, ir.OpReshape:
		if !scalarType(n.DType) {
			return "data movement of this dtype"
		}
	case ir.OpTopK, ir.OpRoPETable:
		for i := range n.Inputs {
			if in(i) != tensor.F32 {
				return "F32 only"
			}
		}
	case ir.OpMoE:
		for i := 2; i < len(n.Inputs); i++ {
			if dt := in(i); !(dt == tensor.F32 || dt == tensor.F16 || dt == tensor.BF16 || canDequant(dt)) {
				return "expert weights of this dtype"
			}
		}
	case ir.OpRange:
		if n.DType != tensor.I32 && n.DType != tensor.I64 && n.DType != tensor.F32 {
			return "range of this dtype"
		}
	default:
		return "no kernel"
	}
	return ""
}
