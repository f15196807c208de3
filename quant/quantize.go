package quant

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/rlx-go/rlx/tensor"
)

// Quantize encodes src into dst as type t, block by block.
//
// len(src) must be a whole number of t's blocks and len(dst) exactly the
// bytes they occupy. The result is byte-identical to what llama.cpp's
// llama-quantize writes for t without an importance matrix (its
// quantize_row_*_ref functions); the float arithmetic is written out with
// explicit float32 rounding so that no platform fuses it differently.
// Blocks are independent, so callers may quantize disjoint ranges
// concurrently.
func Quantize(t tensor.DType, dst []byte, src []float32) error {
	want, err := t.RowBytes(int64(len(src)))
	if err != nil {
		return fmt.Errorf("quant: quantize %v: %w", t, err)
	}
	if int64(len(dst)) != want {
		return fmt.Errorf("quant: quantize %v: %d elements need %d bytes, have %d", t, len(src), want, len(dst))
	}
	fn := quantizers[t]
	if fn == nil {
		return fmt.Errorf("quant: quantize: unsupported type %v", t)
	}
	bs, bb := t.BlockSize(), t.BlockBytes()
	for i := 0; i < len(src)/bs; i++ {
		fn(dst[i*bb:(i+1)*bb], src[i*bs:(i+1)*bs])
	}
	return nil
}

// CanQuantize reports whether Quantize accepts type t.
func CanQuantize(t tensor.DType) bool { return t.Valid() && quantizers[t] != nil }

var quantizers = map[tensor.DType]func(b []byte, x []float32){
	tensor.F32:  func(b []byte, x []float32) { binary.LittleEndian.PutUint32(b, math.Float32bits(x[0])) },
	tensor.F16:  func(b []byte, x []float32) { binary.LittleEndian.PutUint16(b, tensor.F32ToF16(x[0])) },
	tensor.BF16: func(b []byte, x []float32) { binary.LittleEndian.PutUint16(b, tensor.F32ToBF16(x[0])) },
	tensor.Q4_0: quantQ4_0,
	tensor.Q4_1: quantQ4_1,
	tensor.Q5_0: quantQ5_0,
	tensor.Q5_1: quantQ5_1,
	tensor.Q8_0: quantQ8_0,
	tensor.Q8_1: quantQ8_1,
	tensor.Q2_K: quantQ2K,
	tensor.Q3_K: quantQ3K,
	tensor.Q4_K: quantQ4K,
	tensor.Q5_K: quantQ5K,
	tensor.Q6_K: quantQ6K,
	tensor.Q8_K: quantQ8K,
}

func putF16(b []byte, f float32) { binary.LittleEndian.PutUint16(b, tensor.F32ToF16(f)) }

func abs32(f float32) float32 { return math.Float32frombits(math.Float32bits(f) &^ (1 << 31)) }

// roundAway rounds half away from zero, as C's roundf.
func roundAway(f float32) float32 { return float32(math.Round(float64(f))) }

// nearestInt rounds to nearest, ties to even, with ggml's magic-number
// trick (valid for |f| < 2^22, which every caller guarantees); it is written
// the same way so that out-of-range inputs, should they occur, agree too.
func nearestInt(f float32) int32 {
	v := f + 12582912
	return int32(math.Float32bits(v)&0x007fffff) - 0x00400000
}

// recip returns 1/d, or 0 when d is 0.
func recip(d float32) float32 {
	if d != 0 {
		return 1 / d
	}
	return 0
}

// absMax returns the value of largest magnitude (the first one on ties)
// and that magnitude.
func absMax(x []float32) (maxv, amax float32) {
	for _, v := range x {
		if a := abs32(v); a > amax {
			amax, maxv = a, v
		}
	}
	return maxv, amax
}

func minMax(x []float32) (lo, hi float32) {
	lo, hi = math.MaxFloat32, -math.MaxFloat32
	for _, v := range x {
		if v < lo {
			lo = v
		}
		if v > hi {
			hi = v
		}
	}
	return lo, hi
}

