package kernels

import (
	"errors"
	"fmt"
	"math"
	"sync"
)

// Runner runs fn for tasks 0 ≤ task < n, possibly in parallel, giving each
// concurrently running task a distinct worker index below Size().
// *parallel.Pool implements it; a nil Runner runs serially.
type Runner interface {
	Run(tasks int, fn func(task, worker int))
	Size() int
}

// KV is a key or value tensor [B, H, T, D] given by element strides (the
// innermost dimension is contiguous). Exactly one of F32 and F16 (IEEE half
// bit patterns) is set. A KV cache preallocated as [B, Hkv, maxSeq, D] is
// used directly: RowStride = D, HeadStride = maxSeq·D, BatchStride =
// Hkv·maxSeq·D, and Attention.Tk says how many rows are filled.
type KV struct {
	F32                                []float32
	F16                                []uint16
	BatchStride, HeadStride, RowStride int
}

// Attention describes one fused scaled-dot-product attention call:
//
//	out[b,h,i,:] = Σ_j softmax_j(s_ij) · V[b, h/G, j, :]
//	s_ij = softcap(Scale · q[b,h,i,:]·K[b,h/G,j,:]) + Mask[b,h,i,j]
//
// with G = Hq/Hkv query heads per key/value head (GQA; Hkv = 1 is MQA).
// Query row i has absolute position Past+i and key j position j. With
// Causal, key j is visible to row i iff j ≤ Past+i; with Window > 0 also iff
// j > Past+i−Window (Hugging Face's sliding window for Mistral, Gemma 2/3:
// the row sees itself and the Window−1 keys before it). Keys are processed
// in tiles with an online softmax; no Tq×Tk matrix is formed.
//
// Q and Out are [B, H, T, D]-indexed by strides like KV, so a [B, T, H, D]
// projection output is read in place (RowStride = H·D, HeadStride = D).
type Attention struct {
	B, Hq, Hkv, Tq, Tk int
	D, Dv              int // query/key and value head sizes; Dv 0 means D

	Q                            []float32
	QBatch, QHead, QRow          int
	K, V                         KV
	Out                          []float32
	OutBatch, OutHead, OutRow    int
	Scale                        float32 // 0 means 1/√D
	Causal                       bool
	Past                         int
	Window                       int     // sliding window (requires Causal), 0 = none
	Softcap                      float32 // tanh logit cap (Gemma 2), 0 = none
	Mask                         []float32
	MaskBatch, MaskHead, MaskRow int // element strides of the additive mask (0 broadcasts)
}

// ErrAttention reports an inconsistent attention description.
var ErrAttention = errors.New("attention")

const (
	attnKeyBlock   = 64 // keys per tile
	attnQueryBlock = 8  // query rows sharing a key tile
)

func (a *Attention) dv() int {
	if a.Dv == 0 {
		return a.D
	}
	return a.Dv
}

// Validate checks shapes, strides and slice lengths.
func (a *Attention) Validate() error {
	if a.B <= 0 || a.Hq <= 0 || a.Hkv <= 0 || a.Tq <= 0 || a.Tk < 0 || a.D <= 0 || a.Dv < 0 {
		return fmt.Errorf("%w: non-positive size (B=%d Hq=%d Hkv=%d Tq=%d Tk=%d D=%d Dv=%d)", ErrAttention, a.B, a.Hq, a.Hkv, a.Tq, a.Tk, a.D, a.Dv)
	}
	if a.Hq%a.Hkv != 0 {
		return fmt.Errorf("%w: %d query heads not a multiple of %d kv heads", ErrAttention, a.Hq, a.Hkv)
	}
	if a.Window < 0 || (a.Window > 0 && !a.Causal) {
		return fmt.Errorf("%w: window %d needs causal attention", ErrAttention, a.Window)
	}
	if a.Past < 0 {
		return fmt.Errorf("%w: negative past %d", ErrAttention, a.Past)
	}
	need := func(name string, n, b, h, t, bs, hs, ts, d int) error {
		last := (b-1)*bs + (h-1)*hs + (t-1)*ts + d
		if bs < 0 || hs < 0 || ts < 0 || last > n {
			return fmt.Errorf("%w: %s has %d elements, strides (%d,%d,%d) need %d", ErrAttention, name, n, bs, hs, ts, last)
		}
		return nil
	}
	if err := need("q", len(a.Q), a.B, a.Hq, a.Tq, a.QBatch, a.QHead, a.QRow, a.D); err != nil {
		return err
	}
	if err := need("out", len(a.Out), a.B, a.Hq, a.Tq, a.OutBatch, a.OutHead, a.OutRow, a.dv()); err != nil {
		return err
	}
	for _, kv := range []struct {
		name string
		t    KV
		d    int
	}{{"k", a.K, a.D}, {"v", a.V, a.dv()}} {
		if (kv.t.F32 == nil) == (kv.t.F16 == nil) {
			return fmt.Errorf("%w: %s must have exactly one of F32 and F16", ErrAttention, kv.name)
		}
		if a.Tk == 0 {
			continue
		}
		n := len(kv.t.F32) + len(kv.t.F16)
		if err := need(kv.name, n, a.B, a.Hkv, a.Tk, kv.t.BatchStride, kv.t.HeadStride, kv.t.RowStride, kv.d); err != nil {
			return err
		}
	}
	if a.Mask != nil && a.Tk > 0 {
		if err := need("mask", len(a.Mask), a.B, a.Hq, a.Tq, a.MaskBatch, a.MaskHead, a.MaskRow, a.Tk); err != nil {
			return err
		}
	}
	return nil
}

