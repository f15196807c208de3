package cuda_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/rlx-go/rlx/backend/cuda"
	"github.com/rlx-go/rlx/compile"
	"github.com/rlx-go/rlx/ir"
	"github.com/rlx-go/rlx/quant"
	"github.com/rlx-go/rlx/tensor"
)

// packedCase is a Linear y = x·Wᵀ (+ r, a residual that the compiler
// folds into the matmul) with a packed weight, checked against a float64
// product of the dequantized weight.
type packedCase struct {
	dt       tensor.DType
	n, k     int
	residual bool
	bias     bool // a bias [N], broadcast into the output before the product accumulates
}

// randomWeight is an [n, k] weight of type dt holding standard normal
// values, and those values before quantization.
func randomWeight(t testing.TB, rng *rand.Rand, dt tensor.DType, n, k int) (*tensor.Tensor, []float32) {
	t.Helper()
	wf := make([]float32, n*k)
	for i := range wf {
		wf[i] = float32(rng.NormFloat64())
	}
	w, err := tensor.New(dt, n, k)
	if err != nil {
		t.Fatal(err)
	}
	if err := quant.Quantize(dt, w.Data, wf); err != nil {
		t.Fatal(err)
	}
	return w, wf
}

// runPacked compiles the case for be (no host fallback: every node must run
// on the GPU) and checks rows ms. tol(m) bounds |y − ref| relative to
// Σ_k |x·w| of the output.
func runPacked(t *testing.T, be *cuda.Backend, rng *rand.Rand, c packedCase, ms []int, tol func(m int) float64) {
	t.Helper()
	name := fmt.Sprintf("%v/%dx%d/residual=%v/bias=%v", c.dt, c.n, c.k, c.residual, c.bias)
	w, wf := randomWeight(t, rng, c.dt, c.n, c.k)
	// What the weight holds (the reference multiplies these values).
	if err := quant.Dequantize(c.dt, wf, w.Data); err != nil {
		t.Fatal(err)
	}
	bias := make([]float32, c.n)
	for i := range bias {
		bias[i] = float32(rng.NormFloat64())
	}
	params := ir.MapParams{"w": w}
	b := ir.NewBuilder()
	x := b.Input("x", tensor.F32, ir.Sym("m"), ir.N(c.k))
	var bv ir.Value
	if c.bias {
		bv = b.Param("bias", tensor.F32, ir.N(c.n))
		params["bias"] = tensor.FromF32(bias, c.n)
	}
	y := b.Linear(x, b.Param("w", c.dt, ir.N(c.n), ir.N(c.k)), bv)
	if c.residual {
		y = b.Add(y, b.Input("r", tensor.F32, ir.Sym("m"), ir.N(c.n)))
	}
	b.Output("y", y)
	g, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	prog, err := compile.Compile(g, be, params, compile.Options{})
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	defer prog.Close()
	sess := prog.NewSession()
	defer sess.Close()
	for _, m := range ms {
		xs := make([]float32, m*c.k)
		for i := range xs {
			xs[i] = float32(rng.NormFloat64())
		}
		res := make([]float32, m*c.n)
		for i := range res {
			res[i] = float32(rng.NormFloat64())
		}
		in := map[string]*tensor.Tensor{"x": tensor.FromF32(xs, m, c.k)}
		if c.residual {
			in["r"] = tensor.FromF32(res, m, c.n)
		}
		out, err := sess.Run(context.Background(), in, nil)
		if err != nil {
			t.Fatalf("%s m=%d: %v", name, m, err)
		}
		y := out["y"].F32()
		// The int8-activation GEMV rounds each activation to a multiple of
		// amax/127 of its group of 32: off by at most amax/254, so a
		// product's sum moves by at most Σ_k |w_k|·amax_g(k)/254.
		int8 := c.dt.Quantized() && m <= cuda.GEMVInt8Rows() && m <= cuda.GEMVUpTo(c.dt)
		amax := make([]float64, m*c.k/32)
		if int8 {
			for i := range amax {
				for _, v := range xs[32*i : 32*i+32] {
					amax[i] = max(amax[i], math.Abs(float64(v)))
				}
			}
		}
		worst := 0.0
		for i := range m {
			for j := range c.n {
				var ref, mag, qerr float64
				for kk := range c.k {
					p := float64(xs[i*c.k+kk]) * float64(wf[j*c.k+kk])
					ref += p
					mag += math.Abs(p)
					if int8 {
						qerr += math.Abs(float64(wf[j*c.k+kk])) * amax[(i*c.k+kk)/32] / 254
					}
				}
				if c.residual {
					ref += float64(res[i*c.n+j])
					mag += math.Abs(float64(res[i*c.n+j]))
				}
				if c.bias {
					ref += float64(bias[j])
					mag += math.Abs(float64(bias[j]))
				}
				got := float64(y[i*c.n+j])
				e := math.Abs(got-ref) / (mag + 1e-30)
				allowed := tol(m) + 1.001*qerr/(mag+1e-30)
				if !(e <= allowed) { // NaN fails
					t.Fatalf("%s m=%d int8=%v: y[%d,%d] = %v, reference %v (error %.3g of Σ|x·w| = %.4g, tolerance %.3g)",
						name, m, int8, i, j, got, ref, e, mag, allowed)
				}
				worst = max(worst, e)
			}
		}
		t.Logf("%s m=%d int8=%v: max error %.3g of Σ|x·w|", name, m, int8, worst)
	}
}

