package ir

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/rlx-go/rlx/tensor"
)

// Op identifies an operation of the catalog. Every backend implements
// every op or says, through its capability query, that it does not.
type Op uint16

// The op catalog. Sources first, then elementwise ops (unary, binary,
// comparison), then structured ops. Ops marked internal are produced by
// the compiler, never by the Builder.
const (
	OpInvalid Op = iota

	// Sources.
	OpInput // run-time input, bound by Name
	OpParam // weight, bound by Name at compile time
	OpConst // constant, Attr *ConstAttr
	OpState // persistent buffer (KV cache, recurrent state), bound by Name
	OpRange // start+i for i in [0, n): Attr *RangeAttr

	// Unary elementwise (float).
	OpNeg
	OpAbs
	OpExp
	OpLog
	OpSqrt
	OpRsqrt
	OpRecip
	OpSquare
	OpTanh
	OpSigmoid
	OpSilu
	OpGeluErf
	OpGeluTanh
	OpRelu
	OpSoftcap // Attr *SoftcapAttr: cap·tanh(x/cap)
	OpSin
	OpCos
	OpErf

	// Binary elementwise with broadcasting.
	OpAdd
	OpSub
	OpMul
	OpDiv
	OpPow
	OpMax
	OpMin

	// Comparisons with broadcasting (result Bool).
	OpLess
	OpLessEq
	OpGreater
	OpGreaterEq
	OpEqual
	OpNotEqual

	// Other elementwise.
	OpWhere // where(cond, a, b) with broadcasting
	OpCast  // to the node's DType

	// Structured ops.
	OpMatMul    // Attr *MatMulAttr
	OpSoftmax   // Attr *SoftmaxAttr; inputs x [, additive mask]
	OpLayerNorm // Attr *NormAttr; inputs x [, weight] [, bias]
	OpRMSNorm   // Attr *NormAttr; inputs x [, weight]
	OpRoPE      // Attr *RoPEAttr; inputs x [B,T,H,D], positions [T] or [B,T], inverse frequencies [R/2]
	OpAttention // Attr *AttentionAttr; inputs q, k, v [, mask] [, kcache, vcache]
	OpGather    // Attr *GatherAttr; inputs table, ids
	OpConcat    // Attr *AxisAttr
	OpSlice     // Attr *SliceAttr
	OpReshape   // to the node's shape
	OpPermute   // Attr *PermuteAttr
	OpExpand    // broadcast to the node's shape
	OpReduceSum // Attr *ReduceAttr
	OpReduceMean
	OpReduceMax
	OpArgMax // Attr *ReduceAttr (one axis), result I32
	OpConv1D // Attr *ConvAttr; inputs x [B,C,L], w [O,C/g,K] [, bias [O]]
	OpConv2D // Attr *ConvAttr; inputs x [B,C,H,W], w [O,C/g,KH,KW] [, bias [O]]
	OpPad    // Attr *PadAttr
	OpAssign // sink: copy input 1 into state input 0 after the step
	OpTopK   // Attr *TopKAttr: the K largest values (or their indices) along the last axis
	// OpRoPETable is x·cos + rotate_half(x)·sin over the last axis (D even),
	// cos and sin broadcast to x: rotary embeddings from precomputed tables,
	// as Hugging Face writes them. Inputs x, cos, sin.
	OpRoPETable
	OpMoE // Attr *MoEAttr; inputs x [T, D], routing weights [T, E], gate/up [E, F, D], down [E, D, F]

	// Internal ops made by the compiler.
	OpDequantMatMul // MatMul whose weight is block-quantized
	OpFused         // a fused elementwise chain, Attr *FusedAttr

	numOps
)

// Kind groups ops by how passes treat them.
type Kind uint8

// Op kinds.
const (
	KindSource Kind = iota
	KindUnary
	KindBinary
	KindCompare
	KindElementwise // where, cast, fused
	KindStructured
	KindSink
)

type opInfo struct {
	name string
	kind Kind
}

var opTable = [numOps]opInfo{
	OpInvalid: {"invalid", KindStructured},
	OpInput:   {"Input", KindSource}, OpParam: {"Param", KindSource}, OpConst: {"Const", KindSource},
	OpState: {"State", KindSource}, OpRange: {"Range", KindSource},
	OpNeg: {"Neg", KindUnary}, OpAbs: {"Abs", KindUnary}, OpExp: {"Exp", KindUnary}, OpLog: {"Log", KindUnary},
	OpSqrt: {"Sqrt", KindUnary}, OpRsqrt: {"Rsqrt", KindUnary}, OpRecip: {"Recip", KindUnary},
	OpSquare: {"Square", KindUnary}, OpTanh: {"Tanh", KindUnary}, OpSigmoid: {"Sigmoid", KindUnary},
	OpSilu: {"Silu", KindUnary}, OpGeluErf: {"GeluErf", KindUnary}, OpGeluTanh: {"GeluTanh", KindUnary},
	OpRelu: {"Relu", KindUnary}, OpSoftcap: {"Softcap", KindUnary}, OpSin: {"Sin", KindUnary},
	OpCos: {"Cos", KindUnary}, OpErf: {"Erf", KindUnary},
	OpAdd: {"Add", KindBinary}, OpSub: {"Sub", KindBinary}, OpMul: {"Mul", KindBinary}, OpDiv: {"Div", KindBinary},
	OpPow: {"Pow", KindBinary}, OpMax: {"Max", KindBinary}, OpMin: {"Min", KindBinary},
	OpLess: {"Less", KindCompare}, OpLessEq: {"LessEq", KindCompare}, OpGreater: {"Greater", KindCompare},
	OpGreaterEq: {"GreaterEq", KindCompare}, OpEqual: {"Equal", KindCompare}, OpNotEqual: {"NotEqual", KindCompare},
	OpWhere: {"Where", KindElementwise}, OpCast: {"Cast", KindElementwise},
	OpMatMul: {"MatMul", KindStructured}, OpSoftmax: {"Softmax", KindStructured},
	OpLayerNorm: {"LayerNorm", KindStructured}, OpRMSNorm: {"RMSNorm", KindStructured},
	OpRoPE: {"RoPE", KindStructured}, OpAttention: {"Attention", KindStructured},
	OpGather: {"Gather", KindStructured}, OpConcat: {"Concat", KindStructured}, OpSlice: {"Slice", KindStructured},
	OpReshape: {"Reshape", KindStructured}, OpPermute: {"Permute", KindStructured}, OpExpand: {"Expand", KindStructured},
	OpReduceSum: {"ReduceSum", KindStructured}, OpReduceMean: {"ReduceMean", KindStructured},
	OpReduceMax: {"ReduceMax", KindStructured}, OpArgMax: {"ArgMax", KindStructured},
	OpConv1D: {"Conv1D", KindStructured}, OpConv2D: {"Conv2D", KindStructured}, OpPad: {"Pad", KindStructured},
	OpAssign: {"Assign", KindSink},
	OpTopK:   {"TopK", KindStructured}, OpMoE: {"MoE", KindStructured}, OpRoPETable: {"RoPETable", KindStructured},
	OpDequantMatMul: {"DequantMatMul", KindStructured}, OpFused: {"Fused", KindElementwise},
}

