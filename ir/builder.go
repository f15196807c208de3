package ir

import (
	"errors"
	"fmt"
	"math"

	"github.com/rlx-go/rlx/tensor"
)

// Builder constructs a graph. Methods check shapes and dtypes as they go.
// The first mistake is recorded and every later call returns an invalid
// Value; Build (and Err) report that first error, which names the op and
// the shapes involved. No Builder method panics on a model's mistakes.
//
// A Builder is not safe for concurrent use.
type Builder struct {
	g     Graph
	err   error
	names map[string]Op
	outs  map[string]bool
	label string
}

// NewBuilder returns an empty builder.
func NewBuilder() *Builder {
	return &Builder{names: map[string]Op{}, outs: map[string]bool{}}
}

// Err returns the first error recorded, or nil.
func (b *Builder) Err() error { return b.err }

// Build returns the graph, or the first error recorded while building it.
// A graph must have at least one output.
func (b *Builder) Build() (*Graph, error) {
	if b.err != nil {
		return nil, b.err
	}
	if len(b.g.Outputs) == 0 && !b.hasSinks() {
		return nil, errors.New("ir: graph has no outputs")
	}
	g := b.g
	g.Nodes = append([]*Node(nil), b.g.Nodes...)
	g.Outputs = append([]Output(nil), b.g.Outputs...)
	return &g, nil
}

func (b *Builder) hasSinks() bool {
	for _, n := range b.g.Nodes {
		if n.Op == OpAssign {
			return true
		}
	}
	return false
}

// Label names the nodes created until the next Label call ("layer3.attn"),
// so that dumps and error messages say where a node came from.
func (b *Builder) Label(s string) { b.label = s }

// Fail records err (wrapped with the current label) if no error is
// recorded yet. Model code may use it to report its own problems through
// the same channel.
func (b *Builder) Fail(err error) {
	if b.err == nil && err != nil {
		if b.label != "" {
			err = fmt.Errorf("%s: %w", b.label, err)
		}
		b.err = fmt.Errorf("ir: %w", err)
	}
}

func (b *Builder) failf(format string, args ...any) Value {
	b.Fail(fmt.Errorf(format, args...))
	return Value{}
}

// node infers and appends a node; invalid inputs propagate silently.
func (b *Builder) node(op Op, attr any, dt tensor.DType, shape Shape, ins ...Value) Value {
	if b.err != nil {
		return Value{}
	}
	nodes := make([]*Node, len(ins))
	for i, v := range ins {
		if v.n == nil {
			return b.failf("%v: input %d is not a value", op, i)
		}
		nodes[i] = v.n
	}
	dt, s, err := Infer(op, attr, nodes, dt, shape)
	if err != nil {
		b.Fail(err)
		return Value{}
	}
	n := &Node{ID: len(b.g.Nodes), Op: op, Inputs: nodes, DType: dt, Shape: s, Attr: attr, Name: b.label}
	b.g.Nodes = append(b.g.Nodes, n)
	return Value{n}
}

func (b *Builder) source(op Op, name string, dt tensor.DType, dims []Dim) Value {
	if b.err != nil {
		return Value{}
	}
	if name == "" {
		return b.failf("%v needs a name", op)
	}
	if prev, dup := b.names[name]; dup {
		return b.failf("%v %q: name already used by a %v", op, name, prev)
	}
	if !dt.Valid() {
		return b.failf("%v %q: invalid dtype", op, name)
	}
	for _, d := range dims {
		if c, ok := d.Const(); ok && c < 0 {
			return b.failf("%v %q: negative dimension in %v", op, name, Shape(dims))
		}
	}
	if dt.Quantized() && op != OpParam {
		return b.failf("%v %q: quantized dtype %v is only allowed for Params", op, name, dt)
	}
	if dt.Quantized() {
		if len(dims) == 0 {
			return b.failf("Param %q: quantized scalar", name)
		}
		if c, ok := dims[len(dims)-1].Const(); !ok || c%dt.BlockSize() != 0 {
			return b.failf("Param %q: last dimension %v is not a multiple of the %v block size %d", name, dims[len(dims)-1], dt, dt.BlockSize())
		}
	}
	b.names[name] = op
	n := &Node{ID: len(b.g.Nodes), Op: op, DType: dt, Shape: Shape(dims).clone(), Name: name}
	b.g.Nodes = append(b.g.Nodes, n)
	return Value{n}
}

