package gemm

import (
	"fmt"

	"github.com/rlx-go/rlx/backend/cpu/parallel"
	"github.com/rlx-go/rlx/tensor"
)

// PackHalf packs 16-bit NK weights (F16 or BF16, as checkpoints store
// them) into the micro-kernel's strip order without widening them: the
// packed copy has the same size as the weight, and the kernels widen each
// vector as they load it. Strips of nr columns hold all K rows one after
// another (strip s at element s·K·nr; the last strip is the vector width
// rounded up), so the GEMM walks a kc-deep block of a strip contiguously
// and the GEMV (M ≤ 4) reads a worker's run of strips as one sequential
// stream. The result keeps no reference to b: it replaces the weight for
// products, so the caller can release the original.
func PackHalf(p *parallel.Pool, b B, n, k int) (*PackedB, error) {
	return packHalfFor(p, activeTier(), b, n, k)
}

func packHalfFor(p *parallel.Pool, t *tier, b B, n, k int) (*PackedB, error) {
	if p == nil {
		p = parallel.Default()
	}
	if b.DType != tensor.F16 && b.DType != tensor.BF16 {
		return nil, fmt.Errorf("gemm: pack half: %v weights (want F16 or BF16)", b.DType)
	}
	pr, err := newProblem(1, Matrix{}, 0, Matrix{}, 0, b, 0, 0, n, k)
	if err != nil {
		return nil, fmt.Errorf("gemm: pack half: %w", err)
	}
	nr := t.nr
	strips := (n + nr - 1) / nr
	pb := &PackedB{t: t, n: n, k: k, strips: strips, hdt: b.DType}
	if n == 0 || k == 0 {
		return pb, nil
	}
	last := t.width(n - (strips-1)*nr)
	pb.half = allocStrips[uint16](pb, (strips-1)*k*nr+k*last)
	p.For(strips, 1, func(lo, hi int) {
		for s := lo; s < hi; s++ {
			n0 := s * nr
			nw := min(nr, n-n0)
			w := t.width(nw)
			packHalfStrip(t, pb.half[s*k*nr:s*k*nr+k*w], &pr.b, pr.ldb, n0, nw, w, k)
		}
	})
	return pb, nil
}

// packHalfStrip writes dst[p*w+j] = b[n0+j][p] for j < nw (zero for
// nw ≤ j < w), p < k. With a narrowing kernel it goes through float32: the
// register transposes of packB, then back to 16 bits, exactly (every f16
// and bf16 value is a float32; only a signaling NaN comes back quieted);
// that is about ten times faster than moving 16-bit values one by one.
func packHalfStrip(t *tier, dst []uint16, b *B, ldb, n0, nw, w, k int) {
	nar := t.narrow[b.DType]
	if nar == nil || w%16 != 0 {
		packHalfStripGo(dst, b.U16, ldb, n0, nw, w, k)
		return
	}
	buf := getBuf(&bBufs, kc*w)
	defer putBuf(&bBufs, buf)
	for pc := 0; pc < k; pc += kc {
		kb := min(kc, k-pc)
		f := (*buf)[:kb*w]
		packB(t, f, b, ldb, n0, nw, pc, kb, w)
		out := dst[pc*w : pc*w+kb*w]
		nar(&out[0], &f[0], kb*w/16)
	}
}

// packHalfStripGo is packHalfStrip moving 16-bit values, 16 depths at a
// time so each source row is read a cache line at a go.
func packHalfStripGo(dst, src []uint16, ldb, n0, nw, w, k int) {
	const blk = 16
	for p0 := 0; p0 < k; p0 += blk {
		p1 := min(k, p0+blk)
		for j := range nw {
			row := src[(n0+j)*ldb+p0 : (n0+j)*ldb+p1]
			for i, v := range row {
				dst[(p0+i)*w+j] = v
			}
		}
		for p := p0; p < p1; p++ {
			clear(dst[p*w+nw : p*w+w])
		}
	}
}

// halfStrip returns the kb-deep block at depth pc of strip s, w wide.
func (pb *PackedB) halfStrip(s, w, pc, kb int) []uint16 {
	base := s*pb.k*pb.t.nr + pc*w
	return pb.half[base : base+kb*w]
}

// hasStripGEMV reports whether products with few rows take the strip
// GEMV (gemvStrips): always for 16-bit strips, for float32 ones where the
// tier has the kernel.
func (pb *PackedB) hasStripGEMV() bool { return pb.half != nil || pb.t.stripF32 != nil }

// gemvStrips computes C[0:m, :] (+)= A·B for m ≤ gemvMaxM from the packed
// strips: workers take contiguous runs of strips, each read once.
func (pb *PackedB) gemvStrips(p *parallel.Pool, c []float32, ldc int, a []float32, lda, m int, accumulate bool) {
	grain := max(1, (pb.strips+4*p.Size()-1)/(4*p.Size()))
	p.For(pb.strips, grain, func(lo, hi int) {
		for s := lo; s < hi; s++ {
			pb.gemvStrip(s, c, ldc, a, lda, m, accumulate)
		}
	})
}

// gemvStrip computes columns [s·nr, s·nr+nr) of C[0:m, :] (+)= A·B from
// strip s.
func (pb *PackedB) gemvStrip(s int, c []float32, ldc int, a []float32, lda, m int, accumulate bool) {
	t := pb.t
	j := s * t.nr
	cols := min(t.nr, pb.n-j)
	w := t.width(cols)
	strip := func(y []float32, ldy int, acc bool) {
		if pb.half != nil {
			t.gemvPanel(pb.hdt, m, w, pb.k, y, ldy, a, lda, pb.halfStrip(s, w, 0, pb.k), acc)
		} else {
			t.gemvPanelF32(m, w, pb.k, y, ldy, a, lda, pb.stripF32(s, w, 0, pb.k), acc)
		}
	}
	if cols == w {
		strip(c[j:], ldc, accumulate)
		return
	}
	// The last strip is wider than what is left of C.
	var tmp [gemvMaxM * 64]float32
	strip(tmp[:], w, false)
	for i := range m {
		dst := c[i*ldc+j : i*ldc+j+cols]
		for x, v := range tmp[i*w : i*w+cols] {
			if accumulate {
				dst[x] += v
			} else {
				dst[x] = v
			}
		}
	}
}

