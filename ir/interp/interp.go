// Package interp is the float64 reference interpreter of the IR: every op
// written in the most direct way, computing in float64, so that it is
// obviously right. Tests compare every backend against it, and the
// compiler folds constants with it. It is slow by design.
//
// Values of dtype F16 and BF16 are rounded to that type after every op (so
// an F16 KV cache behaves like one); F32 values are not rounded.
package interp

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sort"

	"github.com/rlx-go/rlx/ir"
	"github.com/rlx-go/rlx/quant"
	"github.com/rlx-go/rlx/tensor"
)

// Value is a tensor held as float64 elements.
type Value struct {
	DType tensor.DType
	Shape []int
	Data  []float64
}

// FromTensor converts a host tensor (scalar dtypes, or a block-quantized
// type through the quant package's reference dequantizer).
func FromTensor(t *tensor.Tensor) (*Value, error) {
	if t.DType.Quantized() {
		f := make([]float32, t.NumElements())
		if err := quant.Dequantize(t.DType, f, t.Data); err != nil {
			return nil, err
		}
		d := make([]float64, len(f))
		for i, v := range f {
			d[i] = float64(v)
		}
		return &Value{DType: tensor.F32, Shape: slices.Clone(t.Shape), Data: d}, nil
	}
	d, err := t.Float64s()
	if err != nil {
		return nil, err
	}
	return &Value{DType: t.DType, Shape: slices.Clone(t.Shape), Data: d}, nil
}

