package cuda

import (
	"testing"

	"github.com/rlx-go/rlx/backend"
	"github.com/rlx-go/rlx/ir"
	"github.com/rlx-go/rlx/tensor"
)

// TestFuseHazards pins the view checks that decide whether a group of
// launches may become one kernel (no GPU needed).
func TestFuseHazards(t *testing.T) {
	a, b := &Buffer{n: 1 << 20}, &Buffer{n: 1 << 20}
	v := func(buf *Buffer, off int64, n int) backend.Tensor {
		return backend.Tensor{Buf: buf, Off: off, DType: tensor.F32, Shape: []int{n}}
	}
	x, y := v(a, 0, 256), v(a, 1024, 256)
	if !sameView(x, v(a, 0, 256)) || sameView(x, v(a, 0, 255)) || sameView(x, v(b, 0, 256)) {
		t.Error("sameView")
	}
	if overlap(x, y) || !overlap(x, v(a, 1020, 4)) || overlap(x, v(b, 0, 256)) || overlap(x, v(a, 512, 0)) {
		t.Error("overlap")
	}
	if !hazardFree([]backend.Tensor{y}, []backend.Tensor{x}, nil) {
		t.Error("disjoint views refused")
	}
	if hazardFree([]backend.Tensor{v(a, 512, 256)}, []backend.Tensor{x}, nil) {
		t.Error("a write over a read accepted")
	}
	if hazardFree([]backend.Tensor{y, v(a, 1500, 8)}, nil, nil) {
		t.Error("overlapping writes accepted")
	}
	if !hazardFree([]backend.Tensor{x}, []backend.Tensor{x, y}, []backend.Tensor{x}) {
		t.Error("an in-place row refused")
	}
	if hazardFree([]backend.Tensor{x}, []backend.Tensor{v(a, 4, 256)}, []backend.Tensor{x}) {
		t.Error("a shifted in-place view accepted")
	}
	rel := []backend.Launch{{Release: []backend.Tensor{y}}}
	if !released(rel, y) || released(rel, x) {
		t.Error("released")
	}
	node := func(code ...ir.Instr) *ir.Node {
		return &ir.Node{Op: ir.OpFused, Inputs: make([]*ir.Node, 2), Attr: &ir.FusedAttr{Code: code, Inputs: 2}}
	}
	silu := ir.Instr{Op: ir.OpSilu, Args: []int{0}}
	if !isSiluMul(node(silu, ir.Instr{Op: ir.OpMul, Args: []int{2, 1}})) || !isSiluMul(node(silu, ir.Instr{Op: ir.OpMul, Args: []int{1, 2}})) {
		t.Error("silu(a)·b not recognised")
	}
	if isSiluMul(node(ir.Instr{Op: ir.OpSilu, Args: []int{1}}, ir.Instr{Op: ir.OpMul, Args: []int{2, 0}})) ||
		isSiluMul(node(silu, ir.Instr{Op: ir.OpAdd, Args: []int{2, 1}})) || isSiluMul(node(silu)) {
		t.Error("another chain taken for silu(a)·b")
	}
}

