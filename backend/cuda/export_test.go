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

// GEMVInt8Rows is the most activation rows that the int8-activation GEMV
// takes for quantized weights (0: none).
func GEMVInt8Rows() int { return gemvInt8Rows }

// SetGEMVInt8Rows sets gemvInt8Rows for kernels run from now on (0 sends
// every quantized GEMV to the f32-activation kernel); the returned func
// restores the default.
func SetGEMVInt8Rows(m int) (restore func()) {
	old := gemvInt8Rows
	gemvInt8Rows = m
	return func() { gemvInt8Rows = old }
}

// SetGEMVInt8Shape fixes the int8 GEMV's warps per row and rounds of rows
// per block (0, 0: gemvInt8Shape's choice); the returned func restores it.
func SetGEMVInt8Shape(warpsPerRow, rounds int) (restore func()) {
	w, r := gemvInt8WPR, gemvInt8Rounds
	gemvInt8WPR, gemvInt8Rounds = warpsPerRow, rounds
	return func() { gemvInt8WPR, gemvInt8Rounds = w, r }
}

// SetGEMVVariant picks the int8 GEMV kernels of the launches made from now
// on: oneRow sends one-row products to gemvq1_*, prepare quantizes the
// activations in a gemvq_prepare launch (gemvqp_*); restore undoes it.
func SetGEMVVariant(oneRow, prepare bool) (restore func()) {
	o, p := gemvOneRow, gemvPrepare
	gemvOneRow, gemvPrepare = oneRow, prepare
	return func() { gemvOneRow, gemvPrepare = o, p }
}
