package quant

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/rlx-go/rlx/tensor"
)

// qkK is the element count of a K-quant super-block.
const qkK = 256

// iq4nlValues is the non-linear 4-bit codebook of IQ4_NL and IQ4_XS.
var iq4nlValues = [16]int8{-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113}

func f16(b []byte) float32 { return tensor.F16ToF32(binary.LittleEndian.Uint16(b)) }

// Dequantize decodes len(dst) elements of type t from src into dst.
//
// t may be any block-quantized type of the package, or F32, F16 or BF16.
// len(dst) must be a whole number of blocks and src must hold exactly the
// bytes those blocks occupy; anything else is an error, never a panic.
// The arithmetic repeats llama.cpp's reference dequantizers operation by
// operation, so results are bit-identical to theirs.
func Dequantize(t tensor.DType, dst []float32, src []byte) error {
	want, err := t.RowBytes(int64(len(dst)))
	if err != nil {
		return fmt.Errorf("quant: dequantize %v: %w", t, err)
	}
	if int64(len(src)) != want {
		return fmt.Errorf("quant: dequantize %v: %d elements need %d bytes, have %d", t, len(dst), want, len(src))
	}
	fn := dequantizers[t]
	if fn == nil {
		return fmt.Errorf("quant: dequantize: unsupported type %v", t)
	}
	bs, bb := t.BlockSize(), t.BlockBytes()
	for i := 0; i < len(dst)/bs; i++ {
		fn(dst[i*bs:(i+1)*bs], src[i*bb:(i+1)*bb])
	}
	return nil
}

// CanDequantize reports whether Dequantize accepts type t.
func CanDequantize(t tensor.DType) bool { return t.Valid() && dequantizers[t] != nil }

// dequantizers decode one block (or one element for scalar types).
var dequantizers = map[tensor.DType]func(y []float32, b []byte){
	tensor.F32:    func(y []float32, b []byte) { y[0] = math.Float32frombits(binary.LittleEndian.Uint32(b)) },
	tensor.F16:    func(y []float32, b []byte) { y[0] = f16(b) },
	tensor.BF16:   func(y []float32, b []byte) { y[0] = tensor.BF16ToF32(binary.LittleEndian.Uint16(b)) },
	tensor.Q4_0:   dequantQ4_0,
	tensor.Q4_1:   dequantQ4_1,
	tensor.Q5_0:   dequantQ5_0,
	tensor.Q5_1:   dequantQ5_1,
	tensor.Q8_0:   dequantQ8_0,
	tensor.Q8_1:   dequantQ8_1,
	tensor.Q2_K:   dequantQ2K,
	tensor.Q3_K:   dequantQ3K,
	tensor.Q4_K:   dequantQ4K,
	tensor.Q5_K:   dequantQ5K,
	tensor.Q6_K:   dequantQ6K,
	tensor.Q8_K:   dequantQ8K,
	tensor.IQ4_NL: dequantIQ4NL,
	tensor.IQ4_XS: dequantIQ4XS,
}

// Q4_0: fp16 d, 16 bytes; low nibbles are elements 0..15, high 16..31; x = d·(q−8).
func dequantQ4_0(y []float32, b []byte) {
	d := f16(b)
	qs := b[2:18]
	for j := 0; j < 16; j++ {
		y[j] = float32(int(qs[j]&0xf)-8) * d
		y[j+16] = float32(int(qs[j]>>4)-8) * d
	}
}

// Q4_1: fp16 d, fp16 m, 16 bytes; x = d·q + m.
func dequantQ4_1(y []float32, b []byte) {
	d, m := f16(b), f16(b[2:])
	qs := b[4:20]
	for j := 0; j < 16; j++ {
		y[j] = float32(float32(qs[j]&0xf)*d) + m
		y[j+16] = float32(float32(qs[j]>>4)*d) + m
	}
}

// Q5_0: fp16 d, 32 high bits, 16 bytes of nibbles; x = d·(q−16).
func dequantQ5_0(y []float32, b []byte) {
	d := f16(b)
	qh := binary.LittleEndian.Uint32(b[2:])
	qs := b[6:22]
	for j := 0; j < 16; j++ {
		h0 := byte(qh>>j<<4) & 0x10
		h1 := byte(qh>>(j+12)) & 0x10
		y[j] = float32(int(qs[j]&0xf|h0)-16) * d
		y[j+16] = float32(int(qs[j]>>4|h1)-16) * d
	}
}