// String is the op's name as the dump prints it.
func (o Op) String() string {
	if o < numOps {
		return opTable[o].name
	}
	return fmt.Sprintf("Op(%d)", uint16(o))
}

// Kind reports how passes treat the op.
func (o Op) Kind() Kind {
	if o < numOps {
		return opTable[o].kind
	}
	return KindStructured
}

// Elementwise reports whether the op maps broadcast inputs to outputs one
// element at a time (so it can join a fused chain).
func (o Op) Elementwise() bool {
	k := o.Kind()
	return k == KindUnary || k == KindBinary || k == KindCompare || k == KindElementwise
}

// AllOps lists every op of the catalog, internal ones included.
func AllOps() []Op {
	out := make([]Op, 0, numOps-1)
	for o := OpInput; o < numOps; o++ {
		out = append(out, o)
	}
	return out
}

// ---- attributes ----

// ConstAttr holds a constant's value.
type ConstAttr struct{ Value *tensor.Tensor }

// RangeAttr is the start of an OpRange (start, start+1, …).
type RangeAttr struct{ Start Dim }

// SoftcapAttr is the cap of cap·tanh(x/cap).
type SoftcapAttr struct{ Cap float64 }

// MatMulAttr says which operands are transposed in their last two axes.
// Add (set by the compiler's epilogue fusion) means a third input,
// broadcast to the result, is added to the product.
type MatMulAttr struct{ TransA, TransB, Add bool }

// SoftmaxAttr: softmax(Scale·x + mask) along Axis. Masked reports an
// additive mask input (broadcast to x).
type SoftmaxAttr struct {
	Axis   int
	Scale  float64
	Masked bool
}

// NormAttr configures LayerNorm and RMSNorm over the last axis.
// PlusOne scales by (1+w) instead of w (Gemma).
type NormAttr struct {
	Eps       float64
	PlusOne   bool
	HasWeight bool
	HasBias   bool
}

// RoPELayout says which elements of a head rotate together.
type RoPELayout uint8

// RoPE layouts.
const (
	// RoPESplitHalf pairs element i with i+R/2 (HF "rotate_half", NeoX).
	RoPESplitHalf RoPELayout = iota
	// RoPEInterleaved pairs elements 2i and 2i+1 (GPT-J, original Llama).
	RoPEInterleaved
)

// String names the layout.
func (l RoPELayout) String() string {
	if l == RoPEInterleaved {
		return "interleaved"
	}
	return "split-half"
}

// RoPEAttr configures rotary embeddings. The first RotaryDim elements of
// each head rotate (partial rotary when < head size); angles are
// position·invfreq[i]; cos and sin are multiplied by Scale (YaRN's
// attention factor; 1 otherwise).
type RoPEAttr struct {
	Layout    RoPELayout
	RotaryDim int
	Scale     float64
}

// AttentionAttr configures fused attention. Queries are [B,T,Hq,D], keys
// and values [B,S,Hkv,D] (or the new T rows of a cache). Query t sits at
// absolute position Past+t; a cached attention writes its k and v rows at
// positions [Past, Past+T) of the cache and attends to [0, Past+T).
type AttentionAttr struct {
	Causal  bool
	Window  int     // >0: attend only to the last Window positions (sliding window)
	Softcap float64 // >0: logits become Softcap·tanh(logits/Softcap)
	Scale   float64 // logit scale, usually 1/sqrt(D)
	Masked  bool    // an additive mask input follows v, broadcast to [B,Hq,T,S]
	Cached  bool    // kcache and vcache state inputs follow
	Past    Dim     // absolute position of the first query
	// PerRow (cached, causal, unmasked only): an I32 [batch] input follows
	// the caches giving each row its own past; row b writes its keys at
	// [past_b, past_b+T) and attends to [0, past_b+T). Past is unused.
	PerRow bool
}

// GatherAttr gathers rows of the table along Axis 0.
type GatherAttr struct{ Axis int }

// AxisAttr names one axis.
type AxisAttr struct{ Axis int }

// SliceAttr selects Start, Start+Step, … along Axis (the count is the
// node's dimension).
type SliceAttr struct {
	Axis  int
	Start Dim
	Step  int
}

// PermuteAttr: output axis i is input axis Perm[i].
type PermuteAttr struct{ Perm []int }

// ReduceAttr names the reduced axes.
type ReduceAttr struct {
	Axes     []int
	KeepDims bool
}

// ConvAttr configures Conv1D and Conv2D (one entry per spatial axis).
type ConvAttr struct {
	Stride, Dilation []int
	PadLo, PadHi     []int
	Groups           int
	HasBias          bool
}

// PadMode is how Pad fills new elements.
type PadMode uint8

