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
// Statistics are accumulated in float64. dst may alias x.
func LayerNorm(dst, x, w, b []float32, n int, eps float32) {
	rows := len(x) / n
	for r := range rows {
		xr := x[r*n : (r+1)*n]
		var s float64
		for _, v := range xr {
			s += float64(v)
		}
		mean := s / float64(n)
		var ss float64
		for _, v := range xr {
			d := float64(v) - mean
			ss += d * d
		}
		inv := float32(1 / math.Sqrt(ss/float64(n)+float64(eps)))
		m := float32(mean)
		out := dst[r*n : (r+1)*n]
		switch {
		case w != nil && b != nil:
			for i, v := range xr {
				out[i] = (v-m)*inv*w[i] + b[i]
			}
		case w != nil:
			for i, v := range xr {
				out[i] = (v - m) * inv * w[i]
			}
		default:
			for i, v := range xr {
				y := (v - m) * inv
				if b != nil {
					y += b[i]
				}
				out[i] = y
			}
		}
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