// arena hands out float32 scratch carved from one pooled buffer, so a
// decode step's attention calls allocate nothing once warm.
type arena struct {
	buf []float32
	off int
}

var arenas sync.Pool

// getArena returns an arena of at least n floats.
func getArena(n int) *arena {
	if v, ok := arenas.Get().(*arena); ok && cap(v.buf) >= n {
		v.buf, v.off = v.buf[:n], 0
		return v
	}
	return &arena{buf: make([]float32, n)}
}

// take returns the next n floats (zeroed).
func (ar *arena) take(n int) []float32 {
	s := ar.buf[ar.off : ar.off+n : ar.off+n]
	ar.off += n
	clear(s)
	return s
}

func putArena(ar *arena) { arenas.Put(ar) }

// attnScratch is one worker's buffers.
type attnScratch struct {
	s   []float32 // scores of one tile, per query row
	acc []float32 // attnQueryBlock × Dv accumulators
	m   []float32
	l   []float32
	q   []float32 // query rows pre-scaled (when no softcap)
}

// Run computes the attention, in parallel over (batch, head, query block)
// and, when those are too few for the workers (decode), over key splits
// merged afterwards.
func (a *Attention) Run(r Runner) error {
	if err := a.Validate(); err != nil {
		return err
	}
	dv := a.dv()
	workers := 1
	if r != nil {
		workers = max(r.Size(), 1)
	}
	// A unit is (batch, kv head, query block): the G query heads that share
	// a kv head run together so each key/value tile is read once per group.
	g := a.Hq / a.Hkv
	qb := max(1, attnQueryBlock/g)
	slots := g * qb
	perWorker := g*attnKeyBlock + slots*(dv+2+a.D)
	qBlocks := (a.Tq + qb - 1) / qb
	units := a.B * a.Hkv * qBlocks
	splits := 1
	if units < 2*workers && a.Tk >= 4*attnKeyBlock {
		splits = min((2*workers+units-1)/units, a.Tk/(2*attnKeyBlock))
	}
	if L := impl.lanesT; splits <= 1 && L > 0 && g <= L && g*min(a.Tq, L/g) >= L/2 && dv%L == 0 {
		// Many query rows (prefill): the transposed tiles put L/G rows of
		// each of the G heads side by side in vector lanes.
		return a.runT(r, workers, L)
	}
	partLen := 0
	if splits > 1 {
		partLen = units * splits * slots * (dv + 2)
	}
	ar := getArena(workers*perWorker + partLen)
	defer putArena(ar)
	var scrBuf [8]attnScratch
	scr := scrBuf[:0]
	if workers > len(scrBuf) {
		scr = make([]attnScratch, 0, workers)
	}
	for range workers {
		scr = append(scr, attnScratch{
			s:   ar.take(g * attnKeyBlock),
			acc: ar.take(slots * dv),
			m:   ar.take(slots),
			l:   ar.take(slots),
			q:   ar.take(slots * a.D),
		})
	}
	if splits <= 1 {
		run(r, units, func(task, w int) {
			b, kh, i0, rows := a.unit(task, qBlocks, qb)
			sc := &scr[w]
			a.block(sc, b, kh, i0, rows, 0, a.Tk)
			a.finish(sc, b, kh, i0, rows)
		})
		return nil
	}
	// Split keys: each task leaves (m, l, acc) per row; merge per row.
	per := (a.Tk + splits - 1) / splits
	per = (per + attnKeyBlock - 1) / attnKeyBlock * attnKeyBlock
	splits = (a.Tk + per - 1) / per
	stride := dv + 2
	part := ar.take(units * splits * slots * stride)
	run(r, units*splits, func(task, w int) {
		u, sp := task/splits, task%splits
		b, kh, i0, rows := a.unit(u, qBlocks, qb)
		sc := &scr[w]
		a.block(sc, b, kh, i0, rows, sp*per, min((sp+1)*per, a.Tk))
		for i := range g * rows {
			o := ((u*splits+sp)*slots + i) * stride
			part[o], part[o+1] = sc.m[i], sc.l[i]
			copy(part[o+2:o+stride], sc.acc[i*dv:(i+1)*dv])
		}
	})
	run(r, units, func(u, w int) {
		b, kh, i0, rows := a.unit(u, qBlocks, qb)
		sc := &scr[w]
		for i := range g * rows {
			m := float32(math.Inf(-1))
			for sp := range splits {
				m = max(m, part[((u*splits+sp)*slots+i)*stride])
			}
			acc := sc.acc[i*dv : (i+1)*dv]
			clear(acc)
			var l float32
			if m != float32(math.Inf(-1)) {
				for sp := range splits {
					o := ((u*splits+sp)*slots + i) * stride
					if part[o+1] == 0 {
						continue
					}
					f := expf(part[o] - m)
					l += part[o+1] * f
					axpy(acc, f, part[o+2:o+stride])
				}
			}
			sc.m[i], sc.l[i] = m, l
		}
		a.finish(sc, b, kh, i0, rows)
	})
	return nil
}

