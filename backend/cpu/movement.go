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
					switch t.DType {
					case tensor.F16:
						kernels.F16ToF32(d, bytesU16(src))
					case tensor.BF16:
						kernels.BF16ToF32(d, bytesU16(src))
					default:
						for j := range d {
							d[j] = loadF32(src, t.DType, j)
						}
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
	lastOnly := true
	for i := 0; i+1 < len(a.Before); i++ {
		lastOnly = lastOnly && a.Before[i] == 0 && a.After[i] == 0
	}
	return kernelFunc(func(_ *backend.Env, ins []backend.Tensor, out backend.Tensor) error {
		in := ins[0]
		src, dst := raw(in), raw(out)
		if lastOnly && len(in.Shape) > 0 {
			padRows(src, dst, in.Shape[len(in.Shape)-1], a, es, fill)
			return nil
		}
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

// padRows pads only the last axis: each row is copied whole, then the
// borders are filled.
func padRows(src, dst []byte, w int, a *ir.PadAttr, es int, fill []byte) {
	lo, hi := a.Before[len(a.Before)-1], a.After[len(a.After)-1]
	ow := w + lo + hi
	rows := len(src) / max(w*es, 1)
	for r := range rows {
		s := src[r*w*es : (r+1)*w*es]
		d := dst[r*ow*es : (r+1)*ow*es]
		copy(d[lo*es:], s)
		for j := 0; j < lo+hi; j++ {
			p := j - lo // position in the input, < 0 on the left
			if j >= lo {
				p = w + (j - lo) // right border
			}
			at := j
			if j >= lo {
				at = lo + w + (j - lo)
			}
			var v []byte
			switch a.Mode {
			case ir.PadReflect:
				q := -p
				if p >= w {
					q = 2*(w-1) - p
				}
				v = s[q*es : (q+1)*es]
			case ir.PadEdge:
				q := min(max(p, 0), w-1)
				v = s[q*es : (q+1)*es]
			default:
				v = fill
			}
			copy(d[at*es:(at+1)*es], v)
		}
	}
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

// convKernel computes a convolution with constant weights as a matmul
// against the weight packed once at compile time: the receptive fields of
// all output positions are unfolded into rows (colᵀ [positions, C·K]) and
// multiplied by W [O, C·K]ᵀ; few positions (an audio window) take gemm's
// GEMV path. Grouped convolutions and runtime weights use kernels.Conv.
func (b *Backend) convKernel(n *ir.Node, consts []*tensor.Tensor) (backend.Kernel, error) {
	a := n.Attr.(*ir.ConvAttr)
	var pw linear
	if w := consts[1]; w != nil && a.Groups == 1 {
		o := w.Shape[0]
		l, err := b.prepareLinear(w.DType, o, w.NumElements()/max(o, 1), w.Data)
		if err != nil {
			return nil, fmt.Errorf("cpu: conv weight %q: %w", n.Inputs[1].Name, err)
		}
		pw = l
	}
	return kernelFunc(func(_ *backend.Env, ins []backend.Tensor, out backend.Tensor) error {
		xs, ws := ins[0].Shape, ins[1].Shape
		if tensor.NumElements(out.Shape) == 0 {
			return nil
		}
		var bias []float32
		if a.HasBias {
			bias = f32(ins[2])
		}
		if pw == nil {
			c := &kernels.Conv{B: xs[0], Cin: xs[1], Cout: ws[0], Groups: a.Groups, In: xs[2:], Kernel: ws[2:],
				Stride: a.Stride, Dilation: a.Dilation, PadBefore: a.PadLo, PadAfter: a.PadHi}
			return c.Run(b.pool, f32(out), f32(ins[0]), f32(ins[1]), bias)
		}
		return convGemm(b, pw, a, f32(ins[0]), xs, ws, bias, f32(out), out.Shape)
	}), nil
}

var scratchPool sync.Pool // *[]float32

// getScratch returns a float32 buffer of at least n elements.
func getScratch(n int) *[]float32 {
	if p, ok := scratchPool.Get().(*[]float32); ok && cap(*p) >= n {
		*p = (*p)[:n]
		return p
	}
	b := make([]float32, n)
	return &b
}

func putScratch(p *[]float32) { scratchPool.Put(p) }

func convGemm(b *Backend, w linear, a *ir.ConvAttr, x []float32, xs, ws []int, bias, y []float32, ys []int) error {
	B, C, O := xs[0], xs[1], ws[0]
	// Work in 2-D: a 1-D convolution has H = KH = OH = 1.
	H, W, KH, KW, OH, OW := 1, xs[2], 1, ws[2], 1, ys[2]
	sh, sw, dh, dw, ph, pw := 1, a.Stride[0], 1, a.Dilation[0], 0, a.PadLo[0]
	if len(a.Stride) == 2 {
		H, W, KH, KW, OH, OW = xs[2], xs[3], ws[2], ws[3], ys[2], ys[3]
		sh, sw, dh, dw, ph, pw = a.Stride[0], a.Stride[1], a.Dilation[0], a.Dilation[1], a.PadLo[0], a.PadLo[1]
	}
	P, CK := OH*OW, C*KH*KW
	sc := getScratch(P*CK + P*O)
	defer putScratch(sc)
	col, yt := (*sc)[:P*CK], (*sc)[P*CK:P*CK+P*O]
	for bi := range B {
		xb := x[bi*C*H*W:]
		b.pool.For(P, max(1, 4096/max(CK, 1)), func(lo, hi int) {
			for p := lo; p < hi; p++ {
				oh, ow := p/OW, p%OW
				row := col[p*CK : (p+1)*CK]
				for c := range C {
					for kh := range KH {
						ih := oh*sh - ph + kh*dh
						r := row[(c*KH+kh)*KW : (c*KH+kh+1)*KW]
						if ih < 0 || ih >= H {
							clear(r)
							continue
						}
						xr := xb[(c*H+ih)*W:]
						if iw0 := ow*sw - pw; dw == 1 && iw0 >= 0 && iw0+KW <= W {
							copy(r, xr[iw0:iw0+KW])
							continue
						}
						for kw := range KW {
							iw := ow*sw - pw + kw*dw
							if iw >= 0 && iw < W {
								r[kw] = xr[iw]
							} else {
								r[kw] = 0
							}
						}
					}
				}
			}
		})
		if err := w.apply(b, yt, col, P); err != nil {
			return err
		}
		yb := y[bi*O*P : (bi+1)*O*P]
		for o := range O {
			bv := float32(0)
			if bias != nil {
				bv = bias[o]
			}
			dst := yb[o*P : (o+1)*P]
			for p := range dst {
				dst[p] = yt[p*O+o] + bv
			}
		}
	}
	return nil
}
