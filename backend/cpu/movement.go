package cpu

import (
	"fmt"
	"math"
	"sync"

	"github.com/rlx-go/rlx/backend"
	"github.com/rlx-go/rlx/ir"
	"github.com/rlx-go/rlx/quant"
	"github.com/rlx-go/rlx/tensor"
)

func elemSize(dt tensor.DType) int { return dt.BlockBytes() }

func (b *Backend) gatherKernel(n *ir.Node) backend.Kernel {
	return kernelFunc(func(_ *backend.Env, ins []backend.Tensor, out backend.Tensor) error {
		t, ids := ins[0], ins[1]
		rows := t.Shape[0]
		rowElems := tensor.NumElements(t.Shape[1:])
		srcRow, err := t.DType.RowBytes(int64(rowElems))
		if err != nil {
			return err
		}
		tab := raw(t)
		o := raw(out)
		dstRow := rowElems * elemSize(out.DType)
		var idx []int64
		if ids.DType == tensor.I32 {
			for _, v := range i32(ids) {
				idx = append(idx, int64(v))
			}
		} else {
			idx = i64(ids)
		}
		for _, id := range idx {
			if id < 0 || id >= int64(rows) {
				return fmt.Errorf("gather id %d out of range [0, %d)", id, rows)
			}
		}
		var (
			mu   sync.Mutex
			ferr error
		)
		b.pool.For(len(idx), max(1, 8192/max(rowElems, 1)), func(lo, hi int) {
			for i := lo; i < hi; i++ {
				src := tab[idx[i]*srcRow : (idx[i]+1)*srcRow]
				dst := o[i*dstRow : (i+1)*dstRow]
				switch {
				case t.DType == out.DType:
					copy(dst, src)
				case t.DType.Quantized():
					if err := quant.Dequantize(t.DType, f32(backend.Tensor{Buf: out.Buf, Off: out.Off + int64(i*dstRow), DType: tensor.F32, Shape: []int{rowElems}}), src); err != nil {
						mu.Lock()
						ferr = err
						mu.Unlock()
					}
				default:
					d := f32(backend.Tensor{Buf: out.Buf, Off: out.Off + int64(i*dstRow), DType: tensor.F32, Shape: []int{rowElems}})
					for j := range d {
						d[j] = loadF32(src, t.DType, j)
					}
				}
			}
		})
		return ferr
	})
}

func concatKernel(n *ir.Node) backend.Kernel {
	ax := n.Attr.(*ir.AxisAttr).Axis
	return kernelFunc(func(_ *backend.Env, ins []backend.Tensor, out backend.Tensor) error {
		es := elemSize(out.DType)
		outer := tensor.NumElements(out.Shape[:ax])
		inner := tensor.NumElements(out.Shape[ax+1:]) * es
		o := raw(out)
		rowOut := out.Shape[ax] * inner
		off := 0
		for _, in := range ins {
			d := raw(in)
			w := in.Shape[ax] * inner
			for i := range outer {
				copy(o[i*rowOut+off:i*rowOut+off+w], d[i*w:(i+1)*w])
			}
			off += w
		}
		return nil
	})
}

func sliceKernel(n *ir.Node) backend.Kernel {
	a := n.Attr.(*ir.SliceAttr)
	return kernelFunc(func(env *backend.Env, ins []backend.Tensor, out backend.Tensor) error {
		start, err := env.Dim(a.Start)
		if err != nil {
			return err
		}
		in := ins[0]
		ax := a.Axis
		cnt := out.Shape[ax]
		if cnt > 0 && (start < 0 || start+(cnt-1)*a.Step >= in.Shape[ax]) {
			return fmt.Errorf("slice from %d (%d×%d) outside an axis of %d", start, cnt, a.Step, in.Shape[ax])
		}
		es := elemSize(out.DType)
		outer := tensor.NumElements(in.Shape[:ax])
		inner := tensor.NumElements(in.Shape[ax+1:]) * es
		s, o := raw(in), raw(out)
		for i := range outer {
			for j := range cnt {
				src := (i*in.Shape[ax] + start + j*a.Step) * inner
				copy(o[(i*cnt+j)*inner:(i*cnt+j+1)*inner], s[src:src+inner])
			}
		}
		return nil
	})
}

