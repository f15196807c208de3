package cuda

import (
	"fmt"

	"github.com/rlx-go/rlx/backend"
	"github.com/rlx-go/rlx/backend/cuda/driver"
	"github.com/rlx-go/rlx/tensor"
)

// Prefill GEMMs of one input sharing its half-precision split (fuse.go).

// splitGroup runs consecutive tensor-core GEMM launches that read the same
// activations (q/k/v, gate/up in a prefill) as they would run alone, except
// that the activations are split into half terms (split_half) once and the
// GEMMs reuse the terms (Backend.splitHalf under scr.share): the same terms,
// so the same bits. With norm or chain, the RMSNorm (rmsnorm_split_f32) or
// the fused elementwise chain (fused_split, e.g. silu(gate)·up before the
// down projection) that made the activations is part of the group and
// writes the terms itself.
type splitGroup struct {
	b       *Backend
	members []backend.Launch
	x       driver.Ptr
	n       int64
	parts   int
	bf16    bool
	norm    *splitNorm
	chain   *splitChain
}

// splitNorm is the RMSNorm of a splitGroup: rmsnorm_f32's arguments, the
// output o only when something after the group reads it (else 0).
type splitNorm struct {
	x, w, o    driver.Ptr
	xn         driver.Ptr // the norm's output view, written anyway if a member would read it
	rows, cols int
	threads    int
	eps        float32
}

// splitChain is the fused chain of a splitGroup: its launch, and whether
// something after the group reads its output.
type splitChain struct {
	k     *fused
	ins   []backend.Tensor
	out   backend.Tensor
	write bool
}

func (k *splitGroup) fusedName() string {
	name := fmt.Sprintf("MatMul×%d (one split)", len(k.members))
	switch {
	case k.norm != nil:
		name = "RMSNorm+" + name
	case k.chain != nil:
		name = "Fused+" + name
	}
	return name
}

func (k *splitGroup) Run(env *backend.Env, _ []backend.Tensor, _ backend.Tensor) error {
	if err := k.start(); err != nil {
		return err
	}
	defer func() {
		k.b.scr.mu.Lock()
		k.b.scr.share = nil
		k.b.scr.mu.Unlock()
	}()
	for _, l := range k.members {
		if err := l.Kernel.Run(env, l.Ins, l.Out); err != nil {
			return err
		}
	}
	return nil
}

// start sets the share the members' splitHalf calls see, after queueing
// the norm or chain with the split folded in when the group has one.
func (k *splitGroup) start() error {
	b := k.b
	b.scr.mu.Lock()
	defer b.scr.mu.Unlock()
	sh := &splitShare{x: k.x, n: k.n, parts: k.parts, bf16: k.bf16}
	if k.norm == nil && k.chain == nil {
		b.scr.share = sh
		return nil
	}
	stride := (2*k.n + 255) &^ 255 // as splitHalf lays the terms out
	out, err := b.grow(&b.scr.xs, stride*int64(k.parts))
	if err != nil {
		return err
	}
	bf := 0
	if k.bf16 {
		bf = 1
	}
	// The GEMV-or-GEMM choice is made again in each member's Run
	// (SetGEMVUpTo may have moved since the list was fused): a member
	// that would read the activations gets them.
	allSplit := true
	for _, l := range k.members {
		if _, _, ok := b.halfSplitOf(l); !ok {
			allSplit = false
		}
	}
	if c := k.chain; c != nil {
		o, n, args, err := c.k.launchArgs(c.ins, c.out)
		if err != nil {
			return err
		}
		if n != k.n {
			return fmt.Errorf("cuda: fused chain of %d values before GEMMs of %d", n, k.n)
		}
		if !c.write && allSplit {
			o = 0
		}
		if err := b.ctx.LaunchDependent(c.k.fsplit, grid(n), driver.Dim3{X: 256}, 0, b.stream, o, args, out, stride/2, k.parts, bf); err != nil {
			return err
		}
	} else {
		nm := k.norm
		f, err := b.ks.Func("rmsnorm_split_f32")
		if err != nil {
			return err
		}
		base := nm.o
		if base == 0 && !allSplit {
			base = nm.xn
		}
		for r0 := 0; r0 < nm.rows; r0 += 65535 { // grid.x limit for one launch, as rmsnorm
			nr := min(nm.rows-r0, 65535)
			off := int64(r0) * int64(nm.cols)
			o := base
			if o != 0 {
				o = o.Add(off * 4)
			}
			if err := b.ctx.LaunchDependent(f, driver.Dim3{X: nr}, driver.Dim3{X: nm.threads}, 0, b.stream,
				nm.x.Add(off*4), nm.w, o, out.Add(off*2), nm.cols, nm.eps, stride/2, k.parts, bf); err != nil {
				return err
			}
		}
	}
	sh.out, sh.stride, sh.done = out, stride, true
	b.scr.share = sh
	return nil
}