// Input declares a run-time input. Symbolic dimensions are solved from the
// concrete input shapes when the program runs.
func (b *Builder) Input(name string, dt tensor.DType, dims ...Dim) Value {
	return b.source(OpInput, name, dt, dims)
}

// Param declares a weight, bound by name when the graph is compiled. The
// bound tensor's dtype and shape must match (quantized dtypes allowed).
func (b *Builder) Param(name string, dt tensor.DType, dims ...Dim) Value {
	for _, d := range dims {
		if !d.IsConst() {
			return b.failf("Param %q: symbolic dimension %v (weights have fixed shapes)", name, d)
		}
	}
	return b.source(OpParam, name, dt, dims)
}

// State declares a persistent buffer owned by the run session (recurrent
// state, caches). It is zero when a session starts; reads see the value
// at the start of the step; Assign replaces it at the end of the step.
func (b *Builder) State(name string, dt tensor.DType, dims ...Dim) Value {
	return b.source(OpState, name, dt, dims)
}

// Assign replaces the value of state at the end of the step.
func (b *Builder) Assign(state, v Value) {
	b.node(OpAssign, nil, 0, nil, state, v)
}

// KVCache is a pair of persistent key and value buffers of shape
// [batch, maxSeq, heads, headDim], preallocated once per session and
// written in place by cached Attention.
type KVCache struct{ K, V Value }

// KVCache declares the caches "<name>.k" and "<name>.v". dt is F16 by
// default in model code (F32 for exactness).
func (b *Builder) KVCache(name string, dt tensor.DType, batch, maxSeq Dim, heads, headDim int) KVCache {
	if !dt.Float() {
		b.failf("KVCache %q: dtype %v is not a float type", name, dt)
		return KVCache{}
	}
	return KVCache{
		K: b.State(name+".k", dt, batch, maxSeq, N(heads), N(headDim)),
		V: b.State(name+".v", dt, batch, maxSeq, N(heads), N(headDim)),
	}
}

// Const embeds a host tensor (copied).
func (b *Builder) Const(t *tensor.Tensor) Value {
	if b.err != nil {
		return Value{}
	}
	if t == nil || !t.DType.Valid() || t.DType.Quantized() {
		return b.failf("Const: need a non-quantized tensor")
	}
	if nb, err := tensor.Bytes(t.DType, t.Shape); err != nil || int64(len(t.Data)) != nb {
		return b.failf("Const %v%v: %d bytes of data", t.DType, t.Shape, len(t.Data))
	}
	c := &tensor.Tensor{DType: t.DType, Shape: append([]int(nil), t.Shape...), Data: append([]byte(nil), t.Data...)}
	n := &Node{ID: len(b.g.Nodes), Op: OpConst, DType: t.DType, Shape: Ints(t.Shape...), Attr: &ConstAttr{c}, Name: b.label}
	b.g.Nodes = append(b.g.Nodes, n)
	return Value{n}
}

// ConstF32 embeds float32 values with the given shape.
func (b *Builder) ConstF32(v []float32, dims ...int) Value {
	if tensor.NumElements(dims) != len(v) {
		return b.failf("ConstF32: %d values for shape %v", len(v), dims)
	}
	return b.Const(tensor.FromF32(v, dims...))
}

// Scalar is a rank-0 constant of dtype dt.
func (b *Builder) Scalar(v float64, dt tensor.DType) Value {
	if !dt.Valid() || dt.Quantized() {
		return b.failf("Scalar of dtype %v", dt)
	}
	t, _ := tensor.New(dt)
	if err := dt.StoreFloat64(t.Data, 0, v); err != nil {
		return b.failf("Scalar: %v", err)
	}
	return b.Const(t)
}

// Range is start, start+1, …, start+n-1 as a 1-D tensor of dtype dt (I32,
// I64 or a float type). With start = past it gives decode positions.
func (b *Builder) Range(start, n Dim, dt tensor.DType) Value {
	if b.err != nil {
		return Value{}
	}
	if dt != tensor.I32 && dt != tensor.I64 && !dt.Float() {
		return b.failf("Range of dtype %v", dt)
	}
	node := &Node{ID: len(b.g.Nodes), Op: OpRange, DType: dt, Shape: Shape{n}, Attr: &RangeAttr{start}, Name: b.label}
	b.g.Nodes = append(b.g.Nodes, node)
	return Value{node}
}

