package kernels

import "math"

// RMSNorm normalises each row of n values of x by its root mean square and
// multiplies by w: dst = x/√(mean(x²)+eps)·w, or ·(1+w) when plusOne is set
// (Gemma's convention). w may be nil (no weight). dst may alias x. The number
// of rows is len(x)/n; callers split rows by slicing.
func RMSNorm(dst, x, w []float32, n int, eps float32, plusOne bool) {
	rows := len(x) / n
	for r := range rows {
		xr := x[r*n : (r+1)*n]
		ss := sumSquares(xr)
		inv := float32(1 / math.Sqrt(float64(ss/float32(n)+eps)))
		impl.scaleRow(dst[r*n:(r+1)*n], xr, w, inv, plusOne)
	}
}

// AddRMSNorm is the fused residual step: sum = x + res (written out, the new
// residual stream) and dst = RMSNorm(sum). sum may alias x or res.
func AddRMSNorm(dst, sum, x, res, w []float32, n int, eps float32, plusOne bool) {
	Binary(Add, sum[:len(x)], x, res)
	RMSNorm(dst, sum[:len(x)], w, n, eps, plusOne)
}

func scaleRowGo(dst, x, w []float32, inv float32, plusOne bool) {
	dst = dst[:len(x)]
	switch {
	case w == nil:
		for i, v := range x {
			dst[i] = v * inv
		}
	case plusOne:
		w = w[:len(x)]
		for i, v := range x {
			dst[i] = (v * inv) * (1 + w[i])
		}
	default:
		w = w[:len(x)]
		for i, v := range x {
			dst[i] = (v * inv) * w[i]
		}
	}
}

// LayerNorm normalises each row of n values to zero mean and unit variance
// (biased variance, as PyTorch) and applies dst = x̂·w + b; w and b may be nil.
// The mean and variance are two passes of float32 vector sums per 512-value
// chunk, added in float64. dst may alias x.
func LayerNorm(dst, x, w, b []float32, n int, eps float32) {
	rows := len(x) / n
	for r := range rows {
		xr := x[r*n : (r+1)*n]
		mean := float32(chunked(xr, 0, 0) / float64(n))
		vr := chunked(xr, mean, 1) / float64(n)
		inv := float32(1 / math.Sqrt(vr+float64(eps)))
		impl.normRow(dst[r*n:(r+1)*n], xr, w, b, mean, inv)
	}
}

// AddLayerNorm is the fused residual step of post- or pre-norm encoders:
// sum = x + res (written out) and dst = LayerNorm(sum). sum may alias x or res.
func AddLayerNorm(dst, sum, x, res, w, b []float32, n int, eps float32) {
	Binary(Add, sum[:len(x)], x, res)
	LayerNorm(dst, sum[:len(x)], w, b, n, eps)
}

// chunked adds sumDev over 512-value chunks in float64.
func chunked(x []float32, m float32, mode int) float64 {
	var tot float64
	for len(x) > 0 {
		k := min(len(x), sumChunk)
		tot += float64(impl.sumDev(x[:k], m, mode))
		x = x[k:]
	}
	return tot
}

// sumDevGo is Σx (mode 0) or Σ(x−m)² (mode 1) in eight float32 lanes.
func sumDevGo(x []float32, m float32, mode int) float32 {
	var s [8]float32
	for i, v := range x {
		if mode == 1 {
			d := v - m
			v = d * d
		}
		s[i&7] += v
	}
	return ((s[0] + s[4]) + (s[1] + s[5])) + ((s[2] + s[6]) + (s[3] + s[7]))
}

// normRowGo sets dst = (x−m)·inv, then ·w and +b where given (t·w+b fused).
func normRowGo(dst, x, w, b []float32, m, inv float32) {
	dst = dst[:len(x)]
	for i, v := range x {
		t := (v - m) * inv
		switch {
		case w != nil && b != nil:
			t = fmaf(t, w[i], b[i])
		case w != nil:
			t *= w[i]
		case b != nil:
			t += b[i]
		}
		dst[i] = t
	}
}

// sumSquares is Σx², in float32 lanes per chunk and float64 across chunks.
func sumSquares(x []float32) float32 {
	var tot float64
	for len(x) > 0 {
		n := min(len(x), sumChunk)
		tot += float64(impl.sumSq(x[:n]))
		x = x[n:]
	}
	return float32(tot)
}

func sumSquares8(x []float32) float32 {
	var s [8]float32
	i := 0
	for ; i+8 <= len(x); i += 8 {
		for k := range 8 {
			s[k] += x[i+k] * x[i+k]
		}
	}
	for ; i < len(x); i++ {
		s[i&7] += x[i] * x[i]
	}
	return ((s[0] + s[4]) + (s[1] + s[5])) + ((s[2] + s[6]) + (s[3] + s[7]))
}
