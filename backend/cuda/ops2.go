package cuda

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"

	"github.com/rlx-go/rlx/backend"
	"github.com/rlx-go/rlx/backend/cuda/driver"
	"github.com/rlx-go/rlx/ir"
	"github.com/rlx-go/rlx/tensor"
)

// Data movement, casts, comparisons, Where, reductions, norms, top-k,
// Range, RoPETable, state copies and attention (kernels/data.cu and
// kernels/attention.cu). Supports and Prepare in ops.go hand every op they
// do not list themselves to moreSupports and prepareMore.

const (
	walkMaxRank = 8
	walkSize    = 8*walkMaxRank + 3*8*walkMaxRank + 3*8 + 8 // sizeof(Walk)
	padArgsSize = 3*8*walkMaxRank + 8 + 8                   // sizeof(PadArgs)
)

// dtypeCode is data.cu's DT_* code of a plain element type, or -1.
func dtypeCode(dt tensor.DType) int {
	switch dt {
	case tensor.F32:
		return 0
	case tensor.F16:
		return 1
	case tensor.BF16:
		return 2
	case tensor.I32:
		return 3
	case tensor.I64:
		return 4
	case tensor.Bool:
		return 5
	}
	return -1
}

// plainSize is the element size of a type copy_walk can move (0: none).
func plainSize(dt tensor.DType) int {
	if dt.Quantized() {
		return 0
	}
	switch s := dt.BlockBytes(); s {
	case 1, 2, 4, 8:
		return s
	}
	return 0
}

// HostOps lists the catalog ops that have no CUDA kernel in any form: on
// a GPU they always run on the host, through backend/fallback. (Other ops
// fall back only for some types or layouts; Supports says why.)
var HostOps = []ir.Op{ir.OpConv1D, ir.OpConv2D}

var compareCodes = map[ir.Op]int{ir.OpLess: 0, ir.OpLessEq: 1, ir.OpGreater: 2, ir.OpGreaterEq: 3, ir.OpEqual: 4, ir.OpNotEqual: 5}

// moreSupports is supports for the ops of this file.
func moreSupports(n *ir.Node) string {
	in := func(i int) tensor.DType { return n.Inputs[i].DType }
	rankOK := len(n.Shape) <= walkMaxRank
	for _, x := range n.Inputs {
		rankOK = rankOK && len(x.Shape) <= walkMaxRank
	}
	if !rankOK {
		return "rank above 8"
	}
	if _, ok := compareCodes[n.Op]; ok {
		if in(0) != in(1) || dtypeCode(in(0)) < 0 {
			return "comparison of these types"
		}
		return ""
	}
	switch n.Op {
	case ir.OpGather:
		if ids := in(1); ids != tensor.I32 && ids != tensor.I64 {
			return "gather ids must be I32 or I64"
		}
	case ir.OpAttention:
		return attnSupports(n)
	case ir.OpMoE:
		return moeSupports(n)
	case ir.OpAssign, ir.OpReshape:
		return ""
	case ir.OpConcat, ir.OpSlice, ir.OpPermute, ir.OpExpand, ir.OpPad:
		if plainSize(n.DType) == 0 {
			return "data movement of this dtype"
		}
		if n.Op == ir.OpPad {
			if at := n.Attr.(*ir.PadAttr); slices.ContainsFunc(at.Before, func(v int) bool { return v < 0 }) || slices.ContainsFunc(at.After, func(v int) bool { return v < 0 }) {
				return "negative padding"
			}
		}
	case ir.OpCast:
		if dtypeCode(n.DType) < 0 || dtypeCode(in(0)) < 0 {
			return "cast between these types"
		}
	case ir.OpWhere:
		if in(0) != tensor.Bool || in(1) != in(2) || plainSize(in(1)) == 0 {
			return "where needs a BOOL condition and two operands of one plain type"
		}
	case ir.OpReduceSum, ir.OpReduceMean, ir.OpReduceMax, ir.OpArgMax:
		if in(0) != tensor.F32 {
			return "F32 only"
		}
		if _, _, ok := contiguousRun(n.Attr.(*ir.ReduceAttr).Axes); !ok {
			return "reduction over axes that are not one run"
		}
	case ir.OpLayerNorm, ir.OpRMSNorm:
		if in(0) != tensor.F32 {
			return "F32 activations only"
		}
		for i := 1; i < len(n.Inputs); i++ {
			if in(i) != tensor.F32 && !(isConst(n.Inputs[i]) && (in(i) == tensor.F16 || in(i) == tensor.BF16)) {
				return "norm weights must be F32, or F16/BF16 parameters"
			}
		}
	case ir.OpTopK:
		if in(0) != tensor.F32 {
			return "F32 only"
		}
	case ir.OpRange:
		if n.DType != tensor.I32 && n.DType != tensor.I64 && n.DType != tensor.F32 {
			return "range of this dtype"
		}
	case ir.OpRoPETable:
		for i := range n.Inputs {
			if in(i) != tensor.F32 {
				return "F32 only"
			}
		}
		if len(n.Shape) == 0 {
			return "a scalar"
		}
	default:
		return "not implemented on CUDA yet"
	}
	return ""
}

