package compile

import (
	"fmt"
	"slices"
	"strings"

	"github.com/rlx-go/rlx/ir"
	"github.com/rlx-go/rlx/ir/interp"
	"github.com/rlx-go/rlx/tensor"
)

// graph is the mutable form the passes work on: a topologically ordered
// node list and the named outputs.
type graph struct {
	nodes   []*ir.Node
	outputs []ir.Output
	stats   *Stats
}

// cloneGraph copies every node so passes never mutate the caller's graph.
func cloneGraph(g *ir.Graph) *graph {
	m := make(map[*ir.Node]*ir.Node, len(g.Nodes))
	out := &graph{}
	for _, n := range g.Nodes {
		c := *n
		c.Inputs = make([]*ir.Node, len(n.Inputs))
		for i, in := range n.Inputs {
			c.Inputs[i] = m[in]
		}
		m[n] = &c
		out.nodes = append(out.nodes, &c)
	}
	for _, o := range g.Outputs {
		out.outputs = append(out.outputs, ir.Output{Name: o.Name, Node: m[o.Node]})
	}
	return out
}

func (g *graph) toIR() *ir.Graph {
	for i, n := range g.nodes {
		n.ID = i
	}
	return &ir.Graph{Nodes: slices.Clone(g.nodes), Outputs: slices.Clone(g.outputs)}
}

// replace redirects every use of old (inputs and outputs) to nw.
func (g *graph) replace(old, nw *ir.Node) {
	for _, n := range g.nodes {
		for i, in := range n.Inputs {
			if in == old {
				n.Inputs[i] = nw
			}
		}
	}
	for i := range g.outputs {
		if g.outputs[i].Node == old {
			g.outputs[i].Node = nw
		}
	}
}

// insertBefore places n just before at (keeping topological order when
// n's inputs precede at).
func (g *graph) insertBefore(at, n *ir.Node) {
	i := slices.Index(g.nodes, at)
	g.nodes = slices.Insert(g.nodes, i, n)
}

// uses counts the consumers of every node (outputs count as uses).
func (g *graph) uses() map[*ir.Node]int {
	u := make(map[*ir.Node]int, len(g.nodes))
	for _, n := range g.nodes {
		for _, in := range n.Inputs {
			u[in]++
		}
	}
	for _, o := range g.outputs {
		u[o.Node]++
	}
	return u
}

// sideEffect reports nodes that must run even when their value is unused.
func sideEffect(n *ir.Node) bool {
	if n.Op == ir.OpAssign {
		return true
	}
	if a, ok := n.Attr.(*ir.AttentionAttr); ok && a.Cached {
		return true
	}
	return false
}

// dce removes nodes that no output or side effect needs.
func (g *graph) dce() {
	live := map[*ir.Node]bool{}
	var mark func(n *ir.Node)
	mark = func(n *ir.Node) {
		if live[n] {
			return
		}
		live[n] = true
		for _, in := range n.Inputs {
			mark(in)
		}
	}
	for _, o := range g.outputs {
		mark(o.Node)
	}
	for _, n := range g.nodes {
		if sideEffect(n) {
			mark(n)
		}
	}
	kept := g.nodes[:0]
	for _, n := range g.nodes {
		if live[n] {
			kept = append(kept, n)
		} else {
			g.stats.Removed++
		}
	}
	g.nodes = kept
}

// cse merges nodes that compute the same thing from the same inputs.
func (g *graph) cse() {
	seen := map[string]*ir.Node{}
	for _, n := range g.nodes {
		switch n.Op {
		case ir.OpInput, ir.OpParam, ir.OpState, ir.OpAssign:
			continue
		}
		if sideEffect(n) {
			continue
		}
		var sb strings.Builder
		fmt.Fprintf(&sb, "%d|%v|%v|%s|", n.Op, n.DType, n.Shape, ir.AttrKey(n.Attr))
		ins := n.Inputs
		if commutative(n.Op) && fmt.Sprintf("%p", ins[0]) > fmt.Sprintf("%p", ins[1]) {
			ins = []*ir.Node{ins[1], ins[0]}
		}
		for _, in := range ins {
			fmt.Fprintf(&sb, "%p,", in)
		}
		k := sb.String()
		if prev, ok := seen[k]; ok {
			g.replace(n, prev)
			g.stats.CSE++
			continue
		}
		seen[k] = n
	}
}

