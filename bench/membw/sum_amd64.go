//go:build amd64

package membw

import "github.com/rlx-go/rlx/backend/cpu/cpuinfo"

// sumAVX2 adds n32 groups of 32 floats at x (n32 ≥ 1) with eight
// independent accumulators and returns the total.
//
//go:noescape
func sumAVX2(x *float32, n32 int) float32

func sum(x []float32) float32 {
	n32 := len(x) / 32
	if cpuinfo.Active < cpuinfo.AVX2 || n32 == 0 {
		return sumGo(x)
	}
	return sumAVX2(&x[0], n32) + sumGo(x[n32*32:])
}