// contiguousRun reports the first and last of sorted axes when they are
// consecutive.
func contiguousRun(axes []int) (lo, hi int, ok bool) {
	if len(axes) == 0 {
		return 0, -1, true
	}
	s := slices.Clone(axes)
	slices.Sort(s)
	for i := 1; i < len(s); i++ {
		if s[i] != s[i-1]+1 {
			return 0, 0, false
		}
	}
	return s[0], s[len(s)-1], true
}

// prepareMore is Prepare for the ops of this file.
func (b *Backend) prepareMore(n *ir.Node, consts []*tensor.Tensor) (backend.Kernel, error) {
	fn := func(name string) (driver.Function, error) { return b.ks.Func(name) }
	if code, ok := compareCodes[n.Op]; ok {
		f, err := fn("compare_any")
		return &compare{b: b, f: f, op: code, dt: dtypeCode(n.Inputs[0].DType)}, err
	}
	switch n.Op {
	case ir.OpGather:
		f, err := fn("gather_stored")
		code, _ := storedGather(n.Inputs[0].DType)
		return &gatherStored{b: b, f: f, code: code}, err
	case ir.OpAttention:
		return b.attention(n)
	case ir.OpMoE:
		return b.moe(n)
	case ir.OpAssign:
		return &copyKernel{b: b, assign: true}, nil
	case ir.OpReshape:
		return &copyKernel{b: b}, nil
	case ir.OpConcat, ir.OpSlice, ir.OpPermute, ir.OpExpand:
		f, err := fn("copy_walk")
		return &movement{b: b, f: f, n: n, es: plainSize(n.DType)}, err
	case ir.OpPad:
		f, err := fn("pad_any")
		if err != nil {
			return nil, err
		}
		at := n.Attr.(*ir.PadAttr)
		fill := make([]byte, 8)
		if err := n.DType.StoreFloat64(fill, 0, at.Value); err != nil {
			return nil, err
		}
		return &pad{b: b, f: f, at: at, es: plainSize(n.DType), fill: binary.LittleEndian.Uint64(fill)}, nil
	case ir.OpCast:
		f, err := fn("cast_any")
		return &cast{b: b, f: f, from: dtypeCode(n.Inputs[0].DType), to: dtypeCode(n.DType)}, err
	case ir.OpWhere:
		f, err := fn("where_any")
		return &where{b: b, f: f, es: plainSize(n.DType)}, err
	case ir.OpReduceSum, ir.OpReduceMean, ir.OpReduceMax, ir.OpArgMax:
		f, err := fn("reduce_f32")
		op := map[ir.Op]int{ir.OpReduceSum: 0, ir.OpReduceMean: 1, ir.OpReduceMax: 2, ir.OpArgMax: 3}[n.Op]
		return &reduce{b: b, f: f, op: op, axes: n.Attr.(*ir.ReduceAttr).Axes}, err
	case ir.OpLayerNorm, ir.OpRMSNorm:
		return b.norm(n, consts)
	case ir.OpTopK:
		f, err := fn("topk_f32")
		at := n.Attr.(*ir.TopKAttr)
		return &topk{b: b, f: f, k: at.K, indices: at.Indices}, err
	case ir.OpRange:
		f, err := fn("range_any")
		return &rangeKernel{b: b, f: f, start: n.Attr.(*ir.RangeAttr).Start, dt: dtypeCode(n.DType)}, err
	case ir.OpRoPETable:
		f, err := fn("rope_table_f32")
		return &ropeTable{b: b, f: f}, err
	}
	return nil, backend.Unsupported(b.name, n, "no kernel")
}

