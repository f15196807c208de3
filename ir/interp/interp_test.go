package interp_test

import (
	"context"
	"math"
	"testing"

	"github.com/rlx-go/rlx/ir"
	"github.com/rlx-go/rlx/ir/interp"
	"github.com/rlx-go/rlx/tensor"
)

// run builds a graph with f and evaluates it on inputs.
func run(t *testing.T, f func(b *ir.Builder), params ir.MapParams, in map[string]*tensor.Tensor, dims map[string]int) map[string]*interp.Value {
	t.Helper()
	b := ir.NewBuilder()
	f(b)
	g, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	s, err := interp.New(g, params)
	if err != nil {
		t.Fatal(err)
	}
	out, err := s.Run(context.Background(), in, dims)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func near(t *testing.T, what string, got []float64, want ...float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i := range got {
		if math.Abs(got[i]-want[i]) > 1e-12*(1+math.Abs(want[i])) {
			t.Fatalf("%s: got %v, want %v", what, got, want)
		}
	}
}

// Hand-computed values, independent of any kernel.
func TestHandChecked(t *testing.T) {
	n := ir.N
	x := tensor.FromF32([]float32{1, 2, 3, 4}, 2, 2)
	out := run(t, func(b *ir.Builder) {
		xv := b.Input("x", tensor.F32, n(2), n(2))
		b.Output("softmax", b.Softmax(xv, -1))
		b.Output("ln", b.LayerNorm(xv, ir.Value{}, ir.Value{}, 0))
		b.Output("rms", b.RMSNorm(xv, ir.Value{}, 0))
		b.Output("mm", b.MatMul(xv, xv))
		b.Output("mmT", b.MatMulT(xv, xv))
		b.Output("sum0", b.ReduceSum(xv, false, 0))
		b.Output("argmax", b.ArgMax(xv, 0, false))
		b.Output("pad", b.Pad(xv, []int{0, 1}, []int{0, 1}, ir.PadReflect, 0))
		b.Output("perm", b.Transpose(xv, 0, 1))
	}, nil, map[string]*tensor.Tensor{"x": x}, nil)
	e := 1 / (1 + math.E)
	near(t, "softmax", out["softmax"].Data, e, 1-e, e, 1-e)
	near(t, "layernorm", out["ln"].Data, -1, 1, -1, 1)
	near(t, "rmsnorm", out["rms"].Data, 1/math.Sqrt(2.5), 2/math.Sqrt(2.5), 3/math.Sqrt(12.5), 4/math.Sqrt(12.5))
	near(t, "matmul", out["mm"].Data, 7, 10, 15, 22)
	near(t, "matmulT", out["mmT"].Data, 5, 11, 11, 25)
	near(t, "sum", out["sum0"].Data, 4, 6)
	near(t, "argmax", out["argmax"].Data, 1, 1)
	near(t, "reflect pad", out["pad"].Data, 2, 1, 2, 1, 4, 3, 4, 3)
	near(t, "transpose", out["perm"].Data, 1, 3, 2, 4)

	// RoPE: position 1 with frequency π/2 rotates each pair by 90°.
	q := tensor.FromF32([]float32{1, 0, 0, 1}, 1, 1, 1, 4) // split-half pairs (1,0) and (0,1)
	out = run(t, func(b *ir.Builder) {
		qv := b.Input("q", tensor.F32, n(1), n(1), n(1), n(4))
		inv := b.ConstF32([]float32{math.Pi / 2, math.Pi / 2}, 2)
		b.Output("split", b.RoPE(qv, b.Range(n(1), n(1), tensor.I32), inv, ir.RoPEAttr{Layout: ir.RoPESplitHalf, RotaryDim: 4}))
		b.Output("inter", b.RoPE(qv, b.Range(n(1), n(1), tensor.I32), inv, ir.RoPEAttr{Layout: ir.RoPEInterleaved, RotaryDim: 4}))
	}, nil, map[string]*tensor.Tensor{"q": q}, nil)
	c := math.Cos(float64(float32(math.Pi / 2))) // the frequency is stored as float32
	s := math.Sin(float64(float32(math.Pi / 2)))
	// split-half: (x0, x2) = (1, 0) → (c, s); (x1, x3) = (0, 1) → (-s, c)
	near(t, "rope split-half", out["split"].Data, c, -s, s, c)
	// interleaved: (x0, x1) = (1, 0) → (c, s); (x2, x3) = (0, 1) → (-s, c)
	near(t, "rope interleaved", out["inter"].Data, c, s, -s, c)

	// Causal attention of two positions with one head: the first query
	// sees only the first value; the second averages by softmax weights.
	qk := tensor.FromF32([]float32{1, 0, 0, 1}, 1, 2, 1, 2)
	v := tensor.FromF32([]float32{10, 0, 0, 20}, 1, 2, 1, 2)
	out = run(t, func(b *ir.Builder) {
		qv := b.Input("q", tensor.F32, n(1), n(2), n(1), n(2))
		vv := b.Input("v", tensor.F32, n(1), n(2), n(1), n(2))
		b.Output("o", b.Attention(qv, qv, vv, ir.AttentionOptions{Causal: true, Scale: 1}))
	}, nil, map[string]*tensor.Tensor{"q": qk, "v": v}, nil)
	// Query 2 = (0,1): scores (0, 1) → weights (1/(1+e), e/(1+e)).
	w0, w1 := 1/(1+math.E), math.E/(1+math.E)
	near(t, "attention", out["o"].Data, 10, 0, 10*w0, 20*w1)

	// Conv1D: [1,2,3,4] * [1,-1] with stride 2 and left padding 1.
	xc := tensor.FromF32([]float32{1, 2, 3, 4}, 1, 1, 4)
	out = run(t, func(b *ir.Builder) {
		b.Output("y", b.Conv1D(b.Input("x", tensor.F32, n(1), n(1), n(4)), b.Param("w", tensor.F32, n(1), n(1), n(2)), ir.Value{},
			ir.ConvOptions{Stride: []int{2}, PadLo: []int{1}, PadHi: []int{0}}))
	}, ir.MapParams{"w": tensor.FromF32([]float32{1, -1}, 1, 1, 2)}, map[string]*tensor.Tensor{"x": xc}, nil)
	// Windows (0,1), (2,3): 0·1 + 1·(-1) = -1, 2 - 3 = -1.
	near(t, "conv1d", out["y"].Data, -1, -1)
}

// An F16 KV cache rounds what it stores.
func TestCacheRounding(t *testing.T) {
	n := ir.N
	b := ir.NewBuilder()
	cache := b.KVCache("c", tensor.F16, n(1), n(4), 1, 1)
	q := b.Input("q", tensor.F32, n(1), n(1), n(1), n(1))
	b.Output("o", b.Attention(q, q, b.Input("v", tensor.F32, n(1), n(1), n(1), n(1)),
		ir.AttentionOptions{Causal: true, Cache: &cache, Past: n(0)}))
	g, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	s, _ := interp.New(g, nil)
	v := 1 + 1.0/4096 // not representable in F16 (11-bit significand)
	out, err := s.Run(context.Background(), map[string]*tensor.Tensor{"q": tensor.FromF32([]float32{1}, 1, 1, 1, 1),
		"v": tensor.FromF32([]float32{float32(v)}, 1, 1, 1, 1)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if out["o"].Data[0] != 1 {
		t.Fatalf("attention over an F16 cache returned %v, want the rounded 1", out["o"].Data[0])
	}
}
