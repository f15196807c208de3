package compile_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/rlx-go/rlx/backend/backendtest"
	"github.com/rlx-go/rlx/backend/cpu"
	"github.com/rlx-go/rlx/compile"
	"github.com/rlx-go/rlx/ir"
	"github.com/rlx-go/rlx/ir/interp"
	"github.com/rlx-go/rlx/tensor"
)

// toyConfig is a miniature decoder-only transformer.
type toyConfig struct {
	vocab, dim, heads, kvHeads, headDim, ffn, layers, maxSeq int
	wdt, cacheDT                                             tensor.DType
}

// buildToy writes the graph as a model package would: embedding, then per
// layer rmsnorm → q/k/v → rope → causal attention with a KV cache → output
// projection → SwiGLU MLP, then a final norm and tied logits.
func buildToy(c toyConfig) (*ir.Graph, error) {
	b := ir.NewBuilder()
	seq, past := ir.Sym("seq"), ir.Sym("past")
	N := ir.N
	ids := b.Input("ids", tensor.I32, N(1), seq)
	embed := b.Param("embed", tensor.F32, N(c.vocab), N(c.dim))
	x := b.Gather(embed, ids)
	pos := b.Range(past, seq, tensor.I32)
	inv := make([]float32, c.headDim/2)
	for i := range inv {
		inv[i] = float32(math.Pow(10000, -2*float64(i)/float64(c.headDim)))
	}
	invFreq := b.ConstF32(inv, len(inv))
	for l := range c.layers {
		p := func(name string, dims ...int) ir.Value {
			dt := c.wdt
			if len(dims) == 1 {
				dt = tensor.F32
			}
			return b.Param(fmt.Sprintf("layers.%d.%s", l, name), dt, ir.Ints(dims...)...)
		}
		b.Label(fmt.Sprintf("layer%d.attn", l))
		h := b.RMSNorm(x, p("attn_norm", c.dim), 1e-6)
		q := b.Reshape(b.Linear(h, p("wq", c.heads*c.headDim, c.dim), ir.Value{}), N(1), seq, N(c.heads), N(c.headDim))
		k := b.Reshape(b.Linear(h, p("wk", c.kvHeads*c.headDim, c.dim), ir.Value{}), N(1), seq, N(c.kvHeads), N(c.headDim))
		v := b.Reshape(b.Linear(h, p("wv", c.kvHeads*c.headDim, c.dim), ir.Value{}), N(1), seq, N(c.kvHeads), N(c.headDim))
		rope := ir.RoPEAttr{Layout: ir.RoPESplitHalf, RotaryDim: c.headDim}
		q, k = b.RoPE(q, pos, invFreq, rope), b.RoPE(k, pos, invFreq, rope)
		cache := b.KVCache(fmt.Sprintf("layers.%d", l), c.cacheDT, N(1), N(c.maxSeq), c.kvHeads, c.headDim)
		a := b.Attention(q, k, v, ir.AttentionOptions{Causal: true, Cache: &cache, Past: past})
		x = b.Add(x, b.Linear(b.Reshape(a, N(1), seq, N(c.heads*c.headDim)), p("wo", c.dim, c.heads*c.headDim), ir.Value{}))
		b.Label(fmt.Sprintf("layer%d.mlp", l))
		h = b.RMSNorm(x, p("mlp_norm", c.dim), 1e-6)
		gate := b.Linear(h, p("wg", c.ffn, c.dim), ir.Value{})
		up := b.Linear(h, p("wu", c.ffn, c.dim), ir.Value{})
		x = b.Add(x, b.Linear(b.Mul(b.Silu(gate), up), p("wd", c.dim, c.ffn), ir.Value{}))
	}
	b.Label("head")
	x = b.RMSNorm(x, b.Param("norm", tensor.F32, N(c.dim)), 1e-6)
	logits := b.Linear(x, embed, ir.Value{})
	b.Output("logits", logits)
	b.Output("next", b.ArgMax(b.Slice(logits, 1, seq.AddN(-1), seq), -1, false))
	return b.Build()
}