// walk encodes data.cu's Walk for an output of dims and up to 3 operands
// given by element strides along those dims and base offsets.
func walk(dims []int, strides [][]int64, base []int64) ([]byte, error) {
	if len(dims) > walkMaxRank {
		return nil, fmt.Errorf("rank %d above %d", len(dims), walkMaxRank)
	}
	buf := make([]byte, walkSize)
	le := binary.LittleEndian
	for i, d := range dims {
		le.PutUint64(buf[8*i:], uint64(d))
	}
	for k, st := range strides {
		for i, s := range st {
			le.PutUint64(buf[8*walkMaxRank+8*(k*walkMaxRank+i):], uint64(s))
		}
	}
	for k, o := range base {
		le.PutUint64(buf[8*walkMaxRank*4+8*k:], uint64(o))
	}
	r := len(dims)
	if r == 0 {
		le.PutUint64(buf, 1) // one element
		r = 1
	}
	le.PutUint32(buf[8*walkMaxRank*4+24:], uint32(r))
	return buf, nil
}

// contiguous returns row-major element strides of shape.
func contiguous(shape []int) []int64 {
	st := make([]int64, len(shape))
	s := int64(1)
	for i := len(shape) - 1; i >= 0; i-- {
		st[i] = s
		s *= int64(shape[i])
	}
	return st
}

func views(ins []backend.Tensor, out backend.Tensor) ([]driver.Ptr, driver.Ptr, int64, error) {
	ps := make([]driver.Ptr, len(ins))
	for i, x := range ins {
		p, _, err := view(x)
		if err != nil {
			return nil, 0, 0, err
		}
		ps[i] = p
	}
	if out.Buf == nil {
		return ps, 0, 0, nil
	}
	o, ob, err := view(out)
	return ps, o, ob, err
}

type movement struct {
	b  *Backend
	f  driver.Function
	n  *ir.Node
	es int
}

func (k *movement) launch(src, dst driver.Ptr, dims []int, ss, ds []int64, sbase, dbase int64) error {
	cnt := int64(prod(dims))
	if cnt == 0 {
		return nil
	}
	w, err := walk(dims, [][]int64{ds, ss}, []int64{dbase, sbase})
	if err != nil {
		return err
	}
	return k.b.ctx.Launch(k.f, grid(cnt), driver.Dim3{X: 256}, 0, k.b.stream, src, dst, cnt, k.es, w)
}

func (k *movement) Run(env *backend.Env, ins []backend.Tensor, out backend.Tensor) error {
	ps, o, ob, err := views(ins, out)
	if err != nil || ob == 0 {
		return err
	}
	os := out.Shape
	ost := contiguous(os)
	switch k.n.Op {
	case ir.OpPermute:
		perm := k.n.Attr.(*ir.PermuteAttr).Perm
		ist := contiguous(ins[0].Shape)
		ss := make([]int64, len(perm))
		for i, p := range perm {
			ss[i] = ist[p]
		}
		return k.launch(ps[0], o, os, ss, ost, 0, 0)
	case ir.OpExpand:
		ss := broadcastStrides(ins[0].Shape, os)
		return k.launch(ps[0], o, os, ss, ost, 0, 0)
	case ir.OpSlice:
		at := k.n.Attr.(*ir.SliceAttr)
		start, err := env.Dim(at.Start)
		if err != nil {
			return err
		}
		ist := contiguous(ins[0].Shape)
		ss := slices.Clone(ist)
		step := at.Step
		if step == 0 {
			step = 1
		}
		ss[at.Axis] *= int64(step)
		return k.launch(ps[0], o, os, ss, ost, int64(start)*ist[at.Axis], 0)
	case ir.OpConcat:
		axis := k.n.Attr.(*ir.AxisAttr).Axis
		off := 0
		for i, x := range ins {
			if err := k.launch(ps[i], o, x.Shape, contiguous(x.Shape), ost, 0, int64(off)*ost[axis]); err != nil {
				return err
			}
			off += x.Shape[axis]
		}
		return nil
	}
	return fmt.Errorf("movement kernel for %v", k.n.Op)
}

