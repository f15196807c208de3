package cuda

import (
	"fmt"

	"github.com/rlx-go/rlx/backend"
	"github.com/rlx-go/rlx/backend/cuda/cublaslt"
	"github.com/rlx-go/rlx/backend/cuda/driver"
	"github.com/rlx-go/rlx/backend/cuda/kernels"
	"github.com/rlx-go/rlx/ir"
	"github.com/rlx-go/rlx/tensor"
)

// Supports implements backend.Backend.
func (b *Backend) Supports(n *ir.Node) error {
	if why := supports(n); why != "" {
		return backend.Unsupported(b.name, n, why)
	}
	return nil
}

func isConst(n *ir.Node) bool { return n.Op == ir.OpParam || n.Op == ir.OpConst }

// supports returns "" when this backend has a kernel for n, or the reason.
func supports(n *ir.Node) string {
	allF32 := n.DType == tensor.F32
	for _, x := range n.Inputs {
		allF32 = allF32 && x.DType == tensor.F32
	}
	if _, ok := unaryCodes[n.Op]; ok {
		if !allF32 {
			return "F32 only so far"
		}
		return ""
	}
	if _, ok := binaryCodes[n.Op]; ok {
		if !allF32 {
			return "F32 only so far"
		}
		if len(n.Shape) > kernels.MaxRank {
			return "rank above 6"
		}
		return ""
	}
	switch n.Op {
	case ir.OpRoPE:
		x, pos, inv := n.Inputs[0], n.Inputs[1], n.Inputs[2]
		if x.DType != tensor.F32 || inv.DType != tensor.F32 || (pos.DType != tensor.I32 && pos.DType != tensor.I64) {
			return "F32 rope with I32/I64 positions only so far"
		}
	case ir.OpFused:
		if _, why := fusedSource(n); why != "" {
			return why
		}
	case ir.OpGather:
		t, ids := n.Inputs[0], n.Inputs[1]
		if _, ok := storedGather(t.DType); ok {
			return moreSupports(n) // gather_stored (ops2.go)
		}
		if t.DType != tensor.F32 && t.DType != tensor.F16 && t.DType != tensor.BF16 {
			return "gather from F32/F16/BF16 tables only so far"
		}
		if ids.DType != tensor.I32 && ids.DType != tensor.I64 {
			return "gather ids must be I32 or I64"
		}
	case ir.OpSoftmax:
		at := n.Attr.(*ir.SoftmaxAttr)
		x := n.Inputs[0]
		switch {
		case !allF32:
			return "F32 only so far"
		case at.Axis != len(x.Shape)-1:
			return "softmax over the last axis only so far"
		case len(x.Shape) > kernels.MaxRank+1:
			return "rank above 7"
		case at.Masked && (len(n.Inputs[1].Shape) == 0 || !n.Inputs[1].Shape[len(n.Inputs[1].Shape)-1].Equal(x.Shape[len(x.Shape)-1])):
			return "a mask broadcast along the softmax axis"
		}
	case ir.OpRMSNorm:
		at := n.Attr.(*ir.NormAttr)
		if !allF32 || !at.HasWeight || at.HasBias || at.PlusOne || len(n.Inputs) != 2 {
			return moreSupports(n) // norm_f32 (ops2.go)
		}
	case ir.OpMatMul:
		at := n.Attr.(*ir.MatMulAttr)
		x, w := n.Inputs[0], n.Inputs[1]
		switch {
		case x.DType != tensor.F32 || n.DType != tensor.F32:
			return "F32 activations only"
		case w.DType != tensor.F32 && !((w.DType == tensor.F16 || w.DType == tensor.BF16) && isConst(w)):
			return "weights must be F32, or F16/BF16 parameters"
		case len(w.Shape) != 2 && len(x.Shape) != 2 && !w.Shape[:len(w.Shape)-2].Equal(x.Shape[:len(x.Shape)-2]):
			return "batch dims must match, or one operand be a single matrix"
		case at.Add && !addendOK(n):
			return "a broadcast addend must be F32 with an output of rank ≤ 6"
		}
	case ir.OpDequantMatMul:
		return quantSupported(n)
	default:
		return moreSupports(n) // ops2.go
	}
	return ""
}

