package kernels

import "github.com/rlx-go/rlx/backend/cpu/cpuinfo"

// impls holds the slice kernels chosen for one instruction-set tier.
type impls struct {
	level                         cpuinfo.Level
	exp, sigmoid, silu, tanh      func(dst, src []float32)
	gelu, geluTanh                func(dst, src []float32)
	siluMul, geluMul, geluTanhMul func(dst, a, b []float32)
	dotsF32                       func(s, q, k []float32, stride int)
	dotsF16                       func(s, q []float32, k []uint16, stride int)
	axpysF32                      func(acc, p, v []float32, stride int)
	axpysF16                      func(acc, p []float32, v []uint16, stride int)
	dotsGF32                      func(s []float32, sstride, n int, q []float32, G int, k []float32, kstride int)
	dotsGF16                      func(s []float32, sstride, n int, q []float32, G int, k []uint16, kstride int)
	axpysGF32                     func(acc []float32, astride, d, G int, p []float32, pstride, n int, v []float32, vstride int)
	axpysGF16                     func(acc []float32, astride, d, G int, p []float32, pstride, n int, v []uint16, vstride int)
	maxv                          func(x []float32) float32
	argmax                        func(x []float32) int
	expSubSum                     func(x []float32, m float32) float32
	f16ToF32                      func(dst []float32, src []uint16)
	f32ToF16                      func(dst []uint16, src []float32)
	bf16ToF32                     func(dst []float32, src []uint16)
	f32ToBF16                     func(dst []uint16, src []float32)
	sumSq                         func(x []float32) float32
	ropeHeads                     func(dst, src, cos, sin, scratch []float32, layout RoPELayout, heads, headDim, stride int)
	// lanesT is the slot count L of the transposed attention tiles; 0 disables them.
	lanesT   int
	scoresT  func(st []float32, L, n int, qt []float32, d int, k []float32, kstride int)
	softmaxT func(st []float32, L, n int, m, l, alpha []float32)
	pvT      func(acc []float32, L, d int, alpha, pt []float32, n int, v []float32, vstride int)
	f16Rows  func(dst []float32, src []uint16, rows, d, stride int)
	sumDev   func(x []float32, m float32, mode int) float32
	normRow  func(dst, x, w, b []float32, m, inv float32)
	binary   [4]func(dst, a, b []float32)
	scalar   [4]func(dst, a []float32, s float32)
	scaleRow func(dst, x, w []float32, s float32, plusOne bool)
}

var impl impls

func init() { setLevel(cpuinfo.Active) }

// setLevel selects the kernels of tier l (lowered to what the host and the
// architecture support). Tests call it to compare tiers.
func setLevel(l cpuinfo.Level) {
	impl = genericImpls()
	archImpls(&impl, l)
}

func genericImpls() impls {
	return impls{
		level:       cpuinfo.Generic,
		exp:         expGo,
		sigmoid:     sigmoidGo,
		silu:        siluGo,
		tanh:        tanhGo,
		gelu:        geluGo,
		geluTanh:    geluTanhGo,
		siluMul:     siluMulGo,
		geluMul:     geluMulGo,
		geluTanhMul: geluTanhMulGo,
		dotsF32:     dotsF32Go,
		dotsF16:     dotsF16Go,
		axpysF32:    axpysF32Go,
		axpysF16:    axpysF16Go,
		dotsGF32:    dotsGF32Go,
		dotsGF16:    dotsGF16Go,
		axpysGF32:   axpysGF32Go,
		axpysGF16:   axpysGF16Go,
		maxv:        maxOf,
		argmax:      argmaxGo,
		expSubSum:   expSubSumGo,
		f16ToF32:    f16ToF32Go,
		f32ToF16:    f32ToF16Go,
		bf16ToF32:   bf16ToF32Go,
		f32ToBF16:   f32ToBF16Go,
		sumSq:       sumSquares8,
		ropeHeads:   ropeHeadsGo,
		scoresT:     scoresTGo,
		softmaxT:    softmaxTGo,
		pvT:         pvTGo,
		f16Rows:     f16RowsGo,
		sumDev:      sumDevGo,
		normRow:     normRowGo,
		scaleRow:    scaleRowGo,
		binary:      [4]func(dst, a, b []float32){addGo, subGo, mulGo, divGo},
		scalar:      [4]func(dst, a []float32, s float32){addsGo, subsGo, mulsGo, divsGo},
	}
}