// tScratch is one worker's buffers for the transposed tiles.
type tScratch struct {
	qt, st, acc, m, l, alpha []float32
	kt, vt                   []float32 // f16 tiles widened
}

// runT runs the attention with L query slots per unit: slot gh·rows+i holds
// row i0+i of query head kh·G+gh.
func (a *Attention) runT(r Runner, workers, L int) error {
	dv := a.dv()
	g := a.Hq / a.Hkv
	qb := L / g
	qBlocks := (a.Tq + qb - 1) / qb
	units := a.B * a.Hkv * qBlocks
	perWorker := a.D*L + attnKeyBlock*L + L*dv + 3*L
	if a.K.F16 != nil {
		perWorker += attnKeyBlock * a.D
	}
	if a.V.F16 != nil {
		perWorker += attnKeyBlock * dv
	}
	ar := getArena(workers * perWorker)
	defer putArena(ar)
	scr := make([]tScratch, workers)
	for i := range scr {
		sc := &scr[i]
		*sc = tScratch{
			qt: ar.take(a.D * L), st: ar.take(attnKeyBlock * L), acc: ar.take(L * dv),
			m: ar.take(L), l: ar.take(L), alpha: ar.take(L),
		}
		if a.K.F16 != nil {
			sc.kt = ar.take(attnKeyBlock * a.D)
		}
		if a.V.F16 != nil {
			sc.vt = ar.take(attnKeyBlock * dv)
		}
	}
	run(r, units, func(task, w int) {
		sc := &scr[w]
		b, kh, i0, rows := a.unit(task, qBlocks, qb)
		a.blockT(sc, L, b, kh, i0, rows)
	})
	return nil
}