// Prepare implements backend.Backend.
func (b *Backend) Prepare(n *ir.Node, consts []*tensor.Tensor) (backend.Kernel, error) {
	if err := b.Supports(n); err != nil {
		return nil, err
	}
	b.mu.Lock()
	b.prepared[n.Op.String()]++
	b.mu.Unlock()
	if code, ok := unaryCodes[n.Op]; ok {
		f, err := b.ks.Func("unary_f32")
		if err != nil {
			return nil, err
		}
		k := &unary{b: b, f: f, op: code}
		if at, ok := n.Attr.(*ir.SoftcapAttr); ok {
			k.p = float32(at.Cap)
		}
		return k, nil
	}
	if code, ok := binaryCodes[n.Op]; ok {
		f, err := b.ks.Func("binary_f32")
		if err != nil {
			return nil, err
		}
		return &binaryOp{b: b, f: f, op: code}, nil
	}
	switch n.Op {
	case ir.OpRoPE:
		f, err := b.ks.Func("rope_f32")
		if err != nil {
			return nil, err
		}
		return &rope{b: b, f: f, at: *n.Attr.(*ir.RoPEAttr)}, nil
	case ir.OpFused:
		return b.fusedKernel(n)
	case ir.OpGather:
		if _, ok := storedGather(n.Inputs[0].DType); ok {
			return b.prepareMore(n, consts)
		}
		f, err := b.ks.Func("gather_rows")
		if err != nil {
			return nil, err
		}
		return &gather{b: b, f: f, dtype: gatherRowsType(n.Inputs[0].DType)}, nil
	case ir.OpSoftmax:
		f, err := b.ks.Func("softmax_f32")
		if err != nil {
			return nil, err
		}
		at := n.Attr.(*ir.SoftmaxAttr)
		return &softmax{b: b, f: f, scale: float32(at.Scale), masked: at.Masked}, nil
	case ir.OpRMSNorm:
		if at := n.Attr.(*ir.NormAttr); at.PlusOne || !at.HasWeight || at.HasBias || n.Inputs[1].DType != tensor.F32 {
			return b.prepareMore(n, consts)
		}
		f, err := b.ks.Func("rmsnorm_f32")
		if err != nil {
			return nil, err
		}
		return &rmsnorm{b: b, f: f, eps: float32(n.Attr.(*ir.NormAttr).Eps)}, nil
	case ir.OpMatMul:
		return b.matmul(n, consts)
	case ir.OpDequantMatMul:
		return b.dequantMatMul(n, consts)
	}
	return b.prepareMore(n, consts) // ops2.go
}

var unaryCodes = map[ir.Op]int{
	ir.OpNeg: kernels.UnaryNeg, ir.OpAbs: kernels.UnaryAbs, ir.OpExp: kernels.UnaryExp, ir.OpLog: kernels.UnaryLog,
	ir.OpSqrt: kernels.UnarySqrt, ir.OpRsqrt: kernels.UnaryRsqrt, ir.OpRecip: kernels.UnaryRecip,
	ir.OpSquare: kernels.UnarySquare, ir.OpTanh: kernels.UnaryTanh, ir.OpSigmoid: kernels.UnarySigmoid,
	ir.OpSilu: kernels.UnarySilu, ir.OpGeluErf: kernels.UnaryGeluErf, ir.OpGeluTanh: kernels.UnaryGeluTanh,
	ir.OpRelu: kernels.UnaryRelu, ir.OpSoftcap: kernels.UnarySoftcap, ir.OpSin: kernels.UnarySin,
	ir.OpCos: kernels.UnaryCos, ir.OpErf: kernels.UnaryErf,
}

var binaryCodes = map[ir.Op]int{
	ir.OpAdd: kernels.BinaryAdd, ir.OpSub: kernels.BinarySub, ir.OpMul: kernels.BinaryMul, ir.OpDiv: kernels.BinaryDiv,
	ir.OpPow: kernels.BinaryPow, ir.OpMax: kernels.BinaryMax, ir.OpMin: kernels.BinaryMin,
}