// Pad modes.
const (
	PadConstant PadMode = iota
	PadReflect          // mirror without repeating the edge (numpy "reflect")
	PadEdge             // repeat the edge element
)

// PadAttr gives, for every axis, the elements added before and after.
type PadAttr struct {
	Before, After []int
	Mode          PadMode
	Value         float64
}

// TopKAttr selects the K largest elements along the last axis, in
// descending order (ties: lower index first). Indices selects the I32
// positions instead of the values.
type TopKAttr struct {
	K       int
	Indices bool
}

// MoEAttr configures a mixture-of-experts feed-forward block: for every
// token t and expert e with routing weight r[t,e] ≠ 0, the output gains
// r[t,e]·down_e(act(gate_e·x_t) ⊙ up_e·x_t). Act is OpSilu, OpGeluTanh or
// OpGeluErf.
//
// With PerExpert, the weights come as one input per expert instead of
// stacked: inputs are x, routing, gate_0…gate_{E-1}, up_0…, down_0… with
// gate/up [F, D] and down [D, F] (how Hugging Face checkpoints store them).
type MoEAttr struct {
	Act       Op
	PerExpert bool
}

// FusedAttr is a straight-line program over the fused node's inputs,
// evaluated per output element with broadcasting. Registers 0..len(Inputs)-1
// are the inputs; instruction i writes register len(Inputs)+i; the last
// register is the result.
type FusedAttr struct {
	Code   []Instr
	Inputs int // number of input registers (for dumps)
}

// Instr is one elementwise operation of a fused chain.
type Instr struct {
	Op    Op
	Args  []int        // registers
	DType tensor.DType // result dtype of this instruction
	Attr  any          // e.g. *SoftcapAttr
}

// attrString renders attributes for dumps and CSE keys.
func attrString(a any) string {
	switch a := a.(type) {
	case nil:
		return ""
	case *ConstAttr:
		t := a.Value
		if t.NumElements() <= 4 {
			if v, err := t.Float64s(); err == nil {
				return fmt.Sprintf("value=%v", v)
			}
		}
		return fmt.Sprintf("%d bytes", len(t.Data))
	case *FusedAttr:
		parts := make([]string, len(a.Code))
		for i, in := range a.Code {
			s := fmt.Sprintf("r%d=%s(", a.Inputs+i, in.Op)
			for j, r := range in.Args {
				if j > 0 {
					s += ","
				}
				s += fmt.Sprintf("r%d", r)
			}
			s += ")"
			if x := attrString(in.Attr); x != "" {
				s += "{" + x + "}"
			}
			if in.Op == OpCast {
				s += ":" + in.DType.String()
			}
			parts[i] = s
		}
		return strings.Join(parts, "; ")
	case *AttentionAttr:
		past := a.Past.String()
		if a.PerRow {
			past = "per-row"
		}
		return fmt.Sprintf("causal=%v window=%d softcap=%g scale=%g masked=%v cached=%v past=%v",
			a.Causal, a.Window, a.Softcap, a.Scale, a.Masked, a.Cached, past)
	case *RangeAttr:
		return fmt.Sprintf("start=%v", a.Start)
	case *MatMulAttr:
		var f []string
		for i, on := range []bool{a.TransA, a.TransB, a.Add} {
			if on {
				f = append(f, []string{"transA", "transB", "add"}[i])
			}
		}
		return strings.Join(f, " ")
	case *SliceAttr:
		return fmt.Sprintf("axis=%d start=%v step=%d", a.Axis, a.Start, a.Step)
	}
	s := fmt.Sprintf("%+v", a)
	s = strings.TrimPrefix(s, "&")
	s = strings.TrimPrefix(s, "{")
	s = strings.TrimSuffix(s, "}")
	return s
}

// AttrKey is a string that is equal for equal attributes (used by CSE).
func AttrKey(a any) string {
	if c, ok := a.(*ConstAttr); ok {
		return fmt.Sprintf("%v%v:%x", c.Value.DType, c.Value.Shape, c.Value.Data)
	}
	return attrString(a)
}

// attrDims lists dims embedded in attributes.
func attrDims(a any) []Dim {
	switch a := a.(type) {
	case *AttentionAttr:
		return []Dim{a.Past}
	case *RangeAttr:
		return []Dim{a.Start}
	case *SliceAttr:
		return []Dim{a.Start}
	}
	return nil
}

// ---- shape and dtype inference ----

