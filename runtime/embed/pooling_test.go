package embed

import (
	"math"
	"math/rand/v2"
	"testing"
)

// poolRef is the float64 definition of every pooling, written as
// sentence-transformers states it (skipped rows masked out).
func poolRef(tokens []float32, n, h, skip int, p Pooling) []float64 {
	out := make([]float64, h)
	lo := min(skip, n-1)
	for i := range h {
		switch p {
		case CLS:
			out[i] = float64(tokens[i])
		case Last:
			out[i] = float64(tokens[(n-1)*h+i])
		case Max:
			out[i] = math.Inf(-1)
			for r := lo; r < n; r++ {
				out[i] = math.Max(out[i], float64(tokens[r*h+i]))
			}
		case Mean, MeanSqrtLen:
			for r := lo; r < n; r++ {
				out[i] += float64(tokens[r*h+i])
			}
			if p == Mean {
				out[i] /= float64(n - lo)
			} else {
				out[i] /= math.Sqrt(float64(n - lo))
			}
		}
	}
	return out
}

func TestPool(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{1, 2, 7, 61} {
		for _, h := range []int{1, 3, 64, 97} {
			tokens := make([]float32, n*h)
			for i := range tokens {
				tokens[i] = float32(rng.NormFloat64())
			}
			for _, p := range []Pooling{Mean, CLS, Max, Last, MeanSqrtLen} {
				for _, skip := range []int{0, 1, n + 3} {
					got := make([]float32, h)
					pool(got, tokens, n, h, skip, p)
					want := poolRef(tokens, n, h, skip, p)
					for i := range got {
						if d := math.Abs(float64(got[i]) - want[i]); d > 1e-6*(1+math.Abs(want[i])) {
							t.Fatalf("%v n=%d h=%d skip=%d: [%d] %g, want %g", p, n, h, skip, i, got[i], want[i])
						}
					}
				}
			}
		}
	}
}

func TestNormalize(t *testing.T) {
	v := []float32{3, 4}
	Normalize(v)
	if math.Abs(float64(v[0])-0.6) > 1e-7 || math.Abs(float64(v[1])-0.8) > 1e-7 {
		t.Fatal(v)
	}
	z := []float32{0, 0, 0}
	Normalize(z)
	for _, x := range z {
		if x != 0 {
			t.Fatal("zero vector changed", z)
		}
	}
}

func TestParsePooling(t *testing.T) {
	for s, want := range map[string]Pooling{"mean": Mean, "CLS": CLS, "max": Max, "lasttoken": Last, "last": Last, "": Default, "mean_sqrt_len_tokens": MeanSqrtLen} {
		got, err := ParsePooling(s)
		if err != nil || got != want {
			t.Fatalf("%q: %v %v, want %v", s, got, err, want)
		}
		if want != Default {
			if back, err := ParsePooling(got.String()); err != nil || back != got {
				t.Fatalf("%v round trip: %v %v", got, back, err)
			}
		}
	}
	if _, err := ParsePooling("median"); err == nil {
		t.Fatal("median accepted")
	}
}