// grid covers n elements with 256-thread blocks; the kernels loop, so the
// grid is capped.
func grid(n int64) driver.Dim3 {
	g := (n + 255) / 256
	return driver.Dim3{X: int(max(1, min(g, 1<<16)))}
}

type unary struct {
	b  *Backend
	f  driver.Function
	op int
	p  float32
}

func (k *unary) Run(_ *backend.Env, ins []backend.Tensor, out backend.Tensor) error {
	o, nb, err := view(out)
	if err != nil {
		return err
	}
	x, xb, err := view(ins[0])
	if err != nil {
		return err
	}
	if xb != nb {
		return fmt.Errorf("input %v does not match output %v", ins[0].Shape, out.Shape)
	}
	if n := nb / 4; n > 0 {
		return k.b.ctx.Launch(k.f, grid(n), driver.Dim3{X: 256}, 0, k.b.stream, x, o, n, k.op, k.p)
	}
	return nil
}

type binaryOp struct {
	b  *Backend
	f  driver.Function
	op int
}

func (k *binaryOp) Run(_ *backend.Env, ins []backend.Tensor, out backend.Tensor) error {
	o, nb, err := view(out)
	if err != nil {
		return err
	}
	a, _, err := view(ins[0])
	if err != nil {
		return err
	}
	bb, _, err := view(ins[1])
	if err != nil {
		return err
	}
	n := nb / 4
	if n == 0 {
		return nil
	}
	enc, err := kernels.Broadcast(out.Shape, ins[0].Shape, ins[1].Shape)
	if err != nil {
		return err
	}
	return k.b.ctx.Launch(k.f, grid(n), driver.Dim3{X: 256}, 0, k.b.stream, a, bb, o, n, k.op, enc)
}

type rope struct {
	b  *Backend
	f  driver.Function
	at ir.RoPEAttr
}

func (k *rope) Run(_ *backend.Env, ins []backend.Tensor, out backend.Tensor) error {
	ps, o, ob, err := views(ins[:3], out)
	if err != nil || ob == 0 {
		return err
	}
	x, pos, inv := ps[0], ps[1], ps[2]
	xs, pshape := out.Shape, ins[1].Shape
	posRows := int64(0)
	if len(pshape) == 2 {
		posRows = int64(pshape[0])
	}
	pos64, inter := 0, 0
	if ins[1].DType == tensor.I64 {
		pos64 = 1
	}
	if k.at.Layout == ir.RoPEInterleaved {
		inter = 1
	}
	rot := k.at.RotaryDim
	items := int64(xs[0]) * int64(xs[1]) * int64(xs[2]) * int64(rot/2+xs[3]-rot) // rope_f32: pairs and pass-through dims
	return k.b.ctx.Launch(k.f, grid(items), driver.Dim3{X: 256}, 0, k.b.stream,
		x, pos, pos64, posRows, inv, o, int64(xs[0]), int64(xs[1]), int64(xs[2]), xs[3], k.at.RotaryDim, inter, float32(k.at.Scale))
}

type gather struct {
	b     *Backend
	f     driver.Function
	dtype int // gatherRowsType of the table
}

func (k *gather) Run(_ *backend.Env, ins []backend.Tensor, out backend.Tensor) error {
	ps, o, ob, err := views(ins[:2], out)
	if err != nil || ob == 0 {
		return err
	}
	t, ids := ps[0], ps[1]
	ts := ins[0].Shape
	row := int64(prod(ts[1:]))
	nids := int64(prod(ins[1].Shape))
	ids64 := 0
	if ins[1].DType == tensor.I64 {
		ids64 = 1
	}
	return k.b.ctx.Launch(k.f, grid(nids*row), driver.Dim3{X: 256}, 0, k.b.stream,
		t, k.dtype, ids, ids64, o, nids, row, int64(ts[0]), k.b.errFlag)
}

// gatherRowsType is gather_rows' code for a table type; Supports admits
// only these three.
func gatherRowsType(dt tensor.DType) int {
	switch dt {
	case tensor.F16:
		return 1
	case tensor.BF16:
		return 2
	default: // F32
		return 0
	}
}