type pad struct {
	b    *Backend
	f    driver.Function
	at   *ir.PadAttr
	es   int
	fill uint64
}

func (k *pad) Run(_ *backend.Env, ins []backend.Tensor, out backend.Tensor) error {
	ps, o, ob, err := views(ins, out)
	if err != nil || ob == 0 {
		return err
	}
	is, os := ins[0].Shape, out.Shape
	if len(os) == 0 {
		return k.b.ctx.CopyDtoDAsync(o, ps[0], ob, k.b.stream)
	}
	buf := make([]byte, padArgsSize)
	le := binary.LittleEndian
	for i := range os {
		le.PutUint64(buf[8*i:], uint64(os[i]))
		le.PutUint64(buf[8*(walkMaxRank+i):], uint64(is[i]))
		if i < len(k.at.Before) {
			le.PutUint64(buf[8*(2*walkMaxRank+i):], uint64(k.at.Before[i]))
		}
	}
	le.PutUint64(buf[8*3*walkMaxRank:], k.fill)
	le.PutUint32(buf[8*3*walkMaxRank+8:], uint32(len(os)))
	le.PutUint32(buf[8*3*walkMaxRank+12:], uint32(k.at.Mode))
	n := int64(prod(os))
	return k.b.ctx.Launch(k.f, grid(n), driver.Dim3{X: 256}, 0, k.b.stream, ps[0], o, n, k.es, buf)
}

type cast struct {
	b        *Backend
	f        driver.Function
	from, to int
}

func (k *cast) Run(_ *backend.Env, ins []backend.Tensor, out backend.Tensor) error {
	ps, o, ob, err := views(ins, out)
	if err != nil || ob == 0 {
		return err
	}
	n := int64(prod(out.Shape))
	return k.b.ctx.Launch(k.f, grid(n), driver.Dim3{X: 256}, 0, k.b.stream, ps[0], k.from, o, k.to, n)
}

type compare struct {
	b      *Backend
	f      driver.Function
	op, dt int
}

func (k *compare) Run(_ *backend.Env, ins []backend.Tensor, out backend.Tensor) error {
	ps, o, ob, err := views(ins, out)
	if err != nil || ob == 0 {
		return err
	}
	os := out.Shape
	w, err := walk(os, [][]int64{nil, broadcastStrides(ins[0].Shape, os), broadcastStrides(ins[1].Shape, os)}, nil)
	if err != nil {
		return err
	}
	n := int64(prod(os))
	return k.b.ctx.Launch(k.f, grid(n), driver.Dim3{X: 256}, 0, k.b.stream, ps[0], ps[1], k.dt, o, n, k.op, w)
}

type where struct {
	b  *Backend
	f  driver.Function
	es int
}

func (k *where) Run(_ *backend.Env, ins []backend.Tensor, out backend.Tensor) error {
	ps, o, ob, err := views(ins, out)
	if err != nil || ob == 0 {
		return err
	}
	os := out.Shape
	st := make([][]int64, 3)
	for i := range st {
		st[i] = broadcastStrides(ins[i].Shape, os)
	}
	w, err := walk(os, st, nil)
	if err != nil {
		return err
	}
	n := int64(prod(os))
	return k.b.ctx.Launch(k.f, grid(n), driver.Dim3{X: 256}, 0, k.b.stream, ps[0], ps[1], ps[2], o, n, k.es, w)
}