// truncI8 converts like C's (int8_t)f for the in-range values it gets.
func truncI8(f float32) int8 { return int8(int32(f)) }

func quantQ4_0(b []byte, x []float32) {
	maxv, _ := absMax(x)
	d := maxv / -8
	id := recip(d)
	putF16(b, d)
	for j := 0; j < 16; j++ {
		x0 := truncI8(float32(x[j]*id) + 8.5)
		x1 := truncI8(float32(x[j+16]*id) + 8.5)
		b[2+j] = byte(min(15, x0)) | byte(min(15, x1))<<4
	}
}

func quantQ4_1(b []byte, x []float32) {
	lo, hi := minMax(x)
	d := (hi - lo) / 15
	id := recip(d)
	putF16(b, d)
	putF16(b[2:], lo)
	for j := 0; j < 16; j++ {
		x0 := truncI8(float32((x[j]-lo)*id) + 0.5)
		x1 := truncI8(float32((x[j+16]-lo)*id) + 0.5)
		b[4+j] = byte(min(15, x0)) | byte(min(15, x1))<<4
	}
}

func quantQ5_0(b []byte, x []float32) {
	maxv, _ := absMax(x)
	d := maxv / -16
	id := recip(d)
	putF16(b, d)
	var qh uint32
	for j := 0; j < 16; j++ {
		x0 := byte(min(31, truncI8(float32(x[j]*id)+16.5)))
		x1 := byte(min(31, truncI8(float32(x[j+16]*id)+16.5)))
		b[6+j] = x0&0xf | (x1&0xf)<<4
		qh |= uint32(x0>>4&1) << j
		qh |= uint32(x1>>4&1) << (j + 16)
	}
	binary.LittleEndian.PutUint32(b[2:], qh)
}

func quantQ5_1(b []byte, x []float32) {
	lo, hi := minMax(x)
	d := (hi - lo) / 31
	id := recip(d)
	putF16(b, d)
	putF16(b[2:], lo)
	var qh uint32
	for j := 0; j < 16; j++ {
		x0 := uint8(int32(float32((x[j]-lo)*id) + 0.5))
		x1 := uint8(int32(float32((x[j+16]-lo)*id) + 0.5))
		b[8+j] = x0&0xf | (x1&0xf)<<4
		qh |= uint32(x0>>4&1) << j
		qh |= uint32(x1>>4&1) << (j + 16)
	}
	binary.LittleEndian.PutUint32(b[4:], qh)
}

func quantQ8_0(b []byte, x []float32) {
	_, amax := absMax(x)
	d := amax / 127
	id := recip(d)
	putF16(b, d)
	for j := 0; j < 32; j++ {
		b[2+j] = byte(int8(roundAway(x[j] * id)))
	}
}

func quantQ8_1(b []byte, x []float32) {
	_, amax := absMax(x)
	d := amax / 127
	id := recip(d)
	putF16(b, d)
	sum := 0
	for j := 0; j < 32; j++ {
		q := int8(roundAway(x[j] * id))
		b[4+j] = byte(q)
		sum += int(q)
	}
	putF16(b[2:], float32(sum)*d)
}

// quantQ8K is the K-quant activation format: float32 d = max/−127, then
// 256 int8 and sixteen int16 sums of 16.
func quantQ8K(b []byte, x []float32) {
	clear(b)
	maxv, amax := absMax(x)
	if amax == 0 {
		return
	}
	iscale := -127 / maxv
	for j := 0; j < qkK; j++ {
		b[4+j] = byte(int8(min(127, nearestInt(iscale*x[j]))))
	}
	for j := 0; j < 16; j++ {
		var s int16
		for i := 0; i < 16; i++ {
			s += int16(int8(b[4+16*j+i]))
		}
		binary.LittleEndian.PutUint16(b[4+qkK+2*j:], uint16(s))
	}
	binary.LittleEndian.PutUint32(b, math.Float32bits(1/iscale))
}
