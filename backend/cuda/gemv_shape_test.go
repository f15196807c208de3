package cuda

import (
	"testing"

	"github.com/rlx-go/rlx/tensor"
)

// TestGEMVInt8Shape pins gemvInt8Shape to the shapes BenchmarkGEMVInt8Shape
// found fastest on an H100 (docs/cuda.md), and checks that rows per block
// are always whole rounds of the block's row slots (the kernel's loop
// assumes it).
func TestGEMVInt8Shape(t *testing.T) {
	for _, c := range []struct {
		dt             tensor.DType
		n, k, wpr, rpb int
	}{
		{tensor.Q4_K, 3072, 1024, 1, 8},
		{tensor.Q4_K, 1024, 3072, 4, 2},
		{tensor.Q4_K, 8192, 2048, 1, 16},
		{tensor.Q6_K, 2048, 8192, 2, 4},
		{tensor.Q8_0, 151936, 1024, 1, 64},
		{tensor.Q4_K, 1024, 256, 1, 8}, // one piece per lane: no split
	} {
		wpr, rpb := gemvInt8Shape(c.dt, c.n, c.k)
		if wpr != c.wpr || rpb != c.rpb {
			t.Errorf("%v [%d, %d]: %d warps per row, %d rows per block; want %d, %d", c.dt, c.n, c.k, wpr, rpb, c.wpr, c.rpb)
		}
	}
	for _, n := range []int{1, 5, 67, 1000, 4301, 70000} {
		for _, k := range []int{256, 768, 8448} {
			wpr, rpb := gemvInt8Shape(tensor.Q4_K, n, k)
			if wpr < 1 || wpr > 8 || 8%wpr != 0 || rpb%(8/wpr) != 0 {
				t.Errorf("[%d, %d]: %d warps per row, %d rows per block", n, k, wpr, rpb)
			}
		}
	}
}

// TestGEMVMultiShape checks that the fused GEMV's shapes are whole rounds
// of a block's row slots for every warps-per-row setting, prepared or not.
func TestGEMVMultiShape(t *testing.T) {
	defer func(w int) { fuseWPR = w }(fuseWPR)
	for _, w := range []int{1, 2, 4, 8} {
		fuseWPR = w
		for _, dt := range []tensor.DType{tensor.Q4_K, tensor.Q8_0, tensor.Q6_K} {
			for _, n := range []int{1, 67, 512, 2048, 8192, 151936} {
				for _, k := range []int{256, 1024, 8192} {
					for _, pair := range []bool{false, true} {
						for _, prepared := range []bool{false, true} {
							wpr, rpb := gemvMultiShape(dt, n, k, pair, prepared)
							if wpr < 1 || wpr > 8 || 8%wpr != 0 || rpb < 1 || rpb%(8/wpr) != 0 {
								t.Errorf("%v [%d, %d] pair=%v prepared=%v fuseWPR=%d: %d warps per row, %d rows per block",
									dt, n, k, pair, prepared, w, wpr, rpb)
							}
							if prepared && wpr != w {
								t.Errorf("prepared: %d warps per row, want fuseWPR = %d", wpr, w)
							}
						}
					}
				}
			}
		}
	}
}
