//go:build amd64 && !purego

package silero

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/rlx-go/rlx/backend/cpu/cpuinfo"
)

// TestKernelsAgainstFloat64 runs every tier's kernels this CPU supports on
// random operands of awkward sizes, with padding strides and offsets, and
// compares with a float64 reference.
func TestKernelsAgainstFloat64(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	levels := []cpuinfo.Level{cpuinfo.Generic}
	for _, l := range []cpuinfo.Level{cpuinfo.AVX2, cpuinfo.AVX512} {
		if l <= cpuinfo.Host.MaxLevel() {
			levels = append(levels, l)
		}
	}
	for _, l := range levels {
		k := kernelsFor(l)
		for _, n := range []int{1, 15, 16, 17, 31, 32, 33, 48, 64, 95, 127, 192, 256, 387, 1031} {
			for _, nx := range []int{1, 2, 3, 4, 5, 8} {
				for _, rows := range []int{1, 3, 17, 64} {
					ldw := n + rng.IntN(5)
					ldx := n/2 + 1 + rng.IntN(n+3) // overlapping x_j, like strided frames
					ldo := rows + rng.IntN(3)
					w := randVec(rng, (rows-1)*ldw+n)
					x := randVec(rng, (nx-1)*ldx+n)
					out := make([]float32, (nx-1)*ldo+rows)
					mvTWith(k, out, ldo, w, ldw, rows, x, ldx, nx, n)
					for j := range nx {
						for r := range rows {
							var want float64
							for i := range n {
								want += float64(w[r*ldw+i]) * float64(x[j*ldx+i])
							}
							if d := math.Abs(float64(out[j*ldo+r]) - want); d > 1e-5*math.Sqrt(float64(n)) {
								t.Fatalf("level %v n=%d nx=%d rows=%d: out[%d][%d] = %v, want %v", l, n, nx, rows, j, r, out[j*ldo+r], want)
							}
						}
					}
				}
			}
		}
	}
}

func randVec(rng *rand.Rand, n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(rng.NormFloat64())
	}
	return v
}
