package kernels

import "math"

// Scalar float32 implementations of the transcendental functions. They are
// the pure-Go twins of the vector assembly: the same range reduction, the same
// polynomials and the same order of fused multiply-adds, so the two agree to
// within one ulp (exactly, except for rare double roundings in fmaf).
//
// Polynomial coefficients come from internal/gen/fit.go (Lawson's weighted
// least squares towards the minimax fit, float64); internal/gen writes them
// to polyconst.go and into the assembly.

func fmaf(a, b, c float32) float32 {
	return float32(math.FMA(float64(a), float64(b), float64(c)))
}

// expf is exp(x) in float32, within 1 ulp of the exact value.
func expf(x float32) float32 {
	if x != x {
		return x
	}
	x = min(max(x, expClampLo), expClampHi)
	n := float32(math.RoundToEven(float64(x * log2e)))
	r := fmaf(-n, ln2Hi, x)
	r = fmaf(-n, ln2Lo, r)
	q := fmaf(e4, r, e3)
	q = fmaf(q, r, e2)
	q = fmaf(q, r, e1)
	q = fmaf(q, r, e0)
	r2 := r * r
	p := fmaf(r2, q, r) + 1
	// p·2ⁿ as p·2^(n>>1)·2^(n−n>>1): both factors are normal floats and only
	// the last product rounds, exactly as the AVX2 code does.
	k := int32(n)
	k1 := k >> 1
	k2 := k - k1
	p *= math.Float32frombits(uint32(k1+127) << 23)
	return p * math.Float32frombits(uint32(k2+127)<<23)
}

// sigmoidf is 1/(1+exp(-x)) without overflow: for x < 0 it is e/(1+e), e = exp(x).
func sigmoidf(x float32) float32 {
	e := expf(-abs32(x))
	d := 1 + e
	num := float32(1)
	if !(x >= 0) {
		num = e
	}
	return num / d
}

func siluf(x float32) float32 { return x * sigmoidf(x) }

func tanhf(x float32) float32 {
	a := abs32(x)
	if a < tanhSmall {
		u := x * x
		q := fmaf(t4, u, t3)
		q = fmaf(q, u, t2)
		q = fmaf(q, u, t1)
		q = fmaf(q, u, t0)
		return fmaf(x*u, q, x)
	}
	e := expf(-2 * a)
	r := (1 - e) / (1 + e)
	return math.Float32frombits(math.Float32bits(r) | math.Float32bits(x)&(1<<31))
}

// erfcPos is erfc(z) for z ≥ 0 given z² = hh + hl exactly (hl the rounding
// error of hh), so the Gaussian factor keeps full relative accuracy.
func erfcPos(z, hh, hl float32) float32 {
	t := 1 / fmaf(z, 0.5, 1)
	s := fmaf(t, 2, -1)
	p := erfcP[10]
	for i := 9; i >= 0; i-- {
		p = fmaf(p, s, erfcP[i])
	}
	return t * (expf(-hh) * expf(p-hl))
}

// geluf is x·Φ(x) with Φ the standard normal CDF (PyTorch's exact gelu),
// computed through erfc so that it keeps relative accuracy for negative x.
func geluf(x float32) float32 {
	a := min(abs32(x), erfcZMax)
	hh := a * a
	hl := fmaf(a, a, -hh)
	c := erfcPos(a*invSqrt2, 0.5*hh, 0.5*hl)
	phi := 0.5 * c
	if x >= 0 {
		phi = fmaf(-0.5, c, 1)
	}
	if a < geluSmall {
		u := 0.5 * hh
		r := fmaf(erfR5, u, erfR4)
		r = fmaf(r, u, erfR3)
		r = fmaf(r, u, erfR2)
		r = fmaf(r, u, erfR1)
		r = fmaf(r, u, erfR0)
		phi = fmaf(x*halfInvSqrt2, r, 0.5)
	}
	return x * phi
}

// geluTanhf is PyTorch's gelu(approximate="tanh"), using the identity
// 0.5(1+tanh(u)) = sigmoid(2u) which avoids cancellation for negative x.
func geluTanhf(x float32) float32 {
	u := x * fmaf(x*x, geluTanhK, sqrt2OverPi)
	return x * sigmoidf(2*u)
}

// erff is erf(x); for |x| < 0.5 a Taylor-free route via tanh is not needed:
// erf = 1 - erfc keeps absolute error below 1e-7 and relative error small
// except near 0, where the odd series is used.
func erff(x float32) float32 {
	a := abs32(x)
	if a < 0.5 {
		// erf(x) = 2/√π (x - x³/3 + x⁵/10 - x⁷/42 + x⁹/216 - x¹¹/1320)
		u := x * x
		q := fmaf(u, -1.0/1320, 1.0/216)
		q = fmaf(q, u, -1.0/42)
		q = fmaf(q, u, 1.0/10)
		q = fmaf(q, u, -1.0/3)
		return fmaf(x*u, q, x) * 1.1283791670955126
	}
	a = min(a, erfcZMax)
	hh := a * a
	hl := fmaf(a, a, -hh)
	r := 1 - erfcPos(a, hh, hl)
	return math.Float32frombits(math.Float32bits(r) | math.Float32bits(x)&(1<<31))
}

func abs32(x float32) float32 {
	return math.Float32frombits(math.Float32bits(x) &^ (1 << 31))
}

func powf(x, y float32) float32 { return float32(math.Pow(float64(x), float64(y))) }
