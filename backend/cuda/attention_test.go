package cuda_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/rlx-go/rlx/backend/backendtest"
	"github.com/rlx-go/rlx/backend/cpu"
	"github.com/rlx-go/rlx/backend/cuda"
	"github.com/rlx-go/rlx/backend/fallback"
	"github.com/rlx-go/rlx/compile"
	"github.com/rlx-go/rlx/ir"
	"github.com/rlx-go/rlx/tensor"
)

func randT(rng *rand.Rand, shape ...int) *tensor.Tensor {
	v := make([]float32, tensor.NumElements(shape))
	for i := range v {
		v[i] = float32(rng.Float64()*2 - 1)
	}
	return tensor.FromF32(v, shape...)
}

// runOnGPU runs c through the float64 reference and checks that op ran on
// the GPU (and never on the host).
func runOnGPU(t *testing.T, be *cuda.Backend, c backendtest.Case, op string) {
	t.Helper()
	fb := fallback.New(be, cpu.New(cpu.Options{}))
	before := be.Prepared()[op]
	// Unfused, so that each op runs as itself (not inside a fused chain).
	res, err := backendtest.Run(context.Background(), fb, c, compile.Options{NoFusion: true, NoPatterns: true})
	if err != nil {
		t.Fatalf("%s: %v", c.Name, err)
	}
	if be.Prepared()[op] == before || fb.Fallbacks()[op] > 0 {
		t.Fatalf("%s: %s did not run on the GPU (host: %v)", c.Name, op, fb.Fallbacks())
	}
	t.Logf("%s: max error %.3g (%s)", c.Name, res.MaxErr, res.Output)
}

// TestAttentionUncached covers head sizes 64/80/128/256, odd lengths,
// GQA/MQA, causal and not, windows, softcaps and masks broadcast over
// heads or not, against the float64 reference.
func TestAttentionUncached(t *testing.T) {
	be := open(t, cuda.Options{})
	rng := rand.New(rand.NewPCG(5, 6))
	type ac struct {
		b, t, hq, hkv, d int
		causal           bool
		window           int
		softcap          float64
		mask             int // 0 none, 1 [B,1,T,T], 2 [B,Hq,T,T]
	}
	for _, c := range []ac{
		{1, 1, 8, 2, 64, true, 0, 0, 0},
		{2, 37, 8, 2, 64, true, 0, 0, 0},
		{1, 45, 6, 6, 80, false, 0, 0, 1},
		{2, 19, 4, 1, 128, true, 7, 0, 0},
		{1, 70, 32, 8, 128, true, 0, 30, 0},
		{1, 33, 4, 2, 256, true, 0, 0, 2},
		{3, 9, 20, 1, 96, false, 0, 50, 2},
		{1, 131, 2, 2, 48, true, 16, 0, 1},
	} {
		name := fmt.Sprintf("b%d/t%d/h%d-%d/d%d/c%v/w%d/s%g/m%d", c.b, c.t, c.hq, c.hkv, c.d, c.causal, c.window, c.softcap, c.mask)
		b := ir.NewBuilder()
		o := ir.AttentionOptions{Causal: c.causal, Window: c.window, Softcap: c.softcap}
		ins := map[string]*tensor.Tensor{
			"q": randT(rng, c.b, c.t, c.hq, c.d), "k": randT(rng, c.b, c.t, c.hkv, c.d), "v": randT(rng, c.b, c.t, c.hkv, c.d),
		}
		switch c.mask {
		case 1:
			o.Mask = b.Input("mask", tensor.F32, ir.N(c.b), ir.N(1), ir.N(c.t), ir.N(c.t))
			ins["mask"] = randT(rng, c.b, 1, c.t, c.t)
		case 2:
			o.Mask = b.Input("mask", tensor.F32, ir.N(c.b), ir.N(c.hq), ir.N(c.t), ir.N(c.t))
			ins["mask"] = randT(rng, c.b, c.hq, c.t, c.t)
		}
		b.Output("o", b.Attention(b.Input("q", tensor.F32, ir.N(c.b), ir.N(c.t), ir.N(c.hq), ir.N(c.d)),
			b.Input("k", tensor.F32, ir.N(c.b), ir.N(c.t), ir.N(c.hkv), ir.N(c.d)),
			b.Input("v", tensor.F32, ir.N(c.b), ir.N(c.t), ir.N(c.hkv), ir.N(c.d)), o))
		g, err := b.Build()
		if err != nil {
			t.Fatal(err)
		}
		runOnGPU(t, be, backendtest.Case{Name: name, Graph: g, Tol: 1e-4, Steps: []backendtest.Step{{Inputs: ins}}}, "Attention")
	}
}

