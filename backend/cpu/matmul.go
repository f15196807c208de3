package cpu

import (
	"fmt"
	"unsafe"

	"github.com/rlx-go/rlx/backend"
	"github.com/rlx-go/rlx/backend/cpu/gemm"
	"github.com/rlx-go/rlx/ir"
	"github.com/rlx-go/rlx/quant"
	"github.com/rlx-go/rlx/tensor"
)

// toF32 converts a float tensor's elements to a new float32 slice.
func toF32(dt tensor.DType, data []byte, n int) ([]float32, error) {
	out := make([]float32, n)
	switch {
	case dt.Quantized():
		if err := quant.Dequantize(dt, out, data); err != nil {
			return nil, err
		}
	default:
		for i := range out {
			out[i] = loadF32(data, dt, i)
		}
	}
	return out, nil
}

func canDequant(dt tensor.DType) bool { return dt.Quantized() && quant.CanDequantize(dt) }

// matmul multiplies batched operands as y = a·b with optional transposes,
// through the gemm package. A constant rank-2 right operand (a weight) is
// prepared once: float32 weights are packed into the micro-kernel's panel
// order; 16-bit NK weights are packed into 16-bit strips (gemm.PackHalf:
// the weight's own size, widened in the kernels) where the CPU has kernels
// for them, else kept as stored (zero-copy) and streamed by gemm's GEMV
// path; Options.PackHalfWeights packs them to float32 panels instead.
type matmul struct {
	b      *Backend
	transA bool
	transB bool
	add    bool          // a third input is added (epilogue)
	packed *gemm.PackedB // constant weight, packed
	weight *gemm.B       // constant 16-bit weight, as stored
	n, k   int           // of the constant weight
}

func (b *Backend) matmulKernel(n *ir.Node, consts []*tensor.Tensor) (backend.Kernel, error) {
	a := n.Attr.(*ir.MatMulAttr)
	m := &matmul{b: b, transA: a.TransA, transB: a.TransB, add: a.Add}
	w := consts[1]
	if w == nil || len(w.Shape) != 2 {
		return m, nil
	}
	m.k, m.n = w.Shape[0], w.Shape[1]
	if a.TransB {
		m.n, m.k = m.k, m.n
	}
	gb, err := gemmB(backend.Tensor{}, w, a.TransB)
	if err != nil {
		return nil, fmt.Errorf("cpu: weight %q: %w", n.Inputs[1].Name, err)
	}
	switch {
	case gb.DType == tensor.F32 || b.packHalf:
		pb, err := gemm.Pack(b.pool, gb, m.n, m.k)
		if err != nil {
			return nil, fmt.Errorf("cpu: packing %q: %w", n.Inputs[1].Name, err)
		}
		m.packed = pb
	case gemm.HalfKernels(gb.DType):
		// 16-bit strips, the weight's own size: prefill skips the
		// per-call transpose, decode streams the strips, and the kernel
		// keeps no reference to the weight as stored.
		pb, err := gemm.PackHalf(b.pool, gb, m.n, m.k)
		if err != nil {
			return nil, fmt.Errorf("cpu: packing %q: %w", n.Inputs[1].Name, err)
		}
		m.packed = pb
	default:
		m.weight = &gb
	}
	return m, nil
}

// gemmB describes a right operand (a view, or a host tensor when h is set)
// for gemm. 16-bit operands must be in the NK layout; KN ones are converted
// to float32.
func gemmB(v backend.Tensor, h *tensor.Tensor, transB bool) (gemm.B, error) {
	dt, data, shape := v.DType, []byte(nil), v.Shape
	if h != nil {
		dt, data, shape = h.DType, h.Data, h.Shape
	} else {
		data = raw(v)
	}
	layout := gemm.KN
	if transB {
		layout = gemm.NK
	}
	switch {
	case dt == tensor.F32:
		return gemm.B{Layout: layout, DType: tensor.F32, F32: bytesF32(data)}, nil
	case (dt == tensor.F16 || dt == tensor.BF16) && transB:
		return gemm.B{Layout: layout, DType: dt, U16: bytesU16(data)}, nil
	}
	vals, err := toF32(dt, data, tensor.NumElements(shape))
	if err != nil {
		return gemm.B{}, err
	}
	return gemm.B{Layout: layout, DType: tensor.F32, F32: vals}, nil
}

// transposeLast2 swaps the last two axes of a row-major f32 tensor.
func transposeLast2(v []float32, shape []int) []float32 {
	r := len(shape)
	rows, cols := shape[r-2], shape[r-1]
	out := make([]float32, len(v))
	mat := rows * cols
	for b := 0; b < len(v)/max(mat, 1); b++ {
		src, dst := v[b*mat:(b+1)*mat], out[b*mat:(b+1)*mat]
		for i := range rows {
			for j := range cols {
				dst[j*rows+i] = src[i*cols+j]
			}
		}
	}
	return out
}