// commutative ops compute the same from swapped inputs.
func commutative(op ir.Op) bool {
	switch op {
	case ir.OpAdd, ir.OpMul, ir.OpMax, ir.OpMin, ir.OpEqual, ir.OpNotEqual:
		return true
	}
	return false
}

// maxFold bounds the size of a constant the folder will materialise.
const maxFold = 1 << 16

// fold evaluates nodes whose inputs are all constants with the reference
// interpreter, replacing them by constants.
func (g *graph) fold() error {
	for _, n := range g.nodes {
		if n.Op.Kind() == ir.KindSource && n.Op != ir.OpRange || sideEffect(n) {
			continue
		}
		allConst := true
		for _, in := range n.Inputs {
			if in.Op != ir.OpConst {
				allConst = false
				break
			}
		}
		shape, err := n.Shape.Eval(nil)
		if !allConst || err != nil || tensor.NumElements(shape) > maxFold || n.DType.Quantized() {
			continue
		}
		if a, ok := n.Attr.(*ir.RangeAttr); ok && !a.Start.IsConst() {
			continue
		}
		if s, ok := n.Attr.(*ir.SliceAttr); ok && !s.Start.IsConst() {
			continue
		}
		ins := make([]*interp.Value, len(n.Inputs))
		for i, in := range n.Inputs {
			v, err := interp.FromTensor(in.Attr.(*ir.ConstAttr).Value)
			if err != nil {
				return err
			}
			ins[i] = v
		}
		v, err := interp.Eval(n, ins, nil)
		if err != nil {
			// Symbolic attributes or bad constants: leave it to run time,
			// which reports errors with the binding in hand.
			continue
		}
		// The reference computes in float64; store what the kernel would
		// produce in the node's dtype.
		t, err := v.Tensor()
		if err != nil {
			return err
		}
		n.Op, n.Inputs, n.Attr = ir.OpConst, nil, &ir.ConstAttr{Value: t}
		g.stats.Folded++
	}
	return nil
}

// ---- pattern recognition ----

func isConstScalar(n *ir.Node) (float64, bool) {
	if n.Op != ir.OpConst {
		return 0, false
	}
	t := n.Attr.(*ir.ConstAttr).Value
	if t.NumElements() != 1 {
		return 0, false
	}
	v, err := t.DType.LoadFloat64(t.Data, 0)
	return v, err == nil
}

func lastAxisReduce(n *ir.Node, op ir.Op) bool {
	a, ok := n.Attr.(*ir.ReduceAttr)
	return ok && n.Op == op && a.KeepDims && len(a.Axes) == 1 && a.Axes[0] == len(n.Shape)-1
}

// squareOf returns x when n is x², x·x or pow(x, 2).
func squareOf(n *ir.Node) *ir.Node {
	switch n.Op {
	case ir.OpSquare:
		return n.Inputs[0]
	case ir.OpMul:
		if n.Inputs[0] == n.Inputs[1] {
			return n.Inputs[0]
		}
	case ir.OpPow:
		if v, ok := isConstScalar(n.Inputs[1]); ok && v == 2 {
			return n.Inputs[0]
		}
	}
	return nil
}

// rmsScale matches 1/√(mean(x²)+eps) (as rsqrt, recip∘sqrt) and returns x
// and eps; sqrtOnly matches √(mean(x²)+eps) instead.
func rmsScale(n *ir.Node, sqrtOnly bool) (*ir.Node, float64) {
	var inner *ir.Node
	switch {
	case sqrtOnly && n.Op == ir.OpSqrt:
		inner = n.Inputs[0]
	case !sqrtOnly && n.Op == ir.OpRsqrt:
		inner = n.Inputs[0]
	case !sqrtOnly && n.Op == ir.OpRecip && n.Inputs[0].Op == ir.OpSqrt:
		inner = n.Inputs[0].Inputs[0]
	default:
		return nil, 0
	}
	if inner.Op != ir.OpAdd {
		return nil, 0
	}
	mean, epsN := inner.Inputs[0], inner.Inputs[1]
	if _, ok := isConstScalar(mean); ok {
		mean, epsN = epsN, mean
	}
	eps, ok := isConstScalar(epsN)
	if !ok || !lastAxisReduce(mean, ir.OpReduceMean) {
		return nil, 0
	}
	x := squareOf(mean.Inputs[0])
	return x, eps
}