// Q5_1: fp16 d, fp16 m, 32 high bits, 16 bytes; x = d·q + m.
func dequantQ5_1(y []float32, b []byte) {
	d, m := f16(b), f16(b[2:])
	qh := binary.LittleEndian.Uint32(b[4:])
	qs := b[8:24]
	for j := 0; j < 16; j++ {
		h0 := byte(qh>>j<<4) & 0x10
		h1 := byte(qh>>(j+12)) & 0x10
		y[j] = float32(float32(qs[j]&0xf|h0)*d) + m
		y[j+16] = float32(float32(qs[j]>>4|h1)*d) + m
	}
}

// Q8_0: fp16 d, 32 signed bytes; x = d·q.
func dequantQ8_0(y []float32, b []byte) {
	d := f16(b)
	for j := 0; j < 32; j++ {
		y[j] = float32(int8(b[2+j])) * d
	}
}

// Q8_1: fp16 d, fp16 s (= d·Σq, unused here), 32 signed bytes; x = d·q.
// ggml has no dequantizer for this activation-only type; this is the
// natural one.
func dequantQ8_1(y []float32, b []byte) {
	d := f16(b)
	for j := 0; j < 32; j++ {
		y[j] = float32(int8(b[4+j])) * d
	}
}

// Q2_K: 16 bytes of 4-bit scale|min pairs, 64 bytes of 2-bit quants, fp16 d,
// fp16 dmin; x = d·sc·q − dmin·m for each group of 16.
func dequantQ2K(y []float32, b []byte) {
	scales := b[0:16]
	qs := b[16:80]
	d, dmin := f16(b[80:]), f16(b[82:])
	is := 0
	for half := 0; half < 2; half++ {
		q := qs[32*half:]
		for shift := 0; shift < 8; shift += 2 {
			for g := 0; g < 2; g++ {
				sc := scales[is]
				is++
				dl := d * float32(sc&0xf)
				ml := dmin * float32(sc>>4)
				for l := 0; l < 16; l++ {
					y[l] = float32(dl*float32((q[l+16*g]>>shift)&3)) - ml
				}
				y = y[16:]
			}
		}
	}
}

// q3kScales unpacks the sixteen 6-bit scales of a Q3_K block (stored as
// 4 low bits in bytes 0..7 and 2 high bits in bytes 8..11), minus 32.
func q3kScales(s []byte) [16]int8 {
	var out [16]int8
	for j := 0; j < 16; j++ {
		var lo byte
		if j < 8 {
			lo = s[j] & 0xf
		} else {
			lo = s[j-8] >> 4
		}
		hi := (s[8+j%4] >> (2 * (j / 4))) & 3
		out[j] = int8(lo|hi<<4) - 32
	}
	return out
}

// Q3_K: 32 bytes high-bit mask, 64 bytes of 2-bit quants, 12 bytes of 6-bit
// scales, fp16 d; x = d·(sc−32)·(q − 4·(1−h)).
func dequantQ3K(y []float32, b []byte) {
	hm := b[0:32]
	qs := b[32:96]
	sc := q3kScales(b[96:108])
	dAll := f16(b[108:])
	is := 0
	m := byte(1)
	for half := 0; half < 2; half++ {
		q := qs[32*half:]
		for shift := 0; shift < 8; shift += 2 {
			for g := 0; g < 2; g++ {
				dl := dAll * float32(sc[is])
				is++
				for l := 0; l < 16; l++ {
					v := int((q[l+16*g] >> shift) & 3)
					if hm[l+16*g]&m == 0 {
						v -= 4
					}
					y[l] = dl * float32(v)
				}
				y = y[16:]
			}
			m <<= 1
		}
	}
}

// scaleMinK4 decodes the j-th 6-bit scale and min of Q4_K/Q5_K's 12-byte field.
func scaleMinK4(j int, q []byte) (sc, m byte) {
	if j < 4 {
		return q[j] & 63, q[j+4] & 63
	}
	return q[j+4]&0xf | (q[j-4]>>6)<<4, q[j+4]>>4 | (q[j]>>6)<<4
}

// Q4_K: fp16 d, fp16 dmin, 12 bytes of 6-bit scales/mins, 128 bytes of
// nibbles (each 32 bytes hold 64 elements: low nibbles first);
// x = d·sc·q − dmin·m for each group of 32.
func dequantQ4K(y []float32, b []byte) {
	d, dmin := f16(b), f16(b[2:])
	scales := b[4:16]
	q := b[16:144]
	for j := 0; j < 4; j++ {
		sc, m := scaleMinK4(2*j, scales)
		d1, m1 := d*float32(sc), dmin*float32(m)
		sc, m = scaleMinK4(2*j+1, scales)
		d2, m2 := d*float32(sc), dmin*float32(m)
		for l := 0; l < 32; l++ {
			y[l] = float32(d1*float32(q[l]&0xf)) - m1
			y[l+32] = float32(d2*float32(q[l]>>4)) - m2
		}
		y, q = y[64:], q[32:]
	}
}

