package gemm

import (
	"sync"

	"github.com/rlx-go/rlx/backend/cpu/parallel"
)

// Blocking parameters (see doc.go). kc is the depth of one packed block:
// the kc×nr B micro-panel (96 KiB for 8×48) and the mc×kc block of packed
// A (256 KiB) share the 1 MiB L2 while a task walks its tiles, the mr×kc A
// micro-panel (16 KiB) sits in L1; nc columns of packed B (kc×nc floats)
// stay in L3. Zen 5's L2 feeds 64 bytes a cycle, far more than the 19 a
// tile needs, so a deep kc — fewer C updates, fewer packing passes and
// barriers — measured better (kc 512 vs 256: +5–15% at 1024³, 2 threads)
// than fitting the B micro-panel in L1.
const (
	kc       = 512
	mcTarget = 128
	ncTarget = 4096
	// aRowsMax bounds how many rows of A are packed at once (shared by the
	// workers), so the packed copy of a tall A stays in L3.
	aRowsMax = 2048
)

// smallItem is the work (M·N·K) under which the items of a batched call
// are spread across the workers whole instead of each using all of them.
const smallItem = 1 << 21

func (pr *problem) run(p *parallel.Pool, t *tier) {
	if pr.m == 0 || pr.n == 0 || pr.batch == 0 {
		return
	}
	if pr.batch > 1 && pr.m*pr.n*pr.k < smallItem && p.Size() > 1 {
		// Nested calls on a busy pool run inline, so each item runs
		// single-threaded on whichever worker claimed it.
		p.Run(pr.batch, func(i, _ int) { pr.item(p, t, i) })
		return
	}
	for i := range pr.batch {
		pr.item(p, t, i)
	}
}

// item computes batch item i.
func (pr *problem) item(p *parallel.Pool, t *tier, i int) {
	offA, offB, offC := i*pr.strideA, i*pr.strideB, i*pr.strideC
	if pr.items != nil {
		offA, offB, offC = pr.items[i].A, pr.items[i].B, pr.items[i].C
	}
	c := pr.c[offC:]
	if pr.k == 0 {
		// A and B may be empty (and their offsets past the end).
		if !pr.accumulate {
			for r := range pr.m {
				clear(c[r*pr.ldc : r*pr.ldc+pr.n])
			}
		}
		return
	}
	a := pr.a[offA:]
	b := pr.b
	if pr.packed == nil {
		b = pr.b.offset(offB)
	}
	if pb := pr.packed; pb != nil {
		switch {
		case pr.m <= gemvMaxM && pb.hasStripGEMV():
			pb.gemvStrips(p, c, pr.ldc, a, pr.lda, pr.m, pr.accumulate)
		case pr.m <= gemvMaxM && b.Layout == NK:
			// The original weight, kept for the row GEMV.
			gemv(p, t, c, pr.ldc, a, pr.lda, &b, pr.ldb, pr.m, pr.n, pr.k, pr.accumulate)
		default:
			pb.mul(p, c, pr.ldc, a, pr.lda, pr.m, pr.accumulate)
		}
		return
	}
	if b.Layout == NK && pr.m <= gemvRowsMax {
		gemv(p, t, c, pr.ldc, a, pr.lda, &b, pr.ldb, pr.m, pr.n, pr.k, pr.accumulate)
		return
	}
	blocked(p, t, c, pr.ldc, a, pr.lda, &b, pr.ldb, pr.m, pr.n, pr.k, pr.accumulate)
}

// offset returns b advanced by off elements.
func (b B) offset(off int) B {
	if off == 0 {
		return b
	}
	if b.F32 != nil {
		b.F32 = b.F32[off:]
	}
	if b.U16 != nil {
		b.U16 = b.U16[off:]
	}
	return b
}

// Packing buffers are recycled between calls, A panels, B panels and tile
// scratch in separate pools so that a small buffer of one kind never
// stands in for a large one of another (which would allocate every call).
var aBufs, bBufs, tileBufs sync.Pool

func getBuf(pool *sync.Pool, n int) *[]float32 {
	if v, ok := pool.Get().(*[]float32); ok {
		if cap(*v) >= n {
			*v = (*v)[:n]
			return v
		}
	}
	s := make([]float32, n, n+n/4)
	return &s
}

func putBuf(pool *sync.Pool, b *[]float32) { pool.Put(b) }

