package compile_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/rlx-go/rlx/backend/backendtest"
	"github.com/rlx-go/rlx/backend/cpu"
	"github.com/rlx-go/rlx/compile"
	"github.com/rlx-go/rlx/ir"
	"github.com/rlx-go/rlx/ir/interp"
	"github.com/rlx-go/rlx/quant"
	"github.com/rlx-go/rlx/tensor"
)

var (
	seq  = ir.Sym("seq")
	past = ir.Sym("past")
	n    = ir.N
)

func randF32(r *rand.Rand, lo, hi float64, shape ...int) *tensor.Tensor {
	v := make([]float32, tensor.NumElements(shape))
	for i := range v {
		v[i] = float32(lo + (hi-lo)*r.Float64())
	}
	return tensor.FromF32(v, shape...)
}

func mustBuild(t *testing.T, f func(b *ir.Builder)) *ir.Graph {
	t.Helper()
	b := ir.NewBuilder()
	f(b)
	g, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func check(t *testing.T, c backendtest.Case, opt compile.Options) {
	t.Helper()
	res, err := backendtest.Run(context.Background(), cpu.New(cpu.Options{Poison: true}), c, opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s: max error %.3g", c.Name, res.MaxErr)
}

// A hand-written RMSNorm (as an ONNX export spells it) and a hand-written
// softmax become the fused kernels, with the same results.
func TestPatterns(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	d := 37
	g := mustBuild(t, func(b *ir.Builder) {
		x := b.Input("x", tensor.F32, seq, n(d))
		w := b.Param("w", tensor.F32, n(d))
		ms := b.ReduceMean(b.Pow(x, b.Scalar(2, tensor.F32)), true, -1)
		y := b.Mul(b.Mul(x, b.Rsqrt(b.AddScalar(ms, 1e-6))), w)
		b.Output("rms", y)
		// Second spelling: x / sqrt(mean(x·x) + eps).
		ms2 := b.ReduceMean(b.Mul(x, x), true, -1)
		b.Output("rms2", b.Div(x, b.Sqrt(b.AddScalar(ms2, 1e-5))))
		e := b.Exp(b.Sub(x, b.ReduceMax(x, true, -1)))
		b.Output("softmax", b.Div(e, b.ReduceSum(e, true, -1)))
	})
	p, err := compile.Compile(g, cpu.New(cpu.Options{}), ir.MapParams{"w": randF32(r, -1, 1, d)}, compile.Options{})
	if err != nil {
		t.Fatal(err)
	}
	st := p.Stats()
	for _, want := range []string{"rmsnorm", "softmax", "norm-weight"} {
		if !slices.Contains(st.Patterns, want) {
			t.Errorf("pattern %s not recognised: %v", want, st.Patterns)
		}
	}
	ops := map[ir.Op]int{}
	for _, nd := range p.Graph().Nodes {
		ops[nd.Op]++
	}
	if ops[ir.OpRMSNorm] != 2 || ops[ir.OpSoftmax] != 1 || ops[ir.OpReduceMean] != 0 || ops[ir.OpExp] != 0 {
		t.Errorf("after passes: %v\n%s", ops, p.Graph().Dump())
	}
	check(t, backendtest.Case{Name: "patterns", Graph: g, Params: ir.MapParams{"w": randF32(r, -1, 1, d)},
		Steps: []backendtest.Step{{Inputs: map[string]*tensor.Tensor{"x": randF32(r, -3, 3, 5, d)}}}, Tol: 1e-5}, compile.Options{})
}

// Fusion collapses elementwise chains, and a fused chain computes exactly
// what the unfused ops compute (same float32 kernels, same order).
func TestFusionBitExact(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	g := mustBuild(t, func(b *ir.Builder) {
		x := b.Input("x", tensor.F32, seq, n(33))
		bias := b.Param("bias", tensor.F32, n(33))
		h := b.GeluTanh(b.Add(x, bias))
		y := b.Mul(b.Sigmoid(h), b.Softcap(b.Scale(x, 3), 5))
		z := b.Where(b.Greater(x, b.Scalar(0, tensor.F32)), y, b.Neg(y))
		b.Output("z", b.Sub(z, b.Cast(b.Cast(x, tensor.I32), tensor.F32)))
	})
	params := ir.MapParams{"bias": randF32(r, -1, 1, 33)}
	in := map[string]*tensor.Tensor{"x": randF32(r, -4, 4, 1001, 33)}
	be := cpu.New(cpu.Options{})
	fused, err := compile.Compile(g, be, params, compile.Options{})
	if err != nil {
		t.Fatal(err)
	}
	plain, err := compile.Compile(g, be, params, compile.Options{NoFusion: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(fused.Stats().Fused) == 0 || len(fused.Graph().Nodes) >= len(plain.Graph().Nodes) {
		t.Fatalf("nothing fused: %v\n%s", fused.Stats(), fused.Graph().Dump())
	}
	a, err := fused.Run(context.Background(), in, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := plain.Run(context.Background(), in, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a["z"].Data, b["z"].Data) {
		t.Fatal("fused and unfused results differ")
	}
	check(t, backendtest.Case{Name: "fusion", Graph: g, Params: params, Steps: []backendtest.Step{{Inputs: in}}, Tol: 1e-5}, compile.Options{})
}

func TestFoldCSEDCE(t *testing.T) {
	g := mustBuild(t, func(b *ir.Builder) {
		x := b.Input("x", tensor.F32, seq, n(4))
		c := b.Exp(b.ConstF32([]float32{0, 1, 2, 3}, 4)) // folds
		a1 := b.Add(x, c)
		a2 := b.Add(c, x) // CSE with a1 (commuted)
		b.Tanh(x)         // dead
		b.Output("y", b.Mul(a1, a2))
	})
	p, err := compile.Compile(g, cpu.New(cpu.Options{}), nil, compile.Options{NoFusion: true})
	if err != nil {
		t.Fatal(err)
	}
	st := p.Stats()
	if st.Folded < 1 || st.CSE < 1 || st.Removed < 1 {
		t.Fatalf("stats %+v\n%s", st, p.Graph().Dump())
	}
	for _, nd := range p.Graph().Nodes {
		if nd.Op == ir.OpTanh || nd.Op == ir.OpExp {
			t.Fatalf("%v survived:\n%s", nd.Op, p.Graph().Dump())
		}
	}
	x := randF32(rand.New(rand.NewPCG(5, 6)), -1, 1, 3, 4)
	check(t, backendtest.Case{Name: "fold", Graph: g, Steps: []backendtest.Step{{Inputs: map[string]*tensor.Tensor{"x": x}}}, Tol: 1e-6}, compile.Options{})
}

// One compiled program serves every sequence length; plans are cached per
// binding and reused.
func TestDynamicShapes(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	g := mustBuild(t, func(b *ir.Builder) {
		x := b.Input("x", tensor.F32, n(2), seq, n(16))
		w := b.Param("w", tensor.F32, n(24), n(16))
		h := b.Silu(b.Linear(x, w, ir.Value{}))
		b.Output("y", b.Softmax(b.Reshape(h, n(2), seq, n(4), n(6)), -1))
		b.Output("cat", b.Concat(1, x, x))
	})
	params := ir.MapParams{"w": randF32(r, -1, 1, 24, 16)}
	p, err := compile.Compile(g, cpu.New(cpu.Options{Poison: true}), params, compile.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s := p.NewSession()
	ref, _ := interp.New(g, params)
	for _, T := range []int{1, 5, 64, 5, 0, 1, 257} {
		in := map[string]*tensor.Tensor{"x": randF32(r, -2, 2, 2, T, 16)}
		got, err := s.Run(context.Background(), in, nil)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := ref.Run(context.Background(), in, nil)
		for k, w := range want {
			if e, err := backendtest.Compare(got[k], w); err != nil || e > 1e-5 {
				t.Fatalf("T=%d %s: error %v %v", T, k, e, err)
			}
		}
		if got["cat"].Shape[1] != 2*T {
			t.Fatalf("T=%d: concat shape %v", T, got["cat"].Shape)
		}
		pl := s.LastPlan()
		if pl.ArenaBytes < pl.PeakLiveBytes || (!pl.Refit && pl.ArenaBytes > pl.TotalBytes*9/8+64*int64(len(p.Graph().Nodes))) {
			t.Fatalf("plan %+v", pl)
		}
	}
}

// The planner reuses memory along a long chain: the arena stays a small
// multiple of one activation however long the chain is.
func TestMemoryReuse(t *testing.T) {
	g := mustBuild(t, func(b *ir.Builder) {
		x := b.Input("x", tensor.F32, seq, n(256))
		w := b.Param("w", tensor.F32, n(256), n(256))
		for range 20 {
			x = b.Add(x, b.Tanh(b.Linear(x, w, ir.Value{})))
		}
		b.Output("y", x)
	})
	r := rand.New(rand.NewPCG(9, 10))
	params := ir.MapParams{"w": randF32(r, -0.1, 0.1, 256, 256)}
	for _, reuse := range []bool{true, false} {
		p, err := compile.Compile(g, cpu.New(cpu.Options{Poison: true}), params, compile.Options{NoReuse: !reuse})
		if err != nil {
			t.Fatal(err)
		}
		s := p.NewSession()
		if _, err := s.Run(context.Background(), map[string]*tensor.Tensor{"x": randF32(r, -1, 1, 100, 256)}, nil); err != nil {
			t.Fatal(err)
		}
		pl := s.LastPlan()
		act := int64(100 * 256 * 4)
		t.Logf("reuse=%v: arena %d, peak live %d, total %d (one activation %d)", reuse, pl.ArenaBytes, pl.PeakLiveBytes, pl.TotalBytes, act)
		if reuse && pl.ArenaBytes > 4*act {
			t.Errorf("arena %d bytes for a chain whose peak live is %d", pl.ArenaBytes, pl.PeakLiveBytes)
		}
		if !reuse && pl.ArenaBytes != pl.TotalBytes {
			t.Errorf("NoReuse arena %d != total %d", pl.ArenaBytes, pl.TotalBytes)
		}
	}
	check(t, backendtest.Case{Name: "chain", Graph: g, Params: params,
		Steps: []backendtest.Step{{Inputs: map[string]*tensor.Tensor{"x": randF32(r, -1, 1, 33, 256)}}}, Tol: 1e-4}, compile.Options{})
}

func TestCancel(t *testing.T) {
	g := mustBuild(t, func(b *ir.Builder) {
		x := b.Input("x", tensor.F32, seq)
		b.Output("y", b.Exp(x))
	})
	p, err := compile.Compile(g, cpu.New(cpu.Options{}), nil, compile.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = p.Run(ctx, map[string]*tensor.Tensor{"x": tensor.FromF32([]float32{1}, 1)}, nil)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
}

func TestRunErrors(t *testing.T) {
	g := mustBuild(t, func(b *ir.Builder) {
		x := b.Input("x", tensor.F32, n(2), seq)
		w := b.Param("w", tensor.F32, n(3), n(2))
		cache := b.KVCache("c", tensor.F32, n(1), n(4), 1, 2)
		b.Output("xw", b.Linear(b.Reshape(x, seq, n(2)), w, ir.Value{}))
		y := b.Attention(b.Input("q", tensor.F32, n(1), seq, n(1), n(2)), b.Input("k", tensor.F32, n(1), seq, n(1), n(2)),
			b.Input("v", tensor.F32, n(1), seq, n(1), n(2)), ir.AttentionOptions{Causal: true, Cache: &cache, Past: past})
		b.Output("y", y)
		b.Output("x", x)
	})
	be := cpu.New(cpu.Options{})
	if _, err := compile.Compile(g, be, ir.MapParams{}, compile.Options{}); err == nil || !strings.Contains(err.Error(), `"w"`) {
		t.Errorf("missing param: %v", err)
	}
	if _, err := compile.Compile(g, be, ir.MapParams{"w": randF32(rand.New(rand.NewPCG(1, 1)), 0, 1, 2, 3)}, compile.Options{}); err == nil || !strings.Contains(err.Error(), "declares") {
		t.Errorf("misshaped param: %v", err)
	}
	p, err := compile.Compile(g, be, ir.MapParams{"w": randF32(rand.New(rand.NewPCG(1, 1)), 0, 1, 3, 2)}, compile.Options{})
	if err != nil {
		t.Fatal(err)
	}
	qkv := func(T int) map[string]*tensor.Tensor {
		z := make([]float32, 2*T)
		return map[string]*tensor.Tensor{"x": tensor.FromF32(make([]float32, 2*T), 2, T), "q": tensor.FromF32(z, 1, T, 1, 2),
			"k": tensor.FromF32(z, 1, T, 1, 2), "v": tensor.FromF32(z, 1, T, 1, 2)}
	}
	ctx := context.Background()
	cases := []struct {
		in   map[string]*tensor.Tensor
		dims map[string]int
		want string
	}{
		{qkv(2), nil, `"past" is not bound`},
		{qkv(3), map[string]int{"past": 2}, "exceed the KV cache"},
		{map[string]*tensor.Tensor{"q": qkv(1)["q"]}, map[string]int{"past": 0}, "missing"},
		{func() map[string]*tensor.Tensor {
			m := qkv(2)
			m["x"] = tensor.FromF32(make([]float32, 6), 3, 2)
			return m
		}(), map[string]int{"past": 0}, "declares"},
		{func() map[string]*tensor.Tensor { m := qkv(2); m["zzz"] = m["x"]; return m }(), map[string]int{"past": 0}, "unknown input"},
		{func() map[string]*tensor.Tensor {
			m := qkv(2)
			m["x"] = tensor.FromI32([]int32{1, 2, 3, 4}, 2, 2)
			return m
		}(), map[string]int{"past": 0}, "I32"},
	}
	for i, c := range cases {
		_, err := p.Run(ctx, c.in, c.dims)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("case %d: error %v, want one mentioning %q", i, err, c.want)
		}
	}
}

func TestDump(t *testing.T) {
	g := mustBuild(t, func(b *ir.Builder) {
		x := b.Input("x", tensor.F32, seq, n(8))
		b.Output("y", b.Silu(b.AddScalar(x, 1)))
	})
	var buf bytes.Buffer
	p, err := compile.Compile(g, cpu.New(cpu.Options{}), nil, compile.Options{Dump: &buf})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Run(context.Background(), map[string]*tensor.Tensor{"x": tensor.FromF32(make([]float32, 24), 3, 8)}, nil); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{"before passes", `%0 = Input "x" F32[seq, 8]`, "after passes", "Fused F32[seq, 8]", "r2=Add(r0,r1); r3=Silu(r2)", "memory plan map[seq:3]"} {
		if !strings.Contains(out, want) {
			t.Errorf("dump lacks %q:\n%s", want, out)
		}
	}
}

// Random sizes of everything the planner sees, with poisoned frees, across
// many graphs: no value may be clobbered while live.
func TestPlannerNeverAliasesLive(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for i := range 30 {
		g, inputs := randomGraph(r, 12+r.IntN(20))
		c := backendtest.Case{Name: "random", Graph: g, Steps: []backendtest.Step{{Inputs: inputs}}, Tol: 1e-4, Atol: 1e-5}
		if _, err := backendtest.Run(context.Background(), cpu.New(cpu.Options{Poison: true}), c, compile.Options{}); err != nil {
			t.Fatalf("graph %d: %v\n%s", i, err, g.Dump())
		}
	}
}

// randomGraph makes a graph of elementwise, matmul, reduce, softmax,
// reshape, concat and slice ops over F32 values of a few shapes.
func randomGraph(r *rand.Rand, nodes int) (*ir.Graph, map[string]*tensor.Tensor) {
	T, D := 1+r.IntN(9), 1+r.IntN(12)
	b := ir.NewBuilder()
	vals := []ir.Value{b.Input("x", tensor.F32, seq, n(D)), b.Input("y", tensor.F32, seq, n(D))}
	pick := func() ir.Value { return vals[r.IntN(len(vals))] }
	for range nodes {
		a := pick()
		var v ir.Value
		switch r.IntN(17) {
		case 0:
			v = b.Add(a, pick())
		case 1:
			v = b.Mul(a, pick())
		case 2:
			v = b.Tanh(a)
		case 3:
			v = b.Silu(a)
		case 4:
			v = b.Sub(a, b.ReduceMean(a, true, -1))
		case 5:
			v = b.Softmax(a, -1)
		case 6:
			v = b.MatMulT(a, b.ConstF32(make([]float32, D*D), D, D))
			v = b.Add(v, a)
		case 7:
			if r.IntN(2) == 0 {
				v = b.Slice(b.Concat(-1, a, pick()), -1, n(D/2), n(D/2+D))
			} else {
				// Axis 0 of a concat: a view at an offset of seq·D elements.
				v = b.Slice(b.Concat(0, a, pick()), 0, seq, seq.MulN(2))
			}
		case 8:
			v = b.Reshape(b.Transpose(b.Reshape(a, seq, n(D), n(1)), 1, 2), seq, n(D))
		case 9:
			v = b.Max(a, b.Scale(pick(), -0.5))
		case 10:
			v = b.RMSNorm(a, ir.Value{}, 1e-5)
		case 11:
			// The condition compares the inputs themselves: comparing
			// computed values would flip on float32 rounding (x - mean(x)
			// against x), which is ill-conditioned, not wrong.
			v = b.Where(b.Greater(vals[0], vals[1]), a, b.Softcap(pick(), 1.5))
		case 12:
			v = b.LayerNorm(a, ir.Value{}, ir.Value{}, 1e-5)
		case 13:
			h := b.Reshape(a, n(1), seq, n(1), n(D))
			v = b.Reshape(b.Attention(h, b.Reshape(pick(), n(1), seq, n(1), n(D)), h, ir.AttentionOptions{Causal: r.IntN(2) == 0}), seq, n(D))
		case 14:
			v = b.Slice(b.Pad(a, []int{0, 0}, []int{0, 2}, ir.PadConstant, 0.5), -1, n(1), n(D+1))
		case 15:
			w := make([]float32, D*D*3)
			for i := range w {
				w[i] = float32(r.Float64() - 0.5)
			}
			h := b.Unsqueeze(b.Transpose(a, 0, 1), 0) // [1, D, seq]
			c := b.Conv1D(h, b.ConstF32(w, D, D, 3), ir.Value{}, ir.ConvOptions{Pad: []int{1}})
			v = b.Transpose(b.Squeeze(c, 0), 0, 1)
		default:
			v = b.GeluErf(b.Scale(a, 0.7))
		}
		vals = append(vals, v)
	}
	for i := range 3 {
		b.Output(string(rune('a'+i)), pick())
	}
	b.Output("last", vals[len(vals)-1])
	g, err := b.Build()
	if err != nil {
		panic(err)
	}
	return g, map[string]*tensor.Tensor{"x": randF32(r, -2, 2, T, D), "y": randF32(r, -2, 2, T, D)}
}

// A bias and a residual added to matmul results become matmul epilogues.
func TestMatMulEpilogue(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	g := mustBuild(t, func(b *ir.Builder) {
		x := b.Input("x", tensor.F32, seq, n(16))
		h := b.Linear(x, b.Param("w1", tensor.F32, n(24), n(16)), b.Param("b1", tensor.F32, n(24)))
		y := b.Add(x, b.Linear(b.Silu(h), b.Param("w2", tensor.F16, n(16), n(24)), ir.Value{}))
		b.Output("y", y)
	})
	params := ir.MapParams{"w1": randF32(r, -1, 1, 24, 16), "b1": randF32(r, -1, 1, 24)}
	w2, _ := tensor.New(tensor.F16, 16, 24)
	for i := range 16 * 24 {
		_ = tensor.F16.StoreFloat64(w2.Data, i, r.Float64()-0.5)
	}
	params["w2"] = w2
	p, err := compile.Compile(g, cpu.New(cpu.Options{}), params, compile.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cnt := 0
	for _, pt := range p.Stats().Patterns {
		if pt == "matmul+add" {
			cnt++
		}
	}
	for _, nd := range p.Graph().Nodes {
		if nd.Op == ir.OpAdd {
			t.Errorf("an Add survived:\n%s", p.Graph().Dump())
		}
	}
	if cnt != 2 {
		t.Errorf("%d epilogues, want 2: %v", cnt, p.Stats().Patterns)
	}
	for _, T := range []int{1, 9} {
		check(t, backendtest.Case{Name: "epilogue", Graph: g, Params: params,
			Steps: []backendtest.Step{{Inputs: map[string]*tensor.Tensor{"x": randF32(r, -1, 1, T, 16)}}}, Tol: 1e-5}, compile.Options{})
	}
}

// Attention written with permutes, matmuls, a scale, an additive mask and a
// softmax (as a BERT export spells it) becomes the fused Attention, and the
// permutes around it cancel.
func TestAttentionPattern(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 16))
	const B, H, D = 2, 3, 8
	for _, spell := range []string{"transB-div", "permute-mul", "softmax-mask"} {
		g := mustBuild(t, func(b *ir.Builder) {
			x := b.Input("x", tensor.F32, n(B), seq, n(H*D))
			mask := b.Input("mask", tensor.F32, n(B), n(1), n(1), seq)
			proj := func(name string) ir.Value {
				y := b.Linear(x, b.Param(name, tensor.F32, n(H*D), n(H*D)), ir.Value{})
				return b.Permute(b.Reshape(y, n(B), seq, n(H), n(D)), 0, 2, 1, 3)
			}
			q, k, v := proj("wq"), proj("wk"), proj("wv")
			var p ir.Value
			switch spell {
			case "transB-div":
				s := b.Div(b.MatMulT(q, k), b.Scalar(math.Sqrt(D), tensor.F32))
				p = b.Softmax(b.Add(s, mask), -1)
			case "permute-mul":
				s := b.Mul(b.MatMul(q, b.Transpose(k, -1, -2)), b.Scalar(1/math.Sqrt(D), tensor.F32))
				p = b.Softmax(b.Add(mask, s), -1)
			default:
				p = b.SoftmaxWith(b.MatMulT(q, k), -1, ir.SoftmaxOptions{Scale: 1 / math.Sqrt(D), Mask: mask})
			}
			o := b.Permute(b.MatMul(p, v), 0, 2, 1, 3)
			b.Output("y", b.Reshape(o, n(B), seq, n(H*D)))
		})
		params := ir.MapParams{}
		for _, w := range []string{"wq", "wk", "wv"} {
			params[w] = randF32(r, -0.5, 0.5, H*D, H*D)
		}
		p, err := compile.Compile(g, cpu.New(cpu.Options{}), params, compile.Options{})
		if err != nil {
			t.Fatal(err)
		}
		ops := map[ir.Op]int{}
		for _, nd := range p.Graph().Nodes {
			ops[nd.Op]++
		}
		if ops[ir.OpAttention] != 1 || ops[ir.OpSoftmax] != 0 || ops[ir.OpPermute] != 0 {
			t.Errorf("%s: not fused: %v\n%s", spell, ops, p.Graph().Dump())
		}
		mask := randF32(r, -3, 0, B, 1, 1, 7)
		check(t, backendtest.Case{Name: spell, Graph: g, Params: params,
			Steps: []backendtest.Step{{Inputs: map[string]*tensor.Tensor{"x": randF32(r, -1, 1, B, 7, H*D), "mask": mask}}}, Tol: 1e-5}, compile.Options{})
	}
}

func newCPU() *cpu.Backend { return cpu.New(cpu.Options{}) }

// A decode loop whose attention mask grows by one key per step re-plans
// memory only now and then: each plan reserves room for growth.
func TestPlanRefit(t *testing.T) {
	g := mustBuild(t, func(b *ir.Builder) {
		x := b.Input("x", tensor.F32, n(1), seq, n(8))
		m := b.Input("mask", tensor.F32, n(1), n(1), seq, past.Add(seq))
		cache := b.KVCache("c", tensor.F32, n(1), n(300), 2, 4)
		h := b.Reshape(x, n(1), seq, n(2), n(4))
		b.Output("y", b.Attention(h, h, h, ir.AttentionOptions{Causal: true, Cache: &cache, Past: past, Mask: m}))
	})
	p, err := compile.Compile(g, cpu.New(cpu.Options{Poison: true}), nil, compile.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s := p.NewSession()
	ref, _ := interp.New(g, nil)
	r := rand.New(rand.NewPCG(19, 20))
	fresh := 0
	for step := range 200 {
		in := map[string]*tensor.Tensor{"x": randF32(r, -1, 1, 1, 1, 8), "mask": randF32(r, -1, 0, 1, 1, 1, step+1)}
		dims := map[string]int{"past": step}
		got, err := s.Run(context.Background(), in, dims)
		if err != nil {
			t.Fatal(err)
		}
		want, err := ref.Run(context.Background(), in, dims)
		if err != nil {
			t.Fatal(err)
		}
		if e, err := backendtest.Compare(got["y"], want["y"]); err != nil || e > 1e-5 {
			t.Fatalf("step %d: error %v %v", step, e, err)
		}
		if !s.LastPlan().Refit {
			fresh++
		}
	}
	t.Logf("%d fresh plans in 200 growing steps", fresh)
	if fresh > 60 {
		t.Errorf("%d fresh plans in 200 steps: refit is not working", fresh)
	}
}

// Views of weights (a reshaped or sliced Param) stay weights: a quantized
// matmul, which needs its weight at compile time, accepts them.
func TestWeightViews(t *testing.T) {
	r := rand.New(rand.NewPCG(23, 24))
	w := randF32(r, -1, 1, 2*16, 64)
	q, _ := tensor.New(tensor.Q8_0, 2*16, 64)
	if err := quantize(q, w.F32()); err != nil {
		t.Fatal(err)
	}
	g := mustBuild(t, func(b *ir.Builder) {
		x := b.Input("x", tensor.F32, seq, n(64))
		both := b.Reshape(b.Param("w", tensor.Q8_0, n(2*16), n(64)), n(2), n(16), n(64))
		first := b.Reshape(b.Slice(both, 0, n(0), n(1)), n(16), n(64))
		b.Output("y", b.Linear(x, first, ir.Value{}))
		b.Output("z", b.Linear(x, b.Reshape(b.Param("f", tensor.F32, n(1), n(16), n(64)), n(16), n(64)), ir.Value{}))
	})
	params := ir.MapParams{"w": q, "f": randF32(r, -1, 1, 1, 16, 64)}
	check(t, backendtest.Case{Name: "weight-views", Graph: g, Params: params,
		Steps: []backendtest.Step{{Inputs: map[string]*tensor.Tensor{"x": randF32(r, -1, 1, 3, 64)}}}, Tol: 2e-2}, compile.Options{})
}

func quantize(t *tensor.Tensor, v []float32) error { return quant.Quantize(t.DType, t.Data, v) }

// Transposes and widening casts feeding a matmul fold into the matmul.
func TestMatMulOperandFolding(t *testing.T) {
	r := rand.New(rand.NewPCG(25, 26))
	w16, _ := tensor.New(tensor.F16, 24, 16)
	for i := range 24 * 16 {
		_ = tensor.F16.StoreFloat64(w16.Data, i, r.Float64()-0.5)
	}
	g := mustBuild(t, func(b *ir.Builder) {
		x := b.Input("x", tensor.F32, n(2), seq, n(16))
		w := b.Cast(b.Param("w", tensor.F16, n(24), n(16)), tensor.F32)
		y := b.MatMul(x, b.Transpose(w, 0, 1))                                                     // x·wᵀ
		b.Output("z", b.MatMul(b.Transpose(y, -1, -2), b.Input("v", tensor.F32, n(2), seq, n(3)))) // yᵀ·v
	})
	p, err := compile.Compile(g, cpu.New(cpu.Options{}), ir.MapParams{"w": w16}, compile.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, nd := range p.Graph().Nodes {
		if nd.Op == ir.OpPermute || nd.Op == ir.OpCast {
			t.Fatalf("%v survived:\n%s", nd.Op, p.Graph().Dump())
		}
	}
	check(t, backendtest.Case{Name: "operand-folding", Graph: g, Params: ir.MapParams{"w": w16},
		Steps: []backendtest.Step{{Inputs: map[string]*tensor.Tensor{"x": randF32(r, -1, 1, 2, 5, 16), "v": randF32(r, -1, 1, 2, 5, 3)}}}, Tol: 1e-5}, compile.Options{})
}

// Outputs that are sources, the same value under two names, and a graph
// whose only effect is a state update.
func TestOddGraphs(t *testing.T) {
	r := rand.New(rand.NewPCG(27, 28))
	g := mustBuild(t, func(b *ir.Builder) {
		x := b.Input("x", tensor.F32, seq, n(3))
		b.Input("unused", tensor.I32, n(2))
		b.Output("x", x)
		b.Output("w", b.Param("w", tensor.F32, n(2), n(3)))
		b.Output("c", b.ConstF32([]float32{1, 2}, 2))
		e := b.Exp(x)
		b.Output("e1", e)
		b.Output("e2", e)
		b.Output("r", b.Reshape(e, n(3), seq))
	})
	params := ir.MapParams{"w": randF32(r, -1, 1, 2, 3)}
	check(t, backendtest.Case{Name: "odd", Graph: g, Params: params, Tol: 1e-6,
		Steps: []backendtest.Step{{Inputs: map[string]*tensor.Tensor{"x": randF32(r, -1, 1, 4, 3), "unused": tensor.FromI32([]int32{1, 2}, 2)}}}}, compile.Options{})

	// No outputs, only a state update: the counter counts runs.
	b := ir.NewBuilder()
	s := b.State("count", tensor.F32, n(1))
	b.Assign(s, b.AddScalar(s, 1))
	g2, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	p, err := compile.Compile(g2, cpu.New(cpu.Options{}), nil, compile.Options{})
	if err != nil {
		t.Fatal(err)
	}
	sess := p.NewSession()
	for range 3 {
		if _, err := sess.Run(context.Background(), nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	c, err := sess.State("count")
	if err != nil || c.F32()[0] != 3 {
		t.Fatalf("count = %v, %v", c, err)
	}
}

// Rotary embeddings written the Hugging Face way (x·cos + rotate_half(x)·sin
// with rotate_half as slice/neg/concat) become one RoPETable kernel that
// computes exactly what the unfused ops compute.
func TestRoPETablePattern(t *testing.T) {
	r := rand.New(rand.NewPCG(29, 30))
	const D = 16
	g := mustBuild(t, func(b *ir.Builder) {
		q := b.Input("q", tensor.F32, n(1), n(4), seq, n(D))
		cos, sin := b.Input("cos", tensor.F32, n(1), n(1), seq, n(D)), b.Input("sin", tensor.F32, n(1), n(1), seq, n(D))
		rot := b.Concat(-1, b.Neg(b.Slice(q, -1, n(D/2), n(D))), b.Slice(q, -1, n(0), n(D/2)))
		b.Output("y", b.Add(b.Mul(q, cos), b.Mul(rot, sin)))
	})
	in := map[string]*tensor.Tensor{"q": randF32(r, -2, 2, 1, 4, 9, D), "cos": randF32(r, -1, 1, 1, 1, 9, D), "sin": randF32(r, -1, 1, 1, 1, 9, D)}
	be := cpu.New(cpu.Options{})
	fused, err := compile.Compile(g, be, nil, compile.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(fused.Stats().Patterns, "rope") {
		t.Fatalf("not recognised:\n%s", fused.Graph().Dump())
	}
	plain, err := compile.Compile(g, be, nil, compile.Options{NoPatterns: true, NoFusion: true})
	if err != nil {
		t.Fatal(err)
	}
	a, err := fused.Run(context.Background(), in, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := plain.Run(context.Background(), in, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a["y"].Data, b["y"].Data) {
		t.Error("RoPETable differs from the ops it replaces")
	}
	check(t, backendtest.Case{Name: "rope-table", Graph: g, Steps: []backendtest.Step{{Inputs: in}}, Tol: 1e-6}, compile.Options{})
}

// RLX_DUMP_IR=1 dumps to standard error without any option.
func TestDumpEnv(t *testing.T) {
	t.Setenv("RLX_DUMP_IR", "1")
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	old := os.Stderr
	os.Stderr = w
	g := mustBuild(t, func(b *ir.Builder) {
		b.Output("y", b.Tanh(b.Input("x", tensor.F32, seq)))
	})
	_, cerr := compile.Compile(g, cpu.New(cpu.Options{}), nil, compile.Options{})
	os.Stderr = old
	w.Close()
	out, _ := io.ReadAll(r)
	if cerr != nil {
		t.Fatal(cerr)
	}
	if !strings.Contains(string(out), "== rlx IR after passes") || !strings.Contains(string(out), "Tanh F32[seq]") {
		t.Fatalf("RLX_DUMP_IR=1 printed %q", out)
	}
}

// RunShared reuses its output tensors while their shapes stay the same,
// gives new ones when a shape changes, and every run's values are right;
// Run's outputs are the caller's and never reused.
func TestRunSharedReusesOutputs(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	g := mustBuild(t, func(b *ir.Builder) {
		x := b.Input("x", tensor.F32, n(1), seq, n(12))
		w := b.Param("w", tensor.F32, n(20), n(12))
		b.Output("y", b.Silu(b.Linear(x, w, ir.Value{})))
	})
	params := ir.MapParams{"w": randF32(r, -1, 1, 20, 12)}
	p, err := compile.Compile(g, cpu.New(cpu.Options{Poison: true}), params, compile.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ref, _ := interp.New(g, params)
	ctx := context.Background()
	s := p.NewSession()
	defer s.Close()
	var prev *tensor.Tensor
	for i, T := range []int{3, 3, 1, 1, 3} {
		in := map[string]*tensor.Tensor{"x": randF32(r, -2, 2, 1, T, 12)}
		got, err := s.RunShared(ctx, in, nil)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := ref.Run(ctx, in, nil)
		if e, err := backendtest.Compare(got["y"], want["y"]); err != nil || e > 1e-5 {
			t.Fatalf("run %d (T=%d): error %v %v", i, T, e, err)
		}
		same := i > 0 && []int{3, 3, 1, 1, 3}[i-1] == T
		if reused := got["y"] == prev; reused != same {
			t.Errorf("run %d (T=%d): output reused %v, want %v", i, T, reused, same)
		}
		prev = got["y"]
	}
	in := map[string]*tensor.Tensor{"x": randF32(r, -2, 2, 1, 3, 12)}
	a, err := s.Run(ctx, in, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.Run(ctx, in, nil)
	if err != nil {
		t.Fatal(err)
	}
	if a["y"] == b["y"] || a["y"] == prev {
		t.Error("Run returned a tensor it had returned before")
	}
}
