package quant

import (
	"encoding/binary"
	"math"
)

// K-quant activations: like ggml's Q8_K, one float32 scale per 256 values
// (here d = max|x|/127 and q = round-to-nearest-even(x·127/max|x|), the same
// arithmetic as the assembly), stored for the kernels:
//
//	[0, 256)   int8 values in the chunk order of the weight type
//	[256, 320) int32 sums: Q4_K/Q5_K eight sums of the 32-element groups;
//	           Q6_K sixteen sums of the 16-element groups times 32
//	[320, 324) float32 d
//
// The 64-byte stride keeps every part aligned.
const actKBytes = 384

func quantActK(b []byte, x []float32, kind kernelKind) {
	clear(b)
	_, amax := absMax(x)
	if amax == 0 {
		return
	}
	id := 127 / amax
	var q [qkK]int8
	for j, v := range x {
		q[j] = int8(max(-127, min(127, nearestInt(v*id))))
	}
	order := &kchunkOrder32
	if kind == kindQ6K {
		order = &kchunkOrder16
		for g := 0; g < 16; g++ {
			var s int32
			for _, v := range q[16*g : 16*g+16] {
				s += int32(v)
			}
			binary.LittleEndian.PutUint32(b[256+4*g:], uint32(32*s))
		}
	} else {
		for g := 0; g < 8; g++ {
			var s int32
			for _, v := range q[32*g : 32*g+32] {
				s += int32(v)
			}
			binary.LittleEndian.PutUint32(b[256+4*g:], uint32(s))
		}
	}
	for i, e := range order {
		b[i] = byte(q[e])
	}
	binary.LittleEndian.PutUint32(b[320:], math.Float32bits(amax/127))
}

func actKD(b []byte) float32 { return math.Float32frombits(binary.LittleEndian.Uint32(b[320:])) }

func actKSum(b []byte, g int) int32 { return int32(binary.LittleEndian.Uint32(b[256+4*g:])) }
