package gemm

import (
	"github.com/rlx-go/rlx/backend/cpu/cpuinfo"
	"github.com/rlx-go/rlx/tensor"
)

// tier is one instruction-set level's micro-kernels and tile shape.
type tier struct {
	level cpuinfo.Level
	// mr×nr is the register tile: the kernels compute an mr×nr block of
	// C from an mr-row micro-panel of packed A and an nr-column
	// micro-panel of packed B.
	mr, nr int
	// kernel computes the tile for rows ≤ mr of A (kernels[rows]); nil
	// entries fall back to the pure-Go twin. The kernel always computes
	// nr columns; callers route partial column tiles through scratch.
	kernels [maxMR + 1]microKernel
	// lanes is the vector width in floats; edge[v][rows] computes a tile
	// of v·lanes < nr columns, for the last strip of B.
	lanes int
	edge  [maxNV][maxMR + 1]microKernel
	// packNK packs one nr-column strip of an NK-layout B; nil means Go.
	packNK func(dst []float32, b *B, ldb, n0, nw, k0, kb, nr int)
	// gemv computes y[i, n0:n1] = x_i · B_nᵀ for m ≤ gemvMaxM rows over an
	// NK-layout B; nil means Go.
	gemv func(y []float32, ldy int, x []float32, ldx int, b *B, ldb, m, n0, n1, k int, accumulate bool)
	// half[dt][w/lanes][rows] multiplies by a 16-bit packed strip
	// (PackHalf); halfGEMV[dt][m][w/lanes] is the strip GEMV. Missing
	// entries fall back to the pure-Go twins.
	half     map[tensor.DType]*[maxNV][maxMR + 1]halfMicroKernel
	halfGEMV map[tensor.DType]*[gemvMaxM + 1][maxNV]panelGEMV
	// stripF32[m][w/lanes] is the GEMV over a float32 strip (Pack); nil
	// means Pack keeps the original NK weight for the row GEMV.
	stripF32 *[gemvMaxM + 1][maxNV]panelGEMVF32
	// narrow[dt] converts 16·n16 floats to dt (F16, BF16) for PackHalf;
	// nil means the Go packer.
	narrow map[tensor.DType]func(dst *uint16, src *float32, n16 int)
}

// microKernel computes C[0:rows, 0:nr] (+)= Ap·Bp over k steps, where Ap
// holds k groups of mr floats (rows used) and Bp k groups of nr floats.
type microKernel func(k int, a, b []float32, c []float32, ldc int, accumulate bool)

// maxMR bounds the register tile height of every tier, maxNV its width in
// vectors.
const (
	maxMR = 16
	maxNV = 4
)

// gemvMaxM is the most rows of A a GEMV kernel takes at once.
const gemvMaxM = 4

// gemvRowsMax is the largest M that takes the GEMV path for NK weights
// that are not pre-packed, in groups of gemvMaxM rows: below it, packing
// B (a full pass over the weights, converted to f32) costs more than
// reading the weights once per group from L2.
const gemvRowsMax = 16

// goTier is the portable tier: the pure-Go twin of every kernel.
var goTier = &tier{level: cpuinfo.Generic, mr: 4, nr: 16, lanes: 4}

// tiers maps each level to its tier; levels the hardware lacks are absent.
// Filled by the architecture files' init.
var tiers = map[cpuinfo.Level]*tier{cpuinfo.Generic: goTier}

// tierFor returns the tier for level l, or the best one below it.
func tierFor(l cpuinfo.Level) *tier {
	for ; l > cpuinfo.Generic; l-- {
		if t, ok := tiers[l]; ok {
			return t
		}
	}
	return goTier
}

// activeTier is the tier cpuinfo.Active selects.
func activeTier() *tier { return tierFor(cpuinfo.Active) }

// width is how many columns the strip holding the last cols (< nr) columns
// of B is packed and computed with: the vector width rounded up, so a
// ragged right edge costs at most one partial vector instead of a whole
// nr-wide tile (N = 1024 with nr = 48 would otherwise compute 1056).
func (t *tier) width(cols int) int {
	if cols >= t.nr {
		return t.nr
	}
	return min(t.nr, roundUp(cols, t.lanes))
}

// micro runs the tier's kernel for a tile of rows ≤ t.mr rows and w
// columns (t.nr, or t.width of an edge); the packed A panel uses a stride
// of rows floats per k step, the packed B panel w floats.
func (t *tier) micro(rows, w, k int, a, b, c []float32, ldc int, accumulate bool) {
	kern := t.kernels[rows]
	if w != t.nr {
		kern = t.edge[w/t.lanes][rows]
	}
	if kern != nil {
		kern(k, a, b, c, ldc, accumulate)
		return
	}
	microGo(rows, w, k, a, b, c, ldc, accumulate)
}

// microGo is the pure-Go micro-kernel: C[0:mr, 0:nr] (+)= Ap·Bp, with Ap
// k-major groups of mr floats and Bp k-major groups of nr floats.
func microGo(mr, nr, k int, a, b, c []float32, ldc int, accumulate bool) {
	var acc [maxMR * 64]float32
	t := acc[:mr*nr]
	a = a[:k*mr]
	b = b[:k*nr]
	for p := range k {
		bp := b[p*nr : p*nr+nr]
		ap := a[p*mr : p*mr+mr]
		for i, av := range ap {
			row := t[i*nr : i*nr+nr]
			for j, bv := range bp {
				row[j] += av * bv
			}
		}
	}
	storeTile(c, ldc, t, mr, nr, accumulate)
}

// storeTile writes (or with accumulate, adds) the rows×cols tile t, stored
// densely, to c with row stride ldc: the last step of the pure-Go twins.
func storeTile(c []float32, ldc int, t []float32, rows, cols int, accumulate bool) {
	for i := range rows {
		dst := c[i*ldc : i*ldc+cols]
		src := t[i*cols : i*cols+cols]
		if accumulate {
			for j, v := range src {
				dst[j] += v
			}
		} else {
			copy(dst, src)
		}
	}
}