// patterns rewrites hand-written norms and softmaxes into fused ops:
//
//	x·rsqrt(mean(x²)+eps) [·w]      → RMSNorm
//	x/sqrt(mean(x²)+eps)            → RMSNorm
//	exp(x-max(x)) / sum(exp(x-max)) → Softmax
//	RMSNorm(x)·w / LayerNorm(x)·w   → norm with weight
func (g *graph) patterns() {
	for _, n := range slices.Clone(g.nodes) {
		var x *ir.Node
		var eps float64
		switch n.Op {
		case ir.OpMul:
			for i := range 2 {
				if xx, e := rmsScale(n.Inputs[1-i], false); xx != nil && xx == n.Inputs[i] {
					x, eps = xx, e
				}
			}
		case ir.OpDiv:
			if xx, e := rmsScale(n.Inputs[1], true); xx != nil && xx == n.Inputs[0] {
				x, eps = xx, e
			}
			if sm := softmaxOf(n); sm != nil {
				nn := &ir.Node{Op: ir.OpSoftmax, Inputs: []*ir.Node{sm}, DType: n.DType, Shape: n.Shape,
					Attr: &ir.SoftmaxAttr{Axis: len(n.Shape) - 1, Scale: 1}, Name: n.Name}
				g.insertBefore(n, nn)
				g.replace(n, nn)
				g.stats.Patterns = append(g.stats.Patterns, "softmax")
				continue
			}
		}
		if x != nil && x.DType.Float() && n.Shape.Equal(x.Shape) {
			nn := &ir.Node{Op: ir.OpRMSNorm, Inputs: []*ir.Node{x}, DType: n.DType, Shape: n.Shape,
				Attr: &ir.NormAttr{Eps: eps}, Name: n.Name}
			g.insertBefore(n, nn)
			g.replace(n, nn)
			g.stats.Patterns = append(g.stats.Patterns, "rmsnorm")
		}
	}
	g.dce()
	for _, n := range slices.Clone(g.nodes) {
		if n.Op == ir.OpAdd {
			if nn := g.ropeTableOf(n); nn != nil {
				g.insertBefore(n, nn)
				g.replace(n, nn)
				g.stats.Patterns = append(g.stats.Patterns, "rope")
			}
		}
	}
	g.dce()
	for _, n := range slices.Clone(g.nodes) {
		if n.Op == ir.OpMatMul {
			if nn := g.attentionOf(n); nn != nil {
				g.replace(n, nn)
				g.stats.Patterns = append(g.stats.Patterns, "attention")
			}
		}
	}
	g.dce()
	g.cancelPermutes()
	// Absorb a following weight multiply into an unweighted norm.
	u := g.uses()
	for _, n := range slices.Clone(g.nodes) {
		if n.Op != ir.OpMul {
			continue
		}
		for i := range 2 {
			nm, w := n.Inputs[i], n.Inputs[1-i]
			a, ok := nm.Attr.(*ir.NormAttr)
			if !ok || a.HasWeight || a.HasBias || u[nm] != 1 || len(w.Shape) != 1 ||
				!w.Shape[0].Equal(nm.Shape[len(nm.Shape)-1]) || w.DType != nm.DType || !n.Shape.Equal(nm.Shape) {
				continue
			}
			na := *a
			na.HasWeight = true
			nn := &ir.Node{Op: nm.Op, Inputs: []*ir.Node{nm.Inputs[0], w}, DType: n.DType, Shape: n.Shape, Attr: &na, Name: n.Name}
			g.insertBefore(n, nn)
			g.replace(n, nn)
			g.stats.Patterns = append(g.stats.Patterns, "norm-weight")
			break
		}
	}
	g.dce()
}

// qkOf matches [scale·](q·kᵀ) over [batch, heads, seq, dim] operands,
// with the scale a constant multiplier or divisor, and kᵀ either a
// transposed-operand matmul or an explicit swap of the last two axes.
func qkOf(x *ir.Node, u map[*ir.Node]int) (q, k *ir.Node, scale float64, ok bool) {
	scale = 1
	if (x.Op == ir.OpMul || x.Op == ir.OpDiv) && u[x] == 1 {
		for i := range 2 {
			if x.Op == ir.OpDiv && i == 1 {
				break
			}
			if c, isC := isConstScalar(x.Inputs[1-i]); isC && c != 0 {
				if x.Op == ir.OpDiv {
					c = 1 / c
				}
				scale, x = c, x.Inputs[i]
				break
			}
		}
	}
	a, isMM := x.Attr.(*ir.MatMulAttr)
	if x.Op != ir.OpMatMul || !isMM || a.Add || a.TransA || u[x] != 1 || len(x.Shape) != 4 {
		return nil, nil, 0, false
	}
	q, k = x.Inputs[0], x.Inputs[1]
	if !a.TransB {
		pa, isP := k.Attr.(*ir.PermuteAttr)
		if k.Op != ir.OpPermute || !isP || !slices.Equal(pa.Perm, []int{0, 1, 3, 2}) {
			return nil, nil, 0, false
		}
		k = k.Inputs[0]
	}
	return q, k, scale, true
}