// halfSplitOf reports whether l is a GEMM whose Run splits its activations
// l.Ins[0] into half terms for the tensor cores (an F16/BF16 MatMul or a
// DequantMatMul of more rows than the GEMV takes, in the [M, K]·[N, K]ᵀ
// layout of a Linear), and into how many terms of which type.
func (b *Backend) halfSplitOf(l backend.Launch) (parts int, bf16, ok bool) {
	if len(l.Ins) < 2 || len(l.Ins[0].Shape) == 0 || l.Ins[0].DType != tensor.F32 {
		return 0, false, false
	}
	var p *packed
	switch k := l.Kernel.(type) {
	case *matmul:
		if k.half == nil || k.akm || k.bkn || len(l.Ins[1].Shape) != 2 {
			return 0, false, false
		}
		p = k.half
	case *dequantMatMul:
		p = k.p
	default:
		return 0, false, false
	}
	xs := l.Ins[0].Shape
	if xs[len(xs)-1] != p.k || prod(xs[:len(xs)-1]) <= gemvUpTo(p.dt) {
		return 0, false, false
	}
	return b.halfParts(p.dt), p.dt == tensor.BF16, true
}

// fuseSplit matches, at ls[i], consecutive GEMMs that split the same
// activations the same way (halfSplitOf) and write nothing over them —
// two or more, or one or more after the RMSNorm or fused chain that makes
// the activations (fuseSplitNorm) — and makes them one splitGroup. It returns the launch
// and how many it replaces (0: none).
func (b *Backend) fuseSplit(ls []backend.Launch, i int) (backend.Launch, int) {
	if fuseMode&fuseSplit == 0 {
		return backend.Launch{}, 0
	}
	j := i
	var head *backend.Launch // the norm or chain that makes the activations
	switch ls[i].Kernel.(type) {
	case *rmsnorm, *fused:
		if fuseMode&fuseSplitNorm != 0 {
			head, j = &ls[i], i+1
		}
	}
	if j >= len(ls) {
		return backend.Launch{}, 0
	}
	parts, bf16, ok := b.halfSplitOf(ls[j])
	if !ok {
		return backend.Launch{}, 0
	}
	xv := ls[j].Ins[0]
	start := j
	for ; j < len(ls); j++ {
		p, bf, ok := b.halfSplitOf(ls[j])
		// A GEMM that wrote over the input would change what the
		// next one splits.
		if !ok || p != parts || bf != bf16 || !sameView(ls[j].Ins[0], xv) || overlap(ls[j].Out, xv) {
			break
		}
	}
	members := ls[start:j]
	group := ls[i:j]
	if len(members) < 2 && head == nil {
		return backend.Launch{}, 0
	}
	x, xb, err := view(xv)
	if err != nil {
		return backend.Launch{}, 0
	}
	kern := &splitGroup{b: b, members: members, x: x, n: xb / 4, parts: parts, bf16: bf16}
	if head != nil {
		// A head that cannot fold stays a launch of its own; the GEMMs
		// after it may still group (fuseSplit at i+1).
		if _, isNorm := head.Kernel.(*rmsnorm); isNorm {
			kern.norm, ok = b.splitNormOf(*head, xv, released(group, xv))
		} else {
			kern.chain, ok = splitChainOf(*head, xv, released(group, xv))
		}
		if !ok {
			return backend.Launch{}, 0
		}
	}
	first, last := group[0], group[len(group)-1]
	return backend.Launch{Node: first.Node, Kernel: kern, Ins: first.Ins, Out: last.Out, Release: releases(group)}, len(group)
}

// splitNormOf returns the rmsnorm_split_f32 launch of the RMSNorm l whose
// output is xv, the activations of a splitGroup: a plain row norm of F32
// rows, written in place or to a view disjoint from its input. dead says
// that nothing after the group reads xv (then only the terms are written).
func (b *Backend) splitNormOf(l backend.Launch, xv backend.Tensor, dead bool) (*splitNorm, bool) {
	nk, ok := l.Kernel.(*rmsnorm)
	if !ok || len(l.Ins) < 2 || len(l.Out.Shape) == 0 || !sameView(l.Out, xv) || l.Out.DType != tensor.F32 {
		return nil, false
	}
	cols := l.Out.Shape[len(l.Out.Shape)-1]
	ok = true
	ptr := viewPtr(&ok)
	x, w, o := ptr(l.Ins[0]), ptr(l.Ins[1]), ptr(l.Out)
	ob := l.Out.Bytes()
	if !ok || cols <= 0 || ob == 0 || l.Ins[0].Bytes() != ob || l.Ins[1].Bytes() != int64(cols)*4 || ob%(int64(cols)*4) != 0 ||
		(overlap(l.Out, l.Ins[0]) && !sameView(l.Out, l.Ins[0])) {
		return nil, false
	}
	xn := o
	if dead {
		o = 0
	}
	return &splitNorm{x: x, w: w, o: o, xn: xn, rows: int(ob / 4 / int64(cols)), cols: cols, threads: threadsFor(cols), eps: nk.eps}, true
}

// splitChainOf returns the fused_split launch of the fused chain l whose
// output is xv, the activations of a splitGroup. dead says that nothing
// after the group reads xv (then only the terms are written).
func splitChainOf(l backend.Launch, xv backend.Tensor, dead bool) (*splitChain, bool) {
	fk, ok := l.Kernel.(*fused)
	if !ok || fk.fsplit == 0 || !sameView(l.Out, xv) || l.Out.DType != tensor.F32 {
		return nil, false
	}
	for _, in := range l.Ins {
		if overlap(in, l.Out) && !sameView(in, l.Out) {
			return nil, false
		}
	}
	return &splitChain{k: fk, ins: l.Ins, out: l.Out, write: !dead}, true
}
