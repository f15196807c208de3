package cuda

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/rlx-go/rlx/backend"
	"github.com/rlx-go/rlx/backend/cuda/driver"
	"github.com/rlx-go/rlx/ir"
	"github.com/rlx-go/rlx/tensor"
)

// Decode GEMV groups of the fusion pass (fuse.go): an RMSNorm and the
// GEMVs of its output, or sibling GEMVs of one input, in one launch of
// gemvq_multi/gemvqp_multi (int8) or gemvh_* (F16/BF16).

// qiTypes are quant.cu's QT_* codes of the int8 GEMV's weight types.
var qiTypes = map[tensor.DType]int{tensor.Q8_0: 2, tensor.Q4_0: 3, tensor.Q4_K: 4, tensor.Q5_K: 5, tensor.Q6_K: 6}

const (
	qmSegs     = 3   // QM_SEGS in quant.cu
	qmSegSize  = 48  // sizeof(QMSeg)
	qmArgsSize = 192 // sizeof(QMArgs)
)

// multiGEMV is a gemvq_multi launch with its arguments encoded once, after
// a gemvq_prepare_norm launch when prep is set (gemvqp_multi*).
type multiGEMV struct {
	name     string // for the profile
	b        *Backend
	f        driver.Function
	args     []byte
	blocks   int
	shared   int
	prep     driver.Function
	prepRows int
	prepArgs []any
}

func (k *multiGEMV) fusedName() string { return k.name }

func (k *multiGEMV) Run(*backend.Env, []backend.Tensor, backend.Tensor) error {
	if k.prep != 0 {
		if err := k.b.ctx.LaunchDependent(k.prep, driver.Dim3{X: k.prepRows}, driver.Dim3{X: 256}, 0, k.b.stream, k.prepArgs...); err != nil {
			return err
		}
	}
	return k.b.ctx.LaunchDependent(k.f, driver.Dim3{X: k.blocks}, driver.Dim3{X: 256}, k.shared, k.b.stream, k.args)
}

// isSiluMul reports whether a fused chain is silu(in0)·in1.
func isSiluMul(n *ir.Node) bool {
	at, ok := n.Attr.(*ir.FusedAttr)
	if !ok || len(n.Inputs) != 2 || len(at.Code) != 2 {
		return false
	}
	a, m := at.Code[0], at.Code[1]
	return a.Op == ir.OpSilu && len(a.Args) == 1 && a.Args[0] == 0 &&
		m.Op == ir.OpMul && len(m.Args) == 2 && (m.Args[0] == 2 && m.Args[1] == 1 || m.Args[0] == 1 && m.Args[1] == 2)
}