// attentionOf matches softmax(scale·q·kᵀ [+ mask])·v written with
// matmuls over [batch, heads, seq, dim] operands and returns the fused
// Attention (between permutes to its [batch, seq, heads, dim] layout), or
// nil.
func (g *graph) attentionOf(n *ir.Node) *ir.Node {
	a, _ := n.Attr.(*ir.MatMulAttr)
	if a == nil || a.TransA || a.TransB || a.Add || len(n.Shape) != 4 || n.DType != tensor.F32 {
		return nil
	}
	u := g.uses()
	p, v := n.Inputs[0], n.Inputs[1]
	sa, _ := p.Attr.(*ir.SoftmaxAttr)
	if p.Op != ir.OpSoftmax || sa == nil || sa.Axis != 3 || u[p] != 1 {
		return nil
	}
	var mask *ir.Node
	if sa.Masked {
		mask = p.Inputs[1]
	}
	s := p.Inputs[0]
	q, k, c, ok := qkOf(s, u)
	if !ok && s.Op == ir.OpAdd && mask == nil && sa.Scale == 1 && u[s] == 1 {
		for i := range 2 {
			if q, k, c, ok = qkOf(s.Inputs[i], u); ok {
				mask = s.Inputs[1-i]
				break
			}
		}
	}
	if !ok {
		return nil
	}
	perm := []int{0, 2, 1, 3}
	var added []*ir.Node
	mk := func(op ir.Op, attr any, ins ...*ir.Node) *ir.Node {
		if len(added) > 0 && added[len(added)-1] == nil {
			return nil
		}
		dt, shape, err := ir.Infer(op, attr, ins, 0, nil)
		if err != nil {
			added = append(added, nil)
			return nil
		}
		nn := &ir.Node{Op: op, Inputs: ins, DType: dt, Shape: shape, Attr: attr, Name: n.Name}
		added = append(added, nn)
		return nn
	}
	qt := mk(ir.OpPermute, &ir.PermuteAttr{Perm: perm}, q)
	kt := mk(ir.OpPermute, &ir.PermuteAttr{Perm: perm}, k)
	vt := mk(ir.OpPermute, &ir.PermuteAttr{Perm: perm}, v)
	if qt == nil || kt == nil || vt == nil {
		return nil
	}
	ins := []*ir.Node{qt, kt, vt}
	if mask != nil {
		ins = append(ins, mask)
	}
	at := mk(ir.OpAttention, &ir.AttentionAttr{Scale: c * sa.Scale, Masked: mask != nil, Past: ir.N(0)}, ins...)
	if at == nil {
		return nil
	}
	out := mk(ir.OpPermute, &ir.PermuteAttr{Perm: perm}, at)
	if out == nil || !out.Shape.Equal(n.Shape) {
		return nil
	}
	for _, nn := range added {
		g.insertBefore(n, nn)
	}
	return out
}

// rotateHalfOf returns x when n is concat(-x[…, h:], x[…, :h]) along the
// last axis of x (h half of it).
func rotateHalfOf(n *ir.Node) *ir.Node {
	a, ok := n.Attr.(*ir.AxisAttr)
	if n.Op != ir.OpConcat || !ok || len(n.Inputs) != 2 || a.Axis != len(n.Shape)-1 {
		return nil
	}
	neg, lo := n.Inputs[0], n.Inputs[1]
	if neg.Op != ir.OpNeg {
		return nil
	}
	hi := neg.Inputs[0]
	ha, ok1 := hi.Attr.(*ir.SliceAttr)
	la, ok2 := lo.Attr.(*ir.SliceAttr)
	if hi.Op != ir.OpSlice || lo.Op != ir.OpSlice || !ok1 || !ok2 || hi.Inputs[0] != lo.Inputs[0] {
		return nil
	}
	x := lo.Inputs[0]
	d, ok := x.Shape[len(x.Shape)-1].Const()
	if !ok || d%2 != 0 || ha.Axis != len(x.Shape)-1 || la.Axis != ha.Axis || ha.Step != 1 || la.Step != 1 {
		return nil
	}
	hs, _ := ha.Start.Const()
	ls, _ := la.Start.Const()
	if !ha.Start.IsConst() || !la.Start.IsConst() || hs != d/2 || ls != 0 ||
		!hi.Shape[ha.Axis].Equal(ir.N(d/2)) || !lo.Shape[la.Axis].Equal(ir.N(d/2)) {
		return nil
	}
	return x
}