// permuteKernel copies with reordered axes. Adjacent input axes that stay
// adjacent are merged first, so common cases ([B,T,H,D] → [B,H,T,D]) copy
// whole rows.
func (b *Backend) permuteKernel(n *ir.Node) backend.Kernel {
	perm := n.Attr.(*ir.PermuteAttr).Perm
	return kernelFunc(func(_ *backend.Env, ins []backend.Tensor, out backend.Tensor) error {
		in := ins[0]
		es := elemSize(out.DType)
		// Merge runs: output axes i, i+1 with perm[i+1] == perm[i]+1.
		var shape, str []int
		inStr := make([]int, len(in.Shape))
		s := 1
		for i := len(in.Shape) - 1; i >= 0; i-- {
			inStr[i] = s
			s *= in.Shape[i]
		}
		for i := 0; i < len(perm); {
			j := i
			size := in.Shape[perm[i]]
			for j+1 < len(perm) && perm[j+1] == perm[j]+1 {
				j++
				size *= in.Shape[perm[j]]
			}
			shape = append(shape, size)
			str = append(str, inStr[perm[j]])
			i = j + 1
		}
		src, dst := raw(in), raw(out)
		total := tensor.NumElements(out.Shape)
		if total == 0 {
			return nil
		}
		last := len(shape) - 1
		rowLen := shape[last]
		rows := total / rowLen
		contiguous := str[last] == 1
		b.pool.For(rows, max(1, 16384/max(rowLen, 1)), func(lo, hi int) {
			idx := make([]int, len(shape))
			for r := lo; r < hi; r++ {
				rem, off := r, 0
				for k := last - 1; k >= 0; k-- {
					idx[k] = rem % shape[k]
					rem /= shape[k]
					off += idx[k] * str[k]
				}
				d := dst[r*rowLen*es : (r+1)*rowLen*es]
				if contiguous {
					copy(d, src[off*es:(off+rowLen)*es])
					continue
				}
				st := str[last]
				for j := range rowLen {
					p := (off + j*st) * es
					copy(d[j*es:(j+1)*es], src[p:p+es])
				}
			}
		})
		return nil
	})
}

func expandKernel(n *ir.Node) backend.Kernel {
	return kernelFunc(func(_ *backend.Env, ins []backend.Tensor, out backend.Tensor) error {
		in := ins[0]
		es := elemSize(out.DType)
		str := bstrides(in.Shape, out.Shape)
		src, dst := raw(in), raw(out)
		idx := make([]int, len(out.Shape))
		total := tensor.NumElements(out.Shape)
		for e := range total {
			off := 0
			for k, x := range idx {
				off += x * str[k]
			}
			copy(dst[e*es:(e+1)*es], src[off*es:(off+1)*es])
			for k := len(idx) - 1; k >= 0; k-- {
				idx[k]++
				if idx[k] < out.Shape[k] {
					break
				}
				idx[k] = 0
			}
		}
		return nil
	})
}

func padKernel(n *ir.Node) (backend.Kernel, error) {
	a := n.Attr.(*ir.PadAttr)
	es := elemSize(n.DType)
	fill := make([]byte, es)
	if err := n.DType.StoreFloat64(fill, 0, a.Value); err != nil {
		return nil, err
	}
	return kernelFunc(func(_ *backend.Env, ins []backend.Tensor, out backend.Tensor) error {
		in := ins[0]
		src, dst := raw(in), raw(out)
		inStr := make([]int, len(in.Shape))
		s := 1
		for i := len(in.Shape) - 1; i >= 0; i-- {
			inStr[i] = s
			s *= in.Shape[i]
		}
		idx := make([]int, len(out.Shape))
		total := tensor.NumElements(out.Shape)
		for e := range total {
			off, inside := 0, true
			for k, v := range idx {
				p := v - a.Before[k]
				m := in.Shape[k]
				if p < 0 || p >= m {
					switch a.Mode {
					case ir.PadReflect:
						if p < 0 {
							p = -p
						} else {
							p = 2*(m-1) - p
						}
						if p < 0 || p >= m {
							return fmt.Errorf("reflect pad wider than axis %d (%d)", k, m)
						}
					case ir.PadEdge:
						p = min(max(p, 0), m-1)
					default:
						inside = false
					}
				}
				off += p * inStr[k]
			}
			d := dst[e*es : (e+1)*es]
			if inside {
				copy(d, src[off*es:(off+1)*es])
			} else {
				copy(d, fill)
			}
			for k := len(idx) - 1; k >= 0; k-- {
				idx[k]++
				if idx[k] < out.Shape[k] {
					break
				}
				idx[k] = 0
			}
		}
		return nil
	}), nil
}

func rangeKernel(n *ir.Node) backend.Kernel {
	start := n.Attr.(*ir.RangeAttr).Start
	return kernelFunc(func(env *backend.Env, _ []backend.Tensor, out backend.Tensor) error {
		s, err := env.Dim(start)
		if err != nil {
			return err
		}
		switch out.DType {
		case tensor.I32:
			for i := range i32(out) {
				i32(out)[i] = int32(s + i)
			}
		case tensor.I64:
			for i := range i64(out) {
				i64(out)[i] = int64(s + i)
			}
		default:
			for i := range f32(out) {
				f32(out)[i] = float32(s + i)
			}
		}
		return nil
	})
}

