package gemm

import (
	"fmt"

	"github.com/rlx-go/rlx/backend/cpu/parallel"
	"github.com/rlx-go/rlx/tensor"
)

// PackedB is a weight packed once (at model load) into the micro-kernel's
// panel order, so products with it skip the per-call packing. It keeps a
// reference to the original NK weights (not a copy) for the few-row GEMV
// path, which streams them as stored: 16-bit weights stay 16-bit there.
type PackedB struct {
	t      *tier
	n, k   int
	strips int
	panels []float32 // per kc block: strips × kb×nr floats (a narrower last strip leaves a gap)
	orig   B         // for GEMV; Layout NK only
	ldb    int
	// half holds 16-bit strips (PackHalf) instead of panels: strip s, all
	// K rows of nr values (the last one narrower), at s·K·nr.
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
	pb.panels = make([]float32, k*strips*nr)
	if b.Layout == NK {
		pb.orig = pr.b
	}
	blocks := (k + kc - 1) / kc
	p.For(blocks*strips, 1, func(lo, hi int) {
		for x := lo; x < hi; x++ {
			blk, s := x/strips, x%strips
			pc := blk * kc
			kb := min(kc, k-pc)
			n0 := s * nr
			dst := pb.panels[pc*strips*nr+s*kb*nr:]
			nw := min(nr, n-n0)
			packB(t, dst, &pr.b, pr.ldb, n0, nw, pc, kb, t.width(nw))
		}
	})
	return pb, nil
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
	return nil
}

// mul is the blocked product with the panels already packed.
func (pb *PackedB) mul(p *parallel.Pool, c []float32, ldc int, a []float32, lda, m int, accumulate bool) {
	t := pb.t
	mr, nr := t.mr, t.nr
	n, k := pb.n, pb.k
	mAll := min(m, aRowsMax)
	abuf := getBuf(&aBufs, kc*roundUp(mAll, mr))
	defer putBuf(&aBufs, abuf)
	for pc := 0; pc < k; pc += kc {
		kb := min(kc, k-pc)
		blk := pb.panels[pc*pb.strips*nr : pc*pb.strips*nr+kb*pb.strips*nr]
		for ic := 0; ic < m; ic += aRowsMax {
			mb := min(aRowsMax, m-ic)
			panels := (mb + mr - 1) / mr
			p.For(panels, 1, func(lo, hi int) {
				for x := lo; x < hi; x++ {
					packA((*abuf)[x*mr*kb:], a[(ic+x*mr)*lda+pc:], lda, min(mr, mb-x*mr), kb)
				}
			})
			compute(p, t, c[ic*ldc:], ldc, *abuf, mb, blk, n, kb, accumulate || pc > 0)
		}
	}
}
