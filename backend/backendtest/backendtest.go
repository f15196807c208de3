// Package backendtest is the conformance suite every backend runs: each op
// of the IR catalog, at awkward sizes (1, odd, prime, larger than L2),
// compiled for the backend and compared with the float64 reference
// interpreter, with fusion on and off.
package backendtest

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/rlx-go/rlx/backend"
	"github.com/rlx-go/rlx/compile"
	"github.com/rlx-go/rlx/ir"
	"github.com/rlx-go/rlx/ir/interp"
	"github.com/rlx-go/rlx/quant"
	"github.com/rlx-go/rlx/tensor"
)

// Step is one run of a case: inputs and symbol sizes.
type Step struct {
	Inputs map[string]*tensor.Tensor
	Dims   map[string]int
}

// Case is a graph with its weights and one or more runs through one
// session (state such as a KV cache carries over between steps).
type Case struct {
	Name   string
	Graph  *ir.Graph
	Params ir.MapParams
	Steps  []Step
	// Tol bounds the error of every output element e against the
	// reference r: |e-r| ≤ Tol·(|r| + rms(r)). Zero means exact.
	Tol float64
	// Atol is an absolute error allowed on top (for graphs whose outputs
	// can cancel to zero, where float32 leaves rounding noise that no
	// relative bound accepts).
	Atol float64
}

// Result is the worst error of a case over its outputs and steps.
type Result struct {
	MaxErr float64
	Output string
}

// Run compiles c for be with opt, runs every step in one session and
// compares each output with the reference interpreter.
func Run(ctx context.Context, be backend.Backend, c Case, opt compile.Options) (Result, error) {
	prog, err := compile.Compile(c.Graph, be, c.Params, opt)
	if err != nil {
		return Result{}, err
	}
	defer prog.Close()
	sess := prog.NewSession()
	defer sess.Close()
	ref, err := interp.New(c.Graph, c.Params)
	if err != nil {
		return Result{}, fmt.Errorf("reference: %w", err)
	}
	var res Result
	for si, st := range c.Steps {
		got, err := sess.Run(ctx, st.Inputs, st.Dims)
		if err != nil {
			return res, fmt.Errorf("step %d: %w", si, err)
		}
		want, err := ref.Run(ctx, st.Inputs, st.Dims)
		if err != nil {
			return res, fmt.Errorf("step %d: reference: %w", si, err)
		}
		for name, w := range want {
			g := got[name]
			e, err := CompareAbs(g, w, c.Atol)
			if err != nil {
				return res, fmt.Errorf("step %d output %q: %w", si, name, err)
			}
			if e > res.MaxErr || res.Output == "" {
				res.MaxErr, res.Output = max(e, res.MaxErr), name
			}
			if e > c.Tol {
				return res, fmt.Errorf("step %d output %q: error %.3g > tolerance %.3g", si, name, e, c.Tol)
			}
		}
	}
	return res, nil
}

// Compare returns max |g-r|/(|r|+rms(r)) over the elements.
func Compare(g *tensor.Tensor, r *interp.Value) (float64, error) { return CompareAbs(g, r, 0) }

// CompareAbs is Compare with atol subtracted from every absolute error.
func CompareAbs(g *tensor.Tensor, r *interp.Value, atol float64) (float64, error) {
	if g == nil {
		return 0, fmt.Errorf("missing")
	}
	if g.DType != r.DType && !(r.DType.Quantized() && g.DType == tensor.F32) {
		return 0, fmt.Errorf("dtype %v, reference %v", g.DType, r.DType)
	}
	if fmt.Sprint(g.Shape) != fmt.Sprint(r.Shape) {
		return 0, fmt.Errorf("shape %v, reference %v", g.Shape, r.Shape)
	}
	gv, err := g.Float64s()
	if err != nil {
		return 0, err
	}
	var ss float64
	for _, v := range r.Data {
		ss += v * v
	}
	rms := math.Sqrt(ss / float64(max(len(r.Data), 1)))
	var worst float64
	for i, v := range r.Data {
		d := max(math.Abs(gv[i]-v)-atol, 0)
		if math.IsNaN(gv[i]) != math.IsNaN(v) {
			return math.Inf(1), fmt.Errorf("element %d: got %v, reference %v", i, gv[i], v)
		}
		if d == 0 || math.IsNaN(v) {
			continue
		}
		e := d / (math.Abs(v) + rms + 1e-30)
		if math.IsInf(v, 0) && gv[i] == v {
			e = 0
		}
		worst = max(worst, e)
	}
	return worst, nil
}

