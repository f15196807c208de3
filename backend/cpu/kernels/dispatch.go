package kernels

import "github.com/rlx-go/rlx/backend/cpu/cpuinfo"

// impls holds the slice kernels chosen for one instruction-set tier.
type impls struct {
	level                         cpuinfo.Level
	exp, sigmoid, silu, tanh      func(dst, src []float32)
	gelu, geluTanh                func(dst, src []float32)
	siluMul, geluMul, geluTanhMul func(dst, a, b []float32)
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
	}
}
