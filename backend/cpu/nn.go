package cpu

import (
	"fmt"
	"math"

	"github.com/rlx-go/rlx/backend"
	"github.com/rlx-go/rlx/backend/cpu/kernels"
	"github.com/rlx-go/rlx/ir"
	"github.com/rlx-go/rlx/tensor"
)

// rowGrain picks a chunk of rows worth handing to one worker: at least
// ~16K elements of work, and enough chunks to balance the pool.
func (b *Backend) rowGrain(rows, cols int) int {
	g := max(1, 16384/max(cols, 1))
	return max(g, rows/(4*b.pool.Size()))
}

func (b *Backend) softmaxKernel(n *ir.Node) backend.Kernel {
	a := n.Attr.(*ir.SoftmaxAttr)
	return kernelFunc(func(_ *backend.Env, ins []backend.Tensor, out backend.Tensor) error {
		x, y := f32(ins[0]), f32(out)
		shape := out.Shape
		if len(y) == 0 {
			return nil
		}
		src := x
		scale := float32(a.Scale)
		if a.Masked {
			// Materialise scale·x + mask into the output, then normalise in place.
			mk := ins[1]
			tmp := make([]float32, len(y))
			gatherBroadcast(tmp, raw(mk), mk.DType, bstrides(mk.Shape, shape), shape, 0, make([]int, len(shape)))
			for i := range y {
				y[i] = scale*x[i] + tmp[i]
			}
			src, scale = y, 1
		}
		outer, cnt, inner := splitAxis(shape, a.Axis)
		if inner == 1 {
			o := &kernels.SoftmaxOpts{Scale: scale}
			b.pool.For(outer, b.rowGrain(outer, cnt), func(lo, hi int) {
				kernels.Softmax(y, src, cnt, lo, hi, o)
			})
			return nil
		}
		// A middle axis: gather each strided row, normalise, scatter.
		b.pool.For(outer*inner, b.rowGrain(outer*inner, cnt), func(lo, hi int) {
			row := make([]float32, cnt)
			for r := lo; r < hi; r++ {
				o, in := r/inner, r%inner
				for j := range cnt {
					row[j] = src[(o*cnt+j)*inner+in]
				}
				kernels.Softmax(row, row, cnt, 0, 1, &kernels.SoftmaxOpts{Scale: scale})
				for j := range cnt {
					y[(o*cnt+j)*inner+in] = row[j]
				}
			}
		})
		return nil
	})
}

func splitAxis(shape []int, axis int) (outer, n, inner int) {
	return tensor.NumElements(shape[:axis]), shape[axis], tensor.NumElements(shape[axis+1:])
}

func (b *Backend) normKernel(n *ir.Node, consts []*tensor.Tensor) (backend.Kernel, error) {
	a := n.Attr.(*ir.NormAttr)
	// Constant weights and biases are converted to float32 once.
	pre := make([][]float32, len(n.Inputs))
	for i := 1; i < len(n.Inputs); i++ {
		if c := consts[i]; c != nil {
			v, err := toF32(c.DType, c.Data, c.NumElements())
			if err != nil {
				return nil, err
			}
			pre[i] = v
		}
	}
	rms := n.Op == ir.OpRMSNorm
	return kernelFunc(func(_ *backend.Env, ins []backend.Tensor, out backend.Tensor) error {
		x, y := f32(ins[0]), f32(out)
		d := out.Shape[len(out.Shape)-1]
		if len(y) == 0 || d == 0 {
			return nil
		}
		arg := func(i int) []float32 {
			if pre[i] != nil {
				return pre[i]
			}
			return f32(ins[i])
		}
		var w, bias []float32
		k := 1
		if a.HasWeight {
			w = arg(k)
			k++
		}
		if a.HasBias {
			bias = arg(k)
		}
		rows := len(y) / d
		eps := float32(a.Eps)
		if grain := b.rowGrain(rows, d); grain >= rows {
			// One chunk (a decode step's rows): no closure for the pool.
			normRows(rms, y, x, w, bias, d, eps, a.PlusOne)
		} else {
			b.pool.For(rows, grain, func(lo, hi int) {
				normRows(rms, y[lo*d:hi*d], x[lo*d:hi*d], w, bias, d, eps, a.PlusOne)
			})
		}
		return nil
	}), nil
}

// normRows normalizes the rows of x (d values each) into y.
func normRows(rms bool, y, x, w, bias []float32, d int, eps float32, plusOne bool) {
	if rms {
		kernels.RMSNorm(y, x, w, d, eps, plusOne)
	} else {
		kernels.LayerNorm(y, x, w, bias, d, eps)
	}
}