type softmax struct {
	b      *Backend
	f      driver.Function
	scale  float32
	masked bool
}

// threadsFor picks a block size for rows of cols elements: a multiple of
// 32 (the reductions need whole warps), at most 256.
func threadsFor(cols int) int { return min(256, max(32, (cols+31)/32*32)) }

func (k *softmax) Run(_ *backend.Env, ins []backend.Tensor, out backend.Tensor) error {
	x, nb, err := view(ins[0])
	if err != nil {
		return err
	}
	o, _, err := view(out)
	if err != nil {
		return err
	}
	if len(out.Shape) == 0 || nb == 0 {
		return nil
	}
	cols := out.Shape[len(out.Shape)-1]
	rows := nb / 4 / int64(cols)
	var mask driver.Ptr
	enc := make([]byte, 3*kernels.MaxRank*8+8)
	masked := 0
	if k.masked {
		if mask, _, err = view(ins[1]); err != nil {
			return err
		}
		ms := ins[1].Shape
		if ms[len(ms)-1] != cols {
			return fmt.Errorf("softmax mask %v does not match %d columns", ms, cols)
		}
		rowShape := out.Shape[:len(out.Shape)-1]
		if enc, err = kernels.Broadcast(rowShape, rowShape, ms[:len(ms)-1]); err != nil {
			return err
		}
		masked = 1
	}
	g := driver.Dim3{X: int(min(rows, 1<<16))}
	return k.b.ctx.Launch(k.f, g, driver.Dim3{X: threadsFor(cols)}, 0, k.b.stream,
		x, mask, o, rows, cols, k.scale, masked, enc)
}

// rmsnorm is RMSNorm with an F32 weight: a block per row (rmsnorm_f32).
// A warp per row for short rows (rmsnorm_rows_f32, one warp per 128-wide
// q/k head) was measured slower at decode sizes and not kept (docs/cuda.md).
type rmsnorm struct {
	b   *Backend
	f   driver.Function
	eps float32
}

func (k *rmsnorm) Run(_ *backend.Env, ins []backend.Tensor, out backend.Tensor) error {
	x, nb, err := view(ins[0])
	if err != nil {
		return err
	}
	w, wb, err := view(ins[1])
	if err != nil {
		return err
	}
	o, _, err := view(out)
	if err != nil {
		return err
	}
	if len(out.Shape) == 0 || nb == 0 {
		return nil
	}
	cols := out.Shape[len(out.Shape)-1]
	rows := int(nb / 4 / int64(cols))
	if wb != int64(cols)*4 {
		return fmt.Errorf("rmsnorm weight %v does not match %d columns", ins[1].Shape, cols)
	}
	threads := threadsFor(cols)
	for r0 := 0; r0 < rows; r0 += 65535 { // grid.x limit for one launch
		nr := min(rows-r0, 65535)
		off := int64(r0) * int64(cols) * 4
		if err := k.b.ctx.Launch(k.f, driver.Dim3{X: nr}, driver.Dim3{X: threads}, 0, k.b.stream,
			x.Add(off), w, o.Add(off), cols, k.eps); err != nil {
			return err
		}
	}
	return nil
}

type matmul struct {
	b        *Backend
	half     *packed // an F16/BF16 constant weight, used as stored (its input view)
	add      bool
	bcast    driver.Function // binary_f32, to broadcast an addend into the output
	akm, bkn bool            // x stored [K, M]; w stored [K, N]
	comp     cublaslt.Compute
}