// Suite runs every op case on be, with fusion on and off, and fails t on
// any mismatch. It logs the worst error per case.
func Suite(t *testing.T, be backend.Backend, seed uint64) {
	t.Helper()
	cases, err := OpCases(seed)
	if err != nil {
		t.Fatal(err)
	}
	covered := map[ir.Op]bool{}
	for _, c := range cases {
		for _, n := range c.Graph.Nodes {
			covered[n.Op] = true
		}
		for _, opt := range []compile.Options{{}, {NoFusion: true, NoPatterns: true, NoCSE: true, NoFold: true}} {
			name := c.Name
			if opt.NoFusion {
				name += "/unfused"
			}
			t.Run(name, func(t *testing.T) {
				res, err := Run(context.Background(), be, c, opt)
				if err != nil {
					t.Fatal(err)
				}
				t.Logf("max error %.3g (%s)", res.MaxErr, res.Output)
			})
		}
	}
	for _, op := range ir.AllOps() {
		switch op {
		case ir.OpFused, ir.OpDequantMatMul: // made by the compiler
			continue
		}
		if !covered[op] {
			t.Errorf("op %v has no conformance case", op)
		}
	}
}

// ---- case construction ----

type gen struct {
	rng   *rand.Rand
	cases []Case
	err   error
}

// F32 returns a random float32 tensor with values in [lo, hi).
func (g *gen) f32(lo, hi float64, shape ...int) *tensor.Tensor {
	v := make([]float32, tensor.NumElements(shape))
	for i := range v {
		v[i] = float32(lo + (hi-lo)*g.rng.Float64())
	}
	return tensor.FromF32(v, shape...)
}

func (g *gen) typed(dt tensor.DType, lo, hi float64, shape ...int) *tensor.Tensor {
	t, err := tensor.New(dt, shape...)
	if err != nil {
		panic(err)
	}
	if dt.Quantized() {
		src := g.f32(lo, hi, shape...)
		if err := quant.Quantize(dt, t.Data, src.F32()); err != nil {
			panic(err)
		}
		return t
	}
	for i := range t.NumElements() {
		v := lo + (hi-lo)*g.rng.Float64()
		if !dt.Float() {
			v = math.Floor(v)
		}
		if err := dt.StoreFloat64(t.Data, i, v); err != nil {
			panic(err)
		}
	}
	return t
}

// add builds a case with the given weights and steps.
func (g *gen) add(name string, tol float64, build func(b *ir.Builder), params ir.MapParams, steps ...Step) {
	b := ir.NewBuilder()
	build(b)
	gr, err := b.Build()
	if err != nil {
		if g.err == nil {
			g.err = fmt.Errorf("case %s: %w", name, err)
		}
		return
	}
	g.cases = append(g.cases, Case{Name: name, Graph: gr, Params: params, Steps: steps, Tol: tol})
}

func in(kv ...any) map[string]*tensor.Tensor {
	m := map[string]*tensor.Tensor{}
	for i := 0; i < len(kv); i += 2 {
		m[kv[i].(string)] = kv[i+1].(*tensor.Tensor)
	}
	return m
}

var (
	n1  = ir.N
	seq = ir.Sym("seq")
)

// Sizes are awkward on purpose: 1, odd, primes, and one larger than L2.
var sizes = []int{1, 7, 67}

const (
	exact = 0
	tolF  = 2e-6 // elementwise float32 (a few ulps)
	tolA  = 2e-5 // accumulations (matmul, attention, norms)
)