func (b *Backend) ropeKernel(n *ir.Node, consts []*tensor.Tensor) (backend.Kernel, error) {
	a := n.Attr.(*ir.RoPEAttr)
	layout := kernels.RotateHalf
	if a.Layout == ir.RoPEInterleaved {
		layout = kernels.Interleaved
	}
	var inv []float32
	if c := consts[2]; c != nil {
		inv = append([]float32(nil), c.F32()...)
	}
	return kernelFunc(func(_ *backend.Env, ins []backend.Tensor, out backend.Tensor) error {
		x, y := f32(ins[0]), f32(out)
		if len(y) == 0 {
			return nil
		}
		freqs := inv
		if freqs == nil {
			freqs = f32(ins[2])
		}
		r := kernels.RoPE{InvFreq: freqs, Layout: layout, AttnFactor: float32(a.Scale)}
		B, T, H, D := out.Shape[0], out.Shape[1], out.Shape[2], out.Shape[3]
		pos := ins[1]
		var p32 []int32
		if pos.DType == tensor.I32 {
			p32 = i32(pos)
		} else {
			p64 := i64(pos)
			p32 = make([]int32, len(p64))
			for i, v := range p64 {
				if v < math.MinInt32 || v > math.MaxInt32 {
					return fmt.Errorf("rope position %d out of range", v)
				}
				p32[i] = int32(v)
			}
		}
		perB := len(pos.Shape) == 2 && pos.Shape[0] == B && B > 1
		rows := B * T
		if grain := b.rowGrain(rows, H*D); grain >= rows {
			// One chunk (a decode step): no closure for the pool.
			ropeRows(&r, y, x, p32, 0, rows, T, H, D, perB)
		} else {
			rp := &kernels.RoPE{InvFreq: r.InvFreq, Layout: r.Layout, AttnFactor: r.AttnFactor}
			b.pool.For(rows, grain, func(lo, hi int) {
				ropeRows(rp, y, x, p32, lo, hi, T, H, D, perB)
			})
		}
		return nil
	}), nil
}

// ropeRows rotates rows [lo, hi) of the flattened [B·T] token rows.
func ropeRows(r *kernels.RoPE, y, x []float32, p32 []int32, lo, hi, T, H, D int, perB bool) {
	for r0 := lo; r0 < hi; {
		bi, t := r0/T, r0%T
		cnt := min(hi-r0, T-t) // stay within one batch row
		ps := p32[t : t+cnt]
		if perB {
			ps = p32[bi*T+t : bi*T+t+cnt]
		}
		off := r0 * H * D
		r.Apply(y[off:], x[off:], cnt, H, D, H*D, D, ps, 0)
		r0 += cnt
	}
}

func (b *Backend) attentionKernel(n *ir.Node) backend.Kernel {
	at := n.Attr.(*ir.AttentionAttr)
	return kernelFunc(func(env *backend.Env, ins []backend.Tensor, out backend.Tensor) error {
		q, k, v := ins[0], ins[1], ins[2]
		B, T, Hq, D := q.Shape[0], q.Shape[1], q.Shape[2], q.Shape[3]
		Hkv, Dv := k.Shape[2], v.Shape[3]
		if B == 0 || T == 0 {
			return nil
		}
		if at.PerRow {
			return b.attentionPerRow(at, ins, out)
		}
		past, err := env.Dim(at.Past)
		if err != nil {
			return err
		}
		a := &kernels.Attention{B: B, Hq: Hq, Hkv: Hkv, Tq: T, D: D, Dv: Dv,
			Q: f32(q), QBatch: T * Hq * D, QHead: D, QRow: Hq * D,
			Out: f32(out), OutBatch: T * Hq * Dv, OutHead: Dv, OutRow: Hq * Dv,
			Scale: float32(at.Scale), Causal: at.Causal, Past: past, Window: at.Window, Softcap: float32(at.Softcap)}
		if at.Cached {
			kc, vc := ins[len(ins)-2], ins[len(ins)-1]
			maxSeq := kc.Shape[1]
			if past < 0 || past+T > maxSeq {
				return fmt.Errorf("positions [%d, %d) exceed the KV cache of %d", past, past+T, maxSeq)
			}
			for i, c := range [2]backend.Tensor{kc, vc} {
				src := f32([]backend.Tensor{k, v}[i])
				row := Hkv * c.Shape[3]
				b.pool.For(B*T, max(1, 4096/row), func(lo, hi int) {
					for r := lo; r < hi; r++ {
						bi, t := r/T, r%T
						dst := (bi*maxSeq + past + t) * row
						s := src[r*row : (r+1)*row]
						if c.DType == tensor.F16 {
							kernels.F32ToF16(u16(c)[dst:dst+row], s)
						} else {
							copy(f32(c)[dst:dst+row], s)
						}
					}
				})
			}
			a.Tk = past + T
			a.K = cacheKV(kc, Hkv, D)
			a.V = cacheKV(vc, Hkv, Dv)
		} else {
			S := k.Shape[1]
			a.Tk = S
			a.K = kernels.KV{F32: f32(k), BatchStride: S * Hkv * D, HeadStride: D, RowStride: Hkv * D}
			a.V = kernels.KV{F32: f32(v), BatchStride: S * Hkv * Dv, HeadStride: Dv, RowStride: Hkv * Dv}
		}
		if at.Masked {
			m := ins[3]
			full := []int{B, Hq, T, a.Tk}
			st := bstrides(m.Shape, full)
			if a.Tk > 1 && st[3] != 1 {
				return fmt.Errorf("attention mask %v is not contiguous along keys", m.Shape)
			}
			a.Mask, a.MaskBatch, a.MaskHead, a.MaskRow = f32(m), st[0], st[1], st[2]
		}
		return a.Run(b.pool)
	})
}