// blockT computes rows [i0, i0+rows) of the G query heads of kv head kh.
func (a *Attention) blockT(sc *tScratch, L, b, kh, i0, rows int) {
	dv := a.dv()
	g := a.Hq / a.Hkv
	scale := a.Scale
	if scale == 0 {
		scale = float32(1 / math.Sqrt(float64(a.D)))
	}
	qs := scale
	if a.Softcap != 0 {
		qs = 1
	}
	clear(sc.qt)
	for gh := range g {
		h := kh*g + gh
		for i := range rows {
			s := gh*rows + i
			q := a.Q[b*a.QBatch+h*a.QHead+(i0+i)*a.QRow:][:a.D]
			for t, v := range q {
				sc.qt[t*L+s] = v * qs
			}
		}
	}
	for s := range L {
		sc.m[s] = -math.MaxFloat32
		sc.l[s] = 0
	}
	clear(sc.acc)
	kOff := b*a.K.BatchStride + kh*a.K.HeadStride
	vOff := b*a.V.BatchStride + kh*a.V.HeadStride
	lo0, _ := a.visible(i0)
	_, hi1 := a.visible(i0 + rows - 1)
	ninf := float32(math.Inf(-1))
	for kb := lo0; kb < hi1; kb += attnKeyBlock {
		ke := min(kb+attnKeyBlock, hi1)
		n := ke - kb
		var k []float32
		kstride := a.K.RowStride
		if a.K.F16 != nil {
			impl.f16Rows(sc.kt, a.K.F16[kOff+kb*a.K.RowStride:], n, a.D, a.K.RowStride)
			k, kstride = sc.kt, a.D
		} else {
			k = a.K.F32[kOff+kb*a.K.RowStride:]
		}
		st := sc.st[:n*L]
		impl.scoresT(st, L, n, sc.qt, a.D, k, kstride)
		if a.Softcap != 0 {
			softcapScores(st, scale, a.Softcap)
		}
		for gh := range g {
			h := kh*g + gh
			for i := range rows {
				s := gh*rows + i
				lo, hi := a.visible(i0 + i)
				for j := kb; j < min(lo, ke); j++ {
					st[(j-kb)*L+s] = ninf
				}
				for j := max(hi, kb); j < ke; j++ {
					st[(j-kb)*L+s] = ninf
				}
				if a.Mask != nil {
					mrow := a.Mask[b*a.MaskBatch+h*a.MaskHead+(i0+i)*a.MaskRow+kb:][:n]
					for j, mv := range mrow {
						st[j*L+s] += mv
					}
				}
			}
		}
		impl.softmaxT(st, L, n, sc.m, sc.l, sc.alpha)
		var v []float32
		vstride := a.V.RowStride
		if a.V.F16 != nil {
			impl.f16Rows(sc.vt, a.V.F16[vOff+kb*a.V.RowStride:], n, dv, a.V.RowStride)
			v, vstride = sc.vt, dv
		} else {
			v = a.V.F32[vOff+kb*a.V.RowStride:]
		}
		impl.pvT(sc.acc, L, dv, sc.alpha, st, n, v, vstride)
	}
	for gh := range g {
		h := kh*g + gh
		for i := range rows {
			s := gh*rows + i
			out := a.Out[b*a.OutBatch+h*a.OutHead+(i0+i)*a.OutRow:][:dv]
			if sc.l[s] == 0 {
				clear(out)
				continue
			}
			inv := 1 / sc.l[s]
			for d, x := range sc.acc[s*dv : (s+1)*dv] {
				out[d] = x * inv
			}
		}
	}
}

// unit decodes a unit index into batch, kv head and the query rows [i0, i0+rows).
func (a *Attention) unit(u, qBlocks, qb int) (b, kh, i0, rows int) {
	bk, blk := u/qBlocks, u%qBlocks
	b, kh = bk/a.Hkv, bk%a.Hkv
	i0 = blk * qb
	return b, kh, i0, min(qb, a.Tq-i0)
}

func run(r Runner, n int, fn func(task, worker int)) {
	if r == nil {
		for t := range n {
			fn(t, 0)
		}
		return
	}
	r.Run(n, fn)
}

// visible returns the key range [lo, hi) that query row i may attend to.
func (a *Attention) visible(i int) (int, int) {
	lo, hi := 0, a.Tk
	if a.Causal {
		p := a.Past + i
		hi = min(hi, p+1)
		if a.Window > 0 {
			lo = max(lo, p-a.Window+1)
		}
	}
	return lo, max(hi, lo)
}

// block runs the online softmax of query rows i0..i0+rows-1 of every query
// head sharing kv head kh of batch b, over keys [k0, k1), leaving the
// unnormalised state in sc.m, sc.l, sc.acc. Slot i·G+gh holds row i0+i of
// query head kh·G+gh, so the G heads of one row are adjacent and the grouped
// kernels read each key/value vector once for all of them.
func (a *Attention) block(sc *attnScratch, b, kh, i0, rows, k0, k1 int) {
	dv := a.dv()
	g := a.Hq / a.Hkv
	scale := a.Scale
	if scale == 0 {
		scale = float32(1 / math.Sqrt(float64(a.D)))
	}
	kOff := b*a.K.BatchStride + kh*a.K.HeadStride
	vOff := b*a.V.BatchStride + kh*a.V.HeadStride
	clear(sc.acc[:g*rows*dv])
	for i := range rows {
		for gh := range g {
			sl := i*g + gh
			sc.m[sl] = float32(math.Inf(-1))
			sc.l[sl] = 0
			q := a.Q[b*a.QBatch+(kh*g+gh)*a.QHead+(i0+i)*a.QRow:][:a.D]
			dq := sc.q[sl*a.D : (sl+1)*a.D]
			if a.Softcap == 0 {
				// Fold the scale into q once (this rounds differently from
				// scaling each score by at most an ulp, as fused SDPA does).
				for d, v := range q {
					dq[d] = v * scale
				}
			} else {
				copy(dq, q)
			}
		}
	}
	// The key range any row of the block can see.
	lo0, _ := a.visible(i0)
	_, hi1 := a.visible(i0 + rows - 1)
	k0, k1 = max(k0, lo0), min(k1, hi1)
	for kb := k0; kb < k1; kb += attnKeyBlock {
		ke := min(kb+attnKeyBlock, k1)
		for i := range rows {
			lo, hi := a.visible(i0 + i)
			lo, hi = max(lo, kb), min(hi, ke)
			if lo < hi {
				a.tile(sc, b, kh, i0+i, i*g, lo, hi, kOff, vOff, scale)
			}
		}
	}
}