// Infer computes the dtype and shape of op applied to ins with attr a, or a
// clear error. For ops whose result type is not determined by their inputs
// (Cast, Reshape, Expand), want carries the requested dtype and shape.
func Infer(op Op, a any, ins []*Node, wantDT tensor.DType, want Shape) (tensor.DType, Shape, error) {
	arity := func(lo, hi int) error {
		if len(ins) < lo || len(ins) > hi {
			return fmt.Errorf("%v takes %d..%d inputs, got %d", op, lo, hi, len(ins))
		}
		return nil
	}
	switch k := op.Kind(); {
	case k == KindUnary:
		if err := arity(1, 1); err != nil {
			return 0, nil, err
		}
		x := ins[0]
		if !x.DType.Float() && !(op == OpNeg || op == OpAbs || op == OpSquare) {
			return 0, nil, fmt.Errorf("%v needs a float input, got %v", op, x.DType)
		}
		if op == OpSoftcap {
			if c, ok := a.(*SoftcapAttr); !ok || !(c.Cap > 0) {
				return 0, nil, fmt.Errorf("softcap needs a positive cap")
			}
		}
		return x.DType, x.Shape.clone(), nil
	case k == KindBinary || k == KindCompare:
		if err := arity(2, 2); err != nil {
			return 0, nil, err
		}
		if ins[0].DType != ins[1].DType {
			return 0, nil, fmt.Errorf("%v of %v and %v: dtypes differ (insert a Cast)", op, ins[0].DType, ins[1].DType)
		}
		if ins[0].DType.Quantized() {
			return 0, nil, fmt.Errorf("%v of quantized %v", op, ins[0].DType)
		}
		s, err := Broadcast(ins[0].Shape, ins[1].Shape)
		if err != nil {
			return 0, nil, fmt.Errorf("%v: %w", op, err)
		}
		if k == KindCompare {
			return tensor.Bool, s, nil
		}
		return ins[0].DType, s, nil
	}
	switch op {
	case OpWhere:
		if err := arity(3, 3); err != nil {
			return 0, nil, err
		}
		if ins[0].DType != tensor.Bool {
			return 0, nil, fmt.Errorf("where condition is %v, want BOOL", ins[0].DType)
		}
		if ins[1].DType != ins[2].DType {
			return 0, nil, fmt.Errorf("where branches are %v and %v", ins[1].DType, ins[2].DType)
		}
		s, err := Broadcast(ins[1].Shape, ins[2].Shape)
		if err == nil {
			s, err = Broadcast(ins[0].Shape, s)
		}
		if err != nil {
			return 0, nil, fmt.Errorf("where: %w", err)
		}
		return ins[1].DType, s, nil
	case OpCast:
		if err := arity(1, 1); err != nil {
			return 0, nil, err
		}
		if ins[0].DType.Quantized() || wantDT.Quantized() || !wantDT.Valid() {
			return 0, nil, fmt.Errorf("cast from %v to %v is not supported", ins[0].DType, wantDT)
		}
		return wantDT, ins[0].Shape.clone(), nil
	case OpMatMul, OpDequantMatMul:
		return inferMatMul(a, ins)
	case OpSoftmax:
		at, _ := a.(*SoftmaxAttr)
		if at == nil {
			return 0, nil, fmt.Errorf("softmax without attributes")
		}
		n := 1
		if at.Masked {
			n = 2
		}
		if err := arity(n, n); err != nil {
			return 0, nil, err
		}
		x := ins[0]
		if !x.DType.Float() {
			return 0, nil, fmt.Errorf("softmax of %v", x.DType)
		}
		if at.Axis < 0 || at.Axis >= len(x.Shape) {
			return 0, nil, fmt.Errorf("softmax axis %d out of range for %v", at.Axis, x.Shape)
		}
		if at.Masked {
			if ins[1].DType != x.DType {
				return 0, nil, fmt.Errorf("softmax mask is %v, input %v", ins[1].DType, x.DType)
			}
			s, err := Broadcast(x.Shape, ins[1].Shape)
			if err != nil || !s.Equal(x.Shape) {
				return 0, nil, fmt.Errorf("softmax mask %v does not broadcast to %v", ins[1].Shape, x.Shape)
			}
		}
		return x.DType, x.Shape.clone(), nil
	case OpLayerNorm, OpRMSNorm:
		at, _ := a.(*NormAttr)
		if at == nil {
			return 0, nil, fmt.Errorf("%v without attributes", op)
		}
		n := 1
		if at.HasWeight {
			n++
		}
		if at.HasBias {
			n++
		}
		if err := arity(n, n); err != nil {
			return 0, nil, err
		}
		x := ins[0]
		if !x.DType.Float() || len(x.Shape) == 0 {
			return 0, nil, fmt.Errorf("%v of %v%v", op, x.DType, x.Shape)
		}
		last := x.Shape[len(x.Shape)-1]
		for _, w := range ins[1:] {
			if len(w.Shape) != 1 || !w.Shape[0].Equal(last) {
				return 0, nil, fmt.Errorf("%v weight/bias shape %v, want [%v]", op, w.Shape, last)
			}
			if !w.DType.Float() {
				return 0, nil, fmt.Errorf("%v weight dtype %v", op, w.DType)
			}
		}
		return x.DType, x.Shape.clone(), nil
	case OpRoPE:
		return inferRoPE(a, ins)
	case OpAttention:
		return inferAttention(a, ins)
	case OpGather:
		if err := arity(2, 2); err != nil {
			return 0, nil, err
		}
		t, ids := ins[0], ins[1]
		if len(t.Shape) < 1 {
			return 0, nil, fmt.Errorf("gather table is a scalar")
		}
		if ids.DType != tensor.I32 && ids.DType != tensor.I64 {
			return 0, nil, fmt.Errorf("gather ids are %v, want I32 or I64", ids.DType)
		}
		dt := t.DType
		if dt == tensor.F16 || dt == tensor.BF16 || dt.Quantized() {
			dt = tensor.F32
		}
		s := append(ids.Shape.clone(), t.Shape[1:]...)
		return dt, s, nil
	case OpConcat:
		at, _ := a.(*AxisAttr)
		if at == nil || len(ins) == 0 {
			return 0, nil, fmt.Errorf("concat needs inputs and an axis")
		}
		s := ins[0].Shape.clone()
		if at.Axis < 0 || at.Axis >= len(s) {
			return 0, nil, fmt.Errorf("concat axis %d out of range for %v", at.Axis, s)
		}
		for _, x := range ins[1:] {
			if x.DType != ins[0].DType || len(x.Shape) != len(s) {
				return 0, nil, fmt.Errorf("concat of %v%v and %v%v", ins[0].DType, ins[0].Shape, x.DType, x.Shape)
			}
			for i := range s {
				if i == at.Axis {
					s[i] = s[i].Add(x.Shape[i])
				} else if !s[i].Equal(x.Shape[i]) {
					return 0, nil, fmt.Errorf("concat along %d of %v and %v", at.Axis, ins[0].Shape, x.Shape)
				}
			}
		}
		return ins[0].DType, s, nil
	case OpSlice:
		if err := arity(1, 1); err != nil {
			return 0, nil, err
		}
		at, _ := a.(*SliceAttr)
		if at == nil || at.Axis < 0 || at.Axis >= len(ins[0].Shape) || at.Step < 1 {
			return 0, nil, fmt.Errorf("slice: bad axis or step for %v", ins[0].Shape)
		}
		if len(want) != len(ins[0].Shape) {
			return 0, nil, fmt.Errorf("slice: result rank")
		}
		return ins[0].DType, want.clone(), nil
	case OpReshape:
		if err := arity(1, 1); err != nil {
			return 0, nil, err
		}
		if !want.NumElements().Equal(ins[0].Shape.NumElements()) {
			return 0, nil, fmt.Errorf("reshape %v to %v: element counts %v and %v differ", ins[0].Shape, want,
				ins[0].Shape.NumElements(), want.NumElements())
		}
		return ins[0].DType, want.clone(), nil
	case OpPermute:
		if err := arity(1, 1); err != nil {
			return 0, nil, err
		}
		at, _ := a.(*PermuteAttr)
		x := ins[0]
		if at == nil || len(at.Perm) != len(x.Shape) {
			return 0, nil, fmt.Errorf("permute of %v needs %d axes", x.Shape, len(x.Shape))
		}
		seen := make([]bool, len(at.Perm))
		s := make(Shape, len(at.Perm))
		for i, p := range at.Perm {
			if p < 0 || p >= len(seen) || seen[p] {
				return 0, nil, fmt.Errorf("permute %v is not a permutation", at.Perm)
			}
			seen[p] = true
			s[i] = x.Shape[p]
		}
		return x.DType, s, nil
	case OpExpand:
		if err := arity(1, 1); err != nil {
			return 0, nil, err
		}
		s, err := Broadcast(ins[0].Shape, want)
		if err != nil || !s.Equal(want) {
			return 0, nil, fmt.Errorf("expand %v to %v: not broadcastable", ins[0].Shape, want)
		}
		return ins[0].DType, want.clone(), nil
	case OpReduceSum, OpReduceMean, OpReduceMax, OpArgMax:
		if err := arity(1, 1); err != nil {
			return 0, nil, err
		}
		at, _ := a.(*ReduceAttr)
		x := ins[0]
		if at == nil || len(at.Axes) == 0 || (op == OpArgMax && len(at.Axes) != 1) {
			return 0, nil, fmt.Errorf("%v needs axes", op)
		}
		if !x.DType.Float() && op != OpReduceMax && op != OpArgMax && op != OpReduceSum {
			return 0, nil, fmt.Errorf("%v of %v", op, x.DType)
		}
		var s Shape
		for i, d := range x.Shape {
			if slices.Contains(at.Axes, i) {
				if at.KeepDims {
					s = append(s, N(1))
				}
				continue
			}
			s = append(s, d)
		}
		for i, ax := range at.Axes {
			if ax < 0 || ax >= len(x.Shape) || slices.Contains(at.Axes[:i], ax) {
				return 0, nil, fmt.Errorf("%v axes %v invalid for %v", op, at.Axes, x.Shape)
			}
		}
		if op == OpArgMax {
			return tensor.I32, s, nil
		}
		return x.DType, s, nil
	case OpConv1D, OpConv2D:
		return inferConv(op, a, ins)
	case OpPad:
		if err := arity(1, 1); err != nil {
			return 0, nil, err
		}
		at, _ := a.(*PadAttr)
		x := ins[0]
		if at == nil || len(at.Before) != len(x.Shape) || len(at.After) != len(x.Shape) {
			return 0, nil, fmt.Errorf("pad needs before/after for each of %d axes", len(x.Shape))
		}
		s := x.Shape.clone()
		for i := range s {
			if at.Before[i] < 0 || at.After[i] < 0 {
				return 0, nil, fmt.Errorf("pad amounts must be >= 0")
			}
			if at.Mode == PadReflect {
				c, ok := s[i].Const()
				if (at.Before[i] > 0 || at.After[i] > 0) && (!ok || at.Before[i] >= c || at.After[i] >= c) {
					return 0, nil, fmt.Errorf("reflect Pad of %v by %d/%d needs a longer constant axis %d", x.Shape, at.Before[i], at.After[i], i)
				}
			}
			s[i] = s[i].AddN(at.Before[i] + at.After[i])
		}
		return x.DType, s, nil
	case OpAssign:
		if err := arity(2, 2); err != nil {
			return 0, nil, err
		}
		if ins[0].Op != OpState {
			return 0, nil, fmt.Errorf("assign target is %v, not a State", ins[0].Op)
		}
		if ins[0].DType != ins[1].DType || !ins[0].Shape.Equal(ins[1].Shape) {
			return 0, nil, fmt.Errorf("assign of %v%v to state %q %v%v", ins[1].DType, ins[1].Shape, ins[0].Name, ins[0].DType, ins[0].Shape)
		}
		return ins[0].DType, ins[0].Shape.clone(), nil
	case OpTopK:
		if err := arity(1, 1); err != nil {
			return 0, nil, err
		}
		at, _ := a.(*TopKAttr)
		x := ins[0]
		if at == nil || len(x.Shape) == 0 || x.DType != tensor.F32 {
			return 0, nil, fmt.Errorf("TopK needs attributes and an F32 input of rank >= 1, got %v%v", x.DType, x.Shape)
		}
		if c, ok := x.Shape[len(x.Shape)-1].Const(); !ok || at.K < 1 || at.K > c {
			return 0, nil, fmt.Errorf("TopK k=%d over a last axis of %v", at.K, x.Shape[len(x.Shape)-1])
		}
		s := x.Shape.clone()
		s[len(s)-1] = N(at.K)
		if at.Indices {
			return tensor.I32, s, nil
		}
		return x.DType, s, nil
	case OpMoE:
		return inferMoE(a, ins)
	case OpRoPETable:
		if err := arity(3, 3); err != nil {
			return 0, nil, err
		}
		x := ins[0]
		if x.DType != tensor.F32 || len(x.Shape) == 0 {
			return 0, nil, fmt.Errorf("RoPETable of %v%v, want F32", x.DType, x.Shape)
		}
		if d, ok := x.Shape[len(x.Shape)-1].Const(); !ok || d%2 != 0 {
			return 0, nil, fmt.Errorf("RoPETable over a last axis of %v, want a constant even size", x.Shape[len(x.Shape)-1])
		}
		for _, t := range ins[1:] {
			s, err := Broadcast(x.Shape, t.Shape)
			if err != nil || !s.Equal(x.Shape) || t.DType != tensor.F32 {
				return 0, nil, fmt.Errorf("RoPETable table %v%v does not broadcast to %v", t.DType, t.Shape, x.Shape)
			}
		}
		return x.DType, x.Shape.clone(), nil
	case OpFused:
		if wantDT == tensor.Invalid || want == nil {
			return 0, nil, fmt.Errorf("fused needs its result type")
		}
		return wantDT, want.clone(), nil
	}
	return 0, nil, fmt.Errorf("no inference rule for %v", op)
}