type reduce struct {
	b    *Backend
	f    driver.Function
	op   int
	axes []int
}

func (k *reduce) Run(_ *backend.Env, ins []backend.Tensor, out backend.Tensor) error {
	ps, o, ob, err := views(ins, out)
	if err != nil || ob == 0 {
		return err
	}
	is := ins[0].Shape
	lo, hi, _ := contiguousRun(k.axes)
	outer, red, inner := prod(is[:lo]), 1, 1
	if hi >= lo {
		red, inner = prod(is[lo:hi+1]), prod(is[hi+1:])
	} else {
		inner = prod(is[lo:])
	}
	nout := int64(outer) * int64(inner)
	blocks := int(min((nout+7)/8, 1<<16))
	return k.b.ctx.Launch(k.f, driver.Dim3{X: max(blocks, 1)}, driver.Dim3{X: 256}, 0, k.b.stream,
		ps[0], o, int64(outer), int64(red), int64(inner), k.op)
}

type normKernel struct {
	b            *Backend
	f            driver.Function
	w, bias      driver.Ptr // widened constants, or 0: the input views
	hasW, hasB   bool
	eps          float32
	layer, plus1 int
}

func (b *Backend) norm(n *ir.Node, consts []*tensor.Tensor) (backend.Kernel, error) {
	f, err := b.ks.Func("norm_f32")
	if err != nil {
		return nil, err
	}
	at := n.Attr.(*ir.NormAttr)
	k := &normKernel{b: b, f: f, hasW: at.HasWeight, hasB: at.HasBias, eps: float32(at.Eps)}
	if n.Op == ir.OpLayerNorm {
		k.layer = 1
	}
	if at.PlusOne {
		k.plus1 = 1
	}
	for i := 1; i < len(n.Inputs); i++ {
		if n.Inputs[i].DType == tensor.F32 {
			continue
		}
		if i >= len(consts) || consts[i] == nil {
			return nil, fmt.Errorf("cuda: %v weight of %v is not a constant", n.Inputs[i].DType, n)
		}
		p, err := b.widen(consts[i])
		if err != nil {
			return nil, fmt.Errorf("cuda: widening weight of %v: %w", n, err)
		}
		if i == 1 && at.HasWeight {
			k.w = p
		} else {
			k.bias = p
		}
	}
	return k, nil
}

// widen copies a constant to the device as F32 (freed with the backend).
func (b *Backend) widen(t *tensor.Tensor) (driver.Ptr, error) {
	vals, err := t.Float64s()
	if err != nil {
		return 0, err
	}
	buf := make([]byte, 4*len(vals))
	for i, v := range vals {
		binary.LittleEndian.PutUint32(buf[4*i:], math.Float32bits(float32(v)))
	}
	p, err := b.ctx.Alloc(int64(max(len(buf), 4)))
	if err != nil {
		return 0, err
	}
	if err := b.copyIn(p, buf); err != nil {
		b.ctx.Free(p)
		return 0, err
	}
	b.mu.Lock()
	b.owned = append(b.owned, p)
	b.mu.Unlock()
	return p, nil
}

func (k *normKernel) Run(_ *backend.Env, ins []backend.Tensor, out backend.Tensor) error {
	ps, o, ob, err := views(ins, out)
	if err != nil || ob == 0 || len(out.Shape) == 0 {
		return err
	}
	cols := out.Shape[len(out.Shape)-1]
	rows := ob / 4 / int64(cols)
	var w, bias driver.Ptr
	i := 1
	if k.hasW {
		w = ps[i]
		if k.w != 0 {
			w = k.w
		}
		i++
	}
	if k.hasB {
		bias = ps[i]
		if k.bias != 0 {
			bias = k.bias
		}
	}
	return k.b.ctx.Launch(k.f, driver.Dim3{X: int(min(rows, 1<<16))}, driver.Dim3{X: threadsFor(cols)}, 0, k.b.stream,
		ps[0], w, bias, o, rows, cols, k.eps, k.layer, k.plus1)
}