// Output names a result of the graph.
func (b *Builder) Output(name string, v Value) {
	if b.err != nil {
		return
	}
	if v.n == nil {
		b.failf("Output %q: not a value", name)
		return
	}
	if b.outs[name] {
		b.failf("Output %q declared twice", name)
		return
	}
	b.outs[name] = true
	b.g.Outputs = append(b.g.Outputs, Output{name, v.n})
}

// ---- elementwise ----

func (b *Builder) unary(op Op, x Value) Value { return b.node(op, nil, 0, nil, x) }

// Neg is -x.
func (b *Builder) Neg(x Value) Value { return b.unary(OpNeg, x) }

// Abs is |x|.
func (b *Builder) Abs(x Value) Value { return b.unary(OpAbs, x) }

// Exp is eˣ.
func (b *Builder) Exp(x Value) Value { return b.unary(OpExp, x) }

// Log is the natural logarithm.
func (b *Builder) Log(x Value) Value { return b.unary(OpLog, x) }

// Sqrt is √x.
func (b *Builder) Sqrt(x Value) Value { return b.unary(OpSqrt, x) }

// Rsqrt is 1/√x.
func (b *Builder) Rsqrt(x Value) Value { return b.unary(OpRsqrt, x) }

// Recip is 1/x.
func (b *Builder) Recip(x Value) Value { return b.unary(OpRecip, x) }

// Square is x².
func (b *Builder) Square(x Value) Value { return b.unary(OpSquare, x) }

// Tanh is the hyperbolic tangent.
func (b *Builder) Tanh(x Value) Value { return b.unary(OpTanh, x) }

// Sigmoid is 1/(1+e⁻ˣ).
func (b *Builder) Sigmoid(x Value) Value { return b.unary(OpSigmoid, x) }

// Silu is x·sigmoid(x).
func (b *Builder) Silu(x Value) Value { return b.unary(OpSilu, x) }

// GeluErf is x·Φ(x), the exact GELU.
func (b *Builder) GeluErf(x Value) Value { return b.unary(OpGeluErf, x) }

// GeluTanh is the tanh approximation of GELU ("gelu_pytorch_tanh").
func (b *Builder) GeluTanh(x Value) Value { return b.unary(OpGeluTanh, x) }

// Relu is max(x, 0).
func (b *Builder) Relu(x Value) Value { return b.unary(OpRelu, x) }

// Sin is the sine.
func (b *Builder) Sin(x Value) Value { return b.unary(OpSin, x) }

// Cos is the cosine.
func (b *Builder) Cos(x Value) Value { return b.unary(OpCos, x) }

// Erf is the error function.
func (b *Builder) Erf(x Value) Value { return b.unary(OpErf, x) }

// Softcap is c·tanh(x/c) (Gemma 2 logit capping).
func (b *Builder) Softcap(x Value, c float64) Value {
	return b.node(OpSoftcap, &SoftcapAttr{c}, 0, nil, x)
}

// Add is x+y with broadcasting.
func (b *Builder) Add(x, y Value) Value { return b.node(OpAdd, nil, 0, nil, x, y) }

// Sub is x-y with broadcasting.
func (b *Builder) Sub(x, y Value) Value { return b.node(OpSub, nil, 0, nil, x, y) }

// Mul is x·y with broadcasting.
func (b *Builder) Mul(x, y Value) Value { return b.node(OpMul, nil, 0, nil, x, y) }

// Div is x/y with broadcasting.
func (b *Builder) Div(x, y Value) Value { return b.node(OpDiv, nil, 0, nil, x, y) }

// Pow is xʸ with broadcasting.
func (b *Builder) Pow(x, y Value) Value { return b.node(OpPow, nil, 0, nil, x, y) }

// Max is the elementwise maximum.
func (b *Builder) Max(x, y Value) Value { return b.node(OpMax, nil, 0, nil, x, y) }

// Min is the elementwise minimum.
func (b *Builder) Min(x, y Value) Value { return b.node(OpMin, nil, 0, nil, x, y) }

// Less is x<y (Bool).
func (b *Builder) Less(x, y Value) Value { return b.node(OpLess, nil, 0, nil, x, y) }

