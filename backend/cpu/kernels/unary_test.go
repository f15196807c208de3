package kernels

import (
	"fmt"
	"math"
	"testing"
)

// sweep returns float32 values covering the whole line: every stride-th bit
// pattern of both signs plus the special values and the branch boundaries.
func sweep(stride uint32) []float32 {
	var out []float32
	for b := uint64(0); b < 1<<32; b += uint64(stride) {
		out = append(out, math.Float32frombits(uint32(b)))
	}
	specials := []float32{0, float32(math.Copysign(0, -1)), float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN()),
		math.Float32frombits(1), math.Float32frombits(0x807fffff), math.MaxFloat32, -math.MaxFloat32,
		88.72283, 88.72284, 88.8, -87.33654, -103.27893, -103.97208, -104, -110, 0.55, -0.55, 0.5499999, 20, -20, 1e-30, -1e-30}
	for _, s := range specials {
		out = append(out, s, -s)
	}
	return out
}

type unaryCase struct {
	op   UnaryOp
	ref  func(x float64) float64
	ulps float64 // documented bound, where the result is a normal float32
	// cond, when set, adds cond(x) ulps: the conditioning of an argument the
	// kernel must round to float32 first (gelu_tanh's inner polynomial).
	cond func(x float64) float64
}

func geluTanhArg(x float64) float64 { return math.Sqrt(2/math.Pi) * (x + 0.044715*x*x*x) }

func sigmoid64(x float64) float64 {
	if x >= 0 {
		return 1 / (1 + math.Exp(-x))
	}
	e := math.Exp(x)
	return e / (1 + e)
}

var unaryCases = []unaryCase{
	{op: Exp, ref: math.Exp, ulps: 1},
	{op: Sigmoid, ref: sigmoid64, ulps: 2.5},
	{op: SiLU, ref: func(x float64) float64 { return x * sigmoid64(x) }, ulps: 3.5},
	{op: Tanh, ref: math.Tanh, ulps: 2},
	{op: GELU, ref: func(x float64) float64 { return 0.5 * x * math.Erfc(-x/math.Sqrt2) }, ulps: 7},
	{op: GELUTanh, ref: func(x float64) float64 { return x * sigmoid64(2*geluTanhArg(x)) }, ulps: 3,
		cond: func(x float64) float64 { return 6 * math.Abs(geluTanhArg(x)) }},
	{op: Erf, ref: math.Erf, ulps: 3.5},
	{op: Neg, ref: func(x float64) float64 { return -x }, ulps: 0},
	{op: Sqrt, ref: math.Sqrt, ulps: 0.5},
	{op: Rsqrt, ref: func(x float64) float64 { return 1 / math.Sqrt(x) }, ulps: 1},
	{op: Log, ref: math.Log, ulps: 0.5},
	{op: ReLU, ref: func(x float64) float64 { return math.Max(x, 0) }, ulps: 0},
	{op: Abs, ref: math.Abs, ulps: 0},
}

// maxUlp returns the largest ulp error of got against ref over xs, counting
// only results in the normal float32 range (denormal results are compared in
// absolute terms by the caller's bound of 1 least denormal), and the x where
// it happens.
func maxUlp(xs, got []float32, c unaryCase, want []float64) (float64, float32) {
	var worst float64
	var at float32
	for i, x := range xs {
		w := want[i]
		if math.IsNaN(w) && !math.IsNaN(float64(x)) && math.IsInf(float64(x), 0) {
			// Limits such as -Inf·0: the kernel documents NaN, as PyTorch.
			if !math.IsNaN(float64(got[i])) {
				return math.Inf(1), x
			}
			continue
		}
		e := ulpErr(got[i], w)
		if c.cond != nil && !math.IsNaN(float64(x)) && !math.IsInf(float64(x), 0) {
			e = math.Max(0, e-c.cond(float64(x)))
		}
		if math.Abs(w) < 0x1p-100 && !math.IsNaN(w) {
			// Tiny results (denormal intermediates): absolute error only.
			if math.Abs(float64(got[i])-w) <= 0x1p-126 {
				e = 0
			}
		}
		if e > worst || math.IsNaN(e) {
			worst, at = e, x
		}
	}
	return worst, at
}

func refs(xs []float32, ref func(float64) float64) []float64 {
	want := make([]float64, len(xs))
	for i, x := range xs {
		want[i] = ref(float64(x))
	}
	return want
}