// ropeTableOf matches x·cos + rotate_half(x)·sin (operands in any order)
// and returns the fused RoPETable node, or nil.
func (g *graph) ropeTableOf(n *ir.Node) *ir.Node {
	for i := range 2 {
		m1, m2 := n.Inputs[i], n.Inputs[1-i]
		if m1.Op != ir.OpMul || m2.Op != ir.OpMul {
			continue
		}
		for j := range 2 {
			rh, sin := m2.Inputs[j], m2.Inputs[1-j]
			x := rotateHalfOf(rh)
			if x == nil {
				continue
			}
			for k := range 2 {
				if m1.Inputs[k] != x {
					continue
				}
				cos := m1.Inputs[1-k]
				ins := []*ir.Node{x, cos, sin}
				dt, shape, err := ir.Infer(ir.OpRoPETable, nil, ins, 0, nil)
				if err != nil || !shape.Equal(n.Shape) {
					continue
				}
				return &ir.Node{Op: ir.OpRoPETable, Inputs: ins, DType: dt, Shape: shape, Name: n.Name}
			}
		}
	}
	return nil
}

// cancelPermutes removes pairs of permutes that undo each other.
func (g *graph) cancelPermutes() {
	for _, n := range g.nodes {
		outer, ok := n.Attr.(*ir.PermuteAttr)
		if n.Op != ir.OpPermute || !ok {
			continue
		}
		in := n.Inputs[0]
		inner, ok := in.Attr.(*ir.PermuteAttr)
		if in.Op != ir.OpPermute || !ok {
			continue
		}
		ident := true
		for i, p := range outer.Perm {
			ident = ident && inner.Perm[p] == i
		}
		if ident {
			g.replace(n, in.Inputs[0])
		}
	}
	g.dce()
}

// softmaxOf matches exp(x - max(x)) / sum(exp(x - max(x))) over the last
// axis and returns x.
func softmaxOf(div *ir.Node) *ir.Node {
	e, s := div.Inputs[0], div.Inputs[1]
	if e.Op != ir.OpExp || !lastAxisReduce(s, ir.OpReduceSum) || s.Inputs[0] != e {
		return nil
	}
	sub := e.Inputs[0]
	if sub.Op != ir.OpSub || !lastAxisReduce(sub.Inputs[1], ir.OpReduceMax) || sub.Inputs[1].Inputs[0] != sub.Inputs[0] {
		return nil
	}
	return sub.Inputs[0]
}

// swapsLast2 reports a permute that only swaps the last two axes.
func swapsLast2(n *ir.Node) bool {
	a, ok := n.Attr.(*ir.PermuteAttr)
	if n.Op != ir.OpPermute || !ok {
		return false
	}
	r := len(a.Perm)
	for i, p := range a.Perm {
		want := i
		if i == r-2 {
			want = r - 1
		} else if i == r-1 {
			want = r - 2
		}
		if p != want {
			return false
		}
	}
	return r >= 2
}

// lower replaces ops by the internal forms the kernels implement, after
// folding transposes of matmul operands into the matmul's flags and
// dropping casts of 16-bit weights to F32 (the matmul reads them as
// stored, exactly).
func (g *graph) lower() {
	for _, n := range g.nodes {
		a, ok := n.Attr.(*ir.MatMulAttr)
		if n.Op != ir.OpMatMul || !ok {
			continue
		}
		na := *a
		ins := slices.Clone(n.Inputs)
		if swapsLast2(ins[0]) {
			ins[0], na.TransA = ins[0].Inputs[0], !na.TransA
		}
		if swapsLast2(ins[1]) {
			ins[1], na.TransB = ins[1].Inputs[0], !na.TransB
		}
		if c := ins[1]; c.Op == ir.OpCast && c.DType == tensor.F32 && (c.Inputs[0].DType == tensor.F16 || c.Inputs[0].DType == tensor.BF16) {
			ins[1] = c.Inputs[0]
		}
		if _, _, err := ir.Infer(n.Op, &na, ins, 0, nil); err == nil {
			n.Inputs, n.Attr = ins, &na
		}
	}
	g.dce()
	for _, n := range g.nodes {
		if n.Op == ir.OpMatMul && n.Inputs[1].DType.Quantized() {
			n.Op = ir.OpDequantMatMul
		}
	}
}