// tile folds keys [lo, hi) into the online-softmax state of query row i of
// the G heads of kv head kh (scratch slots sl0..sl0+G-1).
func (a *Attention) tile(sc *attnScratch, b, kh, i, sl0, lo, hi, kOff, vOff int, scale float32) {
	dv := a.dv()
	g := a.Hq / a.Hkv
	n := hi - lo
	q := sc.q[sl0*a.D : (sl0+g)*a.D]
	if a.K.F32 != nil {
		impl.dotsGF32(sc.s, attnKeyBlock, n, q, g, a.K.F32[kOff+lo*a.K.RowStride:], a.K.RowStride)
	} else {
		impl.dotsGF16(sc.s, attnKeyBlock, n, q, g, a.K.F16[kOff+lo*a.K.RowStride:], a.K.RowStride)
	}
	for gh := range g {
		sl := sl0 + gh
		s := sc.s[gh*attnKeyBlock:][:n]
		if a.Softcap != 0 {
			softcapScores(s, scale, a.Softcap)
		}
		if a.Mask != nil {
			mrow := a.Mask[b*a.MaskBatch+(kh*g+gh)*a.MaskHead+i*a.MaskRow+lo:][:n]
			for j := range s {
				s[j] += mrow[j]
			}
		}
		mb := impl.maxv(s)
		if mb == float32(math.Inf(-1)) {
			clear(s) // nothing visible: contributes nothing below
			continue
		}
		m := max(sc.m[sl], mb)
		if m != sc.m[sl] && sc.l[sl] != 0 {
			alpha := expf(sc.m[sl] - m)
			sc.l[sl] *= alpha
			acc := sc.acc[sl*dv : (sl+1)*dv]
			for d := range acc {
				acc[d] *= alpha
			}
		}
		sc.m[sl] = m
		sc.l[sl] += impl.expSubSum(s, m)
	}
	acc := sc.acc[sl0*dv : (sl0+g)*dv]
	if a.V.F32 != nil {
		impl.axpysGF32(acc, dv, dv, g, sc.s, attnKeyBlock, n, a.V.F32[vOff+lo*a.V.RowStride:], a.V.RowStride)
	} else {
		impl.axpysGF16(acc, dv, dv, g, sc.s, attnKeyBlock, n, a.V.F16[vOff+lo*a.V.RowStride:], a.V.RowStride)
	}
}

// finish normalises the accumulators into the output rows; rows that saw no
// key (everything masked) become zeros.
func (a *Attention) finish(sc *attnScratch, b, kh, i0, rows int) {
	dv := a.dv()
	g := a.Hq / a.Hkv
	for i := range rows {
		for gh := range g {
			sl := i*g + gh
			out := a.Out[b*a.OutBatch+(kh*g+gh)*a.OutHead+(i0+i)*a.OutRow:][:dv]
			acc := sc.acc[sl*dv : (sl+1)*dv]
			if sc.l[sl] == 0 {
				clear(out)
				continue
			}
			inv := 1 / sc.l[sl]
			for d := range out {
				out[d] = acc[d] * inv
			}
		}
	}
}

// softcapScores sets s = c·tanh(s·scale/c), each step rounded as PyTorch's
// separate ops (scale, divide, tanh, multiply).
func softcapScores(s []float32, scale, c float32) {
	BinaryScalar(Mul, s, s, scale)
	BinaryScalar(Div, s, s, c)
	impl.tanh(s, s)
	BinaryScalar(Mul, s, s, c)
}

func axpy(y []float32, a float32, x []float32) {
	x = x[:len(y)]
	for i := range y {
		y[i] += a * x[i]
	}
}