// TestAttentionCached runs chunked prefills and decode steps through a
// device KV cache (F16 and F32, global and per-row pasts, windows, masks),
// with pasts that are not multiples of the tiles, and caches long enough
// that decode splits the keys. Each case is a subtest named
// pass<N>-<type>-…, so that a GPU run with little time can pick passes
// (-test.run 'TestAttentionCached/pass[02]-').
func TestAttentionCached(t *testing.T) {
	exact := open(t, cuda.Options{})
	rng := rand.New(rand.NewPCG(7, 8))
	// F16 four times. Decode runs attn_dec2 (the default, blocks of 128
	// threads) in pass 0. The second time attn_mma runs blocks of 2 warps
	// (not the default, 4) and splits causal rows into pieces of 64 keys
	// (the default is 128), and attn_dec2 runs blocks of 256 threads,
	// prefetches its rows into L2 (off by default) and splits even short
	// key ranges over blocks, merging them (the default takes ranges of up
	// to 128 keys in one block). The third on a backend with
	// HalfActivations, whose attn_mmah rounds queries and softmax weights to
	// f16 once: each score then moves by about 2^-11 of Σ|q·k|·scale and
	// each weight by 2^-11 of itself (~1e-3 of the outputs at most for these
	// sizes; a wrong tile gives errors of order 1). The fourth with
	// attn_mma's rows not split over blocks and decode on the first decode
	// kernel, attn_dec (RLX_CUDA_DEC_V2=0).
	var half *cuda.Backend
	restore := func() {}
	defer func() { restore() }()
	for pass, dt := range []tensor.DType{tensor.F16, tensor.F32, tensor.F16, tensor.F16, tensor.F16} {
		be, tol := exact, 1e-4
		switch pass {
		case 2:
			r1, r2, r3, r4, r5, r6 := cuda.SetMMAWarps(2), cuda.SetMMASplit(64), cuda.SetDecPrefetch(true), cuda.SetDecWhole(0), cuda.SetDecThreads(256), cuda.SetDecMode(2)
			restore = func() {
				r1()
				r2()
				r3()
				r4()
				r5()
				r6()
			}
		case 3:
			restore()
			restore = func() {}
			if half == nil {
				half = open(t, cuda.Options{HalfActivations: true})
			}
			be, tol = half, 5e-3
		case 4:
			restore()
			r1, r2 := cuda.SetMMASplit(0), cuda.SetDecMode(0)
			restore = func() { r1(); r2() }
		}
		for _, c := range []struct {
			b, hq, hkv, d, maxSeq, window int
			steps                         []int
			perRow                        bool
			softcap                       float64
			mask                          int // 0 none, 1 [B,1,T,past+T], 2 [B,Hq,T,past+T] (global pasts only)
		}{
			{1, 16, 8, 128, 700, 0, []int{45, 1, 1, 7, 1}, false, 0, 0},
			{2, 8, 2, 64, 1000, 0, []int{517, 1, 3, 1}, false, 0, 0},
			{1, 4, 1, 256, 300, 33, []int{130, 1, 1}, false, 50, 0},
			{3, 6, 2, 80, 400, 0, []int{11, 1, 2, 1}, true, 0, 0},
			{2, 4, 4, 64, 2048, 0, []int{301, 1}, true, 0, 0},
			// Decode over many splits (attn_dec), rows at different pasts.
			{2, 8, 2, 128, 2100, 0, []int{1500, 1, 2, 1}, true, 0, 0},
			// Head size 32 (4 lanes a key), 8 query heads on one kv head, window.
			{1, 8, 1, 32, 600, 100, []int{200, 1, 1, 1}, false, 0, 0},
			// Tensor-core prefill (F16) with a window, a softcap and chunks of 5.
			{1, 6, 2, 96, 500, 40, []int{300, 1, 5, 5}, false, 20, 0},
			// A second long chunk after a past (split pieces start past 0),
			// decode from depth 0, GQA 8 with per-row pasts and a softcap.
			{1, 16, 8, 128, 1200, 0, []int{300, 1, 401, 1}, false, 0, 0},
			{1, 4, 2, 64, 300, 0, []int{1, 1, 1, 20}, false, 0, 0},
			{2, 8, 1, 64, 700, 0, []int{259, 1, 1}, true, 30, 0},
			// Decode with masks: per head with a softcap (GQA 4), and
			// broadcast over heads with a window and two-token steps.
			{1, 8, 2, 64, 300, 0, []int{40, 1, 1}, false, 30, 2},
			{2, 16, 8, 128, 300, 20, []int{50, 1, 2}, false, 0, 1},
			// Depth 4096: a 4095-token prefill (the most pieces), then decode
			// (one head: the float64 reference of this case dominates the test).
			{1, 1, 1, 64, 4100, 0, []int{4095, 1, 1}, false, 0, 0},
		} {
			name := fmt.Sprintf("pass%d-%v-b%d-h%d-%d-d%d-seq%d-w%d-perrow%v-mask%d", pass, dt, c.b, c.hq, c.hkv, c.d, c.maxSeq, c.window, c.perRow, c.mask)
			t.Run(name, func(t *testing.T) {
				b := ir.NewBuilder()
				seq, past := ir.Sym("seq"), ir.Sym("past")
				cache := b.KVCache("l0", dt, ir.N(c.b), ir.N(c.maxSeq), c.hkv, c.d)
				o := ir.AttentionOptions{Causal: true, Window: c.window, Softcap: c.softcap, Cache: &cache, Past: past}
				if c.perRow {
					o.PastRows = b.Input("past", tensor.I32, ir.N(c.b))
					o.Past = ir.Dim{}
				}
				maskHeads := 1
				if c.mask == 2 {
					maskHeads = c.hq
				}
				if c.mask > 0 {
					o.Mask = b.Input("mask", tensor.F32, ir.N(c.b), ir.N(maskHeads), seq, past.Add(seq))
				}
				b.Output("o", b.Attention(b.Input("q", tensor.F32, ir.N(c.b), seq, ir.N(c.hq), ir.N(c.d)),
					b.Input("k", tensor.F32, ir.N(c.b), seq, ir.N(c.hkv), ir.N(c.d)),
					b.Input("v", tensor.F32, ir.N(c.b), seq, ir.N(c.hkv), ir.N(c.d)), o))
				g, err := b.Build()
				if err != nil {
					t.Fatal(err)
				}
				var steps []backendtest.Step
				pasts := make([]int32, c.b)
				for i := range pasts {
					if c.perRow {
						pasts[i] = int32(3 * i) // rows at different positions
					}
				}
				p := 0
				for _, n := range c.steps {
					st := backendtest.Step{Inputs: map[string]*tensor.Tensor{
						"q": randT(rng, c.b, n, c.hq, c.d), "k": randT(rng, c.b, n, c.hkv, c.d), "v": randT(rng, c.b, n, c.hkv, c.d),
					}, Dims: map[string]int{"seq": n, "past": p}}
					if c.mask > 0 {
						st.Inputs["mask"] = randT(rng, c.b, maskHeads, n, p+n)
					}
					if c.perRow {
						st.Inputs["past"] = tensor.FromI32(append([]int32(nil), pasts...), c.b)
						delete(st.Dims, "past")
						for i := range pasts {
							pasts[i] += int32(n)
						}
					}
					steps = append(steps, st)
					p += n
				}
				dec, mma := cuda.DecodeLaunches(), cuda.MMALaunches()
				runOnGPU(t, be, backendtest.Case{Name: name, Graph: g, Tol: tol, Steps: steps}, "Attention")
				// F16 decode steps take the one-launch decode kernel, and
				// prefills of the head sizes it has the tensor-core one.
				if dt == tensor.F16 && cuda.DecodeLaunches() == dec {
					t.Errorf("%s: no step ran attn_dec", name)
				}
				if dt == tensor.F16 && c.d >= 64 && c.d%16 == 0 && c.d <= 128 && cuda.MMALaunches() == mma {
					t.Errorf("%s: no step ran attn_mma", name)
				}
			})
		}
	}
}
