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