// halfMicroKernel is microKernel with a 16-bit packed B.
type halfMicroKernel func(k int, a []float32, b []uint16, c []float32, ldc int, accumulate bool)

// panelGEMVF32 is panelGEMV over a float32 strip.
type panelGEMVF32 func(y []float32, ldy int, x []float32, ldx int, s []float32, k int, accumulate bool)

// gemvPanelF32 runs the tier's float32 strip GEMV kernel, or the twin.
func (t *tier) gemvPanelF32(m, w, k int, y []float32, ldy int, x []float32, ldx int, s []float32, accumulate bool) {
	if t.stripF32 != nil && k > 0 {
		if f := t.stripF32[m][w/t.lanes]; f != nil {
			f(y, ldy, x, ldx, s, k, accumulate)
			return
		}
	}
	gemvPanelF32Go(m, w, k, y, ldy, x, ldx, s, accumulate)
}

// gemvPanelF32Go is the pure-Go twin of the float32 strip GEMV kernels.
func gemvPanelF32Go(m, w, k int, y []float32, ldy int, x []float32, ldx int, s []float32, accumulate bool) {
	var acc [gemvMaxM * 64]float32
	s = s[:k*w]
	for p := range k {
		row := s[p*w : p*w+w]
		for i := range m {
			xv := x[i*ldx+p]
			ai := acc[i*w : i*w+w]
			for j, v := range row {
				ai[j] += xv * v
			}
		}
	}
	for i := range m {
		dst := y[i*ldy : i*ldy+w]
		if accumulate {
			for j, v := range acc[i*w : i*w+w] {
				dst[j] += v
			}
		} else {
			copy(dst, acc[i*w:i*w+w])
		}
	}
}

// panelGEMV computes y[i, 0:w] (+)= x_i · strip for m ≤ gemvMaxM rows of x
// over k rows of a w-wide 16-bit strip.
type panelGEMV func(y []float32, ldy int, x []float32, ldx int, s []uint16, k int, accumulate bool)

// microHalf runs the tier's 16-bit-B kernel for a rows×w tile, or the twin.
func (t *tier) microHalf(dt tensor.DType, rows, w, k int, a []float32, b []uint16, c []float32, ldc int, accumulate bool) {
	if ks, ok := t.half[dt]; ok && k > 0 {
		if f := ks[w/t.lanes][rows]; f != nil {
			f(k, a, b, c, ldc, accumulate)
			return
		}
	}
	microHalfGo(dt, rows, w, k, a, b, c, ldc, accumulate)
}

// gemvPanel runs the tier's strip GEMV kernel, or the twin.
func (t *tier) gemvPanel(dt tensor.DType, m, w, k int, y []float32, ldy int, x []float32, ldx int, s []uint16, accumulate bool) {
	if ks, ok := t.halfGEMV[dt]; ok && k > 0 {
		if f := ks[m][w/t.lanes]; f != nil {
			f(y, ldy, x, ldx, s, k, accumulate)
			return
		}
	}
	gemvPanelGo(dt, m, w, k, y, ldy, x, ldx, s, accumulate)
}

func widen(dt tensor.DType, h uint16) float32 {
	if dt == tensor.BF16 {
		return tensor.BF16ToF32(h)
	}
	return tensor.F16ToF32(h)
}

// microHalfGo is the pure-Go twin of the 16-bit-B micro-kernels.
func microHalfGo(dt tensor.DType, mr, nr, k int, a []float32, b []uint16, c []float32, ldc int, accumulate bool) {
	var acc [maxMR * 64]float32
	t := acc[:mr*nr]
	a = a[:k*mr]
	b = b[:k*nr]
	var row [64]float32
	for p := range k {
		bp := row[:nr]
		for j, h := range b[p*nr : p*nr+nr] {
			bp[j] = widen(dt, h)
		}
		for i, av := range a[p*mr : p*mr+mr] {
			ti := t[i*nr : i*nr+nr]
			for j, bv := range bp {
				ti[j] += av * bv
			}
		}
	}
	storeTile(c, ldc, t, mr, nr, accumulate)
}

// gemvPanelGo is the pure-Go twin of the strip GEMV kernels.
func gemvPanelGo(dt tensor.DType, m, w, k int, y []float32, ldy int, x []float32, ldx int, s []uint16, accumulate bool) {
	var acc [gemvMaxM * 64]float32
	s = s[:k*w]
	var row [64]float32
	for p := range k {
		for j, h := range s[p*w : p*w+w] {
			row[j] = widen(dt, h)
		}
		for i := range m {
			xv := x[i*ldx+p]
			ai := acc[i*w : i*w+w]
			for j, v := range row[:w] {
				ai[j] += xv * v
			}
		}
	}
	storeTile(y, ldy, acc[:m*w], m, w, accumulate)
}

// HalfKernels reports whether the active CPU tier has assembly kernels for
// weights packed by PackHalf in dtype dt; without them PackHalf still
// works, through the much slower pure-Go twins.
func HalfKernels(dt tensor.DType) bool {
	t := activeTier()
	return t.half[dt] != nil && t.halfGEMV[dt] != nil
}