type topk struct {
	b       *Backend
	f       driver.Function
	k       int
	indices bool
}

func (k *topk) Run(_ *backend.Env, ins []backend.Tensor, out backend.Tensor) error {
	ps, o, ob, err := views(ins, out)
	if err != nil || ob == 0 {
		return err
	}
	is := ins[0].Shape
	cols := is[len(is)-1]
	rows := int64(prod(is[:len(is)-1]))
	if k.k > cols {
		return fmt.Errorf("top-%d of %d values", k.k, cols)
	}
	idx := 0
	if k.indices {
		idx = 1
	}
	return k.b.ctx.Launch(k.f, driver.Dim3{X: int(min(rows, 1<<16))}, driver.Dim3{X: threadsFor(cols)}, 0, k.b.stream,
		ps[0], o, rows, cols, k.k, idx)
}

type rangeKernel struct {
	b     *Backend
	f     driver.Function
	start ir.Dim
	dt    int
}

func (k *rangeKernel) Run(env *backend.Env, _ []backend.Tensor, out backend.Tensor) error {
	o, ob, err := view(out)
	if err != nil || ob == 0 {
		return err
	}
	start, err := env.Dim(k.start)
	if err != nil {
		return err
	}
	n := int64(prod(out.Shape))
	return k.b.ctx.Launch(k.f, grid(n), driver.Dim3{X: 256}, 0, k.b.stream, o, k.dt, int64(start), n)
}

type ropeTable struct {
	b *Backend
	f driver.Function
}

func (k *ropeTable) Run(_ *backend.Env, ins []backend.Tensor, out backend.Tensor) error {
	ps, o, ob, err := views(ins, out)
	if err != nil || ob == 0 {
		return err
	}
	os := out.Shape
	d := os[len(os)-1]
	if d%2 != 0 {
		return fmt.Errorf("rope table over an odd last axis %d", d)
	}
	w, err := walk(os, [][]int64{nil, broadcastStrides(ins[1].Shape, os), broadcastStrides(ins[2].Shape, os)}, nil)
	if err != nil {
		return err
	}
	n := int64(prod(os))
	return k.b.ctx.Launch(k.f, grid(n), driver.Dim3{X: 256}, 0, k.b.stream, ps[0], ps[1], ps[2], o, n, d, w)
}

// storedGather is gather_stored's type code for a table type it reads as
// stored: GGUF block types (dequantized to F32 rows) and I32/I64.
func storedGather(dt tensor.DType) (int, bool) {
	switch dt {
	case tensor.I32:
		return 3, true
	case tensor.I64:
		return 4, true
	case tensor.Q4_0:
		return 10, true
	case tensor.Q8_0:
		return 11, true
	case tensor.Q4_K:
		return 12, true
	case tensor.Q5_K:
		return 13, true
	case tensor.Q6_K:
		return 14, true
	}
	return 0, false
}

type gatherStored struct {
	b    *Backend
	f    driver.Function
	code int
}

func (k *gatherStored) Run(_ *backend.Env, ins []backend.Tensor, out backend.Tensor) error {
	ps, o, ob, err := views(ins, out)
	if err != nil || ob == 0 {
		return err
	}
	t := ins[0]
	row := int64(prod(t.Shape[1:]))
	qk, bs := t.DType.BlockSize(), t.DType.BlockBytes()
	if row%int64(qk) != 0 {
		return fmt.Errorf("gather: rows of %d elements are not whole %v blocks", row, t.DType)
	}
	nids := int64(prod(ins[1].Shape))
	ids64 := 0
	if ins[1].DType == tensor.I64 {
		ids64 = 1
	}
	return k.b.ctx.Launch(k.f, grid(nids*row), driver.Dim3{X: 256}, 0, k.b.stream,
		ps[0], k.code, qk, bs, ps[1], ids64, o, nids, row, int64(t.Shape[0]), k.b.errFlag)
}