// LessEq is x≤y (Bool).
func (b *Builder) LessEq(x, y Value) Value { return b.node(OpLessEq, nil, 0, nil, x, y) }

// Greater is x>y (Bool).
func (b *Builder) Greater(x, y Value) Value { return b.node(OpGreater, nil, 0, nil, x, y) }

// GreaterEq is x≥y (Bool).
func (b *Builder) GreaterEq(x, y Value) Value { return b.node(OpGreaterEq, nil, 0, nil, x, y) }

// Equal is x==y (Bool).
func (b *Builder) Equal(x, y Value) Value { return b.node(OpEqual, nil, 0, nil, x, y) }

// NotEqual is x≠y (Bool).
func (b *Builder) NotEqual(x, y Value) Value { return b.node(OpNotEqual, nil, 0, nil, x, y) }

// Where selects a where cond is true, else y, with broadcasting.
func (b *Builder) Where(cond, x, y Value) Value { return b.node(OpWhere, nil, 0, nil, cond, x, y) }

// Cast converts x to dtype dt (floats round to nearest, ints truncate).
func (b *Builder) Cast(x Value, dt tensor.DType) Value {
	if x.DType() == dt {
		return x
	}
	return b.node(OpCast, nil, dt, nil, x)
}

// Scale is x·s for a scalar s.
func (b *Builder) Scale(x Value, s float64) Value {
	if !x.Valid() {
		return Value{}
	}
	return b.Mul(x, b.Scalar(s, x.DType()))
}

// AddScalar is x+s for a scalar s.
func (b *Builder) AddScalar(x Value, s float64) Value {
	if !x.Valid() {
		return Value{}
	}
	return b.Add(x, b.Scalar(s, x.DType()))
}

// ---- linear algebra ----

// MatMul is a @ w over the last two axes, batched with broadcasting over the
// leading ones: [..., M, K] @ [..., K, N] → [..., M, N].
func (b *Builder) MatMul(a, w Value) Value {
	return b.node(OpMatMul, &MatMulAttr{}, 0, nil, a, w)
}

// MatMulT is a @ wᵀ: [..., M, K] @ [..., N, K]ᵀ → [..., M, N].
func (b *Builder) MatMulT(a, w Value) Value {
	return b.node(OpMatMul, &MatMulAttr{TransB: true}, 0, nil, a, w)
}

// MatMulTrans multiplies with either operand transposed.
func (b *Builder) MatMulTrans(a, w Value, transA, transB bool) Value {
	return b.node(OpMatMul, &MatMulAttr{TransA: transA, TransB: transB}, 0, nil, a, w)
}

// Linear applies a weight stored as [out, in] (the PyTorch/GGUF layout) to
// x [..., in], plus an optional bias [out] (pass the zero Value for none).
// F16, BF16 and block-quantized weights stay in their storage type.
func (b *Builder) Linear(x, w, bias Value) Value {
	if w.Valid() && w.Rank() != 2 {
		return b.failf("Linear weight %v must be rank 2 [out, in]", w.Shape())
	}
	y := b.MatMulT(x, w)
	if bias.Valid() {
		y = b.Add(y, bias)
	}
	return y
}

// ---- normalisation and activation blocks ----

// SoftmaxOptions configures Softmax. Scale defaults to 1; Mask (optional)
// is added to the scaled input before normalising.
type SoftmaxOptions struct {
	Scale float64
	Mask  Value
}

// Softmax normalises x along axis (negative counts from the end).
func (b *Builder) Softmax(x Value, axis int) Value {
	return b.SoftmaxWith(x, axis, SoftmaxOptions{})
}

// SoftmaxWith is softmax(Scale·x + Mask) along axis.
func (b *Builder) SoftmaxWith(x Value, axis int, o SoftmaxOptions) Value {
	if !x.Valid() {
		return Value{}
	}
	if axis < 0 {
		axis += x.Rank()
	}
	s := o.Scale
	if s == 0 {
		s = 1
	}
	at := &SoftmaxAttr{Axis: axis, Scale: s, Masked: o.Mask.Valid()}
	if o.Mask.Valid() {
		return b.node(OpSoftmax, at, 0, nil, x, o.Mask)
	}
	return b.node(OpSoftmax, at, 0, nil, x)
}