// TestUnaryAccuracy sweeps the whole float32 line (every 4093rd bit pattern
// of both signs, plus specials) on every tier; the float64 references are
// computed once per function.
func TestUnaryAccuracy(t *testing.T) {
	stride := uint32(4093)
	if testing.Short() {
		stride = 65521
	}
	xs := sweep(stride)
	got := make([]float32, len(xs))
	for _, c := range unaryCases {
		want := refs(xs, c.ref)
		forLevels(t, func(t *testing.T) {
			Unary(c.op, got, xs)
			worst, at := maxUlp(xs, got, c, want)
			t.Logf("%-9s max error %.3f ulp (at x=%g)", c.op, worst, at)
			if worst > c.ulps {
				t.Errorf("%v: %.3f ulp at x=%g (got %g, want %g); bound %v", c.op, worst, at, got[indexOf(xs, at)], c.ref(float64(at)), c.ulps)
			}
		})
	}
}

func indexOf(xs []float32, x float32) int {
	for i, v := range xs {
		if math.Float32bits(v) == math.Float32bits(x) {
			return i
		}
	}
	return 0
}

// TestUnaryTiers checks every vector tier against the pure-Go twin on all
// awkward lengths (tails included), element by element within 1 ulp.
func TestUnaryTiers(t *testing.T) {
	r := rng(1)
	ops := []UnaryOp{Exp, Sigmoid, SiLU, Tanh, GELU, GELUTanh}
	for _, n := range awkward {
		src := randSlice(r, n, 6)
		if n > 5 {
			src[0], src[1], src[2] = float32(math.NaN()), float32(math.Inf(-1)), float32(math.Inf(1))
		}
		for _, op := range ops {
			setLevel(0)
			want := make([]float32, n)
			Unary(op, want, src)
			forLevels(t, func(t *testing.T) {
				got := make([]float32, n)
				Unary(op, got, src)
				for i := range got {
					if d := ulpErr(got[i], float64(want[i])); d > 1 {
						t.Fatalf("%v n=%d i=%d x=%g: got %g, twin %g", op, n, i, src[i], got[i], want[i])
					}
				}
				// In place must equal out of place.
				in := append([]float32(nil), src...)
				Unary(op, in, in)
				for i := range in {
					if math.Float32bits(in[i]) != math.Float32bits(got[i]) {
						t.Fatalf("%v n=%d: in-place differs at %d", op, n, i)
					}
				}
			})
		}
	}
}

func TestSoftcap(t *testing.T) {
	r := rng(2)
	for _, n := range awkward {
		src := randSlice(r, n, 40)
		got := make([]float32, n)
		c := float32(30)
		forLevels(t, func(t *testing.T) {
			Softcap(got, src, c)
			want := make([]float64, n)
			for i, x := range src {
				want[i] = float64(c) * math.Tanh(float64(x)/float64(c))
			}
			if e := relErr(got, want); e > 4e-7 {
				t.Fatalf("n=%d: rel err %g", n, e)
			}
		})
	}
}

func TestFusedGLU(t *testing.T) {
	r := rng(3)
	type fused struct {
		name string
		f    func(dst, a, b []float32)
		op   UnaryOp
	}
	for _, fc := range []fused{{"silu", SiLUMul, SiLU}, {"gelu", GELUMul, GELU}, {"gelu_tanh", GELUTanhMul, GELUTanh}} {
		uc := unaryRef(fc.op)
		ref := uc.ref
		for _, n := range awkward {
			a, b := randSlice(r, n, 3), randSlice(r, n, 1)
			forLevels(t, func(t *testing.T) {
				got := make([]float32, n)
				fc.f(got, a, b)
				for i := range got {
					want := ref(float64(a[i])) * float64(b[i])
					e := ulpErr(got[i], want)
					if uc.cond != nil {
						e -= uc.cond(float64(a[i]))
					}
					if e > 2*uc.ulps+1 && math.Abs(want) > 0x1p-100 {
						t.Fatalf("%s n=%d i=%d: got %g want %g (%.1f ulp)", fc.name, n, i, got[i], want, e)
					}
				}
			})
		}
	}
}

func unaryRef(op UnaryOp) unaryCase {
	for _, c := range unaryCases {
		if c.op == op {
			return c
		}
	}
	panic(fmt.Sprint("no reference for ", op))
}