// Tensor converts v to a host tensor of its dtype (rounding as a store does).
func (v *Value) Tensor() (*tensor.Tensor, error) {
	t, err := tensor.New(v.DType, v.Shape...)
	if err != nil {
		return nil, err
	}
	for i, x := range v.Data {
		if err := v.DType.StoreFloat64(t.Data, i, x); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// Session runs a graph repeatedly, keeping its State values between runs.
type Session struct {
	g      *ir.Graph
	params map[*ir.Node]*Value
	state  map[string]*Value
}

// New binds the graph's params (converted to float64 once) and starts a
// session with zeroed state.
func New(g *ir.Graph, params ir.ParamSource) (*Session, error) {
	s := &Session{g: g, params: map[*ir.Node]*Value{}, state: map[string]*Value{}}
	for _, n := range g.Params() {
		t, err := ir.LookupParam(params, n)
		if err != nil {
			return nil, err
		}
		v, err := FromTensor(t)
		if err != nil {
			return nil, fmt.Errorf("interp: param %q: %w", n.Name, err)
		}
		if t.DType.Quantized() {
			v.DType = t.DType // remember it was packed; values are dequantized
		}
		s.params[n] = v
	}
	return s, nil
}

// Reset zeroes every state.
func (s *Session) Reset() { clear(s.state) }

// Run evaluates the graph. dims gives sizes of symbols no input determines.
func (s *Session) Run(ctx context.Context, inputs map[string]*tensor.Tensor, dims map[string]int) (map[string]*Value, error) {
	shapes := map[string][]int{}
	for k, t := range inputs {
		shapes[k] = t.Shape
	}
	bind, err := ir.Bind(s.g, shapes, dims)
	if err != nil {
		return nil, err
	}
	vals := make(map[*ir.Node]*Value, len(s.g.Nodes))
	var assigns [][2]*ir.Node
	for _, n := range s.g.Nodes {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if n.Op == ir.OpAssign {
			assigns = append(assigns, [2]*ir.Node{n.Inputs[0], n.Inputs[1]})
			continue
		}
		ins := make([]*Value, len(n.Inputs))
		for i, in := range n.Inputs {
			ins[i] = vals[in]
		}
		var v *Value
		switch n.Op {
		case ir.OpInput:
			t := inputs[n.Name]
			if t.DType != n.DType {
				return nil, fmt.Errorf("interp: input %q is %v, the graph declares %v", n.Name, t.DType, n.DType)
			}
			v, err = FromTensor(t)
		case ir.OpParam:
			v = s.params[n]
		case ir.OpState:
			v, err = s.stateValue(n, bind)
		default:
			v, err = Eval(n, ins, bind)
		}
		if err != nil {
			return nil, fmt.Errorf("interp: node %v: %w", n, err)
		}
		vals[n] = v
	}
	for _, a := range assigns {
		src := vals[a[1]]
		s.state[a[0].Name] = &Value{DType: src.DType, Shape: slices.Clone(src.Shape), Data: slices.Clone(src.Data)}
	}
	out := map[string]*Value{}
	for _, o := range s.g.Outputs {
		v := vals[o.Node]
		out[o.Name] = &Value{DType: v.DType, Shape: slices.Clone(v.Shape), Data: slices.Clone(v.Data)}
	}
	return out, nil
}

func (s *Session) stateValue(n *ir.Node, bind map[string]int) (*Value, error) {
	shape, err := n.Shape.Eval(bind)
	if err != nil {
		return nil, err
	}
	if v, ok := s.state[n.Name]; ok {
		if !slices.Equal(v.Shape, shape) {
			return nil, fmt.Errorf("state %q was %v, now %v: reset the session", n.Name, v.Shape, shape)
		}
		return v, nil
	}
	v := &Value{DType: n.DType, Shape: shape, Data: make([]float64, tensor.NumElements(shape))}
	s.state[n.Name] = v
	return v, nil
}

// Eval computes one non-source node from its input values. Cached
// attention writes into its cache inputs.
func Eval(n *ir.Node, ins []*Value, bind map[string]int) (*Value, error) {
	shape, err := n.Shape.Eval(bind)
	if err != nil {
		return nil, err
	}
	out := &Value{DType: n.DType, Shape: shape, Data: make([]float64, tensor.NumElements(shape))}
	switch k := n.Op.Kind(); {
	case k == ir.KindUnary:
		for i, x := range ins[0].Data {
			out.Data[i] = Unary(n.Op, n.Attr, x)
		}
	case k == ir.KindBinary || k == ir.KindCompare:
		broadcast(out, ins, func(a []float64) float64 { return Binary(n.Op, a[0], a[1]) })
	default:
		if err := evalStructured(n, ins, out, bind); err != nil {
			return nil, err
		}
	}
	for i, x := range out.Data {
		out.Data[i] = Round(n.DType, x)
	}
	return out, nil
}

func evalStructured(n *ir.Node, ins []*Value, out *Value, bind map[string]int) error {
	switch n.Op {
	case ir.OpConst:
		v, err := FromTensor(n.Attr.(*ir.ConstAttr).Value)
		if err != nil {
			return err
		}
		copy(out.Data, v.Data)
	case ir.OpRange:
		start, err := n.Attr.(*ir.RangeAttr).Start.Eval(bind)
		if err != nil {
			return err
		}
		for i := range out.Data {
			out.Data[i] = float64(start + i)
		}
	case ir.OpWhere:
		broadcast(out, ins, func(a []float64) float64 {
			if a[0] != 0 {
				return a[1]
			}
			return a[2]
		})
	case ir.OpCast:
		copy(out.Data, ins[0].Data)
	case ir.OpFused:
		return evalFused(n, ins, out)
	case ir.OpMatMul, ir.OpDequantMatMul:
		a := n.Attr.(*ir.MatMulAttr)
		matmul(a, ins[0], ins[1], out)
		if a.Add {
			prod := slices.Clone(out.Data)
			broadcast(out, ins[2:3], func(v []float64) float64 { return v[0] })
			for i := range out.Data {
				out.Data[i] += prod[i]
			}
		}
	case ir.OpSoftmax:
		softmax(n.Attr.(*ir.SoftmaxAttr), ins, out)
	case ir.OpLayerNorm, ir.OpRMSNorm:
		norm(n.Op, n.Attr.(*ir.NormAttr), ins, out)
	case ir.OpRoPE:
		rope(n.Attr.(*ir.RoPEAttr), ins, out)
	case ir.OpAttention:
		return attention(n.Attr.(*ir.AttentionAttr), ins, out, bind)
	case ir.OpGather:
		t, ids := ins[0], ins[1]
		row := tensor.NumElements(t.Shape[1:])
		for i, id := range ids.Data {
			if id < 0 || int(id) >= t.Shape[0] {
				return fmt.Errorf("gather id %v out of range [0, %d)", id, t.Shape[0])
			}
			copy(out.Data[i*row:(i+1)*row], t.Data[int(id)*row:(int(id)+1)*row])
		}
	case ir.OpConcat:
		ax := n.Attr.(*ir.AxisAttr).Axis
		outer := tensor.NumElements(out.Shape[:ax])
		inner := tensor.NumElements(out.Shape[ax+1:])
		off := 0
		for _, in := range ins {
			w := in.Shape[ax] * inner
			for o := range outer {
				copy(out.Data[o*out.Shape[ax]*inner+off:], in.Data[o*w:(o+1)*w])
			}
			off += w
		}
	case ir.OpSlice:
		a := n.Attr.(*ir.SliceAttr)
		start, err := a.Start.Eval(bind)
		if err != nil {
			return err
		}
		in := ins[0]
		ax := a.Axis
		if start < 0 || start+(out.Shape[ax]-1)*a.Step >= in.Shape[ax] && out.Shape[ax] > 0 {
			return fmt.Errorf("slice [%d, +%d·%d) outside axis of %d", start, out.Shape[ax], a.Step, in.Shape[ax])
		}
		outer := tensor.NumElements(in.Shape[:ax])
		inner := tensor.NumElements(in.Shape[ax+1:])
		for o := range outer {
			for j := range out.Shape[ax] {
				src := (o*in.Shape[ax] + start + j*a.Step) * inner
				copy(out.Data[(o*out.Shape[ax]+j)*inner:], in.Data[src:src+inner])
			}
		}
	case ir.OpReshape:
		copy(out.Data, ins[0].Data)
	case ir.OpPermute:
		perm := n.Attr.(*ir.PermuteAttr).Perm
		in := ins[0]
		st := strides(in.Shape)
		idx := make([]int, len(out.Shape))
		for i := range out.Data {
			src := 0
			for k, p := range perm {
				src += idx[k] * st[p]
			}
			out.Data[i] = in.Data[src]
			next(idx, out.Shape)
		}
	case ir.OpExpand:
		broadcast(out, ins, func(a []float64) float64 { return a[0] })
	case ir.OpReduceSum, ir.OpReduceMean, ir.OpReduceMax, ir.OpArgMax:
		reduce(n.Op, n.Attr.(*ir.ReduceAttr), ins[0], out)
	case ir.OpConv1D, ir.OpConv2D:
		conv(n.Attr.(*ir.ConvAttr), ins, out)
	case ir.OpPad:
		pad(n.Attr.(*ir.PadAttr), ins[0], out)
	case ir.OpTopK:
		a := n.Attr.(*ir.TopKAttr)
		x := ins[0]
		cols := x.Shape[len(x.Shape)-1]
		idx := make([]int, cols)
		for r := 0; r < len(x.Data)/max(cols, 1); r++ {
			row := x.Data[r*cols : (r+1)*cols]
			for i := range idx {
				idx[i] = i
			}
			sort.SliceStable(idx, func(i, j int) bool { return row[idx[i]] > row[idx[j]] })
			for j := range a.K {
				if a.Indices {
					out.Data[r*a.K+j] = float64(idx[j])
				} else {
					out.Data[r*a.K+j] = row[idx[j]]
				}
			}
		}
	case ir.OpMoE:
		moe(n.Attr.(*ir.MoEAttr), ins, out)
	case ir.OpRoPETable:
		x := ins[0]
		c := &Value{Shape: x.Shape, Data: make([]float64, len(x.Data))}
		sn := &Value{Shape: x.Shape, Data: make([]float64, len(x.Data))}
		broadcast(c, ins[1:2], func(v []float64) float64 { return v[0] })
		broadcast(sn, ins[2:3], func(v []float64) float64 { return v[0] })
		d := x.Shape[len(x.Shape)-1]
		h := d / 2
		for i, v := range x.Data {
			var rot float64
			if i%d >= h {
				rot = x.Data[i-h]
			} else {
				rot = -x.Data[i+h]
			}
			out.Data[i] = v*c.Data[i] + rot*sn.Data[i]
		}
	default:
		return fmt.Errorf("interp: op %v is not implemented", n.Op)
	}
	return nil
}

// strides of a row-major shape.
func strides(shape []int) []int {
	st := make([]int, len(shape))
	s := 1
	for i := len(shape) - 1; i >= 0; i-- {
		st[i] = s
		s *= shape[i]
	}
	return st
}

// next advances a multi-index in row-major order.
func next(idx, shape []int) {
	for k := len(idx) - 1; k >= 0; k-- {
		idx[k]++
		if idx[k] < shape[k] {
			return
		}
		idx[k] = 0
	}
}

// bstrides gives the strides of in aligned to out's rank, 0 on broadcast axes.
func bstrides(in, out []int) []int {
	st := strides(in)
	bs := make([]int, len(out))
	for i := range out {
		j := len(in) - len(out) + i
		if j >= 0 && in[j] != 1 {
			bs[i] = st[j]
		}
	}
	return bs
}

// broadcast evaluates f over out's elements with inputs broadcast to it.
func broadcast(out *Value, ins []*Value, f func([]float64) float64) {
	bs := make([][]int, len(ins))
	for i, in := range ins {
		bs[i] = bstrides(in.Shape, out.Shape)
	}
	idx := make([]int, len(out.Shape))
	args := make([]float64, len(ins))
	for i := range out.Data {
		for j, in := range ins {
			off := 0
			for k, x := range idx {
				off += x * bs[j][k]
			}
			args[j] = in.Data[off]
		}
		out.Data[i] = f(args)
		next(idx, out.Shape)
	}
}

func evalFused(n *ir.Node, ins []*Value, out *Value) error {
	code := n.Attr.(*ir.FusedAttr).Code
	regs := make([]float64, len(ins)+len(code))
	broadcast(out, ins, func(a []float64) float64 {
		copy(regs, a)
		for i, in := range code {
			r := len(ins) + i
			var v float64
			switch k := in.Op.Kind(); {
			case k == ir.KindUnary:
				v = Unary(in.Op, in.Attr, regs[in.Args[0]])
			case k == ir.KindBinary || k == ir.KindCompare:
				v = Binary(in.Op, regs[in.Args[0]], regs[in.Args[1]])
			case in.Op == ir.OpWhere:
				v = regs[in.Args[2]]
				if regs[in.Args[0]] != 0 {
					v = regs[in.Args[1]]
				}
			case in.Op == ir.OpCast:
				v = regs[in.Args[0]]
			default:
				v = math.NaN()
			}
			regs[r] = Round(in.DType, v)
		}
		return regs[len(regs)-1]
	})
	return nil
}

func matmul(a *ir.MatMulAttr, x, w, out *Value) {
	r := len(out.Shape)
	m, nn := out.Shape[r-2], out.Shape[r-1]
	k := x.Shape[len(x.Shape)-1]
	if a.TransA {
		k = x.Shape[len(x.Shape)-2]
	}
	batch := out.Shape[:r-2]
	xb := bstrides(x.Shape[:len(x.Shape)-2], batch)
	wb := bstrides(w.Shape[:len(w.Shape)-2], batch)
	xm := x.Shape[len(x.Shape)-2] * x.Shape[len(x.Shape)-1]
	wm := w.Shape[len(w.Shape)-2] * w.Shape[len(w.Shape)-1]
	idx := make([]int, len(batch))
	for bi := range tensor.NumElements(batch) {
		xo, wo := 0, 0
		for j, v := range idx {
			xo += v * xb[j] * xm
			wo += v * wb[j] * wm
		}
		for i := range m {
			for j := range nn {
				var s float64
				for p := range k {
					var xv, wv float64
					if a.TransA {
						xv = x.Data[xo+p*m+i]
					} else {
						xv = x.Data[xo+i*k+p]
					}
					if a.TransB {
						wv = w.Data[wo+j*k+p]
					} else {
						wv = w.Data[wo+p*nn+j]
					}
					s += xv * wv
				}
				out.Data[(bi*m+i)*nn+j] = s
			}
		}
		next(idx, batch)
	}
}

// outerInner splits a shape around axis.
func outerInner(shape []int, axis int) (outer, n, inner int) {
	return tensor.NumElements(shape[:axis]), shape[axis], tensor.NumElements(shape[axis+1:])
}

func softmax(a *ir.SoftmaxAttr, ins []*Value, out *Value) {
	x := ins[0]
	z := make([]float64, len(x.Data))
	for i, v := range x.Data {
		z[i] = a.Scale * v
	}
	if a.Masked {
		m := &Value{Shape: x.Shape, Data: make([]float64, len(x.Data))}
		broadcast(m, ins[1:], func(v []float64) float64 { return v[0] })
		for i := range z {
			z[i] += m.Data[i]
		}
	}
	outer, n, inner := outerInner(x.Shape, a.Axis)
	for o := range outer {
		for in := range inner {
			at := func(j int) int { return (o*n+j)*inner + in }
			mx := math.Inf(-1)
			for j := range n {
				mx = math.Max(mx, z[at(j)])
			}
			if math.IsInf(mx, -1) {
				continue // fully masked: zeros
			}
			var sum float64
			for j := range n {
				sum += math.Exp(z[at(j)] - mx)
			}
			for j := range n {
				out.Data[at(j)] = math.Exp(z[at(j)]-mx) / sum
			}
		}
	}
}

func norm(op ir.Op, a *ir.NormAttr, ins []*Value, out *Value) {
	x := ins[0]
	d := x.Shape[len(x.Shape)-1]
	rows := len(x.Data) / max(d, 1)
	for r := range rows {
		row := x.Data[r*d : (r+1)*d]
		var mean, ss float64
		if op == ir.OpLayerNorm {
			for _, v := range row {
				mean += v
			}
			mean /= float64(d)
		}
		for _, v := range row {
			ss += (v - mean) * (v - mean)
		}
		inv := 1 / math.Sqrt(ss/float64(d)+a.Eps)
		for i, v := range row {
			y := (v - mean) * inv
			if a.HasWeight {
				w := ins[1].Data[i]
				if a.PlusOne {
					w++
				}
				y *= w
			}
			if a.HasBias {
				y += ins[len(ins)-1].Data[i]
			}
			out.Data[r*d+i] = y
		}
	}
}

func rope(a *ir.RoPEAttr, ins []*Value, out *Value) {
	x, pos, inv := ins[0], ins[1], ins[2]
	copy(out.Data, x.Data)
	B, T, H, D := x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3]
	half := a.RotaryDim / 2
	for b := range B {
		for t := range T {
			p := pos.Data[t]
			if len(pos.Shape) == 2 {
				p = pos.Data[min(b, pos.Shape[0]-1)*T+t]
			}
			for h := range H {
				base := ((b*T+t)*H + h) * D
				for i := range half {
					th := p * inv.Data[i]
					c, s := math.Cos(th)*a.Scale, math.Sin(th)*a.Scale
					i0, i1 := i, i+half
					if a.Layout == ir.RoPEInterleaved {
						i0, i1 = 2*i, 2*i+1
					}
					x0, x1 := x.Data[base+i0], x.Data[base+i1]
					out.Data[base+i0] = x0*c - x1*s
					out.Data[base+i1] = x1*c + x0*s
				}
			}
		}
	}
}

func attention(a *ir.AttentionAttr, ins []*Value, out *Value, bind map[string]int) error {
	q, k, v := ins[0], ins[1], ins[2]
	past, err := a.Past.Eval(bind)
	if err != nil {
		return err
	}
	B, T, Hq, D := q.Shape[0], q.Shape[1], q.Shape[2], q.Shape[3]
	Hkv, Dv := k.Shape[2], v.Shape[3]
	S := k.Shape[1]
	keys, vals := k, v
	end := len(ins)
	var rows []float64
	if a.PerRow {
		rows = ins[end-1].Data
		end--
	}
	pastOf := func(b int) int {
		if rows != nil {
			return int(rows[b])
		}
		return past
	}
	if a.Cached {
		kc, vc := ins[end-2], ins[end-1]
		maxSeq := kc.Shape[1]
		for b := range B {
			if p := pastOf(b); p < 0 || p+T > maxSeq {
				return fmt.Errorf("attention: row %d positions [%d, %d) exceed the cache of %d", b, p, p+T, maxSeq)
			}
		}
		for i, c := range []*Value{kc, vc} {
			src := []*Value{k, v}[i]
			row := Hkv * c.Shape[3]
			for b := range B {
				for t := range T {
					dst := (b*maxSeq + pastOf(b) + t) * row
					for j := range row {
						c.Data[dst+j] = Round(c.DType, src.Data[(b*T+t)*row+j])
					}
				}
			}
		}
		keys, vals = kc, vc
		S = past + T
		for b := range B {
			S = max(S, pastOf(b)+T)
		}
	}
	kStride := keys.Shape[1] // rows per batch in the key tensor
	var mask *Value
	if a.Masked {
		mask = &Value{Shape: []int{B, Hq, T, S}, Data: make([]float64, B*Hq*T*S)}
		broadcast(mask, ins[3:4], func(v []float64) float64 { return v[0] })
	}
	group := Hq / Hkv
	logits := make([]float64, S)
	for b := range B {
		Sb := S
		if rows != nil {
			Sb = pastOf(b) + T
		}
		for h := range Hq {
			kh := h / group
			for t := range T {
				qpos := pastOf(b) + t
				mx := math.Inf(-1)
				for j := range Sb {
					l := math.Inf(-1)
					ok := !a.Causal || j <= qpos
					if a.Window > 0 && qpos-j >= a.Window {
						ok = false
					}
					if ok {
						var s float64
						for d := range D {
							s += q.Data[((b*T+t)*Hq+h)*D+d] * keys.Data[((b*kStride+j)*Hkv+kh)*D+d]
						}
						l = s * a.Scale
						if a.Softcap > 0 {
							l = a.Softcap * math.Tanh(l/a.Softcap)
						}
						if mask != nil {
							l += mask.Data[((b*Hq+h)*T+t)*S+j]
						}
					}
					logits[j] = l
					mx = math.Max(mx, l)
				}
				o := out.Data[((b*T+t)*Hq+h)*Dv : ((b*T+t)*Hq+h+1)*Dv]
				if math.IsInf(mx, -1) {
					continue
				}
				var sum float64
				for j := range Sb {
					logits[j] = math.Exp(logits[j] - mx)
					sum += logits[j]
				}
				for j := range Sb {
					p := logits[j] / sum
					if p == 0 {
						continue
					}
					for d := range Dv {
						o[d] += p * vals.Data[((b*kStride+j)*Hkv+kh)*Dv+d]
					}
				}
			}
		}
	}
	return nil
}

func moe(a *ir.MoEAttr, ins []*Value, out *Value) {
	if a.PerExpert {
		// Stack the per-expert weights and reuse the stacked form.
		E := (len(ins) - 2) / 3
		stack := func(ws []*Value) *Value {
			v := &Value{Shape: append([]int{E}, ws[0].Shape...)}
			for _, w := range ws {
				v.Data = append(v.Data, w.Data...)
			}
			return v
		}
		ins = []*Value{ins[0], ins[1], stack(ins[2 : 2+E]), stack(ins[2+E : 2+2*E]), stack(ins[2+2*E:])}
	}
	x, r, g, u, d := ins[0], ins[1], ins[2], ins[3], ins[4]
	T, D := x.Shape[0], x.Shape[1]
	E, F := g.Shape[0], g.Shape[1]
	h := make([]float64, F)
	for t := range T {
		xt := x.Data[t*D : (t+1)*D]
		for e := range E {
			w := r.Data[t*E+e]
			if w == 0 {
				continue
			}
			for f := range F {
				var sg, su float64
				gr := g.Data[(e*F+f)*D : (e*F+f+1)*D]
				ur := u.Data[(e*F+f)*D : (e*F+f+1)*D]
				for i, v := range xt {
					sg += gr[i] * v
					su += ur[i] * v
				}
				h[f] = Unary(a.Act, nil, sg) * su
			}
			for o := range D {
				dr := d.Data[(e*D+o)*F : (e*D+o+1)*F]
				var s float64
				for f, v := range h {
					s += dr[f] * v
				}
				out.Data[t*D+o] += w * s
			}
		}
	}
}

func reduce(op ir.Op, a *ir.ReduceAttr, x, out *Value) {
	// Map every input element to its output slot.
	ost := make([]int, len(x.Shape))
	{
		var kept []int
		for i := range x.Shape {
			if !slices.Contains(a.Axes, i) {
				kept = append(kept, i)
			}
		}
		s := 1
		for j := len(kept) - 1; j >= 0; j-- {
			ost[kept[j]] = s
			s *= x.Shape[kept[j]]
		}
	}
	cnt := 1
	for _, ax := range a.Axes {
		cnt *= x.Shape[ax]
	}
	switch op {
	case ir.OpReduceMax:
		for i := range out.Data {
			out.Data[i] = math.Inf(-1)
		}
	case ir.OpArgMax:
		for i := range out.Data {
			out.Data[i] = -1
		}
	}
	best := make([]float64, len(out.Data))
	for i := range best {
		best[i] = math.Inf(-1)
	}
	idx := make([]int, len(x.Shape))
	for _, v := range x.Data {
		o := 0
		for k, x := range idx {
			o += x * ost[k]
		}
		switch op {
		case ir.OpReduceSum, ir.OpReduceMean:
			out.Data[o] += v
		case ir.OpReduceMax:
			out.Data[o] = math.Max(out.Data[o], v)
		case ir.OpArgMax:
			// The first maximum; NaN counts as the largest (as PyTorch).
			if out.Data[o] < 0 || v > best[o] || (math.IsNaN(v) && !math.IsNaN(best[o])) {
				best[o] = v
				out.Data[o] = float64(idx[a.Axes[0]])
			}
		}
		next(idx, x.Shape)
	}
	if op == ir.OpReduceMean {
		for i := range out.Data {
			out.Data[i] /= float64(cnt)
		}
	}
}

func conv(a *ir.ConvAttr, ins []*Value, out *Value) {
	x, w := ins[0], ins[1]
	sp := len(a.Stride)
	B, C, O := x.Shape[0], x.Shape[1], w.Shape[0]
	cg, og := C/a.Groups, O/a.Groups
	in := x.Shape[2:]
	ks := w.Shape[2:]
	os := out.Shape[2:]
	xst, wst, ost := strides(x.Shape), strides(w.Shape), strides(out.Shape)
	oidx := make([]int, sp)
	kidx := make([]int, sp)
	for b := range B {
		for o := range O {
			g := o / og
			for range tensor.NumElements(os) {
				var s float64
				if a.HasBias {
					s = ins[2].Data[o]
				}
				for c := range cg {
					clear(kidx)
					for range tensor.NumElements(ks) {
						xo := b*xst[0] + (g*cg+c)*xst[1]
						ok := true
						for d := range sp {
							p := oidx[d]*a.Stride[d] - a.PadLo[d] + kidx[d]*a.Dilation[d]
							if p < 0 || p >= in[d] {
								ok = false
								break
							}
							xo += p * xst[2+d]
						}
						if ok {
							wo := o*wst[0] + c*wst[1]
							for d := range sp {
								wo += kidx[d] * wst[2+d]
							}
							s += x.Data[xo] * w.Data[wo]
						}
						next(kidx, ks)
					}
				}
				oo := b*ost[0] + o*ost[1]
				for d := range sp {
					oo += oidx[d] * ost[2+d]
				}
				out.Data[oo] = s
				next(oidx, os)
			}
		}
	}
}

func pad(a *ir.PadAttr, x, out *Value) {
	xst := strides(x.Shape)
	idx := make([]int, len(out.Shape))
	for i := range out.Data {
		off := 0
		inside := true
		for k, v := range idx {
			p := v - a.Before[k]
			n := x.Shape[k]
			if p < 0 || p >= n {
				switch a.Mode {
				case ir.PadReflect:
					if p < 0 {
						p = -p
					} else {
						p = 2*(n-1) - p
					}
				case ir.PadEdge:
					p = min(max(p, 0), n-1)
				default:
					inside = false
				}
			}
			off += p * xst[k]
		}
		if inside {
			out.Data[i] = x.Data[off]
		} else {
			out.Data[i] = a.Value
		}
		next(idx, out.Shape)
	}
}