// LayerNorm normalises the last axis to zero mean and unit variance, then
// applies weight and bias (either may be the zero Value).
func (b *Builder) LayerNorm(x, w, bias Value, eps float64) Value {
	at := &NormAttr{Eps: eps, HasWeight: w.Valid(), HasBias: bias.Valid()}
	ins := []Value{x}
	if w.Valid() {
		ins = append(ins, w)
	}
	if bias.Valid() {
		ins = append(ins, bias)
	}
	return b.node(OpLayerNorm, at, 0, nil, ins...)
}

// RMSNorm is x/√(mean(x²)+eps)·w over the last axis (w may be the zero
// Value for no weight).
func (b *Builder) RMSNorm(x, w Value, eps float64) Value {
	return b.rmsNorm(x, w, eps, false)
}

// RMSNormPlusOne scales by (1+w) instead of w, as Gemma stores its norms.
func (b *Builder) RMSNormPlusOne(x, w Value, eps float64) Value {
	return b.rmsNorm(x, w, eps, true)
}

func (b *Builder) rmsNorm(x, w Value, eps float64, plusOne bool) Value {
	at := &NormAttr{Eps: eps, PlusOne: plusOne, HasWeight: w.Valid()}
	if w.Valid() {
		return b.node(OpRMSNorm, at, 0, nil, x, w)
	}
	return b.node(OpRMSNorm, at, 0, nil, x)
}

// RoPE rotates x [batch, seq, heads, head_dim] by position·invFreq.
// positions are I32/I64 of shape [seq] or [batch, seq]; invFreq is F32
// [RotaryDim/2], computed by the model from its rope parameters (linear,
// llama3 and YaRN scaling all reduce to a table of inverse frequencies).
// A zero Scale means 1.
func (b *Builder) RoPE(x, positions, invFreq Value, a RoPEAttr) Value {
	if a.Scale == 0 {
		a.Scale = 1
	}
	return b.node(OpRoPE, &a, 0, nil, x, positions, invFreq)
}

// RoPETable is x·cos + rotate_half(x)·sin over the last axis, with cos
// and sin tables broadcast to x (the Hugging Face formulation, where
// rotate_half(x) = [-x₂, x₁] for the halves x₁, x₂ of the last axis).
func (b *Builder) RoPETable(x, cos, sin Value) Value {
	return b.node(OpRoPETable, nil, 0, nil, x, cos, sin)
}

// AttentionOptions configures Attention.
type AttentionOptions struct {
	Causal  bool
	Window  int     // sliding window (0: unlimited)
	Softcap float64 // logit softcap (0: none)
	Scale   float64 // logit scale (0: 1/√head_dim)
	Mask    Value   // optional additive mask broadcast to [batch, heads, seq, keys]
	Cache   *KVCache
	Past    Dim // absolute position of the first query (the cache fill)
	// PastRows (with a Cache, causal, no Mask) gives every batch row its
	// own past as an I32 [batch] input, for batches of streams at
	// different positions; it replaces Past.
	PastRows Value
}

// Attention is softmax(Scale·q·kᵀ + mask)·v over [batch, seq, heads,
// head_dim] tensors, with grouped query heads (Hq a multiple of Hkv). With a
// Cache, k and v are this step's rows: they are written at positions
// [Past, Past+seq) of the cache and attention covers [0, Past+seq).
func (b *Builder) Attention(q, k, v Value, o AttentionOptions) Value {
	if !q.Valid() {
		return Value{}
	}
	scale := o.Scale
	if scale == 0 {
		hd, ok := q.Dim(-1).Const()
		if !ok || hd == 0 {
			return b.failf("Attention: head size %v", q.Dim(-1))
		}
		scale = 1 / math.Sqrt(float64(hd))
	}
	at := &AttentionAttr{Causal: o.Causal, Window: o.Window, Softcap: o.Softcap, Scale: scale,
		Masked: o.Mask.Valid(), Cached: o.Cache != nil, Past: o.Past, PerRow: o.PastRows.Valid()}
	ins := []Value{q, k, v}
	if o.Mask.Valid() {
		ins = append(ins, o.Mask)
	}
	if o.Cache != nil {
		ins = append(ins, o.Cache.K, o.Cache.V)
	}
	if o.PastRows.Valid() {
		ins = append(ins, o.PastRows)
	}
	return b.node(OpAttention, at, 0, nil, ins...)
}

// ---- data movement ----