// fuseNormGEMV matches RMSNorm at ls[i] followed by 1–3 int8 GEMVs of its
// output, or 2–3 such GEMVs of one input at ls[i] (and, for two of them,
// the SiLU·up chain on their outputs). It returns the fused launch, how
// many launches it replaces (0: none) and whether it is gate/up pair mode.
func (b *Backend) fuseNormGEMV(ls []backend.Launch, i int) (backend.Launch, int, bool) {
	if fuseMode&fuseGEMV == 0 {
		return backend.Launch{}, 0, false
	}
	head := func(l backend.Launch) (int, bool) {
		dk, ok := l.Kernel.(*dequantMatMul)
		if !ok {
			return 0, false
		}
		return dk.p.k, true
	}
	seg := func(l backend.Launch, xv backend.Tensor, k, m int) (*packed, bool) {
		dk, ok := l.Kernel.(*dequantMatMul)
		// gemvq_multi's static shared memory (≈2 KiB) comes on top of the
		// quantized rows.
		if !ok || m > gemvInt8Rows || m > 4 || int8Shared(m, k)+4096 > gemvInt8Shared ||
			dk.add || dk.p.gemvQ == 0 || dk.p.k != k || !sameView(l.Ins[0], xv) ||
			m > gemvUpTo(dk.p.dt) || l.Out.Bytes() != int64(m)*int64(dk.p.n)*4 || qiTypes[dk.p.dt] == 0 {
			return nil, false
		}
		return dk.p, true
	}
	g, ok := matchGEMVGroup(ls, i, qmSegs, head, seg, func(p *packed) (tensor.DType, int) { return p.dt, p.n })
	if !ok || g.px%16 != 0 || g.pnw%16 != 0 || g.pxn%16 != 0 {
		return backend.Launch{}, 0, false
	}
	segs, group, m, k, pair := g.segs, g.group, g.m, g.k, g.pact != 0
	prepared := gemvPrepare && b.xq != 0
	f, err := b.ks.Func(gemvMultiName(m, prepared))
	if err != nil {
		return backend.Launch{}, 0, false
	}
	args := make([]byte, qmArgsSize)
	le := binary.LittleEndian
	blocks := 0
	for s, p := range segs {
		wpr, rpb := gemvMultiShape(p.dt, p.n, p.k, pair, prepared)
		o := s * qmSegSize
		le.PutUint64(args[o:], uint64(p.w))
		le.PutUint64(args[o+8:], uint64(p.aux))
		le.PutUint64(args[o+16:], uint64(g.ys[s]))
		le.PutUint32(args[o+24:], uint32(p.n))
		le.PutUint32(args[o+28:], uint32(qiTypes[p.dt]))
		le.PutUint32(args[o+32:], uint32(rpb))
		le.PutUint32(args[o+36:], uint32(wpr))
		le.PutUint32(args[o+40:], uint32(blocks))
		nb := (p.n + rpb - 1) / rpb
		if !pair {
			blocks += nb
		} else if s == 0 {
			blocks = nb
		}
	}
	le.PutUint64(args[144:], uint64(g.px))
	le.PutUint64(args[152:], uint64(g.pnw))
	le.PutUint64(args[160:], uint64(g.pxn))
	le.PutUint64(args[168:], uint64(g.pact))
	le.PutUint32(args[176:], uint32(len(segs)))
	le.PutUint32(args[180:], uint32(m))
	le.PutUint32(args[184:], uint32(k))
	le.PutUint32(args[188:], math.Float32bits(g.eps))
	kern := &multiGEMV{b: b, f: f, args: args, blocks: blocks, shared: int8Shared(m, k), name: g.name()}
	if prepared {
		// The norm and the quantization run once, in their own launch; the
		// GEMVs read its output from b.xq.
		kern.prep, err = b.ks.Func("gemvq_prepare_norm")
		if err != nil {
			return backend.Launch{}, 0, false
		}
		kern.prepRows = m
		kern.prepArgs = []any{g.px, g.pnw, g.pxn, g.eps, b.xq, b.xq + driver.Ptr(m*k), m, k}
		le.PutUint64(args[144:], uint64(b.xq))
		le.PutUint64(args[152:], 0)
		le.PutUint64(args[160:], 0)
		kern.shared = 0
	}
	first, last := group[0], group[len(group)-1]
	return backend.Launch{Node: first.Node, Kernel: kern, Ins: first.Ins, Out: last.Out, Release: releases(group)}, len(group), pair
}

// siluMulOf reports whether ls[j] is the chain silu(gate)·up over the two
// GEMV outputs outs (fuseSiLU on): its output, and whether outs[1] is the
// gate.
func siluMulOf(ls []backend.Launch, j int, outs []backend.Tensor) (act *backend.Tensor, swap bool) {
	if fuseMode&fuseSiLU == 0 || len(outs) != 2 || j >= len(ls) {
		return nil, false
	}
	l := ls[j]
	if _, ok := l.Kernel.(*fused); !ok || !isSiluMul(l.Node) || len(l.Ins) != 2 || l.Out.Bytes() != outs[0].Bytes() {
		return nil, false
	}
	switch {
	case sameView(l.Ins[0], outs[0]) && sameView(l.Ins[1], outs[1]):
		return &ls[j].Out, false
	case sameView(l.Ins[0], outs[1]) && sameView(l.Ins[1], outs[0]):
		return &ls[j].Out, true
	}
	return nil, false
}

// groupWrites decides what a fused norm+GEMV group stores: the normalized
// rows xv unless no later launch reads them, each GEMV output unless pair
// mode makes it dead, and act; ok is false when a write could overlap
// another write or a read.
func groupWrites(group []backend.Launch, norm *backend.Launch, xv backend.Tensor, outs []backend.Tensor, act *backend.Tensor) (writeXN bool, writeOut []bool, ok bool) {
	reads := []backend.Tensor{xv}
	var writes []backend.Tensor
	if norm != nil {
		reads = []backend.Tensor{norm.Ins[0], norm.Ins[1]}
		writeXN = !released(group, xv)
		if writeXN {
			writes = append(writes, xv)
		}
	}
	writeOut = make([]bool, len(outs))
	for s, o := range outs {
		writeOut[s] = act == nil || !released(group, o)
		if writeOut[s] {
			writes = append(writes, o)
		}
	}
	if act != nil {
		writes = append(writes, *act)
	}
	return writeXN, writeOut, hazardFree(writes, reads, nil)
}