// OpCases builds the conformance cases for every op.
func OpCases(seed uint64) ([]Case, error) {
	g := &gen{rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
	unary := []struct {
		op     ir.Op
		lo, hi float64
		f      func(b *ir.Builder, x ir.Value) ir.Value
	}{
		{ir.OpNeg, -3, 3, (*ir.Builder).Neg}, {ir.OpAbs, -3, 3, (*ir.Builder).Abs}, {ir.OpExp, -10, 10, (*ir.Builder).Exp},
		{ir.OpLog, 0.01, 100, (*ir.Builder).Log}, {ir.OpSqrt, 0, 50, (*ir.Builder).Sqrt}, {ir.OpRsqrt, 0.01, 50, (*ir.Builder).Rsqrt},
		{ir.OpRecip, 0.1, 5, (*ir.Builder).Recip}, {ir.OpSquare, -3, 3, (*ir.Builder).Square}, {ir.OpTanh, -6, 6, (*ir.Builder).Tanh},
		{ir.OpSigmoid, -12, 12, (*ir.Builder).Sigmoid}, {ir.OpSilu, -12, 12, (*ir.Builder).Silu},
		{ir.OpGeluErf, -6, 6, (*ir.Builder).GeluErf}, {ir.OpGeluTanh, -6, 6, (*ir.Builder).GeluTanh},
		{ir.OpRelu, -3, 3, (*ir.Builder).Relu}, {ir.OpSin, -4, 4, (*ir.Builder).Sin}, {ir.OpCos, -4, 4, (*ir.Builder).Cos},
		{ir.OpErf, -4, 4, (*ir.Builder).Erf},
		{ir.OpSoftcap, -100, 100, func(b *ir.Builder, x ir.Value) ir.Value { return b.Softcap(x, 30) }},
	}
	for _, u := range unary {
		for _, n := range sizes {
			x := g.f32(u.lo, u.hi, 3, n)
			g.add(fmt.Sprintf("%v/%d", u.op, n), 1e-5, func(b *ir.Builder) {
				b.Output("y", u.f(b, b.Input("x", tensor.F32, n1(3), seq)))
			}, nil, Step{Inputs: in("x", x)})
		}
	}
	// One elementwise chain larger than L2 (2.4 MB per operand).
	big := g.f32(-4, 4, 600_001)
	g.add("chain/600001", 1e-5, func(b *ir.Builder) {
		x := b.Input("x", tensor.F32, seq)
		b.Output("y", b.Mul(b.Silu(x), b.AddScalar(b.Tanh(x), 0.5)))
	}, nil, Step{Inputs: in("x", big)})

	binary := []struct {
		op ir.Op
		f  func(b *ir.Builder, x, y ir.Value) ir.Value
	}{
		{ir.OpAdd, (*ir.Builder).Add}, {ir.OpSub, (*ir.Builder).Sub}, {ir.OpMul, (*ir.Builder).Mul},
		{ir.OpDiv, (*ir.Builder).Div}, {ir.OpPow, (*ir.Builder).Pow}, {ir.OpMax, (*ir.Builder).Max},
		{ir.OpMin, (*ir.Builder).Min},
		{ir.OpLess, (*ir.Builder).Less}, {ir.OpLessEq, (*ir.Builder).LessEq}, {ir.OpGreater, (*ir.Builder).Greater},
		{ir.OpGreaterEq, (*ir.Builder).GreaterEq}, {ir.OpEqual, (*ir.Builder).Equal}, {ir.OpNotEqual, (*ir.Builder).NotEqual},
	}
	for _, bo := range binary {
		for _, n := range sizes {
			lo := -3.0
			if bo.op == ir.OpPow || bo.op == ir.OpDiv {
				lo = 0.25
			}
			x, y, z := g.f32(lo, 3, 5, n), g.f32(lo, 3, n), g.f32(lo, 3, 5, 1)
			// Make a few elements equal so Equal/LessEq see ties.
			x.F32()[0] = y.F32()[0]
			tol := 1e-5
			if bo.op.Kind() == ir.KindCompare {
				tol = exact
			}
			g.add(fmt.Sprintf("%v/%d", bo.op, n), tol, func(b *ir.Builder) {
				xv := b.Input("x", tensor.F32, n1(5), seq)
				b.Output("row", bo.f(b, xv, b.Input("y", tensor.F32, seq)))
				b.Output("col", bo.f(b, b.Input("z", tensor.F32, n1(5), n1(1)), xv))
			}, nil, Step{Inputs: in("x", x, "y", y, "z", z)})
		}
	}
	for _, dt := range []tensor.DType{tensor.I32, tensor.I64} {
		a, c := g.typed(dt, -50, 50, 4, 9), g.typed(dt, 1, 20, 9)
		g.add(fmt.Sprintf("int/%v", dt), exact, func(b *ir.Builder) {
			x, y := b.Input("a", dt, n1(4), seq), b.Input("c", dt, seq)
			b.Output("add", b.Add(x, y))
			b.Output("mul", b.Mul(x, y))
			b.Output("div", b.Div(x, y))
			b.Output("max", b.Max(x, y))
			b.Output("lt", b.Less(x, y))
		}, nil, Step{Inputs: in("a", a, "c", c)})
	}
	{
		x, y := g.f32(-2, 2, 6, 11), g.f32(-2, 2, 6, 11)
		g.add("where", exact, func(b *ir.Builder) {
			xv, yv := b.Input("x", tensor.F32, n1(6), seq), b.Input("y", tensor.F32, n1(6), seq)
			b.Output("y", b.Where(b.Greater(xv, yv), xv, b.Scalar(-1, tensor.F32)))
			xi := b.Cast(xv, tensor.I32)
			b.Output("i", b.Where(b.Less(xv, yv), xi, b.Cast(yv, tensor.I32)))
		}, nil, Step{Inputs: in("x", x, "y", y)})
	}
	casts := [][2]tensor.DType{
		{tensor.F32, tensor.F16}, {tensor.F16, tensor.F32}, {tensor.F32, tensor.BF16}, {tensor.BF16, tensor.F32},
		{tensor.F32, tensor.I32}, {tensor.I32, tensor.F32}, {tensor.I32, tensor.I64}, {tensor.I64, tensor.I32},
		{tensor.F32, tensor.Bool}, {tensor.Bool, tensor.F32}, {tensor.F16, tensor.I64},
	}
	for _, c := range casts {
		x := g.typed(c[0], -100, 100, 3, 67)
		if c[0] == tensor.Bool {
			x = g.typed(c[0], 0, 2, 3, 67)
		}
		g.add(fmt.Sprintf("cast/%v-%v", c[0], c[1]), exact, func(b *ir.Builder) {
			b.Output("y", b.Cast(b.Input("x", c[0], n1(3), seq), c[1]))
		}, nil, Step{Inputs: in("x", x)})
	}
	// Matmuls: every transpose, weight types, batching and broadcasting.
	for _, m := range []int{1, 5, 33} {
		for _, k := range []int{1, 13, 64} {
			for _, tr := range [][2]bool{{false, false}, {false, true}, {true, false}, {true, true}} {
				n := 19
				ash := []int{m, k}
				if tr[0] {
					ash = []int{k, m}
				}
				wsh := []int{k, n}
				if tr[1] {
					wsh = []int{n, k}
				}
				for _, wdt := range []tensor.DType{tensor.F32, tensor.F16, tensor.BF16} {
					if wdt != tensor.F32 && (m != 5 || k != 13) {
						continue
					}
					a, w := g.f32(-1, 1, append([]int{2}, ash...)...), g.typed(wdt, -1, 1, wsh...)
					g.add(fmt.Sprintf("matmul/%dx%dx%d/t%v%v/%v", m, k, n, tr[0], tr[1], wdt), tolA, func(b *ir.Builder) {
						av := b.Input("a", tensor.F32, n1(2), n1(ash[0]), n1(ash[1]))
						b.Output("y", b.MatMulTrans(av, b.Param("w", wdt, n1(wsh[0]), n1(wsh[1])), tr[0], tr[1]))
					}, ir.MapParams{"w": w}, Step{Inputs: in("a", a)})
				}
			}
		}
	}
	{
		a, w := g.f32(-1, 1, 2, 1, 7, 11), g.f32(-1, 1, 3, 11, 5)
		g.add("matmul/broadcast-batch", tolA, func(b *ir.Builder) {
			b.Output("y", b.MatMul(b.Input("a", tensor.F32, n1(2), n1(1), seq, n1(11)), b.Input("w", tensor.F32, n1(3), n1(11), n1(5))))
		}, nil, Step{Inputs: in("a", a, "w", w)})
		x, wl := g.f32(-1, 1, 129, 256), g.f32(-1, 1, 384, 256)
		g.add("matmul/129x256x384", tolA, func(b *ir.Builder) {
			b.Output("y", b.Linear(b.Input("x", tensor.F32, seq, n1(256)), b.Param("w", tensor.F32, n1(384), n1(256)), b.Param("bias", tensor.F32, n1(384))))
		}, ir.MapParams{"w": wl, "bias": g.f32(-1, 1, 384)}, Step{Inputs: in("x", x)})
	}
	// Weights larger than L2 (4.5 MB f32, 2.2 MB f16), decode and prefill rows.
	for _, wdt := range []tensor.DType{tensor.F32, tensor.F16} {
		w := g.typed(wdt, -0.1, 0.1, 1100, 1024)
		for _, m := range []int{1, 8} {
			x := g.f32(-1, 1, m, 1024)
			g.add(fmt.Sprintf("matmul/large/%v/m%d", wdt, m), tolA, func(b *ir.Builder) {
				b.Output("y", b.Linear(b.Input("x", tensor.F32, seq, n1(1024)), b.Param("w", wdt, n1(1100), n1(1024)), ir.Value{}))
			}, ir.MapParams{"w": w}, Step{Inputs: in("x", x)})
		}
	}
	for _, qt := range []tensor.DType{tensor.Q8_0, tensor.Q4_0, tensor.Q4_K, tensor.Q6_K} {
		k := 256
		w := g.typed(qt, -1, 1, 37, k)
		for _, m := range []int{1, 9} {
			x := g.f32(-1, 1, m, k)
			g.add(fmt.Sprintf("dequant-matmul/%v/m%d", qt, m), 2e-2, func(b *ir.Builder) {
				b.Output("y", b.Linear(b.Input("x", tensor.F32, seq, n1(k)), b.Param("w", qt, n1(37), n1(k)), ir.Value{}))
			}, ir.MapParams{"w": w}, Step{Inputs: in("x", x)})
		}
	}
	// Softmax: last axis, scaled and masked, middle axis, a long row.
	for _, n := range []int{1, 7, 100_003} {
		x := g.f32(-8, 8, 3, n)
		mask := g.f32(-4, 0, 1, n)
		g.add(fmt.Sprintf("softmax/%d", n), 1e-5, func(b *ir.Builder) {
			xv := b.Input("x", tensor.F32, n1(3), seq)
			b.Output("plain", b.Softmax(xv, -1))
			b.Output("masked", b.SoftmaxWith(xv, -1, ir.SoftmaxOptions{Scale: 0.7, Mask: b.Input("m", tensor.F32, n1(1), seq)}))
			b.Output("axis0", b.Softmax(xv, 0))
		}, nil, Step{Inputs: in("x", x, "m", mask)})
	}
	for _, d := range []int{1, 7, 257} {
		x := g.f32(-3, 3, 2, 5, d)
		ps := ir.MapParams{"w": g.f32(-1, 1, d), "b": g.f32(-1, 1, d), "w16": g.typed(tensor.F16, -1, 1, d)}
		g.add(fmt.Sprintf("norms/%d", d), tolA, func(b *ir.Builder) {
			xv := b.Input("x", tensor.F32, n1(2), seq, n1(d))
			w, bias := b.Param("w", tensor.F32, n1(d)), b.Param("b", tensor.F32, n1(d))
			b.Output("ln", b.LayerNorm(xv, w, bias, 1e-5))
			b.Output("ln0", b.LayerNorm(xv, ir.Value{}, ir.Value{}, 1e-5))
			b.Output("rms", b.RMSNorm(xv, w, 1e-6))
			b.Output("rms1p", b.RMSNormPlusOne(xv, b.Param("w16", tensor.F16, n1(d)), 1e-6))
			b.Output("rms0", b.RMSNorm(xv, ir.Value{}, 1e-6))
		}, ps, Step{Inputs: in("x", x)})
	}
	// RoPE: both layouts, partial rotary, per-batch positions, a scale.
	for _, c := range []struct {
		layout ir.RoPELayout
		d, r   int
		perB   bool
	}{{ir.RoPESplitHalf, 8, 8, false}, {ir.RoPEInterleaved, 8, 8, true}, {ir.RoPESplitHalf, 10, 4, true}, {ir.RoPEInterleaved, 64, 32, false}} {
		T := 7
		x := g.f32(-2, 2, 2, T, 3, c.d)
		inv := make([]float32, c.r/2)
		for i := range inv {
			inv[i] = float32(math.Pow(10000, -2*float64(i)/float64(c.r)))
		}
		var pos *tensor.Tensor
		if c.perB {
			pos = g.typed(tensor.I64, 0, 4000, 2, T)
		} else {
			pos = g.typed(tensor.I32, 0, 4000, T)
		}
		// Angles are position·frequency rounded to float32 (as Hugging Face
		// computes them), so at positions up to 4000 the angle carries an
		// absolute error up to 4000·2⁻²⁴ ≈ 2.4e-4 that the float64
		// reference does not have.
		g.add(fmt.Sprintf("rope/%v/d%d/r%d", c.layout, c.d, c.r), 5e-4, func(b *ir.Builder) {
			xv := b.Input("x", tensor.F32, n1(2), seq, n1(3), n1(c.d))
			var pv ir.Value
			if c.perB {
				pv = b.Input("pos", pos.DType, n1(2), seq)
			} else {
				pv = b.Input("pos", pos.DType, seq)
			}
			b.Output("y", b.RoPE(xv, pv, b.Param("inv", tensor.F32, n1(c.r/2)), ir.RoPEAttr{Layout: c.layout, RotaryDim: c.r, Scale: 1.25}))
		}, ir.MapParams{"inv": tensor.FromF32(inv, c.r/2)}, Step{Inputs: in("x", x, "pos", pos)})
	}
	for _, cols := range []int{1, 8, 67} {
		x := g.f32(-2, 2, 3, cols)
		x.F32()[1] = x.F32()[0] // a tie
		k := min(cols, 5)
		g.add(fmt.Sprintf("topk/%d", cols), exact, func(b *ir.Builder) {
			v, i := b.TopK(b.Input("x", tensor.F32, n1(3), n1(cols)), k)
			b.Output("v", v)
			b.Output("i", i)
		}, nil, Step{Inputs: in("x", x)})
	}
	g.moeCases()
	{
		x := g.f32(-2, 2, 2, 3, 7, 8)
		cos, sin := g.f32(-1, 1, 7, 8), g.f32(-1, 1, 2, 1, 7, 8)
		g.add("rope-table", 1e-6, func(b *ir.Builder) {
			b.Output("y", b.RoPETable(b.Input("x", tensor.F32, n1(2), n1(3), seq, n1(8)), b.Input("cos", tensor.F32, seq, n1(8)),
				b.Input("sin", tensor.F32, n1(2), n1(1), seq, n1(8))))
		}, nil, Step{Inputs: in("x", x, "cos", cos, "sin", sin)})
	}
	g.attentionCases()
	g.perRowCases()
	g.movementCases()
	if g.err != nil {
		return nil, g.err
	}
	return g.cases, nil
}

// moeCases route tokens Qwen3-MoE style (softmax, top-k, renormalise)
// into experts with float and quantized weights.
func (g *gen) moeCases() {
	const E, F, D, k = 6, 32, 64, 2
	for _, dt := range []tensor.DType{tensor.F32, tensor.F16, tensor.Q8_0} {
		for _, T := range []int{1, 11} {
			ps := ir.MapParams{"router": g.f32(-1, 1, E, D), "gate": g.typed(dt, -0.3, 0.3, E, F, D),
				"up": g.typed(dt, -0.3, 0.3, E, F, D), "down": g.typed(dt, -0.3, 0.3, E, D, F)}
			tol := tolA
			if dt.Quantized() {
				// Activations are quantized to 8 bits for the integer dots, twice
				// in a row (gate/up, then down): errors of a few percent.
				tol = 6e-2
			}
			g.add(fmt.Sprintf("moe/%v/t%d", dt, T), tol, func(b *ir.Builder) {
				x := b.Input("x", tensor.F32, seq, n1(D))
				probs := b.Softmax(b.Linear(x, b.Param("router", tensor.F32, n1(E), n1(D)), ir.Value{}), -1)
				top, _ := b.TopK(probs, k)
				kth := b.Slice(top, -1, n1(k-1), n1(k))
				sel := b.Where(b.GreaterEq(probs, kth), probs, b.Scalar(0, tensor.F32))
				route := b.Div(sel, b.ReduceSum(sel, true, -1))
				b.Output("y", b.MoE(x, route, b.Param("gate", dt, n1(E), n1(F), n1(D)), b.Param("up", dt, n1(E), n1(F), n1(D)),
					b.Param("down", dt, n1(E), n1(D), n1(F)), ir.OpSilu))
			}, ps, Step{Inputs: in("x", g.f32(-1, 1, T, D))})
		}
	}
	// Per-expert weights (the Hugging Face layout), batch×seq tokens.
	ps := ir.MapParams{"router": g.f32(-1, 1, E, D)}
	for e := range E {
		ps[fmt.Sprintf("g%d", e)] = g.typed(tensor.BF16, -0.3, 0.3, F, D)
		ps[fmt.Sprintf("u%d", e)] = g.typed(tensor.BF16, -0.3, 0.3, F, D)
		ps[fmt.Sprintf("d%d", e)] = g.typed(tensor.BF16, -0.3, 0.3, D, F)
	}
	g.add("moe/per-expert/BF16", tolA, func(b *ir.Builder) {
		x := b.Reshape(b.Input("x", tensor.F32, n1(2), seq, n1(D)), n1(2).Mul(seq), n1(D))
		probs := b.Softmax(b.Linear(x, b.Param("router", tensor.F32, n1(E), n1(D)), ir.Value{}), -1)
		top, _ := b.TopK(probs, k)
		route := b.Where(b.GreaterEq(probs, b.Slice(top, -1, n1(k-1), n1(k))), probs, b.Scalar(0, tensor.F32))
		var gs, us, ds []ir.Value
		for e := range E {
			gs = append(gs, b.Param(fmt.Sprintf("g%d", e), tensor.BF16, n1(F), n1(D)))
			us = append(us, b.Param(fmt.Sprintf("u%d", e), tensor.BF16, n1(F), n1(D)))
			ds = append(ds, b.Param(fmt.Sprintf("d%d", e), tensor.BF16, n1(D), n1(F)))
		}
		y := b.MoEExperts(x, route, gs, us, ds, ir.OpGeluTanh)
		b.Output("y", b.Reshape(y, n1(2), seq, n1(D)))
	}, ps, Step{Inputs: in("x", g.f32(-1, 1, 2, 5, D))})
}

func (g *gen) attentionCases() {
	type ac struct {
		hq, hkv, d, t  int
		causal, masked bool
		window         int
		softcap        float64
	}
	for _, c := range []ac{
		{4, 4, 8, 1, true, false, 0, 0}, {4, 2, 16, 13, true, false, 0, 0}, {6, 1, 8, 67, true, false, 0, 0},
		{2, 2, 8, 9, false, true, 0, 0}, {4, 2, 8, 70, true, false, 5, 0}, {2, 1, 8, 11, true, true, 3, 20},
	} {
		B := 2
		q, k, v := g.f32(-1, 1, B, c.t, c.hq, c.d), g.f32(-1, 1, B, c.t, c.hkv, c.d), g.f32(-1, 1, B, c.t, c.hkv, c.d)
		inputs := in("q", q, "k", k, "v", v)
		if c.masked {
			inputs["mask"] = g.f32(-3, 0, B, 1, c.t, c.t)
		}
		g.add(fmt.Sprintf("attention/h%d-%d/d%d/t%d/c%v/m%v/w%d/s%g", c.hq, c.hkv, c.d, c.t, c.causal, c.masked, c.window, c.softcap), tolA, func(b *ir.Builder) {
			o := ir.AttentionOptions{Causal: c.causal, Window: c.window, Softcap: c.softcap}
			if c.masked {
				o.Mask = b.Input("mask", tensor.F32, n1(B), n1(1), seq, seq)
			}
			b.Output("o", b.Attention(b.Input("q", tensor.F32, n1(B), seq, n1(c.hq), n1(c.d)),
				b.Input("k", tensor.F32, n1(B), seq, n1(c.hkv), n1(c.d)), b.Input("v", tensor.F32, n1(B), seq, n1(c.hkv), n1(c.d)), o))
		}, nil, Step{Inputs: inputs})
	}
	// Cached attention: a prefill and three decode steps through one
	// session, with F32 and F16 caches, GQA, a window and a mask.
	for _, dt := range []tensor.DType{tensor.F32, tensor.F16} {
		for _, window := range []int{0, 4} {
			B, hq, hkv, d, maxSeq := 2, 4, 2, 8, 32
			past := ir.Sym("past")
			var steps []Step
			p := 0
			for _, t := range []int{9, 1, 1, 3} {
				steps = append(steps, Step{
					Inputs: in("q", g.f32(-1, 1, B, t, hq, d), "k", g.f32(-1, 1, B, t, hkv, d), "v", g.f32(-1, 1, B, t, hkv, d),
						"mask", g.f32(-2, 0, B, 1, 1, p+t)),
					Dims: map[string]int{"past": p},
				})
				p += t
			}
			g.add(fmt.Sprintf("attention/cached/%v/w%d", dt, window), 1e-4, func(b *ir.Builder) {
				cache := b.KVCache("l0", dt, n1(B), n1(maxSeq), hkv, d)
				b.Output("o", b.Attention(b.Input("q", tensor.F32, n1(B), seq, n1(hq), n1(d)),
					b.Input("k", tensor.F32, n1(B), seq, n1(hkv), n1(d)), b.Input("v", tensor.F32, n1(B), seq, n1(hkv), n1(d)),
					ir.AttentionOptions{Causal: true, Window: window, Cache: &cache, Past: past,
						Mask: b.Input("mask", tensor.F32, n1(B), n1(1), n1(1), past.Add(seq))}))
			}, nil, steps...)
		}
	}
}

// perRowCases run a batch whose rows sit at different positions of their
// caches (continuous batching).
func (g *gen) perRowCases() {
	for _, dt := range []tensor.DType{tensor.F32, tensor.F16} {
		B, hq, hkv, d, maxSeq := 3, 4, 2, 8, 16
		var steps []Step
		for _, st := range []struct {
			t    int
			past []int32
		}{{4, []int32{0, 0, 0}}, {1, []int32{4, 2, 3}}, {2, []int32{5, 3, 9}}} {
			steps = append(steps, Step{Inputs: in("q", g.f32(-1, 1, B, st.t, hq, d), "k", g.f32(-1, 1, B, st.t, hkv, d),
				"v", g.f32(-1, 1, B, st.t, hkv, d), "past", tensor.FromI32(st.past, B))})
		}
		g.add(fmt.Sprintf("attention/per-row/%v", dt), 1e-4, func(b *ir.Builder) {
			cache := b.KVCache("l0", dt, n1(B), n1(maxSeq), hkv, d)
			b.Output("o", b.Attention(b.Input("q", tensor.F32, n1(B), seq, n1(hq), n1(d)),
				b.Input("k", tensor.F32, n1(B), seq, n1(hkv), n1(d)), b.Input("v", tensor.F32, n1(B), seq, n1(hkv), n1(d)),
				ir.AttentionOptions{Causal: true, Window: 3, Cache: &cache, PastRows: b.Input("past", tensor.I32, n1(B))}))
		}, nil, steps...)
	}
}

func (g *gen) movementCases() {
	for _, dt := range []tensor.DType{tensor.F32, tensor.F16, tensor.BF16, tensor.I32, tensor.Q8_0, tensor.Q4_K} {
		d := 16
		if dt.Quantized() {
			d = 256
		}
		table := g.typed(dt, -2, 2, 97, d)
		if dt == tensor.I32 {
			table = g.typed(dt, -1000, 1000, 97, d)
		}
		ids := g.typed(tensor.I32, 0, 97, 3, 5)
		ids64 := g.typed(tensor.I64, 0, 97, 4)
		tol := float64(exact)
		if dt.Quantized() {
			tol = 1e-6
		}
		g.add(fmt.Sprintf("gather/%v", dt), tol, func(b *ir.Builder) {
			t := b.Param("table", dt, n1(97), n1(d))
			b.Output("a", b.Gather(t, b.Input("ids", tensor.I32, n1(3), seq)))
			b.Output("b", b.Gather(t, b.Input("ids64", tensor.I64, n1(4))))
		}, ir.MapParams{"table": table}, Step{Inputs: in("ids", ids, "ids64", ids64)})
	}
	{
		a, c := g.f32(-1, 1, 2, 3, 4), g.f32(-1, 1, 2, 5, 4)
		g.add("concat-slice-reshape", exact, func(b *ir.Builder) {
			av, cv := b.Input("a", tensor.F32, n1(2), seq, n1(4)), b.Input("c", tensor.F32, n1(2), n1(5), n1(4))
			cat := b.Concat(1, av, cv)
			b.Output("cat1", cat)
			b.Output("cat0", b.Concat(0, av, av))
			b.Output("cat2", b.Concat(-1, av, av, av))
			b.Output("slice", b.Slice(cat, 1, n1(2), seq.AddN(3)))
			b.Output("step", b.SliceStep(cv, 1, 1, 5, 2))
			b.Output("reshape", b.Reshape(cat, n1(-1), n1(2)))
		}, nil, Step{Inputs: in("a", a, "c", c)})
	}
	{
		// A slice whose start moves while every shape stays the same (a
		// window at the decode position): plans cached by shape must not
		// reuse the old position.
		var steps []Step
		x := g.f32(-1, 1, 9, 3)
		for _, p := range []int{0, 3, 7, 3} {
			steps = append(steps, Step{Inputs: in("x", x), Dims: map[string]int{"past": p}})
		}
		past := ir.Sym("past")
		g.add("slice/moving-start", exact, func(b *ir.Builder) {
			xv := b.Input("x", tensor.F32, n1(9), n1(3))
			b.Output("rows", b.Slice(xv, 0, past, past.AddN(2)))
			b.Output("cols", b.Slice(b.Reshape(xv, n1(1), n1(27)), 1, past, past.AddN(4)))
		}, nil, steps...)
	}
	for _, perm := range [][]int{{0, 2, 1, 3}, {3, 2, 1, 0}, {1, 0, 2, 3}, {0, 1, 3, 2}} {
		x := g.typed(tensor.F16, -2, 2, 2, 7, 3, 5)
		g.add(fmt.Sprintf("permute/%v", perm), exact, func(b *ir.Builder) {
			b.Output("y", b.Permute(b.Input("x", tensor.F16, n1(2), seq, n1(3), n1(5)), perm...))
		}, nil, Step{Inputs: in("x", x)})
	}
	{
		x := g.f32(-2, 2, 3, 1)
		g.add("expand", exact, func(b *ir.Builder) {
			b.Output("y", b.Expand(b.Input("x", tensor.F32, n1(3), n1(1)), n1(2), n1(3), seq))
		}, nil, Step{Inputs: in("x", x), Dims: map[string]int{"seq": 7}})
	}
	for _, mode := range []ir.PadMode{ir.PadConstant, ir.PadReflect, ir.PadEdge} {
		x := g.f32(-2, 2, 2, 3, 9)
		g.add(fmt.Sprintf("pad/%d", mode), exact, func(b *ir.Builder) {
			xv := b.Input("x", tensor.F32, n1(2), n1(3), n1(9))
			b.Output("y", b.Pad(xv, []int{0, 1, 4}, []int{1, 0, 2}, mode, 1.5))
			b.Output("last", b.Pad(xv, []int{0, 0, 8}, []int{0, 0, 5}, mode, -2))
		}, nil, Step{Inputs: in("x", x)})
	}
	for _, axes := range [][]int{{0}, {1}, {2}, {0, 2}, {1, 2}} {
		x := g.f32(-2, 2, 3, 7, 67)
		g.add(fmt.Sprintf("reduce/%v", axes), tolA, func(b *ir.Builder) {
			xv := b.Input("x", tensor.F32, n1(3), seq, n1(67))
			b.Output("sum", b.ReduceSum(xv, false, axes...))
			b.Output("mean", b.ReduceMean(xv, true, axes...))
			b.Output("max", b.ReduceMax(xv, false, axes...))
			b.Output("argmax", b.ArgMax(xv, axes[0], false))
		}, nil, Step{Inputs: in("x", x)})
	}
	for _, c := range []struct{ cin, cout, k, stride, pad, dil, groups, l int }{
		{1, 1, 1, 1, 0, 1, 1, 1}, {3, 5, 3, 1, 1, 1, 1, 17}, {4, 6, 5, 2, 2, 1, 2, 31}, {2, 3, 3, 3, 0, 2, 1, 64}, {4, 4, 3, 1, 1, 1, 4, 9},
	} {
		x := g.f32(-1, 1, 2, c.cin, c.l)
		ps := ir.MapParams{"w": g.f32(-1, 1, c.cout, c.cin/c.groups, c.k), "b": g.f32(-1, 1, c.cout)}
		g.add(fmt.Sprintf("conv1d/%+v", c), tolA, func(b *ir.Builder) {
			b.Output("y", b.Conv1D(b.Input("x", tensor.F32, n1(2), n1(c.cin), n1(c.l)), b.Param("w", tensor.F32, n1(c.cout), n1(c.cin/c.groups), n1(c.k)),
				b.Param("b", tensor.F32, n1(c.cout)), ir.ConvOptions{Stride: []int{c.stride}, Pad: []int{c.pad}, Dilation: []int{c.dil}, Groups: c.groups}))
		}, ps, Step{Inputs: in("x", x)})
	}
	{
		x := g.f32(-1, 1, 1, 3, 11, 9)
		ps := ir.MapParams{"w": g.f32(-1, 1, 4, 3, 3, 2)}
		g.add("conv2d", tolA, func(b *ir.Builder) {
			b.Output("y", b.Conv2D(b.Input("x", tensor.F32, n1(1), n1(3), n1(11), n1(9)), b.Param("w", tensor.F32, n1(4), n1(3), n1(3), n1(2)),
				ir.Value{}, ir.ConvOptions{Stride: []int{2, 1}, PadLo: []int{1, 0}, PadHi: []int{0, 1}, Dilation: []int{1, 2}}))
		}, ps, Step{Inputs: in("x", x)})
	}
	{
		past := ir.Sym("past")
		g.add("range", exact, func(b *ir.Builder) {
			b.Output("i32", b.Range(past, seq, tensor.I32))
			b.Output("i64", b.Range(past.AddN(3), seq, tensor.I64))
			b.Output("f32", b.Range(n1(2), n1(5), tensor.F32))
		}, nil, Step{Dims: map[string]int{"past": 11, "seq": 6}})
	}
	{
		// Recurrent state: s ← s·0.5 + x, three steps.
		var steps []Step
		for range 3 {
			steps = append(steps, Step{Inputs: in("x", g.f32(-1, 1, 2, 5))})
		}
		g.add("state-assign", 1e-6, func(b *ir.Builder) {
			s := b.State("s", tensor.F32, n1(2), n1(5))
			nxt := b.Add(b.Scale(s, 0.5), b.Input("x", tensor.F32, n1(2), n1(5)))
			b.Assign(s, nxt)
			b.Output("prev", b.Reshape(s, n1(10)))
			b.Output("next", nxt)
		}, nil, steps...)
	}
}
