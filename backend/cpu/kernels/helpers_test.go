package kernels

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/rlx-go/rlx/backend/cpu/cpuinfo"
)

// awkward are the lengths every slice kernel is tried on: 1, odd, primes,
// around the vector widths, and one beyond the 1 MiB L2 cache.
var awkward = []int{1, 2, 3, 7, 8, 15, 16, 17, 31, 33, 63, 64, 65, 127, 257, 1000, 4099, 300007}

func rng(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)) }

func randSlice(r *rand.Rand, n int, scale float64) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(r.NormFloat64() * scale)
	}
	return s
}

// ulp is the spacing of float32 values at |x| (the least denormal spacing
// below the normal range).
func ulp(x float64) float64 {
	a := math.Abs(x)
	if a < 0x1p-126 {
		return 0x1p-149
	}
	_, e := math.Frexp(a)
	return math.Ldexp(1, e-24)
}

// ulpErr is |got-want| in float32 ulps of want; NaN/Inf must match exactly.
func ulpErr(got float32, want float64) float64 {
	g := float64(got)
	if math.IsNaN(want) || math.IsNaN(g) {
		if math.IsNaN(want) && math.IsNaN(g) {
			return 0
		}
		return math.Inf(1)
	}
	w32 := float64(float32(want))
	if math.IsInf(w32, 0) || math.IsInf(g, 0) {
		if g == w32 {
			return 0
		}
		return math.Inf(1)
	}
	return math.Abs(g-want) / ulp(want)
}

// levels are the tiers this host can run, generic first.
func levels() []cpuinfo.Level {
	out := []cpuinfo.Level{cpuinfo.Generic}
	for l := cpuinfo.AVX2; l <= cpuinfo.Host.MaxLevel(); l++ {
		out = append(out, l)
	}
	return out
}

// forLevels runs f once per tier with that tier's kernels selected.
func forLevels(t *testing.T, f func(t *testing.T)) {
	t.Helper()
	defer setLevel(cpuinfo.Active)
	for _, l := range levels() {
		setLevel(l)
		t.Run(l.String(), f)
	}
}

// relErr is max|got-want| / max|want| over the slice (a norm-wise relative error).
func relErr(got []float32, want []float64) float64 {
	var num, den float64
	for i, w := range want {
		num = max(num, math.Abs(float64(got[i])-w))
		den = max(den, math.Abs(w))
	}
	if den == 0 {
		return num
	}
	return num / den
}
