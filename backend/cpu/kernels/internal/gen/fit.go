//go:build ignore

// fit.go finds the polynomial coefficients used by the elementwise kernels.
// It runs Lawson's iteratively reweighted least squares (converging towards the
// minimax fit) in float64 and prints the coefficients and the maximum error.
//
//	go run fit.go
package main

import (
	"fmt"
	"math"
)

// lsq solves min ||W(Ac-b)|| by Householder QR.
func lsq(a [][]float64, b, w []float64) []float64 {
	m, n := len(a), len(a[0])
	A := make([][]float64, m)
	B := make([]float64, m)
	for i := range a {
		A[i] = make([]float64, n)
		for j := range n {
			A[i][j] = a[i][j] * w[i]
		}
		B[i] = b[i] * w[i]
	}
	for k := range n {
		var norm float64
		for i := k; i < m; i++ {
			norm += A[i][k] * A[i][k]
		}
		norm = math.Sqrt(norm)
		if A[k][k] > 0 {
			norm = -norm
		}
		v := make([]float64, m)
		for i := k; i < m; i++ {
			v[i] = A[i][k]
		}
		v[k] -= norm
		var vv float64
		for i := k; i < m; i++ {
			vv += v[i] * v[i]
		}
		if vv == 0 {
			continue
		}
		for j := k; j < n; j++ {
			var s float64
			for i := k; i < m; i++ {
				s += v[i] * A[i][j]
			}
			s *= 2 / vv
			for i := k; i < m; i++ {
				A[i][j] -= s * v[i]
			}
		}
		var s float64
		for i := k; i < m; i++ {
			s += v[i] * B[i]
		}
		s *= 2 / vv
		for i := k; i < m; i++ {
			B[i] -= s * v[i]
		}
	}
	c := make([]float64, n)
	for k := n - 1; k >= 0; k-- {
		s := B[k]
		for j := k + 1; j < n; j++ {
			s -= A[k][j] * c[j]
		}
		c[k] = s / A[k][k]
	}
	return c
}

// fit returns coefficients c of sum c_i*x^i approximating target, minimising
// max |weight*(poly-target)|.
func fit(lo, hi float64, deg int, target, weight func(float64) float64) ([]float64, float64) {
	const m = 3000
	xs := make([]float64, m)
	for k := range xs {
		xs[k] = (lo+hi)/2 + (hi-lo)/2*math.Cos((2*float64(k)+1)*math.Pi/(2*m))
	}
	a := make([][]float64, m)
	b := make([]float64, m)
	w := make([]float64, m)
	for i, x := range xs {
		a[i] = make([]float64, deg+1)
		for j := range deg + 1 {
			a[i][j] = math.Pow(x, float64(j))
		}
		b[i] = target(x)
		w[i] = weight(x)
	}
	lw := make([]float64, m)
	for i := range lw {
		lw[i] = 1.0 / m
	}
	var c []float64
	var maxe float64
	for range 200 {
		ww := make([]float64, m)
		for i := range ww {
			ww[i] = w[i] * math.Sqrt(lw[i])
		}
		c = lsq(a, b, ww)
		maxe = 0
		var sum float64
		for i, x := range xs {
			p := 0.0
			for j := deg; j >= 0; j-- {
				p = p*x + c[j]
			}
			e := math.Abs((p - b[i]) * w[i])
			maxe = max(maxe, e)
			lw[i] *= e
			sum += lw[i]
		}
		for i := range lw {
			lw[i] /= sum
		}
	}
	return c, maxe
}

func show(name string, c []float64, e float64) {
	fmt.Printf("%s: max weighted error %.3g\n", name, e)
	for i, v := range c {
		fmt.Printf("\t%d: %.9g (f32 %v)\n", i, v, float32(v))
	}
}

func main() {
	// exp(r) = 1 + r + r^2*Q(r) on |r| <= ln2/2; weight so the error is relative to exp.
	for _, d := range []int{4, 5} {
		c, e := fit(-0.34658, 0.34658, d, func(r float64) float64 {
			if r == 0 {
				return 0.5
			}
			return (math.Exp(r) - 1 - r) / (r * r)
		}, func(r float64) float64 { return r * r / math.Exp(r) })
		show(fmt.Sprintf("exp Q deg %d", d), c, e)
	}
	// tanh(x) = x + x^3*Q(x^2) for x in [0, 0.55]; fit Q in u=x^2.
	for _, d := range []int{3, 4, 5} {
		c, e := fit(1e-8, 0.3025, d, func(u float64) float64 {
			x := math.Sqrt(u)
			if u < 1e-6 {
				return -1.0/3 + 2*u/15
			}
			return (math.Tanh(x) - x) / (x * u)
		}, func(u float64) float64 { x := math.Sqrt(u); return x * u / math.Max(math.Tanh(x), 1e-300) })
		show(fmt.Sprintf("tanh Q deg %d", d), c, e)
	}
	// erf(z) = z*R(u), u = z², z in [0, 1/√2] (gelu for |x| < 1).
	for _, d := range []int{4, 5, 6} {
		c, e := fit(0, 0.5, d, func(u float64) float64 {
			if u == 0 {
				return 2 / math.Sqrt(math.Pi)
			}
			z := math.Sqrt(u)
			return math.Erf(z) / z
		}, func(u float64) float64 { return 1 })
		show(fmt.Sprintf("erf R deg %d", d), c, e)
	}
	// erfc(z) = t*exp(-z^2 + P(s)), t = 1/(1+z/2), s = 2t-1, z in [0, 10].
	for _, d := range []int{8, 9, 10, 11, 12} {
		c, e := fit(2.0/6-1, 1, d, func(s float64) float64 {
			t := (s + 1) / 2
			z := 2/t - 2
			return math.Log(math.Erfc(z)/t) + z*z
		}, func(float64) float64 { return 1 })
		show(fmt.Sprintf("erfc P deg %d", d), c, e)
	}
}
