package quant

import (
	"encoding/binary"
	"math"

	"github.com/rlx-go/rlx/tensor"
)

// dotFunc computes y[n] = W[n]·x[r] for weight rows n in [lo, hi).
type dotFunc func(m *Matrix, a *act, r, lo, hi int, y []float32)

var dotFuncs = map[kernelKind]dotFunc{
	kindQ8_0: func(m *Matrix, a *act, r, lo, hi int, y []float32) { dot32(m, a, r, lo, hi, y, 128) },
	kindQ4_0: func(m *Matrix, a *act, r, lo, hi int, y []float32) { dot32(m, a, r, lo, hi, y, 8) },
	kindQ4K:  dotK,
	kindQ5K:  dotK,
	kindQ6K:  dotK,
}

func dot32(m *Matrix, a *act, r, lo, hi int, y []float32, off float32) {
	nb := a.kp / 32
	qs := a.qs[r*a.kp : (r+1)*a.kp]
	d := a.d[r*nb : (r+1)*nb]
	s := a.sum[r*nb : (r+1)*nb]
	asm := useAsm()
	for n := lo; n < hi; n++ {
		w := m.data[n*m.stride:]
		sc := m.scales[n*m.sstride : (n+1)*m.sstride]
		var v float32
		switch {
		case asm && m.kind == kindQ8_0:
			v = dotQ8_0VNNI(w, sc, qs, d, s)
		case asm:
			v = dotQ4_0VNNI(w, sc, qs, d, s)
		case m.kind == kindQ8_0:
			v = dotQ8_0Go(w, sc, qs, d, s, m.cols/32)
		default:
			v = dotQ4_0Go(w, sc, qs, d, s, m.cols/32)
		}
		y[n] = v
	}
}

func dotK(m *Matrix, a *act, r, lo, hi int, y []float32) {
	nsb := m.cols / qkK
	x := a.q8k[r*nsb*q8kBytes : (r+1)*nsb*q8kBytes]
	asm := useAsm()
	for n := lo; n < hi; n++ {
		w := m.data[n*m.stride:]
		var v float32
		switch m.kind {
		case kindQ4K:
			if asm {
				v = dotQ4KVNNI(w, x, nsb)
			} else {
				v = dotQ4KGo(w, x, nsb)
			}
		case kindQ5K:
			if asm {
				v = dotQ5KVNNI(w, x, nsb)
			} else {
				v = dotQ5KGo(w, x, nsb)
			}
		default:
			if asm {
				v = dotQ6KVNNI(w, x, nsb)
			} else {
				v = dotQ6KGo(w, x, nsb)
			}
		}
		y[n] = v
	}
}

// The pure-Go kernels below are the portable fallback and the oracle of the
// assembly: each computes the exact integer block sums and combines them in
// float32 in block order.

func f16At(b []byte, i int) float32 { return tensor.F16ToF32(binary.LittleEndian.Uint16(b[2*i:])) }

// dotQ8_0Go: weights stored as q+128, so Σ(q+128)·x − 128·Σx per block.
func dotQ8_0Go(w, sc []byte, qs []int8, d, s []float32, nb int) float32 {
	var acc, corr float32
	for b := 0; b < nb; b++ {
		var isum int32
		for j := 0; j < 32; j++ {
			isum += int32(w[32*b+j]) * int32(qs[32*b+j])
		}
		dw := f16At(sc, b)
		acc += dw * d[b] * float32(isum)
		corr += dw * s[b]
	}
	return acc - 128*corr
}

// dotQ4_0Go: nibbles q in 0..15 stand for q−8.
func dotQ4_0Go(w, sc []byte, qs []int8, d, s []float32, nb int) float32 {
	var acc, corr float32
	for b := 0; b < nb; b++ {
		var isum int32
		for j := 0; j < 32; j++ {
			e := 32*b + j
			g, i := e/128, e%128
			v := w[64*g+i%64]
			if i >= 64 {
				v >>= 4
			}
			isum += int32(v&0xf) * int32(qs[e])
		}
		dw := f16At(sc, b)
		acc += dw * d[b] * float32(isum)
		corr += dw * s[b]
	}
	return acc - 8*corr
}

