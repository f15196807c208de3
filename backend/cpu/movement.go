package cpu

import (
	"fmt"
	"math"
	"sync"

	"github.com/rlx-go/rlx/backend"
	"github.com/rlx-go/rlx/backend/cpu/kernels"
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

var reduceOps = map[ir.Op]kernels.ReduceOp{ir.OpReduceSum: kernels.ReduceSum, ir.OpReduceMean: kernels.ReduceMean, ir.OpReduceMax: kernels.ReduceMax}

// contiguousAxes reports whether axes form one run lo..hi (in any order).
func contiguousAxes(axes []int) (lo, hi int, ok bool) {
	lo, hi = axes[0], axes[0]
	for _, a := range axes {
		lo, hi = min(lo, a), max(hi, a)
	}
	return lo, hi, hi-lo+1 == len(axes)
}

func (b *Backend) reduceKernel(n *ir.Node) backend.Kernel {
	a := n.Attr.(*ir.ReduceAttr)
	op := n.Op
	return kernelFunc(func(_ *backend.Env, ins []backend.Tensor, out backend.Tensor) error {
		in := ins[0]
		x := f32(in)
		shape := in.Shape
		if lo, hi, ok := contiguousAxes(a.Axes); ok && tensor.NumElements(out.Shape) > 0 {
			outer, cnt, inner := tensor.NumElements(shape[:lo]), tensor.NumElements(shape[lo:hi+1]), tensor.NumElements(shape[hi+1:])
			if cnt > 0 {
				switch {
				case op == ir.OpArgMax && inner == 1:
					kernels.ArgMax(i32(out), x, cnt)
					return nil
				case op != ir.OpArgMax:
					rop := reduceOps[op]
					y := f32(out)
					b.pool.For(outer, max(1, 16384/max(cnt*inner, 1)), func(lo, hi int) {
						kernels.Reduce(rop, y[lo*inner:hi*inner], x[lo*cnt*inner:hi*cnt*inner], hi-lo, cnt, inner)
					})
					return nil
				}
			}
		}
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

// convKernel runs kernels.Conv: im2col and the packed GEMM when there is
// enough work, vector axpys per output channel otherwise.
func (b *Backend) convKernel(n *ir.Node) backend.Kernel {
	a := n.Attr.(*ir.ConvAttr)
	return kernelFunc(func(_ *backend.Env, ins []backend.Tensor, out backend.Tensor) error {
		xs, ws := ins[0].Shape, ins[1].Shape
		if tensor.NumElements(out.Shape) == 0 {
			return nil
		}
		c := &kernels.Conv{B: xs[0], Cin: xs[1], Cout: ws[0], Groups: a.Groups, In: xs[2:], Kernel: ws[2:],
			Stride: a.Stride, Dilation: a.Dilation, PadBefore: a.PadLo, PadAfter: a.PadHi}
		var bias []float32
		if a.HasBias {
			bias = f32(ins[2])
		}
		return c.Run(b.pool, f32(out), f32(ins[0]), f32(ins[1]), bias)
	})
}
