package cuda

import "github.com/rlx-go/rlx/tensor"

// SetGEMVRun makes kernels prepared from now on use GEMV runs of r columns
// (for any number of rows) for weights of type dt (8, 16 or 32; Q6_K at most 16), so that tests
// check every variant; the returned func restores the default.
func SetGEMVRun(dt tensor.DType, r int) (restore func()) {
	old := gemvRun[dt]
	gemvRun[dt] = [2]int{r, r}
	return func() { gemvRun[dt] = old }
}

// SetGEMVUpTo sets the most activation rows that go to the GEMV kernel for
// quantized and for F16/BF16 weights (at most 8), for kernels prepared or
// run from now on; the returned func restores the defaults.
func SetGEMVUpTo(quantized, half int) (restore func()) {
	q, h := gemvQuantUpTo, gemvHalfUpTo
	gemvQuantUpTo, gemvHalfUpTo = quantized, half
	return func() { gemvQuantUpTo, gemvHalfUpTo = q, h }
}

// GEMVUpTo is the GEMV row limit for weights of type dt.
func GEMVUpTo(dt tensor.DType) int { return gemvUpTo(dt) }
