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

// TestFuseSplit pins the matching of fuseSplit (no GPU needed: fake device
// buffers): which runs of prefill GEMMs share one split of their
// activations, when the RMSNorm before them writes the terms, and what is
// left alone.
func TestFuseSplit(t *testing.T) {
	defer func(m int) { fuseMode = m }(fuseMode)
	fuseMode = fuseAll
	const k, m = 256, 37
	mem := &Buffer{p: 1 << 20, n: 1 << 26}
	next := int64(0)
	alloc := func(shape ...int) backend.Tensor {
		v := backend.Tensor{Buf: mem, Off: next, DType: tensor.F32, Shape: shape}
		next += (v.Bytes() + 255) &^ 255
		return v
	}
	b := &Backend{}
	x, nw, xn := alloc(m, k), alloc(k), alloc(m, k)
	norm := backend.Launch{Kernel: &rmsnorm{eps: 1e-6}, Ins: []backend.Tensor{x, nw}, Out: xn}
	gemm := func(dt tensor.DType, in backend.Tensor, n int) backend.Launch {
		if dt.Quantized() {
			p := &packed{dt: dt, n: n, k: k}
			return backend.Launch{Kernel: &dequantMatMul{p: p}, Ins: []backend.Tensor{in, alloc(n, k)}, Out: alloc(in.Shape[0], n)}
		}
		w := alloc(n, k/2)
		w.Shape, w.DType = []int{n, k}, dt
		return backend.Launch{Kernel: &matmul{half: &packed{dt: dt, n: n, k: k}}, Ins: []backend.Tensor{in, w}, Out: alloc(in.Shape[0], n)}
	}
	group := func(ls []backend.Launch, i int) (*splitGroup, int) {
		l, n := b.fuseSplit(ls, i)
		if n == 0 {
			return nil, 0
		}
		return l.Kernel.(*splitGroup), n
	}
	last := backend.Launch{Kernel: &rmsnorm{}, Ins: []backend.Tensor{x, nw}, Out: alloc(m, k)}

	// q/k/v after their norm: one group, the norm writes two F16 terms;
	// the normalized rows are stored only while something later reads them.
	q, kk, v := gemm(tensor.F16, xn, 512), gemm(tensor.F16, xn, 128), gemm(tensor.F16, xn, 128)
	ls := []backend.Launch{norm, q, kk, v, last}
	g, n := group(ls, 0)
	if n != 4 || g.norm == nil || len(g.members) != 3 || g.parts != 2 || g.bf16 || g.n != m*k || g.norm.o == 0 || g.norm.rows != m || g.norm.cols != k {
		t.Fatalf("q/k/v: n=%d %+v", n, g)
	}
	if g.fusedName() != "RMSNorm+MatMul×3 (one split)" {
		t.Errorf("name %q", g.fusedName())
	}
	v.Release = []backend.Tensor{xn}
	if g, _ := group([]backend.Launch{norm, q, kk, v, last}, 0); g == nil || g.norm.o != 0 || g.norm.xn == 0 {
		t.Errorf("released rows: %+v, want the norm output not stored", g)
	}
	// Without the norm fusion, or at the first GEMM: the GEMMs alone.
	if g, n := group(ls, 1); n != 3 || g.norm != nil {
		t.Errorf("GEMMs alone: n=%d %+v", n, g)
	}
	fuseMode = fuseAll &^ fuseSplitNorm
	if _, n := group(ls, 0); n != 0 {
		t.Errorf("norm taken with splitnorm off: n=%d", n)
	}
	fuseMode = fuseAll
	// BF16: three terms; quantized: one; mixed types end the group.
	if g, n := group([]backend.Launch{gemm(tensor.BF16, xn, 64), gemm(tensor.BF16, xn, 96)}, 0); n != 2 || g.parts != 3 || !g.bf16 {
		t.Errorf("BF16: n=%d %+v", n, g)
	}
	if g, n := group([]backend.Launch{norm, gemm(tensor.Q4_K, xn, 64), gemm(tensor.Q6_K, xn, 64), gemm(tensor.F16, xn, 64)}, 0); n != 3 || g.parts != 1 {
		t.Errorf("Q4_K, Q6_K then F16: n=%d %+v", n, g)
	}
	// One GEMM: only with its norm.
	if _, n := group([]backend.Launch{q, last}, 0); n != 0 {
		t.Errorf("a lone GEMM grouped")
	}
	if g, n := group([]backend.Launch{norm, q, last}, 0); n != 2 || len(g.members) != 1 {
		t.Errorf("norm + one GEMM: n=%d", n)
	}
	// Another input, a GEMM writing over the input, decode-sized rows.
	if _, n := group([]backend.Launch{q, gemm(tensor.F16, x, 64)}, 0); n != 0 {
		t.Errorf("GEMMs of two inputs grouped")
	}
	bad := gemm(tensor.F16, xn, 64)
	bad.Out = backend.Tensor{Buf: mem, Off: xn.Off + 256, DType: tensor.F32, Shape: []int{4, 16}}
	if g, n := group([]backend.Launch{q, kk, bad, v}, 0); n != 2 || len(g.members) != 2 {
		t.Errorf("a GEMM over the input: n=%d, want the two before it", n)
	}
	xd := alloc(2, k)
	if _, n := group([]backend.Launch{gemm(tensor.F16, xd, 64), gemm(tensor.F16, xd, 64)}, 0); n != 0 {
		t.Errorf("decode-sized GEMMs (the GEMV's) grouped")
	}
	// A norm whose output partly overlaps its input stays apart.
	skew := norm
	skew.Out = backend.Tensor{Buf: mem, Off: x.Off + 4, DType: tensor.F32, Shape: []int{m, k}}
	if _, n := group([]backend.Launch{skew, gemm(tensor.F16, skew.Out, 64), gemm(tensor.F16, skew.Out, 64)}, 0); n != 0 {
		t.Errorf("a skewed in-place norm folded")
	}
	// silu(gate)·up before the down projection: the chain writes the
	// terms (fused_split), and its output only while something reads it.
	g1, u1, act := alloc(m, 512), alloc(m, 512), alloc(m, 512)
	chain := backend.Launch{Kernel: &fused{fsplit: 1}, Ins: []backend.Tensor{g1, u1}, Out: act}
	down := gemm(tensor.F16, act, k)
	down.Ins[1].Shape = []int{k, 512}
	down.Kernel.(*matmul).half.k = 512
	if g, n := group([]backend.Launch{chain, down, last}, 0); n != 2 || g.chain == nil || !g.chain.write || g.norm != nil ||
		g.fusedName() != "Fused+MatMul×1 (one split)" {
		t.Errorf("chain + down: n=%d %+v", n, g)
	}
	down.Release = []backend.Tensor{act}
	if g, _ := group([]backend.Launch{chain, down, last}, 0); g == nil || g.chain.write {
		t.Errorf("dead chain output: %+v, want it not written", g)
	}
	if _, n := group([]backend.Launch{{Kernel: &fused{}, Ins: chain.Ins, Out: act}, down}, 0); n != 0 {
		t.Errorf("a chain without fused_split folded")
	}
	inPlace := chain
	inPlace.Ins = []backend.Tensor{{Buf: mem, Off: act.Off + 8, DType: tensor.F32, Shape: []int{m, 512}}, u1}
	if _, n := group([]backend.Launch{inPlace, down}, 0); n != 0 {
		t.Errorf("a chain over a shifted view of its input folded")
	}
	// The prefill norm+RoPE launch shape.
	for _, c := range []struct{ rows, pairs, want int }{{24, 64, 1}, {16, 64, 1}, {2, 8, 8}, {3, 64, 6}, {40, 32, 1}} {
		if got := normRoPETokensPerBlock(c.rows, c.pairs); got != c.want {
			t.Errorf("normRoPETokensPerBlock(%d, %d) = %d, want %d", c.rows, c.pairs, got, c.want)
		}
	}
}
