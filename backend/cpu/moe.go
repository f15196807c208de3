package cpu

import (
	"fmt"

	"github.com/rlx-go/rlx/backend"
	"github.com/rlx-go/rlx/backend/cpu/gemm"
	"github.com/rlx-go/rlx/backend/cpu/kernels"
	"github.com/rlx-go/rlx/ir"
	"github.com/rlx-go/rlx/quant"
	"github.com/rlx-go/rlx/tensor"
)

// linear is one prepared weight [rows, cols] applied as y = x·Wᵀ.
type linear interface {
	apply(p *Backend, y, x []float32, m int) error
}

type packedLinear struct{ pb *gemm.PackedB }

func (l packedLinear) apply(b *Backend, y, x []float32, m int) error {
	return l.pb.MatMul(b.pool, gemm.Matrix{Data: y}, gemm.Matrix{Data: x}, m, false)
}

type halfLinear struct {
	w          gemm.B
	rows, cols int
}

func (l halfLinear) apply(b *Backend, y, x []float32, m int) error {
	return gemm.MatMul(b.pool, gemm.Matrix{Data: y}, gemm.Matrix{Data: x}, l.w, m, l.rows, l.cols, false)
}

type quantLinear struct{ m *quant.Matrix }

func (l quantLinear) apply(b *Backend, y, x []float32, _ int) error { return l.m.MatMul(b.pool, y, x) }

// prepareLinear prepares rows×cols weights stored (row-major, as [out, in])
// in data: packed float32, 16-bit kept in place, or a quant.Matrix.
func (b *Backend) prepareLinear(dt tensor.DType, rows, cols int, data []byte) (linear, error) {
	switch {
	case dt.Quantized():
		m, err := quant.NewMatrix(dt, rows, cols, data)
		if err != nil {
			return nil, err
		}
		return quantLinear{m}, nil
	case (dt == tensor.F16 || dt == tensor.BF16) && !b.packHalf:
		return halfLinear{gemm.B{Layout: gemm.NK, DType: dt, U16: bytesU16(data)}, rows, cols}, nil
	}
	gb, err := gemmB(backend.Tensor{}, &tensor.Tensor{DType: dt, Shape: []int{rows, cols}, Data: data}, true)
	if err != nil {
		return nil, err
	}
	pb, err := gemm.Pack(b.pool, gb, rows, cols)
	if err != nil {
		return nil, err
	}
	return packedLinear{pb}, nil
}

// moe runs only the experts each token selected.
type moe struct {
	b                *Backend
	act              ir.Op
	gate, up, down   []linear
	experts, ffn, in int
}

func (b *Backend) moeKernel(n *ir.Node, consts []*tensor.Tensor) (backend.Kernel, error) {
	if n.Attr.(*ir.MoEAttr).PerExpert {
		return b.moePerExpert(n, consts)
	}
	g, u, d := consts[2], consts[3], consts[4]
	if g == nil || u == nil || d == nil {
		return nil, fmt.Errorf("cpu: MoE expert weights must be Params or Consts")
	}
	E, F, D := g.Shape[0], g.Shape[1], g.Shape[2]
	m := &moe{b: b, act: n.Attr.(*ir.MoEAttr).Act, experts: E, ffn: F, in: D}
	for i, w := range []*tensor.Tensor{g, u, d} {
		rows, cols := F, D
		if i == 2 {
			rows, cols = D, F
		}
		per, err := w.DType.RowBytes(int64(rows * cols))
		if err != nil {
			return nil, err
		}
		list := make([]linear, E)
		for e := range E {
			l, err := b.prepareLinear(w.DType, rows, cols, w.Data[int64(e)*per:int64(e+1)*per])
			if err != nil {
				return nil, fmt.Errorf("cpu: MoE %q expert %d: %w", n.Inputs[2+i].Name, e, err)
			}
			list[e] = l
		}
		switch i {
		case 0:
			m.gate = list
		case 1:
			m.up = list
		default:
			m.down = list
		}
	}
	return m, nil
}