// Broadcast returns the numpy broadcast of two shapes: trailing axes are
// aligned; each pair must be equal or one of them the constant 1.
func Broadcast(a, b Shape) (Shape, error) {
	n := max(len(a), len(b))
	out := make(Shape, n)
	for i := range n {
		da, db := N(1), N(1)
		if j := len(a) - n + i; j >= 0 {
			da = a[j]
		}
		if j := len(b) - n + i; j >= 0 {
			db = b[j]
		}
		switch {
		case da.Equal(db):
			out[i] = da
		case isOne(da):
			out[i] = db
		case isOne(db):
			out[i] = da
		default:
			return nil, fmt.Errorf("shapes %v and %v do not broadcast (axis %d: %v vs %v)", a, b, i, da, db)
		}
	}
	return out, nil
}

func isOne(d Dim) bool { c, ok := d.Const(); return ok && c == 1 }

func inferMatMul(a any, ins []*Node) (tensor.DType, Shape, error) {
	at, _ := a.(*MatMulAttr)
	want := 2
	if at != nil && at.Add {
		want = 3
	}
	if at == nil || len(ins) != want {
		return 0, nil, fmt.Errorf("MatMul takes %d inputs and attributes", want)
	}
	x, w := ins[0], ins[1]
	if len(x.Shape) < 2 || len(w.Shape) < 2 {
		return 0, nil, fmt.Errorf("MatMul of %v and %v: operands need rank >= 2", x.Shape, w.Shape)
	}
	if !x.DType.Float() {
		return 0, nil, fmt.Errorf("MatMul left operand is %v, want a float type", x.DType)
	}
	if !w.DType.Float() && !w.DType.Quantized() {
		return 0, nil, fmt.Errorf("MatMul right operand is %v", w.DType)
	}
	m, k := x.Shape[len(x.Shape)-2], x.Shape[len(x.Shape)-1]
	if at.TransA {
		m, k = k, m
	}
	k2, n := w.Shape[len(w.Shape)-2], w.Shape[len(w.Shape)-1]
	if at.TransB {
		k2, n = n, k2
	}
	if w.DType.Quantized() {
		if !at.TransB || len(w.Shape) != 2 {
			return 0, nil, fmt.Errorf("quantized MatMul weight must be [N, K] (transposed, rank 2), got %v", w.Shape)
		}
		kc, ok := k2.Const()
		if !ok || kc%w.DType.BlockSize() != 0 {
			return 0, nil, fmt.Errorf("quantized %v weight: K=%v is not a multiple of %d", w.DType, k2, w.DType.BlockSize())
		}
	}
	if !k.Equal(k2) {
		return 0, nil, fmt.Errorf("MatMul of %v and %v (transA=%v transB=%v): inner dims %v and %v differ",
			x.Shape, w.Shape, at.TransA, at.TransB, k, k2)
	}
	batch, err := Broadcast(x.Shape[:len(x.Shape)-2], w.Shape[:len(w.Shape)-2])
	if err != nil {
		return 0, nil, fmt.Errorf("MatMul batch dims: %w", err)
	}
	out := append(batch, m, n)
	if at.Add {
		c := ins[2]
		s, err := Broadcast(out, c.Shape)
		if err != nil || !s.Equal(out) || c.DType != x.DType {
			return 0, nil, fmt.Errorf("MatMul addend %v%v does not broadcast to %v%v", c.DType, c.Shape, x.DType, out)
		}
	}
	return x.DType, out, nil
}

