package cuda

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/rlx-go/rlx/backend/backendtest"
	"github.com/rlx-go/rlx/backend/cpu"
	"github.com/rlx-go/rlx/backend/fallback"
	"github.com/rlx-go/rlx/compile"
	"github.com/rlx-go/rlx/ir"
	"github.com/rlx-go/rlx/quant"
	"github.com/rlx-go/rlx/tensor"
)

// TestMoE runs mixtures of experts on the GPU against the float64
// reference: stacked experts in F32, BF16, Q8_0 and Q4_K gate/up with a
// Q6_K down (as llama-quantize mixes them), per-expert BF16 weights, the
// three activations, tokens routed to 0–3 experts, and a scratch small
// enough that the tokens run in chunks.
func TestMoE(t *testing.T) {
	be := openBench(t)
	rng := rand.New(rand.NewPCG(13, 14))
	randF := func(n int) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(rng.Float64()*0.6 - 0.3)
		}
		return v
	}
	weight := func(dt tensor.DType, shape ...int) *tensor.Tensor {
		src := randF(tensor.NumElements(shape))
		w, err := tensor.New(dt, shape...)
		if err != nil {
			t.Fatal(err)
		}
		if dt.Quantized() {
			if err := quant.Quantize(dt, w.Data, src); err != nil {
				t.Fatal(err)
			}
			return w
		}
		vals := make([]float64, len(src))
		for i, v := range src {
			vals[i] = float64(v)
		}
		for i, v := range vals {
			if err := dt.StoreFloat64(w.Data, i, v); err != nil {
				t.Fatal(err)
			}
		}
		return w
	}
	routing := func(T, E int) *tensor.Tensor {
		r := make([]float32, T*E)
		for tk := range T {
			for range (tk + 1) % 4 { // 1, 2, 3 or 0 experts
				r[tk*E+rng.IntN(E)] = float32(rng.Float64())
			}
		}
		return tensor.FromF32(r, T, E)
	}
	type mc struct {
		gu, down tensor.DType
		E, F, D  int
		act      ir.Op
		perExp   bool
		scratch  int64
	}
	for _, c := range []mc{
		{tensor.F32, tensor.F32, 5, 96, 80, ir.OpSilu, false, 0},
		{tensor.BF16, tensor.BF16, 6, 64, 48, ir.OpGeluTanh, false, 0},
		{tensor.Q8_0, tensor.Q8_0, 4, 64, 96, ir.OpSilu, false, 0},
		{tensor.Q4_K, tensor.Q6_K, 3, 256, 512, ir.OpSilu, false, 0},
		{tensor.Q5_K, tensor.Q4_0, 3, 256, 256, ir.OpGeluErf, false, 0},
		{tensor.BF16, tensor.BF16, 4, 32, 64, ir.OpSilu, true, 0},
		{tensor.F16, tensor.F16, 5, 48, 32, ir.OpSilu, false, 5 * 48 * 4 * 3},     // 3 tokens per chunk
		{tensor.Q8_0, tensor.F16, 5, 256, 32, ir.OpSilu, false, 5 * 256 * 4 * 20}, // 20 tokens per chunk (tiled)
	} {
		// 1 token: per-token kernels; 13 and 300 (three tiles, the last
		// partial; in chunks for the small scratch): the tiled ones.
		for _, T := range []int{1, 13, 300} {
			name := fmt.Sprintf("%v-%v/E%d/F%d/D%d/%v/per%v/T%d", c.gu, c.down, c.E, c.F, c.D, c.act, c.perExp, T)
			b := ir.NewBuilder()
			x := b.Input("x", tensor.F32, ir.N(T), ir.N(c.D))
			r := b.Input("r", tensor.F32, ir.N(T), ir.N(c.E))
			ps := ir.MapParams{}
			if c.perExp {
				var gs, us, ds []ir.Value
				for e := range c.E {
					for _, m := range []struct {
						name string
						dt   tensor.DType
						rows int
						cols int
						list *[]ir.Value
					}{{"g", c.gu, c.F, c.D, &gs}, {"u", c.gu, c.F, c.D, &us}, {"d", c.down, c.D, c.F, &ds}} {
						key := fmt.Sprintf("%s%d", m.name, e)
						ps[key] = weight(m.dt, m.rows, m.cols)
						*m.list = append(*m.list, b.Param(key, m.dt, ir.N(m.rows), ir.N(m.cols)))
					}
				}
				b.Output("y", b.MoEExperts(x, r, gs, us, ds, c.act))
			} else {
				ps["gate"], ps["up"], ps["down"] = weight(c.gu, c.E, c.F, c.D), weight(c.gu, c.E, c.F, c.D), weight(c.down, c.E, c.D, c.F)
				b.Output("y", b.MoE(x, r, b.Param("gate", c.gu, ir.N(c.E), ir.N(c.F), ir.N(c.D)),
					b.Param("up", c.gu, ir.N(c.E), ir.N(c.F), ir.N(c.D)), b.Param("down", c.down, ir.N(c.E), ir.N(c.D), ir.N(c.F)), c.act))
			}
			g, err := b.Build()
			if err != nil {
				t.Fatal(err)
			}
			if c.scratch > 0 {
				moeScratch = c.scratch
			}
			fb := fallback.New(be, cpu.New(cpu.Options{}))
			before := be.Prepared()["MoE"]
			res, err := backendtest.Run(context.Background(), fb, backendtest.Case{Name: name, Graph: g, Params: ps, Tol: 2e-5,
				Steps: []backendtest.Step{{Inputs: map[string]*tensor.Tensor{"x": tensor.FromF32(randF(T*c.D), T, c.D), "r": routing(T, c.E)}}}},
				compile.Options{})
			moeScratch = 32 << 20
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if be.Prepared()["MoE"] == before || fb.Fallbacks()["MoE"] > 0 {
				t.Fatalf("%s: MoE did not run on the GPU (host: %v)", name, fb.Fallbacks())
			}
			t.Logf("%s: max error %.3g", name, res.MaxErr)
		}
	}
}