// TestQuantMatMul checks DequantMatMul for every GGUF type with a CUDA
// kernel, on the GEMV paths (small m: int8 activations, bounded by their
// rounding, or f32 activations, only f32 rounding) and
// the tensor-core path (weights decoded to f16 and activations rounded to
// f16: each product is off by at most 2·2⁻¹¹ of its size, plus f32 sums).
func TestQuantMatMul(t *testing.T) {
	be := open(t, cuda.Options{})
	rng := rand.New(rand.NewPCG(81, 82))
	ms := []int{1, 3, 8, 17, 130}
	for _, dt := range []tensor.DType{tensor.Q4_0, tensor.Q8_0, tensor.Q4_K, tensor.Q5_K, tensor.Q6_K} {
		tol := func(m int) float64 {
			if m <= cuda.GEMVUpTo(dt) {
				return 2e-5
			}
			return 1.2e-3
		}
		runPacked(t, be, rng, packedCase{dt: dt, n: 37, k: 256}, ms, tol)
		runPacked(t, be, rng, packedCase{dt: dt, n: 259, k: 768, residual: true}, ms, tol)
		if dt.BlockSize() == 32 {
			runPacked(t, be, rng, packedCase{dt: dt, n: 1, k: 96}, ms, tol)
		}
		runPacked(t, be, rng, packedCase{dt: dt, n: 19, k: 256, bias: true}, []int{1, 9}, tol)
		// The int8-activation GEMV for 1 to 4 rows: odd N, a tall N (several
		// rows per warp), K of one and of many blocks.
		runPacked(t, be, rng, packedCase{dt: dt, n: 4301, k: 256, residual: true}, []int{1, 4}, tol)
		runPacked(t, be, rng, packedCase{dt: dt, n: 33, k: 256 * 9, bias: true}, []int{1, 2, 3, 4}, tol)
		// Every split of a row over warps, with one and several rounds of
		// rows per block.
		for _, wpr := range []int{1, 2, 4, 8} {
			for _, rounds := range []int{1, 3} {
				restore := cuda.SetGEMVInt8Shape(wpr, rounds)
				t.Logf("%v: int8 GEMV, %d warps per row, %d rounds", dt, wpr, rounds)
				runPacked(t, be, rng, packedCase{dt: dt, n: 67, k: 512, residual: true}, []int{1, 4}, tol)
				restore()
			}
		}
		// Every f32-activation GEMV variant (columns per thread), up to 8 rows.
		restoreM := cuda.SetGEMVUpTo(8, 8)
		restoreI := cuda.SetGEMVInt8Rows(0)
		for _, r := range gemvRuns(dt) {
			restore := cuda.SetGEMVRun(dt, r)
			t.Logf("%v: GEMV runs of %d", dt, r)
			runPacked(t, be, rng, packedCase{dt: dt, n: 67, k: 512, residual: true}, []int{1, 5, 8}, tol)
			restore()
		}
		restoreI()
		restoreM()
	}
	tol := func(m int) float64 {
		if m <= cuda.GEMVUpTo(tensor.Q4_K) {
			return 2e-5
		}
		return 1.2e-3
	}
	// Wide enough that the GEMV kernel spreads a row over several warps.
	runPacked(t, be, rng, packedCase{dt: tensor.Q4_K, n: 5, k: 256 * 33, residual: true}, []int{1, 2, 9}, tol)
	if got := be.Prepared()["DequantMatMul"]; got == 0 {
		t.Fatalf("no DequantMatMul ran on the GPU: %v", be.Prepared())
	}
}

// TestHalfMatMul checks F16/BF16 weights used as stored: GEMV (f32
// activations) for small m, and the tensor cores with the activations split
// into half terms (f16: 2, bf16: 3; near f32 precision) or, with
// HalfActivations, rounded once (each product off by about u = 2⁻¹¹ for
// f16, 2⁻⁸ for bf16).
func TestHalfMatMul(t *testing.T) {
	for _, halfActs := range []bool{false, true} {
		be := open(t, cuda.Options{HalfActivations: halfActs})
		rng := rand.New(rand.NewPCG(83, 84))
		for _, dt := range []tensor.DType{tensor.F16, tensor.BF16} {
			u := math.Ldexp(1, -11)
			if dt == tensor.BF16 {
				u = math.Ldexp(1, -8)
			}
			tol := func(m int) float64 {
				switch {
				case m <= cuda.GEMVUpTo(dt):
					return 2e-5
				case halfActs:
					return 1.1*u + 1e-5
				}
				return 2e-5
			}
			t.Logf("HalfActivations=%v", halfActs)
			ms := []int{1, 3, 8, 17, 130}
			runPacked(t, be, rng, packedCase{dt: dt, n: 37, k: 256}, ms, tol)
			runPacked(t, be, rng, packedCase{dt: dt, n: 259, k: 96, residual: true}, ms, tol)
			runPacked(t, be, rng, packedCase{dt: dt, n: 19, k: 64, bias: true}, []int{1, 9}, tol)
			restoreM := cuda.SetGEMVUpTo(8, 8)
			for _, r := range gemvRuns(dt) {
				restore := cuda.SetGEMVRun(dt, r)
				t.Logf("%v: GEMV runs of %d", dt, r)
				runPacked(t, be, rng, packedCase{dt: dt, n: 67, k: 512, residual: true}, []int{1, 5, 8}, func(int) float64 { return 2e-5 })
				restore()
			}
			restoreM()
			// K not a multiple of 32: every m goes to cuBLASLt.
			runPacked(t, be, rng, packedCase{dt: dt, n: 19, k: 13}, []int{1, 9}, func(m int) float64 {
				if halfActs {
					return 1.1*u + 1e-5
				}
				return 2e-5
			})
		}
	}
}

// gemvRuns lists the GEMV variants quant.cu has for dt.
func gemvRuns(dt tensor.DType) []int {
	if dt == tensor.Q6_K {
		return []int{8, 16}
	}
	return []int{8, 16, 32}
}