func toyWeights(r *rand.Rand, g *ir.Graph) ir.MapParams {
	ps := ir.MapParams{}
	for _, p := range g.Params() {
		shape, _ := p.Shape.Eval(nil)
		t, _ := tensor.New(p.DType, shape...)
		scale := 1 / math.Sqrt(float64(shape[len(shape)-1]))
		if len(shape) == 1 {
			scale = 0.2
		}
		for i := range t.NumElements() {
			v := scale * (2*r.Float64() - 1)
			if len(shape) == 1 {
				v += 1
			}
			_ = p.DType.StoreFloat64(t.Data, i, v)
		}
		ps[p.Name] = t
	}
	return ps
}

// TestToyTransformer runs a 2-layer decoder as a prefill and then greedy
// decode steps through one session, comparing every step's logits with the
// float64 reference running the same steps.
func TestToyTransformer(t *testing.T) {
	for _, c := range []toyConfig{
		{vocab: 61, dim: 32, heads: 4, kvHeads: 2, headDim: 8, ffn: 48, layers: 2, maxSeq: 24, wdt: tensor.F32, cacheDT: tensor.F32},
		{vocab: 61, dim: 32, heads: 4, kvHeads: 1, headDim: 8, ffn: 48, layers: 2, maxSeq: 24, wdt: tensor.F16, cacheDT: tensor.F16},
	} {
		t.Run(fmt.Sprintf("%v-weights/%v-cache", c.wdt, c.cacheDT), func(t *testing.T) {
			g, err := buildToy(c)
			if err != nil {
				t.Fatal(err)
			}
			r := rand.New(rand.NewPCG(21, 22))
			params := toyWeights(r, g)
			prog, err := compile.Compile(g, cpu.New(cpu.Options{Poison: true}), params, compile.Options{})
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%v; passes: %+v", prog, prog.Stats())
			sess := prog.NewSession()
			ref, err := interp.New(g, params)
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			prompt := []int32{3, 14, 15, 9, 26, 5, 35}
			ids := tensor.FromI32(prompt, 1, len(prompt))
			pastN := 0
			for step := range 6 {
				in := map[string]*tensor.Tensor{"ids": ids}
				dims := map[string]int{"past": pastN}
				got, err := sess.Run(ctx, in, dims)
				if err != nil {
					t.Fatalf("step %d: %v", step, err)
				}
				want, err := ref.Run(ctx, in, dims)
				if err != nil {
					t.Fatalf("step %d reference: %v", step, err)
				}
				e, err := backendtest.Compare(got["logits"], want["logits"])
				if err != nil || e > 1e-4 {
					t.Fatalf("step %d (past %d, %d tokens): logits error %.3g %v", step, pastN, ids.Shape[1], e, err)
				}
				next := got["next"].I32()[0]
				if float64(next) != want["next"].Data[0] {
					// Ties aside, greedy ids must agree.
					lg := want["logits"].Data
					row := lg[len(lg)-c.vocab:]
					if math.Abs(row[next]-row[int(want["next"].Data[0])]) > 1e-4 {
						t.Fatalf("step %d: next id %d, reference %v", step, next, want["next"].Data[0])
					}
				}
				t.Logf("step %d: past %d, %d tokens, logits error %.3g, next %d", step, pastN, ids.Shape[1], e, next)
				pastN += ids.Shape[1]
				ids = tensor.FromI32([]int32{next}, 1, 1)
			}
			if _, err := sess.Run(ctx, map[string]*tensor.Tensor{"ids": tensor.FromI32(make([]int32, 20), 1, 20)}, map[string]int{"past": pastN}); err == nil {
				t.Fatal("overflowing the KV cache was not reported")
			}
		})
	}
}