// Q5_K: like Q4_K plus 32 bytes of fifth bits (bit 2j of byte l for the
// low nibble of chunk j, bit 2j+1 for the high nibble).
func dequantQ5K(y []float32, b []byte) {
	d, dmin := f16(b), f16(b[2:])
	scales := b[4:16]
	qh := b[16:48]
	ql := b[48:176]
	u1, u2 := byte(1), byte(2)
	for j := 0; j < 4; j++ {
		sc, m := scaleMinK4(2*j, scales)
		d1, m1 := d*float32(sc), dmin*float32(m)
		sc, m = scaleMinK4(2*j+1, scales)
		d2, m2 := d*float32(sc), dmin*float32(m)
		for l := 0; l < 32; l++ {
			v1 := ql[l] & 0xf
			if qh[l]&u1 != 0 {
				v1 += 16
			}
			v2 := ql[l] >> 4
			if qh[l]&u2 != 0 {
				v2 += 16
			}
			y[l] = float32(d1*float32(v1)) - m1
			y[l+32] = float32(d2*float32(v2)) - m2
		}
		y, ql = y[64:], ql[32:]
		u1 <<= 2
		u2 <<= 2
	}
}

// Q6_K: 128 bytes low nibbles, 64 bytes high 2-bit pairs, 16 int8 scales,
// fp16 d; x = d·sc·(q−32) for each group of 16.
func dequantQ6K(y []float32, b []byte) {
	ql := b[0:128]
	qh := b[128:192]
	sc := b[192:208]
	d := f16(b[208:])
	for half := 0; half < 2; half++ {
		for l := 0; l < 32; l++ {
			is := l / 16
			h := qh[l]
			q1 := int(ql[l]&0xf|(h&3)<<4) - 32
			q2 := int(ql[l+32]&0xf|((h>>2)&3)<<4) - 32
			q3 := int(ql[l]>>4|((h>>4)&3)<<4) - 32
			q4 := int(ql[l+32]>>4|((h>>6)&3)<<4) - 32
			y[l] = float32(d*float32(int8(sc[is]))) * float32(q1)
			y[l+32] = float32(d*float32(int8(sc[is+2]))) * float32(q2)
			y[l+64] = float32(d*float32(int8(sc[is+4]))) * float32(q3)
			y[l+96] = float32(d*float32(int8(sc[is+6]))) * float32(q4)
		}
		y, ql, qh, sc = y[128:], ql[64:], qh[32:], sc[8:]
	}
}

// Q8_K: float32 d, 256 int8, 16 int16 group sums; x = d·q.
func dequantQ8K(y []float32, b []byte) {
	d := math.Float32frombits(binary.LittleEndian.Uint32(b))
	for j := 0; j < qkK; j++ {
		y[j] = d * float32(int8(b[4+j]))
	}
}

// IQ4_NL: fp16 d, 16 bytes of codebook indices; x = d·v[q].
func dequantIQ4NL(y []float32, b []byte) {
	d := f16(b)
	qs := b[2:18]
	for j := 0; j < 16; j++ {
		y[j] = d * float32(iq4nlValues[qs[j]&0xf])
		y[j+16] = d * float32(iq4nlValues[qs[j]>>4])
	}
}

// IQ4_XS: fp16 d, uint16 high scale bits, 4 bytes low scale nibbles,
// 128 bytes of codebook indices; x = d·(ls−32)·v[q] per group of 32.
func dequantIQ4XS(y []float32, b []byte) {
	d := f16(b)
	sh := binary.LittleEndian.Uint16(b[2:])
	sl := b[4:8]
	qs := b[8:136]
	for ib := 0; ib < 8; ib++ {
		ls := int((sl[ib/2]>>(4*(ib%2)))&0xf) | int((sh>>(2*ib))&3)<<4
		dl := d * float32(ls-32)
		for j := 0; j < 16; j++ {
			y[j] = dl * float32(iq4nlValues[qs[j]&0xf])
			y[j+16] = dl * float32(iq4nlValues[qs[j]>>4])
		}
		y, qs = y[32:], qs[16:]
	}
}
