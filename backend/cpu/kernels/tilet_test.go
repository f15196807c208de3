package kernels

import (
	"math"
	"testing"
)

// TestTransposedTiles compares the tiers' transposed attention kernels with
// their twins on awkward key counts and head sizes.
func TestTransposedTiles(t *testing.T) {
	r := rng(30)
	forLevels(t, func(t *testing.T) {
		L := impl.lanesT
		if L == 0 {
			L = 8 // the generic tier has no vector version; still run the twins
		}
		for _, n := range []int{1, 3, 7, 8, 9, 64} {
			for _, d := range []int{8, 16, 48, 64, 80, 128} {
				k := randSlice(r, n*(d+3), 1)
				qt := randSlice(r, d*L, 1)
				st := make([]float32, n*L)
				want := make([]float32, n*L)
				impl.scoresT(st, L, n, qt, d, k, d+3)
				scoresTGo(want, L, n, qt, d, k, d+3)
				closeBits(t, "scoresT", st, want)

				m := randSlice(r, L, 1)
				m[0] = -math.MaxFloat32
				l := randSlice(r, L, 1)
				m2, l2 := append([]float32(nil), m...), append([]float32(nil), l...)
				alpha, alpha2 := make([]float32, L), make([]float32, L)
				st2 := append([]float32(nil), st...)
				st[0] = float32(math.Inf(-1)) // a masked key
				st2[0] = st[0]
				impl.softmaxT(st, L, n, m, l, alpha)
				softmaxTGo(st2, L, n, m2, l2, alpha2)
				closeBits(t, "softmaxT p", st, st2)
				closeBits(t, "softmaxT m", m, m2)
				closeBits(t, "softmaxT l", l, l2)
				closeBits(t, "softmaxT alpha", alpha, alpha2)

				v := randSlice(r, n*(d+5), 1)
				acc := randSlice(r, L*d, 1)
				acc2 := append([]float32(nil), acc...)
				impl.pvT(acc, L, d, alpha, st, n, v, d+5)
				pvTGo(acc2, L, d, alpha, st, n, v, d+5)
				closeBits(t, "pvT", acc, acc2)
			}
		}
	})
}

// closeBits requires equality within one ulp (the twins use the same
// operation order; fmaf may double-round).
func closeBits(t *testing.T, what string, got, want []float32) {
	t.Helper()
	for i := range want {
		if e := ulpErr(got[i], float64(want[i])); e > 1 {
			t.Fatalf("%s[%d]: %g, twin %g", what, i, got[i], want[i])
		}
	}
}

// TestGroupedKernels compares the grouped (GQA) dot and axpy kernels of
// every tier with their twins: group sizes 1–7 (split into 4/2/1), key
// counts around the 4-key blocks, f32 and f16.
func TestGroupedKernels(t *testing.T) {
	r := rng(31)
	forLevels(t, func(t *testing.T) {
		for _, G := range []int{1, 2, 3, 4, 5, 7} {
			for _, n := range []int{1, 3, 4, 5, 8, 64} {
				for _, d := range []int{8, 16, 24, 64, 128} {
					q := randSlice(r, G*d, 1)
					kf := randSlice(r, n*(d+2), 1)
					kh := make([]uint16, len(kf))
					F32ToF16(kh, kf)
					const ss = 70
					got, want := make([]float32, G*ss), make([]float32, G*ss)
					impl.dotsGF32(got, ss, n, q, G, kf, d+2)
					dotsGF32Go(want, ss, n, q, G, kf, d+2)
					near(t, "dotsGF32", got, want, 1e-6)
					impl.dotsGF16(got, ss, n, q, G, kh, d+2)
					dotsGF16Go(want, ss, n, q, G, kh, d+2)
					near(t, "dotsGF16", got, want, 1e-6)

					p := randSlice(r, G*ss, 1)
					acc := randSlice(r, G*(d+1), 1)
					acc2 := append([]float32(nil), acc...)
					impl.axpysGF32(acc, d+1, d, G, p, ss, n, kf, d+2)
					axpysGF32Go(acc2, d+1, d, G, p, ss, n, kf, d+2)
					near(t, "axpysGF32", acc, acc2, 1e-6)
					impl.axpysGF16(acc, d+1, d, G, p, ss, n, kh, d+2)
					axpysGF16Go(acc2, d+1, d, G, p, ss, n, kh, d+2)
					near(t, "axpysGF16", acc, acc2, 1e-6)
				}
			}
		}
	})
}

// near requires |got-want| ≤ tol·max|want| elementwise (summation orders differ).
func near(t *testing.T, what string, got, want []float32, tol float64) {
	t.Helper()
	var den float64
	for _, w := range want {
		den = math.Max(den, math.Abs(float64(w)))
	}
	for i := range want {
		if math.Abs(float64(got[i])-float64(want[i])) > tol*math.Max(den, 1) {
			t.Fatalf("%s[%d]: %g, twin %g", what, i, got[i], want[i])
		}
	}
}