// Gather picks rows of table (axis 0) by integer ids: table [V, …] and
// ids [s…] give [s…, …]. F16, BF16 and quantized tables give F32 rows.
func (b *Builder) Gather(table, ids Value) Value {
	return b.node(OpGather, &GatherAttr{}, 0, nil, table, ids)
}

// Concat joins values along axis.
func (b *Builder) Concat(axis int, xs ...Value) Value {
	if len(xs) == 0 {
		return b.failf("Concat of nothing")
	}
	if !xs[0].Valid() {
		return Value{}
	}
	if axis < 0 {
		axis += xs[0].Rank()
	}
	return b.node(OpConcat, &AxisAttr{axis}, 0, nil, xs...)
}

// Slice keeps indices [start, end) of axis.
func (b *Builder) Slice(x Value, axis int, start, end Dim) Value {
	if !x.Valid() {
		return Value{}
	}
	if axis < 0 {
		axis += x.Rank()
	}
	if axis < 0 || axis >= x.Rank() {
		return b.failf("Slice axis out of range for %v", x.Shape())
	}
	n := end.Sub(start)
	if c, ok := n.Const(); ok && c < 0 {
		return b.failf("Slice [%v, %v) of %v is empty-negative", start, end, x.Shape())
	}
	if c, ok := end.Const(); ok {
		if d, ok := x.Dim(axis).Const(); ok && c > d {
			return b.failf("Slice end %d beyond axis %d of %v", c, axis, x.Shape())
		}
	}
	s := x.Shape().clone()
	s[axis] = n
	return b.node(OpSlice, &SliceAttr{Axis: axis, Start: start, Step: 1}, 0, s, x)
}

// SliceStep keeps start, start+step, … below end along a constant axis.
func (b *Builder) SliceStep(x Value, axis, start, end, step int) Value {
	if !x.Valid() {
		return Value{}
	}
	if axis < 0 {
		axis += x.Rank()
	}
	if axis < 0 || axis >= x.Rank() || step < 1 || start < 0 || end < start {
		return b.failf("SliceStep(%d, %d, %d, %d) of %v", axis, start, end, step, x.Shape())
	}
	if d, ok := x.Dim(axis).Const(); !ok || end > d {
		return b.failf("SliceStep end %d beyond axis %d of %v", end, axis, x.Shape())
	}
	s := x.Shape().clone()
	s[axis] = N((end - start + step - 1) / step)
	return b.node(OpSlice, &SliceAttr{Axis: axis, Start: N(start), Step: step}, 0, s, x)
}

// Reshape changes the shape keeping the element order. One dimension may
// be N(-1), inferred when the others are constant-divisible.
func (b *Builder) Reshape(x Value, dims ...Dim) Value {
	if !x.Valid() {
		return Value{}
	}
	s := Shape(dims).clone()
	infer := -1
	known := N(1)
	for i, d := range s {
		if c, ok := d.Const(); ok && c == -1 {
			if infer >= 0 {
				return b.failf("Reshape %v: more than one -1", s)
			}
			infer = i
			continue
		}
		known = known.Mul(d)
	}
	if infer >= 0 {
		q, ok := x.Shape().NumElements().Div(known)
		if c, isc := known.Const(); !ok || (isc && c == 0) {
			return b.failf("Reshape %v to %v: %v elements do not divide", x.Shape(), s, x.Shape().NumElements())
		}
		s[infer] = q
	}
	return b.node(OpReshape, nil, 0, s, x)
}

// Split cuts x along axis into consecutive pieces of the given sizes
// (which must add up to the axis).
func (b *Builder) Split(x Value, axis int, sizes ...Dim) []Value {
	out := make([]Value, len(sizes))
	if !x.Valid() {
		return out
	}
	if axis < 0 {
		axis += x.Rank()
	}
	total := N(0)
	for _, s := range sizes {
		total = total.Add(s)
	}
	if !total.Equal(x.Dim(axis)) {
		b.failf("Split of axis %d (%v) into sizes adding to %v", axis, x.Dim(axis), total)
		return out
	}
	start := N(0)
	for i, s := range sizes {
		out[i] = b.Slice(x, axis, start, start.Add(s))
		start = start.Add(s)
	}
	return out
}