// halfGEMVOf returns the weight (as the launch reads it) and the packed
// layout of l when it is an F16/BF16 MatMul without addend that
// matmul.Run sends to gemvh_* for m rows of the k activations xv.
func halfGEMVOf(l backend.Launch, xv backend.Tensor, k, m int) (driver.Ptr, *packed, bool) {
	mk, ok := l.Kernel.(*matmul)
	if !ok || mk.half == nil || mk.add || mk.akm || mk.bkn || len(l.Ins) < 2 || !sameView(l.Ins[0], xv) {
		return 0, nil, false
	}
	p := mk.half
	xs, ws := l.Ins[0].Shape, l.Ins[1].Shape
	if len(ws) != 2 || len(xs) < 2 || xs[len(xs)-1] != k || ws[0] != p.n || ws[1] != k || p.k != k ||
		prod(xs[:len(xs)-1]) != m || m > gemvUpTo(p.dt) || k%32 != 0 || p.gemvH == 0 || !gemvHalfOK(p.dt, k, m) ||
		l.Out.Bytes() != int64(m)*int64(p.n)*4 {
		return 0, nil, false
	}
	w, _, err := view(l.Ins[1])
	if err != nil || w%16 != 0 {
		return 0, nil, false
	}
	return w, p, true
}

// halfMulti is a gemvh_* launch with its arguments encoded once.
type halfMulti struct {
	name string // for the profile
	b    *Backend
	f    driver.Function
	l    hmLaunch
	grid int // hmGrid
}

func (k *halfMulti) fusedName() string { return k.name }

func (k *halfMulti) Run(*backend.Env, []backend.Tensor, backend.Tensor) error {
	return k.b.ctx.LaunchDependent(k.f, driver.Dim3{X: k.grid}, driver.Dim3{X: hmThreads}, 0, k.b.stream, k.l.args)
}

// fuseNormGEMVHalf is fuseNormGEMV for F16/BF16 weights (gemvh_*):
// RMSNorm at ls[i] followed by 1–3 GEMVs of its output (and, for two of
// them, the SiLU·up chain), or 2–3 such GEMVs of one input at ls[i].
func (b *Backend) fuseNormGEMVHalf(ls []backend.Launch, i int) (backend.Launch, int, bool) {
	if fuseMode&fuseGEMV == 0 || !gemvHalf {
		return backend.Launch{}, 0, false
	}
	head := func(l backend.Launch) (int, bool) {
		if _, ok := l.Kernel.(*matmul); !ok || len(l.Ins[0].Shape) == 0 {
			return 0, false
		}
		return l.Ins[0].Shape[len(l.Ins[0].Shape)-1], true
	}
	seg := func(l backend.Launch, xv backend.Tensor, k, m int) (hmSeg, bool) {
		w, p, ok := halfGEMVOf(l, xv, k, m)
		if !ok {
			return hmSeg{}, false
		}
		return hmSeg{w: w, n: p.n, dt: p.dt}, true
	}
	g, ok := matchGEMVGroup(ls, i, hmSegs, head, seg, func(s hmSeg) (tensor.DType, int) { return s.dt, s.n })
	if !ok || g.px%16 != 0 || g.pnw%16 != 0 {
		return backend.Launch{}, 0, false
	}
	f, err := b.ks.Func(gemvHalfName(g.m, g.pact != 0, g.pnw != 0))
	if err != nil {
		return backend.Launch{}, 0, false
	}
	for s := range g.segs {
		g.segs[s].y = g.ys[s]
	}
	kern := &halfMulti{name: g.name(), b: b, f: f, l: encodeHM(g.segs, g.px, g.pnw, g.pxn, g.pact, 0, g.m, g.k, g.eps, false)}
	kern.grid = b.hmGrid(f, kern.l.blocks, g.pnw != 0 && g.pact == 0)
	first, last := g.group[0], g.group[len(g.group)-1]
	return backend.Launch{Node: first.Node, Kernel: kern, Ins: first.Ins, Out: last.Out, Release: releases(g.group)}, len(g.group), g.pact != 0
}