func inferMoE(a any, ins []*Node) (tensor.DType, Shape, error) {
	at, _ := a.(*MoEAttr)
	if at != nil && at.PerExpert {
		return inferMoEPerExpert(at, ins)
	}
	if at == nil || len(ins) != 5 {
		return 0, nil, fmt.Errorf("MoE takes x, routing weights, gate, up, down")
	}
	switch at.Act {
	case OpSilu, OpGeluTanh, OpGeluErf:
	default:
		return 0, nil, fmt.Errorf("MoE activation %v (want Silu, GeluTanh or GeluErf)", at.Act)
	}
	x, r, g, u, d := ins[0], ins[1], ins[2], ins[3], ins[4]
	if x.DType != tensor.F32 || r.DType != tensor.F32 || len(x.Shape) != 2 || len(r.Shape) != 2 {
		return 0, nil, fmt.Errorf("MoE x %v%v and routing %v%v must be F32 [tokens, dim] and [tokens, experts]", x.DType, x.Shape, r.DType, r.Shape)
	}
	if len(g.Shape) != 3 || len(u.Shape) != 3 || len(d.Shape) != 3 {
		return 0, nil, fmt.Errorf("MoE expert weights must be rank 3 [experts, out, in]")
	}
	E, F, D := g.Shape[0], g.Shape[1], x.Shape[1]
	if !r.Shape[0].Equal(x.Shape[0]) || !r.Shape[1].Equal(E) {
		return 0, nil, fmt.Errorf("MoE routing %v for x %v and %v experts", r.Shape, x.Shape, E)
	}
	if !g.Shape.Equal(Shape{E, F, D}) || !u.Shape.Equal(Shape{E, F, D}) || !d.Shape.Equal(Shape{E, D, F}) {
		return 0, nil, fmt.Errorf("MoE weights gate %v up %v down %v, want [%v,%v,%v] and [%v,%v,%v]", g.Shape, u.Shape, d.Shape, E, F, D, E, D, F)
	}
	for _, w := range []*Node{g, u, d} {
		if !w.DType.Float() && !w.DType.Quantized() {
			return 0, nil, fmt.Errorf("MoE weight dtype %v", w.DType)
		}
	}
	return tensor.F32, x.Shape.clone(), nil
}