// blocked is the packed, cache-blocked product for one item with B packed
// per call.
func blocked(p *parallel.Pool, t *tier, c []float32, ldc int, a []float32, lda int, b *B, ldb, m, n, k int, accumulate bool) {
	nr, mr := t.nr, t.mr
	// Column blocks of about ncTarget, split evenly (8192 columns: two of
	// 4128 and 4064, not 4080 + 4080 + a sliver of 32).
	blocksN := (n + ncTarget - 1) / ncTarget
	nc := roundUp((n+blocksN-1)/blocksN, nr)
	mAll := min(m, aRowsMax)
	bbuf := getBuf(&bBufs, kc*nc)
	abuf := getBuf(&aBufs, kc*roundUp(mAll, mr))
	defer putBuf(&bBufs, bbuf)
	defer putBuf(&aBufs, abuf)
	for jc := 0; jc < n; jc += nc {
		nb := min(nc, n-jc)
		strips := (nb + nr - 1) / nr
		for pc := 0; pc < k; pc += kc {
			kb := min(kc, k-pc)
			for ic := 0; ic < m; ic += aRowsMax {
				mb := min(aRowsMax, m-ic)
				panels := (mb + mr - 1) / mr
				// One pass packs the A rows and the B strips of this block,
				// shared by all workers.
				p.For(panels+strips, 1, func(lo, hi int) {
					for x := lo; x < hi; x++ {
						if x < panels {
							packA((*abuf)[x*mr*kb:], a[(ic+x*mr)*lda+pc:], lda, min(mr, mb-x*mr), kb)
							continue
						}
						s := x - panels
						n0 := jc + s*nr
						nw := min(nr, n-n0)
						packB(t, (*bbuf)[s*kb*nr:], b, ldb, n0, nw, pc, kb, t.width(nw))
					}
				})
				acc := accumulate || pc > 0
				compute(p, t, c[ic*ldc+jc:], ldc, *abuf, mb, *bbuf, nb, kb, acc)
			}
		}
	}
}

func roundUp(x, m int) int { return (x + m - 1) / m * m }

// compute multiplies packed A (mb rows, panels of mr×kb) by packed B (nb
// columns, strips of kb×nr) into C, splitting row blocks × strip chunks
// across the workers.
func compute(p *parallel.Pool, t *tier, c []float32, ldc int, ap []float32, mb int, bp []float32, nb, kb int, accumulate bool) {
	nr := t.nr
	computeTiles(p, t, c, ldc, ap, mb, nb, kb, accumulate, func(rows, w, s int, as, c []float32, ldc int, acc bool) {
		t.micro(rows, w, kb, as, bp[s*kb*nr:s*kb*nr+kb*w], c, ldc, acc)
	})
}

// computeTiles is compute with the tile product given: tile multiplies the
// rows×kb A micro-panel as by strip s of B (w columns wide) into c.
func computeTiles(p *parallel.Pool, t *tier, c []float32, ldc int, ap []float32, mb int, nb, kb int, accumulate bool, tile func(rows, w, s int, as, c []float32, ldc int, acc bool)) {
	mr, nr := t.mr, t.nr
	mc := max(mr, mcTarget/mr*mr)
	rowBlocks := (mb + mc - 1) / mc
	strips := (nb + nr - 1) / nr
	// Aim for 8 tasks per worker: the phase ends at a barrier (the next
	// block's packing), and with dynamic claiming the idle time there is
	// about half a task, so small tasks keep it to a few percent even when
	// one core is slowed by a busy host.
	chunks := 1
	if want := 8 * p.Size(); rowBlocks < want {
		chunks = min(strips, (want+rowBlocks-1)/rowBlocks)
	}
	per := (strips + chunks - 1) / chunks
	chunks = (strips + per - 1) / per
	// Scratch for tiles that overhang C, one per participant (a local
	// array would escape through the kernel's func value: an allocation
	// per task).
	const tileLen = maxMR * 64
	scratchAll := getBuf(&tileBufs, p.Size()*tileLen)
	defer putBuf(&tileBufs, scratchAll)
	p.Run(rowBlocks*chunks, func(task, worker int) {
		scratch := (*scratchAll)[worker*tileLen : worker*tileLen+tileLen]
		rb, ch := task/chunks, task%chunks
		r0, r1 := rb*mc, min(mb, rb*mc+mc)
		s0, s1 := ch*per, min(strips, ch*per+per)
		for s := s0; s < s1; s++ {
			j := s * nr
			cols := min(nr, nb-j)
			w := t.width(cols)
			for r := r0; r < r1; r += mr {
				rows := min(mr, r1-r)
				as := ap[r*kb : r*kb+rows*kb]
				if cols == w {
					tile(rows, w, s, as, c[r*ldc+j:], ldc, accumulate)
					continue
				}
				tile(rows, w, s, as, scratch[:], w, false)
				for i := range rows {
					dst := c[(r+i)*ldc+j : (r+i)*ldc+j+cols]
					src := scratch[i*w : i*w+cols]
					if accumulate {
						for x, v := range src {
							dst[x] += v
						}
					} else {
						copy(dst, src)
					}
				}
			}
		}
	})
}