// q8kBlock splits one ggml block_q8_K.
func q8kBlock(x []byte) (d float32, qs []byte, bsums []byte) {
	return math.Float32frombits(binary.LittleEndian.Uint32(x)), x[4 : 4+qkK], x[4+qkK : q8kBytes]
}

func bsum(bs []byte, i int) int32 { return int32(int16(binary.LittleEndian.Uint16(bs[2*i:]))) }

// nib128 returns element e (0..255) of a super-block in the repacked
// nibble layout.
func nib128(q []byte, e int) int32 {
	g, i := e/128, e%128
	v := q[64*g+i%64]
	if i >= 64 {
		v >>= 4
	}
	return int32(v & 0xf)
}

func dotQ4KGo(w, x []byte, nsb int) float32 {
	var acc float32
	for s := 0; s < nsb; s++ {
		hdr := w[nsb*128+16*s:]
		q := w[128*s:]
		dx, xq, bs := q8kBlock(x[s*q8kBytes:])
		var isum, msum int32
		for j := 0; j < 8; j++ {
			sc, mn := scaleMinK4(j, hdr[4:16])
			var t int32
			for i := 32 * j; i < 32*j+32; i++ {
				t += nib128(q, i) * int32(int8(xq[i]))
			}
			isum += int32(sc) * t
			msum += int32(mn) * (bsum(bs, 2*j) + bsum(bs, 2*j+1))
		}
		acc += dx*f16At(hdr, 0)*float32(isum) - dx*f16At(hdr, 1)*float32(msum)
	}
	return acc
}

func dotQ5KGo(w, x []byte, nsb int) float32 {
	var acc float32
	for s := 0; s < nsb; s++ {
		hdr := w[nsb*160+16*s:]
		q := w[128*s:]
		hb := w[nsb*128+32*s:]
		dx, xq, bs := q8kBlock(x[s*q8kBytes:])
		var isum, msum int32
		for j := 0; j < 8; j++ {
			sc, mn := scaleMinK4(j, hdr[4:16])
			var t int32
			for i := 32 * j; i < 32*j+32; i++ {
				v := nib128(q, i)
				if hb[i/8]>>(i%8)&1 != 0 {
					v += 16
				}
				t += v * int32(int8(xq[i]))
			}
			isum += int32(sc) * t
			msum += int32(mn) * (bsum(bs, 2*j) + bsum(bs, 2*j+1))
		}
		acc += dx*f16At(hdr, 0)*float32(isum) - dx*f16At(hdr, 1)*float32(msum)
	}
	return acc
}

// dotQ6KGo works on ggml's Q6_K layout: values q in 0..63 stand for q−32.
func dotQ6KGo(w, x []byte, nsb int) float32 {
	var acc float32
	for s := 0; s < nsb; s++ {
		b := w[210*s:]
		ql, qh, sc := b[0:128], b[128:192], b[192:208]
		dx, xq, bs := q8kBlock(x[s*q8kBytes:])
		var isum, bias int32
		for g := 0; g < 16; g++ {
			var t int32
			for i := 16 * g; i < 16*g+16; i++ {
				t += q6kValue(ql, qh, i) * int32(int8(xq[i]))
			}
			isum += int32(int8(sc[g])) * t
			bias += int32(int8(sc[g])) * bsum(bs, g)
		}
		acc += dx * f16At(b[208:], 0) * float32(isum-32*bias)
	}
	return acc
}

// q6kValue is element e (0..255) of a Q6_K block, 0..63.
func q6kValue(ql, qh []byte, e int) int32 {
	h, i := e/128, e%128
	l := i % 32
	var lo byte
	switch i / 32 {
	case 0:
		lo = ql[64*h+l] & 0xf
	case 1:
		lo = ql[64*h+32+l] & 0xf
	case 2:
		lo = ql[64*h+l] >> 4
	default:
		lo = ql[64*h+32+l] >> 4
	}
	hi := (qh[32*h+l] >> (2 * (i / 32))) & 3
	return int32(lo | hi<<4)
}
