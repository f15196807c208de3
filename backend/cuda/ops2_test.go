package cuda_test

import (
	"math/rand/v2"
	"testing"

	"github.com/rlx-go/rlx/backend/backendtest"
	"github.com/rlx-go/rlx/backend/cuda"
	"github.com/rlx-go/rlx/ir"
	"github.com/rlx-go/rlx/quant"
	"github.com/rlx-go/rlx/tensor"
)

// TestMoreOps runs data movement, casts, comparisons, Where, reductions,
// norms, top-k, Range and RoPETable on random inputs of awkward sizes
// against the float64 reference, checking each ran on the GPU.
func TestMoreOps(t *testing.T) {
	be := open(t, cuda.Options{})
	rng := rand.New(rand.NewPCG(9, 10))
	n := ir.N
	type tc struct {
		op    string
		tol   float64
		build func(b *ir.Builder)
		ins   map[string]*tensor.Tensor
	}
	x4 := randT(rng, 3, 5, 7, 2)
	x3 := randT(rng, 4, 9, 1031)
	scaled := randT(rng, 6, 37)
	for i, v := range scaled.F32() {
		scaled.F32()[i] = v * 300
	}
	ids := make([]int32, 33)
	for i := range ids {
		ids[i] = int32(rng.IntN(2001)) - 1000
	}
	var gatherParams ir.MapParams
	cases := []tc{
		{"Permute", 0, func(b *ir.Builder) {
			b.Output("y", b.Permute(b.Input("x", tensor.F32, n(3), n(5), n(7), n(2)), 2, 0, 3, 1))
		}, map[string]*tensor.Tensor{"x": x4}},
		{"Expand", 0, func(b *ir.Builder) {
			b.Output("y", b.Expand(b.Input("x", tensor.F32, n(3), n(1), n(7), n(1)), n(3), n(5), n(7), n(4)))
		}, map[string]*tensor.Tensor{"x": randT(rng, 3, 1, 7, 1)}},
		{"Slice", 0, func(b *ir.Builder) {
			x := b.Input("x", tensor.F32, n(3), n(5), n(7), n(2))
			b.Output("y", b.SliceStep(x, 2, 1, 7, 2))
			b.Output("z", b.Slice(x, 1, n(1), n(4)))
		}, map[string]*tensor.Tensor{"x": x4}},
		{"Concat", 0, func(b *ir.Builder) {
			x := b.Input("x", tensor.F32, n(3), n(5), n(7), n(2))
			y := b.Input("y", tensor.F32, n(3), n(2), n(7), n(2))
			b.Output("c", b.Concat(1, x, y, x))
		}, map[string]*tensor.Tensor{"x": x4, "y": randT(rng, 3, 2, 7, 2)}},
		{"Pad", 0, func(b *ir.Builder) {
			x := b.Input("x", tensor.F32, n(3), n(5), n(7), n(2))
			b.Output("c", b.Pad(x, []int{0, 2, 1, 0}, []int{1, 0, 3, 2}, ir.PadConstant, -1.5))
			b.Output("r", b.Pad(x, []int{0, 2, 3, 0}, []int{0, 4, 1, 1}, ir.PadReflect, 0))
			b.Output("e", b.Pad(x, []int{1, 0, 2, 0}, []int{0, 3, 5, 1}, ir.PadEdge, 0))
		}, map[string]*tensor.Tensor{"x": x4}},
		{"Cast", 0, func(b *ir.Builder) {
			x := b.Input("x", tensor.F32, n(6), n(37))
			b.Output("f16", b.Cast(b.Cast(x, tensor.F16), tensor.F32))
			b.Output("bf16", b.Cast(b.Cast(x, tensor.BF16), tensor.F32))
			b.Output("i32", b.Cast(x, tensor.I32))
			ids := b.Input("ids", tensor.I32, n(33))
			b.Output("back", b.Cast(ids, tensor.F32))
			b.Output("i64", b.Cast(ids, tensor.I64))
		}, map[string]*tensor.Tensor{"x": scaled, "ids": tensor.FromI32(ids, 33)}},
		{"Where", 0, func(b *ir.Builder) {
			x := b.Input("x", tensor.F32, n(4), n(9), n(1031))
			c := b.Input("c", tensor.F32, n(9), n(1))
			b.Output("w", b.Where(b.Less(x, c), x, b.Input("y", tensor.F32, n(1031))))
			b.Output("ge", b.Cast(b.GreaterEq(x, c), tensor.F32))
			b.Output("ne", b.Cast(b.NotEqual(b.Input("ids", tensor.I32, n(33)), b.Input("ids2", tensor.I32, n(1))), tensor.I32))
		}, map[string]*tensor.Tensor{"x": x3, "c": randT(rng, 9, 1), "y": randT(rng, 1031), "ids": tensor.FromI32(ids, 33), "ids2": tensor.FromI32([]int32{ids[5]}, 1)}},
		{"ReduceSum", 1e-5, func(b *ir.Builder) {
			x := b.Input("x", tensor.F32, n(4), n(9), n(1031))
			b.Output("s1", b.ReduceSum(x, false, 1))
			b.Output("s12", b.ReduceSum(x, true, 1, 2))
			b.Output("m2", b.ReduceMean(x, false, 2))
			b.Output("x0", b.ReduceMax(x, false, 0))
			b.Output("a1", b.ArgMax(x, 1, false))
			b.Output("a2", b.ArgMax(x, 2, true))
		}, map[string]*tensor.Tensor{"x": x3}},
		{"LayerNorm", 1e-5, func(b *ir.Builder) {
			x := b.Input("x", tensor.F32, n(4), n(9), n(1031))
			w, bias := b.Input("w", tensor.F32, n(1031)), b.Input("b", tensor.F32, n(1031))
			b.Output("ln", b.LayerNorm(x, w, bias, 1e-5))
			b.Output("ln0", b.LayerNorm(x, ir.Value{}, ir.Value{}, 1e-12))
			b.Output("rms1", b.RMSNormPlusOne(x, w, 1e-6))
			b.Output("rms0", b.RMSNorm(x, ir.Value{}, 1e-6))
		}, map[string]*tensor.Tensor{"x": x3, "w": randT(rng, 1031), "b": randT(rng, 1031)}},
		{"RMSNorm", 1e-5, func(b *ir.Builder) {
			// A warp per row (short rows) and a block per row (long ones).
			for i, sh := range [][2]int{{9 * 16, 128}, {7, 37}, {3, 512}, {5, 513}, {4 * 9, 1031}} {
				name := string(rune('a' + i))
				x := b.Input("x"+name, tensor.F32, n(sh[0]), n(sh[1]))
				b.Output("y"+name, b.RMSNorm(x, b.Input("w"+name, tensor.F32, n(sh[1])), 1e-6))
			}
		}, map[string]*tensor.Tensor{
			"xa": randT(rng, 9*16, 128), "wa": randT(rng, 128), "xb": randT(rng, 7, 37), "wb": randT(rng, 37),
			"xc": randT(rng, 3, 512), "wc": randT(rng, 512), "xd": randT(rng, 5, 513), "wd": randT(rng, 513),
			"xe": randT(rng, 4*9, 1031), "we": randT(rng, 1031),
		}},
		{"TopK", 0, func(b *ir.Builder) {
			x := b.Input("x", tensor.F32, n(6), n(37))
			v, i := b.TopK(x, 5)
			b.Output("v", v)
			b.Output("i", i)
			t := b.Input("ties", tensor.F32, n(2), n(7))
			tv, ti := b.TopK(t, 4)
			b.Output("tv", tv)
			b.Output("ti", ti)
		}, map[string]*tensor.Tensor{"x": scaled, "ties": tensor.FromF32([]float32{1, 3, 3, 0, 3, 1, 2, 5, 5, 5, 5, 5, 5, 5}, 2, 7)}},
		{"Range", 0, func(b *ir.Builder) {
			b.Output("r", b.Range(ir.Sym("p"), n(37), tensor.I32))
			b.Output("f", b.Range(ir.Sym("p"), n(5), tensor.F32))
		}, nil},
		{"RoPETable", 1e-6, func(b *ir.Builder) {
			x := b.Input("x", tensor.F32, n(2), n(5), n(3), n(48))
			b.Output("y", b.RoPETable(x, b.Input("cos", tensor.F32, n(5), n(1), n(48)), b.Input("sin", tensor.F32, n(5), n(1), n(48))))
		}, map[string]*tensor.Tensor{"x": randT(rng, 2, 5, 3, 48), "cos": randT(rng, 5, 1, 48), "sin": randT(rng, 5, 1, 48)}},
	}
	// Gathers from tables kept as stored: GGUF block types and integers.
	{
		params := ir.MapParams{}
		types := []tensor.DType{tensor.Q4_0, tensor.Q8_0, tensor.Q4_K, tensor.Q5_K, tensor.Q6_K}
		for _, dt := range types {
			src := randT(rng, 7, 512)
			tt, err := tensor.New(dt, 7, 512)
			if err != nil {
				t.Fatal(err)
			}
			if err := quant.Quantize(dt, tt.Data, src.F32()); err != nil {
				t.Fatal(err)
			}
			params[dt.String()] = tt
		}
		params["int"] = tensor.FromI32(ids[:21], 7, 3)
		cases = append(cases, tc{"Gather", 0, func(b *ir.Builder) {
			rows := b.Input("rows", tensor.I32, n(5))
			for _, dt := range types {
				b.Output(dt.String(), b.Gather(b.Param(dt.String(), dt, n(7), n(512)), rows))
			}
			b.Output("int", b.Gather(b.Param("int", tensor.I32, n(7), n(3)), rows))
		}, map[string]*tensor.Tensor{"rows": tensor.FromI32([]int32{6, 0, 3, 3, 1}, 5)}})
		gatherParams = params
	}
	for _, c := range cases {
		b := ir.NewBuilder()
		c.build(b)
		g, err := b.Build()
		if err != nil {
			t.Fatalf("%s: %v", c.op, err)
		}
		st := backendtest.Step{Inputs: c.ins}
		if c.op == "Range" {
			st.Dims = map[string]int{"p": 11}
		}
		var ps ir.MapParams
		if c.op == "Gather" {
			ps = gatherParams
		}
		runOnGPU(t, be, backendtest.Case{Name: c.op, Graph: g, Params: ps, Tol: c.tol, Steps: []backendtest.Step{st}}, c.op)
	}
}

// TestStateOps runs a state read, an Assign into it and a state output
// over three steps (the device copies of Reshape and Assign).
func TestStateOps(t *testing.T) {
	be := open(t, cuda.Options{})
	rng := rand.New(rand.NewPCG(11, 12))
	b := ir.NewBuilder()
	s := b.State("acc", tensor.F32, ir.N(3), ir.N(17))
	x := b.Input("x", tensor.F32, ir.N(3), ir.N(17))
	b.Output("old", s)
	b.Assign(s, b.Add(s, x))
	g, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	var steps []backendtest.Step
	for range 3 {
		steps = append(steps, backendtest.Step{Inputs: map[string]*tensor.Tensor{"x": randT(rng, 3, 17)}})
	}
	runOnGPU(t, be, backendtest.Case{Name: "state", Graph: g, Tol: 1e-6, Steps: steps}, "Assign")
}