// TestMatchGEMVGroup pins the launch-list matching behind the fused GEMV
// launches (no GPU needed: fake device buffers): which runs of RMSNorm,
// GEMVs and SiLU·up become a group, what the group stores, and what it
// leaves alone.
func TestMatchGEMVGroup(t *testing.T) {
	const k = 256
	mem := &Buffer{p: 1 << 20, n: 1 << 24}
	next := int64(0)
	alloc := func(shape ...int) backend.Tensor {
		v := backend.Tensor{Buf: mem, Off: next, DType: tensor.F32, Shape: shape}
		next += (v.Bytes() + 255) &^ 255
		return v
	}
	x, nw, xn := alloc(1, k), alloc(k), alloc(1, k)
	norm := backend.Launch{Kernel: &rmsnorm{eps: 1e-6}, Ins: []backend.Tensor{x, nw}, Out: xn}
	q4 := func(n int) backend.Launch {
		p := &packed{dt: tensor.Q4_K, n: n, k: k, w: 4096, gemvQ: 1}
		return backend.Launch{Kernel: &dequantMatMul{p: p}, Ins: []backend.Tensor{xn, alloc(n, k)}, Out: alloc(1, n)}
	}
	f16 := func(n int) backend.Launch {
		p := &packed{dt: tensor.F16, n: n, k: k, run: [2]int{16, 8}, gemvH: 1}
		w := alloc(n, k/2) // the halves' bytes
		w.Shape = []int{n, k}
		w.DType = tensor.F16
		return backend.Launch{Kernel: &matmul{half: p}, Ins: []backend.Tensor{xn, w}, Out: alloc(1, n)}
	}
	siluUp := func(g, u backend.Launch, n int) backend.Launch {
		node := &ir.Node{Op: ir.OpFused, Inputs: make([]*ir.Node, 2), Attr: &ir.FusedAttr{Inputs: 2,
			Code: []ir.Instr{{Op: ir.OpSilu, Args: []int{0}}, {Op: ir.OpMul, Args: []int{2, 1}}}}}
		return backend.Launch{Node: node, Kernel: &fused{}, Ins: []backend.Tensor{g.Out, u.Out}, Out: alloc(1, n),
			Release: []backend.Tensor{xn, g.Out, u.Out}}
	}
	int8Head := func(l backend.Launch) (int, bool) {
		if dk, ok := l.Kernel.(*dequantMatMul); ok {
			return dk.p.k, true
		}
		return 0, false
	}
	int8Seg := func(l backend.Launch, xv backend.Tensor, kk, m int) (*packed, bool) {
		dk, ok := l.Kernel.(*dequantMatMul)
		if !ok || !sameView(l.Ins[0], xv) || dk.p.k != kk {
			return nil, false
		}
		return dk.p, true
	}
	shape := func(p *packed) (tensor.DType, int) { return p.dt, p.n }

	qkv := []backend.Launch{norm, q4(512), q4(128), q4(128), {Kernel: &rmsnorm{}}}
	g, ok := matchGEMVGroup(qkv, 0, 3, int8Head, int8Seg, shape)
	if !ok || len(g.group) != 4 || len(g.segs) != 3 || g.m != 1 || g.k != k || g.eps != 1e-6 || g.name() != "RMSNorm+GEMV×3" {
		t.Fatalf("q/k/v: ok=%v group %d segs %d m=%d k=%d eps=%v %q", ok, len(g.group), len(g.segs), g.m, g.k, g.eps, g.name())
	}
	if p, _, _ := view(x); g.px != p || g.pxn == 0 || g.pact != 0 || g.ys[2] == 0 {
		t.Errorf("q/k/v addresses: px %#x (want %#x) pxn %#x pact %#x ys %v", g.px, p, g.pxn, g.pact, g.ys)
	}
	gate, up := q4(640), q4(640)
	pair := []backend.Launch{norm, up, gate, siluUp(gate, up, 640)}
	g, ok = matchGEMVGroup(pair, 0, 3, int8Head, int8Seg, shape)
	if !ok || len(g.group) != 4 || g.pact == 0 || g.pxn != 0 || g.ys[0] != 0 || g.ys[1] != 0 || g.name() != "RMSNorm+GEMV×2+SiLU·up" {
		t.Fatalf("gate/up: ok=%v group %d pact %#x pxn %#x ys %v %q", ok, len(g.group), g.pact, g.pxn, g.ys, g.name())
	}
	if g.segs[0] != gate.Kernel.(*dequantMatMul).p {
		t.Error("gate/up: silu's first input is not segment 0")
	}
	// A GEMV writing over its own input, one GEMV without a norm, and an
	// F16 GEMV among int8 ones are left alone.
	bad := q4(64)
	bad.Out = xn
	if _, ok := matchGEMVGroup([]backend.Launch{norm, bad}, 0, 3, int8Head, int8Seg, shape); ok {
		t.Error("a GEMV overwriting the normalized rows was grouped")
	}
	if _, ok := matchGEMVGroup([]backend.Launch{q4(64), norm}, 0, 3, int8Head, int8Seg, shape); ok {
		t.Error("one GEMV without a norm was grouped")
	}
	if g, ok := matchGEMVGroup([]backend.Launch{norm, q4(64), f16(64)}, 0, 3, int8Head, int8Seg, shape); !ok || len(g.segs) != 1 {
		t.Errorf("int8 then F16: ok=%v, %d segments, want 1", ok, len(g.segs))
	}
	// F16 weights through fuseNormGEMVHalf's predicate.
	halfSeg := func(l backend.Launch, xv backend.Tensor, kk, m int) (hmSeg, bool) {
		w, p, ok := halfGEMVOf(l, xv, kk, m)
		if !ok {
			return hmSeg{}, false
		}
		return hmSeg{w: w, n: p.n, dt: p.dt}, true
	}
	hg, hu := f16(640), f16(640)
	hs, ok := matchGEMVGroup([]backend.Launch{norm, hg, hu, siluUp(hg, hu, 640)}, 0, hmSegs, nil, halfSeg,
		func(s hmSeg) (tensor.DType, int) { return s.dt, s.n })
	if !ok || len(hs.segs) != 2 || hs.pact == 0 || hs.segs[0].dt != tensor.F16 {
		t.Errorf("F16 gate/up: ok=%v %+v", ok, hs)
	}
}