func (b *Backend) reduceKernel(n *ir.Node) backend.Kernel {
	a := n.Attr.(*ir.ReduceAttr)
	op := n.Op
	return kernelFunc(func(_ *backend.Env, ins []backend.Tensor, out backend.Tensor) error {
		in := ins[0]
		x := f32(in)
		shape := in.Shape
		// Output offset stride of every input axis (0 on reduced axes).
		ost := make([]int, len(shape))
		s := 1
		for i := len(shape) - 1; i >= 0; i-- {
			reduced := false
			for _, ax := range a.Axes {
				reduced = reduced || ax == i
			}
			if !reduced {
				ost[i] = s
				s *= shape[i]
			}
		}
		nOut := tensor.NumElements(out.Shape)
		cnt := 1
		for _, ax := range a.Axes {
			cnt *= shape[ax]
		}
		acc := make([]float64, nOut)
		best := make([]float32, nOut)
		arg := make([]int32, nOut)
		for i := range best {
			best[i] = float32(math.Inf(-1))
			arg[i] = -1
		}
		idx := make([]int, len(shape))
		for _, v := range x {
			o := 0
			for k, p := range idx {
				o += p * ost[k]
			}
			switch op {
			case ir.OpReduceSum, ir.OpReduceMean:
				acc[o] += float64(v)
			default:
				if arg[o] < 0 || v > best[o] || (v != v && best[o] == best[o]) {
					best[o] = v
					arg[o] = int32(idx[a.Axes[0]])
				}
			}
			for k := len(idx) - 1; k >= 0; k-- {
				idx[k]++
				if idx[k] < shape[k] {
					break
				}
				idx[k] = 0
			}
		}
		switch op {
		case ir.OpReduceSum:
			for i, v := range acc {
				f32(out)[i] = float32(v)
			}
		case ir.OpReduceMean:
			for i, v := range acc {
				f32(out)[i] = float32(v / float64(cnt))
			}
		case ir.OpReduceMax:
			copy(f32(out), best)
		case ir.OpArgMax:
			copy(i32(out), arg)
		}
		return nil
	})
}

// convKernel is a direct convolution (cross-correlation) over NC… layouts,
// parallel over (batch, output channel).
func (b *Backend) convKernel(n *ir.Node) backend.Kernel {
	a := n.Attr.(*ir.ConvAttr)
	return kernelFunc(func(_ *backend.Env, ins []backend.Tensor, out backend.Tensor) error {
		x, w := f32(ins[0]), f32(ins[1])
		var bias []float32
		if a.HasBias {
			bias = f32(ins[2])
		}
		y := f32(out)
		xs, ws, os := ins[0].Shape, ins[1].Shape, out.Shape
		B, C, O := xs[0], xs[1], ws[0]
		cg, og := C/a.Groups, O/a.Groups
		// Work in 2-D: a 1-D convolution is H=1.
		H, W, KH, KW, OH, OW := 1, xs[2], 1, ws[2], 1, os[2]
		sh, sw, dh, dw, ph, pw := 1, a.Stride[0], 1, a.Dilation[0], 0, a.PadLo[0]
		if len(a.Stride) == 2 {
			H, W, KH, KW, OH, OW = xs[2], xs[3], ws[2], ws[3], os[2], os[3]
			sh, sw, dh, dw, ph, pw = a.Stride[0], a.Stride[1], a.Dilation[0], a.Dilation[1], a.PadLo[0], a.PadLo[1]
		}
		b.pool.For(B*O, 1, func(lo, hi int) {
			for t := lo; t < hi; t++ {
				bi, o := t/O, t%O
				g := o / og
				yo := y[(bi*O+o)*OH*OW : (bi*O+o+1)*OH*OW]
				bv := float32(0)
				if bias != nil {
					bv = bias[o]
				}
				for i := range yo {
					yo[i] = bv
				}
				for c := range cg {
					xc := x[(bi*C+g*cg+c)*H*W:]
					wc := w[(o*cg+c)*KH*KW:]
					for kh := range KH {
						for kw := range KW {
							wv := wc[kh*KW+kw]
							for oh := range OH {
								ih := oh*sh - ph + kh*dh
								if ih < 0 || ih >= H {
									continue
								}
								xr := xc[ih*W:]
								yr := yo[oh*OW:]
								for ow := range OW {
									iw := ow*sw - pw + kw*dw
									if iw >= 0 && iw < W {
										yr[ow] += wv * xr[iw]
									}
								}
							}
						}
					}
				}
			}
		})
		return nil
	})
}
