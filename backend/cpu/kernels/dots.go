package kernels

import "github.com/rlx-go/rlx/tensor"

// dotsF32Go sets s[j] = q·k[j·stride : j·stride+len(q)] for j < len(s).
func dotsF32Go(s, q, k []float32, stride int) {
	d := len(q)
	for j := range s {
		row := k[j*stride : j*stride+d]
		var acc [8]float32
		i := 0
		for ; i+8 <= d; i += 8 {
			for l := range 8 {
				acc[l] += q[i+l] * row[i+l]
			}
		}
		for ; i < d; i++ {
			acc[i&7] += q[i] * row[i]
		}
		s[j] = ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]))
	}
}

// dotsF16Go is dotsF32Go with half-precision keys.
func dotsF16Go(s, q []float32, k []uint16, stride int) {
	d := len(q)
	for j := range s {
		row := k[j*stride : j*stride+d]
		var acc [8]float32
		for i := range d {
			acc[i&7] += q[i] * tensor.F16ToF32(row[i])
		}
		s[j] = ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]))
	}
}

// axpysF32Go adds Σ_j p[j]·v[j·stride : j·stride+len(acc)] to acc.
func axpysF32Go(acc, p, v []float32, stride int) {
	d := len(acc)
	for j, w := range p {
		row := v[j*stride : j*stride+d]
		for i := range acc {
			acc[i] += w * row[i]
		}
	}
}

// axpysF16Go is axpysF32Go with half-precision values.
func axpysF16Go(acc, p []float32, v []uint16, stride int) {
	d := len(acc)
	for j, w := range p {
		row := v[j*stride : j*stride+d]
		for i := range acc {
			acc[i] += w * tensor.F16ToF32(row[i])
		}
	}
}

// dotsGF32Go sets s[g·sstride+j] = q_g·k[j·kstride:] for the G query rows of
// q (each len(q)/G long) and j < n.
func dotsGF32Go(s []float32, sstride, n int, q []float32, G int, k []float32, kstride int) {
	d := len(q) / G
	for gi := range G {
		dotsF32Go(s[gi*sstride:gi*sstride+n], q[gi*d:(gi+1)*d], k, kstride)
	}
}

// dotsGF16Go is dotsGF32Go with half-precision keys.
func dotsGF16Go(s []float32, sstride, n int, q []float32, G int, k []uint16, kstride int) {
	d := len(q) / G
	for gi := range G {
		dotsF16Go(s[gi*sstride:gi*sstride+n], q[gi*d:(gi+1)*d], k, kstride)
	}
}

// axpysGF32Go adds Σ_j p[g·pstride+j]·v[j·vstride:] to acc[g·astride:][:d] for g < G.
func axpysGF32Go(acc []float32, astride, d, G int, p []float32, pstride, n int, v []float32, vstride int) {
	for gi := range G {
		axpysF32Go(acc[gi*astride:gi*astride+d], p[gi*pstride:gi*pstride+n], v, vstride)
	}
}

// axpysGF16Go is axpysGF32Go with half-precision values.
func axpysGF16Go(acc []float32, astride, d, G int, p []float32, pstride, n int, v []uint16, vstride int) {
	for gi := range G {
		axpysF16Go(acc[gi*astride:gi*astride+d], p[gi*pstride:gi*pstride+n], v, vstride)
	}
}