// Run implements backend.Kernel.
func (m *matmul) Run(_ *backend.Env, ins []backend.Tensor, out backend.Tensor) error {
	a, w := ins[0], ins[1]
	ra, rw, ro := len(a.Shape), len(w.Shape), len(out.Shape)
	M, N := out.Shape[ro-2], out.Shape[ro-1]
	K := a.Shape[ra-1]
	if m.transA {
		K = a.Shape[ra-2]
	}
	y := f32(out)
	if len(y) == 0 {
		return nil
	}
	x := f32(a)
	if m.transA {
		x = transposeLast2(x, a.Shape)
	}
	acc := m.add
	if acc {
		fillBroadcast(m.b, y, ins[2], out.Shape)
	}
	if K == 0 {
		if !acc {
			clear(y)
		}
		return nil
	}
	if m.packed != nil || m.weight != nil {
		// A 2-D weight applies to every row of every batch item.
		rows := len(y) / N
		if m.packed != nil {
			return m.packed.MatMul(m.b.pool, gemm.Matrix{Data: y}, gemm.Matrix{Data: x}, rows, acc)
		}
		return gemm.MatMul(m.b.pool, gemm.Matrix{Data: y}, gemm.Matrix{Data: x}, *m.weight, rows, N, K, acc)
	}
	gb, err := gemmB(w, nil, m.transB)
	if err != nil {
		return err
	}
	batch := out.Shape[:ro-2]
	nb := tensor.NumElements(batch)
	xs := bstrides(a.Shape[:ra-2], batch)
	ws := bstrides(w.Shape[:rw-2], batch)
	xOff := make([]int, nb)
	wOff := make([]int, nb)
	idx := make([]int, len(batch))
	regular := true
	for bi := range nb {
		for k, v := range idx {
			xOff[bi] += v * xs[k] * M * K
			wOff[bi] += v * ws[k] * N * K
		}
		regular = regular && xOff[bi] == bi*xOff[min(1, nb-1)] && wOff[bi] == bi*wOff[min(1, nb-1)]
		for k := len(idx) - 1; k >= 0; k-- {
			idx[k]++
			if idx[k] < batch[k] {
				break
			}
			idx[k] = 0
		}
	}
	if regular {
		sx, sw := 0, 0
		if nb > 1 {
			sx, sw = xOff[1], wOff[1]
		}
		return gemm.BatchedMatMul(m.b.pool, nb, gemm.Matrix{Data: y}, M*N, gemm.Matrix{Data: x}, sx, gb, sw, M, N, K, acc)
	}
	for bi := range nb {
		bb := gb
		if bb.F32 != nil {
			bb.F32 = bb.F32[wOff[bi]:]
		} else {
			bb.U16 = bb.U16[wOff[bi]:]
		}
		if err := gemm.MatMul(m.b.pool, gemm.Matrix{Data: y[bi*M*N:]}, gemm.Matrix{Data: x[xOff[bi]:]}, bb, M, N, K, acc); err != nil {
			return err
		}
	}
	return nil
}

// fillBroadcast writes c, broadcast to shape, into y: a plain copy, rows of
// a bias vector, or the general strided gather.
func fillBroadcast(b *Backend, y []float32, c backend.Tensor, shape []int) {
	cnt := tensor.NumElements(c.Shape)
	last := 1
	if len(shape) > 0 {
		last = shape[len(shape)-1]
	}
	switch {
	case c.DType == tensor.F32 && cnt == len(y):
		copy(y, f32(c))
	case c.DType == tensor.F32 && cnt == last && (len(c.Shape) == 0 || c.Shape[len(c.Shape)-1] == last):
		v := f32(c)
		for r := 0; r < len(y); r += last {
			copy(y[r:r+last], v)
		}
	default:
		gatherBroadcast(y, raw(c), c.DType, bstrides(c.Shape, shape), shape, 0, make([]int, len(shape)))
	}
}

func bytesF32(d []byte) []float32 {
	if len(d) < 4 {
		return nil
	}
	return unsafe.Slice((*float32)(unsafe.Pointer(&d[0])), len(d)/4)
}

func bytesU16(d []byte) []uint16 {
	if len(d) < 2 {
		return nil
	}
	return unsafe.Slice((*uint16)(unsafe.Pointer(&d[0])), len(d)/2)
}

// dequantMatMul multiplies by a block-quantized weight [N, K] through
// quant.Matrix: the weight stays packed (in place for the types the quant
// package does not repack), and the common GGUF types use integer dot
// products on activations quantized to 8 bits per block.
type dequantMatMul struct {
	b   *Backend
	m   *quant.Matrix
	add bool
}

func (b *Backend) dequantMatMulKernel(n *ir.Node, consts []*tensor.Tensor) (backend.Kernel, error) {
	w := consts[1]
	if w == nil {
		return nil, fmt.Errorf("cpu: quantized matmul weight %q must be a Param", n.Inputs[1].Name)
	}
	m, err := quant.NewMatrix(w.DType, w.Shape[0], w.Shape[1], w.Data)
	if err != nil {
		return nil, fmt.Errorf("cpu: weight %q: %w", n.Inputs[1].Name, err)
	}
	return &dequantMatMul{b: b, m: m, add: n.Attr.(*ir.MatMulAttr).Add}, nil
}

// Run implements backend.Kernel.
func (d *dequantMatMul) Run(_ *backend.Env, ins []backend.Tensor, out backend.Tensor) error {
	y := f32(out)
	if len(y) == 0 {
		return nil
	}
	if !d.add {
		return d.m.MatMul(d.b.pool, y, f32(ins[0]))
	}
	// quant.Matrix has no accumulate mode: multiply, then add the addend.
	if err := d.m.MatMul(d.b.pool, y, f32(ins[0])); err != nil {
		return err
	}
	c := ins[2]
	if c.DType == tensor.F32 && tensor.NumElements(c.Shape) == len(y) {
		for i, v := range f32(c) {
			y[i] += v
		}
		return nil
	}
	tmp := make([]float32, len(y))
	fillBroadcast(d.b, tmp, c, out.Shape)
	for i, v := range tmp {
		y[i] += v
	}
	return nil
}