// gemvGroup is a run of launches that fuseNormGEMV and fuseNormGEMVHalf
// make one launch of: an optional RMSNorm, the 1–3 decode GEMVs of its
// output (2–3 of one input without it) and, for two GEMVs of one type and
// height, the SiLU·up chain on their outputs; with the device addresses
// the fused launch takes.
type gemvGroup[S any] struct {
	group []backend.Launch
	norm  bool
	eps   float32 // the norm's
	k, m  int     // m activation rows of k
	segs  []S
	ys    []driver.Ptr // the GEMVs' outputs; 0 where nothing reads one (pair mode)
	// The input, the norm's weight and the normalized rows (0: not stored),
	// and silu(gate)·up (0: not pair mode).
	px, pnw, pxn, pact driver.Ptr
}

// name is the group's name in the device-time profile.
func (g gemvGroup[S]) name() string {
	name := fmt.Sprintf("GEMV×%d", len(g.segs))
	if g.pact != 0 {
		name = "GEMV×2+SiLU·up"
	}
	if g.norm {
		name = "RMSNorm+" + name
	}
	return name
}

// matchGEMVGroup matches a gemvGroup at ls[i]. head reports whether a
// launch without a norm before it may start a group, and its k; seg
// returns a launch's segment when it is a GEMV of the group's m rows of k
// activations xv; shape gives a segment's type and height (pair mode needs
// both equal). It fails when the group would read what it writes.
func matchGEMVGroup[S any](ls []backend.Launch, i, maxSegs int, head func(backend.Launch) (int, bool),
	seg func(l backend.Launch, xv backend.Tensor, k, m int) (S, bool), shape func(S) (tensor.DType, int)) (gemvGroup[S], bool) {
	var g gemvGroup[S]
	var norm *backend.Launch
	var xv backend.Tensor // the GEMVs' input
	j := i
	if r, ok := ls[i].Kernel.(*rmsnorm); ok && fuseMode&fuseNorm != 0 && len(ls[i].Ins) >= 2 && len(ls[i].Out.Shape) > 0 {
		norm, xv, j, g.eps = &ls[i], ls[i].Out, i+1, r.eps
		g.k = xv.Shape[len(xv.Shape)-1]
		if ls[i].Ins[0].Bytes() != xv.Bytes() || ls[i].Ins[1].Bytes() != int64(g.k)*4 {
			return g, false
		}
	} else if k, ok := head(ls[i]); ok && len(ls[i].Ins) >= 2 {
		xv, g.k = ls[i].Ins[0], k
	} else {
		return g, false
	}
	if g.k <= 0 || xv.Bytes()%(int64(g.k)*4) != 0 {
		return g, false
	}
	if g.m = int(xv.Bytes() / 4 / int64(g.k)); g.m < 1 {
		return g, false
	}
	var outs []backend.Tensor
	for ; j < len(ls) && len(g.segs) < maxSegs && len(ls[j].Ins) >= 2; j++ {
		sg, ok := seg(ls[j], xv, g.k, g.m)
		if !ok {
			break
		}
		g.segs = append(g.segs, sg)
		outs = append(outs, ls[j].Out)
	}
	var act *backend.Tensor
	if len(g.segs) == 2 {
		dt0, n0 := shape(g.segs[0])
		dt1, n1 := shape(g.segs[1])
		var swap bool
		if dt0 == dt1 && n0 == n1 {
			act, swap = siluMulOf(ls, j, outs)
		}
		if act != nil {
			if swap {
				g.segs[0], g.segs[1] = g.segs[1], g.segs[0]
				outs[0], outs[1] = outs[1], outs[0]
			}
			j++
		}
	}
	if len(g.segs) == 0 || (norm == nil && len(g.segs) < 2) {
		return g, false
	}
	g.group, g.norm = ls[i:j], norm != nil
	writeXN, writeOut, ok := groupWrites(g.group, norm, xv, outs, act)
	if !ok {
		return g, false
	}
	ptr := viewPtr(&ok)
	if norm != nil {
		g.px, g.pnw = ptr(norm.Ins[0]), ptr(norm.Ins[1])
		if writeXN {
			g.pxn = ptr(xv)
		}
	} else {
		g.px = ptr(xv)
	}
	if act != nil {
		g.pact = ptr(*act)
	}
	g.ys = make([]driver.Ptr, len(outs))
	for s, o := range outs {
		if writeOut[s] {
			g.ys[s] = ptr(o)
		}
	}
	return g, ok
}