// Unsqueeze inserts an axis of size 1 at position axis (negative counts
// from the end of the result).
func (b *Builder) Unsqueeze(x Value, axis int) Value {
	if !x.Valid() {
		return Value{}
	}
	if axis < 0 {
		axis += x.Rank() + 1
	}
	if axis < 0 || axis > x.Rank() {
		return b.failf("Unsqueeze axis %d of %v", axis, x.Shape())
	}
	s := append(x.Shape()[:axis:axis], N(1))
	return b.Reshape(x, append(s, x.Shape()[axis:]...)...)
}

// Squeeze removes an axis of size 1.
func (b *Builder) Squeeze(x Value, axis int) Value {
	if !x.Valid() {
		return Value{}
	}
	if axis < 0 {
		axis += x.Rank()
	}
	if axis < 0 || axis >= x.Rank() || !isOne(x.Dim(axis)) {
		return b.failf("Squeeze axis %d of %v: not a size-1 axis", axis, x.Shape())
	}
	s := append(x.Shape()[:axis:axis], x.Shape()[axis+1:]...)
	return b.Reshape(x, s...)
}

// Clamp limits x to [lo, hi].
func (b *Builder) Clamp(x Value, lo, hi float64) Value {
	if !x.Valid() {
		return Value{}
	}
	return b.Min(b.Max(x, b.Scalar(lo, x.DType())), b.Scalar(hi, x.DType()))
}

// Permute reorders axes: output axis i is input axis perm[i].
func (b *Builder) Permute(x Value, perm ...int) Value {
	return b.node(OpPermute, &PermuteAttr{append([]int(nil), perm...)}, 0, nil, x)
}

// Transpose swaps two axes (negative counts from the end).
func (b *Builder) Transpose(x Value, i, j int) Value {
	if !x.Valid() {
		return Value{}
	}
	r := x.Rank()
	if i < 0 {
		i += r
	}
	if j < 0 {
		j += r
	}
	if i < 0 || j < 0 || i >= r || j >= r {
		return b.failf("Transpose axes %d,%d of %v", i, j, x.Shape())
	}
	perm := make([]int, r)
	for k := range perm {
		perm[k] = k
	}
	perm[i], perm[j] = j, i
	return b.Permute(x, perm...)
}

// Expand broadcasts x to dims.
func (b *Builder) Expand(x Value, dims ...Dim) Value {
	return b.node(OpExpand, nil, 0, Shape(dims), x)
}

// Pad adds before[i] and after[i] elements on each axis i.
func (b *Builder) Pad(x Value, before, after []int, mode PadMode, value float64) Value {
	return b.node(OpPad, &PadAttr{Before: append([]int(nil), before...), After: append([]int(nil), after...),
		Mode: mode, Value: value}, 0, nil, x)
}

// ---- reductions ----

func (b *Builder) reduce(op Op, x Value, keep bool, axes []int) Value {
	if !x.Valid() {
		return Value{}
	}
	ax := make([]int, len(axes))
	for i, a := range axes {
		if a < 0 {
			a += x.Rank()
		}
		ax[i] = a
	}
	return b.node(op, &ReduceAttr{Axes: ax, KeepDims: keep}, 0, nil, x)
}

// ReduceSum sums over axes; keep keeps them as size 1.
func (b *Builder) ReduceSum(x Value, keep bool, axes ...int) Value {
	return b.reduce(OpReduceSum, x, keep, axes)
}

// ReduceMean averages over axes.
func (b *Builder) ReduceMean(x Value, keep bool, axes ...int) Value {
	return b.reduce(OpReduceMean, x, keep, axes)
}

// ReduceMax takes the maximum over axes.
func (b *Builder) ReduceMax(x Value, keep bool, axes ...int) Value {
	return b.reduce(OpReduceMax, x, keep, axes)
}

// ArgMax is the index (I32) of the first maximum along axis.
func (b *Builder) ArgMax(x Value, axis int, keep bool) Value {
	return b.reduce(OpArgMax, x, keep, []int{axis})
}

// TopK returns the k largest values along the last axis (descending) and
// their I32 indices.
func (b *Builder) TopK(x Value, k int) (values, indices Value) {
	return b.node(OpTopK, &TopKAttr{K: k}, 0, nil, x), b.node(OpTopK, &TopKAttr{K: k, Indices: true}, 0, nil, x)
}

