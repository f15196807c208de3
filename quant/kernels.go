package quant

import (
	"encoding/binary"

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
	if useAsm() && hi > lo {
		// one call for the whole run of rows
		w, sc := &m.data[lo*m.stride], &m.scales[lo*m.sstride]
		if m.kind == kindQ8_0 {
			dotQ8_0RowsVNNI(w, m.stride, sc, m.sstride, hi-lo, &qs[0], &d[0], &s[0], nb, &y[lo])
		} else {
			dotQ4_0RowsVNNI(w, m.stride, sc, m.sstride, hi-lo, &qs[0], &d[0], &s[0], nb, &y[lo])
		}
		return
	}
	fn := kern32(m.kind)
	for n := lo; n < hi; n++ {
		y[n] = fn(m.data[n*m.stride:], m.scales[n*m.sstride:(n+1)*m.sstride], qs, d, s, m.cols/32)
	}
}

// kern32 picks the Q8_0 / Q4_0 kernel for the active tier.
func kern32(kind kernelKind) func(w, sc []byte, qs []int8, d, s []float32, nb int) float32 {
	q8 := kind == kindQ8_0
	switch {
	case useAsm() && q8:
		return func(w, sc []byte, qs []int8, d, s []float32, _ int) float32 { return dotQ8_0VNNI(w, sc, qs, d, s) }
	case useAsm():
		return func(w, sc []byte, qs []int8, d, s []float32, _ int) float32 { return dotQ4_0VNNI(w, sc, qs, d, s) }
	case useAVX2() && q8:
		return func(w, sc []byte, qs []int8, d, s []float32, _ int) float32 { return dotQ8_0AVX2(w, sc, qs, d, s) }
	case useAVX2():
		return func(w, sc []byte, qs []int8, d, s []float32, _ int) float32 { return dotQ4_0AVX2(w, sc, qs, d, s) }
	case q8:
		return dotQ8_0Go
	}
	return dotQ4_0Go
}

func kRowsVNNI(kind kernelKind) func(w *byte, stride, rows int, x *byte, nsb int, out *float32) {
	switch kind {
	case kindQ4K:
		return dotQ4KRowsVNNI
	case kindQ5K:
		return dotQ5KRowsVNNI
	}
	return dotQ6KRowsVNNI
}

// kernK picks the K-quant kernel for the active tier.
func kernK(kind kernelKind) func(w, x []byte, nsb int) float32 {
	vnni, avx2 := useAsm(), useAVX2()
	switch kind {
	case kindQ4K:
		switch {
		case vnni:
			return dotQ4KVNNI
		case avx2:
			return dotQ4KAVX2
		}
		return dotQ4KGo
	case kindQ5K:
		switch {
		case vnni:
			return dotQ5KVNNI
		case avx2:
			return dotQ5KAVX2
		}
		return dotQ5KGo
	}
	switch {
	case vnni:
		return dotQ6KVNNI
	case avx2:
		return dotQ6KAVX2
	}
	return dotQ6KGo
}

func dotK(m *Matrix, a *act, r, lo, hi int, y []float32) {
	nsb := m.cols / qkK
	x := a.xk[r*nsb*actKBytes : (r+1)*nsb*actKBytes]
	if useAsm() && hi > lo {
		// one call for the whole run of rows
		rows := kRowsVNNI(m.kind)
		rows(&m.data[lo*m.stride], m.stride, hi-lo, &x[0], nsb, &y[lo])
		return
	}
	fn := kernK(m.kind)
	for n := lo; n < hi; n++ {
		y[n] = fn(m.data[n*m.stride:], x, nsb)
	}
}

// dot4Func returns the kernel that multiplies each weight row by four
// activation rows at once (y is the whole M×N output), or nil where there
// is none for this kind and tier.
func dot4Func(kind kernelKind) func(m *Matrix, a *act, r, lo, hi int, y []float32) {
	if !useAsm() {
		return nil
	}
	var fn func(w, x []byte, nsb, xstride int, out *[4]float32)
	switch kind {
	case kindQ8_0, kindQ4_0:
		return dot32x4
	case kindQ4K:
		fn = dotQ4KVNNI4
	case kindQ5K:
		fn = dotQ5KVNNI4
	case kindQ6K:
		fn = dotQ6KVNNI4
	default:
		return nil
	}
	return func(m *Matrix, a *act, r, lo, hi int, y []float32) {
		nsb := m.cols / qkK
		stride := nsb * actKBytes
		x := a.xk[r*stride : (r+4)*stride]
		var out [4]float32
		for n := lo; n < hi; n++ {
			fn(m.data[n*m.stride:], x, nsb, stride, &out)
			for i, v := range out {
				y[(r+i)*m.rows+n] = v
			}
		}
	}
}