// moePerExpert prepares one weight input per expert in place.
func (b *Backend) moePerExpert(n *ir.Node, consts []*tensor.Tensor) (backend.Kernel, error) {
	E := (len(n.Inputs) - 2) / 3
	m := &moe{b: b, act: n.Attr.(*ir.MoEAttr).Act, experts: E}
	for i := 2; i < len(consts); i++ {
		w := consts[i]
		if w == nil {
			return nil, fmt.Errorf("cpu: MoE expert weight %q must be a Param or Const", n.Inputs[i].Name)
		}
		l, err := b.prepareLinear(w.DType, w.Shape[0], w.Shape[1], w.Data)
		if err != nil {
			return nil, fmt.Errorf("cpu: MoE weight %q: %w", n.Inputs[i].Name, err)
		}
		switch e := i - 2; {
		case e < E:
			m.gate = append(m.gate, l)
			m.ffn, m.in = w.Shape[0], w.Shape[1]
		case e < 2*E:
			m.up = append(m.up, l)
		default:
			m.down = append(m.down, l)
		}
	}
	return m, nil
}

// Run implements backend.Kernel.
func (m *moe) Run(_ *backend.Env, ins []backend.Tensor, out backend.Tensor) error {
	x, r, y := f32(ins[0]), f32(ins[1]), f32(out)
	T, D, E, F := ins[0].Shape[0], m.in, m.experts, m.ffn
	clear(y)
	if T == 0 {
		return nil
	}
	xe := make([]float32, T*D)
	ge := make([]float32, T*F)
	ue := make([]float32, T*F)
	de := make([]float32, T*D)
	tok := make([]int, 0, T)
	for e := range E {
		tok = tok[:0]
		for t := range T {
			if r[t*E+e] != 0 {
				tok = append(tok, t)
			}
		}
		n := len(tok)
		if n == 0 {
			continue
		}
		for i, t := range tok {
			copy(xe[i*D:(i+1)*D], x[t*D:(t+1)*D])
		}
		if err := m.gate[e].apply(m.b, ge[:n*F], xe[:n*D], n); err != nil {
			return err
		}
		if err := m.up[e].apply(m.b, ue[:n*F], xe[:n*D], n); err != nil {
			return err
		}
		h := ge[:n*F]
		switch m.act {
		case ir.OpSilu:
			kernels.SiLUMul(h, h, ue[:n*F])
		case ir.OpGeluTanh:
			kernels.GELUTanhMul(h, h, ue[:n*F])
		default:
			kernels.GELUMul(h, h, ue[:n*F])
		}
		if err := m.down[e].apply(m.b, de[:n*D], h, n); err != nil {
			return err
		}
		for i, t := range tok {
			w := r[t*E+e]
			yr, dr := y[t*D:(t+1)*D], de[i*D:(i+1)*D]
			for j, v := range dr {
				yr[j] += w * v
			}
		}
	}
	return nil
}

func (b *Backend) topKKernel(n *ir.Node) backend.Kernel {
	a := n.Attr.(*ir.TopKAttr)
	return kernelFunc(func(_ *backend.Env, ins []backend.Tensor, out backend.Tensor) error {
		x := f32(ins[0])
		cols := ins[0].Shape[len(ins[0].Shape)-1]
		k := a.K
		rows := len(x) / max(cols, 1)
		b.pool.For(rows, max(1, 4096/max(cols, 1)), func(lo, hi int) {
			vals := make([]float32, k)
			idx := make([]int32, k)
			for r := lo; r < hi; r++ {
				row := x[r*cols : (r+1)*cols]
				cnt := 0
				for i, v := range row {
					// Insert v if it beats the current k-th (strictly, so
					// an equal later value keeps the lower index first).
					if cnt == k && !(v > vals[k-1]) {
						continue
					}
					j := min(cnt, k-1)
					for j > 0 && v > vals[j-1] {
						vals[j], idx[j] = vals[j-1], idx[j-1]
						j--
					}
					vals[j], idx[j] = v, int32(i)
					cnt = min(cnt+1, k)
				}
				if a.Indices {
					copy(i32(out)[r*k:(r+1)*k], idx)
				} else {
					copy(f32(out)[r*k:(r+1)*k], vals)
				}
			}
		})
		return nil
	})
}
