package cuda_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/rlx-go/rlx/backend/cuda"
	"github.com/rlx-go/rlx/backend/cuda/driver"
	"github.com/rlx-go/rlx/compile"
	"github.com/rlx-go/rlx/ir"
	"github.com/rlx-go/rlx/tensor"
)

// fuseCase is a decoder layer's fusable launches: RMSNorm → q/k/v GEMVs,
// per-head q/k RMSNorm → RoPE, RMSNorm → gate/up GEMVs → silu(gate)·up.
type fuseCase struct {
	q, k, v, gate, up tensor.DType
	hidden, ffn       int
	hq, hk, d, rot    int
	interleaved       bool
	kNorm             bool // k has a norm too (else the single norm → RoPE form)
	pos64             bool
	keep              bool // the norm output and gate are program outputs too (not released)
	noQNorm           bool // no q/k norms at all (Llama)
	// down adds the down projection (weight type down, the residual o
	// added) as output "down"; act is then an output only with keep, so
	// silu(gate)·up is dead after the down GEMM.
	down tensor.DType
}

func (c fuseCase) String() string {
	return fmt.Sprintf("%v%v%v-%v%v/h%d/f%d/%dx%d+%dx%d/rot%d/inter=%v/knorm=%v/keep=%v/down=%v",
		c.q, c.k, c.v, c.gate, c.up, c.hidden, c.ffn, c.hq, c.d, c.hk, c.d, c.rot, c.interleaved, c.kNorm, c.keep, c.down)
}

// fuseProgram compiles the case's graph for be.
func fuseProgram(t testing.TB, be *cuda.Backend, rng *rand.Rand, c fuseCase) *compile.Program {
	t.Helper()
	params := ir.MapParams{}
	b := ir.NewBuilder()
	weight := func(name string, dt tensor.DType, n, k int) ir.Value {
		params[name], _ = randomWeight(t, rng, dt, n, k)
		return b.Param(name, dt, ir.N(n), ir.N(k))
	}
	vec := func(name string, n int) ir.Value {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(0.5 + rng.Float64())
		}
		params[name] = tensor.FromF32(v, n)
		return b.Param(name, tensor.F32, ir.N(n))
	}
	x := b.Input("x", tensor.F32, ir.Sym("m"), ir.N(c.hidden))
	pdt := tensor.I32
	if c.pos64 {
		pdt = tensor.I64
	}
	pos := b.Input("pos", pdt, ir.Sym("m"))
	const eps = 1e-6
	h := b.RMSNorm(x, vec("attn_norm", c.hidden), eps)
	q := b.Linear(h, weight("wq", c.q, c.hq*c.d, c.hidden), ir.Value{})
	k := b.Linear(h, weight("wk", c.k, c.hk*c.d, c.hidden), ir.Value{})
	v := b.Linear(h, weight("wv", c.v, c.hk*c.d, c.hidden), ir.Value{})
	q = b.Reshape(q, ir.N(1), ir.Sym("m"), ir.N(c.hq), ir.N(c.d))
	k = b.Reshape(k, ir.N(1), ir.Sym("m"), ir.N(c.hk), ir.N(c.d))
	if !c.noQNorm {
		q = b.RMSNorm(q, vec("q_norm", c.d), eps)
	}
	if c.kNorm && !c.noQNorm {
		k = b.RMSNorm(k, vec("k_norm", c.d), eps)
	}
	inv := make([]float32, c.rot/2)
	for i := range inv {
		inv[i] = float32(math.Pow(10000, -2*float64(i)/float64(c.rot)))
	}
	layout := ir.RoPESplitHalf
	if c.interleaved {
		layout = ir.RoPEInterleaved
	}
	ra := ir.RoPEAttr{Layout: layout, RotaryDim: c.rot}
	iv := b.ConstF32(inv, len(inv))
	q, k = b.RoPE(q, pos, iv, ra), b.RoPE(k, pos, iv, ra)
	// Attention over the step's own keys and the output projection with
	// the residual, as in a decoder layer: the FFN depends on q, k and v,
	// so the scheduler keeps each group's launches together.
	a := b.Attention(q, k, b.Reshape(v, ir.N(1), ir.Sym("m"), ir.N(c.hk), ir.N(c.d)), ir.AttentionOptions{Causal: true})
	a = b.Reshape(a, ir.Sym("m"), ir.N(c.hq*c.d))
	o := b.Add(b.Linear(a, weight("wo", c.q, c.hidden, c.hq*c.d), ir.Value{}), x)
	h2 := b.RMSNorm(o, vec("ffn_norm", c.hidden), eps)
	g := b.Linear(h2, weight("wg", c.gate, c.ffn, c.hidden), ir.Value{})
	u := b.Linear(h2, weight("wu", c.up, c.ffn, c.hidden), ir.Value{})
	b.Output("q", q)
	b.Output("k", k)
	b.Output("v", v)
	act := b.Mul(b.Silu(g), u)
	if c.down == 0 || c.keep {
		b.Output("act", act)
	}
	if c.down != 0 {
		b.Output("down", b.Add(b.Linear(act, weight("wd", c.down, c.hidden, c.ffn), ir.Value{}), o))
	}
	if c.keep {
		b.Output("h", h)
		b.Output("g", g)
	}
	gr, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	prog, err := compile.Compile(gr, be, params, compile.Options{})
	if err != nil {
		t.Fatalf("%v: %v", c, err)
	}
	t.Cleanup(func() { prog.Close() })
	return prog
}