func dot32x4(m *Matrix, a *act, r, lo, hi int, y []float32) {
	nb := a.kp / 32
	var rows [4]rows32
	for i := range rows {
		rows[i] = rows32{&a.qs[(r+i)*a.kp], &a.d[(r+i)*nb], &a.sum[(r+i)*nb]}
	}
	fn := dotQ8_0VNNI4
	if m.kind == kindQ4_0 {
		fn = dotQ4_0VNNI4
	}
	var out [4]float32
	for n := lo; n < hi; n++ {
		fn(m.data[n*m.stride:], m.scales[n*m.sstride:(n+1)*m.sstride], nb/16, &rows, &out)
		for i, v := range out {
			y[(r+i)*m.rows+n] = v
		}
	}
}

// The pure-Go kernels below are the portable fallback and the oracle of the
// assembly: each computes the exact integer block sums and combines them in
// float32 in block order.

func f16At(b []byte, i int) float32 { return tensor.F16ToF32(binary.LittleEndian.Uint16(b[2*i:])) }

// dot32Go is the Q8_0 (off 128: weights stored as q+128) and Q4_0 (off 8:
// nibbles q stand for q−8) kernel over the group layout:
// Σ_b dw_b·dx_b·Σ stored·x − off·Σ_b dw_b·dx_b·Σx.
func dot32Go(w, sc []byte, qs []int8, d, s []float32, nb int, q8 bool) float32 {
	var acc, corr float32
	for g := 0; g < (nb+15)/16; g++ {
		var lanes [16]int32
		xs := qs[blockGroup*g:]
		for q := 0; q < blockGroup; q++ {
			var v int32
			if q8 {
				v = int32(w[blockGroup*g+q])
			} else {
				c, p := q/64, q%64
				b := w[256*g+64*(c/2)+p]
				if c%2 == 1 {
					b >>= 4
				}
				v = int32(b & 0xf)
			}
			lanes[(q%64)/4] += v * int32(xs[q])
		}
		for L := 0; L < 16 && 16*g+L < nb; L++ {
			b := 16*g + L
			dw := f16At(sc, b)
			acc += dw * d[b] * float32(lanes[L])
			corr += dw * s[b]
		}
	}
	if q8 {
		return acc - 128*corr
	}
	return acc - 8*corr
}

func dotQ8_0Go(w, sc []byte, qs []int8, d, s []float32, nb int) float32 {
	return dot32Go(w, sc, qs, d, s, nb, true)
}

func dotQ4_0Go(w, sc []byte, qs []int8, d, s []float32, nb int) float32 {
	return dot32Go(w, sc, qs, d, s, nb, false)
}

// chunkLevel returns the level at chunk position i (0..255) of a
// super-block's repacked nibbles.
func chunkLevel(q []byte, i int) int32 {
	c, p := i/64, i%64
	v := q[64*(c/2)+p]
	if c%2 == 1 {
		v >>= 4
	}
	return int32(v & 0xf)
}

// dotK45Go is the Q4_K (hb == nil) and Q5_K kernel: per super-block
// dx·(d·Σ_j sc_j·Σ q·x − dmin·Σ_j m_j·Σx_j).
func dotK45Go(w, x []byte, nsb int, q5 bool) float32 {
	extra := 0
	if q5 {
		extra = 32
	}
	var acc float32
	for s := 0; s < nsb; s++ {
		q := w[128*s:]
		hb := w[nsb*128+32*s:]
		hdr := w[nsb*(128+extra)+20*s:]
		xs := x[s*actKBytes:]
		var lanes [8]int32 // per scale group, as the lanes of the assembly
		for i := 0; i < qkK; i++ {
			v := chunkLevel(q, i)
			if q5 && hb[i/8]>>(i%8)&1 != 0 {
				v += 16
			}
			lanes[(i%64)/4%8] += v * int32(int8(xs[i]))
		}
		var isum, msum int32
		for j := 0; j < 8; j++ {
			isum += int32(hdr[4+j]) * lanes[j]
			msum += int32(hdr[12+j]) * actKSum(xs, j)
		}
		dx := actKD(xs)
		acc += dx*f16At(hdr, 0)*float32(isum) - dx*f16At(hdr, 1)*float32(msum)
	}
	return acc
}

func dotQ4KGo(w, x []byte, nsb int) float32 { return dotK45Go(w, x, nsb, false) }
func dotQ5KGo(w, x []byte, nsb int) float32 { return dotK45Go(w, x, nsb, true) }

// dotQ6KGo: levels q in 0..63 stand for q−32, with int8 scales per 16.
func dotQ6KGo(w, x []byte, nsb int) float32 {
	var acc float32
	for s := 0; s < nsb; s++ {
		q := w[128*s:]
		hi := w[nsb*128+64*s:]
		hdr := w[nsb*192+18*s:]
		xs := x[s*actKBytes:]
		var lanes [16]int32
		for i := 0; i < qkK; i++ {
			v := chunkLevel(q, i) | int32(hi[i%64]>>(2*(i/64))&3)<<4
			lanes[(i%64)/4] += v * int32(int8(xs[i]))
		}
		var isum int32
		for g := 0; g < 16; g++ {
			isum += int32(int8(hdr[g])) * (lanes[g] - actKSum(xs, g))
		}
		acc += actKD(xs) * f16At(hdr[16:], 0) * float32(isum)
	}
	return acc
}

// q6kValue is element e (0..255) of a ggml Q6_K block, 0..63.
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