// attentionPerRow runs cached causal attention row by row, each batch row
// at its own past (a batch of streams at different positions).
func (b *Backend) attentionPerRow(at *ir.AttentionAttr, ins []backend.Tensor, out backend.Tensor) error {
	q, k, v := ins[0], ins[1], ins[2]
	kc, vc, pr := ins[3], ins[4], i32(ins[5])
	B, T, Hq, D := q.Shape[0], q.Shape[1], q.Shape[2], q.Shape[3]
	Hkv, Dv := k.Shape[2], v.Shape[3]
	maxSeq := kc.Shape[1]
	qf, kf, vf, of := f32(q), f32(k), f32(v), f32(out)
	for bi := range B {
		past := int(pr[bi])
		if past < 0 || past+T > maxSeq {
			return fmt.Errorf("row %d: positions [%d, %d) exceed the KV cache of %d", bi, past, past+T, maxSeq)
		}
		for i, c := range [2]backend.Tensor{kc, vc} {
			row := Hkv * c.Shape[3]
			src := kf[bi*T*row : (bi+1)*T*row]
			if i == 1 {
				src = vf[bi*T*row : (bi+1)*T*row]
			}
			dst := (bi*maxSeq + past) * row
			if c.DType == tensor.F16 {
				kernels.F32ToF16(u16(c)[dst:dst+T*row], src)
			} else {
				copy(f32(c)[dst:dst+T*row], src)
			}
		}
		kv := func(c backend.Tensor, d int) kernels.KV {
			per := maxSeq * Hkv * d
			x := kernels.KV{BatchStride: per, HeadStride: d, RowStride: Hkv * d}
			if c.DType == tensor.F16 {
				x.F16 = u16(c)[bi*per : (bi+1)*per]
			} else {
				x.F32 = f32(c)[bi*per : (bi+1)*per]
			}
			return x
		}
		a := &kernels.Attention{B: 1, Hq: Hq, Hkv: Hkv, Tq: T, Tk: past + T, D: D, Dv: Dv,
			Q: qf[bi*T*Hq*D : (bi+1)*T*Hq*D], QBatch: T * Hq * D, QHead: D, QRow: Hq * D,
			Out: of[bi*T*Hq*Dv : (bi+1)*T*Hq*Dv], OutBatch: T * Hq * Dv, OutHead: Dv, OutRow: Hq * Dv,
			Scale: float32(at.Scale), Causal: true, Past: past, Window: at.Window, Softcap: float32(at.Softcap),
			K: kv(kc, D), V: kv(vc, Dv)}
		if err := a.Run(b.pool); err != nil {
			return err
		}
	}
	return nil
}

// cacheKV describes a [B, maxSeq, H, D] cache to the attention kernel.
func cacheKV(c backend.Tensor, h, d int) kernels.KV {
	maxSeq := c.Shape[1]
	kv := kernels.KV{BatchStride: maxSeq * h * d, HeadStride: d, RowStride: h * d}
	if c.DType == tensor.F16 {
		kv.F16 = u16(c)
	} else {
		kv.F32 = f32(c)
	}
	return kv
}

// ropeTableKernel computes x·cos + rotate_half(x)·sin row by row, with
// the tables' rows found through their broadcast strides.
func (b *Backend) ropeTableKernel() backend.Kernel {
	return kernelFunc(func(_ *backend.Env, ins []backend.Tensor, out backend.Tensor) error {
		x, c, s, y := f32(ins[0]), f32(ins[1]), f32(ins[2]), f32(out)
		shape := out.Shape
		d := shape[len(shape)-1]
		if len(y) == 0 || d == 0 {
			return nil
		}
		h := d / 2
		cs, ss := bstrides(ins[1].Shape, shape), bstrides(ins[2].Shape, shape)
		rows := len(y) / d
		outer := shape[:len(shape)-1]
		b.pool.For(rows, b.rowGrain(rows, d), func(lo, hi int) {
			for r := lo; r < hi; r++ {
				co, so, rem := 0, 0, r
				for k := len(outer) - 1; k >= 0; k-- {
					i := rem % outer[k]
					rem /= outer[k]
					co += i * cs[k]
					so += i * ss[k]
				}
				xr, yr := x[r*d:(r+1)*d], y[r*d:(r+1)*d]
				cst, sst := cs[len(shape)-1], ss[len(shape)-1]
				for i := range d {
					rot := -xr[(i+h)%d]
					if i >= h {
						rot = xr[i-h]
					}
					// Separate roundings, as the unfused multiply and add.
					yr[i] = float32(xr[i]*c[co+i*cst]) + float32(rot*s[so+i*sst])
				}
			}
		})
		return nil
	})
}