// fuseInputs draws m rows of the layer's input and their positions (I64
// when c.pos64, else I32).
func fuseInputs(t *testing.T, rng *rand.Rand, c fuseCase, m int) map[string]*tensor.Tensor {
	t.Helper()
	xs := make([]float32, m*c.hidden)
	for i := range xs {
		xs[i] = float32(rng.NormFloat64() * 3)
	}
	in := map[string]*tensor.Tensor{"x": tensor.FromF32(xs, m, c.hidden)}
	if !c.pos64 {
		p32 := make([]int32, m)
		for i := range p32 {
			p32[i] = int32(rng.IntN(5000))
		}
		in["pos"] = tensor.FromI32(p32, m)
		return in
	}
	t64, err := tensor.New(tensor.I64, m)
	if err != nil {
		t.Fatal(err)
	}
	for i := range m {
		binary.LittleEndian.PutUint64(t64.Data[8*i:], uint64(rng.IntN(5000)))
	}
	in["pos"] = t64
	return in
}

// TestFuseLaunches runs decoder-layer launch lists with the fusion pass
// off and on (plain launches, then captured and replayed as graphs) and
// checks that the fused kernels give the unfused launches' results (the
// same arithmetic in the same order: equal bits are expected, a few ulps
// allowed) and that the expected groups were fused.
func TestFuseLaunches(t *testing.T) {
	be := open(t, cuda.Options{})
	rng := rand.New(rand.NewPCG(8, 1))
	ctx := context.Background()
	cases := []fuseCase{
		{q: tensor.Q4_K, k: tensor.Q4_K, v: tensor.Q6_K, gate: tensor.Q4_K, up: tensor.Q4_K, hidden: 512, ffn: 1280,
			hq: 4, hk: 2, d: 64, rot: 64, kNorm: true},
		{q: tensor.Q8_0, k: tensor.Q8_0, v: tensor.Q8_0, gate: tensor.Q8_0, up: tensor.Q8_0, hidden: 96, ffn: 37,
			hq: 3, hk: 1, d: 32, rot: 16, interleaved: true, kNorm: true, keep: true},
		{q: tensor.Q5_K, k: tensor.Q4_0, v: tensor.Q8_0, gate: tensor.Q6_K, up: tensor.Q4_K, hidden: 256, ffn: 259,
			hq: 2, hk: 1, d: 128, rot: 96, pos64: true},
		{q: tensor.Q4_0, k: tensor.Q4_0, v: tensor.Q4_0, gate: tensor.Q6_K, up: tensor.Q6_K, hidden: 1024, ffn: 3072,
			hq: 16, hk: 8, d: 128, rot: 128, kNorm: true, keep: true},
		{q: tensor.Q5_K, k: tensor.Q5_K, v: tensor.Q5_K, gate: tensor.Q5_K, up: tensor.Q5_K, hidden: 768, ffn: 67,
			hq: 5, hk: 1, d: 256, rot: 256, kNorm: true},
		{q: tensor.Q4_K, k: tensor.Q4_K, v: tensor.Q6_K, gate: tensor.Q4_K, up: tensor.Q4_K, hidden: 512, ffn: 300,
			hq: 8, hk: 2, d: 64, rot: 32, noQNorm: true, pos64: true},
		// A head size that is no multiple of 32 (lanes past the row in
		// rmsnorm_rope_rows_f32), partial rotary dims.
		{q: tensor.Q8_0, k: tensor.Q8_0, v: tensor.Q8_0, gate: tensor.Q8_0, up: tensor.Q8_0, hidden: 160, ffn: 96,
			hq: 4, hk: 1, d: 80, rot: 64, kNorm: true, down: tensor.Q8_0},
		// Qwen3-0.6B's shapes with the down projection: in a prefill
		// silu(gate)·up writes the down GEMM's half terms (fused_split).
		{q: tensor.Q4_0, k: tensor.Q4_0, v: tensor.Q4_0, gate: tensor.Q6_K, up: tensor.Q6_K, hidden: 1024, ffn: 3072,
			hq: 16, hk: 8, d: 128, rot: 128, kNorm: true, down: tensor.Q6_K},
	}
	names := []string{"q", "k", "v", "act", "h", "g", "down"}
	for ci, c := range cases {
		for _, rows := range []int{0, 1, 3} { // rows per block of the fused GEMVs: the default, then others
			if rows > 0 && ci%2 != 0 {
				continue
			}
			restoreRows := func() {}
			if rows > 0 {
				restoreRows = cuda.SetFuseRowsScale(rows)
			}
			prog := fuseProgram(t, be, rng, c)
			ms := []int{1, 2, 3, 4, 5}
			if rows == 0 {
				ms = append(ms, 37, 300) // prefill: rmsnorm_rope_rows_f32, split groups
			}
			for _, m := range ms {
				in := fuseInputs(t, rng, c, m)
				run := func(fuse, graphs bool, times int) map[string][]float32 {
					restore := cuda.SetFusion(fuse)
					defer restore()
					be.SetGraphs(graphs)
					defer be.SetGraphs(true)
					sess := prog.NewSession()
					defer sess.Close()
					var res map[string][]float32
					for range times {
						out, err := sess.Run(ctx, in, nil)
						if err != nil {
							t.Fatalf("%v m=%d fuse=%v graphs=%v: %v", c, m, fuse, graphs, err)
						}
						res = map[string][]float32{}
						for _, n := range names {
							if o, ok := out[n]; ok {
								res[n] = slices.Clone(o.F32())
							}
						}
					}
					return res
				}
				ref := run(false, false, 1)
				// Fused, plain: the stats of the fused list are read before
				// SetGraphs drops the entries.
				restore := cuda.SetFusion(true)
				be.SetGraphs(false)
				sess := prog.NewSession()
				out, err := sess.Run(ctx, in, nil)
				if err != nil {
					t.Fatalf("%v m=%d fused: %v", c, m, err)
				}
				got := map[string][]float32{}
				for _, n := range names {
					if o, ok := out[n]; ok {
						got[n] = slices.Clone(o.F32())
					}
				}
				st := be.Fusions()
				sess.Close()
				restore()
				be.SetGraphs(true)
				replayed := run(true, true, 4)

				want := cuda.FuseStats{}
				if m <= 4 {
					want.NormGEMV = 2
					want.NormRoPE = 1
					want.Removed = 3 + 2 // q/k/v; q norm, q RoPE, k RoPE
					switch {
					case c.noQNorm:
						want.Removed-- // q RoPE, k RoPE
					case c.kNorm:
						want.Removed++ // k norm
					}
					if c.gate == c.up {
						want.GateUp = 1
						want.Removed += 3
					} else {
						want.Removed += 2
					}
				} else {
					// Prefill: q/k norms and RoPEs in one launch
					// (rmsnorm_rope_rows_f32), the input norms folded into
					// the split of the q/k/v and gate/up GEMMs' activations
					// (one split per input, none of its own).
					want.NormRoPE = 1
					want.Removed = 2 // q norm, q RoPE, k RoPE
					switch {
					case c.noQNorm:
						want.Removed--
					case c.kNorm:
						want.Removed++
					}
					want.SplitShared, want.SplitNorm, want.SplitsSaved = 2, 2, 3+2
					if c.down != 0 {
						want.SplitShared, want.SplitChain, want.SplitsSaved = 3, 1, 6
					}
				}
				switch {
				case c.keep && m > 4:
					// As below: gate and up need not be adjacent.
					if st.SplitNorm < 1 || st.NormRoPE != 1 {
						t.Errorf("%v m=%d: fused %+v, want at least one norm+split group and one norm+RoPE", c, m, st)
					}
				case c.keep && m <= 4:
					// g is an output too, so the compiler keeps silu(g) apart
					// and gate and up need not be adjacent: at least the
					// attention side fuses (writing the norm's output, h).
					if st.NormGEMV < 1 || st.NormRoPE != 1 {
						t.Errorf("%v m=%d: fused %+v, want at least one norm+GEMV group and one norm+RoPE", c, m, st)
					}
				case !c.kNorm && !c.noQNorm && st != want:
					// k's RoPE (no norm) may be scheduled apart from q's
					// norm and RoPE (seen at one token): then it is a
					// dependent launch of its own.
					alt := want
					alt.Removed--
					alt.Relaunched++
					if st != alt {
						t.Errorf("%v m=%d: fused %+v, want %+v or %+v", c, m, st, want, alt)
					}
				case st != want:
					t.Errorf("%v m=%d: fused %+v, want %+v", c, m, st, want)
				}
				for _, n := range names {
					r, ok := ref[n]
					if !ok {
						continue
					}
					for which, g := range map[string][]float32{"plain": got[n], "graph": replayed[n]} {
						if len(g) != len(r) {
							t.Fatalf("%v m=%d %s %s: %d values, want %d", c, m, n, which, len(g), len(r))
						}
						scale, worst, diff := 0.0, 0.0, 0
						for i := range r {
							scale = max(scale, math.Abs(float64(r[i])))
						}
						for i := range r {
							if math.Float32bits(g[i]) != math.Float32bits(r[i]) {
								diff++
							}
							worst = max(worst, math.Abs(float64(g[i])-float64(r[i]))/max(scale, 1e-30))
						}
						if worst > 1e-6 || math.IsNaN(worst) || (m > 4 && diff > 0) {
							// Prefill fusions must keep every bit.
							t.Errorf("%v rows×%d m=%d %s %s: worst difference %.3g of max |y| (%d of %d values differ)", c, rows, m, n, which, worst, diff, len(r))
						} else if diff > 0 {
							t.Logf("%v rows×%d m=%d %s %s: %d of %d values differ in their bits (worst %.3g of max |y|)", c, rows, m, n, which, diff, len(r), worst)
						}
					}
				}
			}
			restoreRows()
		}
	}
}