func inferMoEPerExpert(at *MoEAttr, ins []*Node) (tensor.DType, Shape, error) {
	switch at.Act {
	case OpSilu, OpGeluTanh, OpGeluErf:
	default:
		return 0, nil, fmt.Errorf("MoE activation %v (want Silu, GeluTanh or GeluErf)", at.Act)
	}
	if len(ins) < 5 || (len(ins)-2)%3 != 0 {
		return 0, nil, fmt.Errorf("per-expert MoE takes x, routing and three weights per expert, got %d inputs", len(ins))
	}
	x, r := ins[0], ins[1]
	E := (len(ins) - 2) / 3
	if x.DType != tensor.F32 || r.DType != tensor.F32 || len(x.Shape) != 2 || len(r.Shape) != 2 ||
		!r.Shape[0].Equal(x.Shape[0]) || !r.Shape[1].Equal(N(E)) {
		return 0, nil, fmt.Errorf("MoE x %v%v and routing %v%v must be F32 [tokens, dim] and [tokens, %d experts]", x.DType, x.Shape, r.DType, r.Shape, E)
	}
	D := x.Shape[1]
	F := ins[2].Shape
	if len(F) != 2 {
		return 0, nil, fmt.Errorf("MoE expert gate weight %v, want [ffn, dim]", F)
	}
	for i, w := range ins[2:] {
		want := Shape{F[0], D}
		if i >= 2*E {
			want = Shape{D, F[0]}
		}
		if !w.Shape.Equal(want) || !(w.DType.Float() || w.DType.Quantized()) {
			return 0, nil, fmt.Errorf("MoE expert weight %q is %v%v, want %v", w.Name, w.DType, w.Shape, want)
		}
	}
	return tensor.F32, x.Shape.clone(), nil
}

func inferRoPE(a any, ins []*Node) (tensor.DType, Shape, error) {
	at, _ := a.(*RoPEAttr)
	if at == nil || len(ins) != 3 {
		return 0, nil, fmt.Errorf("RoPE takes x, positions, inverse frequencies")
	}
	x, pos, inv := ins[0], ins[1], ins[2]
	if len(x.Shape) != 4 || !x.DType.Float() {
		return 0, nil, fmt.Errorf("RoPE input %v%v, want float [batch, seq, heads, head_dim]", x.DType, x.Shape)
	}
	hd, ok := x.Shape[3].Const()
	if !ok || at.RotaryDim <= 0 || at.RotaryDim%2 != 0 || at.RotaryDim > hd {
		return 0, nil, fmt.Errorf("RoPE rotary dim %d invalid for head size %v", at.RotaryDim, x.Shape[3])
	}
	if pos.DType != tensor.I32 && pos.DType != tensor.I64 {
		return 0, nil, fmt.Errorf("RoPE positions are %v, want I32 or I64", pos.DType)
	}
	switch len(pos.Shape) {
	case 1:
		if !pos.Shape[0].Equal(x.Shape[1]) {
			return 0, nil, fmt.Errorf("RoPE positions %v for sequence %v", pos.Shape, x.Shape[1])
		}
	case 2:
		if !pos.Shape[1].Equal(x.Shape[1]) || !(pos.Shape[0].Equal(x.Shape[0]) || isOne(pos.Shape[0])) {
			return 0, nil, fmt.Errorf("RoPE positions %v for input %v", pos.Shape, x.Shape)
		}
	default:
		return 0, nil, fmt.Errorf("RoPE positions %v, want [seq] or [batch, seq]", pos.Shape)
	}
	if inv.DType != tensor.F32 || len(inv.Shape) != 1 || !inv.Shape[0].Equal(N(at.RotaryDim/2)) {
		return 0, nil, fmt.Errorf("RoPE inverse frequencies %v%v, want F32[%d]", inv.DType, inv.Shape, at.RotaryDim/2)
	}
	return x.DType, x.Shape.clone(), nil
}