// matmul prepares a MatMul. F16/BF16 constant weights stay as stored: the
// GEMV kernel of quant.go multiplies decode-sized [N, K] products with f32
// activations; other products split the activations into half-precision
// terms for cuBLASLt's f16/bf16 tensor-core GEMM with f32 accumulation.
func (b *Backend) matmul(n *ir.Node, consts []*tensor.Tensor) (backend.Kernel, error) {
	at := n.Attr.(*ir.MatMulAttr)
	w := n.Inputs[1]
	k := &matmul{b: b, add: at.Add, akm: at.TransA, bkn: !at.TransB, comp: cublaslt.ComputeF32}
	if at.Add {
		var err error
		if k.bcast, err = b.ks.Func("binary_f32"); err != nil {
			return nil, err
		}
	}
	if b.tf32 {
		k.comp = cublaslt.ComputeTF32
	}
	if w.DType != tensor.F32 {
		if len(consts) < 2 || consts[1] == nil {
			return nil, fmt.Errorf("cuda: %v weight of %v is not a constant", w.DType, n)
		}
		t := consts[1]
		rows, cols := t.Shape[len(t.Shape)-2], t.Shape[len(t.Shape)-1]
		if k.bkn {
			rows, cols = cols, rows
		}
		p, err := b.packed(w.DType, rows, cols, t, false)
		if err != nil {
			return nil, fmt.Errorf("cuda: weight of %v: %w", n, err)
		}
		k.half = p
	}
	return k, nil
}

func prod(s []int) int {
	n := 1
	for _, d := range s {
		n *= d
	}
	return n
}

func (k *matmul) Run(_ *backend.Env, ins []backend.Tensor, out backend.Tensor) error {
	x, _, err := view(ins[0])
	if err != nil {
		return err
	}
	w, _, err := view(ins[1])
	if err != nil {
		return err
	}
	o, ob, err := view(out)
	if err != nil {
		return err
	}
	if ob == 0 {
		return nil
	}
	xs, ws := ins[0].Shape, ins[1].Shape
	m, kk := xs[len(xs)-2], xs[len(xs)-1]
	if k.akm {
		m, kk = kk, m
	}
	nn := ws[len(ws)-2]
	if k.bkn {
		nn = ws[len(ws)-1]
	}
	xb, wb := prod(xs[:len(xs)-2]), prod(ws[:len(ws)-2])
	in := cublaslt.F32
	if k.half != nil {
		in = cublaslt.F16
		if k.half.dt == tensor.BF16 {
			in = cublaslt.BF16
		}
	}
	g := cublaslt.GEMM{M: m, N: nn, K: kk, AKM: k.akm, BKN: k.bkn, Batch: max(xb, wb),
		In: in, Out: cublaslt.F32, Compute: k.comp, Accumulate: k.add}
	if in != cublaslt.F32 {
		g.Compute = cublaslt.ComputeF32
	}
	switch {
	case len(ws) == 2 && !k.akm:
		// One weight and row-major rows: fold the batch into M.
		g.M, g.Batch = m*xb, 1
	case len(ws) == 2:
		g.SharedB = true
	case len(xs) == 2:
		g.SharedA = true
	case xb != wb:
		return fmt.Errorf("matmul batch of %v and %v", xs, ws)
	}
	acc, err := k.b.initAddend(k.add, k.bcast, ins, out, o, ob)
	if err != nil {
		return err
	}
	if kk == 0 { // an empty sum: the addend, or zeros
		if k.add {
			return nil
		}
		return k.b.ctx.MemsetAsync(o, 0, ob, k.b.stream)
	}
	if k.half == nil {
		return k.b.blas.MatMulT(g, x, w, o, k.b.stream)
	}
	p := k.half
	if g.Batch == 1 && !k.akm && !k.bkn && g.M <= gemvUpTo(p.dt) && kk%32 == 0 && x%16 == 0 && w%16 == 0 {
		return k.b.launchGEMV(p, w, x, o, g.M, acc)
	}
	// Tensor cores: the activations (any layout; the split is elementwise)
	// become half terms, one GEMM each, summed into the output.
	k.b.scr.mu.Lock()
	defer k.b.scr.mu.Unlock()
	parts := k.b.halfParts(p.dt)
	n := int64(prod(xs))
	xh, stride, err := k.b.splitHalf(p.split, x, n, parts, in == cublaslt.BF16)
	if err != nil {
		return err
	}
	for i := range parts {
		g.Accumulate = k.add || i > 0
		if err := k.b.blas.MatMulT(g, xh.Add(int64(i)*stride), w, o, k.b.stream); err != nil {
			return err
		}
	}
	return nil
}