// BenchmarkFuseLayer times one decoder layer's fusable launches (Qwen3-0.6B
// and Llama-3.2-1B shapes, Q4_K with a Q6_K v, one token) with each set of
// fusions, graphs on: wall time per run, the same host work (inputs
// written, outputs read) in every variant.
func BenchmarkFuseLayer(b *testing.B) {
	be := openB(b)
	ctx := context.Background()
	shapes := []struct {
		name string
		c    fuseCase
	}{
		{"qwen3-0.6b", fuseCase{q: tensor.Q4_K, k: tensor.Q4_K, v: tensor.Q6_K, gate: tensor.Q4_K, up: tensor.Q4_K,
			hidden: 1024, ffn: 3072, hq: 16, hk: 8, d: 128, rot: 128, kNorm: true}},
		{"llama-1b", fuseCase{q: tensor.Q4_K, k: tensor.Q4_K, v: tensor.Q6_K, gate: tensor.Q4_K, up: tensor.Q4_K,
			hidden: 2048, ffn: 8192, hq: 32, hk: 8, d: 64, rot: 64, noQNorm: true}},
	}
	variants := []struct {
		name, mode string
		rows       int
	}{
		{"off", "0", 1}, {"rope", "rope", 1}, {"rope+gemv", "rope,gemv", 1}, {"rope+gemv+silu", "rope,gemv,silu", 1},
		{"rope+gemv+norm", "rope,gemv,norm", 1}, {"all", "all", 1}, {"all-rows2", "all", 2}, {"all-rows4", "all", 4},
	}
	for _, sh := range shapes {
		rng := rand.New(rand.NewPCG(1, 2))
		prog := fuseProgram(b, be, rng, sh.c)
		xs := make([]float32, sh.c.hidden)
		for i := range xs {
			xs[i] = float32(rng.NormFloat64())
		}
		in := map[string]*tensor.Tensor{"x": tensor.FromF32(xs, 1, sh.c.hidden), "pos": tensor.FromI32([]int32{77}, 1)}
		for _, v := range variants {
			b.Run(sh.name+"/"+v.name, func(b *testing.B) {
				defer cuda.SetFuseMode(v.mode)()
				defer cuda.SetFuseRowsScale(v.rows)()
				be.SetGraphs(true) // drops graphs and fused lists made under another setting
				sess := prog.NewSession()
				defer sess.Close()
				for range 3 {
					if _, err := sess.Run(ctx, in, nil); err != nil {
						b.Fatal(err)
					}
				}
				b.ResetTimer()
				for range b.N {
					if _, err := sess.Run(ctx, in, nil); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

func openB(b *testing.B) *cuda.Backend {
	b.Helper()
	if err := driver.Init(); err != nil {
		b.Skipf("no CUDA: %v", err)
	}
	if n, err := driver.DeviceCount(); err != nil || n == 0 {
		b.Skipf("no CUDA device (%v)", err)
	}
	be, err := cuda.New(cuda.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { be.Close() })
	return be
}

// TestFuseLaunchesHalf is TestFuseLaunches for F16/BF16 weights: at one
// and two rows the RMSNorm folds into gemvh_* with q/k/v, and with
// gate/up and silu(gate)·up, and every output keeps the unfused list's
// bits (the lone GEMVs run the same kernel); at three rows and more
// (tensor-core GEMMs) no GEMV group forms, and the norms before q/k/v and
// gate/up write the activations' half terms (two for F16, three for BF16)
// that the GEMMs share, again with every bit kept.
func TestFuseLaunchesHalf(t *testing.T) {
	be := open(t, cuda.Options{})
	rng := rand.New(rand.NewPCG(8, 2))
	ctx := context.Background()
	cases := []fuseCase{
		{q: tensor.F16, k: tensor.F16, v: tensor.F16, gate: tensor.F16, up: tensor.F16, hidden: 512, ffn: 1280,
			hq: 4, hk: 2, d: 64, rot: 64, kNorm: true, down: tensor.F16},
		{q: tensor.BF16, k: tensor.BF16, v: tensor.BF16, gate: tensor.BF16, up: tensor.BF16, hidden: 96, ffn: 37,
			hq: 3, hk: 1, d: 32, rot: 16, interleaved: true, kNorm: true, keep: true},
		{q: tensor.F16, k: tensor.F16, v: tensor.F16, gate: tensor.F16, up: tensor.F16, hidden: 2112, ffn: 300,
			hq: 8, hk: 2, d: 64, rot: 32, noQNorm: true, pos64: true},
		{q: tensor.BF16, k: tensor.BF16, v: tensor.BF16, gate: tensor.BF16, up: tensor.BF16, hidden: 256, ffn: 160,
			hq: 4, hk: 2, d: 64, rot: 64, kNorm: true, down: tensor.BF16},
	}
	names := []string{"q", "k", "v", "act", "h", "g", "down"}
	for _, c := range cases {
		prog := fuseProgram(t, be, rng, c)
		for _, m := range []int{1, 2, 3, 37, 130} {
			in := fuseInputs(t, rng, c, m)
			run := func(fuse, graphs bool) (map[string][]float32, cuda.FuseStats) {
				restore := cuda.SetFusion(fuse)
				defer restore()
				be.SetGraphs(graphs)
				defer be.SetGraphs(true)
				sess := prog.NewSession()
				defer sess.Close()
				out, err := sess.Run(ctx, in, nil)
				if err != nil {
					t.Fatalf("%v m=%d fuse=%v graphs=%v: %v", c, m, fuse, graphs, err)
				}
				res := map[string][]float32{}
				for _, n := range names {
					if o, ok := out[n]; ok {
						res[n] = slices.Clone(o.F32())
					}
				}
				return res, be.Fusions()
			}
			ref, _ := run(false, false)
			got, st := run(true, false)
			replayed, _ := run(true, true)
			switch {
			case m <= 2 && !c.keep && (st.NormGEMV != 2 || st.GateUp != 1):
				t.Errorf("%v m=%d: fused %+v, want 2 norm+GEMV groups, one of them gate/up", c, m, st)
			case m <= 2 && c.keep && st.NormGEMV < 1:
				t.Errorf("%v m=%d: fused %+v, want at least one norm+GEMV group", c, m, st)
			case m > 2 && st.NormGEMV != 0:
				t.Errorf("%v m=%d: fused %+v, want no GEMV group (tensor-core GEMMs)", c, m, st)
			case m > 2 && !c.keep && c.down == 0 && (st.SplitNorm != 2 || st.SplitsSaved != 5):
				// F16: two terms, BF16: three, made once per input by the
				// norm before q/k/v and before gate/up.
				t.Errorf("%v m=%d: fused %+v, want 2 norm+split groups saving 5 splits", c, m, st)
			case m > 2 && c.down != 0 && (st.SplitNorm != 2 || st.SplitChain != 1 || st.SplitsSaved != 6):
				// … and silu(gate)·up before the down projection.
				t.Errorf("%v m=%d: fused %+v, want 2 norm+split groups and a chain+split one saving 6 splits", c, m, st)
			case m > 2 && c.keep && st.SplitNorm < 1:
				t.Errorf("%v m=%d: fused %+v, want a norm+split group", c, m, st)
			case m > 4 && st.NormRoPE != 1:
				t.Errorf("%v m=%d: fused %+v, want the norm+RoPE group", c, m, st)
			}
			for _, n := range names {
				r, ok := ref[n]
				if !ok {
					continue
				}
				for which, g := range map[string][]float32{"plain": got[n], "graph": replayed[n]} {
					if len(g) != len(r) {
						t.Fatalf("%v m=%d %s %s: %d values, want %d", c, m, n, which, len(g), len(r))
					}
					for i := range r {
						if math.Float32bits(g[i]) != math.Float32bits(r[i]) {
							t.Errorf("%v m=%d %s %s: [%d] = %g, unfused %g (bits differ)", c, m, n, which, i, g[i], r[i])
							break
						}
					}
				}
			}
		}
	}
}