func inferAttention(a any, ins []*Node) (tensor.DType, Shape, error) {
	at, _ := a.(*AttentionAttr)
	if at == nil {
		return 0, nil, fmt.Errorf("attention without attributes")
	}
	want := 3
	if at.Masked {
		want++
	}
	if at.Cached {
		want += 2
	}
	if at.PerRow {
		want++
		if !at.Cached || !at.Causal || at.Masked {
			return 0, nil, fmt.Errorf("per-row attention positions need a cache, causal attention and no mask")
		}
	}
	if len(ins) != want {
		return 0, nil, fmt.Errorf("attention takes %d inputs here, got %d", want, len(ins))
	}
	if at.PerRow {
		pr := ins[len(ins)-1]
		ins = ins[:len(ins)-1]
		if pr.DType != tensor.I32 || len(pr.Shape) != 1 || !pr.Shape[0].Equal(ins[0].Shape[0]) {
			return 0, nil, fmt.Errorf("attention per-row past %v%v, want I32[%v]", pr.DType, pr.Shape, ins[0].Shape[0])
		}
	}
	q, k, v := ins[0], ins[1], ins[2]
	for _, x := range []*Node{q, k, v} {
		if len(x.Shape) != 4 || x.DType != q.DType || !x.DType.Float() {
			return 0, nil, fmt.Errorf("attention q/k/v must be float [batch, seq, heads, head_dim] of one dtype, got %v%v", x.DType, x.Shape)
		}
	}
	if !k.Shape[0].Equal(q.Shape[0]) || !v.Shape[0].Equal(q.Shape[0]) {
		return 0, nil, fmt.Errorf("attention batch sizes differ: %v %v %v", q.Shape, k.Shape, v.Shape)
	}
	if !k.Shape[1].Equal(v.Shape[1]) || !k.Shape[2].Equal(v.Shape[2]) || !q.Shape[3].Equal(k.Shape[3]) {
		return 0, nil, fmt.Errorf("attention shapes q %v k %v v %v disagree", q.Shape, k.Shape, v.Shape)
	}
	hq, ok1 := q.Shape[2].Const()
	hkv, ok2 := k.Shape[2].Const()
	if !ok1 || !ok2 || hkv == 0 || hq%hkv != 0 {
		return 0, nil, fmt.Errorf("attention heads %v and %v: query heads must be a constant multiple of kv heads", q.Shape[2], k.Shape[2])
	}
	if at.Window < 0 || at.Softcap < 0 || math.IsNaN(at.Scale) {
		return 0, nil, fmt.Errorf("attention window/softcap/scale invalid")
	}
	skeys := k.Shape[1]
	if at.Cached {
		kc, vc := ins[len(ins)-2], ins[len(ins)-1]
		if kc.Op != OpState || vc.Op != OpState {
			return 0, nil, fmt.Errorf("attention cache inputs must be States")
		}
		if !k.Shape[1].Equal(q.Shape[1]) {
			return 0, nil, fmt.Errorf("cached Attention: new keys %v must match queries %v in length", k.Shape, q.Shape)
		}
		for i, c := range []*Node{kc, vc} {
			src := []*Node{k, v}[i]
			if len(c.Shape) != 4 || !c.Shape[0].Equal(q.Shape[0]) || !c.Shape[2].Equal(src.Shape[2]) || !c.Shape[3].Equal(src.Shape[3]) {
				return 0, nil, fmt.Errorf("cache %q %v does not match new rows %v", c.Name, c.Shape, src.Shape)
			}
			if !c.DType.Float() {
				return 0, nil, fmt.Errorf("cache %q dtype %v", c.Name, c.DType)
			}
		}
		skeys = at.Past.Add(q.Shape[1])
	} else if !at.Past.IsConst() || at.Past.c != 0 {
		if !at.Causal {
			return 0, nil, fmt.Errorf("attention past offset without a cache needs causal")
		}
	}
	if at.Masked {
		m := ins[3]
		if m.DType != q.DType {
			return 0, nil, fmt.Errorf("attention mask dtype %v, queries %v", m.DType, q.DType)
		}
		full := Shape{q.Shape[0], q.Shape[2], q.Shape[1], skeys}
		s, err := Broadcast(full, m.Shape)
		if err != nil || !s.Equal(full) || len(m.Shape) > 4 {
			return 0, nil, fmt.Errorf("attention mask %v does not broadcast to [batch, heads, seq, keys] = %v", m.Shape, full)
		}
	}
	return q.DType, Shape{q.Shape[0], q.Shape[1], q.Shape[2], v.Shape[3]}, nil
}

func inferConv(op Op, a any, ins []*Node) (tensor.DType, Shape, error) {
	at, _ := a.(*ConvAttr)
	sp := 1
	if op == OpConv2D {
		sp = 2
	}
	if at == nil || len(at.Stride) != sp || len(at.Dilation) != sp || len(at.PadLo) != sp || len(at.PadHi) != sp || at.Groups < 1 {
		return 0, nil, fmt.Errorf("%v needs stride, dilation and padding for %d spatial axes and groups >= 1", op, sp)
	}
	n := 2
	if at.HasBias {
		n = 3
	}
	if len(ins) != n {
		return 0, nil, fmt.Errorf("%v takes %d inputs, got %d", op, n, len(ins))
	}
	x, w := ins[0], ins[1]
	if len(x.Shape) != 2+sp || len(w.Shape) != 2+sp || !x.DType.Float() || !w.DType.Float() {
		return 0, nil, fmt.Errorf("%v of %v%v with weight %v%v: want float [B,C,spatial…] and [O,C/groups,kernel…]", op, x.DType, x.Shape, w.DType, w.Shape)
	}
	c, ok := x.Shape[1].Const()
	o, ok2 := w.Shape[0].Const()
	cg, ok3 := w.Shape[1].Const()
	if !ok || !ok2 || !ok3 || c%at.Groups != 0 || o%at.Groups != 0 || cg != c/at.Groups {
		return 0, nil, fmt.Errorf("%v channels: input %v, weight %v, groups %d", op, x.Shape, w.Shape, at.Groups)
	}
	if at.HasBias && (len(ins[2].Shape) != 1 || !ins[2].Shape[0].Equal(w.Shape[0])) {
		return 0, nil, fmt.Errorf("%v bias %v, want [%d]", op, ins[2].Shape, o)
	}
	out := Shape{x.Shape[0], w.Shape[0]}
	for i := range sp {
		kk, ok := w.Shape[2+i].Const()
		if !ok || at.Stride[i] < 1 || at.Dilation[i] < 1 || at.PadLo[i] < 0 || at.PadHi[i] < 0 {
			return 0, nil, fmt.Errorf("%v kernel/stride/dilation/padding invalid", op)
		}
		span := x.Shape[2+i].AddN(at.PadLo[i] + at.PadHi[i] - at.Dilation[i]*(kk-1) - 1)
		if v, ok := span.Const(); ok {
			if v < 0 {
				return 0, nil, fmt.Errorf("%v input %v shorter than the kernel", op, x.Shape)
			}
			out = append(out, N(v/at.Stride[i]+1))
			continue
		}
		q, ok := span.DivN(at.Stride[i])
		if !ok {
			return 0, nil, fmt.Errorf("%v with stride %d over symbolic length %v: output length is not exact", op, at.Stride[i], x.Shape[2+i])
		}
		out = append(out, q.AddN(1))
	}
	return x.DType, out, nil
}
