package gemm

import (
	"fmt"
	"runtime"

	"github.com/rlx-go/rlx/backend/cpu/parallel"
	"github.com/rlx-go/rlx/tensor"
)

// PackedB is a weight packed once (at model load) into strips of the
// micro-kernel's width, so products with it skip the per-call packing.
// Strip s holds all K rows of its nr columns one after another, at element
// s·K·nr (the last strip is the vector width rounded up): a kc-deep block
// of a strip is contiguous for the micro-kernel, and the GEMV (M ≤ 4)
// walks a worker's run of strips as one sequential stream. Where the tier
// has no strip GEMV, Pack keeps a reference to the original NK weight
// instead, for the row GEMV.
type PackedB struct {
	t      *tier
	n, k   int
	strips int
	panels []float32 // float32 strips (Pack)
	orig   B         // for the row GEMV where the tier has no strip GEMV; Layout NK only
	ldb    int
	// half holds 16-bit strips (PackHalf) instead of panels.
	half []uint16
	hdt  tensor.DType // F16 or BF16, with half
}

// Pack packs B (k×n as an operand: KN, or NK weights as stored) for the
// active CPU tier, using the pool's workers (nil means parallel.Default()).
func Pack(p *parallel.Pool, b B, n, k int) (*PackedB, error) {
	return packFor(p, activeTier(), b, n, k)
}

func packFor(p *parallel.Pool, t *tier, b B, n, k int) (*PackedB, error) {
	if p == nil {
		p = parallel.Default()
	}
	pr, err := newProblem(1, Matrix{}, 0, Matrix{}, 0, b, 0, 0, n, k)
	if err != nil {
		return nil, fmt.Errorf("gemm: pack: %w", err)
	}
	nr := t.nr
	strips := (n + nr - 1) / nr
	pb := &PackedB{t: t, n: n, k: k, strips: strips, ldb: pr.ldb}
	if b.Layout == NK && t.stripF32 == nil {
		pb.orig = pr.b
	}
	if n == 0 || k == 0 {
		return pb, nil
	}
	pb.panels = allocStrips[float32](pb, (strips-1)*k*nr+k*t.width(n-(strips-1)*nr))
	blocks := (k + kc - 1) / kc
	p.For(blocks*strips, 1, func(lo, hi int) {
		for x := lo; x < hi; x++ {
			blk, s := x/strips, x%strips
			pc := blk * kc
			kb := min(kc, k-pc)
			n0 := s * nr
			nw := min(nr, n-n0)
			w := t.width(nw)
			packB(t, pb.stripF32(s, w, pc, kb), &pr.b, pr.ldb, n0, nw, pc, kb, w)
		}
	})
	return pb, nil
}

// stripF32 returns the kb-deep block at depth pc of float32 strip s, w
// wide.
func (pb *PackedB) stripF32(s, w, pc, kb int) []float32 {
	base := s*pb.k*pb.t.nr + pc*w
	return pb.panels[base : base+kb*w]
}

// N is the number of output columns (weight rows for NK weights).
func (pb *PackedB) N() int { return pb.n }

// K is the reduction depth.
func (pb *PackedB) K() int { return pb.k }

// MatMul computes C[M,N] = A[M,K]·B, or C += A·B when accumulate is set.
func (pb *PackedB) MatMul(p *parallel.Pool, c Matrix, a Matrix, m int, accumulate bool) error {
	return pb.BatchedMatMul(p, 1, c, 0, a, 0, m, accumulate)
}

// BatchedMatMul applies the weight to batch items of A (item i at element
// offset i*strideA, written at i*strideC).
func (pb *PackedB) BatchedMatMul(p *parallel.Pool, batch int, c Matrix, strideC int, a Matrix, strideA int, m int, accumulate bool) error {
	if p == nil {
		p = parallel.Default()
	}
	pr, err := checkAC(batch, c, strideC, a, strideA, m, pb.n, pb.k)
	if err != nil {
		return err
	}
	pr.b = pb.orig
	pr.ldb = pb.ldb
	pr.packed = pb
	pr.accumulate = accumulate
	pr.run(p, pb.t)
	// The kernels read pb's off-heap strips through raw pointers, which do
	// not keep pb alive: its cleanup must not free them before they finish.
	runtime.KeepAlive(pb)
	return nil
}

// mul is the blocked product with the packed strips, float32 or 16-bit.
func (pb *PackedB) mul(p *parallel.Pool, c []float32, ldc int, a []float32, lda, m int, accumulate bool) {
	t := pb.t
	mr := t.mr
	n, k := pb.n, pb.k
	mAll := min(m, aRowsMax)
	abuf := getBuf(&aBufs, kc*roundUp(mAll, mr))
	defer putBuf(&aBufs, abuf)
	for pc := 0; pc < k; pc += kc {
		kb := min(kc, k-pc)
		var tile func(rows, w, s int, as, c []float32, ldc int, acc bool)
		if pb.half != nil {
			tile = func(rows, w, s int, as, c []float32, ldc int, acc bool) {
				t.microHalf(pb.hdt, rows, w, kb, as, pb.halfStrip(s, w, pc, kb), c, ldc, acc)
			}
		} else {
			tile = func(rows, w, s int, as, c []float32, ldc int, acc bool) {
				t.micro(rows, w, kb, as, pb.stripF32(s, w, pc, kb), c, ldc, acc)
			}
		}
		for ic := 0; ic < m; ic += aRowsMax {
			mb := min(aRowsMax, m-ic)
			panels := (mb + mr - 1) / mr
			p.For(panels, 1, func(lo, hi int) {
				for x := lo; x < hi; x++ {
					packA((*abuf)[x*mr*kb:], a[(ic+x*mr)*lda+pc:], lda, min(mr, mb-x*mr), kb)
				}
			})
			computeTiles(p, t, c[ic*ldc:], ldc, *abuf, mb, n, kb, accumulate || pc > 0, tile)
		}
	}
}
