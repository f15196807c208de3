package cpu

import (
	"fmt"

	"github.com/rlx-go/rlx/backend"
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

// matmul multiplies batched operands as y = a·b with optional transposes.
// Constant right operands (weights) are packed once into float32 rows of K
// ([batch…, N, K]); the inner loop is then a dot product of two contiguous
// rows for every layout.
type matmul struct {
	b          *Backend
	transA     bool
	transB     bool
	packed     []float32 // constant right operand as [batch…, N, K]
	packedDims []int     // its batch dims
}

func (b *Backend) matmulKernel(n *ir.Node, consts []*tensor.Tensor) (backend.Kernel, error) {
	a := n.Attr.(*ir.MatMulAttr)
	m := &matmul{b: b, transA: a.TransA, transB: a.TransB}
	if w := consts[1]; w != nil {
		r := len(w.Shape)
		vals, err := toF32(w.DType, w.Data, w.NumElements())
		if err != nil {
			return nil, fmt.Errorf("cpu: packing %q: %w", n.Inputs[1].Name, err)
		}
		if !a.TransB {
			vals = transposeLast2(vals, w.Shape)
		}
		m.packed = vals
		m.packedDims = append([]int(nil), w.Shape[:r-2]...)
	}
	return m, nil
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

func (m *matmul) Run(_ *backend.Env, ins []backend.Tensor, out backend.Tensor) error {
	a, w := ins[0], ins[1]
	ra, rw, ro := len(a.Shape), len(w.Shape), len(out.Shape)
	M, N := out.Shape[ro-2], out.Shape[ro-1]
	K := a.Shape[ra-1]
	if m.transA {
		K = a.Shape[ra-2]
	}
	x := f32(a)
	if m.transA {
		x = transposeLast2(x, a.Shape)
	}
	wt := m.packed
	wDims := m.packedDims
	if wt == nil {
		var err error
		wt, err = toF32(w.DType, raw(w), tensor.NumElements(w.Shape))
		if err != nil {
			return err
		}
		if !m.transB {
			wt = transposeLast2(wt, w.Shape)
		}
		wDims = w.Shape[:rw-2]
	}
	y := f32(out)
	batch := out.Shape[:ro-2]
	nb := tensor.NumElements(batch)
	xs := bstrides(a.Shape[:ra-2], batch)
	ws := bstrides(wDims, batch)
	xOff := make([]int, nb)
	wOff := make([]int, nb)
	idx := make([]int, len(batch))
	for bi := range nb {
		for k, v := range idx {
			xOff[bi] += v * xs[k] * M * K
			wOff[bi] += v * ws[k] * N * K
		}
		for k := len(idx) - 1; k >= 0; k-- {
			idx[k]++
			if idx[k] < batch[k] {
				break
			}
			idx[k] = 0
		}
	}
	gemmNT(m.b, nb, M, N, K, x, xOff, wt, wOff, y)
	return nil
}

// gemmNT computes, for every batch b, y_b[M,N] = x_b[M,K] · w_b[N,K]ᵀ,
// splitting (batch, row block, column block) tiles across the pool.
func gemmNT(be *Backend, nb, M, N, K int, x []float32, xOff []int, w []float32, wOff []int, y []float32) {
	const mb = 4
	nbk := 64
	if M == 1 {
		// Decode GEMV: split the weight rows evenly.
		nbk = max(16, (N+4*be.pool.Size()-1)/(4*be.pool.Size()))
	}
	mt, nt := (M+mb-1)/mb, (N+nbk-1)/nbk
	be.pool.Run(nb*mt*nt, func(task, _ int) {
		b := task / (mt * nt)
		r := task % (mt * nt)
		i0, j0 := (r/nt)*mb, (r%nt)*nbk
		i1, j1 := min(i0+mb, M), min(j0+nbk, N)
		xb, wb, yb := x[xOff[b]:], w[wOff[b]:], y[b*M*N:]
		for i := i0; i < i1; i++ {
			xr := xb[i*K : i*K+K]
			yr := yb[i*N : i*N+N]
			j := j0
			for ; j+4 <= j1; j += 4 {
				yr[j], yr[j+1], yr[j+2], yr[j+3] = dot4(xr, wb[j*K:j*K+K], wb[(j+1)*K:(j+1)*K+K], wb[(j+2)*K:(j+2)*K+K], wb[(j+3)*K:(j+3)*K+K])
			}
			for ; j < j1; j++ {
				yr[j] = dot(xr, wb[j*K:j*K+K])
			}
		}
	})
}

func dot(a, b []float32) float32 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(a); i += 4 {
		s0 += a[i] * b[i]
		s1 += a[i+1] * b[i+1]
		s2 += a[i+2] * b[i+2]
		s3 += a[i+3] * b[i+3]
	}
	for ; i < len(a); i++ {
		s0 += a[i] * b[i]
	}
	return (s0 + s1) + (s2 + s3)
}

func dot4(x, w0, w1, w2, w3 []float32) (float32, float32, float32, float32) {
	n := len(x)
	w0, w1, w2, w3 = w0[:n], w1[:n], w2[:n], w3[:n]
	var s0, s1, s2, s3 float32
	var t0, t1, t2, t3 float32
	i := 0
	for ; i+2 <= n; i += 2 {
		a, c := x[i], x[i+1]
		s0 += a * w0[i]
		s1 += a * w1[i]
		s2 += a * w2[i]
		s3 += a * w3[i]
		t0 += c * w0[i+1]
		t1 += c * w1[i+1]
		t2 += c * w2[i+1]
		t3 += c * w3[i+1]
	}
	if i < n {
		a := x[i]
		s0 += a * w0[i]
		s1 += a * w1[i]
		s2 += a * w2[i]
		s3 += a * w3[i]
	}
	return s0 + t0, s1 + t1, s2 + t2, s3 + t3
}

// dequantMatMul multiplies by a block-quantized weight [N, K]. Until the
// packed quant.Matrix kernels are committed, the weight is dequantized to
// float32 rows once, at compile time.
type dequantMatMul struct {
	b    *Backend
	w    []float32
	n, k int
}

func (b *Backend) dequantMatMulKernel(n *ir.Node, consts []*tensor.Tensor) (backend.Kernel, error) {
	w := consts[1]
	if w == nil {
		return nil, fmt.Errorf("cpu: quantized matmul weight %q must be a Param", n.Inputs[1].Name)
	}
	vals, err := toF32(w.DType, w.Data, w.NumElements())
	if err != nil {
		return nil, fmt.Errorf("cpu: weight %q: %w", n.Inputs[1].Name, err)
	}
	return &dequantMatMul{b: b, w: vals, n: w.Shape[0], k: w.Shape[1]}, nil
}

func (d *dequantMatMul) Run(_ *backend.Env, ins []backend.Tensor, out backend.Tensor) error {
	y := f32(out)
	if len(y) == 0 {
		return nil
	}
	gemmNT(d.b, 1, len(y)/d.n, d.n, d.k, f32(ins[0]), []int{0}, d.w, []int{0}, y)
	return nil
}
