package membw

import (
	"math/rand/v2"
	"testing"

	"github.com/rlx-go/rlx/backend/cpu/parallel"
)

func TestSumMatchesFloat64(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{0, 1, 31, 32, 33, 1000, 4099} {
		x := make([]float32, n)
		var want float64
		for i := range x {
			x[i] = float32(r.IntN(9) - 4) // small integers: every order sums exactly
			want += float64(x[i])
		}
		if got := sum(x); float64(got) != want {
			t.Errorf("n=%d: sum %g, want %g", n, got, want)
		}
		if got := sumGo(x); float64(got) != want {
			t.Errorf("n=%d: sumGo %g, want %g", n, got, want)
		}
	}
}

func TestSeries(t *testing.T) {
	b := NewBuffer(1 << 20)
	p := parallel.New(2)
	defer p.Close()
	s := b.Series(p, 0)
	if len(s) < 3 || s[0] <= 0 || s[0] > s[len(s)-1] {
		t.Fatalf("series %v: want ≥ 3 positive, sorted bandwidths", s)
	}
}