// epilogue folds an addition into the matmul that produces one operand
// (a bias, or the residual stream): the backend initialises the output
// with the addend and accumulates the product into it, saving a pass over
// the result.
func (g *graph) epilogue() {
	u := g.uses()
	isOut := map[*ir.Node]bool{}
	for _, o := range g.outputs {
		isOut[o.Node] = true
	}
	for _, n := range slices.Clone(g.nodes) {
		if n.Op != ir.OpAdd || n.DType != tensor.F32 {
			continue
		}
		for i := range 2 {
			m, c := n.Inputs[i], n.Inputs[1-i]
			at, ok := m.Attr.(*ir.MatMulAttr)
			if !ok || at.Add || u[m] != 1 || isOut[m] || c == m || !n.Shape.Equal(m.Shape) {
				continue
			}
			na := *at
			na.Add = true
			nn := &ir.Node{Op: m.Op, Inputs: []*ir.Node{m.Inputs[0], m.Inputs[1], c}, DType: n.DType, Shape: n.Shape, Attr: &na, Name: n.Name}
			g.insertBefore(n, nn)
			g.replace(n, nn)
			u[m]--
			g.stats.Patterns = append(g.stats.Patterns, "matmul+add")
			break
		}
	}
	g.dce()
}

// fusable reports whether n can be part of a fused elementwise chain: an
// F32 result of a unary, binary or where op (casts into F32 included).
func fusable(n *ir.Node) bool {
	if n.DType != tensor.F32 {
		return false
	}
	switch n.Op.Kind() {
	case ir.KindUnary, ir.KindBinary:
		return true
	}
	return n.Op == ir.OpWhere || n.Op == ir.OpCast && !n.Inputs[0].DType.Quantized()
}

// fuse collapses chains of elementwise ops into single Fused nodes. A
// producer joins its consumer's chain when the consumer is its only user
// and it is not a graph output; a chain's inputs broadcast to its result.
func (g *graph) fuse() {
	u := g.uses()
	isOut := map[*ir.Node]bool{}
	for _, o := range g.outputs {
		isOut[o.Node] = true
	}
	done := map[*ir.Node]bool{}
	for i := len(g.nodes) - 1; i >= 0; i-- {
		root := g.nodes[i]
		if done[root] || !fusable(root) {
			continue
		}
		// Collect the chain: members in topological order.
		member := map[*ir.Node]bool{root: true}
		var grow func(n *ir.Node)
		grow = func(n *ir.Node) {
			for _, in := range n.Inputs {
				if !member[in] && fusable(in) && u[in] == 1 && !isOut[in] && !done[in] {
					member[in] = true
					grow(in)
				}
			}
		}
		grow(root)
		if len(member) < 2 {
			continue
		}
		var order []*ir.Node
		for _, n := range g.nodes {
			if member[n] {
				order = append(order, n)
			}
		}
		reg := map[*ir.Node]int{}
		var ext []*ir.Node
		for _, n := range order {
			for _, in := range n.Inputs {
				if _, ok := reg[in]; !ok && !member[in] {
					reg[in] = len(ext)
					ext = append(ext, in)
				}
			}
		}
		code := make([]ir.Instr, len(order))
		for j, n := range order {
			args := make([]int, len(n.Inputs))
			for k, in := range n.Inputs {
				args[k] = reg[in]
			}
			code[j] = ir.Instr{Op: n.Op, Args: args, DType: n.DType, Attr: n.Attr}
			reg[n] = len(ext) + j
		}
		for _, n := range order {
			done[n] = true
		}
		f := &ir.Node{Op: ir.OpFused, Inputs: ext, DType: root.DType, Shape: root.Shape,
			Attr: &ir.FusedAttr{Code: code, Inputs: len(ext)}, Name: root.Name}
		g.insertBefore(root, f)
		g.replace(root, f)
		g.stats.Fused = append(g.stats.Fused, len(order))
	}
	g.dce()
}