// MoE is a mixture-of-experts feed-forward block over tokens x [T, D]:
// routing [T, E] holds each token's expert weights (zero for experts not
// selected; see TopK), gate and up are [E, F, D], down is [E, D, F] (any
// float or quantized dtype), act is OpSilu, OpGeluTanh or OpGeluErf. Only
// the selected experts are computed.
func (b *Builder) MoE(x, routing, gate, up, down Value, act Op) Value {
	return b.node(OpMoE, &MoEAttr{Act: act}, 0, nil, x, routing, gate, up, down)
}

// MoEExperts is MoE with one weight per expert (gates[e] and ups[e] are
// [F, D], downs[e] is [D, F]), as Hugging Face checkpoints store experts.
func (b *Builder) MoEExperts(x, routing Value, gates, ups, downs []Value, act Op) Value {
	if len(gates) != len(ups) || len(ups) != len(downs) || len(gates) == 0 {
		return b.failf("MoEExperts: %d gates, %d ups, %d downs", len(gates), len(ups), len(downs))
	}
	ins := append([]Value{x, routing}, gates...)
	ins = append(ins, ups...)
	ins = append(ins, downs...)
	return b.node(OpMoE, &MoEAttr{Act: act, PerExpert: true}, 0, nil, ins...)
}

// ---- convolutions ----

// ConvOptions configures Conv1D and Conv2D. Zero values mean stride 1,
// dilation 1, no padding, one group. Pad is symmetric padding per spatial
// axis; PadLo/PadHi, when set, override it.
type ConvOptions struct {
	Stride, Dilation, Pad []int
	PadLo, PadHi          []int
	Groups                int
}

func (o ConvOptions) attr(sp int, bias bool) *ConvAttr {
	fill := func(v []int, def int) []int {
		out := make([]int, sp)
		for i := range out {
			out[i] = def
			if i < len(v) {
				out[i] = v[i]
			}
		}
		return out
	}
	a := &ConvAttr{Stride: fill(o.Stride, 1), Dilation: fill(o.Dilation, 1), PadLo: fill(o.Pad, 0), PadHi: fill(o.Pad, 0),
		Groups: max(o.Groups, 1), HasBias: bias}
	if o.PadLo != nil {
		a.PadLo = fill(o.PadLo, 0)
	}
	if o.PadHi != nil {
		a.PadHi = fill(o.PadHi, 0)
	}
	return a
}

// Conv1D convolves x [B, C, L] with w [O, C/groups, K] (cross-correlation,
// as PyTorch), plus an optional bias [O].
func (b *Builder) Conv1D(x, w, bias Value, o ConvOptions) Value {
	ins := []Value{x, w}
	if bias.Valid() {
		ins = append(ins, bias)
	}
	return b.node(OpConv1D, o.attr(1, bias.Valid()), 0, nil, ins...)
}

// Conv2D convolves x [B, C, H, W] with w [O, C/groups, KH, KW], plus an
// optional bias [O].
func (b *Builder) Conv2D(x, w, bias Value, o ConvOptions) Value {
	ins := []Value{x, w}
	if bias.Valid() {
		ins = append(ins, bias)
	}
	return b.node(OpConv2D, o.attr(2, bias.Valid()), 0, nil, ins...)
}

// ---- composite blocks ----

// LSTMCell advances an LSTM one step (PyTorch gate order i, f, g, o):
// x [B, In], h and c [B, H], wIH [4H, In], wHH [4H, H], biases [4H] (either
// may be the zero Value). It returns the new h and c. It is composed of
// matmuls and elementwise ops, which the compiler fuses.
func (b *Builder) LSTMCell(x, h, c, wIH, wHH, bIH, bHH Value) (Value, Value) {
	if !h.Valid() {
		return Value{}, Value{}
	}
	hid := h.Dim(-1)
	gates := b.Add(b.Linear(x, wIH, bIH), b.Linear(h, wHH, bHH))
	gate := func(i int) Value {
		return b.Slice(gates, -1, hid.MulN(i), hid.MulN(i+1))
	}
	ig, fg, gg, og := b.Sigmoid(gate(0)), b.Sigmoid(gate(1)), b.Tanh(gate(2)), b.Sigmoid(gate(3))
	c2 := b.Add(b.Mul(fg, c), b.Mul(ig, gg))
	h2 := b.Mul(og, b.Tanh(c2))
	return h2, c2
}
