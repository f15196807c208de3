//go:build amd64

package gemm

import (
	"unsafe"

	"github.com/rlx-go/rlx/backend/cpu/cpuinfo"
	"github.com/rlx-go/rlx/tensor"
)

//go:generate go run ./internal/gen

func init() {
	if cpuinfo.Host.MaxLevel() >= cpuinfo.AVX2 {
		t := &tier{level: cpuinfo.AVX2, mr: 6, nr: 16, lanes: 8, gemv: gemvAVX2, packNK: packNKAVX2}
		asmKernels := [...]func(k int, a, b, c *float32, ldc int, accumulate int){
			nil, microAVX2R1, microAVX2R2, microAVX2R3, microAVX2R4, microAVX2R5, microAVX2R6,
		}
		for r := 1; r <= t.mr; r++ {
			t.kernels[r] = wrapMicro(asmKernels[r], r, t.nr)
		}
		w8 := [...]func(k int, a, b, c *float32, ldc int, accumulate int){
			nil, microAVX2W8R1, microAVX2W8R2, microAVX2W8R3, microAVX2W8R4, microAVX2W8R5, microAVX2W8R6,
		}
		for r := 1; r <= t.mr; r++ {
			t.edge[1][r] = wrapMicro(w8[r], r, 8)
		}
		tiers[cpuinfo.AVX2] = t
	}
	if cpuinfo.Host.MaxLevel() >= cpuinfo.AVX512 {
		t := &tier{level: cpuinfo.AVX512, mr: 8, nr: 48, lanes: 16, packNK: packNKAVX512, gemv: gemvAVX512}
		asmKernels := [...]func(k int, a, b, c *float32, ldc int, accumulate int){
			nil, microAVX512R1, microAVX512R2, microAVX512R3, microAVX512R4,
			microAVX512R5, microAVX512R6, microAVX512R7, microAVX512R8,
		}
		for r := 1; r <= t.mr; r++ {
			t.kernels[r] = wrapMicro(asmKernels[r], r, t.nr)
		}
		w16 := [...]func(k int, a, b, c *float32, ldc int, accumulate int){
			nil, microAVX512W16R1, microAVX512W16R2, microAVX512W16R3, microAVX512W16R4,
			microAVX512W16R5, microAVX512W16R6, microAVX512W16R7, microAVX512W16R8,
		}
		w32 := [...]func(k int, a, b, c *float32, ldc int, accumulate int){
			nil, microAVX512W32R1, microAVX512W32R2, microAVX512W32R3, microAVX512W32R4,
			microAVX512W32R5, microAVX512W32R6, microAVX512W32R7, microAVX512W32R8,
		}
		for r := 1; r <= t.mr; r++ {
			t.edge[1][r] = wrapMicro(w16[r], r, 16)
			t.edge[2][r] = wrapMicro(w32[r], r, 32)
		}
		t.half = map[tensor.DType]*[maxNV][maxMR + 1]halfMicroKernel{
			tensor.F16: halfMicros(16, [3][8]func(k int, a *float32, b *uint16, c *float32, ldc int, accumulate int){
				{microAVX512F16W16R1, microAVX512F16W16R2, microAVX512F16W16R3, microAVX512F16W16R4, microAVX512F16W16R5, microAVX512F16W16R6, microAVX512F16W16R7, microAVX512F16W16R8},
				{microAVX512F16W32R1, microAVX512F16W32R2, microAVX512F16W32R3, microAVX512F16W32R4, microAVX512F16W32R5, microAVX512F16W32R6, microAVX512F16W32R7, microAVX512F16W32R8},
				{microAVX512F16R1, microAVX512F16R2, microAVX512F16R3, microAVX512F16R4, microAVX512F16R5, microAVX512F16R6, microAVX512F16R7, microAVX512F16R8},
			}),
			tensor.BF16: halfMicros(16, [3][8]func(k int, a *float32, b *uint16, c *float32, ldc int, accumulate int){
				{microAVX512BF16W16R1, microAVX512BF16W16R2, microAVX512BF16W16R3, microAVX512BF16W16R4, microAVX512BF16W16R5, microAVX512BF16W16R6, microAVX512BF16W16R7, microAVX512BF16W16R8},
				{microAVX512BF16W32R1, microAVX512BF16W32R2, microAVX512BF16W32R3, microAVX512BF16W32R4, microAVX512BF16W32R5, microAVX512BF16W32R6, microAVX512BF16W32R7, microAVX512BF16W32R8},
				{microAVX512BF16R1, microAVX512BF16R2, microAVX512BF16R3, microAVX512BF16R4, microAVX512BF16R5, microAVX512BF16R6, microAVX512BF16R7, microAVX512BF16R8},
			}),
		}
		t.halfGEMV = map[tensor.DType]*[gemvMaxM + 1][maxNV]panelGEMV{
			tensor.F16: panelGEMVs(16, [4][3]func(y *float32, ldy int, x *float32, ldx int, s *uint16, k int, accumulate int){
				{gemvPanelAVX512F16M1W16, gemvPanelAVX512F16M1W32, gemvPanelAVX512F16M1W48},
				{gemvPanelAVX512F16M2W16, gemvPanelAVX512F16M2W32, gemvPanelAVX512F16M2W48},
				{gemvPanelAVX512F16M3W16, gemvPanelAVX512F16M3W32, gemvPanelAVX512F16M3W48},
				{gemvPanelAVX512F16M4W16, gemvPanelAVX512F16M4W32, gemvPanelAVX512F16M4W48},
			}),
			tensor.BF16: panelGEMVs(16, [4][3]func(y *float32, ldy int, x *float32, ldx int, s *uint16, k int, accumulate int){
				{gemvPanelAVX512BF16M1W16, gemvPanelAVX512BF16M1W32, gemvPanelAVX512BF16M1W48},
				{gemvPanelAVX512BF16M2W16, gemvPanelAVX512BF16M2W32, gemvPanelAVX512BF16M2W48},
				{gemvPanelAVX512BF16M3W16, gemvPanelAVX512BF16M3W32, gemvPanelAVX512BF16M3W48},
				{gemvPanelAVX512BF16M4W16, gemvPanelAVX512BF16M4W32, gemvPanelAVX512BF16M4W48},
			}),
		}
		t.stripF32 = panelGEMVsF32(16, [4][3]func(y *float32, ldy int, x *float32, ldx int, s *float32, k int, accumulate int){
			{gemvPanelAVX512F32M1W16, gemvPanelAVX512F32M1W32, gemvPanelAVX512F32M1W48},
			{gemvPanelAVX512F32M2W16, gemvPanelAVX512F32M2W32, gemvPanelAVX512F32M2W48},
			{gemvPanelAVX512F32M3W16, gemvPanelAVX512F32M3W32, gemvPanelAVX512F32M3W48},
			{gemvPanelAVX512F32M4W16, gemvPanelAVX512F32M4W32, gemvPanelAVX512F32M4W48},
		})
		t.narrow = map[tensor.DType]func(dst *uint16, src *float32, n16 int){
			tensor.BF16: narrowAVX512BF16,
		}
		if cpuinfo.Host.F16C {
			t.narrow[tensor.F16] = narrowAVX512F16
		}
		tiers[cpuinfo.AVX512] = t
		if cpuinfo.Active >= cpuinfo.AVX512 {
			packA8 = packA8AVX512
		}
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// wrapMicro bounds-checks the slices once and calls the assembly kernel.
func wrapMicro(f func(k int, a, b, c *float32, ldc int, accumulate int), rows, nr int) microKernel {
	return func(k int, a, b, c []float32, ldc int, accumulate bool) {
		if k == 0 {
			microGo(rows, nr, 0, a, b, c, ldc, accumulate)
			return
		}
		_ = a[k*rows-1]
		_ = b[k*nr-1]
		_ = c[(rows-1)*ldc+nr-1]
		f(k, &a[0], &b[0], &c[0], ldc, b2i(accumulate))
	}
}

// halfMicros wraps the 16-bit-B micro-kernels fs[nv-1][rows-1] (tiles of
// nv·lanes columns) with bounds checks.
func halfMicros(lanes int, fs [3][8]func(k int, a *float32, b *uint16, c *float32, ldc int, accumulate int)) *[maxNV][maxMR + 1]halfMicroKernel {
	var out [maxNV][maxMR + 1]halfMicroKernel
	for v := range fs {
		for r, f := range fs[v] {
			rows, nr := r+1, (v+1)*lanes
			out[v+1][rows] = func(k int, a []float32, b []uint16, c []float32, ldc int, accumulate bool) {
				_ = a[k*rows-1]
				_ = b[k*nr-1]
				_ = c[(rows-1)*ldc+nr-1]
				f(k, &a[0], &b[0], &c[0], ldc, b2i(accumulate))
			}
		}
	}
	return &out
}

// panelGEMVs wraps the strip GEMV kernels fs[m-1][nv-1] with bounds checks.
func panelGEMVs(lanes int, fs [4][3]func(y *float32, ldy int, x *float32, ldx int, s *uint16, k int, accumulate int)) *[gemvMaxM + 1][maxNV]panelGEMV {
	var out [gemvMaxM + 1][maxNV]panelGEMV
	for mi := range fs {
		for v, f := range fs[mi] {
			m, w := mi+1, (v+1)*lanes
			out[m][v+1] = func(y []float32, ldy int, x []float32, ldx int, s []uint16, k int, accumulate bool) {
				_ = x[(m-1)*ldx+k-1]
				_ = y[(m-1)*ldy+w-1]
				_ = s[k*w-1]
				f(&y[0], ldy, &x[0], ldx, &s[0], k, b2i(accumulate))
			}
		}
	}
	return &out
}

// panelGEMVsF32 wraps the float32 strip GEMV kernels fs[m-1][nv-1] with
// bounds checks.
func panelGEMVsF32(lanes int, fs [4][3]func(y *float32, ldy int, x *float32, ldx int, s *float32, k int, accumulate int)) *[gemvMaxM + 1][maxNV]panelGEMVF32 {
	var out [gemvMaxM + 1][maxNV]panelGEMVF32
	for mi := range fs {
		for v, f := range fs[mi] {
			m, w := mi+1, (v+1)*lanes
			out[m][v+1] = func(y []float32, ldy int, x []float32, ldx int, s []float32, k int, accumulate bool) {
				_ = x[(m-1)*ldx+k-1]
				_ = y[(m-1)*ldy+w-1]
				_ = s[k*w-1]
				f(&y[0], ldy, &x[0], ldx, &s[0], k, b2i(accumulate))
			}
		}
	}
	return &out
}

// u16 views float32 or 16-bit weights as the assembly's *uint16 argument.
func wptr(b *B, off int) *uint16 {
	if b.DType == tensor.F32 {
		return (*uint16)(unsafe.Pointer(&b.F32[off]))
	}
	return &b.U16[off]
}

var transposers = map[tensor.DType]func(dst *float32, ldd int, src *uint16, lds int, kblocks int){
	tensor.F32:  transpose16AVX512F32,
	tensor.F16:  transpose16AVX512F16,
	tensor.BF16: transpose16AVX512BF16,
}

var transposers8 = map[tensor.DType]func(dst *float32, ldd int, src *uint16, lds int, kblocks int){
	tensor.F32:  transpose8AVX2F32,
	tensor.F16:  transpose8AVX2F16,
	tensor.BF16: transpose8AVX2BF16,
}

// packNKAVX2 packs an NK strip with 8×8 register transposes; the ragged
// edges go through Go.
func packNKAVX2(dst []float32, b *B, ldb, n0, nw, k0, kb, nr int) {
	packNKBlocks(dst, b, ldb, n0, nw, k0, kb, nr, 8, transposers8[b.DType])
}

// packNKAVX512 packs an NK strip with 16×16 register transposes; the
// ragged edges (a partial group of 16 rows, k%16) go through Go.
func packNKAVX512(dst []float32, b *B, ldb, n0, nw, k0, kb, nr int) {
	packNKBlocks(dst, b, ldb, n0, nw, k0, kb, nr, 16, transposers[b.DType])
}

// packNKBlocks packs full blocks of w rows × w depths with tr, the rest
// with packNKEdges.
func packNKBlocks(dst []float32, b *B, ldb, n0, nw, k0, kb, nr, w int, tr func(dst *float32, ldd int, src *uint16, lds int, kblocks int)) {
	dst = dst[:kb*nr]
	kfull := kb / w * w
	groups := nw / w
	if kfull == 0 || tr == nil || (b.DType == tensor.F16 && !cpuinfo.Host.F16C) {
		packNKGo(dst, b, ldb, n0, nw, k0, kb, nr)
		return
	}
	for g := range groups {
		j := n0 + g*w
		// Bounds: the last element the transposer reads.
		last := (j+w-1)*ldb + k0 + kfull - 1
		if b.DType == tensor.F32 {
			_ = b.F32[last]
		} else {
			_ = b.U16[last]
		}
		tr(&dst[g*w], nr, wptr(b, j*ldb+k0), ldb, kfull/w)
	}
	if groups*w < nr || kfull < kb {
		packNKEdges(dst, b, ldb, n0, nw, k0, kb, nr, groups*w, kfull)
	}
}

// packNKEdges fills what packNKAVX512's full blocks left: columns from
// jdone on (zero past nw) for every k, and depths from kdone on for the
// columns before jdone.
func packNKEdges(dst []float32, b *B, ldb, n0, nw, k0, kb, nr, jdone, kdone int) {
	conv := func(idx int) float32 {
		switch b.DType {
		case tensor.F16:
			return tensor.F16ToF32(b.U16[idx])
		case tensor.BF16:
			return tensor.BF16ToF32(b.U16[idx])
		}
		return b.F32[idx]
	}
	for j := jdone; j < nr; j++ {
		if j >= nw {
			for p := range kb {
				dst[p*nr+j] = 0
			}
			continue
		}
		off := (n0+j)*ldb + k0
		for p := range kb {
			dst[p*nr+j] = conv(off + p)
		}
	}
	for j := range jdone {
		off := (n0+j)*ldb + k0
		for p := kdone; p < kb; p++ {
			dst[p*nr+j] = conv(off + p)
		}
	}
}

type gemvFunc func(y *float32, ldy int, x *float32, ldx int, w *uint16, ldw int, rows int, k int, accumulate int)

// gemvKernels[dtype][m] streams weight rows one at a time for m rows of x.
var gemvKernels = map[tensor.DType][gemvMaxM + 1]gemvFunc{
	tensor.F32:  {nil, gemvAVX512F32M1, gemvAVX512F32M2, gemvAVX512F32M3, gemvAVX512F32M4},
	tensor.F16:  {nil, gemvAVX512F16M1, gemvAVX512F16M2, gemvAVX512F16M3, gemvAVX512F16M4},
	tensor.BF16: {nil, gemvAVX512BF16M1, gemvAVX512BF16M2, gemvAVX512BF16M3, gemvAVX512BF16M4},
}

// gemvAVX512 runs weight rows [n0, n1) through the streaming kernel.
func gemvAVX512(y []float32, ldy int, x []float32, ldx int, b *B, ldb, m, n0, n1, k int, accumulate bool) {
	ks, ok := gemvKernels[b.DType]
	if !ok || m < 1 || m > gemvMaxM || k == 0 || n1 <= n0 {
		gemvGo(y, ldy, x, ldx, b, ldb, m, n0, n1, k, accumulate)
		return
	}
	// Bounds of everything the kernels touch.
	_ = x[(m-1)*ldx+k-1]
	_ = y[(m-1)*ldy+n1-1]
	if b.DType == tensor.F32 {
		_ = b.F32[(n1-1)*ldb+k-1]
	} else {
		_ = b.U16[(n1-1)*ldb+k-1]
	}
	ks[m](&y[n0], ldy, &x[0], ldx, wptr(b, n0*ldb), ldb, n1-n0, k, b2i(accumulate))
}

var gemvKernelsAVX2 = map[tensor.DType][gemvMaxM + 1]gemvFunc{
	tensor.F32:  {nil, gemvAVX2F32M1, gemvAVX2F32M2, gemvAVX2F32M3, gemvAVX2F32M4},
	tensor.F16:  {nil, gemvAVX2F16M1, gemvAVX2F16M2, gemvAVX2F16M3, gemvAVX2F16M4},
	tensor.BF16: {nil, gemvAVX2BF16M1, gemvAVX2BF16M2, gemvAVX2BF16M3, gemvAVX2BF16M4},
}

// gemvAVX2 runs weight rows [n0, n1) one at a time over the first k/8·8
// columns in assembly; the ragged k tail (fewer than 8 columns) is added
// in Go.
func gemvAVX2(y []float32, ldy int, x []float32, ldx int, b *B, ldb, m, n0, n1, k int, accumulate bool) {
	ks, ok := gemvKernelsAVX2[b.DType]
	k8 := k / 8 * 8
	if !ok || m < 1 || m > gemvMaxM || k8 == 0 || n1 <= n0 || (b.DType == tensor.F16 && !cpuinfo.Host.F16C) {
		gemvGo(y, ldy, x, ldx, b, ldb, m, n0, n1, k, accumulate)
		return
	}
	_ = x[(m-1)*ldx+k-1]
	_ = y[(m-1)*ldy+n1-1]
	if b.DType == tensor.F32 {
		_ = b.F32[(n1-1)*ldb+k-1]
	} else {
		_ = b.U16[(n1-1)*ldb+k-1]
	}
	ks[m](&y[n0], ldy, &x[0], ldx, wptr(b, n0*ldb), ldb, n1-n0, k/8, b2i(accumulate))
	if k8 == k {
		return
	}
	// The tail: y += x[:, k8:k]·w[n0:n1, k8:k]ᵀ.
	tail := B{Layout: NK, DType: b.DType}
	if b.DType == tensor.F32 {
		tail.F32 = b.F32[k8:]
	} else {
		tail.U16 = b.U16[k8:]
	}
	gemvGo(y, ldy, x[k8:], ldx, &tail, ldb, m, n0, n1, k-k8, true)
}
